/**
 * Open state: OPEN (with or without create), OPEN_CONFIRM when a 4.0 server
 * asks for it, CLOSE, and the bookkeeping an open carries (its stateid,
 * owner and lock state). Locks are in locks.ts.
 */
import type { Attrs, CreateMode, FileHandleId, SetAttrs } from '../fs/backend.js';
import { STAT_ATTRS, bitmap4Bytes, type IdMapper } from './attrs.js';
import type { Channel, SendOptions } from './channel.js';
import { AbortError } from '../rpc/errors.js';
import { Nfs4OpError, statusError } from './compound.js';
import * as C from './constants.js';
import {
  CURRENT_STATEID,
  opClose,
  opDelegreturn,
  opFreeStateid,
  opGetattrAttrs,
  opGetfh,
  opLocku,
  opLookup,
  opOpen,
  opOpenConfirm,
  opPutfh,
  opReleaseLockowner,
  opSetattr,
  type AnyOp,
  type Op,
  type OpenClaim,
  type OpenHow,
  type OpenResult,
  type Stateid,
} from './ops.js';
import { LockRanges } from './lock-ranges.js';
import type { OpenOwnerPool, StateOwner } from './owners.js';
import { nfsstat4 } from './status.js';

const STAT_REQUEST = bitmap4Bytes(STAT_ATTRS);

/** What the state machinery needs from the backend. */
export interface StateContext {
  readonly channel: Channel & { readonly stateEpoch: number };
  readonly opens: OpenOwnerPool;
  readonly idmap: IdMapper;
  /** Every open state not yet closed, so close() can CLOSE what callers left open. */
  readonly live: Set<Nfs4OpenState>;
}

export interface OpenOptions {
  read: boolean;
  write: boolean;
  /** Create the file if needed, as Backend.create does (exclusive: EXCLUSIVE4_1 on 4.1+, EXCLUSIVE4 on 4.0). */
  create?: CreateMode | undefined;
  /** Truncate to 0 bytes once open (needs write). */
  truncate?: boolean | undefined;
  /**
   * Reclaim after a server restart, during its grace period: CLAIM_PREVIOUS
   * of the file `dirOrFh` (RFC 7530 §9.6.2, RFC 8881 §8.4.2.1). The server
   * answers NFS4ERR_NO_GRACE when it has no grace period to reclaim in.
   */
  reclaim?: boolean | undefined;
}

/** Keys an open-owner files an open under (OpenOwnerPool.pick avoids owners holding one). */
export function fileKeys(fh: FileHandleId | undefined, dir?: FileHandleId, name?: string): string[] {
  const keys: string[] = [];
  if (fh) keys.push(`fh:${fh.toString('hex')}`);
  if (dir && name !== undefined) keys.push(`name:${dir.toString('hex')}/${name}`);
  return keys;
}

/**
 * One OPEN of one file by this client: what READ, WRITE, SETATTR, LOCK and
 * the 4.2 operations present to the server as proof of the open.
 *
 * Invariants: `stateid` is the open stateid as last returned by OPEN or
 * OPEN_CONFIRM (its `other` never changes for the life of the open).
 * `lockStateid` is set once the first LOCK is granted and then only
 * replaced by the stateid LOCK/LOCKU return; with it set, lock requests use
 * exist_lock_owner4 and I/O carries it (RFC 8881 §8.2.2 prefers the lock
 * stateid once locks are held). `closed` is set when closeState() starts;
 * nothing is sent for a closed state afterwards.
 */
export class Nfs4OpenState {
  stateid: Stateid;
  /** @internal Lock-owner of this open (one per open: locks behave like OFD locks). */
  lockOwner: StateOwner | undefined;
  /** @internal */
  lockStateid: Stateid | undefined;
  /** @internal Serializes LOCK/LOCKU of this open (their stateid and 4.0 seqid). */
  lockTail: Promise<void> = Promise.resolve();
  /** @internal Delegation to return on close (only if a server grants one anyway). */
  delegation: Stateid | undefined;
  closed = false;
  /** @internal A re-OPEN after the server lost this state, while it runs. */
  recovery: Promise<void> | undefined;
  /** Set when a recovery could not bring back byte-range locks this open held. */
  locksLost = false;
  /** @internal What this open's lock-owner holds, to reclaim after a restart. */
  readonly locks = new LockRanges();
  /**
   * Set when the open could not be brought back after the server lost it
   * (locks not reclaimable, the name now names another file): every later
   * op with this state fails with it. Never cleared.
   */
  lost: Error | undefined;
  /** @internal Bumped each time the open is re-established; a caller that saw an older one may retry. */
  generation = 0;
  /** The file's fileid when first opened: a re-open by name must find the same file. */
  readonly fileid: bigint | undefined;
  /** @internal Keys filed in `owner.files` (see OpenOwnerPool). */
  files: string[] = [];
  /**
   * 4.0 opens (CLAIM_NULL): the directory and name opened, the only way
   * 4.0 can open the file again when there is no grace period to reclaim in.
   */
  dir: FileHandleId | undefined;
  name: string | undefined;

