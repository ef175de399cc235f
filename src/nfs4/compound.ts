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
import { XdrWriter } from '../xdr/writer.js';
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

/**
 * COMPOUND4args' tag, encoded once per tag: the same few tags ('read',
 * 'write', 'getattr', ...) head every request. At most TAG_CACHE_MAX are
 * kept; past that a tag is encoded anew each time.
 */
const tagBytes = new Map<string, Buffer>();
const TAG_CACHE_MAX = 256;

function encodedTag(tag: string): Buffer {
  let b = tagBytes.get(tag);
  if (b === undefined) {
    const w = new XdrWriter(8 + tag.length * 3);
    w.string(tag);
    b = w.toBuffer();
    if (tagBytes.size < TAG_CACHE_MAX) tagBytes.set(tag, b);
  }
  return b;
}

/** COMPOUND4args; with `lead` (4.1's SEQUENCE), that op goes first, ahead of `ops`. */
export function encodeCompound(w: XdrWriter, tag: string, minorversion: number, ops: readonly AnyOp[], lead?: AnyOp): void {
  const n = ops.length + (lead ? 1 : 0);
  if (n > MAX_COMPOUND_OPS) throw new RangeError(`COMPOUND: ${n} ops exceed ${MAX_COMPOUND_OPS}`);
  w.fixed(encodedTag(tag));
  w.u32(minorversion);
  w.u32(n);
  if (lead) {
    w.u32(lead.opnum);
    lead.encode(w);
  }
  for (let i = 0; i < ops.length; i++) {
    const o = ops[i]!;
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
 *
 * The reply's tag is skipped, not decoded: servers echo the request's, and
 * nothing reads it (`tag` is the one sent, when given).
 */
export function decodeCompound<const T extends readonly AnyOp[]>(r: XdrReader, ops: T, opts?: DecodeOptions, sentTag = ''): CompoundReply<T> {
  return decodeLed(r, undefined, ops, opts?.prefixOnly === true, sentTag);
}

/**
 * A COMPOUND reply whose first result answers `lead` (4.1's SEQUENCE), sent
 * ahead of `ops`: the lead's status and result are kept apart, so indexes
 * in `results`, `statuses` and `failure` are those of `ops` (a failing lead
 * has index -1).
 */
export interface LedReply<T extends readonly AnyOp[]> extends CompoundReply<T> {
  /** The lead's status, or undefined when the COMPOUND failed before it ran. */
  leadStatus: number | undefined;
  /** The lead's result when leadStatus is NFS4_OK. */
  leadResult: unknown;
}

export function decodeLed<const T extends readonly AnyOp[]>(r: XdrReader, lead: AnyOp | undefined, ops: T, prefixOnly: boolean, sentTag: string): LedReply<T> {
  const status = r.u32('COMPOUND4res.status');
  const tagLen = r.u32('COMPOUND4res.tag');
  if (tagLen > NFS4_OPAQUE_LIMIT) throw new XdrDecodeError(`XDR: COMPOUND4res.tag length ${tagLen} exceeds maximum ${NFS4_OPAQUE_LIMIT}`, 'COMPOUND4res.tag');
  r.skip(tagLen, 'COMPOUND4res.tag');
  const off = lead ? 1 : 0;
  const sent = ops.length + off;
  const n = r.count(prefixOnly ? MAX_COMPOUND_OPS : sent, 8, 'resarray');
  const upto = Math.min(n, sent);
  const results: unknown[] = new Array(Math.max(0, upto - off));
  const statuses: number[] = new Array(Math.max(0, upto - off));
  const reply: LedReply<T> = { status, tag: sentTag, results: results as Partial<OpResults<T>>, statuses, leadStatus: undefined, leadResult: undefined };
  let failure: OpFailure | undefined;
  for (let i = 0; i < upto; i++) {
    const o = i < off ? lead! : ops[i - off]!;
    const resop = r.u32('resop');
    const st = r.u32('nfsstat4');
    if (i < off) reply.leadStatus = st;
    else statuses[i - off] = st;
    if (resop === OP_ILLEGAL) {
      // The server did not know the op: NFS4ERR_OP_ILLEGAL with no body.
      failure = { index: i - off, opnum: o.opnum, op: o.name, status: st };
      if (i >= off) results[i - off] = undefined;
    } else if (resop !== o.opnum) {
      throw new XdrDecodeError(`COMPOUND: result ${i} is for ${opName(resop)}, but ${o.name} was sent`, 'resop');
    } else if (st === NFS4_OK) {
      if (i < off) reply.leadResult = o.decode(r);
      else results[i - off] = o.decode(r);
      continue;
    } else {
      const detail = o.decodeFailure?.(r, st);
      failure = detail !== undefined ? { index: i - off, opnum: o.opnum, op: o.name, status: st, detail } : { index: i - off, opnum: o.opnum, op: o.name, status: st };
      if (i >= off) results[i - off] = undefined;
    }
    if (i !== n - 1 && !prefixOnly) throw new XdrDecodeError(`COMPOUND: ${o.name} failed but ${n - 1 - i} more results follow`, 'resarray');
    // Results are kept only up to the failing op.
    results.length = statuses.length = Math.max(0, i + 1 - off);
    break;
  }
  if (!prefixOnly) {
    r.done('COMPOUND4res');
    if (!failure && status !== NFS4_OK) {
      failure = { index: n - off, opnum: -1, op: 'NFSPROC4_COMPOUND', status };
    } else if (!failure && n < sent) {
      throw new XdrDecodeError(`COMPOUND: NFS4_OK with ${n} results for ${sent} ops`, 'resarray');
    }
  }
  if (failure) reply.failure = failure;
  return reply;
}

/** The results of a COMPOUND that must have succeeded; its first failure is thrown as Nfs4OpError. */
export function okResults<T extends readonly AnyOp[]>(reply: CompoundReply<T>): OpResults<T> {
  if (reply.failure) throw new Nfs4OpError(reply.failure);
  return reply.results as OpResults<T>;
}
