import { receivedOpaque, type CallOptions, type ReplyInto, type RpcClient } from '../rpc/client.js';
import type { CallLabel } from '../rpc/message.js';
import { XdrDecodeError } from '../xdr/errors.js';
import type { XdrReader } from '../xdr/reader.js';
import type { XdrWriter } from '../xdr/writer.js';
import {
  createmode3,
  ftype3,
  NFS3_COOKIEVERFSIZE,
  NFS3_CREATEVERFSIZE,
  NFS3_MAXPATHLEN,
  NFS3_WRITEVERFSIZE,
  NFS_PROGRAM,
  NFS_V3,
  NFSPROC3_ACCESS,
  NFSPROC3_COMMIT,
  NFSPROC3_CREATE,
  NFSPROC3_FSINFO,
  NFSPROC3_FSSTAT,
  NFSPROC3_GETATTR,
  NFSPROC3_LINK,
  NFSPROC3_LOOKUP,
  NFSPROC3_MKDIR,
  NFSPROC3_MKNOD,
  NFSPROC3_NULL,
  NFSPROC3_PATHCONF,
  NFSPROC3_READ,
  NFSPROC3_READDIR,
  NFSPROC3_READDIRPLUS,
  NFSPROC3_READLINK,
  NFSPROC3_REMOVE,
  NFSPROC3_RENAME,
  NFSPROC3_RMDIR,
  NFSPROC3_SETATTR,
  NFSPROC3_SYMLINK,
  NFSPROC3_WRITE,
  stable_how,
  type StableHow,
} from './constants.js';
import { NFS3_OK } from './status.js';
import {
  checkFixed,
  checkU32,
  checkU64,
  decodeFattr3,
  decodeFh,
  decodeNfstime3,
  decodePostOpAttr,
  decodePostOpFh,
  decodeWccData,
  FATTR3_BYTES,
  skipPostOpAttr,
  skipWccData,
  encodeDirop,
  encodeFh,
  encodeNfstime3,
  encodePath,
  encodeSattr3,
  encodeSpecdata3,
  type Fattr3,
  type Nfs3Fh,
  type Nfs3Res,
  type Nfstime3,
  type Sattr3,
  type Specdata3,
  type WccData,
} from './types.js';

// Labels are built once: every call on the hot path reuses them.
function label(proc: number, name: string): CallLabel {
  return Object.freeze({ prog: NFS_PROGRAM, vers: NFS_V3, proc, name });
}
const L_NULL = label(NFSPROC3_NULL, 'NFSPROC3_NULL');
const L_GETATTR = label(NFSPROC3_GETATTR, 'NFSPROC3_GETATTR');
const L_SETATTR = label(NFSPROC3_SETATTR, 'NFSPROC3_SETATTR');
const L_LOOKUP = label(NFSPROC3_LOOKUP, 'NFSPROC3_LOOKUP');
const L_ACCESS = label(NFSPROC3_ACCESS, 'NFSPROC3_ACCESS');
const L_READLINK = label(NFSPROC3_READLINK, 'NFSPROC3_READLINK');
const L_READ = label(NFSPROC3_READ, 'NFSPROC3_READ');
const L_WRITE = label(NFSPROC3_WRITE, 'NFSPROC3_WRITE');
const L_CREATE = label(NFSPROC3_CREATE, 'NFSPROC3_CREATE');
const L_MKDIR = label(NFSPROC3_MKDIR, 'NFSPROC3_MKDIR');
const L_SYMLINK = label(NFSPROC3_SYMLINK, 'NFSPROC3_SYMLINK');
const L_MKNOD = label(NFSPROC3_MKNOD, 'NFSPROC3_MKNOD');
const L_REMOVE = label(NFSPROC3_REMOVE, 'NFSPROC3_REMOVE');
const L_RMDIR = label(NFSPROC3_RMDIR, 'NFSPROC3_RMDIR');
const L_RENAME = label(NFSPROC3_RENAME, 'NFSPROC3_RENAME');
const L_LINK = label(NFSPROC3_LINK, 'NFSPROC3_LINK');
const L_READDIR = label(NFSPROC3_READDIR, 'NFSPROC3_READDIR');
const L_READDIRPLUS = label(NFSPROC3_READDIRPLUS, 'NFSPROC3_READDIRPLUS');
const L_FSSTAT = label(NFSPROC3_FSSTAT, 'NFSPROC3_FSSTAT');
const L_FSINFO = label(NFSPROC3_FSINFO, 'NFSPROC3_FSINFO');
const L_PATHCONF = label(NFSPROC3_PATHCONF, 'NFSPROC3_PATHCONF');
const L_COMMIT = label(NFSPROC3_COMMIT, 'NFSPROC3_COMMIT');