  constructor(
    readonly fh: FileHandleId,
    stateid: Stateid,
    /** OPEN4_SHARE_ACCESS_READ/WRITE bits. */
    readonly shareAccess: number,
    /** @internal The open-owner. */
    public owner: StateOwner,
    /** Client-id epoch of the open; a state from an older epoch is gone on the server. */
    public epoch: number,
    /** Attributes right after the open (and its create/truncate). */
    public attrs: Attrs | undefined,
  ) {
    this.stateid = stateid;
    this.fileid = attrs?.fileid;
  }

  /**
   * The stateid for READ/WRITE/SETATTR/SEEK/...: the lock stateid once a
   * lock is held, else the open stateid. On 4.1+ with seqid 0, which means
   * "the current one" (RFC 8881 §8.2.2) and so cannot go stale while a
   * LOCK in flight bumps it.
   */
  ioStateid(minorVersion: number): Stateid {
    const s = this.lockStateid ?? this.stateid;
    if (minorVersion < 1) return s;
    if (this.ioOf !== s) {
      this.ioOf = s;
      this.io = { seqid: 0, other: s.other };
    }
    return this.io!;
  }
  /** ioStateid's 4.1 answer, made once per stateid it stands for (`ioOf`) instead of once per READ or WRITE. */
  private io: Stateid | undefined;
  private ioOf: Stateid | undefined;

  /** @internal Runs `fn` with no other LOCK/LOCKU of this open in flight. */
  async lockExclusive<T>(fn: () => Promise<T>): Promise<T> {
    const prev = this.lockTail;
    let release!: () => void;
    this.lockTail = new Promise<void>((r) => (release = r));
    try {
      await prev;
      return await fn();
    } finally {
      release();
    }
  }
}

function attach<T>(o: Op<T>, settle: (s: number) => void): Op<T> {
  return { ...o, settle };
}

function createHow(create: CreateMode, minor: number): OpenHow {
  if (create.mode === 'exclusive') {
    const attrs: SetAttrs = create.attrs.mode !== undefined ? { mode: create.attrs.mode } : {};
    return minor >= 1 ? { create: true, mode: C.EXCLUSIVE4_1, verf: create.verf, attrs } : { create: true, mode: C.EXCLUSIVE4, verf: create.verf };
  }
  return { create: true, mode: create.mode === 'guarded' ? C.GUARDED4 : C.UNCHECKED4, attrs: create.attrs };
}

/**
 * OPEN `name` in directory `dirOrFh`, or (4.1+, name undefined) the file
 * `dirOrFh` itself by CLAIM_FH. One COMPOUND: PUTFH + OPEN + GETFH +
 * GETATTR; then OPEN_CONFIRM if a 4.0 server asks, and a SETATTR when the
 * create or truncate needs one (exclusive creates set mode and times after,
 * as the verifier may live in the times).
 */
export function openState(ctx: StateContext, dirOrFh: FileHandleId, name: string | undefined, f: OpenOptions, o?: SendOptions): Promise<Nfs4OpenState> {
  return openWalked(ctx, dirOrFh, undefined, name, f, o);
}

/**
 * openState() of `name` in the directory `dirs` leads to from `start`, the
 * LOOKUPs in the OPEN's own COMPOUND (PUTFH + LOOKUP… + GETFH + OPEN + GETFH
 * + GETATTR), where resolving the directory first is a COMPOUND of its own.
 * undefined, with nothing opened or created, when a directory on the way
 * did not resolve (missing, not a directory, a symlink): the caller
 * resolves it itself. Failures of the OPEN are openState's.
 */
