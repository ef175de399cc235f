/**
 * A streaming tar codec: POSIX ustar headers, pax extended headers ('x')
 * for what ustar cannot hold (paths and link targets that do not fit,
 * sub-second times, ids and sizes past the octal fields), and, on read,
 * GNU long names ('L', 'K') and base-256 numbers as GNU tar writes them.
 *
 * Writing is a pure function per header (encodeHeader) plus padding; the
 * data in between is the caller's, streamed. Reading is TarParser, an
 * incremental state machine fed chunks of any size (a header may be split
 * anywhere) that hands file data back as views of the input, never copies.
 *
 *   block := header(512) [data, padded to 512]
 *   archive := (pax-header? gnu-long-name? header data)* zero-block zero-block
 */

export const BLOCK = 512;
/** pax and GNU long-name records larger than this are refused, not buffered. */
export const MAX_META_SIZE = 1024 * 1024;
const ZERO_BLOCK = Buffer.alloc(BLOCK);
export const TAR_END: Buffer = Buffer.alloc(2 * BLOCK);

export type TarType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'directory' | 'fifo' | 'other';

const TYPEFLAG: Record<Exclude<TarType, 'other'>, string> = { file: '0', link: '1', symlink: '2', char: '3', block: '4', directory: '5', fifo: '6' };
const FROM_TYPEFLAG: Record<string, TarType> = { '0': 'file', '\0': 'file', '7': 'file', '1': 'link', '2': 'symlink', '3': 'char', '4': 'block', '5': 'directory', '6': 'fifo' };

export interface TarTime {
  sec: number;
  nsec: number;
}

export interface TarHeader {
  /** Relative path; directories end in '/'. */
  path: string;
  type: TarType;
  /** Permission bits with setuid/setgid/sticky (07777). */
  mode: number;
  uid: number;
  gid: number;
  /** Bytes of data that follow: 0 except for files. */
  size: number;
  mtime: TarTime;
  atime?: TarTime | undefined;
  /** Symlink target, or the path a hard link ('link') points at. */
  linkname?: string | undefined;
  uname?: string | undefined;
  gname?: string | undefined;
  devmajor?: number | undefined;
  devminor?: number | undefined;
  /** The raw typeflag, for 'other' entries (sockets do not exist in tar; vendors' extensions do). */
  typeflag?: string | undefined;
  /** pax records this codec does not interpret: kept on read, written as given. */
  pax?: Record<string, string> | undefined;
}

// ustar field offsets and widths (POSIX.1-2001 pax, "ustar Interchange Format").
const F = {
  name: [0, 100],
  mode: [100, 8],
  uid: [108, 8],
  gid: [116, 8],
  size: [124, 12],
  mtime: [136, 12],
  chksum: [148, 8],
  typeflag: [156, 1],
  linkname: [157, 100],
  magic: [257, 6],
  version: [263, 2],
  uname: [265, 32],
  gname: [297, 32],
  devmajor: [329, 8],
  devminor: [337, 8],
  prefix: [345, 155],
} as const;

const maxOctal = (width: number) => 8 ** (width - 1) - 1;

export class TarFormatError extends Error {
  readonly code = 'ERR_TAR_FORMAT';
  constructor(message: string) {
    super(message);
    this.name = 'TarFormatError';
  }
}

// ---------------------------------------------------------------- writing

/** A pax record: '<len> <key>=<value>\n', where len counts the whole record including its own digits. */
export function paxRecord(key: string, value: string): Buffer {
  const body = Buffer.byteLength(` ${key}=${value}\n`);
  let len = body + 1;
  while (String(len).length + body !== len) len = String(len).length + body;
  return Buffer.from(`${len} ${key}=${value}\n`);
}

export function formatPaxTime(t: TarTime): string {
  if (t.nsec === 0) return String(t.sec);
  if (t.sec >= 0) return `${t.sec}.${String(t.nsec).padStart(9, '0')}`;
  return `-${-(t.sec + 1)}.${String(1e9 - t.nsec).padStart(9, '0')}`;
}

export function parsePaxTime(s: string): TarTime {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(s);
  if (!m) throw new TarFormatError(`bad pax time '${s}'`);
  const whole = Number(m[2]);
  const nsec = Number((m[3] ?? '').slice(0, 9).padEnd(9, '0'));
  if (m[1] !== '-') return { sec: whole, nsec };
  return nsec === 0 ? { sec: -whole, nsec: 0 } : { sec: -whole - 1, nsec: 1e9 - nsec };
}

