import type { Attrs, FileKind, SetAttrs, Time } from '../fs/backend.js';
import { XdrDecodeError } from '../xdr/errors.js';
import { XdrReader } from '../xdr/reader.js';
import { XdrWriter } from '../xdr/writer.js';
import {
  FATTR4_ACLSUPPORT,
  FATTR4_ARCHIVE,
  FATTR4_CANSETTIME,
  FATTR4_CASE_INSENSITIVE,
  FATTR4_CASE_PRESERVING,
  FATTR4_CHANGE,
  FATTR4_CHOWN_RESTRICTED,
  FATTR4_CLONE_BLKSIZE,
  FATTR4_FH_EXPIRE_TYPE,
  FATTR4_FILEHANDLE,
  FATTR4_FILEID,
  FATTR4_FILES_AVAIL,
  FATTR4_FILES_FREE,
  FATTR4_FILES_TOTAL,
  FATTR4_FSID,
  FATTR4_HIDDEN,
  FATTR4_HOMOGENEOUS,
  FATTR4_LEASE_TIME,
  FATTR4_LINK_SUPPORT,
  FATTR4_MAXFILESIZE,
  FATTR4_MAXLINK,
  FATTR4_MAXNAME,
  FATTR4_MAXREAD,
  FATTR4_MAXWRITE,
  FATTR4_MODE,
  FATTR4_MOUNTED_ON_FILEID,
  FATTR4_NAMED_ATTR,
  FATTR4_NO_TRUNC,
  FATTR4_NUMLINKS,
  FATTR4_OWNER,
  FATTR4_OWNER_GROUP,
  FATTR4_QUOTA_AVAIL_HARD,
  FATTR4_QUOTA_AVAIL_SOFT,
  FATTR4_QUOTA_USED,
  FATTR4_RAWDEV,
  FATTR4_RDATTR_ERROR,
  FATTR4_SIZE,
  FATTR4_SPACE_AVAIL,
  FATTR4_SPACE_FREE,
  FATTR4_SPACE_TOTAL,
  FATTR4_SPACE_USED,
  FATTR4_SUPPATTR_EXCLCREAT,
  FATTR4_SUPPORTED_ATTRS,
  FATTR4_SYMLINK_SUPPORT,
  FATTR4_SYSTEM,
  FATTR4_TIME_ACCESS,
  FATTR4_TIME_ACCESS_SET,
  FATTR4_TIME_BACKUP,
  FATTR4_TIME_CREATE,
  FATTR4_TIME_DELTA,
  FATTR4_TIME_METADATA,
  FATTR4_TIME_MODIFY,
  FATTR4_TIME_MODIFY_SET,
  FATTR4_TYPE,
  FATTR4_UNIQUE_HANDLES,
  NF4ATTRDIR,
  NF4BLK,
  NF4CHR,
  NF4DIR,
  NF4FIFO,
  NF4LNK,
  NF4NAMEDATTR,
  NF4REG,
  NF4SOCK,
  NFS4_FHSIZE,
  NFS4_OPAQUE_LIMIT,
  SET_TO_CLIENT_TIME4,
  SET_TO_SERVER_TIME4,
} from './constants.js';

// ---- bitmap4 ---------------------------------------------------------------

/**
 * bitmap4 words we accept in a reply. 8 words cover attribute numbers up to
 * 255; the highest defined today is 82. A longer bitmap is refused before
 * anything is allocated for it.
 */
export const MAX_BITMAP_WORDS = 8;

/** A bitmap4 as its words: bit n of the attribute set is bit (n % 32) of word n >> 5. */
export type Bitmap4 = readonly number[];

export function bitmap4(...attrs: number[]): number[] {
  const words: number[] = [];
  for (const a of attrs) {
    if (!Number.isInteger(a) || a < 0 || a >= MAX_BITMAP_WORDS * 32) throw new RangeError(`bitmap4: attribute ${a} out of range`);
    const i = a >>> 5;
    while (words.length <= i) words.push(0);
    words[i] = (words[i]! | (1 << (a & 31))) >>> 0;
  }
  return words;
}

