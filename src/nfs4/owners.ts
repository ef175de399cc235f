import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { OwnerArg } from './ops.js';
import { nfsstat4 } from './status.js';

/** The client owner: who we are to the server (nfs_client_id4 / client_owner4). */
export interface ClientOwner {
  /** Changes with every client instance, so the server can tell a restarted client from a retry. */
  readonly verifier: Buffer;
  readonly ownerid: Buffer;
}

let instances = 0;

/**
 * A client owner unique to this client instance: two Nfs4Backends in one
 * process (or two processes on one host) never share one, so the server
 * keeps their opens and locks apart. Host name, pid, a per-process counter
 * and random bytes; the verifier is random per instance.
 */
export function newClientOwner(): ClientOwner {
  instances++;
  const id = `mountless/${hostname()}/${process.pid}/${instances}/${randomBytes(8).toString('hex')}`;
  return { verifier: randomBytes(8), ownerid: Buffer.from(id, 'utf8') };
}

/**
 * Statuses after which a 4.0 seqid is NOT advanced (RFC 7530 §9.1.7): the
 * server rejected the request before it looked at the seqid.
 */
const SEQID_KEPT = new Set<number>([
  nfsstat4.NFS4ERR_STALE_CLIENTID,
  nfsstat4.NFS4ERR_STALE_STATEID,
  nfsstat4.NFS4ERR_BAD_STATEID,
  nfsstat4.NFS4ERR_BAD_SEQID,
  nfsstat4.NFS4ERR_BADXDR,
  nfsstat4.NFS4ERR_RESOURCE,
  nfsstat4.NFS4ERR_NOFILEHANDLE,
  nfsstat4.NFS4ERR_MOVED,
]);

let ownerCount = 0;

/**
 * An open-owner or lock-owner (open_owner4 / lock_owner4) with its 4.0
 * seqid.
 *
 * NFSv4.0 numbers every OPEN, OPEN_CONFIRM, CLOSE, OPEN_DOWNGRADE, LOCK and
 * LOCKU of an owner; the server processes them in seqid order and answers
 * a replay from its cache. So requests of one owner go out one at a time
 * (`exclusive`), and `settle` advances the seqid once the reply is in,
 * unless the status is one of SEQID_KEPT. A request that got no reply
 * leaves the seqid unknown: the owner is marked broken and retired (new
 * opens use a fresh owner). In 4.1 sessions give exactly-once semantics,
 * seqids are sent as 0 and nothing is serialized (`sequenced` false).
 */
export class StateOwner implements OwnerArg {
  /** Seqid of the next request (4.0); invariant: only changed by settle(). */
  private seq = 0;
  /** 4.0 open-owners: OPEN_CONFIRM done (or not needed), so OPENs need no confirmation. */
  confirmed = false;
  /** The seqid is no longer known (lost reply, NFS4ERR_BAD_SEQID): use another owner. */
  broken = false;
  /**
   * Files this open-owner has open (open.ts fileKeys). The server merges two
   * OPENs of one file by one open-owner into one open (one stateid, seqid
   * bumped), so a second open of a file must go to another owner.
   */
  readonly files = new Set<string>();
  /** Requests waiting for or holding `exclusive`. */
  private queued = 0;
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly channel: { readonly clientid: bigint },
    readonly owner: Buffer,
    readonly sequenced: boolean,
    /** Client-id epoch the owner was made in; owners of an older client id are unknown to the server. */
    readonly epoch: number,
  ) {}

  static create(channel: { readonly clientid: bigint }, kind: 'open' | 'lock', sequenced: boolean, epoch: number): StateOwner {
    ownerCount++;
    return new StateOwner(channel, Buffer.from(`${kind}-${ownerCount}-${randomBytes(4).toString('hex')}`), sequenced, epoch);
  }

  get clientid(): bigint {
    return this.channel.clientid;
  }

  get busy(): boolean {
    return this.queued > 0;
  }

  /** The seqid to put in the next request (read when the op is encoded). */
  readonly seqid = (): number => (this.sequenced ? this.seq : 0);

  /** Seqid bookkeeping for one reply; `undefined`: no reply, outcome unknown. */
  readonly settle = (status: number | undefined): void => {
    if (!this.sequenced) return;
    if (status === undefined) {
      this.broken = true;
      return;
    }
    if (status === nfsstat4.NFS4ERR_BAD_SEQID) this.broken = true;
    if (!SEQID_KEPT.has(status)) this.seq = (this.seq + 1) >>> 0;
  };

  /** Runs `fn` with no other seqid-carrying request of this owner in flight (4.0); directly in 4.1. */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.sequenced) return fn();
    const prev = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((r) => (release = r));
    this.queued++;
    try {
      await prev;
      return await fn();
    } finally {
      this.queued--;
      release();
    }
  }
}

/** Open-owners kept per client in 4.0; more concurrent OPENs queue on them. */
const MAX_OPEN_OWNERS_40 = 16;

/**
 * Open-owners of one client. An owner already holding one of `files` open
 * is never picked, so every open of a file is its own server open (own
 * stateid, own CLOSE, own lock-owner). 4.1+: the first such owner serves
 * (no seqids). 4.0: an idle owner is reused, confirmed ones first (they
 * need no OPEN_CONFIRM); when all are busy a new one is made, up to 16,
 * after which OPENs queue round-robin. Owners of an older client id or
 * with a broken seqid are dropped.
 */
export class OpenOwnerPool {
  private owners: StateOwner[] = [];
  private rr = 0;

  constructor(
    private readonly channel: { readonly clientid: bigint; readonly stateEpoch: number },
    private readonly sequenced: boolean,
  ) {}

  pick(files: readonly string[] = []): StateOwner {
    const epoch = this.channel.stateEpoch;
    this.owners = this.owners.filter((o) => o.epoch === epoch && !o.broken);
    const free = this.owners.filter((o) => !files.some((f) => o.files.has(f)));
    const fresh = () => {
      const o = StateOwner.create(this.channel, 'open', this.sequenced, epoch);
      this.owners.push(o);
      return o;
    };
    if (!this.sequenced) return free[0] ?? fresh();
    let idle: StateOwner | undefined;
    for (const o of free) {
      if (o.busy) continue;
      if (o.confirmed) return o;
      idle ??= o;
    }
    if (idle) return idle;
    if (this.owners.length < MAX_OPEN_OWNERS_40 || free.length === 0) return fresh();
    return free[this.rr++ % free.length]!;
  }
}
