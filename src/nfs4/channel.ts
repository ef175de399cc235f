import type { ReplyInto, RpcClient } from '../rpc/client.js';
import type { CallLabel } from '../rpc/message.js';
import { sleep, type Clock } from './clock.js';
import { decodeLed, encodeCompound, okResults, type CompoundReply, type DecodeOptions, type LedReply, type OpResults } from './compound.js';
import { NFS4_PROGRAM, NFS_V4, NFSPROC4_COMPOUND } from './constants.js';
import type { AnyOp } from './ops.js';
import { nfsstat4 } from './status.js';

export interface SendOptions {
  signal?: AbortSignal | undefined;
  /** ms for this call instead of the client's timeout. */
  timeout?: number | undefined;
  /**
   * Sent by the reclaimer while the client id is being re-established: it
   * neither waits for that recovery nor starts another.
   */
  inRecovery?: boolean | undefined;
  /** A READ's data received straight into the caller's buffer (see ReplyInto); the COMPOUND's READ op reads it from there. */
  into?: ReplyInto | undefined;
}

/**
 * Run by a channel after the server lost our client id (restart, expired
 * lease) and a new one was made, before calls waiting on the recovery go
 * on: the backend reclaims its opens and locks here (CLAIM_PREVIOUS during
 * grace). `o` marks its COMPOUNDs as part of the recovery. Must not throw.
 */
export type Reclaimer = (o: SendOptions) => Promise<void>;

/**
 * Statuses that mean "the same request will work a little later": the
 * server is busy with the file (DELAY), still in its grace period after a
 * restart (GRACE), or short of resources (RESOURCE, 4.0 only).
 */
const RETRY_LATER = new Set<number>([nfsstat4.NFS4ERR_DELAY, nfsstat4.NFS4ERR_GRACE, nfsstat4.NFS4ERR_RESOURCE]);
export const RETRY_MIN_MS = 100;
export const RETRY_MAX_MS = 2000;

const labels = new Map<string, CallLabel>();
function labelFor(tag: string): CallLabel {
  let l = labels.get(tag);
  if (!l) {
    l = Object.freeze({ prog: NFS4_PROGRAM, vers: NFS_V4, proc: NFSPROC4_COMPOUND, name: `NFSv4 COMPOUND ${tag}` });
    if (labels.size < 256) labels.set(tag, l);
  }
  return l;
}

/** Runs every op's seqid hook with the status the reply gave it (`undefined`: no reply, outcome unknown). */
export function settleOps(ops: readonly AnyOp[], statuses: readonly (number | undefined)[] | undefined): void {
  for (let i = 0; i < ops.length; i++) {
    const s = ops[i]!.settle;
    if (!s) continue;
    if (statuses === undefined) s(undefined as unknown as number);
    else if (i < statuses.length) s(statuses[i]!);
  }
}

/**
 * How COMPOUNDs reach the server for one minor version: 4.0 sends them as
 * they are (clientid.ts), 4.1+ puts each in a session slot behind a
 * SEQUENCE (session.ts). Both retry DELAY/GRACE here, with backoff from
 * 100 ms doubling to 2 s, for as long as the call timeout allows.
 */
export abstract class Channel {
  readonly stats = { compounds: 0, delayRetries: 0, recoveries: 0 };

  constructor(
    readonly rpc: RpcClient,
    readonly minorVersion: number,
    /** The per-call timeout (ms); also the budget for DELAY/GRACE retries. 0 or Infinity: none. */
    protected readonly timeout: number,
    protected readonly clock: Clock,
  ) {}

  /** Further connections (nconnect), each bound to the session on 4.1+; `rpc` is the first. */
  protected extras: RpcClient[] = [];

  /** The connection with the fewest calls pending. */
  protected pickRpc(): RpcClient {
    let best = this.rpc;
    for (const c of this.extras) if (c.pending < best.pending) best = c;
    return best;
  }

  /** Adds connections to spread COMPOUNDs over (4.1+ binds each to the session first). */
  async addConnections(rpcs: RpcClient[]): Promise<void> {
    this.extras.push(...rpcs);
  }

  /** A lower limit on ops per COMPOUND learned from the server refusing a longer one. */
  private opsCap = Infinity;

  /** See Reclaimer; set by the backend that owns the state. */
  reclaimer: Reclaimer | undefined;

  /** Bumped when the server lost the client id and a new one was made: opens and locks from before are gone. */
  abstract get stateEpoch(): number;

  /**
   * One request that names the client (4.0 RENEW, 4.1 SEQUENCE alone), so a
   * client id or session the server has lost is noticed, and recovered,
   * now. Used when an op reports its stateid unknown. Never throws.
   */
  abstract probeLease(o?: SendOptions): Promise<void>;

  abstract get clientid(): bigint;
  /** Ops per COMPOUND as negotiated or assumed (4.1: ca_maxoperations less the SEQUENCE). */
  protected abstract get negotiatedMaxOps(): number;

  /** Ops a caller may put in one COMPOUND. */
  get maxOps(): number {
    return Math.min(this.negotiatedMaxOps, this.opsCap);
  }