/**
 * Entries per READDIR/READDIRPLUS reply. Not a memory bound (the record size
 * is: an entry takes at least 24 bytes), just a ceiling no real reply nears.
 */
const MAX_DIR_ENTRIES = 1_000_000;
/**
 * filename3 in replies. Above NAME_MAX on purpose: some servers list longer
 * names, and refusing the whole directory over one entry helps nobody.
 */
const MAX_REPLY_NAME = 4096;

const STABLE_HOW = new Set<number>(Object.values(stable_how));

// Every nfsstat3 is accepted: an unknown value is still a well-formed failure
// whose resfail arm follows (see nfsstat3Name).
function status(r: XdrReader): number {
  return r.u32('nfsstat3');
}

function end<T>(r: XdrReader, res: T, l: CallLabel): T {
  r.done(`${l.name} reply`);
  return res;
}

// ---- result types ----------------------------------------------------------

export type Getattr3Res = Nfs3Res<{ attributes: Fattr3 }>;
export type Setattr3Res = Nfs3Res<{ objWcc: WccData }, { objWcc: WccData }>;
export type Lookup3Res = Nfs3Res<
  { object: Nfs3Fh; objAttributes?: Fattr3 | undefined; dirAttributes?: Fattr3 | undefined },
  { dirAttributes?: Fattr3 | undefined }
>;
export type Access3Res = Nfs3Res<{ objAttributes?: Fattr3 | undefined; access: number }, { objAttributes?: Fattr3 | undefined }>;
export type Readlink3Res = Nfs3Res<{ symlinkAttributes?: Fattr3 | undefined; data: string }, { symlinkAttributes?: Fattr3 | undefined }>;
/** `data` is a zero-copy view of the reply record: copy it to keep it past the caller's use. */
export type Read3Res = Nfs3Res<
  { fileAttributes?: Fattr3 | undefined; count: number; eof: boolean; data: Buffer },
  { fileAttributes?: Fattr3 | undefined }
>;
export type Write3Res = Nfs3Res<{ fileWcc: WccData; count: number; committed: StableHow; verf: Buffer }, { fileWcc: WccData }>;
/** CREATE, MKDIR, SYMLINK and MKNOD. `obj` is optional: a server may omit the new handle (then LOOKUP it). */
export type Diropres3 = Nfs3Res<
  { obj?: Nfs3Fh | undefined; objAttributes?: Fattr3 | undefined; dirWcc: WccData },
  { dirWcc: WccData }
>;
export type Remove3Res = Nfs3Res<{ dirWcc: WccData }, { dirWcc: WccData }>;
export type Rmdir3Res = Remove3Res;
export type Rename3Res = Nfs3Res<{ fromDirWcc: WccData; toDirWcc: WccData }, { fromDirWcc: WccData; toDirWcc: WccData }>;
export type Link3Res = Nfs3Res<
  { fileAttributes?: Fattr3 | undefined; linkDirWcc: WccData },
  { fileAttributes?: Fattr3 | undefined; linkDirWcc: WccData }
>;

export interface Entry3 {
  fileid: bigint;
  name: string;
  cookie: bigint;
}

export interface EntryPlus3 extends Entry3 {
  attributes?: Fattr3 | undefined;
  handle?: Nfs3Fh | undefined;
}

/** `cookieverf` is a copy: it is sent back with every following READDIR of the listing. */
export type Readdir3Res = Nfs3Res<
  { dirAttributes?: Fattr3 | undefined; cookieverf: Buffer; entries: Entry3[]; eof: boolean },
  { dirAttributes?: Fattr3 | undefined }
>;
export type Readdirplus3Res = Nfs3Res<
  { dirAttributes?: Fattr3 | undefined; cookieverf: Buffer; entries: EntryPlus3[]; eof: boolean },
  { dirAttributes?: Fattr3 | undefined }
>;

export interface Fsstat3ResOk {
  objAttributes?: Fattr3 | undefined;
  tbytes: number;
  fbytes: number;
  abytes: number;
  tfiles: number;
  ffiles: number;
  afiles: number;
  invarsec: number;
}
export type Fsstat3Res = Nfs3Res<Fsstat3ResOk, { objAttributes?: Fattr3 | undefined }>;