/** Splits a path into ustar's prefix and name at a '/', or returns undefined when no split fits. */
function splitPath(path: Buffer): { prefix: Buffer; name: Buffer } | undefined {
  if (path.length <= 100) return { prefix: Buffer.alloc(0), name: path };
  // The name part may not be empty, so a trailing '/' stays with it.
  for (let i = Math.min(path.length - 2, 155); i > 0; i--) {
    if (path[i] !== 0x2f) continue;
    if (path.length - i - 1 > 100) return undefined;
    return { prefix: path.subarray(0, i), name: path.subarray(i + 1) };
  }
  return undefined;
}

function putString(b: Buffer, [off, width]: readonly [number, number], v: Buffer | string): void {
  const src = typeof v === 'string' ? Buffer.from(v) : v;
  src.copy(b, off, 0, Math.min(width, src.length));
}

function putOctal(b: Buffer, [off, width]: readonly [number, number], v: number): void {
  const s = Math.max(0, Math.min(Math.trunc(v), maxOctal(width))).toString(8).padStart(width - 1, '0');
  b.write(s, off, width - 1, 'ascii');
  b[off + width - 1] = 0;
}

/**
 * The header blocks of one entry: a pax header and its records first when
 * ustar cannot hold the entry exactly, then the ustar header. The entry's
 * `size` bytes of data, then padding(size), must follow.
 */
export function encodeHeader(h: TarHeader): Buffer {
  if (!Number.isSafeInteger(h.size) || h.size < 0) throw new RangeError(`bad size ${h.size} for ${h.path}`);
  if (h.type !== 'file' && h.size !== 0) throw new RangeError(`${h.type} entry ${h.path} has data`);
  const typeflag = h.type === 'other' ? (h.typeflag ?? '0') : TYPEFLAG[h.type];
  const pax: [string, string][] = [];
  const path = Buffer.from(h.path);
  const split = splitPath(path);
  if (!split) pax.push(['path', h.path]);
  const link = Buffer.from(h.linkname ?? '');
  if (link.length > 100) pax.push(['linkpath', h.linkname!]);
  if (h.uid > maxOctal(8) || h.uid < 0) pax.push(['uid', String(h.uid)]);
  if (h.gid > maxOctal(8) || h.gid < 0) pax.push(['gid', String(h.gid)]);
  if (h.size > maxOctal(12)) pax.push(['size', String(h.size)]);
  if (h.mtime.nsec !== 0 || h.mtime.sec < 0 || h.mtime.sec > maxOctal(12)) pax.push(['mtime', formatPaxTime(h.mtime)]);
  if (h.atime) pax.push(['atime', formatPaxTime(h.atime)]);
  if (h.uname && Buffer.byteLength(h.uname) > 32) pax.push(['uname', h.uname]);
  if (h.gname && Buffer.byteLength(h.gname) > 32) pax.push(['gname', h.gname]);
  for (const [k, v] of Object.entries(h.pax ?? {})) pax.push([k, v]);

  const b = Buffer.alloc(BLOCK);
  if (split) {
    putString(b, F.name, split.name);
    putString(b, F.prefix, split.prefix);
  } else {
    // Readers without pax see the path's tail: at least the file name.
    putString(b, F.name, path.subarray(Math.max(0, path.length - 100)));
  }
  putOctal(b, F.mode, h.mode & 0o7777);
  putOctal(b, F.uid, h.uid);
  putOctal(b, F.gid, h.gid);
  putOctal(b, F.size, h.size);
  putOctal(b, F.mtime, h.mtime.sec);
  b.write(typeflag, F.typeflag[0], 1, 'latin1');
  putString(b, F.linkname, link);
  b.write('ustar\0', F.magic[0], 'latin1');
  b.write('00', F.version[0], 'latin1');
  putString(b, F.uname, h.uname ?? '');
  putString(b, F.gname, h.gname ?? '');
  putOctal(b, F.devmajor, h.devmajor ?? 0);
  putOctal(b, F.devminor, h.devminor ?? 0);
  writeChecksum(b);
  if (pax.length === 0) return b;

  const records = Buffer.concat(pax.map(([k, v]) => paxRecord(k, v)));
  const base = h.path.replace(/\/+$/, '').split('/').pop() || '.';
  const ph = Buffer.alloc(BLOCK);
  putString(ph, F.name, Buffer.from(`PaxHeaders/${base}`).subarray(0, 100));
  putOctal(ph, F.mode, 0o644);
  putOctal(ph, F.uid, 0);
  putOctal(ph, F.gid, 0);
  putOctal(ph, F.size, records.length);
  putOctal(ph, F.mtime, Math.max(0, h.mtime.sec));
  ph.write('x', F.typeflag[0], 1, 'latin1');
  ph.write('ustar\0', F.magic[0], 'latin1');
  ph.write('00', F.version[0], 'latin1');
  writeChecksum(ph);
  return Buffer.concat([ph, records, padding(records.length), b]);
}

