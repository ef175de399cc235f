/**
 * The byte ranges one lock-owner holds, as the server sees them, so they
 * can be reclaimed (LOCK with reclaim = true) after a server restart.
 *
 * POSIX semantics, which NFSv4 byte-range locks follow (RFC 7530 §9.2,
 * RFC 8881 §9.2): a new lock replaces whatever this owner held over its
 * range, whatever the type; an unlock punches a hole, splitting a lock in
 * two if it falls in the middle. Adjacent ranges of one type are kept
 * apart: the server may have merged them, but reclaiming them separately
 * gives it the same bytes.
 */
import { NFS4_UINT64_MAX } from './constants.js';

export interface HeldLock {
  offset: bigint;
  /** NFS4_UINT64_MAX: to the end of the file, however far it grows. */
  length: bigint;
  exclusive: boolean;
}

interface Span {
  start: bigint;
  /** Exclusive; END for "to end of file". */
  end: bigint;
  exclusive: boolean;
}

/** Past every real offset: the end of a lock "to end of file". */
const END = 1n << 64n;

function span(offset: bigint, length: bigint): { start: bigint; end: bigint } {
  return { start: offset, end: length === NFS4_UINT64_MAX || offset + length >= END ? END : offset + length };
}

/**
 * Invariant: `spans` are sorted by start and never overlap; none is empty.
 */
export class LockRanges {
  private spans: Span[] = [];

  get size(): number {
    return this.spans.length;
  }

  /** A LOCK of [offset, offset+length) was granted. */
  add(offset: bigint, length: bigint, exclusive: boolean): void {
    const r = span(offset, length);
    this.remove(offset, length);
    const i = this.spans.findIndex((s) => s.start > r.start);
    this.spans.splice(i === -1 ? this.spans.length : i, 0, { ...r, exclusive });
  }

  /** A LOCKU of [offset, offset+length) succeeded. */
  remove(offset: bigint, length: bigint): void {
    const r = span(offset, length);
    const out: Span[] = [];
    for (const s of this.spans) {
      if (s.end <= r.start || s.start >= r.end) {
        out.push(s);
        continue;
      }
      if (s.start < r.start) out.push({ start: s.start, end: r.start, exclusive: s.exclusive });
      if (s.end > r.end) out.push({ start: r.end, end: s.end, exclusive: s.exclusive });
    }
    this.spans = out;
  }

  clear(): void {
    this.spans = [];
  }

  /** What is held, in offset order, as LOCK arguments. */
  list(): HeldLock[] {
    return this.spans.map((s) => ({ offset: s.start, length: s.end === END ? NFS4_UINT64_MAX : s.end - s.start, exclusive: s.exclusive }));
  }
}