export interface Fsinfo3ResOk {
  objAttributes?: Fattr3 | undefined;
  rtmax: number;
  rtpref: number;
  rtmult: number;
  wtmax: number;
  wtpref: number;
  wtmult: number;
  dtpref: number;
  maxfilesize: number;
  timeDelta: Nfstime3;
  /** FSF3_* bits. */
  properties: number;
}
export type Fsinfo3Res = Nfs3Res<Fsinfo3ResOk, { objAttributes?: Fattr3 | undefined }>;

export interface Pathconf3ResOk {
  objAttributes?: Fattr3 | undefined;
  linkmax: number;
  nameMax: number;
  noTrunc: boolean;
  chownRestricted: boolean;
  caseInsensitive: boolean;
  casePreserving: boolean;
}
export type Pathconf3Res = Nfs3Res<Pathconf3ResOk, { objAttributes?: Fattr3 | undefined }>;

export type Commit3Res = Nfs3Res<{ fileWcc: WccData; verf: Buffer }, { fileWcc: WccData }>;

// ---- argument types --------------------------------------------------------

export type Createhow3 =
  | { mode: 'UNCHECKED' | 'GUARDED'; attributes: Sattr3 }
  /** `verf` (8 bytes) is stored by the server in place of attributes; follow with SETATTR. */
  | { mode: 'EXCLUSIVE'; verf: Buffer };

export type Mknoddata3 =
  | { type: typeof ftype3.NF3CHR | typeof ftype3.NF3BLK; attributes: Sattr3; spec: Specdata3 }
  | { type: typeof ftype3.NF3SOCK | typeof ftype3.NF3FIFO; attributes: Sattr3 }
  | { type: typeof ftype3.NF3REG | typeof ftype3.NF3DIR | typeof ftype3.NF3LNK };

// ---- result decoders (exported for unit tests and fake servers) ------------

export function decodeNull3res(r: XdrReader): void {
  r.done('NFSPROC3_NULL reply');
}

export function decodeGetattr3res(r: XdrReader): Getattr3Res {
  const s = status(r);
  const res: Getattr3Res = s === NFS3_OK ? { ok: true, status: NFS3_OK, attributes: decodeFattr3(r) } : { ok: false, status: s };
  return end(r, res, L_GETATTR);
}

export function decodeSetattr3res(r: XdrReader): Setattr3Res {
  const s = status(r);
  const objWcc = decodeWccData(r);
  const res: Setattr3Res = s === NFS3_OK ? { ok: true, status: NFS3_OK, objWcc } : { ok: false, status: s, objWcc };
  return end(r, res, L_SETATTR);
}

export function decodeLookup3res(r: XdrReader): Lookup3Res {
  const s = status(r);
  let res: Lookup3Res;
  if (s === NFS3_OK) {
    const object = decodeFh(r, 'object');
    const objAttributes = decodePostOpAttr(r, 'obj_attributes.attributes_follow');
    const dirAttributes = decodePostOpAttr(r, 'dir_attributes.attributes_follow');
    res = { ok: true, status: NFS3_OK, object, objAttributes, dirAttributes };
  } else {
    res = { ok: false, status: s, dirAttributes: decodePostOpAttr(r, 'dir_attributes.attributes_follow') };
  }
  return end(r, res, L_LOOKUP);
}

export function decodeAccess3res(r: XdrReader): Access3Res {
  const s = status(r);
  const objAttributes = decodePostOpAttr(r, 'obj_attributes.attributes_follow');
  const res: Access3Res =
    s === NFS3_OK ? { ok: true, status: NFS3_OK, objAttributes, access: r.u32('access') } : { ok: false, status: s, objAttributes };
  return end(r, res, L_ACCESS);
}

export function decodeReadlink3res(r: XdrReader): Readlink3Res {
  const s = status(r);
  const symlinkAttributes = decodePostOpAttr(r, 'symlink_attributes.attributes_follow');
  const res: Readlink3Res =
    s === NFS3_OK
      ? { ok: true, status: NFS3_OK, symlinkAttributes, data: r.string(NFS3_MAXPATHLEN, 'nfspath3') }
      : { ok: false, status: s, symlinkAttributes };
  return end(r, res, L_READLINK);
}


