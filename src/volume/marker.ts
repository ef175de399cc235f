/**
 * The marker file (MARKER, '.mountless.json') at the top of every managed
 * volume. Its presence is what tells a volume from any other directory; its
 * content records how the volume was made. It is written root-owned 0644
 * before the volume directory is renamed into place, so a volume never
 * exists without one. A tenant owning the volume can still delete it (the
 * directory is theirs): the volume then lists as an orphan.
 */
import { MARKER } from './names.js';
import type { Beneath, Node } from './beneath.js';

export const MARKER_KIND = 'mountless.volume/v1';
/** Larger markers are not ours (or were tampered with). */
export const MARKER_MAX = 64 * 1024;

/** The `.mountless.json` file in a volume's directory that makes it a managed volume: what create() recorded. */
export interface Marker {
  /** `mountless.volume/v1`: the marker's format. */
  kind: typeof MARKER_KIND;
  /** The volume's name as created (relative to the base). */
  name: string;
  /** ISO 8601 time of creation. */
  created: string;
  /** The labels given to create(). */
  labels: Record<string, string>;
  /** Size the claim asked for, in bytes; recorded, enforced only by a QuotaHook. */
  requestedBytes?: number;
  /** The mode the volume was created with. */
  mode: number;
  /** The owner it was created with, if one was given. */
  uid?: number;
  /** The group it was created with, if one was given. */
  gid?: number;
  /** Set by restore: the snapshot the volume was restored from. */
  restoredFrom?: string;
}

export function encodeMarker(m: Marker): Buffer {
  return Buffer.from(JSON.stringify(m, null, 2) + '\n');
}

/** The marker in `data`, or undefined if it is not one of ours. */
export function parseMarker(data: Buffer): Marker | undefined {
  let v: unknown;
  try {
    v = JSON.parse(data.toString('utf8'));
  } catch {
    return undefined;
  }
  const m = v as Partial<Marker> | null;
  if (!m || typeof m !== 'object' || m.kind !== MARKER_KIND || typeof m.name !== 'string' || typeof m.created !== 'string') return undefined;
  const labels: Record<string, string> = {};
  if (m.labels && typeof m.labels === 'object') for (const [k, val] of Object.entries(m.labels)) if (typeof val === 'string') labels[k] = val;
  const out: Marker = { kind: MARKER_KIND, name: m.name, created: m.created, labels, mode: typeof m.mode === 'number' ? m.mode : 0 };
  if (typeof m.requestedBytes === 'number') out.requestedBytes = m.requestedBytes;
  if (typeof m.uid === 'number') out.uid = m.uid;
  if (typeof m.gid === 'number') out.gid = m.gid;
  if (typeof m.restoredFrom === 'string') out.restoredFrom = m.restoredFrom;
  return out;
}

/**
 * The marker of directory `dir`: a Marker, 'invalid' when a MARKER entry is
 * there but is not a regular file holding one of ours, undefined when there
 * is none.
 */
export async function readMarker(t: Beneath, dir: Node): Promise<Marker | 'invalid' | undefined> {
  const n = await t.lookup(dir, MARKER);
  if (!n) return undefined;
  if (n.attrs.kind !== 'file' || n.attrs.size > MARKER_MAX) return 'invalid';
  return parseMarker(await t.readSmall(n, MARKER_MAX)) ?? 'invalid';
}

export async function writeMarker(t: Beneath, dir: Node, m: Marker): Promise<void> {
  await t.writeSmall(dir, MARKER, encodeMarker(m), { mode: 0o644 });
}
