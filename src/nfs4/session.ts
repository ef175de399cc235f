/**
 * NFSv4.1/4.2 sessions (RFC 8881 §2.10): EXCHANGE_ID, CREATE_SESSION,
 * SEQUENCE on every COMPOUND, RECLAIM_COMPLETE, DESTROY_SESSION +
 * DESTROY_CLIENTID on close, and lease renewal by SEQUENCE when idle.
 *
 * No back channel is created (CREATE_SESSION without CONN_BACK_CHAN), so
 * the server sends no callbacks on our connection; it grants no
 * delegations either (OPENs also say OPEN4_SHARE_ACCESS_WANT_NO_DELEG),
 * and SEQUENCE replies carry SEQ4_STATUS_CB_PATH_DOWN, which is expected.
 */
import { Nfs4OpError, okResults, type CompoundReply, type LedReply } from './compound.js';
import { Channel, isConnectionLoss, RETRY_MAX_MS, RETRY_MIN_MS, settleOps, type SendOptions } from './channel.js';
import { realClock, sleep, type Clock } from './clock.js';
import { NFS4_CALLBACK_PROGRAM, OP_SEQUENCE } from './constants.js';
import { LeaseRenewer } from './lease.js';
import {
  opCreateSession,
  opDestroyClientid,
  opDestroySession,
  opExchangeId,
  opReclaimComplete,
  opBindConnToSession,
  opSequence,
  SequenceOp,
  type AnyOp,
  type ChannelAttrs,
  type SequenceResult,
} from './ops.js';
import type { ClientOwner } from './owners.js';
import { SlotTable, type SlotLease } from './slots.js';
import { NFS4_OK, nfsstat4 } from './status.js';
import type { RpcClient } from '../rpc/client.js';
import { RpcClosedError } from '../rpc/errors.js';
import { XdrDecodeError } from '../xdr/errors.js';

export interface SessionOptions {
  minorVersion: 1 | 2;
  owner: ClientOwner;
  /** Slots wanted: the in-flight window. The server may grant fewer (ca_maxrequests). */
  slots: number;
  /** Largest request/reply we will send/accept, offered as ca_maxrequestsize/ca_maxresponsesize. */
  maxRequestSize: number;
  maxResponseSize: number;
  /** Per-call timeout (ms), also the budget for DELAY retries. */
  timeout: number;
  clock?: Clock;
}

/**
 * Ops per COMPOUND we ask for; the server answers with its own limit. 100
 * is what Ganesha enforces whatever it answers, and more than any request
 * of ours needs except very deep path walks (which split).
 */
const WANT_MAX_OPS = 100;
/** Largest reply the server should cache for a retry (OPEN + GETATTR and the like fit easily). */
const MAX_CACHED_REPLY = 16 * 1024;
/** Recoveries (new session or client id) one call may go through before it gives up. */
const MAX_RECOVERIES_PER_CALL = 3;

const BACK_CHANNEL: ChannelAttrs = Object.freeze({
  headerPadSize: 0,
  maxRequestSize: 4096,
  maxResponseSize: 4096,
  maxResponseSizeCached: 0,
  maxOperations: 2,
  maxRequests: 1,
});

const SESSION_GONE = new Set<number>([nfsstat4.NFS4ERR_BADSESSION, nfsstat4.NFS4ERR_DEADSESSION]);
const CLIENT_GONE = new Set<number>([nfsstat4.NFS4ERR_STALE_CLIENTID, nfsstat4.NFS4ERR_EXPIRED]);
/** SEQUENCE statuses that say the server already processed this sequenceid (a retry). */
const ALREADY_PROCESSED = new Set<number>([NFS4_OK, nfsstat4.NFS4ERR_RETRY_UNCACHED_REP, nfsstat4.NFS4ERR_SEQ_FALSE_RETRY]);

export class Session extends Channel {
  private cid = 0n;
  /** csa_sequence for the next CREATE_SESSION of this client id (eir_sequenceid, then +1 per session). */
  private csSequence = 0;
  private sessionid: Buffer = Buffer.alloc(16);
  /** The fore channel as negotiated. */
  fore: ChannelAttrs = { headerPadSize: 0, maxRequestSize: 0, maxResponseSize: 0, maxResponseSizeCached: 0, maxOperations: 0, maxRequests: 0 };
  readonly slots: SlotTable;
  stateEpoch = 0;
  /** sr_status_flags of the latest SEQUENCE (SEQ4_STATUS_*). */
  statusFlags = 0;
  /** Server implementation name from EXCHANGE_ID, when sent. */
  serverImpl: string | undefined;
  private renewer: LeaseRenewer | undefined;
  /** Set while a new session (and perhaps client id) is being made; calls wait for it. */
  private recovering: Promise<void> | undefined;
  private closed = false;