/**
 * Where READ3resok's data starts in the results, for a reply received straight
 * into the caller's buffer (ReplyInto); undefined for an error reply.
 */
export function locateRead3data(results: Buffer): { at: number; length: number } | undefined {
  if (results.length < 8 || results.readUInt32BE(0) !== NFS3_OK) return undefined;
  let at = 8;
  if (results.readUInt32BE(4) !== 0) at += FATTR3_BYTES;
  // count, eof, then the opaque's length
  if (results.length < at + 12) return undefined;
  const length = results.readUInt32BE(at + 8);
  return { at: at + 12, length };
}

/** With `attrs` false the post-op attributes are skipped (checked, not decoded): fileAttributes is undefined. */
export function decodeRead3res(r: XdrReader, into?: ReplyInto, attrs = true): Read3Res {
  const s = status(r);
  const fileAttributes = attrs ? decodePostOpAttr(r, 'file_attributes.attributes_follow') : skipPostOpAttr(r, 'file_attributes.attributes_follow');
  if (s !== NFS3_OK) return end(r, { ok: false, status: s, fileAttributes }, L_READ);
  const count = r.u32('count');
  const eof = r.bool('eof');
  const data = into !== undefined ? receivedOpaque(r, into, 'data') : r.opaque(0xffff_ffff, 'data');
  // The Linux client refuses a mismatch too (decode_read3resok): which of the
  // two lengths is the lie cannot be known, and guessing corrupts files.
  if (count !== data.length) {
    throw new XdrDecodeError(`NFSPROC3_READ: count ${count} differs from data length ${data.length}`, 'count');
  }
  return end(r, { ok: true, status: NFS3_OK, fileAttributes, count, eof, data }, L_READ);
}

/** With `wcc` false the file's wcc_data is skipped (checked, not decoded): fileWcc is SKIPPED_WCC. */
const decodeWrite3resNoWcc = (r: XdrReader): Write3Res => decodeWrite3res(r, false);

export function decodeWrite3res(r: XdrReader, wcc = true): Write3Res {
  const s = status(r);
  const fileWcc = wcc ? decodeWccData(r) : skipWccData(r);
  if (s !== NFS3_OK) return end(r, { ok: false, status: s, fileWcc }, L_WRITE);
  const count = r.u32('count');
  const committed = r.enumOf<StableHow>(STABLE_HOW, 'committed');
  const verf = Buffer.from(r.fixed(NFS3_WRITEVERFSIZE, 'writeverf3'));
  return end(r, { ok: true, status: NFS3_OK, fileWcc, count, committed, verf }, L_WRITE);
}

function decodeDiropres(r: XdrReader, l: CallLabel): Diropres3 {
  const s = status(r);
  let res: Diropres3;
  if (s === NFS3_OK) {
    const obj = decodePostOpFh(r, 'obj');
    const objAttributes = decodePostOpAttr(r, 'obj_attributes.attributes_follow');
    res = { ok: true, status: NFS3_OK, obj, objAttributes, dirWcc: decodeWccData(r) };
  } else {
    res = { ok: false, status: s, dirWcc: decodeWccData(r) };
  }
  return end(r, res, l);
}

export const decodeCreate3res = (r: XdrReader): Diropres3 => decodeDiropres(r, L_CREATE);
export const decodeMkdir3res = (r: XdrReader): Diropres3 => decodeDiropres(r, L_MKDIR);
export const decodeSymlink3res = (r: XdrReader): Diropres3 => decodeDiropres(r, L_SYMLINK);
export const decodeMknod3res = (r: XdrReader): Diropres3 => decodeDiropres(r, L_MKNOD);

function decodeDirWccOnly(r: XdrReader, l: CallLabel): Remove3Res {
  const s = status(r);
  const dirWcc = decodeWccData(r);
  return end(r, s === NFS3_OK ? { ok: true, status: NFS3_OK, dirWcc } : { ok: false, status: s, dirWcc }, l);
}

export const decodeRemove3res = (r: XdrReader): Remove3Res => decodeDirWccOnly(r, L_REMOVE);
export const decodeRmdir3res = (r: XdrReader): Rmdir3Res => decodeDirWccOnly(r, L_RMDIR);

export function decodeRename3res(r: XdrReader): Rename3Res {
  const s = status(r);
  const fromDirWcc = decodeWccData(r);
  const toDirWcc = decodeWccData(r);
  return end(r, s === NFS3_OK ? { ok: true, status: NFS3_OK, fromDirWcc, toDirWcc } : { ok: false, status: s, fromDirWcc, toDirWcc }, L_RENAME);
}

