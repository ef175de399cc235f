/**
 * One small builder per COMPOUND operation: each returns an Op that knows
 * how to write its arguments and read its results. Ops are values; a
 * COMPOUND is a list of them (see compound.ts), so a request such as
 * "PUTFH + LOOKUP + GETFH + GETATTR" is spelled exactly like that.
 *
 * Arguments that change between attempts (4.0 seqids, the client id after a
 * re-SETCLIENTID) are read when the op is encoded, through the `() => ...`
 * parameters, so a retried COMPOUND carries the current values.
 */
import type { Attrs, SetAttrs } from '../fs/backend.js';
import { receivedOpaque, type ReplyInto } from '../rpc/client.js';
import { XdrDecodeError } from '../xdr/errors.js';
import type { XdrReader } from '../xdr/reader.js';
import type { XdrWriter } from '../xdr/writer.js';
import { decodeAttrs, decodeBitmap4, decodeFattr4, encodeSetAttrs, type Fattr4, type IdMapper } from './attrs.js';
import * as C from './constants.js';
import { nfsstat4 } from './status.js';

export interface Op<T> {
  readonly opnum: number;
  /** OP_LOOKUP etc., for errors. */
  readonly name: string;
  /**
   * True when running the op twice differs from running it once (OPEN,
   * CREATE, REMOVE, LOCK, ...): 4.1 asks the server to cache such replies
   * (sa_cachethis), and 4.0 never resends them after a lost connection.
   */
  readonly nonIdempotent: boolean;
  /** Writes the arguments (the opnum is written by the compound). */
  encode(w: XdrWriter): void;
  /** Reads the NFS4_OK arm of the result. */
  decode(r: XdrReader): T;
  /** Reads the body of a failure arm, for the results that have one. */
  decodeFailure?(r: XdrReader, status: number): unknown;
  /** Called with the op's status whenever a reply carries a result for it (seqid bookkeeping). */
  settle?(status: number): void;
}

/** Any op, for lists of ops whose result types differ. */
export type AnyOp = Op<any>;

function op<T>(opnum: number, nonIdempotent: boolean, encode: (w: XdrWriter) => void, decode: (r: XdrReader) => T, extra?: Partial<Op<T>>): Op<T> {
  const o: Op<T> = { opnum, name: C.opName(opnum), nonIdempotent, encode, decode };
  return extra ? Object.assign(o, extra) : o;
}

const noArgs = (): void => {};
const noResult = (): undefined => undefined;

// ---- shared types -----------------------------------------------------------

/** stateid4: seqid + 12 opaque bytes naming the state on the server. */
export interface Stateid {
  readonly seqid: number;
  readonly other: Buffer;
}

const ZERO_OTHER = Buffer.alloc(C.NFS4_OTHER_SIZE);
/** All zeros: I/O and SETATTR(size) without an open (RFC 7530 §9.1.4.3). */
export const ANONYMOUS_STATEID: Stateid = Object.freeze({ seqid: 0, other: ZERO_OTHER });
/** 4.1 "current stateid": the stateid the previous op of the COMPOUND produced (RFC 8881 §16.2.3.1.2). */
export const CURRENT_STATEID: Stateid = Object.freeze({ seqid: 1, other: ZERO_OTHER });

export function encodeStateid(w: XdrWriter, s: Stateid): void {
  if (s.other.length !== C.NFS4_OTHER_SIZE) throw new RangeError(`stateid4.other must be ${C.NFS4_OTHER_SIZE} bytes, got ${s.other.length}`);
  w.u32(s.seqid);
  w.fixed(s.other);
}

export function decodeStateid(r: XdrReader, what = 'stateid4'): Stateid {
  const seqid = r.u32(`${what}.seqid`);
  return { seqid, other: Buffer.from(r.fixed(C.NFS4_OTHER_SIZE, `${what}.other`)) };
}

export interface ChangeInfo {
  atomic: boolean;
  before: bigint;
  after: bigint;
}

function decodeChangeInfo(r: XdrReader): ChangeInfo {
  return { atomic: r.bool('change_info4.atomic'), before: r.u64('change_info4.before'), after: r.u64('change_info4.after') };
}

function checkName(name: string, what: string): void {
  if (typeof name !== 'string' || name.length === 0) throw new RangeError(`${what}: name must be a non-empty string`);
}

function encodeFh(w: XdrWriter, fh: Buffer): void {
  if (fh.length === 0 || fh.length > C.NFS4_FHSIZE) throw new RangeError(`nfs_fh4 must be 1..${C.NFS4_FHSIZE} bytes, got ${fh.length}`);
  w.opaque(fh);
}

/** A state owner (open_owner4 / lock_owner4): the client id is read when the op is encoded. */
export interface OwnerArg {
  readonly clientid: bigint;
  readonly owner: Buffer;
}

function encodeOwner(w: XdrWriter, o: OwnerArg): void {
  w.u64(o.clientid);
  w.opaque(o.owner);
}

function decodeOwner(r: XdrReader, what: string): { clientid: bigint; owner: Buffer } {
  return { clientid: r.u64(`${what}.clientid`), owner: Buffer.from(r.opaque(C.NFS4_OPAQUE_LIMIT, `${what}.owner`)) };
}

function checkU64(name: string, v: number | bigint): void {
  if (typeof v === 'bigint' ? v < 0n || v > C.NFS4_UINT64_MAX : !(Number.isSafeInteger(v) && v >= 0)) {
    throw new RangeError(`${name} must be a uint64, got ${v}`);
  }
}

