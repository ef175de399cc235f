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

/**
 * Where the bulk payload of a record goes instead of the record buffer: bytes
 * [at, at+length) of the record are copied straight into `dest` from
 * `destOffset` on (a READ reply's data into the caller's buffer), and the
 * record handed on is the rest, with that range cut out. `dest` may be
 * cleared at any time (the call was abandoned): the remaining payload bytes
 * are then dropped, so a caller's buffer is never written after it gave up.
 */
export interface Placement {
  at: number;
  length: number;
  dest: Uint8Array | undefined;
  destOffset: number;
}

/**
 * Asked once at the start of every record that does not arrive whole in one
 * chunk, with the bytes of it that have arrived (at least one byte, at most
 * the record), and, when chunks are reused (so whole records are copies
 * too), of every whole record. Returns where its payload goes, or undefined to assemble the
 * record as usual.
 */
export type Placer = (head: Buffer, recordLength: number) => Placement | undefined;

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
  /** The payload placement of the record being assembled, if any. */
  private placement: Placement | undefined;
  /** Record bytes consumed so far (payload included); differs from recordLen once a placement is active. */
  private recordPos = 0;
  /** Set once a record was refused; the byte stream is unsynchronised from then on. */
  private failed: RpcRecordError | undefined;

  /**
   * @param maxRecordSize  records (all fragments together) larger than this are
   *   refused before their bytes are buffered
   * @param onRecord  called once per complete record, synchronously; with
   *   the placement its payload went to, if one was made (the record then
   *   lacks those bytes)
   */
  constructor(
    readonly maxRecordSize: number,
    private readonly onRecord: (record: Buffer, placement: Placement | undefined) => void,
    /**
     * The chunks pushed are reused by the caller after push() returns (a
     * socket reading into one buffer): every record handed on is then a copy,
     * never a view of the chunk.
     */
    private readonly chunksReused = false,
    private readonly placer?: Placer,
    /** Offered each whole record of a reused chunk first: true when it was consumed there, while the chunk is still valid. */
    private readonly inPlace?: (record: Buffer) => boolean,
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
          const n = this.fragLeft;
          const view = chunk.subarray(pos, pos + n);
          pos += n;
          this.fragLeft = 0;
          this.state = State.Header;
          if (!this.chunksReused) {
            this.onRecord(view, undefined);
            continue;
          }
          if (this.inPlace?.(view)) continue;
          // The chunk is about to be reused, so the record must be copied
          // anyway: a payload that has a destination goes straight there
          // and only the rest is copied (small enough for node's pool).
          const p = this.placer?.(view, n);
          if (p && p.dest !== undefined && p.at >= 0 && p.length > 0 && p.at + p.length <= n) {
            view.copy(p.dest, p.destOffset, p.at, p.at + p.length);
            const record = Buffer.allocUnsafe(n - p.length);
            view.copy(record, 0, 0, p.at);
            view.copy(record, p.at, p.at + p.length);
            this.onRecord(record, p);
          } else {
            this.onRecord(Buffer.from(view), undefined);
          }
          continue;
        }
        if (this.placer && this.lastFragment && this.recordLen === 0 && this.recordPos === 0) {
          const p = this.placer(chunk.subarray(pos, pos + Math.min(this.fragLeft, len - pos)), this.fragLeft);
          if (p && p.at >= 0 && p.length > 0 && p.at + p.length <= this.fragLeft) this.placement = p;
        }
      }
      const take = Math.min(this.fragLeft, len - pos);
      if (this.placement) this.appendPlaced(chunk, pos, take);
      else this.append(chunk, pos, take);
      pos += take;
      this.fragLeft -= take;
      if (this.fragLeft === 0) this.endFragment();
    }
  }

  /** Splits a piece of a placed record: payload bytes to the destination, the rest to `acc`. */
  private appendPlaced(chunk: Buffer, pos: number, take: number): void {
    const p = this.placement!;
    const start = this.recordPos;
    const end = start + take;
    const payloadEnd = p.at + p.length;
    if (start < p.at) {
      const n = Math.min(end, p.at) - start;
      this.append(chunk, pos, n);
    }
    const from = Math.max(start, p.at);
    const to = Math.min(end, payloadEnd);
    if (to > from && p.dest !== undefined) {
      chunk.copy(p.dest, p.destOffset + (from - p.at), pos + (from - start), pos + (to - start));
    }
    if (end > payloadEnd) {
      const n = end - Math.max(start, payloadEnd);
      this.append(chunk, pos + take - n, n);
    }
    this.recordPos = end;
  }

  private append(chunk: Buffer, pos: number, take: number): void {
    const need = this.recordLen + take;
    let acc = this.acc;
    if (acc === undefined || acc.length < need) {
      // What the headers announced so far bounds the size; for the last
      // fragment it is the exact record size, so the common split record is
      // allocated once. Unfinished multi-fragment records grow by doubling.
      const announced = this.recordLen + this.fragLeft - this.placedAhead();
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

  /** Payload bytes of the active placement not yet consumed: they will not land in `acc`. */
  private placedAhead(): number {
    const p = this.placement;
    if (!p) return 0;
    return Math.max(0, p.at + p.length - Math.max(this.recordPos, p.at));
  }

  /**
   * Where the next read may land directly (see DirectTarget): only inside a
   * placed payload whose destination is still wanted, and only for at least
   * `min` bytes (a short tail is cheaper through the read buffer).
   */
  directTarget(min: number): DirectTarget | undefined {
    const p = this.placement;
    if (!p || p.dest === undefined || this.state !== State.Body || this.failed) return undefined;
    const payloadEnd = p.at + p.length;
    if (this.recordPos < p.at || this.recordPos >= payloadEnd) return undefined;
    const n = Math.min(this.fragLeft, payloadEnd - this.recordPos);
    if (n < min) return undefined;
    const at = p.destOffset + (this.recordPos - p.at);
    return { view: new Uint8Array(p.dest.buffer, p.dest.byteOffset + at, n), placement: p };
  }

  /** Inside a record whose bytes all go to the record buffer (no placement): its rest is best read in bulk. */
  get assembling(): boolean {
    return this.state === State.Body && this.placement === undefined;
  }

  /**
   * Accounts for `n` payload bytes a read put straight into the window
   * directTarget() gave: they are consumed as if pushed, without a copy.
   */
  pushDirect(n: number): void {
    if (this.failed) throw this.failed;
    const p = this.placement;
    if (!p || this.state !== State.Body || n > this.fragLeft || this.recordPos < p.at || this.recordPos + n > p.at + p.length) {
      throw new RpcRecordError('RPC record decoder: bytes read into a payload that is not being received');
    }
    this.recordPos += n;
    this.fragLeft -= n;
    if (this.fragLeft === 0) this.endFragment();
  }

  private endFragment(): void {
    this.state = State.Header;
    if (!this.lastFragment) return;
    const acc = this.acc;
    const record = acc === undefined ? Buffer.alloc(0) : acc.length === this.recordLen ? acc : acc.subarray(0, this.recordLen);
    const placement = this.placement;
    this.acc = undefined;
    this.recordLen = 0;
    this.recordPos = 0;
    this.placement = undefined;
    this.onRecord(record, placement);
  }
}

/**
 * Where the next socket read may go instead of the transport's read buffer:
 * a window of a placed payload's destination, exactly as long as the payload
 * bytes still to come in this fragment, so the kernel copies them straight
 * into the caller's memory and nothing past them.
 */
export interface DirectTarget {
  view: Uint8Array;
  placement: Placement;
}

/** The record mark for a single-fragment record of `length` bytes. */
export function recordMark(length: number): number {
  if (!Number.isInteger(length) || length < 0 || length > 0x7fff_ffff) {
    throw new RangeError(`RPC record length ${length} cannot be marked (0..2^31-1)`);
  }
  return (LAST_FRAGMENT | length) >>> 0;
}