export function decodeLink3res(r: XdrReader): Link3Res {
  const s = status(r);
  const fileAttributes = decodePostOpAttr(r, 'file_attributes.attributes_follow');
  const linkDirWcc = decodeWccData(r);
  return end(
    r,
    s === NFS3_OK ? { ok: true, status: NFS3_OK, fileAttributes, linkDirWcc } : { ok: false, status: s, fileAttributes, linkDirWcc },
    L_LINK,
  );
}

function decodeEntry3(r: XdrReader): Entry3 {
  const fileid = r.u64('fileid');
  const name = r.string(MAX_REPLY_NAME, 'filename3');
  const cookie = r.u64('cookie');
  return { fileid, name, cookie };
}

function decodeEntryPlus3(r: XdrReader): EntryPlus3 {
  const fileid = r.u64('fileid');
  const name = r.string(MAX_REPLY_NAME, 'filename3');
  const cookie = r.u64('cookie');
  const attributes = decodePostOpAttr(r, 'name_attributes.attributes_follow');
  const handle = decodePostOpFh(r, 'name_handle');
  return { fileid, name, cookie, attributes, handle };
}

export function decodeReaddir3res(r: XdrReader): Readdir3Res {
  const s = status(r);
  const dirAttributes = decodePostOpAttr(r, 'dir_attributes.attributes_follow');
  if (s !== NFS3_OK) return end(r, { ok: false, status: s, dirAttributes }, L_READDIR);
  const cookieverf = Buffer.from(r.fixed(NFS3_COOKIEVERFSIZE, 'cookieverf3'));
  const entries = r.list(MAX_DIR_ENTRIES, decodeEntry3, 'entry3');
  const eof = r.bool('eof');
  return end(r, { ok: true, status: NFS3_OK, dirAttributes, cookieverf, entries, eof }, L_READDIR);
}

export function decodeReaddirplus3res(r: XdrReader): Readdirplus3Res {
  const s = status(r);
  const dirAttributes = decodePostOpAttr(r, 'dir_attributes.attributes_follow');
  if (s !== NFS3_OK) return end(r, { ok: false, status: s, dirAttributes }, L_READDIRPLUS);
  const cookieverf = Buffer.from(r.fixed(NFS3_COOKIEVERFSIZE, 'cookieverf3'));
  const entries = r.list(MAX_DIR_ENTRIES, decodeEntryPlus3, 'entryplus3');
  const eof = r.bool('eof');
  return end(r, { ok: true, status: NFS3_OK, dirAttributes, cookieverf, entries, eof }, L_READDIRPLUS);
}

export function decodeFsstat3res(r: XdrReader): Fsstat3Res {
  const s = status(r);
  const objAttributes = decodePostOpAttr(r, 'obj_attributes.attributes_follow');
  if (s !== NFS3_OK) return end(r, { ok: false, status: s, objAttributes }, L_FSSTAT);
  const tbytes = r.u64n('tbytes');
  const fbytes = r.u64n('fbytes');
  const abytes = r.u64n('abytes');
  const tfiles = r.u64n('tfiles');
  const ffiles = r.u64n('ffiles');
  const afiles = r.u64n('afiles');
  const invarsec = r.u32('invarsec');
  return end(r, { ok: true, status: NFS3_OK, objAttributes, tbytes, fbytes, abytes, tfiles, ffiles, afiles, invarsec }, L_FSSTAT);
}

export function decodeFsinfo3res(r: XdrReader): Fsinfo3Res {
  const s = status(r);
  const objAttributes = decodePostOpAttr(r, 'obj_attributes.attributes_follow');
  if (s !== NFS3_OK) return end(r, { ok: false, status: s, objAttributes }, L_FSINFO);
  const rtmax = r.u32('rtmax');
  const rtpref = r.u32('rtpref');
  const rtmult = r.u32('rtmult');
  const wtmax = r.u32('wtmax');
  const wtpref = r.u32('wtpref');
  const wtmult = r.u32('wtmult');
  const dtpref = r.u32('dtpref');
  const maxfilesize = r.u64n('maxfilesize');
  const timeDelta = decodeNfstime3(r, 'time_delta');
  const properties = r.u32('properties');
  return end(
    r,
    { ok: true, status: NFS3_OK, objAttributes, rtmax, rtpref, rtmult, wtmax, wtpref, wtmult, dtpref, maxfilesize, timeDelta, properties },
    L_FSINFO,
  );
}