// ---- filehandle ops ----------------------------------------------------------

/*
 * The ops every I/O, stat and lookup sends (PUTFH, GETFH, LOOKUP, GETATTR,
 * READ, WRITE, SEQUENCE) are classes: one object per op, with encode and
 * decode on the prototype, where the op() builder makes two closures.
 */

class PutfhOp implements Op<void> {
  readonly opnum = C.OP_PUTFH;
  readonly name = 'OP_PUTFH';
  readonly nonIdempotent = false;
  constructor(private readonly fh: Buffer) {}
  encode(w: XdrWriter): void {
    encodeFh(w, this.fh);
  }
  decode(): void {}
}

class GetfhOp implements Op<Buffer> {
  readonly opnum = C.OP_GETFH;
  readonly name = 'OP_GETFH';
  readonly nonIdempotent = false;
  encode(): void {}
  decode(r: XdrReader): Buffer {
    return Buffer.from(r.opaque(C.NFS4_FHSIZE, 'nfs_fh4'));
  }
}

class LookupOp implements Op<void> {
  readonly opnum = C.OP_LOOKUP;
  readonly name = 'OP_LOOKUP';
  readonly nonIdempotent = false;
  constructor(private readonly component: string) {}
  encode(w: XdrWriter): void {
    w.fixed(encodedComponent(this.component));
  }
  decode(): void {}
}

/**
 * component4 strings as XDR (length, UTF-8 bytes, padding), kept for the
 * names sent lately: every path walk sends its directories' names again,
 * and copying kept bytes costs a third of encoding the string anew. The map
 * is emptied when full.
 */
const components = new Map<string, Buffer>();
const COMPONENTS_MAX = 4096;

function encodedComponent(name: string): Buffer {
  let b = components.get(name);
  if (b === undefined) {
    const n = Buffer.byteLength(name, 'utf8');
    const end = 4 + n + ((4 - (n & 3)) & 3);
    b = Buffer.allocUnsafe(end);
    b.writeUInt32BE(n, 0);
    b.write(name, 4, n, 'utf8');
    for (let i = 4 + n; i < end; i++) b[i] = 0;
    if (components.size >= COMPONENTS_MAX) components.clear();
    components.set(name, b);
  }
  return b;
}

export function opPutfh(fh: Buffer): Op<void> {
  return new PutfhOp(fh);
}
export function opPutrootfh(): Op<void> {
  return op(C.OP_PUTROOTFH, false, noArgs, noResult);
}
/** The handle is copied out of the reply: handles outlive it. */
export function opGetfh(): Op<Buffer> {
  return new GetfhOp();
}
export function opSavefh(): Op<void> {
  return op(C.OP_SAVEFH, false, noArgs, noResult);
}
export function opRestorefh(): Op<void> {
  return op(C.OP_RESTOREFH, false, noArgs, noResult);
}
export function opLookup(name: string): Op<void> {
  checkName(name, 'LOOKUP');
  return new LookupOp(name);
}
/**
 * SECINFO (RFC 7530 16.31): the security flavors the server takes for the
 * object `name` in the current directory, as RFC 2623 pseudo-flavors
 * (390003..390005 for krb5/krb5i/krb5p; RPCSEC_GSS entries with another
 * mechanism come back as 6). Consumes the current filehandle.
 */
const KRB5_OID_DER = Buffer.from('06092a864886f712010202', 'hex');
export function opSecinfo(name: string): Op<number[]> {
  checkName(name, 'SECINFO');
  return op(C.OP_SECINFO, false, (w) => w.string(name), decodeSecinfo);
}

/** secinfo_style4 (RFC 8881 18.45): ask about the current filehandle, or its parent. */
export const SECINFO_STYLE4_CURRENT_FH = 0;
export const SECINFO_STYLE4_PARENT = 1;

/**
 * SECINFO_NO_NAME (NFSv4.1, RFC 8881 18.45): SECINFO's answer for the current
 * filehandle itself (or its parent), so the root of an export can be asked
 * about without naming it in its parent. Consumes the current filehandle.
 */
export function opSecinfoNoName(style: number = SECINFO_STYLE4_CURRENT_FH): Op<number[]> {
  return op(C.OP_SECINFO_NO_NAME, false, (w) => w.u32(style), decodeSecinfo);
}

function decodeSecinfo(r: XdrReader): number[] {
  return r.array(64, 4, (x) => {
      const flavor = x.u32('secinfo4.flavor');
      if (flavor !== 6) return flavor;
      const oid = x.opaque(64, 'rpcsec_gss_info.oid');
      x.u32('rpcsec_gss_info.qop');
      const service = x.u32('rpcsec_gss_info.service');
      // 1.2.840.113554.1.2.2, the krb5 mechanism: DER as RFC 7530 says, or its content bytes alone (Ganesha).
      const krb5 = oid.equals(KRB5_OID_DER) || oid.equals(KRB5_OID_DER.subarray(2));
      return krb5 && service >= 1 && service <= 3 ? 390002 + service : 6;
    }, 'secinfo');
}

export function opLookupp(): Op<void> {
  return op(C.OP_LOOKUPP, false, noArgs, noResult);
}

// ---- attributes --------------------------------------------------------------

/** `request` is an encoded bitmap4 (attrs.ts bitmap4Bytes), built once per attribute set. */
export function opGetattr(request: Buffer): Op<Fattr4> {
  return new GetattrOp(request);
}

/**
 * GETATTR read straight into the fs layer's Attrs (decodeAttrs): for the
 * requests that want a stat and nothing else. Holds no per-call state, so
 * one instance serves every COMPOUND.
 */
