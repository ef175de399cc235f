import { RpcRecordError } from './errors.js';

/**
 * Record marking (RFC 5531 §11): each record is one or more fragments, each
 * preceded by a 4-byte header whose top bit marks the last fragment and whose
 * low 31 bits give the fragment length.
 *
 * An incremental decoder: TCP chunks may split anywhere, headers included.
 * The common case, a whole single-fragment record inside one chunk, is handed
 * on as a zero-copy view of the chunk.
 */
const LAST_FRAGMENT = 0x8000_0000;

const enum State {
  Header,
  Body,
}

export class RecordDecoder {
  private state = State.Header;
  /** Header bytes seen so far when a header straddles chunks (0..3). */
  private hdrBytes = 0;
  private hdr = 0;
  /** Bytes of the current fragment still to read. */
  private fragLeft = 0;
  private lastFragment = false;
  /**
   * The record being assembled when it does not arrive whole in one chunk:
   * bytes [0, recordLen) of `acc` are valid, and `acc` is never larger than
   * maxRecordSize. Pieces are copied in, not kept as views: a server that
   * splits a record into tiny fragments or TCP segments would otherwise cost
   * one Buffer object (~100 bytes of heap) per piece.
   */
  private acc: Buffer | undefined;
  private recordLen = 0;
  /** Set once a record was refused; the byte stream is unsynchronised from then on. */
  private failed: RpcRecordError | undefined;

  /**
   * @param maxRecordSize  records (all fragments together) larger than this are
   *   refused before their bytes are buffered
   * @param onRecord  called once per complete record, synchronously
   */
  constructor(
    readonly maxRecordSize: number,
    private readonly onRecord: (record: Buffer) => void,
    /**
     * The chunks pushed are reused by the caller after push() returns (a
     * socket reading into one buffer): every record handed on is then a copy,
     * never a view of the chunk.
     */
    private readonly chunksReused = false,
  ) {}

  /** Bytes buffered for an incomplete record; a caller may watch this for memory bounds. */
  get buffered(): number {
    return this.recordLen;
  }

  /**
   * Feeds one chunk; throws RpcRecordError on an oversize record, and again on
   * every later push (the stream is then unusable).
   */
  push(chunk: Buffer): void {
    if (this.failed) throw this.failed;
    let pos = 0;
    const len = chunk.length;
    while (pos < len) {
      if (this.state === State.Header) {
        if (this.hdrBytes === 0 && len - pos >= 4) {
          this.hdr = chunk.readUInt32BE(pos);
          pos += 4;
        } else {
          this.hdr = ((this.hdr << 8) | chunk[pos++]!) >>> 0;
          if (++this.hdrBytes < 4) continue;
          this.hdrBytes = 0;
        }
        this.lastFragment = (this.hdr & LAST_FRAGMENT) !== 0;
        this.fragLeft = this.hdr & 0x7fff_ffff;
        this.hdr = 0;
        if (this.recordLen + this.fragLeft > this.maxRecordSize) {
          this.failed = new RpcRecordError(
            `RPC record of at least ${this.recordLen + this.fragLeft} bytes exceeds the maximum of ${this.maxRecordSize}`,
          );
          throw this.failed;
        }
        this.state = State.Body;
        if (this.fragLeft === 0) {
          this.endFragment();
          continue;
        }
        // Fast path: a whole single-fragment record inside this chunk.
        if (this.lastFragment && this.recordLen === 0 && len - pos >= this.fragLeft) {
          const view = chunk.subarray(pos, pos + this.fragLeft);
          const record = this.chunksReused ? Buffer.from(view) : view;
          pos += this.fragLeft;
          this.fragLeft = 0;
          this.state = State.Header;
          this.onRecord(record);
          continue;
        }
      }
      const take = Math.min(this.fragLeft, len - pos);
      this.append(chunk, pos, take);
      pos += take;
      this.fragLeft -= take;
      if (this.fragLeft === 0) this.endFragment();
    }
  }

  private append(chunk: Buffer, pos: number, take: number): void {
    const need = this.recordLen + take;
    let acc = this.acc;
    if (acc === undefined || acc.length < need) {
      // What the headers announced so far bounds the size; for the last
      // fragment it is the exact record size, so the common split record is
      // allocated once. Unfinished multi-fragment records grow by doubling.
      const announced = this.recordLen + this.fragLeft;
      const size = this.lastFragment
        ? announced
        : Math.min(Math.max(announced, (acc?.length ?? 0) * 2), this.maxRecordSize);
      const next = Buffer.allocUnsafe(size);
      if (acc !== undefined) acc.copy(next, 0, 0, this.recordLen);
      this.acc = acc = next;
    }
    chunk.copy(acc, this.recordLen, pos, pos + take);
    this.recordLen = need;
  }

  private endFragment(): void {
    this.state = State.Header;
    if (!this.lastFragment) return;
    const acc = this.acc;
    const record = acc === undefined ? Buffer.alloc(0) : acc.length === this.recordLen ? acc : acc.subarray(0, this.recordLen);
    this.acc = undefined;
    this.recordLen = 0;
    this.onRecord(record);
  }
}

/** The record mark for a single-fragment record of `length` bytes. */
export function recordMark(length: number): number {
  if (!Number.isInteger(length) || length < 0 || length > 0x7fff_ffff) {
    throw new RangeError(`RPC record length ${length} cannot be marked (0..2^31-1)`);
  }
  return (LAST_FRAGMENT | length) >>> 0;
}