export function decodePathconf3res(r: XdrReader): Pathconf3Res {
  const s = status(r);
  const objAttributes = decodePostOpAttr(r, 'obj_attributes.attributes_follow');
  if (s !== NFS3_OK) return end(r, { ok: false, status: s, objAttributes }, L_PATHCONF);
  const linkmax = r.u32('linkmax');
  const nameMax = r.u32('name_max');
  const noTrunc = r.bool('no_trunc');
  const chownRestricted = r.bool('chown_restricted');
  const caseInsensitive = r.bool('case_insensitive');
  const casePreserving = r.bool('case_preserving');
  return end(
    r,
    { ok: true, status: NFS3_OK, objAttributes, linkmax, nameMax, noTrunc, chownRestricted, caseInsensitive, casePreserving },
    L_PATHCONF,
  );
}

export function decodeCommit3res(r: XdrReader): Commit3Res {
  const s = status(r);
  const fileWcc = decodeWccData(r);
  if (s !== NFS3_OK) return end(r, { ok: false, status: s, fileWcc }, L_COMMIT);
  const verf = Buffer.from(r.fixed(NFS3_WRITEVERFSIZE, 'writeverf3'));
  return end(r, { ok: true, status: NFS3_OK, fileWcc, verf }, L_COMMIT);
}

// ---- procedures ------------------------------------------------------------
// Arguments are validated inside `encode`, which RpcClient.call runs before
// anything is queued: a bad argument rejects the returned promise and nothing
// invalid reaches the wire.

export function nfs3Null(rpc: RpcClient, opts?: CallOptions): Promise<void> {
  return rpc.call(L_NULL, null, decodeNull3res, opts);
}

export function nfs3Getattr(rpc: RpcClient, fh: Nfs3Fh, opts?: CallOptions): Promise<Getattr3Res> {
  return rpc.call(L_GETATTR, (w) => encodeFh(w, fh), decodeGetattr3res, opts);
}

/** With `guardCtime`, the server applies the change only if the object's ctime still equals it (else NFS3ERR_NOT_SYNC). */
export function nfs3Setattr(rpc: RpcClient, fh: Nfs3Fh, attrs: Sattr3, guardCtime?: Nfstime3, opts?: CallOptions): Promise<Setattr3Res> {
  return rpc.call(
    L_SETATTR,
    (w) => {
      encodeFh(w, fh);
      encodeSattr3(w, attrs);
      if (guardCtime === undefined) {
        w.bool(false);
      } else {
        w.bool(true);
        encodeNfstime3(w, guardCtime, 'guard.obj_ctime');
      }
    },
    decodeSetattr3res,
    opts,
  );
}

export function nfs3Lookup(rpc: RpcClient, dirFh: Nfs3Fh, name: string, opts?: CallOptions): Promise<Lookup3Res> {
  return rpc.call(L_LOOKUP, (w) => encodeDirop(w, dirFh, name), decodeLookup3res, opts);
}

/** `access` is a mask of ACCESS3_* bits; the reply holds the subset granted. */
export function nfs3Access(rpc: RpcClient, fh: Nfs3Fh, access: number, opts?: CallOptions): Promise<Access3Res> {
  return rpc.call(
    L_ACCESS,
    (w) => {
      encodeFh(w, fh);
      checkU32(access, 'access');
      w.u32(access);
    },
    decodeAccess3res,
    opts,
  );
}

export function nfs3Readlink(rpc: RpcClient, fh: Nfs3Fh, opts?: CallOptions): Promise<Readlink3Res> {
  return rpc.call(L_READLINK, (w) => encodeFh(w, fh), decodeReadlink3res, opts);
}

export function nfs3Read(
  rpc: RpcClient,
  fh: Nfs3Fh,
  offset: number | bigint,
  count: number,
  opts?: CallOptions,
  /** false: the reply's post-op attributes are skipped, not decoded. */
  attrs = true,
): Promise<Read3Res> {
  return rpc.call(
    L_READ,
    (w) => {
      encodeFh(w, fh);
      checkU64(offset, 'offset');
      checkU32(count, 'count');
      w.u64(offset);
      w.u32(count);
    },
    opts?.into || !attrs ? (r) => decodeRead3res(r, opts?.into, attrs) : decodeRead3res,
    opts,
  );
}

