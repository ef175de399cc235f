import type {
  MountTarget,
  Capabilities,
  Attrs,
  Backend,
  CallOpts,
  CreateMode,
  DirEntry,
  FileHandleId,
  Limits,
  Looked,
  SetAttrs,
  StableHow,
  StatFsResult,
  WriteResult,
  LockOwner,
  OpenState,
  ReadDest,
} from '../fs/backend.js';
import { WrongSecurityError } from '../rpc/gss/errors.js';
import { secNameOf } from '../rpc/gss/cred.js';
import { NfsStatusError } from '../errors.js';
import { releaseWithin } from '../core/release.js';
import { DEFAULT_IO_SIZE, ioSize } from '../core/io-size.js';
import { ListingGuard } from '../core/listing.js';
import { STABLE_WIRE, stableFromWire } from '../core/stable.js';
import { majorTimeoutMs, retryPolicy, type ResolvedOptions, type SecName } from '../options.js';
import { RpcClient } from '../rpc/client.js';
import { PrivilegedPortError } from '../rpc/resvport.js';
import {
  bitmap4Bytes,
  cachingIdMapper,
  fattr4ToAttrs,
  fattr4TypeBytes,
  MOUNT_ATTRS,
  ownerToId,
  READDIR_NAME_ATTRS,
  READDIR_PLUS_ATTRS,
  STAT_ATTRS,
  STATFS_ATTRS,
  type Fattr4,
  type IdMapper,
} from './attrs.js';
import type { Channel, SendOptions } from './channel.js';
import { ClientId40 } from './clientid.js';
import { realClock, sleep, type Clock } from './clock.js';
import { Nfs4OpError, statusError, type OpFailure } from './compound.js';
import * as C from './constants.js';
import { lock, reclaimLocks, testLock, unlock, type LockOptions, type Nfs4LockConflict } from './locks.js';
import { closeState, createClosed, fileUnder, lostOpen, Nfs4OpenState, openPathState, openState, releaseState, type OpenOptions, type StateContext } from './open.js';
import {
  ANONYMOUS_STATEID,
  opAccess,
  opAllocate,
  opCommit,
  opCopy,
  opCreate,
  opDeallocate,
  opGetattr,
  opGetattrAttrs,
  opGetfh,
  opLink,
  opLookup,
  opLookupp,
  opSecinfo,
  opSecinfoNoName,
  opNverify,
  opOffloadStatus,
  opPutfh,
  opPutrootfh,
  locateRead4data,
  opRead,
  opReaddir,
  opReadlink,
  opRemove,
  opRename,
  opRestorefh,
  opSavefh,
  opSeek,
  opSetattr,
  opVerify,
  opWrite,
  type AnyOp,
  type Op,
  type Stateid,
} from './ops.js';
import { newClientOwner, OpenOwnerPool } from './owners.js';
import { Session } from './session.js';
import { nfsstat4, nfsstat4Name } from './status.js';

const STAT_REQUEST = bitmap4Bytes(STAT_ATTRS);
const MOUNT_REQUEST = bitmap4Bytes(MOUNT_ATTRS);
const STATFS_REQUEST = bitmap4Bytes(STATFS_ATTRS);
const READDIR_PLUS_REQUEST = bitmap4Bytes(READDIR_PLUS_ATTRS);
const READDIR_NAME_REQUEST = bitmap4Bytes(READDIR_NAME_ATTRS);
const TYPE_IS_DIR = fattr4TypeBytes(C.NF4DIR);
const ZERO_VERF = Buffer.alloc(C.NFS4_VERIFIER_SIZE);

/** The NFSv4 port (RFC 7530 section 3.1). */
const NFS4_PORT = 2049;
/** COMPOUND framing around READ data or WRITE payload (SEQUENCE, PUTFH, headers), with room to spare. */
const COMPOUND_OVERHEAD = 16 * 1024;
/** READDIR dircount: bytes of names and cookies per reply (the server's hint). */
const READDIR_DIRCOUNT = 32 * 1024;

export type MinorVersion = 0 | 1 | 2;

/** What only NFSv4's mount needs beyond the target: test seams. */
export interface Nfs4MountExtras {
  /** owner/owner_group string → id. Default ownerToId (numeric, N@domain, root, nobody; else 65534). */
  idmap?: IdMapper | undefined;
  /** Time source for lease renewal and backoff (tests use a fake one). */
  clock?: Clock | undefined;
  /**
   * An RPC client already pointed at the server's NFS service, used instead
   * of connecting (host, port, auth, timeouts and maxInFlight then only
   * describe it). close() closes it.
   */
  rpc?: RpcClient | undefined;
}

/** A symlink met in the middle of a path walk: enough to read on from it. */
export interface PathSymlink {
  /** Index in the `parts` given to resolvePath of the component that is a symlink. */
  index: number;
  /** The directory holding it (relative targets resolve from here). */
  dirFh: FileHandleId;
  fh: FileHandleId;
  attrs: Attrs;
  target: string;
}

/**
 * resolvePath could not walk the whole path. `index` is the component (of
 * the `parts` given) whose LOOKUP failed. When the failure is a symlink in
 * the middle of the path (NFS4ERR_SYMLINK, or NOTDIR from a server that
 * says so instead), `symlink` describes it: the caller reads on from
 * `symlink.dirFh` with the target followed by parts after `symlink.index`.
 */
export class Nfs4PathError extends Nfs4OpError {
  constructor(
    failure: OpFailure,
    /** Which component of the path (0-based) failed to resolve. */
    readonly index: number,
    /** The name of that component. */
    readonly component: string,
    /** Set when the component is a symlink in the middle of the path: where it is and its target. */
    readonly symlink?: PathSymlink,
  ) {
    super(
      failure,
      symlink
        ? `path component ${symlink.index} is a symlink to '${symlink.target}' (${failure.op} of '${component}' through it: NFS4ERR_SYMLINK)`
        : `${failure.op} of path component ${index} '${component}' failed: ${nfsstat4Name(failure.status)}`,
    );
    this.name = 'Nfs4PathError';
  }
}

export interface CopyResult {
  /** Bytes copied; may be fewer than asked (then copy the rest), 0 at end of file. */
  count: number;
  committed: StableHow;
  verf: Buffer;
}

type Start = FileHandleId | 'root';

/** Statuses meaning the server no longer knows an open's stateid. */
const STATE_LOST = new Set(['NFS4ERR_BAD_STATEID', 'NFS4ERR_STALE_STATEID', 'NFS4ERR_EXPIRED', 'NFS4ERR_ADMIN_REVOKED', 'NFS4ERR_DELEG_REVOKED']);

function stateidOf(s: Nfs4OpenState | Stateid | undefined, minor: number): Stateid {
  if (s === undefined) return ANONYMOUS_STATEID;
  return s instanceof Nfs4OpenState ? s.ioStateid(minor) : s;
}

