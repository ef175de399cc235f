import type { NfsClient } from '../fs/client.js';
import type { FileHandle } from '../fs/file-handle.js';
import { HttpError } from './http-errors.js';
import type { XmlNode } from './xml.js';

/**
 * Modification times set by clients. HTTP has no way to say when a file was
 * last changed at its origin, so each client family brought its own:
 *
 * - `X-OC-Mtime: <seconds since the epoch>` on PUT (and on COPY/MOVE), as
 *   ownCloud and Nextcloud accept it; the answer carries
 *   `X-OC-Mtime: accepted` so the client knows it need not PROPPATCH the
 *   time afterwards (rclone's owncloud/nextcloud vendors send it).
 * - PROPPATCH of a time property: ownCloud's `DAV:lastmodified` (seconds),
 *   `DAV:getlastmodified` (an HTTP date), and Windows' WebDAV redirector's
 *   `Win32LastModifiedTime` / `Win32LastAccessTime` in
 *   `urn:schemas-microsoft-com:` (HTTP dates).
 *
 * Times become the file's mtime or atime on the NFS server (one SETATTR);
 * they are not stored as properties, so a later write by anyone moves them
 * as it moves any mtime.
 */

export const MS_NS = 'urn:schemas-microsoft-com:';

/** Which file time a settable property names. */
export type TimeKind = 'mtime' | 'atime';

const TIME_PROPS = new Map<string, TimeKind>([
  ['{DAV:}lastmodified', 'mtime'],
  ['{DAV:}getlastmodified', 'mtime'],
  [`{${MS_NS}}Win32LastModifiedTime`, 'mtime'],
  [`{${MS_NS}}Win32LastAccessTime`, 'atime'],
]);

/** The file time a property sets when PROPPATCHed, if it is one of the time properties. */
export function timeProp(ns: string, local: string): TimeKind | undefined {
  return TIME_PROPS.get(`{${ns}}${local}`);
}

/**
 * NFSv3 carries times as unsigned 32-bit seconds (nfstime3), so that is the
 * range every backend can store: 1970 to 2106.
 */
const MAX_SECONDS = 0xffff_ffff;

/** Seconds since the epoch (digits, optionally a fraction) → ms; undefined if out of range. */
function fromSeconds(s: string): number | undefined {
  const secs = Number(s);
  return Number.isFinite(secs) && secs >= 0 && secs <= MAX_SECONDS ? Math.round(secs * 1000) : undefined;
}

/**
 * A time as clients write it: seconds since the epoch (ownCloud), or a date
 * (HTTP dates from Windows and others; ISO 8601 is accepted too). Undefined
 * when it is neither, or outside what NFS can store.
 */
export function parseClientTime(value: string): number | undefined {
  const v = value.trim();
  if (/^\d{1,12}(\.\d{1,9})?$/.test(v)) return fromSeconds(v);
  // A bare number of another shape ('-5', '1e9') is no date either.
  if (!/[A-Za-z:-]/.test(v) || /^[-+]?[\d.eE+-]+$/.test(v)) return undefined;
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) return undefined;
  return ms >= 0 && ms <= MAX_SECONDS * 1000 ? ms : undefined;
}

/** The time a PROPPATCHed property's text names, or undefined if it names none (markup inside is none). */
export function propTime(value: readonly XmlNode[]): number | undefined {
  if (value.some((n) => typeof n !== 'string')) return undefined;
  return parseClientTime(value.join(''));
}

/**
 * The `X-OC-Mtime` request header in ms, undefined when absent. A value that
 * is not seconds since the epoch is a 400, as ownCloud and Nextcloud answer
 * it: the client asked for something this request cannot do.
 */
export function ocMtime(h: string | string[] | undefined): number | undefined {
  if (h === undefined) return undefined;
  const v = (Array.isArray(h) ? h[0]! : h).trim();
  const ms = /^\d{1,12}(\.\d{1,9})?$/.test(v) ? fromSeconds(v) : undefined;
  if (ms === undefined) throw new HttpError(400, 'X-OC-Mtime must be seconds since the epoch (0 to 4294967295)');
  return ms;
}

/** The answer header that tells ownCloud-style clients the time was set. */
export const OC_MTIME_ACCEPTED = { 'X-OC-Mtime': 'accepted' } as const;

export interface SetTimes {
  mtime?: number;
  atime?: number;
}

/** Sets a path's mtime and/or atime (ms); the one not given keeps its value. */
export async function setTimes(nfs: NfsClient, path: string, t: SetTimes): Promise<void> {
  if (t.mtime === undefined && t.atime === undefined) return;
  // utimes sets both: read the one that stays.
  const st = t.mtime === undefined || t.atime === undefined ? await nfs.stat(path) : undefined;
  await nfs.utimes(path, new Date(t.atime ?? st!.atimeMs), new Date(t.mtime ?? st!.mtimeMs));
}

/** setTimes through an open handle (an upload's temporary file). */
export async function setHandleMtime(h: FileHandle, mtime: number): Promise<void> {
  const st = await h.stat();
  await h.utimes(new Date(st.atimeMs), new Date(mtime));
}
