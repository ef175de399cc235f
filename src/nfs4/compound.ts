/**
 * COMPOUND (RFC 7530 §15.2, RFC 8881 §16.2): the one NFSv4 procedure.
 *
 *   COMPOUND4args { utf8str_cs tag; uint32_t minorversion; nfs_argop4 argarray<>; }
 *   COMPOUND4res  { nfsstat4 status; utf8str_cs tag; nfs_resop4 resarray<>; }
 *
 * The server runs the ops in order and stops at the first that fails, so a
 * reply holds one result per op up to and including the failing one. Each
 * result is decoded by the op that asked for it (ops.ts); the first failure
 * is reported with the op's name, e.g. OP_LOOKUP.
 */
import { NfsStatusError } from '../errors.js';
import { XdrDecodeError } from '../xdr/errors.js';
import type { XdrReader } from '../xdr/reader.js';
import type { XdrWriter } from '../xdr/writer.js';
import { NFS4_OPAQUE_LIMIT, OP_ILLEGAL, opName } from './constants.js';
import type { AnyOp, Op } from './ops.js';
import { NFS4_OK, nfsstat4Errno, nfsstat4Name } from './status.js';

/** Ops in one COMPOUND we accept a reply for; RFC 8881 servers advertise far fewer (ca_maxoperations). */
export const MAX_COMPOUND_OPS = 2048;

export type OpResults<T extends readonly AnyOp[]> = { -readonly [K in keyof T]: T[K] extends Op<infer R> ? R : never };

export interface OpFailure {
  /** Index of the failing op in the list sent; equal to the number of results when the COMPOUND failed before any op ran. */
  index: number;
  /** Its opnum, or -1 for a COMPOUND-level failure (NFS4ERR_MINOR_VERS_MISMATCH, ...). */
  opnum: number;
  /** OP_LOOKUP etc., or NFSPROC4_COMPOUND. */
  op: string;
  status: number;
  /** Body of the failure arm (LOCK4denied for NFS4ERR_DENIED, ...), when the op has one. */
  detail?: unknown;
}

export interface CompoundReply<T extends readonly AnyOp[]> {
  status: number;
  tag: string;
  /** Results by op index; entries from `failure.index` on are undefined. */
  results: Partial<OpResults<T>>;
  /** Status of every op the server answered, by index. */
  statuses: number[];
  failure?: OpFailure;
}

/**
 * The first failing op of a COMPOUND, as the fs layer sees it: an
 * NfsStatusError (status name + errno name + op name) that also carries
 * where in the COMPOUND it failed and the failure arm's body.
 */
export class Nfs4OpError extends NfsStatusError {
  constructor(
    /** Where in the COMPOUND it failed (op index and name) and the failing op's status and reply body. */
    readonly failure: OpFailure,
    message?: string,
  ) {
    super(nfsstat4Name(failure.status), nfsstat4Errno(failure.status), failure.op);
    if (message !== undefined) this.message = message;
    this.name = 'Nfs4OpError';
  }
}

/**
 * An NfsStatusError raised by the client itself (a check before sending,
 * a server reply that breaks a rule): the status it stands for, the errno
 * the fs layer should report, the op it concerns, and why.
 */
export function statusError(status: string, errnoCode: string, op: string, why: string): NfsStatusError {
  return new NfsStatusError(status, errnoCode, op, why);
}

export function encodeCompound(w: XdrWriter, tag: string, minorversion: number, ops: readonly AnyOp[]): void {
  if (ops.length > MAX_COMPOUND_OPS) throw new RangeError(`COMPOUND: ${ops.length} ops exceed ${MAX_COMPOUND_OPS}`);
  w.string(tag);
  w.u32(minorversion);
  w.u32(ops.length);
  for (const o of ops) {
    w.u32(o.opnum);
    o.encode(w);
  }
}

export interface DecodeOptions {
  /**
   * Decode only as many results as there are ops and ignore the rest of the
   * reply. For the 4.1 slot probe, whose SEQUENCE may be answered with the
   * cached reply of an earlier, longer COMPOUND on the same slot.
   */
  prefixOnly?: boolean;
}

/**
 * Reads COMPOUND4res against the ops that were sent. Checks what the spec
 * promises: each result answers the op at its position (or is OP_ILLEGAL),
 * only the last result may fail, and a reply claiming success answers
 * every op.
 */
export function decodeCompound<const T extends readonly AnyOp[]>(r: XdrReader, ops: T, opts?: DecodeOptions): CompoundReply<T> {
  const status = r.u32('COMPOUND4res.status');
  const tag = r.string(NFS4_OPAQUE_LIMIT, 'COMPOUND4res.tag');
  const prefixOnly = opts?.prefixOnly === true;
  const n = r.count(prefixOnly ? MAX_COMPOUND_OPS : ops.length, 8, 'resarray');
  const results: unknown[] = [];
  const statuses: number[] = [];
  let failure: OpFailure | undefined;
  const upto = Math.min(n, ops.length);
  for (let i = 0; i < upto; i++) {
    const o = ops[i]!;
    const resop = r.u32('resop');
    const st = r.u32('nfsstat4');
    statuses.push(st);
    if (resop === OP_ILLEGAL) {
      // The server did not know the op: NFS4ERR_OP_ILLEGAL with no body.
      failure = { index: i, opnum: o.opnum, op: o.name, status: st };
      results.push(undefined);
    } else if (resop !== o.opnum) {
      throw new XdrDecodeError(`COMPOUND: result ${i} is for ${opName(resop)}, but ${o.name} was sent`, 'resop');
    } else if (st === NFS4_OK) {
      results.push(o.decode(r));
      continue;
    } else {
      const detail = o.decodeFailure?.(r, st);
      failure = detail !== undefined ? { index: i, opnum: o.opnum, op: o.name, status: st, detail } : { index: i, opnum: o.opnum, op: o.name, status: st };
      results.push(undefined);
    }
    if (i !== n - 1 && !prefixOnly) throw new XdrDecodeError(`COMPOUND: ${o.name} failed but ${n - 1 - i} more results follow`, 'resarray');
    break;
  }
  if (prefixOnly) return finish(status, tag, results, statuses, failure);
  r.done('COMPOUND4res');
  if (!failure && status !== NFS4_OK) {
    failure = { index: n, opnum: -1, op: 'NFSPROC4_COMPOUND', status };
  } else if (!failure && n < ops.length) {
    throw new XdrDecodeError(`COMPOUND: NFS4_OK with ${n} results for ${ops.length} ops`, 'resarray');
  }
  return finish(status, tag, results, statuses, failure);
}

function finish<T extends readonly AnyOp[]>(status: number, tag: string, results: unknown[], statuses: number[], failure: OpFailure | undefined): CompoundReply<T> {
  const reply: CompoundReply<T> = { status, tag, results: results as Partial<OpResults<T>>, statuses };
  if (failure) reply.failure = failure;
  return reply;
}

/** The results of a COMPOUND that must have succeeded; its first failure is thrown as Nfs4OpError. */
export function okResults<T extends readonly AnyOp[]>(reply: CompoundReply<T>): OpResults<T> {
  if (reply.failure) throw new Nfs4OpError(reply.failure);
  return reply.results as OpResults<T>;
}