/**
 * NFSv4.0, 4.1 and 4.2 behind the fs Backend interface. Every method is
 * one COMPOUND (two for a create: OPEN, then CLOSE); see the method docs
 * for the ops. Beyond Backend it offers whole-path resolution in one round
 * trip (resolvePath), open state (open/closeState, stateids for read and
 * write), byte-range locks, and the 4.2 server-side operations.
 */
export class Nfs4Backend implements Backend {
  readonly version: '4.0' | '4.1' | '4.2';
  readonly capabilities: Capabilities;
  /** Stateful helpers' view of this backend. */
  private readonly ctx: StateContext;
  /** GETATTR of what a stat needs, decoded straight to Attrs; shared by every COMPOUND that asks it. */
  private readonly statAttrs: Op<Attrs>;

  private constructor(
    readonly rpc: RpcClient,
    private readonly channel: (Session | ClientId40) & Channel,
    readonly rootFh: FileHandleId,
    readonly limits: Limits,
    /** The server's lease, in seconds. */
    readonly leaseTime: number,
    private readonly idmap: IdMapper,
    private readonly clock: Clock,
    /** Root attributes at mount. */
    readonly rootAttrs: Attrs,
    /** nconnect's further connections. */
    private readonly extraRpcs: RpcClient[],
    /** ms close() waits for CLOSE and DESTROY_SESSION before it closes the connections anyway. */
    private readonly closeTimeout: number,
  ) {
    this.version = `4.${channel.minorVersion}` as '4.0' | '4.1' | '4.2';
    const m = channel.minorVersion;
    this.capabilities = { openByHandle: m >= 1, serverCopy: m >= 2, seek: m >= 2 };
    this.ctx = { channel, opens: new OpenOwnerPool(channel, channel.minorVersion === 0), idmap, live: new Set() };
    this.statAttrs = opGetattrAttrs(STAT_REQUEST, idmap);
    channel.reclaimer = (so) => this.reclaimAll(so);
  }

  get minorVersion(): MinorVersion {
    return this.channel.minorVersion as MinorVersion;
  }

  /** The client id the server gave this backend (unique per instance). */
  get clientid(): bigint {
    return this.channel.clientid;
  }

  /** Opens re-established after the server lost them (reclaimed or opened again). */
  private reopens = 0;
  /** Of those, reclaimed in the server's grace period (CLAIM_PREVIOUS). */
  private reclaims = 0;

  /** Counters: COMPOUNDs sent, DELAY/GRACE retries, session/client-id recoveries, lease renewals, re-opens, reclaims. */
  get stats(): { compounds: number; delayRetries: number; recoveries: number; renewals: number; renewalFailures: number; reopens: number; reclaims: number } {
    const r = this.channel.renewals;
    return { ...this.channel.stats, renewals: r.sent, renewalFailures: r.failed, reopens: this.reopens, reclaims: this.reclaims };
  }

  /**
   * Connects to host:port (2049), sets up the client (4.1+: EXCHANGE_ID +
   * CREATE_SESSION + RECLAIM_COMPLETE; 4.0: SETCLIENTID + CONFIRM), then
   * walks `path` from the server's root in one COMPOUND (PUTROOTFH + LOOKUP
   * per component + GETFH + GETATTR with the limits) and starts renewing
   * the lease.
   */
  static async mount(t: MountTarget & Nfs4MountExtras, r: ResolvedOptions): Promise<Nfs4Backend> {
    const timeout = majorTimeoutMs(r);
    const clock = t.clock ?? realClock;
    const maxInFlight = r.maxInFlight;
    const rpc =
      t.rpc ??
      new RpcClient({
        host: t.host,
        port: r.nfsport ?? NFS4_PORT,
        connectTimeout: r.connectTimeout,
        timeout,
        maxInFlight,
        auth: t.gss?.credential(100003, 4) ?? t.auth,
        retry: retryPolicy(r),
        resvport: r.resvport,
        ...(r.tls ? { tls: r.tls } : {}),
        ...(r.xprtsec ? { starttls: { prog: 100003, vers: 4, tls: r.xprtsec } } : {}),
      });
    const io = Math.max(r.rsize, r.wsize);
    const o = { path: t.path, rsize: r.rsize, wsize: r.wsize, nconnect: r.nconnect, rpc: t.rpc, idmap: t.idmap };
    const owner = newClientOwner();
    // version '4': the highest minor version the server accepts.
    const tries: MinorVersion[] = r.version === '4' || r.version === '3' ? [2, 1, 0] : [Number(r.version.slice(2)) as MinorVersion];
    let channel: Session | ClientId40 | undefined;
    const extras: RpcClient[] = [];
    try {
      for (let i = 0; i < tries.length && !channel; i++) {
        const m = tries[i]!;
        try {
          channel =
            m === 0
              ? await ClientId40.establish(rpc, { owner, timeout, clock })
              : await Session.establish(rpc, {
                  minorVersion: m,
                  owner,
                  slots: maxInFlight,
                  maxRequestSize: io + COMPOUND_OVERHEAD,
                  maxResponseSize: io + COMPOUND_OVERHEAD,
                  timeout,
                  clock,
                });
        } catch (err) {
          const mismatch = err instanceof Nfs4OpError && err.failure.status === nfsstat4.NFS4ERR_MINOR_VERS_MISMATCH;
          if (!mismatch || i === tries.length - 1) throw err;
        }
      }
      const ch = channel!;
      const names = o.path.split('/').filter((c) => c !== '' && c !== '.');
      if (names.includes('..')) throw statusError('NFS4ERR_ACCESS', 'EACCES', 'mount', `path '${o.path}' climbs with '..'`);
      // A sec= list: ask the export which flavors it takes before using it (one COMPOUND), so the
      // first of the list it offers is chosen outright rather than found by failing.
      if (r.sec.length > 1) await negotiateSec(ch, t, names, r.sec);
      const { fh, attrs: fattr } = await walk(ch, 'root', names, opGetattr(MOUNT_REQUEST)).catch(async (err: unknown) => {
        if (err instanceof WalkError && err.failure.status === nfsstat4.NFS4ERR_WRONGSEC) throw await wrongSec(ch, t, names, err);
        if (err instanceof WalkError && err.failure.status === nfsstat4.NFS4ERR_PERM && !r.resvport) throw new PrivilegedPortError(`mount ${t.host}:${o.path}`, `NFS4ERR_PERM at '${names[err.at] ?? '/'}'`, { cause: err });
        throw err instanceof WalkError ? new Nfs4PathError(err.failure, err.at, names[err.at]!) : err;
      });
      const idmap = cachingIdMapper(o.idmap ?? ownerToId);
      const rootAttrs = fattr4ToAttrs(fattr, idmap);
      if (rootAttrs.kind !== 'directory') throw statusError('NFS4ERR_NOTDIR', 'ENOTDIR', 'mount', `path '${o.path}' is not a directory`);
      let maxRead = fattr.maxread || DEFAULT_IO_SIZE;
      let maxWrite = fattr.maxwrite || DEFAULT_IO_SIZE;
      if (ch instanceof Session) {
        maxRead = Math.min(maxRead, ch.fore.maxResponseSize - COMPOUND_OVERHEAD);
        maxWrite = Math.min(maxWrite, ch.fore.maxRequestSize - COMPOUND_OVERHEAD);
      }
      const limits: Limits = {
        // NFSv4 states no preferred size: the maximum is the preference.
        rsize: ioSize(o.rsize, maxRead, maxRead),
        wsize: ioSize(o.wsize, maxWrite, maxWrite),
        dtpref: READDIR_DIRCOUNT,
        maxFileSize: fattr.maxfilesize ?? Number.MAX_SAFE_INTEGER,
      };
      const lease = fattr.leaseTime && fattr.leaseTime > 0 ? fattr.leaseTime : 90;
      if (o.nconnect > 1 && !o.rpc) {
        // An RPCSEC_GSS context serves one connection: each gets its own.
        const extra = Array.from({ length: o.nconnect - 1 }, () => new RpcClient({ ...rpc.opts, auth: t.gss?.credential(100003, 4) ?? rpc.opts.auth }));
        try {
          await ch.addConnections(extra);
        } catch (err) {
          await Promise.all(extra.map((c) => c.close()));
          throw err;
        }
        extras.push(...extra);
      }
      ch.startRenewal(lease);
      return new Nfs4Backend(rpc, ch, fh, limits, lease, idmap, clock, rootAttrs, extras, r.closeTimeout);
    } catch (err) {
      await channel?.close().catch(() => undefined);
      await Promise.all([rpc, ...extras].map((c) => c.close()));
      throw err;
    }
  }

