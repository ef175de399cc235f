import { Krb5Error } from './errors.js';

/**
 * The subset of ASN.1 DER that Kerberos (RFC 4120 section 5) uses: SEQUENCE,
 * [n] EXPLICIT context and [APPLICATION n] tags, INTEGER up to 53 bits,
 * OCTET STRING, GeneralString, GeneralizedTime and 32-bit BIT STRING flags.
 *
 * Reading parses a whole message into a tree first. Every length is checked
 * against its enclosing element, and nesting deeper than `maxDepth` is
 * refused, so hostile input costs at most its own size and a fixed stack.
 * Errors are Krb5Error ERR_KRB5_DECODE whose message names the field
 * (`AS-REP.enc-part.cipher`) that failed.
 */

export const enum TagClass {
  Universal = 0,
  Application = 1,
  Context = 2,
  Private = 3,
}

export const UNIVERSAL = {
  INTEGER: 2,
  BIT_STRING: 3,
  OCTET_STRING: 4,
  SEQUENCE: 16,
  GeneralizedTime: 24,
  GeneralString: 27,
} as const;

export interface DerNode {
  readonly cls: TagClass;
  readonly constructed: boolean;
  readonly tag: number;
  /** Content octets (a view into the input). */
  readonly value: Buffer;
  /** The whole element, header included (a view): checksums are computed over encodings as received. */
  readonly raw: Buffer;
  readonly children: readonly DerNode[];
}

export const DEFAULT_MAX_DEPTH = 32;

function fail(what: string, detail: string): never {
  throw new Krb5Error('ERR_KRB5_DECODE', `krb5: cannot decode ${what}: ${detail}`);
}

/** Parse one DER element that must fill `buf` exactly. */
export function parseDer(buf: Uint8Array, what: string, maxDepth = DEFAULT_MAX_DEPTH): DerNode {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const [node, end] = parseAt(b, 0, b.length, what, 0, maxDepth);
  if (end !== b.length) fail(what, `${b.length - end} bytes after the end of the element`);
  return node;
}

function parseAt(b: Buffer, pos: number, end: number, what: string, depth: number, maxDepth: number): [DerNode, number] {
  if (depth > maxDepth) fail(what, `nested deeper than ${maxDepth} levels`);
  const start = pos;
  if (pos >= end) fail(what, 'truncated before a tag');
  const id = b[pos++]!;
  const cls = (id >> 6) as TagClass;
  const constructed = (id & 0x20) !== 0;
  const tag = id & 0x1f;
  if (tag === 0x1f) fail(what, 'multi-byte tag numbers are not used by Kerberos');
  if (pos >= end) fail(what, 'truncated before a length');
  let len = b[pos++]!;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) fail(what, 'indefinite length is not DER');
    if (n > 4) fail(what, `length of ${n} octets is too long`);
    if (pos + n > end) fail(what, 'truncated inside a length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[pos++]!;
  }
  if (len > end - pos) fail(what, `length ${len} runs past the end of its container (${end - pos} bytes left)`);
  const value = b.subarray(pos, pos + len);
  const children: DerNode[] = [];
  if (constructed) {
    let p = pos;
    while (p < pos + len) {
      const [child, next] = parseAt(b, p, pos + len, what, depth + 1, maxDepth);
      children.push(child);
      p = next;
    }
  }
  return [{ cls, constructed, tag, value, raw: b.subarray(start, pos + len), children }, pos + len];
}

// ---- typed accessors on parsed nodes ----

export function expect(node: DerNode, cls: TagClass, tag: number, what: string, constructed?: boolean): DerNode {
  if (node.cls !== cls || node.tag !== tag) fail(what, `expected ${tagName(cls, tag)}, found ${tagName(node.cls, node.tag)}`);
  if (constructed !== undefined && node.constructed !== constructed) fail(what, `expected a ${constructed ? 'constructed' : 'primitive'} ${tagName(cls, tag)}`);
  return node;
}

function tagName(cls: TagClass, tag: number): string {
  return cls === TagClass.Universal ? `universal ${tag}` : cls === TagClass.Application ? `[APPLICATION ${tag}]` : cls === TagClass.Context ? `[${tag}]` : `private ${tag}`;
}

/** [APPLICATION n] wrapping exactly one element. */
export function application(node: DerNode, n: number, what: string): DerNode {
  expect(node, TagClass.Application, n, what, true);
  if (node.children.length !== 1) fail(what, `[APPLICATION ${n}] holds ${node.children.length} elements`);
  return node.children[0]!;
}

/**
 * A SEQUENCE of [n] EXPLICIT fields, as a map from n to the field's inner
 * element. Tags must increase (DER order) and appear once.
 */
export class Fields {
  private readonly map = new Map<number, DerNode>();
  constructor(
    node: DerNode,
    readonly what: string,
  ) {
    expect(node, TagClass.Universal, UNIVERSAL.SEQUENCE, what, true);
    let last = -1;
    for (const c of node.children) {
      if (c.cls !== TagClass.Context || !c.constructed) fail(what, `a SEQUENCE member is ${tagName(c.cls, c.tag)}, not an [n] EXPLICIT field`);
      if (c.tag <= last) fail(what, `field [${c.tag}] out of order or repeated`);
      if (c.children.length !== 1) fail(`${what}[${c.tag}]`, `explicit tag holds ${c.children.length} elements`);
      last = c.tag;
      this.map.set(c.tag, c.children[0]!);
    }
  }
  has(n: number): boolean {
    return this.map.has(n);
  }
  opt(n: number): DerNode | undefined {
    return this.map.get(n);
  }
  req(n: number, name: string): DerNode {
    const v = this.map.get(n);
    if (!v) fail(`${this.what}.${name}`, `required field [${n}] is missing`);
    return v;
  }
}