export function opGetattrAttrs(request: Buffer, idmap: IdMapper): Op<Attrs> {
  return new GetattrAttrsOp(request, idmap);
}

class GetattrAttrsOp implements Op<Attrs> {
  readonly opnum = C.OP_GETATTR;
  readonly name = 'OP_GETATTR';
  readonly nonIdempotent = false;
  constructor(
    private readonly request: Buffer,
    private readonly idmap: IdMapper,
  ) {}
  encode(w: XdrWriter): void {
    w.fixed(this.request);
  }
  decode(r: XdrReader): Attrs {
    return decodeAttrs(r, this.idmap, 'obj_attributes');
  }
}

class GetattrOp implements Op<Fattr4> {
  readonly opnum = C.OP_GETATTR;
  readonly name = 'OP_GETATTR';
  readonly nonIdempotent = false;
  constructor(private readonly request: Buffer) {}
  encode(w: XdrWriter): void {
    w.fixed(this.request);
  }
  decode(r: XdrReader): Fattr4 {
    return decodeFattr4(r, 'obj_attributes');
  }
}

/** Result: attrsset, the attributes the server changed; a failed SETATTR carries it too. */
export function opSetattr(stateid: Stateid | (() => Stateid), attrs: SetAttrs): Op<number[]> {
  return op(
    C.OP_SETATTR,
    true,
    (w) => {
      encodeStateid(w, typeof stateid === 'function' ? stateid() : stateid);
      encodeSetAttrs(w, attrs);
    },
    (r) => decodeBitmap4(r, 'attrsset'),
    { decodeFailure: (r) => decodeBitmap4(r, 'attrsset') },
  );
}

/** `fattr` is an encoded fattr4 (attrs.ts fattr4TypeBytes). Fails with NFS4ERR_NOT_SAME when the attributes differ. */
export function opVerify(fattr: Buffer): Op<void> {
  return op(C.OP_VERIFY, false, (w) => w.fixed(fattr), noResult);
}
/** Fails with NFS4ERR_SAME when the attributes are equal. */
export function opNverify(fattr: Buffer): Op<void> {
  return op(C.OP_NVERIFY, false, (w) => w.fixed(fattr), noResult);
}

export interface AccessResult {
  supported: number;
  access: number;
}
export function opAccess(mask: number): Op<AccessResult> {
  return op(
    C.OP_ACCESS,
    false,
    (w) => w.u32(mask),
    (r) => ({ supported: r.u32('supported'), access: r.u32('access') }),
  );
}

// ---- data ------------------------------------------------------------------------

export function opReadlink(): Op<string> {
  return op(C.OP_READLINK, false, noArgs, (r) => r.string(0xffff, 'linktext4'));
}

/** `data` is a zero-copy view of the reply record. */
export interface ReadResult {
  eof: boolean;
  data: Buffer;
}
/** SEQUENCE4resok: sessionid, sequenceid, slotid, highest_slotid, target_highest_slotid, status_flags. */
const SEQUENCE4RESOK_BYTES = 16 + 5 * 4;

/**
 * Where READ's data starts in a COMPOUND4res of [SEQUENCE,] PUTFH, READ, for
 * a reply received straight into the caller's buffer (ReplyInto); undefined
 * for anything else (a failed op, other ops).
 */
export function locateRead4data(res: Buffer): { at: number; length: number } | undefined {
  if (res.length < 8 || res.readUInt32BE(0) !== nfsstat4.NFS4_OK) return undefined;
  const tagLen = res.readUInt32BE(4);
  let at = 8 + tagLen + ((4 - (tagLen % 4)) % 4);
  if (res.length < at + 4) return undefined;
  const n = res.readUInt32BE(at);
  at += 4;
  for (let i = 0; i < n; i++) {
    if (res.length < at + 8) return undefined;
    const resop = res.readUInt32BE(at);
    if (res.readUInt32BE(at + 4) !== nfsstat4.NFS4_OK) return undefined;
    at += 8;
    if (resop === C.OP_SEQUENCE) at += SEQUENCE4RESOK_BYTES;
    else if (resop === C.OP_READ) {
      // eof, then the opaque's length
      if (i !== n - 1 || res.length < at + 8) return undefined;
      return { at: at + 8, length: res.readUInt32BE(at + 4) };
    } else if (resop !== C.OP_PUTFH) return undefined;
  }
  return undefined;
}

/** With `into`, the data may have been received into the caller's buffer (the COMPOUND's last op must be this READ). */
export function opRead(stateid: Stateid, offset: number, count: number, into?: ReplyInto): Op<ReadResult> {
  checkU64('READ offset', offset);
  return new ReadOp(stateid, offset, count, into);
}

class ReadOp implements Op<ReadResult> {
  readonly opnum = C.OP_READ;
  readonly name = 'OP_READ';
  readonly nonIdempotent = false;
  constructor(
    private readonly stateid: Stateid,
    private readonly offset: number,
    private readonly count: number,
    private readonly into: ReplyInto | undefined,
  ) {}
  encode(w: XdrWriter): void {
    encodeStateid(w, this.stateid);
    w.u64(this.offset);
    w.u32(this.count);
  }
  decode(r: XdrReader): ReadResult {
    const eof = r.bool('eof');
    const into = this.into;
    const data = into !== undefined ? receivedOpaque(r, into, 'data', this.count) : r.opaque(this.count, 'data');
    return { eof, data };
  }
}

