/**
 * Byte-range locks (RFC 7530 §9.1.5, §16.10-12; RFC 8881 §18.10-12):
 * LOCK, LOCKT and LOCKU with one lock-owner per open.
 *
 * One lock-owner per open makes locks behave like Linux OFD locks: two
 * opens of a file by this client conflict with each other, and a lock goes
 * away with the open that took it (closeState unlocks the whole file).
 */
import { Nfs4OpError, statusError, type OpFailure } from './compound.js';
import * as C from './constants.js';
import { opLock, opLockt, opLocku, opPutfh, type LockDenied, type Op, type Stateid } from './ops.js';
import type { SendOptions } from './channel.js';
import type { HeldLock } from './lock-ranges.js';
import type { Nfs4OpenState, StateContext } from './open.js';
import { StateOwner } from './owners.js';
import { nfsstat4 } from './status.js';
import { InvalidArgError, invalidArgType } from '../errors.js';
import { AbortError } from '../rpc/errors.js';
import { realClock, sleep, type Clock } from './clock.js';

export interface LockOptions {
  /** A write (exclusive) lock; otherwise a read (shared) lock. */
  exclusive: boolean;
  /** Poll until the lock is granted (or `signal` aborts) instead of failing with EAGAIN. */
  wait?: boolean | undefined;
  signal?: AbortSignal | undefined;
}

/** Poll interval while waiting for a lock: from 50 ms, doubling, at most 1 s. */
export const LOCK_POLL_MIN_MS = 50;
export const LOCK_POLL_MAX_MS = 1000;

/**
 * The lock a LOCK or LOCKT ran into (fcntl F_GETLK's answer), in the shape
 * nlm/locks.ts gives for NFSv3 so the fs layer can treat both alike.
 */
export interface Nfs4LockConflict {
  exclusive: boolean;
  start: number;
  /** 0: to the end of the file. */
  length: number;
  /** The holder's lock-owner, as its client named it. */
  owner: Buffer;
  clientid: bigint;
}

export function toConflict(d: LockDenied): Nfs4LockConflict {
  const toEof = d.length === C.NFS4_UINT64_MAX || d.offset + d.length > BigInt(Number.MAX_SAFE_INTEGER);
  return {
    exclusive: d.locktype === C.WRITE_LT || d.locktype === C.WRITEW_LT,
    start: Number(d.offset),
    length: toEof ? 0 : Number(d.length),
    owner: d.owner.owner,
    clientid: d.owner.clientid,
  };
}

/**
 * A lock conflicts with one held by another lock-owner: EAGAIN, as
 * fcntl(F_SETLK) reports it, with the conflicting lock when the server
 * said which.
 */
export class Nfs4LockDeniedError extends Nfs4OpError {
  readonly conflict: Nfs4LockConflict | undefined;
  constructor(failure: OpFailure) {
    super(failure);
    this.name = 'Nfs4LockDeniedError';
    const d = failure.detail as LockDenied | undefined;
    this.conflict = d ? toConflict(d) : undefined;
  }
}

/**
 * fcntl-style range → NFSv4 offset/length. A length of 0 (or Infinity)
 * means "to the end of the file, however far it grows", which NFSv4 spells
 * as all ones (NFS4_UINT64_MAX).
 */
export function lockRange(start: number, length: number): { offset: bigint; length: bigint } {
  if (typeof start !== 'number') throw invalidArgType('start', 'of type number', start);
  if (typeof length !== 'number') throw invalidArgType('length', 'of type number', length);
  if (!Number.isSafeInteger(start) || start < 0) {
    throw new InvalidArgError('ERR_OUT_OF_RANGE', `The value of "start" is out of range. It must be a non-negative integer. Received ${start}`);
  }
  if (length === 0 || length === Infinity) return { offset: BigInt(start), length: C.NFS4_UINT64_MAX };
  if (!Number.isSafeInteger(length) || length < 0 || !Number.isSafeInteger(start + length)) {
    throw new InvalidArgError('ERR_OUT_OF_RANGE', `The value of "length" is out of range. It must be a non-negative integer, 0 or Infinity (to end of file). Received ${length}`);
  }
  return { offset: BigInt(start), length: BigInt(length) };
}

function attach<T>(o: Op<T>, settle: (s: number) => void): Op<T> {
  return { ...o, settle };
}

function checkOpen(ctx: StateContext, st: Nfs4OpenState, op: string): void {
  if (st.lost) throw st.lost;
  if (st.closed) throw statusError('NFS4ERR_BAD_STATEID', 'EBADF', op, 'the open state is closed');
  if (st.epoch !== ctx.channel.stateEpoch) throw statusError('NFS4ERR_STALE_STATEID', 'EIO', op, 'the open was lost when the server forgot this client');
}

/**
 * One LOCK attempt. The first lock of an open introduces its lock-owner
 * (open_to_lock_owner4, which in 4.0 also consumes an open-owner seqid, so
 * it runs under the open-owner's turn); later ones use the lock stateid.
 */