  private constructor(
    rpc: RpcClient,
    private readonly o: SessionOptions,
  ) {
    super(rpc, o.minorVersion, o.timeout, o.clock ?? realClock);
    this.slots = new SlotTable(Math.max(1, o.slots));
  }

  /**
   * EXCHANGE_ID + CREATE_SESSION + RECLAIM_COMPLETE. Fails with Nfs4OpError
   * (NFS4ERR_MINOR_VERS_MISMATCH at NFSPROC4_COMPOUND when the server does
   * not speak this minor version).
   */
  static async establish(rpc: RpcClient, o: SessionOptions): Promise<Session> {
    const s = new Session(rpc, o);
    await s.exchangeId();
    await s.createSession();
    await s.reclaimComplete();
    return s;
  }

  get clientid(): bigint {
    return this.cid;
  }

  protected get negotiatedMaxOps(): number {
    return Math.max(1, this.fore.maxOperations - 1);
  }

  /** Starts renewing the lease by SEQUENCE when idle (lease_time in seconds, from GETATTR). */
  startRenewal(leaseSeconds: number): void {
    this.renewer?.stop();
    this.renewer = new LeaseRenewer({
      leaseMs: Math.max(1, leaseSeconds) * 1000,
      clock: this.clock,
      renew: async () => {
        okResults(await this.sendOnce('renew', []));
      },
    });
    this.renewer.start();
  }

  get renewals(): { sent: number; failed: number } {
    return { sent: this.renewer?.renewals ?? 0, failed: this.renewer?.failures ?? 0 };
  }

