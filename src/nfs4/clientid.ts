/**
 * NFSv4.0 client id (RFC 7530 §9.1.1, §16.33-34): SETCLIENTID +
 * SETCLIENTID_CONFIRM, RENEW in the background when idle, and a new client
 * id when the server has forgotten ours (it restarted or our lease expired).
 *
 * COMPOUNDs go out as they are; the RPC client's in-flight window is the
 * only window. 4.0 has no reply cache we can count on across connections,
 * so only COMPOUNDs without a non-idempotent op are resent after a lost
 * connection.
 */
import type { RpcClient } from '../rpc/client.js';
import { okResults, type CompoundReply } from './compound.js';
import { Channel, isConnectionLoss, settleOps, type SendOptions } from './channel.js';
import { realClock, type Clock } from './clock.js';
import { NFS4_CALLBACK_PROGRAM, OP_CLOSE, OP_LOCK, OP_LOCKU, OP_OPEN, OP_OPEN_CONFIRM, OP_RENEW } from './constants.js';
import { LeaseRenewer } from './lease.js';
import { opRenew, opSetclientid, opSetclientidConfirm, type AnyOp } from './ops.js';
import type { ClientOwner } from './owners.js';
import { nfsstat4 } from './status.js';

export interface ClientId40Options {
  owner: ClientOwner;
  timeout: number;
  clock?: Clock;
}

/**
 * 4.0 has no negotiated limit on ops per COMPOUND. Servers do have one
 * (Ganesha answers NFS4ERR_RESOURCE past its own); path walks are split to
 * stay under this.
 */
const MAX_OPS_40 = 64;

/** Ops whose success renews the lease (they carry our client id or a stateid of ours). */
const RENEWING = new Set([OP_OPEN, OP_OPEN_CONFIRM, OP_CLOSE, OP_LOCK, OP_LOCKU, OP_RENEW]);

const CLIENT_GONE = new Set<number>([nfsstat4.NFS4ERR_STALE_CLIENTID, nfsstat4.NFS4ERR_EXPIRED]);

export class ClientId40 extends Channel {
  private cid = 0n;
  /** Bumped with every new client id after the first: owners and stateids of older epochs are unknown to the server. */
  stateEpoch = 0;
  private renewer: LeaseRenewer | undefined;
  private recovering: Promise<void> | undefined;
  private closed = false;

  private constructor(
    rpc: RpcClient,
    private readonly o: ClientId40Options,
  ) {
    super(rpc, 0, o.timeout, o.clock ?? realClock);
  }

  static async establish(rpc: RpcClient, o: ClientId40Options): Promise<ClientId40> {
    const c = new ClientId40(rpc, o);
    await c.setclientid();
    return c;
  }

  get clientid(): bigint {
    return this.cid;
  }

  protected get negotiatedMaxOps(): number {
    return MAX_OPS_40;
  }

  startRenewal(leaseSeconds: number): void {
    this.renewer?.stop();
    this.renewer = new LeaseRenewer({
      leaseMs: Math.max(1, leaseSeconds) * 1000,
      clock: this.clock,
      renew: async () => {
        okResults(await this.send('renew', [opRenew(() => this.cid)]));
      },
    });
    this.renewer.start();
  }

  async probeLease(o?: SendOptions): Promise<void> {
    await this.send('renew', [opRenew(() => this.cid)], o).catch(() => undefined);
  }

  get renewals(): { sent: number; failed: number } {
    return { sent: this.renewer?.renewals ?? 0, failed: this.renewer?.failures ?? 0 };
  }

  /** 4.0 has no DESTROY_CLIENTID: the server forgets us at lease expiry. */
  async close(_o?: SendOptions): Promise<void> {
    this.closed = true;
    this.renewer?.stop();
  }

  /**
   * The callback address is deliberately unroutable: with no callback path
   * the server grants no delegations, so nothing ever has to be recalled.
   */
  private async setclientid(): Promise<void> {
    const [res] = okResults(
      await this.call('setclientid', [
        opSetclientid({
          verifier: this.o.owner.verifier,
          id: this.o.owner.ownerid,
          cbProgram: NFS4_CALLBACK_PROGRAM,
          cbNetid: 'tcp',
          cbAddr: '0.0.0.0.0.0',
          callbackIdent: 0,
        }),
      ]),
    );
    okResults(await this.call('setclientid_confirm', [opSetclientidConfirm(res.clientid, res.confirm)]));
    this.cid = res.clientid;
  }

  private recover(staleCid: bigint): Promise<void> {
    if (this.cid !== staleCid) return Promise.resolve();
    this.recovering ??= (async () => {
      this.stats.recoveries++;
      await this.setclientid();
      this.stateEpoch++;
      // Calls waiting on the recovery go on once opens and locks are back.
      await this.reclaimer?.({ inRecovery: true });
    })().finally(() => {
      this.recovering = undefined;
    });
    return this.recovering;
  }

  protected async sendOnce<T extends readonly AnyOp[]>(tag: string, ops: T, o?: SendOptions): Promise<CompoundReply<T>> {
    const resendable = !ops.some((x) => x.nonIdempotent);
    for (let attempt = 0; ; attempt++) {
      if (this.recovering && !o?.inRecovery) await this.recovering;
      const cid = this.cid;
      const sentAt = this.clock.now();
      let reply: CompoundReply<T>;
      try {
        reply = await this.call(tag, ops, o);
      } catch (err) {
        if (attempt === 0 && resendable && isConnectionLoss(err) && !this.closed) continue;
        settleOps(ops, undefined);
        throw err;
      }
      settleOps(ops, reply.statuses);
      const f = reply.failure;
      if (f && CLIENT_GONE.has(f.status) && attempt === 0 && !this.closed && !o?.inRecovery) {
        // The client id is gone (server restart, or lease expired). A new
        // one lets requests that name the client (OPEN, RENEW) go through;
        // those carrying old stateids still fail.
        await this.recover(cid);
        continue;
      }
      if (!f && this.renewer && ops.some((x) => RENEWING.has(x.opnum))) this.renewer.renewed(sentAt);
      return reply;
    }
  }
}