export async function openPathState(ctx: StateContext, start: FileHandleId, dirs: readonly string[], name: string, f: OpenOptions, o?: SendOptions): Promise<Nfs4OpenState | undefined> {
  try {
    return await openWalked(ctx, start, dirs, name, f, o);
  } catch (err) {
    if (err instanceof DirNotWalked) return undefined;
    throw err;
  }
}

/** openPathState's directory walk stopped before the OPEN ran. */
class DirNotWalked extends Error {}

/** openState, with `dirs` (when given) walked from `dirOrFh` in the OPEN's COMPOUND. */
async function openWalked(ctx: StateContext, dirOrFh: FileHandleId, dirs: readonly string[] | undefined, name: string | undefined, f: OpenOptions, o?: SendOptions): Promise<Nfs4OpenState> {
  const minor = ctx.channel.minorVersion;
  let shareAccess = (f.read ? C.OPEN4_SHARE_ACCESS_READ : 0) | (f.write || f.truncate ? C.OPEN4_SHARE_ACCESS_WRITE : 0);
  if (shareAccess === 0) shareAccess = C.OPEN4_SHARE_ACCESS_READ;
  let claim: OpenClaim;
  if (f.reclaim) claim = { claim: C.CLAIM_PREVIOUS, delegateType: C.OPEN_DELEGATE_NONE };
  else if (name !== undefined) claim = { claim: C.CLAIM_NULL, name };
  else if (minor >= 1) claim = { claim: C.CLAIM_FH };
  else throw statusError('NFS4ERR_INVAL', 'EINVAL', 'OP_OPEN', 'NFSv4.0 opens by directory and name (CLAIM_FH needs 4.1)');
  if (f.create && claim.claim !== C.CLAIM_NULL) throw statusError('NFS4ERR_INVAL', 'EINVAL', 'OP_OPEN', 'create needs a name');
  const how: OpenHow = f.create ? createHow(f.create, minor) : { create: false };
  const byName = claim.claim === C.CLAIM_NULL;
  if (dirs && !byName) throw statusError('NFS4ERR_INVAL', 'EINVAL', 'OP_OPEN', 'a walked open is by name');
  // A walked open learns its directory's handle from the reply: until then no owner is known to hold the name.
  const avoid = byName ? (dirs ? [] : fileKeys(undefined, dirOrFh, name)) : fileKeys(dirOrFh);
  // The signal is honoured up to the OPEN, not during it: an OPEN aborted
  // in flight may hold state on the server that we would never CLOSE.
  const signal = o?.signal;
  if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
  const so: SendOptions | undefined = o?.timeout !== undefined || o?.inRecovery ? { timeout: o.timeout, inRecovery: o.inRecovery } : undefined;

  let st: Nfs4OpenState | undefined;
  for (let attempt = 0; !st; attempt++) {
    const owner = ctx.opens.pick(avoid);
    const epoch = ctx.channel.stateEpoch;
    st = await owner.exclusive(async () => {
      const wire = minor >= 1 ? shareAccess | C.OPEN4_SHARE_ACCESS_WANT_NO_DELEG : shareAccess;
      const open = attach(opOpen({ seqid: owner.seqid, shareAccess: wire, shareDeny: C.OPEN4_SHARE_DENY_NONE, owner, how, claim }), owner.settle);
      let res: OpenResult;
      let fh: FileHandleId;
      let attrs: Attrs;
      let dir = dirOrFh;
      if (!dirs) [, res, fh, attrs] = await ctx.channel.run('open', [opPutfh(dirOrFh), open, opGetfh(), opGetattrAttrs(STAT_REQUEST, ctx.idmap)], so);
      else {
        const n = dirs.length;
        const ops: AnyOp[] = [opPutfh(dirOrFh)];
        for (const d of dirs) ops.push(opLookup(d));
        ops.push(opGetfh(), open, opGetfh(), opGetattrAttrs(STAT_REQUEST, ctx.idmap));
        const reply = await ctx.channel.send('open', ops, so);
        const fail = reply.failure;
        if (fail && fail.index <= n) throw new DirNotWalked();
        if (fail) throw new Nfs4OpError(fail);
        const r = reply.results;
        dir = r[n + 1] as FileHandleId;
        res = r[n + 2] as OpenResult;
        fh = r[n + 3] as FileHandleId;
        attrs = r[n + 4] as Attrs;
      }
      let stateid = res.stateid;
      if (res.rflags & C.OPEN4_RESULT_CONFIRM) {
        const confirm = attach(
          opOpenConfirm(() => stateid, owner.seqid),
          owner.settle,
        );
        [, stateid] = await ctx.channel.run('open_confirm', [opPutfh(fh), confirm], so);
      }
      owner.confirmed = true;
      const keys = byName ? fileKeys(fh, dir, name) : fileKeys(fh);
      const twin = [...ctx.live].find((x) => x.owner === owner && x.stateid.other.equals(stateid.other));
      if (twin) {
        // Another name (a hard link) for a file this owner already had
        // open: the server folded this OPEN into that open. It keeps the
        // newer seqid; this open is made again under another owner.
        twin.stateid = stateid;
        for (const k of keys) if (!avoid.includes(k)) avoid.push(k);
        return undefined;
      }
      const s = new Nfs4OpenState(fh, stateid, shareAccess, owner, epoch, attrs);
      if (byName) {
        s.dir = dir;
        s.name = name;
      }
      fileUnder(s, owner, keys);
      if (res.delegation.stateid) s.delegation = res.delegation.stateid;
      return s;
    });
    if (!st && attempt > 0) throw statusError('NFS4ERR_SERVERFAULT', 'EIO', 'OP_OPEN', 'the server folded two opens by different owners into one');
  }
  ctx.live.add(st);

  const fix: SetAttrs = {};
  if (f.create?.mode === 'exclusive') {
    Object.assign(fix, f.create.attrs);
    fix.atime ??= 'server';
    fix.mtime ??= 'server';
  }
  // Truncation is its own SETATTR (with the open's stateid) rather than a
  // size in createattrs, whose effect on an existing file servers differ on.
  if (f.truncate && st.attrs?.size !== 0) fix.size = 0;
  if (Object.keys(fix).length > 0) {
    try {
      const [, , attrs] = await ctx.channel.run('open_setattr', [opPutfh(st.fh), opSetattr(st.ioStateid(minor), fix), opGetattrAttrs(STAT_REQUEST, ctx.idmap)], so);
      st.attrs = attrs;
    } catch (err) {
      await closeState(ctx, st).catch(() => undefined);
      throw err;
    }
  }
  return st;
}

