import { XdrDecodeError } from './errors.js';

const U32_MAX_PLUS_1 = 0x1_0000_0000;
/** Every empty opaque (the AUTH_NONE verifier of each reply, among others): no view allocated for nothing. */
const EMPTY = Buffer.alloc(0);

/**
 * n rounded up to a multiple of 4. Plain arithmetic, not `(n + 3) & ~3`: the
 * bitwise form truncates to int32, so a hostile length of 0xFFFFFFFF would pad
 * to 0 and a length near 2^31 would pad to a negative number, both slipping
 * past the bounds check.
 */
function padded(n: number): number {
  return n + ((4 - (n % 4)) % 4);
}

/**
 * Bounds-checked cursor over one RPC record (RFC 4506).
 *
 * Invariant: `pos <= end <= buf.length`. Every read checks that its bytes lie
 * inside [pos, end) before touching them, so a length field can never make us
 * allocate or view more than the record that carried it. Variable-length
 * opaques are returned as `subarray` views: zero-copy, valid as long as the
 * record buffer is (callers that keep them past the reply must copy).
 */
export class XdrReader {
  pos: number;
  readonly end: number;

  constructor(readonly buf: Buffer, start = 0, end = buf.length) {
    if (start < 0 || end > buf.length || start > end) {
      throw new RangeError('XdrReader: window outside buffer');
    }
    this.pos = start;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number, what: string): void {
    if (n > this.end - this.pos) {
      throw new XdrDecodeError(
        `XDR: truncated reading ${what}: need ${n} bytes at offset ${this.pos}, ${this.end - this.pos} left`,
        what,
      );
    }
  }

  /** Checks that `n` bytes are left, for a decoder that then reads a fixed-size structure in place. */
  ensure(n: number, what: string): void {
    this.need(n, what);
  }

  u32(what = 'uint32'): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  i32(what = 'int32'): number {
    this.need(4, what);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** Enum or discriminant checked against the values the spec allows. */
  enumOf<T extends number>(allowed: ReadonlySet<number>, what: string): T {
    const v = this.i32(what);
    if (!allowed.has(v)) throw new XdrDecodeError(`XDR: invalid ${what} value ${v}`, what);
    return v as T;
  }

  bool(what = 'bool'): boolean {
    const v = this.u32(what);
    if (v > 1) throw new XdrDecodeError(`XDR: invalid boolean ${v} in ${what}`, what);
    return v === 1;
  }

  u64(what = 'uint64'): bigint {
    this.need(8, what);
    const hi = this.buf.readUInt32BE(this.pos);
    const lo = this.buf.readUInt32BE(this.pos + 4);
    this.pos += 8;
    // One BigInt from an exact number where it fits (fileids, fsids, cookies nearly always do);
    // readBigUInt64BE builds four (two halves, a shift and a sum), and a fattr has two of these.
    if (hi < 0x20_0000) return BigInt(hi * U32_MAX_PLUS_1 + lo);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /**
   * uint64 as a JS number. Exact up to 2^53; sizes and offsets beyond that are
   * not reachable by any file Node can address, so precision loss there is
   * accepted in exchange for not allocating a BigInt per field on hot paths.
   */
  u64n(what = 'uint64'): number {
    this.need(8, what);
    const hi = this.buf.readUInt32BE(this.pos);
    const lo = this.buf.readUInt32BE(this.pos + 4);
    this.pos += 8;
    return hi * U32_MAX_PLUS_1 + lo;
  }

  i64(what = 'int64'): bigint {
    this.need(8, what);
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  /** Fixed-length opaque[n]: a view, padded to 4 bytes. */
  fixed(n: number, what = 'opaque'): Buffer {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`XDR: invalid fixed length ${n} for ${what}`);
    if (n === 0) return EMPTY;
    const p = padded(n);
    this.need(p, what);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += p;
    return v;
  }

  /** Variable-length opaque<max>: a zero-copy view into the record. */
  opaque(max = 0xffffffff, what = 'opaque'): Buffer {
    const n = this.u32(what);
    if (n > max) throw new XdrDecodeError(`XDR: ${what} length ${n} exceeds maximum ${max}`, what);
    return this.fixed(n, what);
  }

  /** string<max>, decoded as UTF-8 (NFS names are bytes; UTF-8 is what Node paths use). */
  string(max = 0xffffffff, what = 'string'): string {
    const v = this.opaque(max, what);
    return v.toString('utf8');
  }

  /** Skip n bytes (padded). */
  skip(n: number, what = 'skip'): void {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`XDR: invalid skip length ${n} for ${what}`);
    const p = padded(n);
    this.need(p, what);
    this.pos += p;
  }

  /**
   * Count of an array<max> whose elements each take at least `minElemSize`
   * bytes: a count the rest of the record cannot hold is refused before any
   * array is allocated for it.
   */
  count(max: number, minElemSize: number, what = 'array'): number {
    const n = this.u32(what);
    if (n > max) throw new XdrDecodeError(`XDR: ${what} count ${n} exceeds maximum ${max}`, what);
    if (minElemSize > 0 && n * minElemSize > this.end - this.pos) {
      throw new XdrDecodeError(`XDR: ${what} count ${n} does not fit in the ${this.end - this.pos} bytes left`, what);
    }
    return n;
  }

  array<T>(max: number, minElemSize: number, elem: (r: XdrReader) => T, what = 'array'): T[] {
    const n = this.count(max, minElemSize, what);
    const out = new Array<T>(n);
    for (let i = 0; i < n; i++) out[i] = elem(this);
    return out;
  }

  /**
   * An XDR optional-data linked list (`*next` chains such as READDIR entries
   * and export lists), read iteratively so a long or hostile list cannot grow
   * the stack. More than `max` items is a decode error.
   */
  list<T>(max: number, item: (r: XdrReader) => T, what = 'list'): T[] {
    const out: T[] = [];
    while (this.bool(`${what} value_follows`)) {
      if (out.length >= max) throw new XdrDecodeError(`XDR: ${what} list longer than ${max}`, what);
      out.push(item(this));
    }
    return out;
  }

  /** Fails if bytes remain: a reply longer than its type says is malformed. */
  done(what = 'message'): void {
    if (this.pos !== this.end) {
      throw new XdrDecodeError(`XDR: ${this.end - this.pos} trailing bytes after ${what}`, what);
    }
  }
}