export interface WriteResult4 {
  count: number;
  committed: number;
  verf: Buffer;
}
const STABLE = new Set([C.UNSTABLE4, C.DATA_SYNC4, C.FILE_SYNC4]);
export function opWrite(stateid: Stateid, offset: number, stable: number, data: Buffer): Op<WriteResult4> {
  checkU64('WRITE offset', offset);
  return new WriteOp(stateid, offset, stable, data);
}

/**
 * The write verifier of the last WRITE reply, reused while replies carry
 * the same one (they do until the server restarts): no copy per WRITE.
 * Frozen contents by convention: callers compare verifiers, never write them.
 */
let lastVerf: Buffer | undefined;

function writeVerf(r: XdrReader, what: string): Buffer {
  const v = r.fixed(C.NFS4_VERIFIER_SIZE, what);
  if (lastVerf === undefined || !lastVerf.equals(v)) lastVerf = Buffer.from(v);
  return lastVerf;
}

class WriteOp implements Op<WriteResult4> {
  readonly opnum = C.OP_WRITE;
  readonly name = 'OP_WRITE';
  readonly nonIdempotent = false;
  constructor(
    private readonly stateid: Stateid,
    private readonly offset: number,
    private readonly stable: number,
    private readonly data: Buffer,
  ) {}
  encode(w: XdrWriter): void {
    encodeStateid(w, this.stateid);
    w.u64(this.offset);
    w.u32(this.stable);
    w.opaque(this.data);
  }
  decode(r: XdrReader): WriteResult4 {
    const count = r.u32('count');
    const committed = r.enumOf<number>(STABLE, 'committed');
    const verf = writeVerf(r, 'writeverf');
    if (count > this.data.length) throw new XdrDecodeError(`OP_WRITE: server claims ${count} bytes written of ${this.data.length} sent`, 'count');
    return { count, committed, verf };
  }
}

export function opCommit(offset = 0, count = 0): Op<Buffer> {
  return op(
    C.OP_COMMIT,
    false,
    (w) => {
      w.u64(offset);
      w.u32(count);
    },
    (r) => Buffer.from(r.fixed(C.NFS4_VERIFIER_SIZE, 'writeverf')),
  );
}

// ---- directory ops ------------------------------------------------------------------

export interface CreateResult {
  cinfo: ChangeInfo;
  attrset: number[];
}

export type CreateType =
  | { type: typeof C.NF4DIR | typeof C.NF4SOCK | typeof C.NF4FIFO }
  | { type: typeof C.NF4LNK; linkdata: string }
  | { type: typeof C.NF4BLK | typeof C.NF4CHR; specdata1: number; specdata2: number };

export function opCreate(objtype: CreateType, name: string, attrs: SetAttrs): Op<CreateResult> {
  checkName(name, 'CREATE');
  return op(
    C.OP_CREATE,
    true,
    (w) => {
      w.u32(objtype.type);
      if (objtype.type === C.NF4LNK) w.string(objtype.linkdata);
      else if (objtype.type === C.NF4BLK || objtype.type === C.NF4CHR) {
        w.u32(objtype.specdata1);
        w.u32(objtype.specdata2);
      }
      w.string(name);
      encodeSetAttrs(w, attrs);
    },
    (r) => ({ cinfo: decodeChangeInfo(r), attrset: decodeBitmap4(r, 'attrset') }),
  );
}

export function opRemove(name: string): Op<ChangeInfo> {
  checkName(name, 'REMOVE');
  return op(C.OP_REMOVE, true, (w) => w.string(name), decodeChangeInfo);
}

export function opRename(oldname: string, newname: string): Op<{ source: ChangeInfo; target: ChangeInfo }> {
  checkName(oldname, 'RENAME');
  checkName(newname, 'RENAME');
  return op(
    C.OP_RENAME,
    true,
    (w) => {
      w.string(oldname);
      w.string(newname);
    },
    (r) => ({ source: decodeChangeInfo(r), target: decodeChangeInfo(r) }),
  );
}

export function opLink(newname: string): Op<ChangeInfo> {
  checkName(newname, 'LINK');
  return op(C.OP_LINK, true, (w) => w.string(newname), decodeChangeInfo);
}

export interface Entry4 {
  cookie: bigint;
  name: string;
  attrs: Fattr4;
}
export interface ReaddirResult {
  cookieverf: Buffer;
  entries: Entry4[];
  eof: boolean;
}
/** Entries per READDIR reply: a ceiling no real reply nears (an entry takes at least 20 bytes). */
const MAX_READDIR_ENTRIES = 1_000_000;
/** component4 in replies: above NAME_MAX on purpose, as nfs3/procedures.ts. */
const MAX_REPLY_NAME = 4096;

export function opReaddir(cookie: bigint, cookieverf: Buffer, dircount: number, maxcount: number, request: Buffer): Op<ReaddirResult> {
  return op(
    C.OP_READDIR,
    false,
    (w) => {
      w.u64(cookie);
      w.fixed(cookieverf);
      w.u32(dircount);
      w.u32(maxcount);
      w.fixed(request);
    },
    (r) => {
      const cookieverf = Buffer.from(r.fixed(C.NFS4_VERIFIER_SIZE, 'cookieverf'));
      // Iterative: a long or hostile list cannot grow the stack.
      const entries = r.list(
        MAX_READDIR_ENTRIES,
        (e) => ({ cookie: e.u64('entry4.cookie'), name: e.string(MAX_REPLY_NAME, 'entry4.name'), attrs: decodeFattr4(e, 'entry4.attrs') }),
        'entry4',
      );
      return { cookieverf, entries, eof: r.bool('eof') };
    },
  );
}

