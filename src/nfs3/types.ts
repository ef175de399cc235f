import { XdrDecodeError } from '../xdr/errors.js';
import type { XdrReader } from '../xdr/reader.js';
import type { XdrWriter } from '../xdr/writer.js';
import { ftype3, NFS3_FHSIZE, NFS3_MAXNAMLEN, NFS3_MAXPATHLEN, time_how } from './constants.js';

/**
 * nfs_fh3: at most NFS3_FHSIZE opaque bytes. Decoders hand out copies (never
 * views of the reply record) because handles are cached far longer than the
 * record that carried them, and a view would pin the whole record.
 */
export type Nfs3Fh = Buffer;

export interface Nfstime3 {
  seconds: number;
  nseconds: number;
}

export interface Specdata3 {
  specdata1: number;
  specdata2: number;
}

/**
 * fattr3. `size`/`used` are numbers (exact to 2^53, beyond any file Node can
 * address); `fsid`/`fileid` are bigints because they are identities, where a
 * rounded value would silently alias two files.
 */
export interface Fattr3 {
  type: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  size: number;
  used: number;
  rdev: Specdata3;
  fsid: bigint;
  fileid: bigint;
  atime: Nfstime3;
  mtime: Nfstime3;
  ctime: Nfstime3;
}

/** wcc_attr: the pre-operation subset a client needs to tell whether its cache is still valid. */
export interface WccAttr {
  size: number;
  mtime: Nfstime3;
  ctime: Nfstime3;
}

export interface WccData {
  before?: WccAttr | undefined;
  after?: Fattr3 | undefined;
}

/**
 * sattr3. An absent field is left unchanged (set_it FALSE / DONT_CHANGE);
 * 'server' for a time asks for SET_TO_SERVER_TIME.
 */
export interface Sattr3 {
  mode?: number | undefined;
  uid?: number | undefined;
  gid?: number | undefined;
  size?: number | bigint | undefined;
  atime?: 'server' | Nfstime3 | undefined;
  mtime?: 'server' | Nfstime3 | undefined;
}

/**
 * Every NFSv3 result: a discriminated union on `ok`. Failures are values, not
 * throws, so the layer above builds its fs error with its own caller's stack
 * and still gets the failure arm's attributes (which keep its cache honest).
 */
export type Nfs3Res<OK, FAIL = {}> = ({ ok: true; status: 0 } & OK) | ({ ok: false; status: number } & FAIL);

/** A name or path refused before it reached the wire; `code` is what fs would report. */
export class Nfs3ArgumentError extends RangeError {
  constructor(
    message: string,
    readonly code: 'ENAMETOOLONG' | 'EINVAL',
  ) {
    super(message);
    this.name = 'Nfs3ArgumentError';
  }
}

// ---- argument validation -------------------------------------------------
// XdrWriter.u32 masks with >>> 0, so -1 or 2^32 would silently become some
// other mode or uid on the wire; these refuse them instead.

export function checkU32(v: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff) throw new RangeError(`NFS3: ${what} must be a uint32, got ${v}`);
}

const U64_LIMIT = 1n << 64n;

export function checkU64(v: number | bigint, what: string): void {
  if (typeof v === 'bigint') {
    if (v < 0n || v >= U64_LIMIT) throw new RangeError(`NFS3: ${what} must be a uint64, got ${v}`);
  } else if (!Number.isSafeInteger(v) || v < 0) {
    throw new RangeError(`NFS3: ${what} must be a non-negative safe integer or a bigint, got ${v}`);
  }
}

export function checkFixed(b: Buffer, n: number, what: string): void {
  if (!Buffer.isBuffer(b) || b.length !== n) throw new RangeError(`NFS3: ${what} must be a Buffer of ${n} bytes`);
}

// ---- encoders ------------------------------------------------------------

export function encodeFh(w: XdrWriter, fh: Nfs3Fh): void {
  if (!Buffer.isBuffer(fh)) throw new TypeError('NFS3: file handle must be a Buffer');
  // An empty handle is never valid; a longer one is not an nfs_fh3 at all.
  if (fh.length === 0 || fh.length > NFS3_FHSIZE) {
    throw new RangeError(`NFS3: file handle length ${fh.length} outside 1..${NFS3_FHSIZE}`);
  }
  w.opaque(fh);
}

