import { Krb5Error } from '../errors.js';

/**
 * A bounds-checked big-endian cursor for the keytab and ccache file formats.
 * Every read names the file and field in its error, and no length read from
 * the file can make it allocate more than the bytes that are there.
 */
export class ByteReader {
  pos = 0;
  constructor(
    readonly buf: Buffer,
    readonly what: string,
    public end = buf.length,
  ) {}
  private need(n: number, field: string): void {
    if (n > this.end - this.pos) throw new Krb5Error('ERR_KRB5_DECODE', `krb5: cannot read ${this.what}: ${field} needs ${n} bytes at offset ${this.pos}, ${this.end - this.pos} left`);
  }
  remaining(): number {
    return this.end - this.pos;
  }
  u8(field: string): number {
    this.need(1, field);
    return this.buf[this.pos++]!;
  }
  u16(field: string): number {
    this.need(2, field);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  u32(field: string): number {
    this.need(4, field);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  i32(field: string): number {
    this.need(4, field);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  bytes(n: number, field: string): Buffer {
    this.need(n, field);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  /** uint16 length then data (keytab). */
  data16(field: string): Buffer {
    return this.bytes(this.u16(`${field} length`), field);
  }
  /** uint32 length then data (ccache). */
  data32(field: string): Buffer {
    return this.bytes(this.u32(`${field} length`), field);
  }
}

export class ByteWriter {
  private readonly parts: Buffer[] = [];
  u8(v: number): this {
    this.parts.push(Buffer.from([v & 0xff]));
    return this;
  }
  u16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(v, 0);
    this.parts.push(b);
    return this;
  }
  u32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v >>> 0, 0);
    this.parts.push(b);
    return this;
  }
  i32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v, 0);
    this.parts.push(b);
    return this;
  }
  bytes(b: Uint8Array): this {
    this.parts.push(Buffer.from(b));
    return this;
  }
  data16(b: Uint8Array): this {
    return this.u16(b.length).bytes(b);
  }
  data32(b: Uint8Array): this {
    return this.u32(b.length).bytes(b);
  }
  toBuffer(): Buffer {
    return Buffer.concat(this.parts);
  }
}