// ---- open state --------------------------------------------------------------------

export type OpenHow =
  | { create: false }
  | { create: true; mode: typeof C.UNCHECKED4 | typeof C.GUARDED4; attrs: SetAttrs }
  | { create: true; mode: typeof C.EXCLUSIVE4; verf: Buffer }
  | { create: true; mode: typeof C.EXCLUSIVE4_1; verf: Buffer; attrs: SetAttrs };

export type OpenClaim = { claim: typeof C.CLAIM_NULL; name: string } | { claim: typeof C.CLAIM_FH } | { claim: typeof C.CLAIM_PREVIOUS; delegateType: number };

export interface OpenArgs {
  seqid: () => number;
  shareAccess: number;
  shareDeny: number;
  owner: OwnerArg;
  how: OpenHow;
  claim: OpenClaim;
}

export interface Delegation {
  type: number;
  /** Present for READ and WRITE delegations: the stateid to DELEGRETURN. */
  stateid?: Stateid;
}

export interface OpenResult {
  stateid: Stateid;
  cinfo: ChangeInfo;
  rflags: number;
  attrset: number[];
  delegation: Delegation;
}

function encodeVerifier(w: XdrWriter, v: Buffer): void {
  if (v.length !== C.NFS4_VERIFIER_SIZE) throw new RangeError(`verifier4 must be ${C.NFS4_VERIFIER_SIZE} bytes, got ${v.length}`);
  w.fixed(v);
}

function skipNfsace4(r: XdrReader): void {
  r.u32('nfsace4.type');
  r.u32('nfsace4.flag');
  r.u32('nfsace4.access_mask');
  r.opaque(C.NFS4_OPAQUE_LIMIT, 'nfsace4.who');
}

function decodeDelegation(r: XdrReader): Delegation {
  const type = r.u32('delegation_type');
  switch (type) {
    case C.OPEN_DELEGATE_NONE:
      return { type };
    case C.OPEN_DELEGATE_READ: {
      const stateid = decodeStateid(r, 'delegation.stateid');
      r.bool('recall');
      skipNfsace4(r);
      return { type, stateid };
    }
    case C.OPEN_DELEGATE_WRITE: {
      const stateid = decodeStateid(r, 'delegation.stateid');
      r.bool('recall');
      const limitby = r.u32('limitby');
      if (limitby === C.NFS_LIMIT_SIZE) r.u64('filesize');
      else if (limitby === C.NFS_LIMIT_BLOCKS) {
        r.u32('num_blocks');
        r.u32('bytes_per_block');
      } else throw new XdrDecodeError(`XDR: invalid limitby ${limitby}`, 'limitby');
      skipNfsace4(r);
      return { type, stateid };
    }
    case C.OPEN_DELEGATE_NONE_EXT: {
      const why = r.u32('ond_why');
      if (why === C.WND4_CONTENTION || why === C.WND4_RESOURCE) r.bool('ond_server_will');
      return { type };
    }
    default:
      throw new XdrDecodeError(`XDR: invalid open_delegation_type4 ${type}`, 'delegation_type');
  }
}

export function opOpen(a: OpenArgs): Op<OpenResult> {
  if (a.claim.claim === C.CLAIM_NULL) checkName(a.claim.name, 'OPEN');
  return op(
    C.OP_OPEN,
    true,
    (w) => {
      w.u32(a.seqid());
      w.u32(a.shareAccess);
      w.u32(a.shareDeny);
      encodeOwner(w, a.owner);
      const h = a.how;
      if (!h.create) w.u32(C.OPEN4_NOCREATE);
      else {
        w.u32(C.OPEN4_CREATE);
        w.u32(h.mode);
        switch (h.mode) {
          case C.UNCHECKED4:
          case C.GUARDED4:
            encodeSetAttrs(w, h.attrs);
            break;
          case C.EXCLUSIVE4:
            encodeVerifier(w, h.verf);
            break;
          case C.EXCLUSIVE4_1:
            encodeVerifier(w, h.verf);
            encodeSetAttrs(w, h.attrs);
            break;
        }
      }
      const c = a.claim;
      w.u32(c.claim);
      if (c.claim === C.CLAIM_NULL) w.string(c.name);
      else if (c.claim === C.CLAIM_PREVIOUS) w.u32(c.delegateType);
    },
    (r) => ({
      stateid: decodeStateid(r),
      cinfo: decodeChangeInfo(r),
      rflags: r.u32('rflags'),
      attrset: decodeBitmap4(r, 'attrset'),
      delegation: decodeDelegation(r),
    }),
  );
}

export function opOpenConfirm(stateid: () => Stateid, seqid: () => number): Op<Stateid> {
  return op(
    C.OP_OPEN_CONFIRM,
    true,
    (w) => {
      encodeStateid(w, stateid());
      w.u32(seqid());
    },
    (r) => decodeStateid(r),
  );
}

export function opClose(seqid: () => number, stateid: () => Stateid): Op<Stateid> {
  return op(
    C.OP_CLOSE,
    true,
    (w) => {
      w.u32(seqid());
      encodeStateid(w, stateid());
    },
    (r) => decodeStateid(r),
  );
}

export function opDelegreturn(stateid: Stateid): Op<void> {
  return op(C.OP_DELEGRETURN, true, (w) => encodeStateid(w, stateid), noResult);
}