export function hasAttr(words: Bitmap4, a: number): boolean {
  const w = words[a >>> 5];
  return w !== undefined && (w & (1 << (a & 31))) !== 0;
}

/** The attribute numbers set in a bitmap, ascending. */
export function attrList(words: Bitmap4): number[] {
  const out: number[] = [];
  for (let i = 0; i < words.length; i++) {
    let bits = words[i]!;
    while (bits !== 0) {
      const low = bits & -bits;
      out.push(i * 32 + 31 - Math.clz32(low));
      bits = (bits ^ low) >>> 0;
    }
  }
  return out;
}

export function encodeBitmap4(w: XdrWriter, words: Bitmap4): void {
  w.u32(words.length);
  for (const x of words) w.u32(x);
}

/** A bitmap4 encoded once, for requests sent on every call. */
export function bitmap4Bytes(words: Bitmap4): Buffer {
  const w = new XdrWriter(4 + 4 * words.length);
  encodeBitmap4(w, words);
  return w.toBuffer();
}

export function decodeBitmap4(r: XdrReader, what = 'bitmap4'): number[] {
  const n = r.count(MAX_BITMAP_WORDS, 4, what);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = r.u32(what);
  return out;
}

// ---- fattr4 decoding -------------------------------------------------------

export interface Fsid4 {
  major: bigint;
  minor: bigint;
}

export interface Specdata4 {
  specdata1: number;
  specdata2: number;
}

/**
 * The attributes a server returned, by name. Only the attributes set in
 * `mask` are present. 64-bit sizes and counts are JS numbers (exact to 2^53,
 * as XdrReader.u64n); identifiers (fileid, change, fsid) stay bigint.
 */
export interface Fattr4 {
  mask: number[];
  supportedAttrs?: number[];
  type?: number;
  fhExpireType?: number;
  change?: bigint;
  size?: number;
  linkSupport?: boolean;
  symlinkSupport?: boolean;
  namedAttr?: boolean;
  fsid?: Fsid4;
  uniqueHandles?: boolean;
  leaseTime?: number;
  rdattrError?: number;
  aclSupport?: number;
  archive?: boolean;
  cansettime?: boolean;
  caseInsensitive?: boolean;
  casePreserving?: boolean;
  chownRestricted?: boolean;
  /** A copy, not a view: handles outlive the reply. */
  filehandle?: Buffer;
  fileid?: bigint;
  filesAvail?: number;
  filesFree?: number;
  filesTotal?: number;
  hidden?: boolean;
  homogeneous?: boolean;
  maxfilesize?: number;
  maxlink?: number;
  maxname?: number;
  maxread?: number;
  maxwrite?: number;
  mode?: number;
  noTrunc?: boolean;
  numlinks?: number;
  owner?: string;
  ownerGroup?: string;
  quotaAvailHard?: number;
  quotaAvailSoft?: number;
  quotaUsed?: number;
  rawdev?: Specdata4;
  spaceAvail?: number;
  spaceFree?: number;
  spaceTotal?: number;
  spaceUsed?: number;
  system?: boolean;
  timeAccess?: Time;
  timeBackup?: Time;
  timeCreate?: Time;
  timeDelta?: Time;
  timeMetadata?: Time;
  timeModify?: Time;
  mountedOnFileid?: bigint;
  suppattrExclcreat?: number[];
  cloneBlksize?: number;
}

/**
 * The last fsid4 decoded, reused while replies carry the same one (nearly
 * all of them do): no BigInt is made per GETATTR. The object is frozen, as
 * it is shared between replies.
 */
let lastFsidWords = [-1, -1, -1, -1];
let lastFsid: Fsid4 | undefined;