/** Zeros that bring `size` bytes of data to a block boundary. */
export function padding(size: number): Buffer {
  const r = size % BLOCK;
  return r === 0 ? Buffer.alloc(0) : ZERO_BLOCK.subarray(0, BLOCK - r);
}

function checksumOf(b: Buffer): { unsigned: number; signed: number } {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const v = i >= F.chksum[0] && i < F.chksum[0] + F.chksum[1] ? 0x20 : b[i]!;
    unsigned += v;
    signed += v > 127 ? v - 256 : v;
  }
  return { unsigned, signed };
}

function writeChecksum(b: Buffer): void {
  const s = checksumOf(b).unsigned.toString(8).padStart(6, '0');
  b.write(s, F.chksum[0], 6, 'ascii');
  b[F.chksum[0] + 6] = 0;
  b[F.chksum[0] + 7] = 0x20;
}

// ---------------------------------------------------------------- reading

function getString(b: Buffer, [off, width]: readonly [number, number]): string {
  const f = b.subarray(off, off + width);
  const nul = f.indexOf(0);
  return (nul < 0 ? f : f.subarray(0, nul)).toString('utf8');
}

/** An octal field (NUL/space padded) or GNU's base-256 form (high bit of the first byte set). */
function getNumber(b: Buffer, [off, width]: readonly [number, number], what: string): number {
  const f = b.subarray(off, off + width);
  if (f[0]! & 0x80) {
    if (f[0] === 0xff) throw new TarFormatError(`negative base-256 ${what}`);
    let v = f[0]! & 0x7f;
    for (let i = 1; i < f.length; i++) v = v * 256 + f[i]!;
    if (!Number.isSafeInteger(v)) throw new TarFormatError(`${what} too large`);
    return v;
  }
  const s = f.toString('latin1').replace(/[\0 ]+$/, '').replace(/^[ \0]+/, '');
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new TarFormatError(`bad octal ${what} '${s}'`);
  return parseInt(s, 8);
}

function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < data.length) {
    const sp = data.indexOf(0x20, pos);
    if (sp < 0) throw new TarFormatError('bad pax record');
    const len = Number(data.toString('latin1', pos, sp));
    if (!Number.isInteger(len) || len <= sp - pos + 1 || pos + len > data.length || data[pos + len - 1] !== 0x0a) throw new TarFormatError('bad pax record length');
    const rec = data.toString('utf8', sp + 1, pos + len - 1);
    const eq = rec.indexOf('=');
    if (eq <= 0) throw new TarFormatError('bad pax record');
    out[rec.slice(0, eq)] = rec.slice(eq + 1);
    pos += len;
  }
  return out;
}

export type TarEvent =
  | { type: 'entry'; header: TarHeader }
  /** File data: a view of the chunk given to push(), valid as long as that chunk is. */
  | { type: 'data'; data: Buffer }
  | { type: 'entry-end' }
  | { type: 'end' };

type Meta = { flag: 'x' | 'g' | 'L' | 'K'; parts: Buffer[]; got: number; size: number };

/**
 * The reading state machine. States:
 *   header   collecting a 512-byte header (hdrLen bytes so far)
 *   meta     collecting a pax or GNU long-name record (buffered, ≤ MAX_META_SIZE)
 *   data     passing `remaining` bytes of an entry's data through
 *   padding  skipping `remaining` bytes to the next block
 *   end      two zero blocks seen: everything after is ignored
 * `pending` holds what 'x', 'L' and 'K' records say about the next header;
 * `global` what 'g' records say about all that follow.
 */