  private so(o?: CallOpts): SendOptions | undefined {
    return o?.signal ? { signal: o.signal } : undefined;
  }

  private attrs(f: Fattr4): Attrs {
    return fattr4ToAttrs(f, this.idmap);
  }

  // ---- Backend ---------------------------------------------------------------

  /** PUTFH + GETATTR. */
  getattr(fh: FileHandleId, o?: CallOpts): Promise<Attrs> {
    return this.channel.run('getattr', [opPutfh(fh), this.statAttrs], this.so(o)).then(secondResult);
  }

  /**
   * PUTFH + SETATTR + GETATTR. The stateid is the open's when given (needed
   * for size changes under share reservations or mandatory locks), else the
   * anonymous stateid, which servers accept for truncation without an open.
   */
  async setattr(fh: FileHandleId, attrs: SetAttrs, o?: CallOpts, state?: Nfs4OpenState | Stateid): Promise<Attrs | undefined> {
    return this.withState(state, o, async (sid) => {
      const [, , a] = await this.channel.run('setattr', [opPutfh(fh), opSetattr(sid, attrs), this.statAttrs], this.so(o));
      return a;
    });
  }

  /**
   * Runs an op that presents `state`'s stateid. An open whose state the
   * server lost is brought back first: after a restart the channel's
   * recovery reclaims it (reclaimAll); otherwise, or when that could not,
   * it is opened again (reopen) and the op retried once. A stateid the
   * server calls unknown first makes the channel check the client id
   * (probeLease), since on 4.0 a READ or WRITE is how a restart shows.
   */
  private withState<T>(state: Nfs4OpenState | Stateid | undefined, o: CallOpts | undefined, fn: (sid: Stateid) => Promise<T>): Promise<T> {
    if (!(state instanceof Nfs4OpenState)) return this.withStateLoop(state, o, fn, 0);
    // A healthy open, the hot path of every READ and WRITE: the call's own promise and one catch, no async frames.
    if (state.recovery || state.lost || (!state.closed && state.epoch !== this.channel.stateEpoch)) return this.withStateLoop(state, o, fn, 0);
    const gen = state.generation;
    let p: Promise<T>;
    try {
      p = fn(state.ioStateid(this.minorVersion));
    } catch (err) {
      return Promise.reject(err);
    }
    return p.catch((err: unknown) => {
      if (state.closed || !(err instanceof NfsStatusError && STATE_LOST.has(err.status))) throw err;
      return this.recoverState(state, o, gen).then(() => this.withStateLoop(state, o, fn, 1));
    });
  }

  /** The server lost the state `fn` presented (generation `gen`): check the lease, re-open if nothing else did. */
  private async recoverState(state: Nfs4OpenState, o: CallOpts | undefined, gen: number): Promise<void> {
    await this.channel.probeLease(this.so(o));
    if (state.generation === gen && state.epoch === this.channel.stateEpoch) await this.reopen(state, o);
  }

  /** withState's general case, from attempt `first` (a retry after recoverState is attempt 1, the last). */
  private async withStateLoop<T>(state: Nfs4OpenState | Stateid | undefined, o: CallOpts | undefined, fn: (sid: Stateid) => Promise<T>, first: number): Promise<T> {
    if (!(state instanceof Nfs4OpenState)) return fn(stateidOf(state, this.minorVersion));
    for (let attempt = first; ; attempt++) {
      // Nothing to wait for or re-open on the hot path: no await.
      if (state.recovery || state.lost || (!state.closed && state.epoch !== this.channel.stateEpoch)) await this.ensureOpen(state, o);
      const gen = state.generation;
      try {
        return await fn(state.ioStateid(this.minorVersion));
      } catch (err) {
        if (attempt > 0 || state.closed || !(err instanceof NfsStatusError && STATE_LOST.has(err.status))) throw err;
        await this.recoverState(state, o, gen);
      }
    }
  }

  /** Waits for a recovery of `st` in progress; re-opens it if its client id is gone; throws why it is lost. */
  private async ensureOpen(st: Nfs4OpenState, o?: CallOpts): Promise<void> {
    if (st.recovery) await st.recovery.catch(() => undefined);
    if (st.lost) throw st.lost;
    if (!st.closed && st.epoch !== this.channel.stateEpoch) await this.reopen(st, o);
    if (st.lost) throw st.lost;
  }

  /** `st` takes over the identity of `fresh`, a new open of the same file (the caller's object stays valid). */
  private adopt(st: Nfs4OpenState, fresh: Nfs4OpenState): void {
    this.ctx.live.delete(fresh);
    st.stateid = fresh.stateid;
    fileUnder(st, fresh.owner, fresh.files);
    st.epoch = fresh.epoch;
    st.lockOwner = undefined;
    st.lockStateid = undefined;
    st.locks.clear();
    st.generation++;
    this.reopens++;
  }