function decodeFsid4(r: XdrReader): Fsid4 {
  const a = r.u32('fsid.major');
  const b = r.u32('fsid.major');
  const c = r.u32('fsid.minor');
  const d = r.u32('fsid.minor');
  const w = lastFsidWords;
  if (lastFsid && w[0] === a && w[1] === b && w[2] === c && w[3] === d) return lastFsid;
  lastFsidWords = [a, b, c, d];
  lastFsid = Object.freeze({ major: (BigInt(a) << 32n) | BigInt(b), minor: (BigInt(c) << 32n) | BigInt(d) });
  return lastFsid;
}

/**
 * A uint64 identifier (fileid) as a bigint, made from its two halves: one
 * BigInt when the high half is 0, as it is for the inode numbers servers
 * send, where Buffer.readBigUInt64BE always makes four.
 */
function decodeId64(r: XdrReader, what: string): bigint {
  const hi = r.u32(what);
  const lo = r.u32(what);
  return hi === 0 ? BigInt(lo) : (BigInt(hi) << 32n) | BigInt(lo);
}

/**
 * owner and owner_group strings decoded lately, with their bytes: every
 * GETATTR carries the same few names, so a name whose bytes match one of
 * these is not decoded (nor a view of it made) again. Round robin over
 * NAME_SLOTS entries; names longer than NAME_CACHE_BYTES are not kept.
 */
const NAME_SLOTS = 4;
const NAME_CACHE_BYTES = 64;
const recentNames: { bytes: Buffer; text: string }[] = [];
let nextNameSlot = 0;

function decodeName(v: XdrReader, what: string): string {
  const n = v.u32(what);
  if (n > NFS4_OPAQUE_LIMIT) throw new XdrDecodeError(`XDR: ${what} length ${n} exceeds maximum ${NFS4_OPAQUE_LIMIT}`, what);
  const at = v.pos;
  v.skip(n, what);
  const buf = v.buf;
  for (let k = 0; k < recentNames.length; k++) {
    const e = recentNames[k]!;
    if (e.bytes.length !== n) continue;
    let i = 0;
    while (i < n && e.bytes[i] === buf[at + i]) i++;
    if (i === n) return e.text;
  }
  const text = buf.toString('utf8', at, at + n);
  if (n <= NAME_CACHE_BYTES) {
    recentNames[nextNameSlot] = { bytes: Buffer.from(buf.subarray(at, at + n)), text };
    nextNameSlot = (nextNameSlot + 1) % NAME_SLOTS;
  }
  return text;
}

/** nfstime4: int64 seconds + uint32 nseconds, read without a BigInt. */
function decodeNfstime4(r: XdrReader, what: string): Time {
  const hi = r.i32(what);
  const lo = r.u32(what);
  const nsec = r.u32(what);
  return { sec: hi * 0x1_0000_0000 + lo, nsec };
}

/**
 * Reads one fattr4 (bitmap4 attrmask + opaque attr_vals). The values are
 * decoded inside a reader bounded to attr_vals, in ascending attribute
 * order as XDR lays them out, and must fill it exactly. An attribute this
 * module cannot decode (ACLs, fs_locations, ...) ends the decode with an
 * error: values have no length of their own, so nothing after it could be
 * found. Callers only request attributes listed here.
 */
export function decodeFattr4(r: XdrReader, what = 'fattr4'): Fattr4 {
  const mask = decodeBitmap4(r, `${what}.attrmask`);
  const len = r.u32(`${what}.attr_vals length`);
  if (len > r.remaining) {
    throw new XdrDecodeError(`XDR: ${what}.attr_vals length ${len} exceeds the ${r.remaining} bytes left`, `${what}.attr_vals`);
  }
  const v = new XdrReader(r.buf, r.pos, r.pos + len);
  r.skip(len, `${what}.attr_vals`);
  const f: Fattr4 = { mask };
  for (let i = 0; i < mask.length; i++) {
    let bits = mask[i]!;
    while (bits !== 0) {
      const low = bits & -bits;
      bits = (bits ^ low) >>> 0;
      decodeOne(v, i * 32 + 31 - Math.clz32(low), f);
    }
  }
  v.done(`${what}.attr_vals`);
  return f;
}