export class TarParser {
  private state: 'header' | 'meta' | 'data' | 'padding' | 'end' = 'header';
  private readonly hdr = Buffer.alloc(BLOCK);
  private hdrLen = 0;
  private remaining = 0;
  private afterPad: 'entry-end' | 'none' = 'none';
  private meta: Meta | undefined;
  private pending: { pax: Record<string, string>; longName?: string; longLink?: string } = { pax: {} };
  private global: Record<string, string> = {};
  private zeroBlocks = 0;
  /** Bytes consumed, for error messages. */
  private offset = 0;

  get ended(): boolean {
    return this.state === 'end';
  }

  push(chunk: Buffer): TarEvent[] {
    const out: TarEvent[] = [];
    let pos = 0;
    while (pos < chunk.length && this.state !== 'end') {
      const avail = chunk.length - pos;
      switch (this.state) {
        case 'header': {
          const n = Math.min(BLOCK - this.hdrLen, avail);
          chunk.copy(this.hdr, this.hdrLen, pos, pos + n);
          this.hdrLen += n;
          pos += n;
          if (this.hdrLen === BLOCK) {
            this.hdrLen = 0;
            this.header(out);
            this.offset += BLOCK;
          }
          break;
        }
        case 'meta': {
          const m = this.meta!;
          const n = Math.min(m.size - m.got, avail);
          m.parts.push(Buffer.from(chunk.subarray(pos, pos + n)));
          m.got += n;
          pos += n;
          this.offset += n;
          if (m.got === m.size) this.metaDone(m);
          break;
        }
        case 'data': {
          const n = Math.min(this.remaining, avail);
          out.push({ type: 'data', data: chunk.subarray(pos, pos + n) });
          this.remaining -= n;
          pos += n;
          this.offset += n;
          if (this.remaining === 0) this.toPadding(this.dataSize, 'entry-end', out);
          break;
        }
        case 'padding': {
          const n = Math.min(this.remaining, avail);
          this.remaining -= n;
          pos += n;
          this.offset += n;
          if (this.remaining === 0) this.padDone(out);
          break;
        }
      }
    }
    return out;
  }

  /** The input ended: fine at a block boundary between entries (with or without the two zero blocks), an error mid-entry. */
  end(): TarEvent[] {
    if (this.state === 'end') return [];
    if (this.state === 'header' && this.hdrLen === 0 && !this.meta && Object.keys(this.pending.pax).length === 0 && this.pending.longName === undefined) {
      this.state = 'end';
      return [{ type: 'end' }];
    }
    throw new TarFormatError(`truncated archive at byte ${this.offset + this.hdrLen}`);
  }

  private dataSize = 0;

  private toPadding(size: number, then: 'entry-end' | 'none', out: TarEvent[]): void {
    const r = size % BLOCK;
    this.afterPad = then;
    if (r === 0) {
      this.padDone(out);
      return;
    }
    this.remaining = BLOCK - r;
    this.state = 'padding';
  }

  private padDone(out: TarEvent[]): void {
    this.state = 'header';
    if (this.afterPad === 'entry-end') out.push({ type: 'entry-end' });
    else if (this.meta) {
      this.meta = undefined;
    }
    this.afterPad = 'none';
  }