  /**
   * Opens `st` again outside a grace period: by handle (CLAIM_FH) on 4.1+,
   * by directory and name (CLAIM_NULL) on 4.0, refusing a name that now
   * leads to another file. An open that held byte-range locks is not
   * re-opened: outside grace they may have been someone else's in
   * between, so it is marked lost (EIO) rather than quietly unlocked.
   */
  private reopen(st: Nfs4OpenState, o?: CallOpts): Promise<void> {
    st.recovery ??= (async () => {
      if (st.locks.size > 0) {
        st.locksLost = true;
        st.lost = statusError('NFS4ERR_NO_GRACE', 'EIO', 'OP_LOCK', 'the server lost this open and its byte-range locks, and had no grace period to reclaim them in; the handle cannot be used');
        return;
      }
      const req = { read: (st.shareAccess & C.OPEN4_SHARE_ACCESS_READ) !== 0, write: (st.shareAccess & C.OPEN4_SHARE_ACCESS_WRITE) !== 0 };
      let fresh: Nfs4OpenState;
      try {
        if (this.minorVersion >= 1) fresh = await openState(this.ctx, st.fh, undefined, req, this.so(o));
        else if (st.dir && st.name !== undefined) fresh = await openState(this.ctx, st.dir, st.name, req, this.so(o));
        else throw statusError('NFS4ERR_STALE', 'ESTALE', 'OP_OPEN', 'the server lost this open and NFSv4.0 has no name to open it again by');
      } catch (err) {
        if (err instanceof NfsStatusError) st.lost = lostOpen(st, `the file could not be opened again (${err.status})`);
        throw err;
      }
      if (st.closed) {
        await closeState(this.ctx, fresh, this.so(o)).catch(() => undefined);
        return;
      }
      const other = fresh.fileid !== st.fileid ? `fileid ${fresh.fileid}, was ${st.fileid}` : !fresh.fh.equals(st.fh) ? 'a different file handle' : undefined;
      if (other) {
        // Never write through a name that now leads elsewhere.
        await closeState(this.ctx, fresh, this.so(o)).catch(() => undefined);
        st.lost = lostOpen(st, `'${st.name}' now names another file (${other}); not re-opened`);
        return;
      }
      this.adopt(st, fresh);
    })().finally(() => (st.recovery = undefined));
    return st.recovery;
  }

  /**
   * The channel's reclaimer: after the server lost our client id, every
   * open is reclaimed with CLAIM_PREVIOUS and its byte-range locks with
   * LOCK reclaim = true, while the server's grace period allows. The first
   * NFS4ERR_NO_GRACE (or RECLAIM_BAD) ends the attempt: the rest are
   * re-opened on next use (reopen). An open whose locks could not all be
   * reclaimed is given back (CLOSE) and marked lost.
   */
  private async reclaimAll(so: SendOptions): Promise<void> {
    const epoch = this.channel.stateEpoch;
    const states = [...this.ctx.live].filter((st) => !st.closed && !st.lost && st.epoch !== epoch);
    // Set before the first await, so no caller re-opens one of these meanwhile.
    const done = states.map((st) => {
      let resolve!: () => void;
      st.recovery = new Promise<void>((r) => (resolve = r));
      return resolve;
    });
    let grace = true;
    for (let i = 0; i < states.length; i++) {
      const st = states[i]!;
      try {
        if (grace) grace = await this.reclaimOne(st, so);
      } catch {
        // Left for reopen on next use.
      } finally {
        st.recovery = undefined;
        done[i]!();
      }
    }
  }

  /** CLAIM_PREVIOUS of one open, then its locks. False when the server is not in grace. */
  private async reclaimOne(st: Nfs4OpenState, so: SendOptions): Promise<boolean> {
    const held = st.locks.list();
    let fresh: Nfs4OpenState;
    try {
      const req = { read: (st.shareAccess & C.OPEN4_SHARE_ACCESS_READ) !== 0, write: (st.shareAccess & C.OPEN4_SHARE_ACCESS_WRITE) !== 0, reclaim: true };
      fresh = await openState(this.ctx, st.fh, undefined, req, so);
    } catch (err) {
      const status = err instanceof Nfs4OpError ? err.failure.status : undefined;
      if (status === nfsstat4.NFS4ERR_NO_GRACE || status === nfsstat4.NFS4ERR_RECLAIM_BAD) return false;
      throw err;
    }
    this.adopt(st, fresh);
    this.reclaims++;
    if (st.closed) {
      // Closed by its owner while we reclaimed it.
      await releaseState(this.ctx, st, so).catch(() => undefined);
      for (const k of st.files) st.owner.files.delete(k);
      return true;
    }
    try {
      await reclaimLocks(this.ctx, st, held, so);
    } catch (err) {
      // Give back what was reclaimed (the open, and the locks taken before the refusal).
      await releaseState(this.ctx, st, so).catch(() => undefined);
      st.locksLost = true;
      const why = err instanceof NfsStatusError ? err.status : String(err);
      st.lost = statusError('NFS4ERR_RECLAIM_BAD', 'EIO', 'OP_LOCK', `the server restarted and would not give back this file's byte-range locks (${why}); the handle cannot be used`);
    }
    return true;
  }

  /** PUTFH + LOOKUP (LOOKUPP for '..') + GETFH + GETATTR. */
  async lookup(dir: FileHandleId, name: string, o?: CallOpts): Promise<Looked> {
    const step = name === '..' ? opLookupp() : opLookup(name);
    const [, , fh, attrs] = await this.channel.run('lookup', [opPutfh(dir), step, opGetfh(), this.statAttrs], this.so(o));
    return { fh, attrs };
  }

  /** PUTFH + ACCESS; returns the granted bits (ACCESS4_* equal the v3 values). */
  async access(fh: FileHandleId, mask: number, o?: CallOpts): Promise<number> {
    const [, r] = await this.channel.run('access', [opPutfh(fh), opAccess(mask)], this.so(o));
    return r.access & mask;
  }

  /** PUTFH + READLINK. */
  async readlink(fh: FileHandleId, o?: CallOpts): Promise<string> {
    const [, t] = await this.channel.run('readlink', [opPutfh(fh), opReadlink()], this.so(o));
    return t;
  }

  /** PUTFH + READ of at most limits.rsize bytes, with the open's (or lock's) stateid when given, else the anonymous one. */
  // read and write are not async, nor the functions they hand withState: one promise per layer fewer on the hottest paths.
  read(fh: FileHandleId, offset: number, length: number, o?: CallOpts, state?: Nfs4OpenState | Stateid, dest?: ReadDest): Promise<{ data: Buffer; eof: boolean; attrs?: Attrs | undefined }> {
    const count = Math.max(0, Math.min(length, this.limits.rsize));
    const into = dest && count > 0 ? { dest: dest.buf, destOffset: dest.offset, max: count, locate: locateRead4data, copies: true } : undefined;
    const so = into ? { signal: o?.signal, into } : this.so(o);
    return this.withState(state, o, (sid) => this.channel.run('read', [opPutfh(fh), opRead(sid, offset, count, into)], so).then(readResult));
  }

  /** PUTFH + WRITE of at most limits.wsize bytes, stateid as read(). */
  write(fh: FileHandleId, offset: number, data: Buffer, stable: StableHow, o?: CallOpts, state?: Nfs4OpenState | Stateid): Promise<WriteResult> {
    const chunk = data.length > this.limits.wsize ? data.subarray(0, this.limits.wsize) : data;
    return this.withState(state, o, (sid) => this.channel.run('write', [opPutfh(fh), opWrite(sid, offset, STABLE_WIRE[stable], chunk)], this.so(o)).then(writeResult));
  }