/**
 * filename3: one path component. Refused when a POSIX server would refuse it
 * or, worse, interpret it ('/' would name another directory's entry on a
 * server that splits paths).
 */
export function encodeName(w: XdrWriter, name: string): void {
  if (typeof name !== 'string') throw new TypeError('NFS3: name must be a string');
  if (name.length === 0) throw new Nfs3ArgumentError('NFS3: empty name', 'EINVAL');
  if (name.includes('/') || name.includes('\0')) {
    throw new Nfs3ArgumentError(`NFS3: name ${JSON.stringify(name)} contains '/' or NUL`, 'EINVAL');
  }
  if (Buffer.byteLength(name, 'utf8') > NFS3_MAXNAMLEN) {
    throw new Nfs3ArgumentError(`NFS3: name longer than ${NFS3_MAXNAMLEN} bytes`, 'ENAMETOOLONG');
  }
  w.string(name);
}

/** nfspath3 (a symlink's target): any bytes but NUL, at most PATH_MAX. */
export function encodePath(w: XdrWriter, path: string): void {
  if (typeof path !== 'string') throw new TypeError('NFS3: symlink target must be a string');
  if (path.includes('\0')) throw new Nfs3ArgumentError('NFS3: symlink target contains NUL', 'EINVAL');
  if (Buffer.byteLength(path, 'utf8') > NFS3_MAXPATHLEN) {
    throw new Nfs3ArgumentError(`NFS3: symlink target longer than ${NFS3_MAXPATHLEN} bytes`, 'ENAMETOOLONG');
  }
  w.string(path);
}

/** diropargs3 */
export function encodeDirop(w: XdrWriter, dir: Nfs3Fh, name: string): void {
  encodeFh(w, dir);
  encodeName(w, name);
}

export function encodeNfstime3(w: XdrWriter, t: Nfstime3, what = 'nfstime3'): void {
  checkU32(t.seconds, `${what}.seconds`);
  if (!Number.isInteger(t.nseconds) || t.nseconds < 0 || t.nseconds > 999_999_999) {
    throw new RangeError(`NFS3: ${what}.nseconds must be 0..999999999, got ${t.nseconds}`);
  }
  w.u32(t.seconds);
  w.u32(t.nseconds);
}

function encodeSetU32(w: XdrWriter, v: number | undefined, what: string): void {
  if (v === undefined) {
    w.bool(false);
    return;
  }
  checkU32(v, what);
  w.bool(true);
  w.u32(v);
}

function encodeSetTime(w: XdrWriter, t: 'server' | Nfstime3 | undefined, what: string): void {
  if (t === undefined) {
    w.u32(time_how.DONT_CHANGE);
  } else if (t === 'server') {
    w.u32(time_how.SET_TO_SERVER_TIME);
  } else {
    w.u32(time_how.SET_TO_CLIENT_TIME);
    encodeNfstime3(w, t, what);
  }
}

export function encodeSattr3(w: XdrWriter, s: Sattr3): void {
  encodeSetU32(w, s.mode, 'sattr3.mode');
  encodeSetU32(w, s.uid, 'sattr3.uid');
  encodeSetU32(w, s.gid, 'sattr3.gid');
  if (s.size === undefined) {
    w.bool(false);
  } else {
    checkU64(s.size, 'sattr3.size');
    w.bool(true);
    w.u64(s.size);
  }
  encodeSetTime(w, s.atime, 'sattr3.atime');
  encodeSetTime(w, s.mtime, 'sattr3.mtime');
}

export function encodeSpecdata3(w: XdrWriter, d: Specdata3): void {
  checkU32(d.specdata1, 'specdata1');
  checkU32(d.specdata2, 'specdata2');
  w.u32(d.specdata1);
  w.u32(d.specdata2);
}

// ---- decoders ------------------------------------------------------------

const FTYPE3 = new Set<number>(Object.values(ftype3));

export function decodeNfstime3(r: XdrReader, what = 'nfstime3'): Nfstime3 {
  const seconds = r.u32(`${what}.seconds`);
  const nseconds = r.u32(`${what}.nseconds`);
  return { seconds, nseconds };
}

/** fattr3 on the wire: 21 XDR words (RFC 1813 §2.6), all fixed-size. */
export const FATTR3_BYTES = 84;

/**
 * fattr3: its fixed 84 bytes checked once, then read in place (a bounds check
 * and a call per field were half of its cost; every GETATTR, LOOKUP and
 * attribute-carrying reply decodes one).
 */
