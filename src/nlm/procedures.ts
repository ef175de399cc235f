import type { CallOptions, RpcClient } from '../rpc/client.js';
import type { CallLabel } from '../rpc/message.js';
import { NFS3_FHSIZE } from '../nfs3/constants.js';
import type { XdrReader } from '../xdr/reader.js';
import type { XdrWriter } from '../xdr/writer.js';
import {
  LM_MAXSTRLEN,
  MAXNETOBJ_SZ,
  NLM4_DENIED,
  NLM4_VERS,
  NLM_PROG,
  NLMPROC4_CANCEL,
  NLMPROC4_LOCK,
  NLMPROC4_NULL,
  NLMPROC4_TEST,
  NLMPROC4_UNLOCK,
} from './constants.js';

function label(proc: number, name: string): CallLabel {
  return Object.freeze({ prog: NLM_PROG, vers: NLM4_VERS, proc, name });
}
const L_NULL = label(NLMPROC4_NULL, 'NLMPROC4_NULL');
const L_TEST = label(NLMPROC4_TEST, 'NLMPROC4_TEST');
const L_LOCK = label(NLMPROC4_LOCK, 'NLMPROC4_LOCK');
const L_CANCEL = label(NLMPROC4_CANCEL, 'NLMPROC4_CANCEL');
const L_UNLOCK = label(NLMPROC4_UNLOCK, 'NLMPROC4_UNLOCK');

// ---- types -----------------------------------------------------------------

/**
 * nlm4_lock: a byte range of one file, for one lock owner.
 *
 * The owner is the pair (oh, svid) as seen from `callerName`'s host: the
 * server treats requests that agree on all three as one POSIX lock owner
 * (whose locks merge, split and never conflict with each other) and any
 * difference as another owner that contends.
 */
export interface Nlm4Lock {
  /** string caller_name<LM_MAXSTRLEN>: the client's host name. */
  callerName: string;
  /** netobj fh: the file's NFSv3 handle (nfs_fh3 bytes). */
  fh: Buffer;
  /** netobj oh: owner handle, opaque to the server. */
  oh: Buffer;
  /** int32 svid: the owner's id on the client (a pid, for kernel clients). */
  svid: number;
  /** uint64 l_offset */
  offset: number | bigint;
  /** uint64 l_len: bytes from l_offset; 0 means "to the end of the file, however far it grows". */
  length: number | bigint;
}

export interface Nlm4TestArgs {
  cookie: Buffer;
  exclusive: boolean;
  alock: Nlm4Lock;
}

export interface Nlm4LockArgs {
  cookie: Buffer;
  /** TRUE asks the server to queue the request and call NLMPROC4_GRANTED back later. */
  block: boolean;
  exclusive: boolean;
  alock: Nlm4Lock;
  /** TRUE only to re-establish a lock after a server reboot, during its grace period. */
  reclaim: boolean;
  /** int32 state: the client's NSM state number. */
  state: number;
}

export interface Nlm4CancArgs {
  cookie: Buffer;
  block: boolean;
  exclusive: boolean;
  alock: Nlm4Lock;
}

export interface Nlm4UnlockArgs {
  cookie: Buffer;
  alock: Nlm4Lock;
}

/** nlm4_holder: the lock that conflicts, as NLMPROC4_TEST reports it. */
export interface Nlm4Holder {
  exclusive: boolean;
  svid: number;
  /** A copy: it outlives the reply record. */
  oh: Buffer;
  offset: bigint;
  /** 0n: to the end of the file. */
  length: bigint;
}

/**
 * nlm4_res (LOCK, CANCEL, UNLOCK, GRANTED). Every status is a value, not a
 * throw: the caller decides which ones to retry and builds its error with
 * its own stack.
 */
export interface Nlm4Res {
  cookie: Buffer;
  stat: number;
}

/** nlm4_testres: `holder` is present exactly when stat is NLM4_DENIED. */
export interface Nlm4TestRes {
  cookie: Buffer;
  stat: number;
  holder?: Nlm4Holder | undefined;
}

// ---- argument encoding -----------------------------------------------------
// XdrWriter.u32/i32 would silently wrap out-of-range numbers; these refuse them.

const U64_LIMIT = 1n << 64n;

function checkU64(v: number | bigint, what: string): void {
  if (typeof v === 'bigint') {
    if (v < 0n || v >= U64_LIMIT) throw new RangeError(`NLM4: ${what} must be a uint64, got ${v}`);
  } else if (!Number.isSafeInteger(v) || v < 0) {
    throw new RangeError(`NLM4: ${what} must be a non-negative safe integer or a bigint, got ${v}`);
  }
}

function checkI32(v: number, what: string): void {
  if (!Number.isInteger(v) || v < -0x8000_0000 || v > 0x7fff_ffff) throw new RangeError(`NLM4: ${what} must be an int32, got ${v}`);
}

function encodeNetobj(w: XdrWriter, b: Buffer, max: number, what: string): void {
  if (!Buffer.isBuffer(b)) throw new TypeError(`NLM4: ${what} must be a Buffer`);
  if (b.length > max) throw new RangeError(`NLM4: ${what} longer than ${max} bytes`);
  w.opaque(b);
}