  /** PUTFH + COMMIT of the whole file. */
  async commit(fh: FileHandleId, o?: CallOpts): Promise<Buffer> {
    const [, verf] = await this.channel.run('commit', [opPutfh(fh), opCommit(0, 0)], this.so(o));
    return verf;
  }

  /**
   * A regular file is made by OPEN with create (UNCHECKED4, GUARDED4, or
   * EXCLUSIVE4_1 on 4.1+ / EXCLUSIVE4 on 4.0, whose attributes and times
   * are then set by SETATTR) and closed again at once: one COMPOUND on
   * 4.1+ (CLOSE by the current stateid), OPEN [+ OPEN_CONFIRM] + CLOSE on 4.0.
   */
  async create(dir: FileHandleId, name: string, how: CreateMode, o?: CallOpts): Promise<Looked> {
    if (this.minorVersion >= 1) return createClosed(this.ctx, dir, name, how, this.so(o));
    const st = await openState(this.ctx, dir, name, { read: false, write: true, create: how }, this.so(o));
    try {
      return { fh: st.fh, attrs: st.attrs };
    } finally {
      await closeState(this.ctx, st, this.so(o));
    }
  }

  private async made(dir: FileHandleId, name: string, type: Parameters<typeof opCreate>[0], attrs: SetAttrs, o?: CallOpts): Promise<Looked> {
    const [, , fh, a] = await this.channel.run('create', [opPutfh(dir), opCreate(type, name, attrs), opGetfh(), this.statAttrs], this.so(o));
    return { fh, attrs: a };
  }

  /** PUTFH + CREATE(NF4DIR) + GETFH + GETATTR. */
  mkdir(dir: FileHandleId, name: string, attrs: SetAttrs, o?: CallOpts): Promise<Looked> {
    return this.made(dir, name, { type: C.NF4DIR }, attrs, o);
  }

  /** PUTFH + CREATE(NF4LNK) + GETFH + GETATTR. */
  symlink(dir: FileHandleId, name: string, target: string, attrs: SetAttrs, o?: CallOpts): Promise<Looked> {
    return this.made(dir, name, { type: C.NF4LNK, linkdata: target }, attrs, o);
  }

  /**
   * PUTFH + LOOKUP + NVERIFY(type = directory) + PUTFH + REMOVE: NFSv4
   * REMOVE deletes directories too, so the type is checked in the same
   * COMPOUND and a directory refused with EISDIR, as unlink(2) on Linux.
   */
  async remove(dir: FileHandleId, name: string, o?: CallOpts): Promise<void> {
    const reply = await this.channel.send('remove', [opPutfh(dir), opLookup(name), opNverify(TYPE_IS_DIR), opPutfh(dir), opRemove(name)], this.so(o));
    const f = reply.failure;
    if (f?.index === 2 && f.status === nfsstat4.NFS4ERR_SAME) throw new Nfs4OpError({ ...f, op: 'OP_REMOVE', status: nfsstat4.NFS4ERR_ISDIR });
    if (f) throw new Nfs4OpError(f);
  }

  /**
   * remove() of `parts` (a path whose components are plain names, walked
   * from `start`) in ONE COMPOUND: PUTFH + LOOKUP per directory + SAVEFH +
   * LOOKUP + NVERIFY(type = directory) + RESTOREFH + REMOVE, where
   * resolving the directory first costs a COMPOUND of its own. false, with
   * nothing removed, when a directory component did not resolve (missing,
   * not a directory, a symlink to follow): the caller then resolves the
   * directory itself, which reports or follows that as it does for any
   * call. Failures at the name itself are remove()'s.
   */
  async removePath(parts: readonly string[], start: FileHandleId = this.rootFh, o?: CallOpts): Promise<boolean> {
    const k = parts.length - 1;
    if (k < 0 || k + 7 > this.channel.maxOps) return false;
    const name = parts[k]!;
    const ops: AnyOp[] = [opPutfh(start)];
    for (let i = 0; i < k; i++) ops.push(step(parts[i]!));
    ops.push(opSavefh(), opLookup(name), opNverify(TYPE_IS_DIR), opRestorefh(), opRemove(name));
    const reply = await this.channel.send('remove', ops, this.so(o));
    const f = reply.failure;
    if (!f) return true;
    if (f.index <= k) return false;
    if (f.index === k + 3 && f.status === nfsstat4.NFS4ERR_SAME) throw new Nfs4OpError({ ...f, op: 'OP_REMOVE', status: nfsstat4.NFS4ERR_ISDIR });
    throw new Nfs4OpError(f);
  }

  /** PUTFH + LOOKUP + VERIFY(type = directory) + PUTFH + REMOVE: a non-directory is refused with ENOTDIR, as rmdir(2). */
  async rmdir(dir: FileHandleId, name: string, o?: CallOpts): Promise<void> {
    const reply = await this.channel.send('rmdir', [opPutfh(dir), opLookup(name), opVerify(TYPE_IS_DIR), opPutfh(dir), opRemove(name)], this.so(o));
    const f = reply.failure;
    if (f?.index === 2 && f.status === nfsstat4.NFS4ERR_NOT_SAME) throw new Nfs4OpError({ ...f, op: 'OP_REMOVE', status: nfsstat4.NFS4ERR_NOTDIR });
    if (f) throw new Nfs4OpError(f);
  }

  /** PUTFH(from) + SAVEFH + PUTFH(to) + RENAME. */
  async rename(fromDir: FileHandleId, fromName: string, toDir: FileHandleId, toName: string, o?: CallOpts): Promise<void> {
    await this.channel.run('rename', [opPutfh(fromDir), opSavefh(), opPutfh(toDir), opRename(fromName, toName)], this.so(o));
  }

  /** PUTFH(file) + SAVEFH + PUTFH(dir) + LINK. */
  async link(fh: FileHandleId, dir: FileHandleId, name: string, o?: CallOpts): Promise<void> {
    await this.channel.run('link', [opPutfh(fh), opSavefh(), opPutfh(dir), opLink(name)], this.so(o));
  }

  /**
   * The READDIR cookie loop (PUTFH + READDIR, with attributes and handles
   * when `withAttrs`). Every entry passes the shared listing guard
   * (core/listing.ts), as on NFSv3: loops and impossible names end the
   * listing with EIO, a name listed twice is passed on once, '.' and '..'
   * are left out. Entries whose attributes the server could not read
   * (rdattr_error) are listed without them.
   */
  async *readdir(dir: FileHandleId, withAttrs: boolean, o?: CallOpts): AsyncGenerator<DirEntry[]> {
    let cookie = 0n;
    let verf: Buffer = ZERO_VERF;
    const guard = new ListingGuard({ op: 'OP_READDIR', badCookie: 'NFS4ERR_BAD_COOKIE', io: 'NFS4ERR_IO' });
    const request = withAttrs ? READDIR_PLUS_REQUEST : READDIR_NAME_REQUEST;
    const maxcount = Math.min(this.limits.rsize, 1024 * 1024);
    for (;;) {
      const [, r] = await this.channel.run('readdir', [opPutfh(dir), opReaddir(cookie, verf, this.limits.dtpref, maxcount, request)], this.so(o));
      verf = r.cookieverf;
      const out: DirEntry[] = [];
      for (const e of r.entries) {
        cookie = e.cookie;
        if (!guard.entry(e.cookie, e.name)) continue;
        const a = e.attrs;
        const ok = a.rdattrError === undefined || a.rdattrError === nfsstat4.NFS4_OK;
        const entry: DirEntry = { name: e.name, fileid: a.fileid ?? 0n };
        if (withAttrs && ok && a.type !== undefined) {
          entry.attrs = this.attrs(a);
          if (a.filehandle) entry.fh = a.filehandle;
        }
        out.push(entry);
      }
      if (out.length > 0) yield out;
      guard.endPage(r.entries.length, r.eof);
      if (r.eof) return;
    }
  }