function decodeOne(v: XdrReader, a: number, f: Fattr4): void {
  switch (a) {
    case FATTR4_SUPPORTED_ATTRS:
      f.supportedAttrs = decodeBitmap4(v, 'supported_attrs');
      return;
    case FATTR4_TYPE:
      f.type = v.u32('type');
      return;
    case FATTR4_FH_EXPIRE_TYPE:
      f.fhExpireType = v.u32('fh_expire_type');
      return;
    case FATTR4_CHANGE:
      f.change = v.u64('change');
      return;
    case FATTR4_SIZE:
      f.size = v.u64n('size');
      return;
    case FATTR4_LINK_SUPPORT:
      f.linkSupport = v.bool('link_support');
      return;
    case FATTR4_SYMLINK_SUPPORT:
      f.symlinkSupport = v.bool('symlink_support');
      return;
    case FATTR4_NAMED_ATTR:
      f.namedAttr = v.bool('named_attr');
      return;
    case FATTR4_FSID:
      f.fsid = decodeFsid4(v);
      return;
    case FATTR4_UNIQUE_HANDLES:
      f.uniqueHandles = v.bool('unique_handles');
      return;
    case FATTR4_LEASE_TIME:
      f.leaseTime = v.u32('lease_time');
      return;
    case FATTR4_RDATTR_ERROR:
      f.rdattrError = v.u32('rdattr_error');
      return;
    case FATTR4_ACLSUPPORT:
      f.aclSupport = v.u32('aclsupport');
      return;
    case FATTR4_ARCHIVE:
      f.archive = v.bool('archive');
      return;
    case FATTR4_CANSETTIME:
      f.cansettime = v.bool('cansettime');
      return;
    case FATTR4_CASE_INSENSITIVE:
      f.caseInsensitive = v.bool('case_insensitive');
      return;
    case FATTR4_CASE_PRESERVING:
      f.casePreserving = v.bool('case_preserving');
      return;
    case FATTR4_CHOWN_RESTRICTED:
      f.chownRestricted = v.bool('chown_restricted');
      return;
    case FATTR4_FILEHANDLE:
      f.filehandle = Buffer.from(v.opaque(NFS4_FHSIZE, 'filehandle'));
      return;
    case FATTR4_FILEID:
      f.fileid = decodeId64(v, 'fileid');
      return;
    case FATTR4_FILES_AVAIL:
      f.filesAvail = v.u64n('files_avail');
      return;
    case FATTR4_FILES_FREE:
      f.filesFree = v.u64n('files_free');
      return;
    case FATTR4_FILES_TOTAL:
      f.filesTotal = v.u64n('files_total');
      return;
    case FATTR4_HIDDEN:
      f.hidden = v.bool('hidden');
      return;
    case FATTR4_HOMOGENEOUS:
      f.homogeneous = v.bool('homogeneous');
      return;
    case FATTR4_MAXFILESIZE:
      f.maxfilesize = v.u64n('maxfilesize');
      return;
    case FATTR4_MAXLINK:
      f.maxlink = v.u32('maxlink');
      return;
    case FATTR4_MAXNAME:
      f.maxname = v.u32('maxname');
      return;
    case FATTR4_MAXREAD:
      f.maxread = v.u64n('maxread');
      return;
    case FATTR4_MAXWRITE:
      f.maxwrite = v.u64n('maxwrite');
      return;
    case FATTR4_MODE:
      f.mode = v.u32('mode');
      return;
    case FATTR4_NO_TRUNC:
      f.noTrunc = v.bool('no_trunc');
      return;
    case FATTR4_NUMLINKS:
      f.numlinks = v.u32('numlinks');
      return;
    case FATTR4_OWNER:
      f.owner = decodeName(v, 'owner');
      return;
    case FATTR4_OWNER_GROUP:
      f.ownerGroup = decodeName(v, 'owner_group');
      return;
    case FATTR4_QUOTA_AVAIL_HARD:
      f.quotaAvailHard = v.u64n('quota_avail_hard');
      return;
    case FATTR4_QUOTA_AVAIL_SOFT:
      f.quotaAvailSoft = v.u64n('quota_avail_soft');
      return;
    case FATTR4_QUOTA_USED:
      f.quotaUsed = v.u64n('quota_used');
      return;
    case FATTR4_RAWDEV:
      f.rawdev = { specdata1: v.u32('rawdev.specdata1'), specdata2: v.u32('rawdev.specdata2') };
      return;
    case FATTR4_SPACE_AVAIL:
      f.spaceAvail = v.u64n('space_avail');
      return;
    case FATTR4_SPACE_FREE:
      f.spaceFree = v.u64n('space_free');
      return;
    case FATTR4_SPACE_TOTAL:
      f.spaceTotal = v.u64n('space_total');
      return;
    case FATTR4_SPACE_USED:
      f.spaceUsed = v.u64n('space_used');
      return;
    case FATTR4_SYSTEM:
      f.system = v.bool('system');
      return;
    case FATTR4_TIME_ACCESS:
      f.timeAccess = decodeNfstime4(v, 'time_access');
      return;
    case FATTR4_TIME_BACKUP:
      f.timeBackup = decodeNfstime4(v, 'time_backup');
      return;
    case FATTR4_TIME_CREATE:
      f.timeCreate = decodeNfstime4(v, 'time_create');
      return;
    case FATTR4_TIME_DELTA:
      f.timeDelta = decodeNfstime4(v, 'time_delta');
      return;
    case FATTR4_TIME_METADATA:
      f.timeMetadata = decodeNfstime4(v, 'time_metadata');
      return;
    case FATTR4_TIME_MODIFY:
      f.timeModify = decodeNfstime4(v, 'time_modify');
      return;
    case FATTR4_MOUNTED_ON_FILEID:
      f.mountedOnFileid = decodeId64(v, 'mounted_on_fileid');
      return;
    case FATTR4_SUPPATTR_EXCLCREAT:
      f.suppattrExclcreat = decodeBitmap4(v, 'suppattr_exclcreat');
      return;
    case FATTR4_CLONE_BLKSIZE:
      f.cloneBlksize = v.u32('clone_blksize');
      return;
    default:
      throw new XdrDecodeError(`XDR: fattr4 carries attribute ${a}, which this client did not request and cannot decode`, 'fattr4');
  }
}