  /**
   * DESTROY_SESSION, then DESTROY_CLIENTID. Both ops may be alone in a
   * COMPOUND without SEQUENCE. A failure means the server forgets us at
   * lease expiry instead of now: it is thrown so close() can say so.
   */
  async close(o: SendOptions = { timeout: 2000 }): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.renewer?.stop();
    this.slots.failWaiters(new RpcClosedError('NFSv4.1 session closed'));
    okResults(await this.call('destroy_session', [opDestroySession(this.sessionid)], o));
    okResults(await this.call('destroy_clientid', [opDestroyClientid(this.cid)], o));
  }

  // ---- establishment ---------------------------------------------------------

  private async bare<T extends readonly AnyOp[]>(tag: string, ops: T): Promise<CompoundReply<T>> {
    let delay = RETRY_MIN_MS;
    for (let i = 0; ; i++) {
      const reply = await this.call(tag, ops);
      if (reply.failure?.status !== nfsstat4.NFS4ERR_DELAY || i >= 10) return reply;
      await sleep(this.clock, delay);
      delay = Math.min(delay * 2, RETRY_MAX_MS);
    }
  }

  private async exchangeId(): Promise<void> {
    const [eid] = okResults(await this.bare('exchange_id', [opExchangeId({ verifier: this.o.owner.verifier, ownerid: this.o.owner.ownerid, flags: 0 })]));
    this.cid = eid.clientid;
    this.csSequence = eid.sequenceid;
    this.serverImpl = eid.serverImpl;
  }

  private async createSession(): Promise<void> {
    const [cs] = okResults(
      await this.bare('create_session', [
        opCreateSession({
          clientid: this.cid,
          sequence: this.csSequence,
          flags: 0,
          fore: {
            headerPadSize: 0,
            maxRequestSize: this.o.maxRequestSize,
            maxResponseSize: this.o.maxResponseSize,
            maxResponseSizeCached: MAX_CACHED_REPLY,
            maxOperations: WANT_MAX_OPS,
            maxRequests: Math.max(1, this.o.slots),
          },
          back: BACK_CHANNEL,
          cbProgram: NFS4_CALLBACK_PROGRAM,
        }),
      ]),
    );
    this.csSequence = (this.csSequence + 1) >>> 0;
    this.sessionid = cs.sessionid;
    this.fore = cs.fore;
    this.slots.reset(Math.max(1, Math.min(this.o.slots, cs.fore.maxRequests || 1)));
  }

  /** Binds each connection to the session, then spreads COMPOUNDs over it too. */
  override async addConnections(rpcs: RpcClient[]): Promise<void> {
    for (const rpc of rpcs) await this.bind(rpc);
    this.extras.push(...rpcs);
  }

  /**
   * BIND_CONN_TO_SESSION on `rpc`: needed for a new connection, and again
   * after that connection was re-established or the session re-created
   * (the server answers CONN_NOT_BOUND_TO_SESSION, and sequenced() rebinds).
   */
  private async bind(rpc: RpcClient): Promise<void> {
    const reply = await this.call('bind_conn', [opBindConnToSession(this.sessionid)], undefined, undefined, rpc);
    if (reply.failure) throw new Nfs4OpError(reply.failure);
  }

  /** No state to reclaim: tell the server so it lets us make new state (RFC 8881 §18.51). */
  private async reclaimComplete(): Promise<void> {
    const reply = await this.sequenced('reclaim_complete', [opReclaimComplete(false)], undefined, true, sameReply);
    if (reply.failure && reply.failure.status !== nfsstat4.NFS4ERR_COMPLETE_ALREADY) throw new Nfs4OpError(reply.failure);
  }

  /**
   * After BADSESSION/DEADSESSION (or a slot whose sequence is lost): a new
   * session for the same client id, or, when the server no longer knows the
   * client (it restarted), a new client id as well. One recovery at a time;
   * callers that saw the old generation fail share it.
   */
  private recover(generation: number): Promise<void> {
    if (this.closed) return Promise.reject(new RpcClosedError('NFSv4.1 session closed'));
    if (this.slots.generation !== generation) return Promise.resolve();
    this.recovering ??= (async () => {
      this.stats.recoveries++;
      try {
        await this.createSession();
      } catch (err) {
        if (!(err instanceof Nfs4OpError) || !CLIENT_GONE.has(err.failure.status)) throw err;
        await this.exchangeId();
        await this.createSession();
        this.stateEpoch++;
        // Reclaims (CLAIM_PREVIOUS, LOCK reclaim) must come before
        // RECLAIM_COMPLETE, after which the server refuses them.
        await this.reclaimer?.({ inRecovery: true });
        await this.reclaimComplete();
      }
    })().finally(() => {
      this.recovering = undefined;
    });
    return this.recovering;
  }

  // ---- one COMPOUND ----------------------------------------------------------

  /** A free slot whose sequenceid is known, taken without waiting, or undefined (then acquire()). */
  private fastLease(signal: AbortSignal | undefined): SlotLease | undefined {
    if (this.closed || this.recovering || signal?.aborted) return undefined;
    const l = this.slots.tryAcquireInTurn();
    if (l && !l.uncertain) return l;
    if (l) this.slots.release(l, 'not-processed');
    return undefined;
  }

  /**
   * A slot whose sequenceid is known, probing uncertain slots first. Waits
   * for a recovery in progress, unless it is the recovery asking.
   */
  private async acquire(signal: AbortSignal | undefined, inRecovery: boolean): Promise<SlotLease> {
    for (;;) {
      if (this.closed) throw new RpcClosedError('NFSv4.1 session closed');
      if (this.recovering && !inRecovery) await this.recovering;
      const lease = await this.slots.acquire(signal);
      if (lease.generation !== this.slots.generation) continue;
      if (!lease.uncertain) return lease;
      await this.probe(lease, signal, inRecovery);
    }
  }

  /**
   * Settles an uncertain slot: SEQUENCE alone with the sequenceid of the
   * request that got no reply. Whether the server processed that request or
   * not, afterwards it has processed this sequenceid: either now, or as a
   * retry it answers from its cache (or with RETRY_UNCACHED_REP) — and a
   * probe that is itself lost leaves the slot just as uncertain as before.
   */
  private async probe(lease: SlotLease, signal: AbortSignal | undefined, inRecovery: boolean): Promise<void> {
    const seq = opSequence({ sessionid: this.sessionid, sequenceid: lease.sequenceid, slotid: lease.slotid, highestSlotid: lease.highestSlotid, cachethis: false });
    let st: number | undefined;
    try {
      const reply = await this.call('slot_probe', [seq], signal ? { signal } : undefined, { prefixOnly: true });
      st = reply.statuses[0] ?? reply.status;
    } catch {
      this.slots.release(lease, 'unknown');
      return;
    }
    if (st !== undefined && ALREADY_PROCESSED.has(st)) {
      this.slots.release(lease, 'processed');
      return;
    }
    this.slots.release(lease, 'not-processed');
    if (st !== undefined && (SESSION_GONE.has(st) || st === nfsstat4.NFS4ERR_SEQ_MISORDERED)) {
      if (inRecovery) throw new Nfs4OpError({ index: -1, opnum: OP_SEQUENCE, op: 'OP_SEQUENCE', status: st });
      await this.recover(lease.generation);
    } else {
      await sleep(this.clock, RETRY_MIN_MS, signal);
    }
  }

  protected sendOnce<T extends readonly AnyOp[]>(tag: string, ops: T, o?: SendOptions): Promise<CompoundReply<T>> {
    return this.sequenced(tag, ops, o, o?.inRecovery === true, sameReply);
  }

  protected override sendOnceThen<T extends readonly AnyOp[], R>(tag: string, ops: T, o: SendOptions | undefined, k: (reply: CompoundReply<T>) => R | PromiseLike<R>): Promise<R> {
    return this.sequenced(tag, ops, o, o?.inRecovery === true, k);
  }

  async probeLease(o?: SendOptions): Promise<void> {
    await this.sendOnce('renew', [], o).catch(() => undefined);
  }

  /**
   * One COMPOUND behind SEQUENCE, handling what SEQUENCE reports. With
   * `inRecovery` (RECLAIM_COMPLETE while a session is being made) it does
   * not wait for the recovery it is part of, nor start another.
   *
   * The common case (a free slot, SEQUENCE NFS4_OK) is a chain on the RPC
   * call's promise; anything else (no free slot, a lost connection, a
   * SEQUENCE error) continues in sequencedLoop from the outcome in hand.
   * `k` gets the reply in the same reaction (see Channel.sendOnceThen).
   * Never throws synchronously.
   */
  private sequenced<T extends readonly AnyOp[], R>(tag: string, ops: T, o: SendOptions | undefined, inRecovery: boolean, k: (reply: CompoundReply<T>) => R | PromiseLike<R>): Promise<R> {
    const lease = this.fastLease(o?.signal);
    if (lease === undefined) return this.sequencedLoop(tag, ops, o, inRecovery, undefined).then(k);
    const seq = new SequenceOp(this.sessionid, lease.sequenceid, lease.slotid, lease.highestSlotid, anyNonIdempotent(ops));
    const sentAt = this.clock.now();
    const rpc = this.pickRpc();
    let call: Promise<LedReply<T>>;
    try {
      call = this.callLed(tag, seq, ops, o, false, rpc);
    } catch (err) {
      call = Promise.reject(err);
    }
    return call.then(
      (reply) => (reply.leadStatus === NFS4_OK ? k(this.sequenceOk(reply, lease, sentAt, ops)) : this.sequencedLoop(tag, ops, o, inRecovery, { lease, seq, rpc, sentAt, reply, err: undefined }).then(k)),
      (err: unknown) => this.sequencedLoop(tag, ops, o, inRecovery, { lease, seq, rpc, sentAt, reply: undefined, err }).then(k),
    );
  }

  /** SEQUENCE succeeded: the slot advances, the lease is renewed, the ops' hooks run. */
  private sequenceOk<T extends readonly AnyOp[]>(reply: LedReply<T>, lease: SlotLease, sentAt: number, ops: T): LedReply<T> {
    const sr = reply.leadResult as SequenceResult;
    if (sr.slotid !== lease.slotid || sr.sequenceid !== lease.sequenceid) {
      this.slots.release(lease, 'unknown');
      throw new XdrDecodeError(`SEQUENCE: reply names slot ${sr.slotid} seq ${sr.sequenceid}, sent slot ${lease.slotid} seq ${lease.sequenceid}`, 'sr_sequenceid');
    }
    this.statusFlags = sr.statusFlags;
    this.slots.release(lease, 'processed');
    if (lease.generation === this.slots.generation) this.slots.setTarget(sr.targetHighestSlotid);
    this.renewer?.renewed(sentAt);
    settleOps(ops, reply.statuses);
    return reply;
  }

  /** sequenced() past its first attempt, or from the start when no slot was free; `first` is that attempt. */
  private async sequencedLoop<T extends readonly AnyOp[]>(tag: string, ops: T, o: SendOptions | undefined, inRecovery: boolean, first: Attempt<T> | undefined): Promise<CompoundReply<T>> {
    const cachethis = anyNonIdempotent(ops);
    const signal = o?.signal;
    let recoveries = 0;
    let delay = RETRY_MIN_MS;
    for (;;) {
      let lease: SlotLease;
      let seq: SequenceOp;
      let sentAt: number;
      let rpc: RpcClient;
      let reply: LedReply<T>;
      const tried = first;
      first = undefined;
      if (tried) {
        ({ lease, seq, sentAt, rpc } = tried);
      } else {
        lease = this.fastLease(signal) ?? (await this.acquire(signal, inRecovery));
        seq = new SequenceOp(this.sessionid, lease.sequenceid, lease.slotid, lease.highestSlotid, cachethis);
        sentAt = this.clock.now();
        rpc = this.pickRpc();
      }
      try {
        try {
          if (!tried) reply = await this.callLed(tag, seq, ops, o, false, rpc);
          else if (tried.reply) reply = tried.reply;
          else throw tried.err;
        } catch (err) {
          // Lost with the request in flight: send it again, same slot and
          // sequenceid. The server's reply cache makes that safe: it runs
          // the request if it never saw it, or answers from the cache.
          if (!isConnectionLoss(err) || this.closed) throw err;
          reply = await this.callLed(tag, seq, ops, o, false, rpc);
        }
      } catch (err) {
        this.slots.release(lease, 'unknown');
        throw err;
      }
      const st = reply.leadStatus;
      if (st === NFS4_OK) return this.sequenceOk(reply, lease, sentAt, ops);
      if (st === undefined) {
        // COMPOUND-level failure before SEQUENCE ran.
        this.slots.release(lease, 'not-processed');
        return reply;
      }
      if (st === nfsstat4.NFS4ERR_RETRY_UNCACHED_REP || st === nfsstat4.NFS4ERR_SEQ_FALSE_RETRY) {
        // Our resend after a lost connection reached a server that had run
        // the request and kept no reply. Idempotent requests are simply sent
        // again as new ones; the others' outcome is unknown.
        this.slots.release(lease, 'processed');
        if (cachethis) {
          const why = `${tag}: the reply was lost and the server did not keep it; the operation may or may not have happened`;
          throw new Nfs4OpError({ index: -1, opnum: OP_SEQUENCE, op: 'OP_SEQUENCE', status: st }, why);
        }
        continue;
      }
      this.slots.release(lease, 'not-processed');
      if (st === nfsstat4.NFS4ERR_CONN_NOT_BOUND_TO_SESSION && rpc !== this.rpc) {
        // An extra connection that reconnected, or outlived the session it was bound to.
        if (++recoveries > MAX_RECOVERIES_PER_CALL) throw seqFailure(reply, st);
        await this.bind(rpc);
        continue;
      }
      if (SESSION_GONE.has(st) || st === nfsstat4.NFS4ERR_SEQ_MISORDERED) {
        if (inRecovery || ++recoveries > MAX_RECOVERIES_PER_CALL) throw seqFailure(reply, st);
        await this.recover(lease.generation);
        continue;
      }
      if (st === nfsstat4.NFS4ERR_BADSLOT || st === nfsstat4.NFS4ERR_BAD_HIGH_SLOT) {
        if (++recoveries > MAX_RECOVERIES_PER_CALL) throw seqFailure(reply, st);
        this.slots.setTarget(lease.slotid - 1);
        continue;
      }
      if (st === nfsstat4.NFS4ERR_DELAY) {
        // The slot's previous request is still being worked on.
        await sleep(this.clock, delay, signal);
        delay = Math.min(delay * 2, RETRY_MAX_MS);
        continue;
      }
      throw seqFailure(reply, st);
    }
  }
}

/** One attempt sequenced() made before handing over to sequencedLoop: its slot and SEQUENCE, and the reply or the error. */
interface Attempt<T extends readonly AnyOp[]> {
  lease: SlotLease;
  seq: SequenceOp;
  rpc: RpcClient;
  sentAt: number;
  reply: LedReply<T> | undefined;
  err: unknown;
}

function sameReply<R>(reply: R): R {
  return reply;
}

function anyNonIdempotent(ops: readonly AnyOp[]): boolean {
  for (let i = 0; i < ops.length; i++) if (ops[i]!.nonIdempotent) return true;
  return false;
}

/** SEQUENCE's failure (index -1, as it precedes the caller's ops). */
function seqFailure(reply: CompoundReply<readonly AnyOp[]>, st: number): Nfs4OpError {
  return new Nfs4OpError(reply.failure && reply.failure.index === -1 ? reply.failure : { index: -1, opnum: OP_SEQUENCE, op: 'OP_SEQUENCE', status: st });
}