/** nlm4_lock. The fh must be an NFSv3 handle (1..64 bytes), though netobj would carry more. */
export function encodeNlm4Lock(w: XdrWriter, l: Nlm4Lock): void {
  if (typeof l.callerName !== 'string') throw new TypeError('NLM4: caller_name must be a string');
  if (Buffer.byteLength(l.callerName, 'utf8') > LM_MAXSTRLEN) throw new RangeError(`NLM4: caller_name longer than ${LM_MAXSTRLEN} bytes`);
  if (!Buffer.isBuffer(l.fh)) throw new TypeError('NLM4: fh must be a Buffer');
  if (l.fh.length === 0 || l.fh.length > NFS3_FHSIZE) throw new RangeError(`NLM4: fh length ${l.fh.length} outside 1..${NFS3_FHSIZE}`);
  checkI32(l.svid, 'svid');
  checkU64(l.offset, 'l_offset');
  checkU64(l.length, 'l_len');
  w.string(l.callerName);
  w.opaque(l.fh);
  encodeNetobj(w, l.oh, MAXNETOBJ_SZ, 'oh');
  w.i32(l.svid);
  w.u64(l.offset);
  w.u64(l.length);
}

export function encodeNlm4TestArgs(w: XdrWriter, a: Nlm4TestArgs): void {
  encodeNetobj(w, a.cookie, MAXNETOBJ_SZ, 'cookie');
  w.bool(a.exclusive);
  encodeNlm4Lock(w, a.alock);
}

export function encodeNlm4LockArgs(w: XdrWriter, a: Nlm4LockArgs): void {
  checkI32(a.state, 'state');
  encodeNetobj(w, a.cookie, MAXNETOBJ_SZ, 'cookie');
  w.bool(a.block);
  w.bool(a.exclusive);
  encodeNlm4Lock(w, a.alock);
  w.bool(a.reclaim);
  w.i32(a.state);
}

export function encodeNlm4CancArgs(w: XdrWriter, a: Nlm4CancArgs): void {
  encodeNetobj(w, a.cookie, MAXNETOBJ_SZ, 'cookie');
  w.bool(a.block);
  w.bool(a.exclusive);
  encodeNlm4Lock(w, a.alock);
}

export function encodeNlm4UnlockArgs(w: XdrWriter, a: Nlm4UnlockArgs): void {
  encodeNetobj(w, a.cookie, MAXNETOBJ_SZ, 'cookie');
  encodeNlm4Lock(w, a.alock);
}

// ---- result decoding (exported for unit tests and fake servers) -------------

function decodeCookie(r: XdrReader): Buffer {
  // Some servers (HP-UX, per the Linux client) answer with an empty cookie;
  // nothing here depends on the echo, so any length up to the limit is taken.
  return Buffer.from(r.opaque(MAXNETOBJ_SZ, 'cookie'));
}

function decodeHolder(r: XdrReader): Nlm4Holder {
  return {
    exclusive: r.bool('holder.exclusive'),
    svid: r.i32('holder.svid'),
    oh: Buffer.from(r.opaque(MAXNETOBJ_SZ, 'holder.oh')),
    offset: r.u64('holder.l_offset'),
    length: r.u64('holder.l_len'),
  };
}

/**
 * nlm4_res. Any nlm4_stats value is accepted (an unknown one is still a
 * well-formed failure, named by nlm4StatsName); trailing bytes are not.
 */
export function decodeNlm4Res(r: XdrReader, what = 'nlm4_res'): Nlm4Res {
  const cookie = decodeCookie(r);
  const stat = r.u32('nlm4_stats');
  r.done(what);
  return { cookie, stat };
}

/** nlm4_testres: union nlm4_testrply switch (nlm4_stats) { case NLM4_DENIED: nlm4_holder; default: void }. */
export function decodeNlm4TestRes(r: XdrReader): Nlm4TestRes {
  const cookie = decodeCookie(r);
  const stat = r.u32('nlm4_stats');
  const res: Nlm4TestRes = { cookie, stat };
  if (stat === NLM4_DENIED) res.holder = decodeHolder(r);
  r.done('nlm4_testres');
  return res;
}

// ---- procedures --------------------------------------------------------------

export function nlm4Null(rpc: RpcClient, opts?: CallOptions): Promise<void> {
  return rpc.call(L_NULL, null, (r) => r.done('NLMPROC4_NULL reply'), opts);
}

/** NLMPROC4_TEST: would this lock be granted now? NLM4_DENIED comes with the holder of a conflicting lock. */
export function nlm4Test(rpc: RpcClient, args: Nlm4TestArgs, opts?: CallOptions): Promise<Nlm4TestRes> {
  return rpc.call(L_TEST, (w) => encodeNlm4TestArgs(w, args), decodeNlm4TestRes, opts);
}

/** NLMPROC4_LOCK. With block=FALSE a conflict answers NLM4_DENIED at once. */
export function nlm4Lock(rpc: RpcClient, args: Nlm4LockArgs, opts?: CallOptions): Promise<Nlm4Res> {
  return rpc.call(L_LOCK, (w) => encodeNlm4LockArgs(w, args), (r) => decodeNlm4Res(r, 'NLMPROC4_LOCK reply'), opts);
}

/** NLMPROC4_CANCEL: withdraws a blocked (NLM4_BLOCKED) request; the arguments must match the LOCK's. */
export function nlm4Cancel(rpc: RpcClient, args: Nlm4CancArgs, opts?: CallOptions): Promise<Nlm4Res> {
  return rpc.call(L_CANCEL, (w) => encodeNlm4CancArgs(w, args), (r) => decodeNlm4Res(r, 'NLMPROC4_CANCEL reply'), opts);
}

/** NLMPROC4_UNLOCK. Unlocking a range the owner does not hold is granted, as with fcntl. */
export function nlm4Unlock(rpc: RpcClient, args: Nlm4UnlockArgs, opts?: CallOptions): Promise<Nlm4Res> {
  return rpc.call(L_UNLOCK, (w) => encodeNlm4UnlockArgs(w, args), (r) => decodeNlm4Res(r, 'NLMPROC4_UNLOCK reply'), opts);
}