// ---- fattr4 → Attrs --------------------------------------------------------

const KINDS: Record<number, FileKind> = {
  [NF4REG]: 'file',
  [NF4DIR]: 'directory',
  [NF4BLK]: 'block',
  [NF4CHR]: 'char',
  [NF4LNK]: 'symlink',
  [NF4SOCK]: 'socket',
  [NF4FIFO]: 'fifo',
  [NF4ATTRDIR]: 'directory',
  [NF4NAMEDATTR]: 'file',
};

export const NOBODY_ID = 65534;

/**
 * Maps an owner or owner_group string to a numeric id.
 *
 * NFSv4 names owners as strings (RFC 7530 §5.9): either numeric ("1000",
 * which Ganesha and Linux send when they cannot or may not map an id) or
 * `user@domain`. The client cannot consult the server's user database, so:
 *
 * 1. All digits ("1000"), or all digits before the '@' ("1000@domain"):
 *    that number.
 * 2. `root` (with or without a domain) → 0 and `nobody` → 65534: the two
 *    names every POSIX system assigns the same way.
 * 3. Otherwise leading digits of the name ("1000x@dom" → 1000), else
 *    65534 (nobody), as the Linux idmapper does when a name is unknown.
 *
 * Pass an `idmap` to Nfs4Backend.mount to resolve names another way.
 */
