/**
 * A streaming tar codec: POSIX ustar headers, pax extended headers ('x')
 * for what ustar cannot hold (paths and link targets that do not fit,
 * sub-second times, ids and sizes past the octal fields), and, on read,
 * GNU long names ('L', 'K') and base-256 numbers as GNU tar writes them.
 * Sparse files are written in GNU's sparse format 1.0 inside pax (what GNU
 * tar writes by default and every GNU tar since 1.21 extracts), and read in
 * 1.0 and 0.1; the older 0.0 is refused rather than extracted wrong.
 *
 * Writing is a pure function per header (encodeHeader) plus padding; the
 * data in between is the caller's, streamed. Reading is TarParser, an
 * incremental state machine fed chunks of any size (a header may be split
 * anywhere) that hands file data back as views of the input, never copies.
 *
 *   block := header(512) [data, padded to 512]
 *   archive := (pax-header? gnu-long-name? header data)* zero-block zero-block
 *   sparse 1.0 data := map (decimal lines: count, then offset and length
 *                      per region; zero-padded to 512) region-bytes*
 */

export const BLOCK = 512;
/** pax and GNU long-name records larger than this are refused, not buffered. */
export const MAX_META_SIZE = 1024 * 1024;
const ZERO_BLOCK = Buffer.alloc(BLOCK);
/** The end of a tar archive: two zero blocks, written after the last entry. */
export const TAR_END: Buffer = Buffer.alloc(2 * BLOCK);

/** Entry types as this codec names them (`other` for typeflags it does not interpret). */
export type TarType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'directory' | 'fifo' | 'other';

const TYPEFLAG: Record<Exclude<TarType, 'other'>, string> = { file: '0', link: '1', symlink: '2', char: '3', block: '4', directory: '5', fifo: '6' };
const FROM_TYPEFLAG: Record<string, TarType> = { '0': 'file', '\0': 'file', '7': 'file', '1': 'link', '2': 'symlink', '3': 'char', '4': 'block', '5': 'directory', '6': 'fifo' };

/** A run of bytes of a sparse file that is stored; everything between runs is a hole (zeros). */
export interface SparseRegion {
  offset: number;
  length: number;
}

export interface TarTime {
  sec: number;
  nsec: number;
}

/** One tar entry's metadata, as encodeHeader() writes it and TarParser reports it (ustar, with pax records for what ustar cannot hold). */
export interface TarHeader {
  /** Relative path; directories end in '/'. */
  path: string;
  /** What the entry is. */
  type: TarType;
  /** Permission bits with setuid/setgid/sticky (07777). */
  mode: number;
  /** Owner's numeric id. */
  uid: number;
  /** Group's numeric id. */
  gid: number;
  /** Bytes of data that follow: 0 except for files. */
  size: number;
  /** Modification time (nanoseconds through pax). */
  mtime: TarTime;
  /** Access time, when the archive records it (pax). */
  atime?: TarTime | undefined;
  /** Symlink target, or the path a hard link ('link') points at. */
  linkname?: string | undefined;
  /** Owner's name, informational (ids are what restore applies). */
  uname?: string | undefined;
  /** Group's name, informational. */
  gname?: string | undefined;
  /** Major device number of a device entry. */
  devmajor?: number | undefined;
  /** Minor device number of a device entry. */
  devminor?: number | undefined;
  /** The raw typeflag, for 'other' entries (sockets do not exist in tar; vendors' extensions do). */
  typeflag?: string | undefined;
  /** pax records this codec does not interpret: kept on read, written as given. */
  pax?: Record<string, string> | undefined;
  /**
   * A sparse file: its data regions in ascending order, not overlapping.
   * `size` is still the file's real size; only the regions' bytes follow
   * the header (sparseDataSize), in order, and on read each data event
   * says at which file offset its bytes belong.
   */
  sparse?: SparseRegion[] | undefined;
}

/** The pax keys of GNU's sparse formats. */
const SPARSE_KEYS = new Set(['GNU.sparse.major', 'GNU.sparse.minor', 'GNU.sparse.name', 'GNU.sparse.realsize', 'GNU.sparse.size', 'GNU.sparse.map', 'GNU.sparse.numblocks', 'GNU.sparse.offset', 'GNU.sparse.numbytes']);
const PAX_KNOWN = new Set(['path', 'linkpath', 'uid', 'gid', 'size', 'mtime', 'atime', 'uname', 'gname', ...SPARSE_KEYS]);

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

