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
  /** Pieces of the record being assembled, and their total length. */
  private parts: Buffer[] = [];
  private recordLen = 0;

  /**
   * @param maxRecordSize  records (all fragments together) larger than this are
   *   refused before their bytes are buffered
   * @param onRecord  called once per complete record, synchronously
   */
  constructor(
    readonly maxRecordSize: number,
    private readonly onRecord: (record: Buffer) => void,
  ) {}

  /** Bytes buffered for an incomplete record; a caller may watch this for memory bounds. */
  get buffered(): number {
    return this.recordLen;
  }

  /** Feeds one chunk; throws RpcRecordError on an oversize record (the stream is then unusable). */
  push(chunk: Buffer): void {
    let pos = 0;
    const len = chunk.length;
    while (pos < len) {
      if (this.state === State.Header) {
        // Fast path: aligned at a header with the whole fragment in this chunk.
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
          throw new RpcRecordError(
            `RPC record of at least ${this.recordLen + this.fragLeft} bytes exceeds the maximum of ${this.maxRecordSize}`,
          );
        }
        this.state = State.Body;
        if (this.fragLeft === 0) {
          this.endFragment();
          continue;
        }
      }
      const take = Math.min(this.fragLeft, len - pos);
      const piece = chunk.subarray(pos, pos + take);
      pos += take;
      this.fragLeft -= take;
      this.parts.push(piece);
      this.recordLen += take;
      if (this.fragLeft === 0) this.endFragment();
    }
  }

  private endFragment(): void {
    this.state = State.Header;
    if (!this.lastFragment) return;
    const parts = this.parts;
    const record = parts.length === 1 ? parts[0]! : Buffer.concat(parts, this.recordLen);
    this.parts = [];
    this.recordLen = 0;
    this.onRecord(record);
  }
}

/** The record mark for a single-fragment record of `length` bytes. */
export function recordMark(length: number): number {
  return (LAST_FRAGMENT | length) >>> 0;
}