/** Files `st` under `owner` (and out of the owner it had before). */
export function fileUnder(st: Nfs4OpenState, owner: StateOwner, keys: string[]): void {
  for (const k of st.files) st.owner.files.delete(k);
  st.owner = owner;
  st.files = keys;
  for (const k of keys) owner.files.add(k);
}

/**
 * Backend.create on 4.1+: make the file and let go of it in ONE COMPOUND,
 * PUTFH + OPEN(create) + GETFH + [SETATTR] + GETATTR + CLOSE, the SETATTR
 * and CLOSE naming the OPEN's stateid as the "current stateid" (RFC 8881
 * §16.2.3.1.2). If anything after the OPEN failed, the open is closed by
 * its real stateid.
 */
export async function createClosed(ctx: StateContext, dir: FileHandleId, name: string, create: CreateMode, o?: SendOptions): Promise<{ fh: FileHandleId; attrs: Attrs }> {
  const minor = ctx.channel.minorVersion;
  if (minor < 1) throw statusError('NFS4ERR_INVAL', 'EINVAL', 'OP_OPEN', 'current stateids need NFSv4.1');
  const owner = ctx.opens.pick();
  const how = createHow(create, minor);
  const open = opOpen({
    seqid: owner.seqid,
    shareAccess: C.OPEN4_SHARE_ACCESS_WRITE | C.OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
    shareDeny: C.OPEN4_SHARE_DENY_NONE,
    owner,
    how,
    claim: { claim: C.CLAIM_NULL, name },
  });
  const fix: SetAttrs | undefined = create.mode === 'exclusive' ? { ...create.attrs, atime: create.attrs.atime ?? 'server', mtime: create.attrs.mtime ?? 'server' } : undefined;
  const ops = fix
    ? ([opPutfh(dir), open, opGetfh(), opSetattr(CURRENT_STATEID, fix), opGetattrAttrs(STAT_REQUEST, ctx.idmap), opClose(owner.seqid, () => CURRENT_STATEID)] as const)
    : ([opPutfh(dir), open, opGetfh(), opGetattrAttrs(STAT_REQUEST, ctx.idmap), opClose(owner.seqid, () => CURRENT_STATEID)] as const);
  if (o?.signal?.aborted) throw new AbortError(undefined, { cause: o.signal.reason });
  const reply = await ctx.channel.send('create', ops, o?.timeout !== undefined ? { timeout: o.timeout } : undefined);
  const f = reply.failure;
  const res = reply.results[1] as OpenResult | undefined;
  if (f && res) {
    // The OPEN held: give it back before reporting the failure.
    const fh = reply.results[2] as FileHandleId | undefined;
    if (fh) await ctx.channel.run('close', [opPutfh(fh), opClose(owner.seqid, () => res.stateid)], o).catch(() => undefined);
  }
  if (f) throw new Nfs4OpError(f);
  const fh = reply.results[2] as FileHandleId;
  return { fh, attrs: reply.results[fix ? 4 : 3] as Attrs };
}

