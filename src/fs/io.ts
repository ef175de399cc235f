import type { Backend, CallOpts, FileHandleId, OpenState, StableHow } from './backend.js';
import { NfsStatusError } from '../errors.js';

/**
 * Reads [offset, offset+length) into `target` at `targetOffset`, as READs of at
 * most rsize sent in parallel. Returns bytes read: contiguous from `offset`,
 * shorter only at end of file. A short READ that is not at EOF is continued
 * from where it stopped, since servers may return less than asked.
 */
export async function readInto(
  b: Backend,
  fh: FileHandleId,
  target: Uint8Array,
  targetOffset: number,
  length: number,
  offset: number,
  o?: CallOpts,
  state?: OpenState,
): Promise<number> {
  if (length <= 0) return 0;
  const rsize = b.limits.rsize;
  if (length <= rsize) return readOne(b, fh, target, targetOffset, length, offset, o, state);
  const chunks = Math.ceil(length / rsize);
  const got = new Array<number>(chunks);
  const eofAt = new Array<boolean>(chunks);
  const one = async (k: number) => {
    const start = k * rsize;
    const want = Math.min(rsize, length - start);
    let done = 0;
    while (done < want) {
      const at = targetOffset + start + done;
      const r = await b.read(fh, offset + start + done, want - done, o, state, { buf: target, offset: at });
      const n = Math.min(r.data.length, want - done);
      if (!landedAt(r.data, target, at)) target.set(n === r.data.length ? r.data : r.data.subarray(0, n), at);
      done += n;
      if (r.eof || n === 0) {
        eofAt[k] = true;
        break;
      }
    }
    got[k] = done;
  };
  const jobs = new Array<Promise<void>>(chunks);
  for (let k = 0; k < chunks; k++) jobs[k] = one(k);
  await Promise.all(jobs);
  let total = 0;
  for (let k = 0; k < chunks; k++) {
    total += got[k]!;
    if (eofAt[k] || got[k]! < Math.min(rsize, length - k * rsize)) break;
  }
  return total;
}

/** One READ (continued if short): the common small-read case without the bookkeeping of the parallel split. */
async function readOne(b: Backend, fh: FileHandleId, target: Uint8Array, targetOffset: number, length: number, offset: number, o?: CallOpts, state?: OpenState): Promise<number> {
  let done = 0;
  while (done < length) {
    const at = targetOffset + done;
    const r = await b.read(fh, offset + done, length - done, o, state, { buf: target, offset: at });
    const n = Math.min(r.data.length, length - done);
    if (!landedAt(r.data, target, at)) target.set(n === r.data.length ? r.data : r.data.subarray(0, n), at);
    done += n;
    if (r.eof || n === 0) break;
  }
  return done;
}

/** Whether the backend received `data` straight into target at `at` (nothing left to copy). */
function landedAt(data: Buffer, target: Uint8Array, at: number): boolean {
  return data.buffer === target.buffer && data.byteOffset === target.byteOffset + at && data.length <= target.length - at;
}

export interface WriteOutcome {
  bytes: number;
  /** The verifier of the unstable writes, or undefined if every write was stable. */
  verf: Buffer | undefined;
  /** Set when two replies carried different verifiers: the server restarted in between. */
  verfChanged: boolean;
}

/**
 * Writes `data` at `offset` as WRITEs of at most wsize sent in parallel,
 * continuing short writes. The payload is passed as views: no copies.
 */
export async function writeFrom(b: Backend, fh: FileHandleId, data: Uint8Array, offset: number, stable: StableHow, o?: CallOpts, state?: OpenState): Promise<WriteOutcome> {
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const wsize = b.limits.wsize;
  const out: WriteOutcome = { bytes: 0, verf: undefined, verfChanged: false };
  if (buf.length === 0) return out;
  const one = async (start: number, end: number) => {
    let pos = start;
    while (pos < end) {
      const r = await b.write(fh, offset + pos, pos === 0 && end === buf.length ? buf : buf.subarray(pos, end), stable, o, state);
      if (r.count === 0) throw new NfsStatusError('NFS3ERR_IO', 'EIO', 'WRITE returned 0 bytes');
      if (r.committed === 'unstable') {
        if (out.verf === undefined) out.verf = r.verf;
        else if (!out.verf.equals(r.verf)) out.verfChanged = true;
      }
      pos += Math.min(r.count, end - pos);
    }
    out.bytes += end - start;
  };
  if (buf.length <= wsize) {
    await one(0, buf.length);
    return out;
  }
  const jobs: Promise<void>[] = [];
  for (let s = 0; s < buf.length; s += wsize) jobs.push(one(s, Math.min(s + wsize, buf.length)));
  await Promise.all(jobs);
  return out;
}
