import type { Backend, CallOpts, FileHandleId, OpenState, StableHow, WriteResult } from './backend.js';
import { NfsStatusError } from '../errors.js';

/**
 * Reads [offset, offset+length) into `target` at `targetOffset`, as READs of at
 * most rsize sent in parallel. Returns bytes read: contiguous from `offset`,
 * shorter only at end of file. A short READ that is not at EOF is continued
 * from where it stopped, since servers may return less than asked.
 */
export function readInto(
  b: Backend,
  fh: FileHandleId,
  target: Uint8Array,
  targetOffset: number,
  length: number,
  offset: number,
  o?: CallOpts,
  state?: OpenState,
): Promise<number> {
  if (length <= 0) return Promise.resolve(0);
  // Not async: a small read is the promise of its one READ, with no frames of ours around it.
  if (length <= b.limits.rsize) return readOne(b, fh, target, targetOffset, length, offset, o, state);
  return readSplit(b, fh, target, targetOffset, length, offset, o, state);
}

/** A read of more than rsize: READs of rsize sent in parallel. */
async function readSplit(b: Backend, fh: FileHandleId, target: Uint8Array, targetOffset: number, length: number, offset: number, o?: CallOpts, state?: OpenState): Promise<number> {
  const rsize = b.limits.rsize;
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

/**
 * One READ, continued if short (from `done` bytes already read): the common
 * small-read case without the bookkeeping of the parallel split.
 */
function readOne(b: Backend, fh: FileHandleId, target: Uint8Array, targetOffset: number, length: number, offset: number, o?: CallOpts, state?: OpenState, done = 0): Promise<number> {
  const at = targetOffset + done;
  let p: ReturnType<Backend['read']>;
  try {
    p = b.read(fh, offset + done, length - done, o, state, { buf: target, offset: at });
  } catch (err) {
    // As from the async function this was: a failure is a rejection, never a throw.
    return Promise.reject(err);
  }
  return p.then((r) => {
    const n = Math.min(r.data.length, length - done);
    if (!landedAt(r.data, target, at)) target.set(n === r.data.length ? r.data : r.data.subarray(0, n), at);
    const total = done + n;
    if (total >= length || r.eof || n === 0) return total;
    return readOne(b, fh, target, targetOffset, length, offset, o, state, total);
  });
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
export function writeFrom(b: Backend, fh: FileHandleId, data: Uint8Array, offset: number, stable: StableHow, o?: CallOpts, state?: OpenState): Promise<WriteOutcome> {
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf.length === 0) return Promise.resolve({ bytes: 0, verf: undefined, verfChanged: false });
  // Not async: a small write is the promise of its one WRITE, with one settle callback of ours.
  if (buf.length <= b.limits.wsize) {
    let p: Promise<WriteResult>;
    try {
      p = b.write(fh, offset, buf, stable, o, state);
    } catch (err) {
      return Promise.reject(err);
    }
    return p.then((r) => {
      if (r.count >= buf.length || r.count === 0) return whole(r, buf.length);
      // Short: the rest the general way.
      return writeSplit(b, fh, buf.subarray(r.count), offset + r.count, stable, o, state).then((rest) => joined(r, rest));
    });
  }
  return writeSplit(b, fh, buf, offset, stable, o, state);
}

/** The outcome of one WRITE that took all `n` bytes (a count of 0 is an error, as writeSplit says). */
function whole(r: WriteResult, n: number): WriteOutcome {
  if (r.count === 0) throw new NfsStatusError('NFS3ERR_IO', 'EIO', 'WRITE returned 0 bytes');
  return { bytes: n, verf: r.committed === 'unstable' ? r.verf : undefined, verfChanged: false };
}

/** A short first WRITE followed by `rest`. */
function joined(first: WriteResult, rest: WriteOutcome): WriteOutcome {
  if (first.committed !== 'unstable') return { bytes: first.count + rest.bytes, verf: rest.verf, verfChanged: rest.verfChanged };
  const changed = rest.verfChanged || (rest.verf !== undefined && !rest.verf.equals(first.verf));
  return { bytes: first.count + rest.bytes, verf: first.verf, verfChanged: changed };
}

async function writeSplit(b: Backend, fh: FileHandleId, buf: Buffer, offset: number, stable: StableHow, o?: CallOpts, state?: OpenState): Promise<WriteOutcome> {
  const wsize = b.limits.wsize;
  const out: WriteOutcome = { bytes: 0, verf: undefined, verfChanged: false };
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