  /** PUTFH + GETATTR(space_*, files_*, maxname). */
  async statfs(fh: FileHandleId, o?: CallOpts): Promise<StatFsResult> {
    const [, a] = await this.channel.run('statfs', [opPutfh(fh), opGetattr(STATFS_REQUEST)], this.so(o));
    return {
      bsize: this.limits.wsize,
      totalBytes: a.spaceTotal ?? 0,
      freeBytes: a.spaceFree ?? 0,
      availBytes: a.spaceAvail ?? 0,
      totalFiles: a.filesTotal ?? 0,
      freeFiles: a.filesFree ?? 0,
      availFiles: a.filesAvail ?? 0,
      nameMax: a.maxname ?? 255,
    };
  }

  /**
   * CLOSEs every open state still live (best effort), then 4.1+:
   * DESTROY_SESSION + DESTROY_CLIENTID; stops lease renewal and closes the
   * connection.
   */
  async close(): Promise<void> {
    const live = [...this.ctx.live];
    const ms = Math.max(1, this.closeTimeout);
    // Each call carries the deadline too, so that on a hard mount nothing
    // keeps waiting for a server that is gone after close() returned.
    await releaseWithin(ms, live.length > 0 ? [{ what: `${live.length} open file(s) (CLOSE)`, run: (signal) => Promise.all(live.map((s) => closeState(this.ctx, s, { timeout: ms, signal }))) }] : []);
    await releaseWithin(ms, [{ what: this.minorVersion > 0 ? 'the session and client id (DESTROY_SESSION, DESTROY_CLIENTID)' : 'the client id', run: (signal) => this.channel.close({ timeout: ms, signal }) }]);
    await Promise.all([this.rpc, ...this.extraRpcs].map((c) => c.close()));
  }

  // ---- whole-path resolution ------------------------------------------------

  /**
   * Resolves `parts` (path components; '' and '.' are skipped, '..' is
   * LOOKUPP) from `start` (default: the mount root) in ONE COMPOUND: PUTFH +
   * LOOKUP per component + GETFH + GETATTR. Paths longer than the session
   * allows per COMPOUND go in several, chained by handle. The last
   * component is not followed if it is a symlink (like lstat): its own
   * handle and attributes are returned.
   *
   * Failure is an Nfs4PathError naming the component whose LOOKUP failed
   * (`index`), with the status mapped by name (ENOENT, ENOTDIR, EACCES...).
   * A symlink in the middle sets `symlink` (index, handle, attributes,
   * target and the directory holding it), read in one more COMPOUND, so
   * the fs layer can continue from there.
   */
  resolvePath(parts: readonly string[], start: FileHandleId = this.rootFh, o?: CallOpts): Promise<Looked> {
    let names = parts;
    let index: number[] | undefined;
    if (parts.includes('') || parts.includes('.')) {
      const kept: string[] = [];
      index = [];
      for (let i = 0; i < parts.length; i++) {
        const p = parts[i]!;
        if (p === '' || p === '.') continue;
        kept.push(p);
        index.push(i);
      }
      names = kept;
    }
    return walk(this.channel, start, names, this.statAttrs, this.so(o), (err) => this.pathError(err, start, names, index, o));
  }

  /** resolvePath's WalkError as an Nfs4PathError; `index` maps names back to the caller's parts (none: the same). */
  private async pathError(err: WalkError, start: FileHandleId, names: readonly string[], index: number[] | undefined, o?: CallOpts): Promise<never> {
    const k = err.at;
    const f = err.failure;
    const st = f.status;
    const at = (i: number) => (index ? index[i]! : i);
    if (k > 0 && (st === nfsstat4.NFS4ERR_SYMLINK || st === nfsstat4.NFS4ERR_NOTDIR)) {
      const link = await this.symlinkAt(start, names, k - 1, o);
      if (link) throw new Nfs4PathError({ ...f, status: nfsstat4.NFS4ERR_SYMLINK }, at(k), names[k]!, { ...link, index: at(k - 1) });
    }
    throw new Nfs4PathError(f, at(k), names[k]!);
  }

  /**
   * Component j of `names` (walked from `start`), if it is a symlink: its
   * directory, handle, attributes and target, in one COMPOUND (PUTFH +
   * LOOKUPs to the directory + GETFH + LOOKUP + GETFH + GETATTR + READLINK)
   * when it fits, else by walking to the directory first.
   */
  private async symlinkAt(start: FileHandleId, names: readonly string[], j: number, o?: CallOpts): Promise<Omit<PathSymlink, 'index'> | undefined> {
    let from: FileHandleId = start;
    let prefix = names.slice(0, j);
    if (prefix.length + 6 > this.channel.maxOps) {
      from = (await walk(this.channel, start, prefix, this.statAttrs, this.so(o))).fh;
      prefix = [];
    }
    const ops: AnyOp[] = [opPutfh(from), ...prefix.map(step), opGetfh(), step(names[j]!), opGetfh(), this.statAttrs, opReadlink()];
    const reply = await this.channel.send('resolve_symlink', ops, this.so(o));
    const n = prefix.length;
    if (reply.failure && reply.failure.index < n + 5) return undefined;
    const a = reply.results[n + 4] as Attrs;
    if (a.kind !== 'symlink' || reply.failure) return undefined;
    return { dirFh: reply.results[n + 1] as Buffer, fh: reply.results[n + 3] as Buffer, attrs: a, target: reply.results[n + 5] as string };
  }

  // ---- open state -------------------------------------------------------------

  /**
   * OPEN: `name` in directory `dirOrFh`, or (name undefined, 4.1+ only) the
   * file `dirOrFh` itself. One COMPOUND (PUTFH + OPEN + GETFH + GETATTR),
   * plus OPEN_CONFIRM when a 4.0 server asks for it and SETATTR for an
   * exclusive create or a truncate. The returned state carries the stateid
   * to pass to read/write/setattr/lock and must be given back with
   * closeState(). close() closes states left open.
   */
  open(dirOrFh: FileHandleId, name: string | undefined, flags: OpenOptions, o?: CallOpts): Promise<Nfs4OpenState> {
    return openState(this.ctx, dirOrFh, name, flags, this.so(o));
  }