  private header(out: TarEvent[]): void {
    const b = this.hdr;
    if (b.equals(ZERO_BLOCK)) {
      if (++this.zeroBlocks === 2) {
        this.state = 'end';
        out.push({ type: 'end' });
      }
      return;
    }
    if (this.zeroBlocks > 0) throw new TarFormatError(`a lone zero block before byte ${this.offset}`);
    const stored = getNumber(b, F.chksum, 'checksum');
    const sum = checksumOf(b);
    if (stored !== sum.unsigned && stored !== sum.signed) throw new TarFormatError(`header checksum mismatch at byte ${this.offset}: not a tar archive, or a corrupt one`);
    const flag = b.toString('latin1', F.typeflag[0], F.typeflag[0] + 1);
    const size = getNumber(b, F.size, 'size');
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      if (size > MAX_META_SIZE) throw new TarFormatError(`'${flag}' record of ${size} bytes (limit ${MAX_META_SIZE})`);
      this.meta = { flag, parts: [], got: 0, size };
      if (size === 0) this.metaDone(this.meta);
      else this.state = 'meta';
      return;
    }
    const ustar = b.toString('latin1', F.magic[0], F.magic[0] + 5) === 'ustar';
    const prefix = ustar ? getString(b, F.prefix) : '';
    const name = getString(b, F.name);
    const pax = { ...this.global, ...this.pending.pax };
    let path = pax.path ?? this.pending.longName ?? (prefix ? `${prefix}/${name}` : name);
    let type: TarType = FROM_TYPEFLAG[flag] ?? 'other';
    // V7 archives mark directories only by the trailing slash.
    if (type === 'file' && flag !== '7' && path.endsWith('/')) type = 'directory';
    if (type === 'directory' && !path.endsWith('/')) path += '/';
    const h: TarHeader = {
      path,
      type,
      mode: getNumber(b, F.mode, 'mode') & 0o7777,
      uid: pax.uid !== undefined ? toInt(pax.uid, 'uid') : getNumber(b, F.uid, 'uid'),
      gid: pax.gid !== undefined ? toInt(pax.gid, 'gid') : getNumber(b, F.gid, 'gid'),
      size: pax.size !== undefined ? toInt(pax.size, 'size') : size,
      mtime: pax.mtime !== undefined ? parsePaxTime(pax.mtime) : { sec: getNumber(b, F.mtime, 'mtime'), nsec: 0 },
    };
    if (pax.atime !== undefined) h.atime = parsePaxTime(pax.atime);
    const linkname = pax.linkpath ?? this.pending.longLink ?? getString(b, F.linkname);
    if (linkname !== '' || type === 'symlink' || type === 'link') h.linkname = linkname;
    const uname = pax.uname ?? (ustar ? getString(b, F.uname) : '');
    const gname = pax.gname ?? (ustar ? getString(b, F.gname) : '');
    if (uname) h.uname = uname;
    if (gname) h.gname = gname;
    if (type === 'char' || type === 'block') {
      h.devmajor = getNumber(b, F.devmajor, 'devmajor');
      h.devminor = getNumber(b, F.devminor, 'devminor');
    }
    if (type === 'other') h.typeflag = flag;
    const known = new Set(['path', 'linkpath', 'uid', 'gid', 'size', 'mtime', 'atime', 'uname', 'gname']);
    const extra = Object.entries(pax).filter(([k]) => !known.has(k));
    if (extra.length > 0) h.pax = Object.fromEntries(extra);
    this.pending = { pax: {} };
    out.push({ type: 'entry', header: h });
    // Links, directories and devices carry no data whatever their size field says (some writers put the target's size there).
    const dataSize = type === 'file' || type === 'other' ? h.size : 0;
    this.dataSize = dataSize;
    if (dataSize === 0) {
      out.push({ type: 'entry-end' });
      return;
    }
    this.remaining = dataSize;
    this.state = 'data';
  }

  private metaDone(m: Meta): void {
    const data = Buffer.concat(m.parts);
    if (m.flag === 'x') Object.assign(this.pending.pax, parsePax(data));
    else if (m.flag === 'g') Object.assign(this.global, parsePax(data));
    else {
      const nul = data.indexOf(0);
      const s = (nul < 0 ? data : data.subarray(0, nul)).toString('utf8');
      if (m.flag === 'L') this.pending.longName = s;
      else this.pending.longLink = s;
    }
    this.afterPad = 'none';
    const r = m.size % BLOCK;
    if (r === 0) {
      this.meta = undefined;
      this.state = 'header';
    } else {
      this.remaining = BLOCK - r;
      this.state = 'padding';
    }
  }
}

function toInt(s: string, what: string): number {
  if (!/^\d+$/.test(s)) throw new TarFormatError(`bad pax ${what} '${s}'`);
  const v = Number(s);
  if (!Number.isSafeInteger(v)) throw new TarFormatError(`pax ${what} too large`);
  return v;
}

/** Tar events from a byte stream, pulled as the consumer asks for them (so a slow consumer slows the source). */
export async function* tarEvents(source: AsyncIterable<Buffer | Uint8Array | string>): AsyncGenerator<TarEvent> {
  const p = new TarParser();
  for await (const chunk of source) {
    const b = Buffer.isBuffer(chunk) ? chunk : typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (const ev of p.push(b)) yield ev;
    if (p.ended) return;
  }
  for (const ev of p.end()) yield ev;
}