/** `data` is not copied: large payloads go to the socket as their own iovec, so it must not change until the promise settles. */
export function nfs3Write(
  rpc: RpcClient,
  fh: Nfs3Fh,
  offset: number | bigint,
  data: Uint8Array,
  /** A stable_how value. */
  stable: number,
  opts?: CallOptions,
  /** false: the reply's wcc_data is skipped, not decoded (a caller that keeps no attribute cache by it). */
  wcc = true,
): Promise<Write3Res> {
  return rpc.call(
    L_WRITE,
    (w) => {
      encodeFh(w, fh);
      checkU64(offset, 'offset');
      if (!(data instanceof Uint8Array)) throw new TypeError('NFS3: WRITE data must be a Buffer or Uint8Array');
      if (!STABLE_HOW.has(stable)) throw new RangeError(`NFS3: invalid stable_how ${stable}`);
      w.u64(offset);
      w.u32(data.length);
      w.u32(stable);
      w.opaque(data);
    },
    wcc ? decodeWrite3res : decodeWrite3resNoWcc,
    opts,
  );
}

export function nfs3Create(rpc: RpcClient, dirFh: Nfs3Fh, name: string, how: Createhow3, opts?: CallOptions): Promise<Diropres3> {
  return rpc.call(
    L_CREATE,
    (w) => {
      encodeDirop(w, dirFh, name);
      switch (how.mode) {
        case 'UNCHECKED':
        case 'GUARDED':
          w.u32(createmode3[how.mode]);
          encodeSattr3(w, how.attributes);
          break;
        case 'EXCLUSIVE':
          checkFixed(how.verf, NFS3_CREATEVERFSIZE, 'createverf3');
          w.u32(createmode3.EXCLUSIVE);
          w.fixed(how.verf);
          break;
        default:
          throw new RangeError(`NFS3: invalid createmode3 ${(how as { mode: unknown }).mode}`);
      }
    },
    decodeCreate3res,
    opts,
  );
}

export function nfs3Mkdir(rpc: RpcClient, dirFh: Nfs3Fh, name: string, attrs: Sattr3, opts?: CallOptions): Promise<Diropres3> {
  return rpc.call(
    L_MKDIR,
    (w) => {
      encodeDirop(w, dirFh, name);
      encodeSattr3(w, attrs);
    },
    decodeMkdir3res,
    opts,
  );
}

export function nfs3Symlink(rpc: RpcClient, dirFh: Nfs3Fh, name: string, attrs: Sattr3, target: string, opts?: CallOptions): Promise<Diropres3> {
  return rpc.call(
    L_SYMLINK,
    (w) => {
      encodeDirop(w, dirFh, name);
      encodeSattr3(w, attrs);
      encodePath(w, target);
    },
    decodeSymlink3res,
    opts,
  );
}

export function nfs3Mknod(rpc: RpcClient, dirFh: Nfs3Fh, name: string, what: Mknoddata3, opts?: CallOptions): Promise<Diropres3> {
  return rpc.call(
    L_MKNOD,
    (w) => {
      encodeDirop(w, dirFh, name);
      w.u32(what.type);
      switch (what.type) {
        case ftype3.NF3CHR:
        case ftype3.NF3BLK:
          encodeSattr3(w, what.attributes);
          encodeSpecdata3(w, what.spec);
          break;
        case ftype3.NF3SOCK:
        case ftype3.NF3FIFO:
          encodeSattr3(w, what.attributes);
          break;
        case ftype3.NF3REG:
        case ftype3.NF3DIR:
        case ftype3.NF3LNK:
          break;
        default:
          throw new RangeError(`NFS3: invalid ftype3 ${(what as { type: unknown }).type}`);
      }
    },
    decodeMknod3res,
    opts,
  );
}

export function nfs3Remove(rpc: RpcClient, dirFh: Nfs3Fh, name: string, opts?: CallOptions): Promise<Remove3Res> {
  return rpc.call(L_REMOVE, (w) => encodeDirop(w, dirFh, name), decodeRemove3res, opts);
}

export function nfs3Rmdir(rpc: RpcClient, dirFh: Nfs3Fh, name: string, opts?: CallOptions): Promise<Rmdir3Res> {
  return rpc.call(L_RMDIR, (w) => encodeDirop(w, dirFh, name), decodeRmdir3res, opts);
}