export function ownerToId(owner: string, _group = false): number {
  const at = owner.indexOf('@');
  const name = at >= 0 ? owner.slice(0, at) : owner;
  const m = /^\d+/.exec(name);
  if (m && m[0].length === name.length) return clampId(m[0]);
  if (name === 'root') return 0;
  if (name === 'nobody') return NOBODY_ID;
  return m ? clampId(m[0]) : NOBODY_ID;
}

function clampId(digits: string): number {
  const n = Number(digits);
  return n <= 0xffffffff ? n : NOBODY_ID;
}

/** Resolves an owner (group=false) or owner_group (group=true) string to an id. */
export type IdMapper = (owner: string, group: boolean) => number;

/**
 * fsid4 is two uint64s; Attrs.fsid (node's `dev`) is one. The minor is
 * XORed into the major shifted by 32 bits and the result kept to 64 bits:
 * servers put the interesting bits in the low halves (Ganesha: major = the
 * export's filesystem id, minor = 0 or a small number), so distinct fsids
 * stay distinct in practice.
 */
export function fsidToBigint(f: Fsid4): bigint {
  if (f === lastCombined?.fsid) return lastCombined.value;
  const value = BigInt.asUintN(64, (f.major << 32n) ^ f.minor);
  lastCombined = { fsid: f, value };
  return value;
}
let lastCombined: { fsid: Fsid4; value: bigint } | undefined;

/**
 * An IdMapper that remembers its answers (up to 4096 names each for owners
 * and groups, then starts over): servers send the same few names in every
 * reply, and mapping them anew per GETATTR is wasted work.
 */
export function cachingIdMapper(map: IdMapper): IdMapper {
  const users = new Map<string, number>();
  const groups = new Map<string, number>();
  return (owner, group) => {
    const m = group ? groups : users;
    let id = m.get(owner);
    if (id === undefined) {
      id = map(owner, group);
      if (m.size >= 4096) m.clear();
      m.set(owner, id);
    }
    return id;
  };
}

const ZERO_TIME: Time = Object.freeze({ sec: 0, nsec: 0 }) as Time;

/**
 * Attrs from a GETATTR reply. `type` must be present (every request of the
 * backend asks for it); other missing attributes read as zero.
 */
export function fattr4ToAttrs(f: Fattr4, idmap: IdMapper = ownerToId): Attrs {
  const kind = f.type !== undefined ? KINDS[f.type] : undefined;
  if (kind === undefined) throw new XdrDecodeError(`XDR: fattr4 without a valid type (${f.type})`, 'type');
  const rd = f.rawdev;
  return {
    kind,
    mode: (f.mode ?? 0) & 0o7777,
    nlink: f.numlinks ?? 1,
    uid: f.owner !== undefined ? idmap(f.owner, false) : NOBODY_ID,
    gid: f.ownerGroup !== undefined ? idmap(f.ownerGroup, true) : NOBODY_ID,
    size: f.size ?? 0,
    used: f.spaceUsed ?? 0,
    rdev: rd ? makedev(rd.specdata1, rd.specdata2) : 0,
    fsid: f.fsid ? fsidToBigint(f.fsid) : 0n,
    fileid: f.fileid ?? 0n,
    atime: f.timeAccess ?? ZERO_TIME,
    mtime: f.timeModify ?? ZERO_TIME,
    ctime: f.timeMetadata ?? ZERO_TIME,
  };
}

/**
 * A GETATTR reply straight to Attrs. When the server answers exactly what
 * STAT_ATTRS asked (as servers do, since every attribute in it is one an
 * NFSv4 server must support or reports as 0), the values are read in their
 * fixed order into locals and one Attrs is made, with no Fattr4 in between
 * (an object that gains a property per attribute, then is read once).
 * Any other mask goes through decodeFattr4 + fattr4ToAttrs; both ways
 * refuse the same malformed replies.
 */