  /**
   * open() of the name `parts` ends with, by name in the directory the
   * other parts lead to from `start`, walked in the OPEN's own COMPOUND
   * (see openPathState). undefined, with nothing opened or created, when a
   * directory on the way did not resolve plainly.
   */
  openPath(parts: readonly string[], flags: OpenOptions, start: FileHandleId = this.rootFh, o?: CallOpts): Promise<Nfs4OpenState | undefined> {
    const n = parts.length;
    if (n === 0 || n + 6 > this.channel.maxOps) return Promise.resolve(undefined);
    return openPathState(this.ctx, start, parts.slice(0, n - 1), parts[n - 1]!, flags, this.so(o));
  }

  /** CLOSE (after LOCKU of the open's locks). Idempotent. */
  closeState(state: Nfs4OpenState, o?: CallOpts): Promise<void> {
    return closeState(this.ctx, state, this.so(o));
  }

  /** Open states not yet closed. */
  get openStates(): number {
    return this.ctx.live.size;
  }

  /**
   * A byte-range lock (fcntl semantics; length 0 = to end of file). Without
   * `wait`, a conflict throws Nfs4LockDeniedError (EAGAIN); with it, LOCK is
   * retried with backoff until granted or `signal` aborts.
   */
  lock(state: Nfs4OpenState, start: number, length: number, o: LockOptions): Promise<void> {
    return this.withState(state, o, () => lock(this.ctx, state, start, length, o, this.clock));
  }

  /** LOCKU of a range. */
  unlock(state: Nfs4OpenState, start: number, length: number, o?: CallOpts): Promise<void> {
    return this.withState(state, o, () => unlock(this.ctx, state, start, length, o?.signal));
  }

  /** LOCKT: the conflicting lock, or undefined when the lock would be granted. */
  testLock(state: Nfs4OpenState, start: number, length: number, exclusive: boolean, o?: CallOpts): Promise<Nfs4LockConflict | undefined> {
    return this.withState(state, o, () => testLock(this.ctx, state, start, length, exclusive, o?.signal));
  }

  /** The fs layer's view of this open's locks: one lock-owner per open (OFD-like). */
  lockOwner(_fh: FileHandleId, state: OpenState | undefined): LockOwner {
    const st = state as Nfs4OpenState | undefined;
    if (!st) throw statusError('NFS4ERR_BAD_STATEID', 'EBADF', 'OP_LOCK', 'locks need an open file');
    return {
      lock: (start, length, o) => this.lock(st, start, length, o),
      unlock: (start, length) => this.unlock(st, start, length),
      test: (start, length, exclusive) => this.testLock(st, start, length, exclusive),
      // CLOSE releases the open's locks; nothing to do before it.
      close: async () => {},
    };
  }

  // ---- NFSv4.2 ------------------------------------------------------------------

  private require42(op: string): void {
    if (this.minorVersion < 2) throw statusError('NFS4ERR_NOTSUPP', 'ENOTSUP', op, `needs NFSv4.2, mounted ${this.version}`);
  }

  /**
   * Server-side COPY of `count` bytes (0: to the end of the source) from
   * `src` at srcOffset to `dst` at dstOffset: PUTFH(src) + SAVEFH + PUTFH(dst)
   * + COPY, asked to be synchronous (a server that goes asynchronous anyway
   * is polled with OFFLOAD_STATUS). No data passes through the client. The
   * count may be short; callers loop. Servers without COPY: ENOTSUP.
   */
  async copy(src: Nfs4OpenState, dst: Nfs4OpenState, srcOffset: number, dstOffset: number, count: number, o?: CallOpts): Promise<CopyResult> {
    this.require42('OP_COPY');
    const m = this.minorVersion;
    const [, , , r] = await this.channel.run('copy', [opPutfh(src.fh), opSavefh(), opPutfh(dst.fh), opCopy(src.ioStateid(m), dst.ioStateid(m), srcOffset, dstOffset, count)], this.so(o));
    let copied = r.count;
    if (r.callbackId) {
      let delay = 100;
      for (;;) {
        const [, s] = await this.channel.run('offload_status', [opPutfh(dst.fh), opOffloadStatus(r.callbackId)], this.so(o));
        if (s.complete !== undefined) {
          if (s.complete !== nfsstat4.NFS4_OK) throw new Nfs4OpError({ index: 3, opnum: C.OP_COPY, op: 'OP_COPY', status: s.complete });
          copied = s.count;
          break;
        }
        await sleep(this.clock, delay, o?.signal);
        delay = Math.min(delay * 2, 1000);
      }
    }
    return { count: copied, committed: stableFromWire(r.committed), verf: r.verf };
  }

  /** SEEK for the next data or hole at or after `offset` (SEEK_DATA/SEEK_HOLE). Past the end: ENXIO. */
  async seek(state: Nfs4OpenState, offset: number, what: 'data' | 'hole', o?: CallOpts): Promise<{ offset: number; eof: boolean }> {
    this.require42('OP_SEEK');
    const [, r] = await this.channel.run(
      'seek',
      [opPutfh(state.fh), opSeek(state.ioStateid(this.minorVersion), offset, what === 'data' ? C.NFS4_CONTENT_DATA : C.NFS4_CONTENT_HOLE)],
      this.so(o),
    );
    return r;
  }

  /** ALLOCATE: reserve space for [offset, offset+length) (fallocate mode 0). */
  async allocate(state: Nfs4OpenState, offset: number, length: number, o?: CallOpts): Promise<void> {
    this.require42('OP_ALLOCATE');
    await this.channel.run('allocate', [opPutfh(state.fh), opAllocate(state.ioStateid(this.minorVersion), offset, length)], this.so(o));
  }

  /** DEALLOCATE: punch a hole over [offset, offset+length) (FALLOC_FL_PUNCH_HOLE). */
  async deallocate(state: Nfs4OpenState, offset: number, length: number, o?: CallOpts): Promise<void> {
    this.require42('OP_DEALLOCATE');
    await this.channel.run('deallocate', [opPutfh(state.fh), opDeallocate(state.ioStateid(this.minorVersion), offset, length)], this.so(o));
  }
}

/**
 * The pseudo-root took our flavor, the export does not (RFC 7530 3.2.1):
 * SECINFO on the refusing component says which flavors it takes.
 */
async function wrongSec(ch: Channel, t: MountTarget, names: readonly string[], err: WalkError): Promise<WrongSecurityError> {
  const used = t.gss?.name ?? 'sys';
  const at = names[err.at]!;
  let wanted: string[] = [];
  try {
    const [, ...rest] = await ch.run('secinfo', [opPutrootfh(), ...names.slice(0, err.at).map(step), opSecinfo(at)]);
    wanted = [...new Set((rest[rest.length - 1] as number[]).map(secNameOf))];
  } catch {
    // Not every server answers SECINFO under the refused flavor: name what we would try.
  }
  const listed = wanted.length > 0;
  if (!listed) wanted = ['krb5', 'krb5i', 'krb5p'].filter((n) => n !== used);
  return new WrongSecurityError(
    `mount ${t.host}:/${names.join('/')}: this export wants ${wanted.join('/')}, not ${used} (NFS4ERR_WRONGSEC at '${at}'${listed ? ', flavors from SECINFO' : ''}); give sec=${wanted[0] ?? 'krb5'}`,
    wanted,
    used,
    { cause: err },
  );
}