export function nfs3Rename(
  rpc: RpcClient,
  fromDirFh: Nfs3Fh,
  fromName: string,
  toDirFh: Nfs3Fh,
  toName: string,
  opts?: CallOptions,
): Promise<Rename3Res> {
  return rpc.call(
    L_RENAME,
    (w) => {
      encodeDirop(w, fromDirFh, fromName);
      encodeDirop(w, toDirFh, toName);
    },
    decodeRename3res,
    opts,
  );
}

export function nfs3Link(rpc: RpcClient, fileFh: Nfs3Fh, dirFh: Nfs3Fh, name: string, opts?: CallOptions): Promise<Link3Res> {
  return rpc.call(
    L_LINK,
    (w) => {
      encodeFh(w, fileFh);
      encodeDirop(w, dirFh, name);
    },
    decodeLink3res,
    opts,
  );
}

function encodeCookie(w: XdrWriter, cookie: bigint, cookieverf: Buffer): void {
  if (typeof cookie !== 'bigint') throw new TypeError('NFS3: cookie must be a bigint');
  checkU64(cookie, 'cookie');
  checkFixed(cookieverf, NFS3_COOKIEVERFSIZE, 'cookieverf3');
  w.u64(cookie);
  w.fixed(cookieverf);
}

/**
 * One page of a listing: start with cookie 0n and an all-zero cookieverf,
 * then pass the last entry's cookie and the returned cookieverf until `eof`.
 *
 * Size `count` from FSINFO dtpref. NFS-Ganesha 4.3 answers counts too small
 * for the reply header (READDIR below ~170 bytes, READDIRPLUS maxcount below
 * ~450) with trailing bytes or NFS3ERR_SERVERFAULT instead of
 * NFS3ERR_TOOSMALL; such replies are refused as malformed.
 */
export function nfs3Readdir(
  rpc: RpcClient,
  dirFh: Nfs3Fh,
  cookie: bigint,
  cookieverf: Buffer,
  count: number,
  opts?: CallOptions,
): Promise<Readdir3Res> {
  return rpc.call(
    L_READDIR,
    (w) => {
      encodeFh(w, dirFh);
      encodeCookie(w, cookie, cookieverf);
      checkU32(count, 'count');
      w.u32(count);
    },
    decodeReaddir3res,
    opts,
  );
}

/** `dircount` bounds the names and cookies of a page, `maxcount` the whole reply (attributes and handles included). */
export function nfs3Readdirplus(
  rpc: RpcClient,
  dirFh: Nfs3Fh,
  cookie: bigint,
  cookieverf: Buffer,
  dircount: number,
  maxcount: number,
  opts?: CallOptions,
): Promise<Readdirplus3Res> {
  return rpc.call(
    L_READDIRPLUS,
    (w) => {
      encodeFh(w, dirFh);
      encodeCookie(w, cookie, cookieverf);
      checkU32(dircount, 'dircount');
      checkU32(maxcount, 'maxcount');
      w.u32(dircount);
      w.u32(maxcount);
    },
    decodeReaddirplus3res,
    opts,
  );
}

export function nfs3Fsstat(rpc: RpcClient, fh: Nfs3Fh, opts?: CallOptions): Promise<Fsstat3Res> {
  return rpc.call(L_FSSTAT, (w) => encodeFh(w, fh), decodeFsstat3res, opts);
}

export function nfs3Fsinfo(rpc: RpcClient, fh: Nfs3Fh, opts?: CallOptions): Promise<Fsinfo3Res> {
  return rpc.call(L_FSINFO, (w) => encodeFh(w, fh), decodeFsinfo3res, opts);
}

export function nfs3Pathconf(rpc: RpcClient, fh: Nfs3Fh, opts?: CallOptions): Promise<Pathconf3Res> {
  return rpc.call(L_PATHCONF, (w) => encodeFh(w, fh), decodePathconf3res, opts);
}

/** `count` 0 means from `offset` to the end of the file. Compare `verf` with the WRITEs' to detect a server reboot. */
export function nfs3Commit(rpc: RpcClient, fh: Nfs3Fh, offset: number | bigint, count: number, opts?: CallOptions): Promise<Commit3Res> {
  return rpc.call(
    L_COMMIT,
    (w) => {
      encodeFh(w, fh);
      checkU64(offset, 'offset');
      checkU32(count, 'count');
      w.u64(offset);
      w.u32(count);
    },
    decodeCommit3res,
    opts,
  );
}