export function opFreeStateid(stateid: Stateid): Op<void> {
  return op(C.OP_FREE_STATEID, true, (w) => encodeStateid(w, stateid), noResult);
}

// ---- locks ---------------------------------------------------------------------------

/** The conflicting lock a LOCK or LOCKT was DENIED by. */
export interface LockDenied {
  offset: bigint;
  length: bigint;
  locktype: number;
  owner: { clientid: bigint; owner: Buffer };
}

function decodeLockDenied(r: XdrReader): LockDenied {
  return { offset: r.u64('denied.offset'), length: r.u64('denied.length'), locktype: r.u32('denied.locktype'), owner: decodeOwner(r, 'denied.owner') };
}

const failDenied = (r: XdrReader, s: number): unknown => (s === nfsstat4.NFS4ERR_DENIED ? decodeLockDenied(r) : undefined);

export type Locker =
  /** First lock of this lock-owner: open_to_lock_owner4. */
  | { newLockOwner: true; openSeqid: () => number; openStateid: () => Stateid; lockSeqid: () => number; lockOwner: OwnerArg }
  /** Later locks: exist_lock_owner4. */
  | { newLockOwner: false; lockStateid: () => Stateid; lockSeqid: () => number };

export function opLock(locktype: number, reclaim: boolean, offset: bigint, length: bigint, locker: Locker): Op<Stateid> {
  return op(
    C.OP_LOCK,
    true,
    (w) => {
      w.u32(locktype);
      w.bool(reclaim);
      w.u64(offset);
      w.u64(length);
      w.bool(locker.newLockOwner);
      if (locker.newLockOwner) {
        w.u32(locker.openSeqid());
        encodeStateid(w, locker.openStateid());
        w.u32(locker.lockSeqid());
        encodeOwner(w, locker.lockOwner);
      } else {
        encodeStateid(w, locker.lockStateid());
        w.u32(locker.lockSeqid());
      }
    },
    (r) => decodeStateid(r, 'lock_stateid'),
    { decodeFailure: failDenied },
  );
}

export function opLockt(locktype: number, offset: bigint, length: bigint, owner: OwnerArg): Op<void> {
  return op(
    C.OP_LOCKT,
    false,
    (w) => {
      w.u32(locktype);
      w.u64(offset);
      w.u64(length);
      encodeOwner(w, owner);
    },
    noResult,
    { decodeFailure: failDenied },
  );
}

export function opLocku(locktype: number, seqid: () => number, lockStateid: () => Stateid, offset: bigint, length: bigint): Op<Stateid> {
  return op(
    C.OP_LOCKU,
    true,
    (w) => {
      w.u32(locktype);
      w.u32(seqid());
      encodeStateid(w, lockStateid());
      w.u64(offset);
      w.u64(length);
    },
    (r) => decodeStateid(r, 'lock_stateid'),
  );
}

export function opReleaseLockowner(owner: OwnerArg): Op<void> {
  return op(C.OP_RELEASE_LOCKOWNER, true, (w) => encodeOwner(w, owner), noResult);
}

// ---- 4.0 client id ---------------------------------------------------------------------

export function opRenew(clientid: () => bigint): Op<void> {
  return op(C.OP_RENEW, false, (w) => w.u64(clientid()), noResult);
}

export interface SetclientidArgs {
  verifier: Buffer;
  id: Buffer;
  cbProgram: number;
  cbNetid: string;
  cbAddr: string;
  callbackIdent: number;
}
export interface SetclientidResult {
  clientid: bigint;
  confirm: Buffer;
}
export function opSetclientid(a: SetclientidArgs): Op<SetclientidResult> {
  return op(
    C.OP_SETCLIENTID,
    true,
    (w) => {
      encodeVerifier(w, a.verifier);
      w.opaque(a.id);
      w.u32(a.cbProgram);
      w.string(a.cbNetid);
      w.string(a.cbAddr);
      w.u32(a.callbackIdent);
    },
    (r) => ({ clientid: r.u64('clientid'), confirm: Buffer.from(r.fixed(C.NFS4_VERIFIER_SIZE, 'setclientid_confirm')) }),
    {
      decodeFailure: (r, s) =>
        s === nfsstat4.NFS4ERR_CLID_INUSE ? { netid: r.string(C.NFS4_OPAQUE_LIMIT, 'r_netid'), addr: r.string(C.NFS4_OPAQUE_LIMIT, 'r_addr') } : undefined,
    },
  );
}

export function opSetclientidConfirm(clientid: bigint, confirm: Buffer): Op<void> {
  return op(
    C.OP_SETCLIENTID_CONFIRM,
    true,
    (w) => {
      w.u64(clientid);
      encodeVerifier(w, confirm);
    },
    noResult,
  );
}

// ---- 4.1 sessions -----------------------------------------------------------------------

export interface ExchangeIdArgs {
  verifier: Buffer;
  ownerid: Buffer;
  flags: number;
}
export interface ExchangeIdResult {
  clientid: bigint;
  sequenceid: number;
  flags: number;
  serverOwnerMajor: Buffer;
  serverScope: Buffer;
  /** nii_name of the server implementation, when it sent one. */
  serverImpl?: string;
}

function skipStateProtectOps(r: XdrReader): void {
  decodeBitmap4(r, 'spo_must_enforce');
  decodeBitmap4(r, 'spo_must_allow');
}

