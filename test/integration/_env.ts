// Shared by the fs-level integration tests: where the server is, where its
// exported directory lives on this machine, and a scratch directory per test
// file that is removed when the file's tests end.
//
// NFS_URL                   the export to test (default nfs://127.0.0.1/export)
// MOUNTLESS_NAS_EXPORT_DIR  the server-side local directory behind NFS_URL, for
//                           checking what really reached the disk
//                           (default /var/tmp/mountless-nas/export, as scripts/local-nas uses)
// NFS_URL2                  a second export of the same server, the target of
//                           migrations across an export boundary (default nfs://127.0.0.1/export2)
// MOUNTLESS_NAS_EXPORT2_DIR the server-side directory behind NFS_URL2
//                           (default /var/tmp/mountless-nas/export2)
import { randomBytes } from 'node:crypto';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { connect, type ConnectOptions, type NfsClient } from '../../src/index.js';

export const NFS_URL = process.env.NFS_URL || 'nfs://127.0.0.1/export';
export const EXPORT_DIR = process.env.MOUNTLESS_NAS_EXPORT_DIR || '/var/tmp/mountless-nas/export';
export const NFS_URL2 = process.env.NFS_URL2 || 'nfs://127.0.0.1/export2';
export const EXPORT2_DIR = process.env.MOUNTLESS_NAS_EXPORT2_DIR || '/var/tmp/mountless-nas/export2';

/** A name no other test file (or earlier run) uses: `<tag>-<pid>-<random>`. */
export function uniqueName(tag: string): string {
  return `${tag}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** NFS_URL with `sub` appended to its path and `query` as its query string. */
export function urlWith(sub: string, query = ''): string {
  const u = new URL(NFS_URL);
  u.pathname = u.pathname.replace(/\/+$/, '') + (sub ? '/' + sub.replace(/^\/+/, '') : '');
  // Keep the URL's own arguments (e.g. version=4.1 when the suite runs over NFSv4).
  for (const [k, v] of new URLSearchParams(query)) u.searchParams.set(k, v);
  return u.href;
}

/** urlWith() for NFS_URL2. */
export function url2With(sub: string, query = ''): string {
  const u = new URL(NFS_URL2);
  u.pathname = u.pathname.replace(/\/+$/, '') + (sub ? '/' + sub.replace(/^\/+/, '') : '');
  for (const [k, v] of new URLSearchParams(query)) u.searchParams.set(k, v);
  return u.href;
}

type Backend = NfsClient['backend'];

/**
 * Counts the backend calls a client makes (each is at least one request on
 * the wire) and lets a test hook one method. Wraps the instance, so only this
 * client is affected.
 */
export function instrument(nfs: NfsClient): { count: number; log: string[]; hook: Partial<Record<keyof Backend, (args: unknown[]) => void>> } {
  const b = nfs.backend as unknown as Record<string, unknown>;
  const state = { count: 0, log: [] as string[], hook: {} as Partial<Record<keyof Backend, (args: unknown[]) => void>> };
  for (const k of Object.getOwnPropertyNames(Object.getPrototypeOf(b))) {
    const orig = b[k];
    if (k === 'constructor' || typeof orig !== 'function') continue;
    b[k] = (...args: unknown[]) => {
      state.count++;
      state.log.push(k);
      state.hook[k as keyof Backend]?.(args);
      return (orig as (...a: unknown[]) => unknown).apply(b, args);
    };
  }
  return state;
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface Scratch {
  nfs: NfsClient;
  /** The scratch directory as mountless names it: '/<name>' under the export root. */
  dir: string;
  /** The same directory on the server's local disk. */
  local: string;
  /** `dir` joined with a relative path, for mountless. */
  at(rel: string): string;
  /** `local` joined with a relative path, for node:fs on the server's disk. */
  localAt(rel: string): string;
}

/**
 * Connects, creates a fresh scratch directory in the export and registers
 * its removal (and the client's close) with `t.teardown`. Fails at once if
 * the scratch directory does not appear in EXPORT_DIR, since every check on
 * the server's disk would then be looking in the wrong place.
 */
export async function scratch(t: Teardown, tag: string, options: ConnectOptions = {}): Promise<Scratch> {
  const nfs = await connect(NFS_URL, options);
  const name = uniqueName(tag);
  const dir = '/' + name;
  const local = join(EXPORT_DIR, name);
  t.teardown(async () => {
    try {
      await nfs.rm(dir, { recursive: true, force: true });
    } finally {
      await nfs.close();
      // Whatever mountless could not remove (a test that broke permissions, say).
      await rm(local, { recursive: true, force: true });
    }
  });
  await nfs.mkdir(dir);
  const st = await stat(local).catch(() => undefined);
  if (!st?.isDirectory()) {
    throw new Error(`scratch directory ${dir} made over NFS is not at ${local}: set MOUNTLESS_NAS_EXPORT_DIR to the directory behind ${NFS_URL}`);
  }
  return {
    nfs,
    dir,
    local,
    at: (rel) => `${dir}/${rel.replace(/^\/+/, '')}`,
    localAt: (rel) => join(local, rel),
  };
}
