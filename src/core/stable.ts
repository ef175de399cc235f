/**
 * WRITE stability between the fs layer's names and the wire. NFSv3's
 * stable_how (RFC 1813 §3.3.7) and NFSv4's stable_how4 (RFC 7530 §16.36.4)
 * give UNSTABLE, DATA_SYNC and FILE_SYNC the same values.
 */
import type { StableHow } from '../fs/backend.js';

export const UNSTABLE = 0;
export const DATA_SYNC = 1;
export const FILE_SYNC = 2;

export type StableWire = typeof UNSTABLE | typeof DATA_SYNC | typeof FILE_SYNC;

export const STABLE_WIRE: Readonly<Record<StableHow, StableWire>> = { unstable: UNSTABLE, data: DATA_SYNC, file: FILE_SYNC };

const NAMES: readonly StableHow[] = ['unstable', 'data', 'file'];

/**
 * A reply's `committed` as the fs layer names it. The decoders accept only
 * the three values; anything else is taken as UNSTABLE, the reading that
 * makes the caller COMMIT (and so check the verifier) rather than trust it.
 */
export function stableFromWire(committed: number): StableHow {
  return NAMES[committed] ?? 'unstable';
}