export function readInt(node: DerNode, what: string): number {
  expect(node, TagClass.Universal, UNIVERSAL.INTEGER, what, false);
  const v = node.value;
  if (v.length === 0) fail(what, 'empty INTEGER');
  if (v.length > 6) fail(what, `INTEGER of ${v.length} octets is out of range`);
  let n = 0;
  for (const byte of v) n = n * 256 + byte;
  // Two's complement: a set top bit makes the value negative.
  return v[0]! & 0x80 ? n - 2 ** (8 * v.length) : n;
}

/** UInt32 fields (nonce, seq-number, kvno) that some implementations encode as negative Int32. */
export function readUInt32(node: DerNode, what: string): number {
  return readInt(node, what) >>> 0;
}

export function readOctets(node: DerNode, what: string): Buffer {
  return expect(node, TagClass.Universal, UNIVERSAL.OCTET_STRING, what, false).value;
}

/** KerberosString (GeneralString restricted to IA5 by RFC 4120; we accept UTF-8 as MIT does). */
export function readString(node: DerNode, what: string): string {
  return expect(node, TagClass.Universal, UNIVERSAL.GeneralString, what, false).value.toString('utf8');
}

/** KerberosTime: GeneralizedTime "YYYYMMDDHHMMSSZ". */
export function readTime(node: DerNode, what: string): Date {
  const s = expect(node, TagClass.Universal, UNIVERSAL.GeneralizedTime, what, false).value.toString('latin1');
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) fail(what, `KerberosTime ${JSON.stringify(s)} is not YYYYMMDDHHMMSSZ`);
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}

/** The first 32 bits of a BIT STRING (KDCOptions, TicketFlags, APOptions), bit 0 as the most significant. */
export function readFlags(node: DerNode, what: string): number {
  const v = expect(node, TagClass.Universal, UNIVERSAL.BIT_STRING, what, false).value;
  if (v.length === 0) fail(what, 'BIT STRING without its unused-bits octet');
  let n = 0;
  for (let i = 1; i <= 4; i++) n = n * 256 + (v[i] ?? 0);
  return n >>> 0;
}

export function readSeqOf<T>(node: DerNode, what: string, each: (n: DerNode, what: string) => T): T[] {
  expect(node, TagClass.Universal, UNIVERSAL.SEQUENCE, what, true);
  return node.children.map((c, i) => each(c, `${what}[${i}]`));
}

// ---- writing ----

export function tlv(cls: TagClass, constructed: boolean, tag: number, content: Uint8Array): Buffer {
  const id = (cls << 6) | (constructed ? 0x20 : 0) | tag;
  const n = content.length;
  let hdr: number[];
  if (n < 0x80) hdr = [id, n];
  else if (n < 0x100) hdr = [id, 0x81, n];
  else if (n < 0x10000) hdr = [id, 0x82, n >> 8, n & 0xff];
  else if (n < 0x1000000) hdr = [id, 0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  else hdr = [id, 0x84, n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
  return Buffer.concat([Buffer.from(hdr), content]);
}

export function seq(...items: (Buffer | undefined)[]): Buffer {
  return tlv(TagClass.Universal, true, UNIVERSAL.SEQUENCE, Buffer.concat(items.filter((x): x is Buffer => x !== undefined)));
}

/** [n] EXPLICIT; undefined in, undefined out, so OPTIONAL fields drop out of seq(). */
export function ctx(n: number, inner: Buffer | undefined): Buffer | undefined {
  return inner === undefined ? undefined : tlv(TagClass.Context, true, n, inner);
}

export function app(n: number, inner: Buffer): Buffer {
  return tlv(TagClass.Application, true, n, inner);
}

export function int(n: number): Buffer {
  if (!Number.isSafeInteger(n)) throw new RangeError(`DER INTEGER ${n} is not a safe integer`);
  const bytes: number[] = [];
  let v = n;
  // Minimal two's complement: emit low bytes until the sign is carried by the top bit.
  do {
    bytes.unshift(((v % 256) + 256) % 256);
    v = Math.floor(v / 256);
  } while (!(v === 0 && (bytes[0]! & 0x80) === 0) && !(v === -1 && (bytes[0]! & 0x80) !== 0));
  return tlv(TagClass.Universal, false, UNIVERSAL.INTEGER, Buffer.from(bytes));
}

export function octets(b: Uint8Array): Buffer {
  return tlv(TagClass.Universal, false, UNIVERSAL.OCTET_STRING, b);
}

export function str(s: string): Buffer {
  return tlv(TagClass.Universal, false, UNIVERSAL.GeneralString, Buffer.from(s, 'utf8'));
}

export function time(d: Date): Buffer {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const s = `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  return tlv(TagClass.Universal, false, UNIVERSAL.GeneralizedTime, Buffer.from(s, 'latin1'));
}

/** A 32-bit flags BIT STRING, as RFC 4120 requires (at least 32 bits, no unused bits). */
export function flags(n: number): Buffer {
  const b = Buffer.alloc(5);
  b.writeUInt32BE(n >>> 0, 1);
  return tlv(TagClass.Universal, false, UNIVERSAL.BIT_STRING, b);
}

export function seqOf(items: Buffer[]): Buffer {
  return tlv(TagClass.Universal, true, UNIVERSAL.SEQUENCE, Buffer.concat(items));
}

/** Flag value for bit `i` of a Kerberos BIT STRING (bit 0 is the most significant). */
export function bit(i: number): number {
  return (0x80000000 >>> i) >>> 0;
}