export function decodeAttrs(r: XdrReader, idmap: IdMapper, what = 'fattr4'): Attrs {
  const b = r.buf;
  const at = r.pos;
  if (r.remaining < 16 || b.readUInt32BE(at) !== 2 || b.readUInt32BE(at + 4) !== STAT_WORD0 || b.readUInt32BE(at + 8) !== STAT_WORD1) {
    return fattr4ToAttrs(decodeFattr4(r, what), idmap);
  }
  r.pos = at + 12;
  const len = r.u32(`${what}.attr_vals length`);
  if (len > r.remaining) {
    throw new XdrDecodeError(`XDR: ${what}.attr_vals length ${len} exceeds the ${r.remaining} bytes left`, `${what}.attr_vals`);
  }
  const v = new XdrReader(b, r.pos, r.pos + len);
  r.skip(len, `${what}.attr_vals`);
  // In ascending attribute number, as XDR lays them out (see STAT_ATTRS).
  const type = v.u32('type');
  const size = v.u64n('size');
  const fsid = decodeFsid4(v);
  const fileid = decodeId64(v, 'fileid');
  const mode = v.u32('mode');
  const nlink = v.u32('numlinks');
  const owner = decodeName(v, 'owner');
  const group = decodeName(v, 'owner_group');
  const rd1 = v.u32('rawdev.specdata1');
  const rd2 = v.u32('rawdev.specdata2');
  const used = v.u64n('space_used');
  const atime = decodeNfstime4(v, 'time_access');
  const ctime = decodeNfstime4(v, 'time_metadata');
  const mtime = decodeNfstime4(v, 'time_modify');
  v.done(`${what}.attr_vals`);
  const kind = KINDS[type];
  if (kind === undefined) throw new XdrDecodeError(`XDR: fattr4 without a valid type (${type})`, 'type');
  return {
    kind,
    mode: mode & 0o7777,
    nlink,
    uid: idmap(owner, false),
    gid: idmap(group, true),
    size,
    used,
    rdev: makedev(rd1, rd2),
    fsid: fsidToBigint(fsid),
    fileid,
    atime,
    mtime,
    ctime,
  };
}

/** Linux makedev, as nfs3/backend.ts reports rdev. */
function makedev(specdata1: number, specdata2: number): number {
  return ((specdata1 & 0xfff) << 8) | (specdata2 & 0xff) | ((specdata2 & ~0xff) << 12);
}

// ---- SetAttrs → fattr4 -----------------------------------------------------

function checkUint32(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`SETATTR: ${name} must be a uint32, got ${v}`);
}

function encodeSettime4(w: XdrWriter, t: Time | 'server'): void {
  if (t === 'server') {
    w.u32(SET_TO_SERVER_TIME4);
    return;
  }
  if (!Number.isSafeInteger(t.sec) || !Number.isInteger(t.nsec) || t.nsec < 0 || t.nsec > 999_999_999) {
    throw new RangeError(`SETATTR: invalid time {sec: ${t.sec}, nsec: ${t.nsec}}`);
  }
  w.u32(SET_TO_CLIENT_TIME4);
  w.i64(BigInt(t.sec));
  w.u32(t.nsec);
}

/**
 * fattr4 for SETATTR, CREATE and OPEN's createattrs: size, mode, owner,
 * owner_group, time_access_set, time_modify_set, in attribute order. Ids
 * are sent as numeric strings, which RFC 7530 §5.9 lets servers accept
 * (Ganesha does by default).
 */