export function opExchangeId(a: ExchangeIdArgs): Op<ExchangeIdResult> {
  return op(
    C.OP_EXCHANGE_ID,
    true,
    (w) => {
      encodeVerifier(w, a.verifier);
      w.opaque(a.ownerid);
      w.u32(a.flags);
      w.u32(C.SP4_NONE);
      w.u32(0); // eia_client_impl_id<1>: none
    },
    (r) => {
      const clientid = r.u64('eir_clientid');
      const sequenceid = r.u32('eir_sequenceid');
      const flags = r.u32('eir_flags');
      const how = r.u32('spr_how');
      if (how === C.SP4_MACH_CRED) skipStateProtectOps(r);
      else if (how === C.SP4_SSV) {
        skipStateProtectOps(r);
        r.u32('spi_hash_alg');
        r.u32('spi_encr_alg');
        r.u32('spi_ssv_len');
        r.u32('spi_window');
        const n = r.count(64, 4, 'spi_handles');
        for (let i = 0; i < n; i++) r.opaque(C.NFS4_OPAQUE_LIMIT, 'spi_handles');
      } else if (how !== C.SP4_NONE) throw new XdrDecodeError(`XDR: invalid state_protect_how4 ${how}`, 'spr_how');
      r.u64('so_minor_id');
      const serverOwnerMajor = Buffer.from(r.opaque(C.NFS4_OPAQUE_LIMIT, 'so_major_id'));
      const serverScope = Buffer.from(r.opaque(C.NFS4_OPAQUE_LIMIT, 'eir_server_scope'));
      const impls = r.count(1, 20, 'eir_server_impl_id');
      let serverImpl: string | undefined;
      if (impls === 1) {
        r.string(C.NFS4_OPAQUE_LIMIT, 'nii_domain');
        serverImpl = r.string(C.NFS4_OPAQUE_LIMIT, 'nii_name');
        r.i64('nii_date.seconds');
        r.u32('nii_date.nseconds');
      }
      return { clientid, sequenceid, flags, serverOwnerMajor, serverScope, ...(serverImpl !== undefined ? { serverImpl } : {}) };
    },
  );
}

export interface ChannelAttrs {
  headerPadSize: number;
  maxRequestSize: number;
  maxResponseSize: number;
  maxResponseSizeCached: number;
  maxOperations: number;
  maxRequests: number;
}

function encodeChannelAttrs(w: XdrWriter, c: ChannelAttrs): void {
  w.u32(c.headerPadSize);
  w.u32(c.maxRequestSize);
  w.u32(c.maxResponseSize);
  w.u32(c.maxResponseSizeCached);
  w.u32(c.maxOperations);
  w.u32(c.maxRequests);
  w.u32(0); // ca_rdma_ird<1>: none
}

function decodeChannelAttrs(r: XdrReader): ChannelAttrs {
  const c: ChannelAttrs = {
    headerPadSize: r.u32('ca_headerpadsize'),
    maxRequestSize: r.u32('ca_maxrequestsize'),
    maxResponseSize: r.u32('ca_maxresponsesize'),
    maxResponseSizeCached: r.u32('ca_maxresponsesize_cached'),
    maxOperations: r.u32('ca_maxoperations'),
    maxRequests: r.u32('ca_maxrequests'),
  };
  if (r.count(1, 4, 'ca_rdma_ird') === 1) r.u32('ca_rdma_ird');
  return c;
}

export interface CreateSessionArgs {
  clientid: bigint;
  sequence: number;
  flags: number;
  fore: ChannelAttrs;
  back: ChannelAttrs;
  cbProgram: number;
}
export interface CreateSessionResult {
  sessionid: Buffer;
  sequence: number;
  flags: number;
  fore: ChannelAttrs;
  back: ChannelAttrs;
}

export function opCreateSession(a: CreateSessionArgs): Op<CreateSessionResult> {
  return op(
    C.OP_CREATE_SESSION,
    true,
    (w) => {
      w.u64(a.clientid);
      w.u32(a.sequence);
      w.u32(a.flags);
      encodeChannelAttrs(w, a.fore);
      encodeChannelAttrs(w, a.back);
      w.u32(a.cbProgram);
      w.u32(1); // csa_sec_parms<>: one entry,
      w.u32(0); // AUTH_NONE
    },
    (r) => ({
      sessionid: Buffer.from(r.fixed(C.NFS4_SESSIONID_SIZE, 'csr_sessionid')),
      sequence: r.u32('csr_sequence'),
      flags: r.u32('csr_flags'),
      fore: decodeChannelAttrs(r),
      back: decodeChannelAttrs(r),
    }),
  );
}

export function opDestroySession(sessionid: Buffer): Op<void> {
  return op(C.OP_DESTROY_SESSION, true, (w) => w.fixed(sessionid), noResult);
}

export function opDestroyClientid(clientid: bigint): Op<void> {
  return op(C.OP_DESTROY_CLIENTID, true, (w) => w.u64(clientid), noResult);
}

/** BIND_CONN_TO_SESSION (RFC 8881 §18.34): this connection carries the session's fore channel. Alone in its COMPOUND. */
export function opBindConnToSession(sessionid: Buffer): Op<{ dir: number }> {
  return op(
    C.OP_BIND_CONN_TO_SESSION,
    false,
    (w) => {
      w.fixed(sessionid);
      w.u32(C.CDFC4_FORE);
      w.bool(false);
    },
    (r) => {
      r.fixed(16, 'bctsr_sessid');
      const dir = r.u32('bctsr_dir');
      r.bool('bctsr_use_conn_in_rdma_mode');
      return { dir };
    },
  );
}

export function opReclaimComplete(oneFs: boolean): Op<void> {
  return op(C.OP_RECLAIM_COMPLETE, true, (w) => w.bool(oneFs), noResult);
}