export function decodeFattr3(r: XdrReader): Fattr3 {
  r.ensure(FATTR3_BYTES, 'fattr3');
  const b = r.buf;
  const p = r.pos;
  const type = b.readInt32BE(p);
  if (!FTYPE3.has(type)) throw new XdrDecodeError(`XDR: invalid fattr3.type value ${type}`, 'fattr3.type');
  const size = b.readUInt32BE(p + 20) * 0x1_0000_0000 + b.readUInt32BE(p + 24);
  const used = b.readUInt32BE(p + 28) * 0x1_0000_0000 + b.readUInt32BE(p + 32);
  r.pos = p + 44;
  const fsid = r.u64('fattr3.fsid');
  const fileid = r.u64('fattr3.fileid');
  r.pos = p + FATTR3_BYTES;
  return {
    type,
    mode: b.readUInt32BE(p + 4),
    nlink: b.readUInt32BE(p + 8),
    uid: b.readUInt32BE(p + 12),
    gid: b.readUInt32BE(p + 16),
    size,
    used,
    rdev: { specdata1: b.readUInt32BE(p + 36), specdata2: b.readUInt32BE(p + 40) },
    fsid,
    fileid,
    atime: { seconds: b.readUInt32BE(p + 60), nseconds: b.readUInt32BE(p + 64) },
    mtime: { seconds: b.readUInt32BE(p + 68), nseconds: b.readUInt32BE(p + 72) },
    ctime: { seconds: b.readUInt32BE(p + 76), nseconds: b.readUInt32BE(p + 80) },
  };
}

/** `follows` names the discriminant in errors ("file_attributes.attributes_follow"): a literal, not built per reply. */
export function decodePostOpAttr(r: XdrReader, follows = 'post_op_attr.attributes_follow'): Fattr3 | undefined {
  return r.bool(follows) ? decodeFattr3(r) : undefined;
}

export function decodePreOpAttr(r: XdrReader): WccAttr | undefined {
  if (!r.bool('pre_op_attr.attributes_follow')) return undefined;
  const size = r.u64n('wcc_attr.size');
  const mtime = { seconds: r.u32('wcc_attr.mtime.seconds'), nseconds: r.u32('wcc_attr.mtime.nseconds') };
  const ctime = { seconds: r.u32('wcc_attr.ctime.seconds'), nseconds: r.u32('wcc_attr.ctime.nseconds') };
  return { size, mtime, ctime };
}

/** wcc_data that was skipped, not decoded (decodeWrite3res with wcc off). */
export const SKIPPED_WCC: WccData = Object.freeze({ before: undefined, after: undefined });

/** Checks wcc_data's discriminants and lengths and steps over it: for callers that would throw its nine objects away. */
export function skipWccData(r: XdrReader): WccData {
  if (r.bool('pre_op_attr.attributes_follow')) r.skip(24, 'wcc_attr'); // size3 + two nfstime3
  skipPostOpAttr(r, 'wcc_data.after.attributes_follow');
  return SKIPPED_WCC;
}

/**
 * Steps over a post_op_attr, its discriminant and length checked: decoding a
 * fattr3 nobody reads was a fifth of the RPC core's CPU per 4 KiB READ.
 */
export function skipPostOpAttr(r: XdrReader, follows: string): undefined {
  if (r.bool(follows)) r.skip(FATTR3_BYTES, 'fattr3');
  return undefined;
}

export function decodeWccData(r: XdrReader): WccData {
  const before = decodePreOpAttr(r);
  const after = decodePostOpAttr(r, 'wcc_data.after.attributes_follow');
  return { before, after };
}

/**
 * nfs_fh3, copied out of the record (see Nfs3Fh). An empty handle is refused
 * here, as Linux's decode_nfs_fh3 does: no call could carry it (encodeFh
 * refuses it), so accepting it would only move the failure to the next call.
 */
export function decodeFh(r: XdrReader, what = 'nfs_fh3'): Nfs3Fh {
  const fh = r.opaque(NFS3_FHSIZE, what);
  if (fh.length === 0) throw new XdrDecodeError(`XDR: empty ${what}`, what);
  return Buffer.from(fh);
}

export function decodePostOpFh(r: XdrReader, what = 'post_op_fh3'): Nfs3Fh | undefined {
  return r.bool(`${what}.handle_follows`) ? decodeFh(r, what) : undefined;
}