/**
 * The flavors the export at `names` takes, by SECINFO_NO_NAME on it (4.1+;
 * RFC 8881 2.6.3.1.1 lets PUTROOTFH and LOOKUP pass under any flavor when
 * it follows) or SECINFO in its parent (4.0, which cannot ask about the
 * root). Returns when the flavor in use is the first of `sec` offered (or
 * the server does not say); else throws WrongSecurityError with the offered
 * ones, which connect() takes to mount with the right flavor next.
 */
async function negotiateSec(ch: Channel, t: MountTarget, names: readonly string[], sec: readonly SecName[]): Promise<void> {
  const used = t.gss?.name ?? 'sys';
  const v41 = ch.minorVersion >= 1;
  if (!v41 && names.length === 0) return;
  const ops: AnyOp[] = v41 ? [opPutrootfh(), ...names.map(step), opSecinfoNoName()] : [opPutrootfh(), ...names.slice(0, -1).map(step), opSecinfo(names[names.length - 1]!)];
  const reply = await ch.send('secinfo', ops);
  const f = reply.failure;
  if (f) {
    if (f.status === nfsstat4.NFS4ERR_WRONGSEC && f.index >= 1 && f.index <= names.length) throw await wrongSec(ch, t, names, new WalkError(f, f.index - 1));
    // Anything else (no such path, no SECINFO_NO_NAME): the walk reports it, or mounting goes on as without a list.
    return;
  }
  const offered = [...new Set((reply.results[reply.results.length - 1] as number[]).map(secNameOf))];
  const best = sec.find((n) => offered.includes(n));
  if (best === used || offered.length === 0) return;
  const op = v41 ? 'SECINFO_NO_NAME' : 'SECINFO';
  throw new WrongSecurityError(
    best
      ? `mount ${t.host}:/${names.join('/')}: the export takes ${offered.join('/')} (${op}); ${best} comes before ${used} in sec=${sec.join(':')}`
      : `mount ${t.host}:/${names.join('/')}: this export wants ${offered.join('/')} (${op}), none of sec=${sec.join(':')}; give sec=${offered.find((n) => n === 'sys' || n.startsWith('krb5')) ?? 'krb5'}`,
    offered,
    used,
  );
}

function secondResult<T>(results: readonly [unknown, T]): T {
  return results[1];
}

function step(name: string): Op<void> {
  return name === '..' ? opLookupp() : opLookup(name);
}

/** Whole-COMPOUND refusals meaning "too many ops" (RESOURCE on 4.0, and from Ganesha on 4.1 too). */
const TOO_LONG = new Set<number>([nfsstat4.NFS4ERR_RESOURCE, nfsstat4.NFS4ERR_TOO_MANY_OPS, nfsstat4.NFS4ERR_REQ_TOO_BIG]);

/** A walk failed at component `at` of its names. */
class WalkError extends Error {
  constructor(
    readonly failure: OpFailure,
    readonly at: number,
  ) {
    super(`path walk failed at component ${at}: ${failure.op}`);
  }
}

/** Where a walk ended: the handle, and what its GETATTR op decoded. */
interface Walked<A> {
  fh: FileHandleId;
  attrs: A;
}

/**
 * PUTFH(start) or PUTROOTFH + LOOKUP/LOOKUPP per name + GETFH + `getattr`,
 * in as few COMPOUNDs as the channel allows per COMPOUND (one for any
 * ordinary path). A failing LOOKUP is a WalkError with its component's
 * index, handed to `failed` when given (its promise is the walk's), else
 * thrown; other failures (a stale start handle) are thrown as they are.
 *
 * A path that fits one COMPOUND (every stat) is a chain on that one call;
 * longer ones, and a server refusing the length, go through walkChunked.
 */
function walk<A>(ch: Channel, start: Start, names: readonly string[], getattr: Op<A>, o?: SendOptions, failed?: (err: WalkError) => Promise<never>): Promise<Walked<A>> {
  const n = names.length;
  if (n > Math.max(1, ch.maxOps - 3)) return walkChunked(ch, start, names, getattr, o, failed);
  try {
    const ops: AnyOp[] = [start === 'root' ? opPutrootfh() : opPutfh(start)];
    for (let i = 0; i < n; i++) ops.push(step(names[i]!));
    ops.push(opGetfh(), getattr);
    return ch.sendThen('resolve', ops, o, (reply) => {
      const f = reply.failure;
      if (!f) return { fh: reply.results[n + 1] as Buffer, attrs: reply.results[n + 2] as A };
      if (f.opnum === -1 && TOO_LONG.has(f.status) && n > 1) {
        ch.lowerMaxOps(ops.length);
        return walkChunked(ch, start, names, getattr, o, failed);
      }
      if (f.index < 1 || f.index > n) throw new Nfs4OpError(f);
      const err = new WalkError(f, f.index - 1);
      if (failed) return failed(err);
      throw err;
    });
  } catch (err) {
    return Promise.reject(err);
  }
}

/** walk() over as many COMPOUNDs as the channel's op limit needs. */
async function walkChunked<A>(ch: Channel, start: Start, names: readonly string[], getattr: Op<A>, o?: SendOptions, failed?: (err: WalkError) => Promise<never>): Promise<Walked<A>> {
  let from = start;
  let done = 0;
  for (;;) {
    const chunk = names.slice(done, done + Math.max(1, ch.maxOps - 3));
    const last = done + chunk.length === names.length;
    const ops: AnyOp[] = [from === 'root' ? opPutrootfh() : opPutfh(from), ...chunk.map(step), opGetfh()];
    if (last) ops.push(getattr);
    const reply = await ch.send(last ? 'resolve' : 'resolve_part', ops, o);
    const f = reply.failure;
    if (f && f.opnum === -1 && TOO_LONG.has(f.status) && chunk.length > 1) {
      ch.lowerMaxOps(ops.length);
      continue;
    }
    if (f) {
      if (f.index < 1 || f.index > chunk.length) throw new Nfs4OpError(f);
      const err = new WalkError(f, done + f.index - 1);
      if (failed) return failed(err);
      throw err;
    }
    const fh = reply.results[chunk.length + 1] as Buffer;
    if (last) return { fh, attrs: reply.results[chunk.length + 2] as A };
    from = fh;
    done += chunk.length;
  }
}

function readResult([, r]: [unknown, { data: Buffer; eof: boolean }]): { data: Buffer; eof: boolean } {
  return { data: r.data, eof: r.eof };
}

function writeResult([, r]: [unknown, { count: number; committed: number; verf: Buffer }]): WriteResult {
  return { count: r.count, committed: stableFromWire(r.committed), verf: r.verf };
}