  /**
   * The server refused a COMPOUND of `sent` ops as too long (NFS4ERR_RESOURCE
   * or NFS4ERR_TOO_MANY_OPS before any op ran), whatever it advertised:
   * Ganesha 4.3 answers 128 to CREATE_SESSION but refuses more than 100.
   * Later COMPOUNDs stay at half that.
   */
  lowerMaxOps(sent: number): void {
    this.opsCap = Math.max(4, Math.min(this.opsCap, Math.floor(sent / 2)));
  }
  /** Releases server state; `o` bounds how long (a deadline and a signal). */
  abstract close(o?: SendOptions): Promise<void>;
  /** One COMPOUND, with the channel's own recovery but without DELAY/GRACE retries. */
  protected abstract sendOnce<T extends readonly AnyOp[]>(tag: string, ops: T, o?: SendOptions): Promise<CompoundReply<T>>;

  /**
   * sendOnce(), then `k` with the reply, in the same reaction where the
   * channel can (Session fuses it into its own continuation). Never throws
   * synchronously.
   */
  protected sendOnceThen<T extends readonly AnyOp[], R>(tag: string, ops: T, o: SendOptions | undefined, k: (reply: CompoundReply<T>) => R | PromiseLike<R>): Promise<R> {
    return this.sendOnce(tag, ops, o).then(k);
  }

  /*
   * send(), run() and sendThen() are the path of every COMPOUND, so they
   * chain on sendOnce's promise rather than being async functions: a
   * healthy reply costs one reaction, not suspended frames.
   */

  /** Sends `ops` as one COMPOUND; a reply whose first failure is DELAY or GRACE is retried after a pause. */
  send<const T extends readonly AnyOp[]>(tag: string, ops: T, o?: SendOptions): Promise<CompoundReply<T>> {
    return this.sendThen(tag, ops, o, sameReply);
  }

  /** send(), then `k` with the (final) reply, in the reaction that receives it. */
  sendThen<const T extends readonly AnyOp[], R>(tag: string, ops: T, o: SendOptions | undefined, k: (reply: CompoundReply<T>) => R | PromiseLike<R>): Promise<R> {
    const start = this.clock.now();
    return this.sendOnceThen(tag, ops, o, (reply) => (reply.failure && this.retriesLater(reply) ? this.retryLater(tag, ops, o, start, reply).then(k) : k(reply)));
  }

  /** send(), then the results, or the first failing op thrown as Nfs4OpError. */
  run<const T extends readonly AnyOp[]>(tag: string, ops: T, o?: SendOptions): Promise<OpResults<T>> {
    return this.sendThen(tag, ops, o, okResults);
  }

  private retriesLater(reply: CompoundReply<readonly AnyOp[]>): boolean {
    const f = reply.failure;
    if (!f || !RETRY_LATER.has(f.status)) return false;
    // RESOURCE is a 4.0 status; for a whole COMPOUND refused it means "too long", which waiting won't fix.
    return !(f.status === nfsstat4.NFS4ERR_RESOURCE && (this.minorVersion > 0 || f.opnum === -1));
  }

  /** The DELAY/GRACE loop of send(), after the first reply (sent at `start`) asked to wait. */
  private async retryLater<const T extends readonly AnyOp[]>(tag: string, ops: T, o: SendOptions | undefined, start: number, first: CompoundReply<T>): Promise<CompoundReply<T>> {
    const budget = this.timeout > 0 && Number.isFinite(this.timeout) ? this.timeout : Infinity;
    let delay = RETRY_MIN_MS;
    let reply = first;
    for (;;) {
      if (this.clock.now() - start + delay > budget) return reply;
      this.stats.delayRetries++;
      await sleep(this.clock, delay, o?.signal);
      delay = Math.min(delay * 2, RETRY_MAX_MS);
      reply = await this.sendOnce(tag, ops, o);
      if (!this.retriesLater(reply)) return reply;
    }
  }

  /** One COMPOUND on the wire: encode, send, decode. */
  protected call<const T extends readonly AnyOp[]>(tag: string, ops: T, o?: SendOptions, decodeOpts?: DecodeOptions, rpc: RpcClient = this.pickRpc()): Promise<CompoundReply<T>> {
    return this.callLed(tag, undefined, ops, o, decodeOpts?.prefixOnly === true, rpc);
  }

  /** call() with `lead` (4.1's SEQUENCE) sent ahead of `ops`, its result kept apart (LedReply). */
  protected callLed<const T extends readonly AnyOp[]>(tag: string, lead: AnyOp | undefined, ops: T, o: SendOptions | undefined, prefixOnly: boolean, rpc: RpcClient): Promise<LedReply<T>> {
    this.stats.compounds++;
    const minor = this.minorVersion;
    // SendOptions carries what RpcClient's CallOptions reads (signal, timeout, into) under the same names.
    return rpc.call(
      labelFor(tag),
      (w) => encodeCompound(w, tag, minor, ops, lead),
      (r) => decodeLed(r, lead, ops, prefixOnly, tag),
      o && (o.signal || o.timeout !== undefined || o.into) ? o : undefined,
    );
  }
}

/**
 * The connection dropped with the request in flight, so it may or may not
 * have run. RpcClient reports failed connects with the same class; their
 * messages start with "connect" and nothing of theirs was sent.
 */
function sameReply<R>(reply: R): R {
  return reply;
}

export function isConnectionLoss(err: unknown): boolean {
  const e = err as { name?: string; message?: string } | null;
  return e?.name === 'RpcConnectionError' && !/^connect /.test(e.message ?? '');
}