async function tryLock(
  ctx: StateContext,
  st: Nfs4OpenState,
  locktype: number,
  offset: bigint,
  length: bigint,
  signal: AbortSignal | undefined,
  reclaim = false,
  so?: SendOptions,
): Promise<OpFailure | undefined> {
  return st.lockExclusive(async () => {
    checkOpen(ctx, st, 'OP_LOCK');
    if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
    const epoch = ctx.channel.stateEpoch;
    const lo = (st.lockOwner ??= StateOwner.create(ctx.channel, 'lock', st.owner.sequenced, epoch));
    const exclusive = locktype === C.WRITE_LT || locktype === C.WRITEW_LT;
    const send = async (op: Op<Stateid>) => {
      // No signal on the wire: a LOCK aborted in flight might be granted
      // unbeknown to us (and would leave a 4.0 seqid unknown). Aborts take
      // effect between attempts.
      const reply = await ctx.channel.send(reclaim ? 'lock_reclaim' : 'lock', [opPutfh(st.fh), op], so);
      if (!reply.failure) {
        st.lockStateid = reply.results[1]!;
        st.locks.add(offset, length, exclusive);
      }
      return reply.failure;
    };
    if (st.lockStateid) {
      const locker = { newLockOwner: false as const, lockStateid: () => st.lockStateid!, lockSeqid: lo.seqid };
      return send(attach(opLock(locktype, reclaim, offset, length, locker), lo.settle));
    }
    return st.owner.exclusive(() => {
      const locker = { newLockOwner: true as const, openSeqid: st.owner.seqid, openStateid: () => st.stateid, lockSeqid: lo.seqid, lockOwner: lo };
      return send(
        attach(opLock(locktype, reclaim, offset, length, locker), (s) => {
          st.owner.settle(s);
          lo.settle(s);
        }),
      );
    });
  });
}

/**
 * Takes back, with LOCK reclaim = true, the ranges `st` held before the
 * server restarted; `st` has just been reclaimed (CLAIM_PREVIOUS) in the
 * server's grace period. The first refusal is thrown (NFS4ERR_NO_GRACE,
 * RECLAIM_BAD, RECLAIM_CONFLICT...); ranges taken before it stay held.
 */
export async function reclaimLocks(ctx: StateContext, st: Nfs4OpenState, held: HeldLock[], so: SendOptions): Promise<void> {
  for (const h of held) {
    const f = await tryLock(ctx, st, h.exclusive ? C.WRITE_LT : C.READ_LT, h.offset, h.length, undefined, true, so);
    if (f) throw new Nfs4OpError(f);
  }
}

/**
 * Takes a byte-range lock for an open. Without `wait`, a conflict fails at
 * once with Nfs4LockDeniedError (EAGAIN). With `wait`, LOCK is retried with
 * backoff (50 ms doubling to 1 s) until granted, or until `signal` aborts
 * (AbortError; an attempt already on the wire finishes first, so whether
 * the lock is held is never unknown). There is no server push to wake us: NFSv4.1's
 * CB_NOTIFY_LOCK needs a back channel this client does not open.
 */
export async function lock(ctx: StateContext, st: Nfs4OpenState, start: number, length: number, o: LockOptions, clock: Clock = realClock): Promise<void> {
  const r = lockRange(start, length);
  const locktype = o.exclusive ? (o.wait ? C.WRITEW_LT : C.WRITE_LT) : o.wait ? C.READW_LT : C.READ_LT;
  let delay = LOCK_POLL_MIN_MS;
  for (;;) {
    const f = await tryLock(ctx, st, locktype, r.offset, r.length, o.signal);
    if (!f) return;
    if (f.status !== nfsstat4.NFS4ERR_DENIED) throw new Nfs4OpError(f);
    if (!o.wait) throw new Nfs4LockDeniedError(f);
    await sleep(clock, delay, o.signal);
    delay = Math.min(delay * 2, LOCK_POLL_MAX_MS);
  }
}

/** Releases a byte range (LOCKU). Unlocking what is not locked succeeds, as with fcntl. */
export async function unlock(ctx: StateContext, st: Nfs4OpenState, start: number, length: number, signal?: AbortSignal): Promise<void> {
  const r = lockRange(start, length);
  await st.lockExclusive(async () => {
    checkOpen(ctx, st, 'OP_LOCKU');
    const lo = st.lockOwner;
    if (!lo || !st.lockStateid) return;
    const op = attach(
      opLocku(C.WRITE_LT, lo.seqid, () => st.lockStateid!, r.offset, r.length),
      lo.settle,
    );
    if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
    const [, next] = await ctx.channel.run('unlock', [opPutfh(st.fh), op]);
    st.lockStateid = next;
    st.locks.remove(r.offset, r.length);
  });
}

/**
 * LOCKT: the lock that would conflict with this one, or undefined if it
 * would be granted now (F_GETLK). Locks of this open's own lock-owner never
 * conflict.
 */
export async function testLock(ctx: StateContext, st: Nfs4OpenState, start: number, length: number, exclusive: boolean, signal?: AbortSignal): Promise<Nfs4LockConflict | undefined> {
  const r = lockRange(start, length);
  checkOpen(ctx, st, 'OP_LOCKT');
  const lo = (st.lockOwner ??= StateOwner.create(ctx.channel, 'lock', st.owner.sequenced, ctx.channel.stateEpoch));
  const reply = await ctx.channel.send('lockt', [opPutfh(st.fh), opLockt(exclusive ? C.WRITE_LT : C.READ_LT, r.offset, r.length, lo)], { signal });
  const f = reply.failure;
  if (!f) return undefined;
  if (f.status === nfsstat4.NFS4ERR_DENIED) {
    const d = f.detail as LockDenied | undefined;
    return d ? toConflict(d) : { exclusive: true, start, length: r.length === C.NFS4_UINT64_MAX ? 0 : length, owner: Buffer.alloc(0), clientid: 0n };
  }
  throw new Nfs4OpError(f);
}