export function encodeSetAttrs(w: XdrWriter, s: SetAttrs): void {
  const attrs: number[] = [];
  const v = new XdrWriter(64);
  if (s.size !== undefined) {
    attrs.push(FATTR4_SIZE);
    v.u64(s.size);
  }
  if (s.mode !== undefined) {
    checkUint32('mode', s.mode);
    attrs.push(FATTR4_MODE);
    v.u32(s.mode & 0o7777);
  }
  if (s.uid !== undefined) {
    checkUint32('uid', s.uid);
    attrs.push(FATTR4_OWNER);
    v.string(String(s.uid));
  }
  if (s.gid !== undefined) {
    checkUint32('gid', s.gid);
    attrs.push(FATTR4_OWNER_GROUP);
    v.string(String(s.gid));
  }
  if (s.atime !== undefined) {
    attrs.push(FATTR4_TIME_ACCESS_SET);
    encodeSettime4(v, s.atime);
  }
  if (s.mtime !== undefined) {
    attrs.push(FATTR4_TIME_MODIFY_SET);
    encodeSettime4(v, s.mtime);
  }
  encodeBitmap4(w, bitmap4(...attrs));
  w.opaque(v.toBuffer());
}

/** fattr4 holding only `type`, for VERIFY/NVERIFY. */
export function fattr4TypeBytes(type: number): Buffer {
  const w = new XdrWriter(16);
  encodeBitmap4(w, bitmap4(FATTR4_TYPE));
  const v = new XdrWriter(4);
  v.u32(type);
  w.opaque(v.toBuffer());
  return w.toBuffer();
}

// ---- request bitmaps used by the backend ------------------------------------

/** What node's Stats needs (see fattr4ToAttrs). */
export const STAT_ATTRS = bitmap4(
  FATTR4_TYPE,
  FATTR4_SIZE,
  FATTR4_FSID,
  FATTR4_FILEID,
  FATTR4_MODE,
  FATTR4_NUMLINKS,
  FATTR4_OWNER,
  FATTR4_OWNER_GROUP,
  FATTR4_RAWDEV,
  FATTR4_SPACE_USED,
  FATTR4_TIME_ACCESS,
  FATTR4_TIME_METADATA,
  FATTR4_TIME_MODIFY,
);

/** STAT_ATTRS as a reply's attrmask words (two: its highest attribute, time_modify, is 53). */
const STAT_WORD0 = STAT_ATTRS[0]!;
const STAT_WORD1 = STAT_ATTRS[1]!;

/** Stats plus the per-server limits read once at mount. */
export const MOUNT_ATTRS = bitmap4(
  FATTR4_TYPE,
  FATTR4_SIZE,
  FATTR4_FSID,
  FATTR4_LEASE_TIME,
  FATTR4_FILEID,
  FATTR4_MAXFILESIZE,
  FATTR4_MAXNAME,
  FATTR4_MAXREAD,
  FATTR4_MAXWRITE,
  FATTR4_MODE,
  FATTR4_NUMLINKS,
  FATTR4_OWNER,
  FATTR4_OWNER_GROUP,
  FATTR4_RAWDEV,
  FATTR4_SPACE_USED,
  FATTR4_TIME_ACCESS,
  FATTR4_TIME_METADATA,
  FATTR4_TIME_MODIFY,
);

export const STATFS_ATTRS = bitmap4(
  FATTR4_FILES_AVAIL,
  FATTR4_FILES_FREE,
  FATTR4_FILES_TOTAL,
  FATTR4_MAXNAME,
  FATTR4_SPACE_AVAIL,
  FATTR4_SPACE_FREE,
  FATTR4_SPACE_TOTAL,
);

/** READDIR with attributes: Stats plus the entry's handle; rdattr_error keeps one bad entry from failing the listing. */
export const READDIR_PLUS_ATTRS = bitmap4(...attrList(STAT_ATTRS), FATTR4_RDATTR_ERROR, FATTR4_FILEHANDLE);

/** READDIR of names: the fileid only. */
export const READDIR_NAME_ATTRS = bitmap4(FATTR4_RDATTR_ERROR, FATTR4_FILEID);