export interface SequenceArgs {
  sessionid: Buffer;
  sequenceid: number;
  slotid: number;
  highestSlotid: number;
  cachethis: boolean;
}
export interface SequenceResult {
  sequenceid: number;
  slotid: number;
  highestSlotid: number;
  targetHighestSlotid: number;
  statusFlags: number;
}

export function opSequence(a: SequenceArgs): Op<SequenceResult> {
  return new SequenceOp(a.sessionid, a.sequenceid, a.slotid, a.highestSlotid, a.cachethis);
}

/** SEQUENCE. The reply's sr_sessionid is skipped, not copied: the reply is matched to its call by xid, and its slot and sequenceid are checked (session.ts). */
export class SequenceOp implements Op<SequenceResult> {
  readonly opnum = C.OP_SEQUENCE;
  readonly name = 'OP_SEQUENCE';
  readonly nonIdempotent = false;
  constructor(
    readonly sessionid: Buffer,
    readonly sequenceid: number,
    readonly slotid: number,
    readonly highestSlotid: number,
    readonly cachethis: boolean,
  ) {}
  encode(w: XdrWriter): void {
    w.fixed(this.sessionid);
    w.u32(this.sequenceid);
    w.u32(this.slotid);
    w.u32(this.highestSlotid);
    w.bool(this.cachethis);
  }
  decode(r: XdrReader): SequenceResult {
    r.skip(C.NFS4_SESSIONID_SIZE, 'sr_sessionid');
    return {
      sequenceid: r.u32('sr_sequenceid'),
      slotid: r.u32('sr_slotid'),
      highestSlotid: r.u32('sr_highest_slotid'),
      targetHighestSlotid: r.u32('sr_target_highest_slotid'),
      statusFlags: r.u32('sr_status_flags'),
    };
  }
}

// ---- 4.2 ---------------------------------------------------------------------------------

export interface CopyResult {
  /** Present when the server went asynchronous despite ca_synchronous: poll OFFLOAD_STATUS with it. */
  callbackId?: Stateid;
  count: number;
  committed: number;
  verf: Buffer;
  consecutive: boolean;
  synchronous: boolean;
}

export function opCopy(src: Stateid, dst: Stateid, srcOffset: number, dstOffset: number, count: number): Op<CopyResult> {
  checkU64('COPY src offset', srcOffset);
  checkU64('COPY dst offset', dstOffset);
  checkU64('COPY count', count);
  return op(
    C.OP_COPY,
    true,
    (w) => {
      encodeStateid(w, src);
      encodeStateid(w, dst);
      w.u64(srcOffset);
      w.u64(dstOffset);
      w.u64(count);
      w.bool(true); // ca_consecutive
      w.bool(true); // ca_synchronous
      w.u32(0); // ca_source_server<>: intra-server copy
    },
    (r) => {
      const n = r.count(1, 16, 'wr_callback_id');
      const callbackId = n === 1 ? decodeStateid(r, 'wr_callback_id') : undefined;
      const count = r.u64n('wr_count');
      const committed = r.enumOf<number>(STABLE, 'wr_committed');
      const verf = Buffer.from(r.fixed(C.NFS4_VERIFIER_SIZE, 'wr_writeverf'));
      const consecutive = r.bool('cr_consecutive');
      const synchronous = r.bool('cr_synchronous');
      return { ...(callbackId ? { callbackId } : {}), count, committed, verf, consecutive, synchronous };
    },
    {
      decodeFailure: (r, s) =>
        s === nfsstat4.NFS4ERR_OFFLOAD_NO_REQS ? { consecutive: r.bool('cr_consecutive'), synchronous: r.bool('cr_synchronous') } : undefined,
    },
  );
}

export interface OffloadStatus {
  count: number;
  /** Absent while the copy runs; the copy's final status once it is done. */
  complete?: number;
}
export function opOffloadStatus(stateid: Stateid): Op<OffloadStatus> {
  return op(
    C.OP_OFFLOAD_STATUS,
    false,
    (w) => encodeStateid(w, stateid),
    (r) => {
      const count = r.u64n('osr_count');
      const n = r.count(1, 4, 'osr_complete');
      return n === 1 ? { count, complete: r.u32('osr_complete') } : { count };
    },
  );
}

export function opSeek(stateid: Stateid, offset: number, what: number): Op<{ eof: boolean; offset: number }> {
  checkU64('SEEK offset', offset);
  return op(
    C.OP_SEEK,
    false,
    (w) => {
      encodeStateid(w, stateid);
      w.u64(offset);
      w.u32(what);
    },
    (r) => ({ eof: r.bool('sr_eof'), offset: r.u64n('sr_offset') }),
  );
}

export function opAllocate(stateid: Stateid, offset: number, length: number): Op<void> {
  checkU64('ALLOCATE offset', offset);
  checkU64('ALLOCATE length', length);
  return op(
    C.OP_ALLOCATE,
    true,
    (w) => {
      encodeStateid(w, stateid);
      w.u64(offset);
      w.u64(length);
    },
    noResult,
  );
}

export function opDeallocate(stateid: Stateid, offset: number, length: number): Op<void> {
  checkU64('DEALLOCATE offset', offset);
  checkU64('DEALLOCATE length', length);
  return op(
    C.OP_DEALLOCATE,
    true,
    (w) => {
      encodeStateid(w, stateid);
      w.u64(offset);
      w.u64(length);
    },
    noResult,
  );
}
