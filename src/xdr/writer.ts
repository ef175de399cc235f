/**
 * Growable XDR encoder (RFC 4506) that never copies large payloads.
 *
 * Small fields go into the current chunk; an opaque at or above
 * `GATHER_THRESHOLD` is kept as a reference and handed to the socket as its own
 * iovec (gather write), so a 1 MiB WRITE costs no memcpy in the client.
 *
 * Layout invariant: `chunks` holds finished pieces in wire order; `cur` is the
 * piece being filled, bytes [base, off) of it are valid; `size` counts every
 * byte in `chunks` plus `off - base`.
 */
const GATHER_THRESHOLD = 2048;
const ZERO = Buffer.alloc(4);

export class XdrWriter {
  private chunks: Buffer[] = [];
  private cur: Buffer;
  private base = 0;
  private off = 0;
  private size = 0;
  /**
   * Where `cur` starts in the arena given to restart(), or -1 once `cur` is
   * memory of its own. Kept as a number: reading a typed array's `buffer` or
   * `byteOffset` to find out costs more than encoding a small call.
   */
  private arenaAt = -1;

  constructor(initial = 512) {
    this.cur = Buffer.allocUnsafe(initial);
  }

  /**
   * Starts a new message at byte `at` of `arena`, memory the caller hands out
   * in order and never writes again below what a message used (RpcClient's
   * send arena): many small calls then share one allocation, and calls
   * encoded one after the other lie next to each other, so a batch of them is
   * one write with no copy. What does not fit moves to memory of its own.
   * @internal
   */
  restart(arena: Buffer, at: number): void {
    this.chunks.length = 0;
    this.cur = arena;
    this.base = at;
    this.off = at;
    this.size = 0;
    this.arenaAt = 0;
  }

  /** Where the arena given to restart() is used up to, or -1 when the message's tail moved to memory of its own. @internal */
  arenaEnd(): number {
    return this.arenaAt < 0 ? -1 : this.arenaAt + this.off;
  }

  /** True when the whole message lies in one piece in the arena, from where restart() began it. @internal */
  get whole(): boolean {
    return this.arenaAt === 0 && this.chunks.length === 0;
  }

  get length(): number {
    return this.size;
  }

  private ensure(n: number): void {
    if (this.off + n <= this.cur.length) return;
    if (this.off > this.base) this.chunks.push(this.cur.subarray(this.base, this.off));
    this.cur = Buffer.allocUnsafe(Math.max(n, (this.off - this.base) * 2, 512));
    this.base = 0;
    this.off = 0;
    this.arenaAt = -1;
  }

  u32(v: number): this {
    this.ensure(4);
    this.cur.writeUInt32BE(v >>> 0, this.off);
    this.off += 4;
    this.size += 4;
    return this;
  }

  i32(v: number): this {
    this.ensure(4);
    this.cur.writeInt32BE(v | 0, this.off);
    this.off += 4;
    this.size += 4;
    return this;
  }

  bool(v: boolean): this {
    return this.u32(v ? 1 : 0);
  }

  /** uint64 from a number (exact to 2^53) or a bigint. */
  u64(v: number | bigint): this {
    this.ensure(8);
    if (typeof v === 'bigint') {
      this.cur.writeBigUInt64BE(BigInt.asUintN(64, v), this.off);
    } else {
      if (!(v >= 0) || !Number.isSafeInteger(v)) throw new RangeError(`XDR: uint64 out of range: ${v}`);
      this.cur.writeUInt32BE(Math.floor(v / 0x1_0000_0000), this.off);
      this.cur.writeUInt32BE(v >>> 0, this.off + 4);
    }
    this.off += 8;
    this.size += 8;
    return this;
  }

  i64(v: number | bigint): this {
    this.ensure(8);
    this.cur.writeBigInt64BE(BigInt(v), this.off);
    this.off += 8;
    this.size += 8;
    return this;
  }

  /** Fixed-length opaque: bytes then zero padding to a multiple of 4. */
  fixed(data: Uint8Array): this {
    const n = data.length;
    const pad = (4 - (n & 3)) & 3;
    if (n >= GATHER_THRESHOLD) {
      if (this.off > this.base) {
        this.chunks.push(this.cur.subarray(this.base, this.off));
        this.cur = this.cur.subarray(this.off);
        if (this.arenaAt >= 0) this.arenaAt += this.off;
        this.base = 0;
        this.off = 0;
      }
      this.chunks.push(Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, n));
      this.size += n;
      if (pad) {
        this.chunks.push(ZERO.subarray(0, pad));
        this.size += pad;
      }
      return this;
    }
    this.ensure(n + pad);
    this.cur.set(data, this.off);
    this.off += n;
    for (let i = 0; i < pad; i++) this.cur[this.off++] = 0;
    this.size += n + pad;
    return this;
  }

  opaque(data: Uint8Array): this {
    this.u32(data.length);
    return this.fixed(data);
  }

  string(s: string): this {
    const len = Buffer.byteLength(s, 'utf8');
    const pad = (4 - (len & 3)) & 3;
    this.ensure(4 + len + pad);
    this.cur.writeUInt32BE(len, this.off);
    this.cur.write(s, this.off + 4, len, 'utf8');
    this.off += 4 + len;
    for (let i = 0; i < pad; i++) this.cur[this.off++] = 0;
    this.size += 4 + len + pad;
    return this;
  }

  /** Reserve 4 bytes now, fill them later (record marks, lengths). Returns a patch function. */
  reserve32(): (v: number) => void {
    this.ensure(4);
    const buf = this.cur;
    const at = this.off;
    this.off += 4;
    this.size += 4;
    return (v: number) => {
      buf.writeUInt32BE(v >>> 0, at);
    };
  }

  /** The encoded message as iovecs for writev; no payload is copied. */
  buffers(): Buffer[] {
    const out = this.chunks.slice();
    if (this.off > this.base) out.push(this.cur.subarray(this.base, this.off));
    return out;
  }

  /** The encoded message as one Buffer (copies when there is more than one piece). */
  toBuffer(): Buffer {
    const bufs = this.buffers();
    return bufs.length === 1 ? bufs[0]! : Buffer.concat(bufs, this.size);
  }
}