/** Statuses of CLOSE/LOCKU meaning the state is already gone on the server: nothing left to release. */
const STATE_GONE = new Set<number>([
  nfsstat4.NFS4ERR_BAD_STATEID,
  nfsstat4.NFS4ERR_STALE_STATEID,
  nfsstat4.NFS4ERR_EXPIRED,
  nfsstat4.NFS4ERR_ADMIN_REVOKED,
  nfsstat4.NFS4ERR_DELEG_REVOKED,
  nfsstat4.NFS4ERR_STALE_CLIENTID,
]);

function goneOrThrow(err: unknown): void {
  if (err instanceof Nfs4OpError && STATE_GONE.has(err.failure.status)) return;
  throw err;
}

/**
 * Releases an open: its locks (LOCKU of the whole file, then FREE_STATEID
 * on 4.1 or RELEASE_LOCKOWNER on 4.0), any delegation, and the open itself
 * (CLOSE). Idempotent; state the server already dropped (expired lease,
 * restart) counts as released.
 */
export async function closeState(ctx: StateContext, st: Nfs4OpenState, o?: SendOptions): Promise<void> {
  if (st.closed) return;
  st.closed = true;
  ctx.live.delete(st);
  try {
    if (st.epoch === ctx.channel.stateEpoch && !st.lost) await releaseState(ctx, st, o);
  } finally {
    // Only now may the owner open this file again: an OPEN racing our
    // CLOSE on the same owner would be folded into the open being closed.
    for (const k of st.files) st.owner.files.delete(k);
  }
}

/** Why `st` cannot be used any more, after the server lost it and it could not be opened again. */
export function lostOpen(st: Nfs4OpenState, why: string): Error {
  return statusError('NFS4ERR_STALE', 'ESTALE', 'OP_OPEN', `the server lost this open${st.name !== undefined ? ` of '${st.name}'` : ''} and ${why}`);
}

/** The LOCKU, FREE_STATEID/RELEASE_LOCKOWNER, DELEGRETURN and CLOSE of closeState, without the bookkeeping. */
export async function releaseState(ctx: StateContext, st: Nfs4OpenState, o?: SendOptions): Promise<void> {
  const minor = ctx.channel.minorVersion;
  await st.lockExclusive(async () => {
    const lo = st.lockOwner;
    const ls = st.lockStateid;
    if (!lo || !ls) return;
    const unlock = attach(
      opLocku(C.WRITE_LT, lo.seqid, () => st.lockStateid!, 0n, C.NFS4_UINT64_MAX),
      lo.settle,
    );
    try {
      const [, next] = await ctx.channel.run('close_unlock', [opPutfh(st.fh), unlock], o);
      st.lockStateid = next;
      st.locks.clear();
      if (minor >= 1) await ctx.channel.run('free_stateid', [opFreeStateid(next)], o).catch(() => undefined);
    } catch (err) {
      goneOrThrow(err);
    }
  });
  if (st.delegation) {
    await ctx.channel.run('delegreturn', [opPutfh(st.fh), opDelegreturn(st.delegation)], o).catch(() => undefined);
  }
  await st.owner.exclusive(async () => {
    const close = attach(
      opClose(st.owner.seqid, () => st.stateid),
      st.owner.settle,
    );
    try {
      await ctx.channel.run('close', [opPutfh(st.fh), close], o);
    } catch (err) {
      goneOrThrow(err);
    }
  });
  if (minor === 0 && st.lockOwner) {
    await ctx.channel.run('release_lockowner', [opReleaseLockowner(st.lockOwner)], o).catch(() => undefined);
  }
}