/** An archive that is not a tar this codec reads: bad checksum, truncated entry, oversized pax record. */
export class TarFormatError extends Error {
  /** Always `ERR_TAR_FORMAT`. */
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

/** Bytes of file data an entry stores: `size`, or for a sparse file the sum of its regions' lengths. */
export function sparseDataSize(h: TarHeader): number {
  return h.sparse ? h.sparse.reduce((n, r) => n + r.length, 0) : h.size;
}

/**
 * GNU tar stores each region from a block boundary of the archive and
 * reads it so, which lines up with the bytes following each other only
 * when every region but the last is a whole number of blocks long: such
 * maps are required here, both ways (GNU tar never writes others).
 */
function checkRegions(regions: readonly SparseRegion[], size: number, what: string): void {
  let end = 0;
  regions.forEach((r, i) => {
    if (!Number.isSafeInteger(r.offset) || !Number.isSafeInteger(r.length) || r.offset < end || r.length < 0 || r.offset + r.length > size) {
      throw new RangeError(`${what}: sparse region ${r.offset}+${r.length} out of order, overlapping or past the size ${size}`);
    }
    if (i < regions.length - 1 && r.length % BLOCK !== 0) throw new RangeError(`${what}: sparse region ${r.offset}+${r.length} is not a whole number of blocks (only the last may end anywhere)`);
    end = r.offset + r.length;
  });
}

/**
 * Regions as encodeHeader takes them: each widened to 512-byte boundaries
 * of the file (the bytes added are zeros or data, both fine to store),
 * capped at `size`, touching ones merged, empty ones dropped.
 */
export function alignRegions(regions: readonly SparseRegion[], size: number): SparseRegion[] {
  const out: SparseRegion[] = [];
  for (const r of regions) {
    if (r.length <= 0) continue;
    const start = r.offset - (r.offset % BLOCK);
    const end = Math.min(size, Math.ceil((r.offset + r.length) / BLOCK) * BLOCK);
    const last = out[out.length - 1];
    if (last && start <= last.offset + last.length) last.length = Math.max(last.length, end - last.offset);
    else out.push({ offset: start, length: end - start });
  }
  return out;
}

/** The sparse 1.0 map: the regions as decimal lines, padded with zeros to a block. A trailing hole gets a (size, 0) region, as GNU tar writes it, for readers that ignore realsize. */
function sparseMap(regions: readonly SparseRegion[], size: number): Buffer {
  const all = [...regions];
  const last = all[all.length - 1];
  if (!last || last.offset + last.length < size) all.push({ offset: size, length: 0 });
  const text = Buffer.from([String(all.length), ...all.flatMap((r) => [String(r.offset), String(r.length)])].join('\n') + '\n');
  return Buffer.concat([text, padding(text.length)]);
}

/**
 * The header blocks of one entry: a pax header and its records first when
 * ustar cannot hold the entry exactly, then the ustar header. The entry's
 * data (sparseDataSize(h) bytes: `size`, or a sparse file's regions in
 * order), then padding of that length, must follow.
 *
 * A sparse file is a pax entry in GNU's format 1.0: the real name and size
 * in GNU.sparse.* records, a placeholder name in the ustar header (where a
 * reader without sparse support extracts the stored bytes), and the map as
 * the first blocks of its data, returned here with the header.
 */
export function encodeHeader(h: TarHeader): Buffer {
  if (!Number.isSafeInteger(h.size) || h.size < 0) throw new RangeError(`bad size ${h.size} for ${h.path}`);
  if (h.sparse) {
    if (h.type !== 'file') throw new RangeError(`${h.type} entry ${h.path} cannot be sparse`);
    checkRegions(h.sparse, h.size, h.path);
    const map = sparseMap(h.sparse, h.size);
    const base = h.path.split('/').pop() || 'file';
    const stand = `./GNUSparseFile.0/${base}`;
    const pax = { 'GNU.sparse.major': '1', 'GNU.sparse.minor': '0', 'GNU.sparse.name': h.path, 'GNU.sparse.realsize': String(h.size), ...h.pax };
    const inner = encodeHeader({ ...h, path: Buffer.byteLength(stand) <= 100 ? stand : './GNUSparseFile.0/sparse', size: map.length + sparseDataSize(h), sparse: undefined, pax });
    return Buffer.concat([inner, map]);
  }
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

/**
 * What {@link TarParser.push} reports, in archive order: an entry's header, its data in pieces,
 * its end; `end` after the two zero blocks.
 */
export type TarEvent =
  | { type: 'entry'; header: TarHeader }
  /** File data: a view of the chunk given to push(), valid as long as that chunk is; `offset` is where in the file it belongs. */
  | { type: 'data'; data: Buffer; offset: number }
  | { type: 'entry-end' }
  | { type: 'end' };

type Meta = { flag: 'x' | 'g' | 'L' | 'K'; parts: Buffer[]; got: number; size: number };

/**
 * The reading state machine. States:
 *   header   collecting a 512-byte header (hdrLen bytes so far)
 *   meta     collecting a pax or GNU long-name record (buffered, ≤ MAX_META_SIZE)
 *   map      collecting a sparse 1.0 map (whole blocks, ≤ MAX_META_SIZE); the
 *            entry event waits for it, since the map says what the entry is
 *   data     passing `remaining` bytes of an entry's data through; `regions`
 *            (sparse) and `fileOffset` say where in the file they belong
 *   padding  skipping `remaining` bytes to the next block
 *   end      two zero blocks seen: everything after is ignored
 * `pending` holds what 'x', 'L' and 'K' records say about the next header;
 * `global` what 'g' records say about all that follow.
 */
export class TarParser {
  private state: 'header' | 'meta' | 'map' | 'data' | 'padding' | 'end' = 'header';
  /** Sparse entry: the regions still to come (the current one first) and the file offset of the next data byte. */
  private regions: SparseRegion[] = [];
  private fileOffset = 0;
  /** A sparse 1.0 entry whose map is being read: its header so far, the map bytes, and the stored size. */
  private mapping: { h: TarHeader; parts: Buffer[]; got: number; stored: number } | undefined;
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

  /** Whether the archive's end (two zero blocks) has been seen; anything after is ignored. */
  get ended(): boolean {
    return this.state === 'end';
  }

  /**
   * Feeds the next bytes of the archive (any chunk size, split anywhere) and returns the events they complete.
   *
   * @throws {@link TarFormatError} when the bytes are not a valid archive.
   */
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
        case 'map': {
          const m = this.mapping!;
          const n = Math.min(BLOCK - (m.got % BLOCK), avail);
          m.parts.push(Buffer.from(chunk.subarray(pos, pos + n)));
          m.got += n;
          pos += n;
          this.offset += n;
          if (m.got % BLOCK === 0) this.mapBlock(out);
          break;
        }
        case 'data': {
          let n = Math.min(this.remaining, avail);
          const r = this.regions[0];
          if (r) {
            // Within the current region only; the next one starts at another file offset.
            if (this.fileOffset === r.offset + r.length) {
              this.regions.shift();
              this.fileOffset = this.regions[0]!.offset;
              break;
            }
            n = Math.min(n, r.offset + r.length - this.fileOffset);
          }
          out.push({ type: 'data', data: chunk.subarray(pos, pos + n), offset: this.fileOffset });
          this.remaining -= n;
          this.fileOffset += n;
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
    const extra = Object.entries(pax).filter(([k]) => !PAX_KNOWN.has(k));
    if (extra.length > 0) h.pax = Object.fromEntries(extra);
    this.pending = { pax: {} };
    this.regions = [];
    this.fileOffset = 0;
    // Links, directories and devices carry no data whatever their size field says (some writers put the target's size there).
    const dataSize = type === 'file' || type === 'other' ? h.size : 0;
    this.dataSize = dataSize;
    if (type === 'file' && (pax['GNU.sparse.major'] !== undefined || pax['GNU.sparse.map'] !== undefined || pax['GNU.sparse.offset'] !== undefined)) {
      if (this.sparseHeader(h, pax, dataSize, out)) return;
    }
    out.push({ type: 'entry', header: h });
    this.startData(dataSize, out);
  }

  private startData(dataSize: number, out: TarEvent[]): void {
    if (dataSize === 0) {
      out.push({ type: 'entry-end' });
      return;
    }
    this.remaining = dataSize;
    this.state = 'data';
  }

  /**
   * A GNU sparse entry: 1.0 waits in state 'map' for the map at the start of
   * its data (returns true); 0.1 has the map in pax and is set up here.
   */
  private sparseHeader(h: TarHeader, pax: Record<string, string>, stored: number, out: TarEvent[]): boolean {
    const name = pax['GNU.sparse.name'];
    if (name !== undefined) h.path = name;
    if (pax['GNU.sparse.major'] === '1' && pax['GNU.sparse.minor'] === '0') {
      h.size = toInt(pax['GNU.sparse.realsize'] ?? '', 'GNU.sparse.realsize');
      if (stored === 0) throw new TarFormatError(`sparse entry '${h.path}' has no map`);
      this.mapping = { h, parts: [], got: 0, stored };
      this.state = 'map';
      return true;
    }
    if (pax['GNU.sparse.map'] !== undefined && pax['GNU.sparse.major'] === undefined) {
      h.size = toInt(pax['GNU.sparse.size'] ?? pax['GNU.sparse.realsize'] ?? '', 'GNU.sparse.size');
      const nums = pax['GNU.sparse.map'] === '' ? [] : pax['GNU.sparse.map'].split(',').map((x) => toInt(x, 'GNU.sparse.map'));
      this.sparseReady(h, nums, stored, out);
      this.startData(stored, out);
      return true;
    }
    throw new TarFormatError(`sparse entry '${h.path}' in a GNU sparse format this reader does not know (0.0, or ${pax['GNU.sparse.major'] ?? '?'}.${pax['GNU.sparse.minor'] ?? '?'})`);
  }

  /** Checks a map (offset, length pairs) against the entry and emits the entry with it. */
  private sparseReady(h: TarHeader, nums: number[], stored: number, out: TarEvent[]): void {
    if (nums.length % 2 !== 0) throw new TarFormatError(`sparse map of '${h.path}' has an odd number of values`);
    const regions: SparseRegion[] = [];
    for (let i = 0; i < nums.length; i += 2) if (nums[i + 1]! > 0) regions.push({ offset: nums[i]!, length: nums[i + 1]! });
    try {
      checkRegions(regions, h.size, h.path);
    } catch (err) {
      throw new TarFormatError((err as Error).message);
    }
    const sum = regions.reduce((n, r) => n + r.length, 0);
    if (sum !== stored) throw new TarFormatError(`sparse entry '${h.path}' stores ${stored} bytes but its map says ${sum}`);
    h.sparse = regions;
    this.regions = regions.slice();
    this.fileOffset = regions[0]?.offset ?? 0;
    this.dataSize = stored;
    out.push({ type: 'entry', header: h });
  }

  /** One more block of a sparse 1.0 map: parse when its lines are complete. */
  private mapBlock(out: TarEvent[]): void {
    const m = this.mapping!;
    const text = Buffer.concat(m.parts).toString('latin1');
    const lines = text.split('\n');
    lines.pop(); // incomplete (or the zero padding)
    const count = lines.length > 0 ? Number(lines[0]) : NaN;
    if (lines.length > 0 && (!/^\d+$/.test(lines[0]!) || !Number.isSafeInteger(count))) throw new TarFormatError(`bad sparse map of '${m.h.path}'`);
    if (m.got > m.stored) throw new TarFormatError(`sparse map of '${m.h.path}' runs past the entry`);
    if (lines.length < 1 + 2 * count) {
      if (m.got >= MAX_META_SIZE || m.got >= m.stored) throw new TarFormatError(`sparse map of '${m.h.path}' too large or cut short`);
      return;
    }
    const nums = lines.slice(1, 1 + 2 * count).map((x) => {
      if (!/^\d+$/.test(x)) throw new TarFormatError(`bad sparse map of '${m.h.path}'`);
      return toInt(x, 'sparse map value');
    });
    this.mapping = undefined;
    const stored = m.stored - m.got;
    this.sparseReady(m.h, nums, stored, out);
    this.startData(stored, out);
    if (stored === 0) this.state = 'header';
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
