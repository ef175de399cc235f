/**
 * Byte-range locks for NFSv3 over NLM v4: the lock manager behind
 * FileHandle.lock/unlock on a v3 mount.
 *
 * One NlmLocker is one connection to the server's lock manager and one
 * owner handle (`oh`: 8 random bytes + this process's pid). Each lock owner
 * under it has its own svid, so the server sees (caller_name, oh, svid)
 * triples: two NlmLockers, even in one process, never share an owner and
 * contend like two processes; the owners of one NlmLocker (`newOwner()`)
 * contend with each other too. A lock owner's own locks merge and split
 * POSIX-style and never conflict with each other.
 *
 * Waiting (`wait: true`) polls: LOCK is always sent with block=FALSE and
 * retried on NLM4_DENIED after a capped exponential backoff (10 ms doubling
 * to 1 s) until granted or aborted. The protocol's own way to wait
 * (block=TRUE, NLM4_BLOCKED, then an NLMPROC4_GRANTED call back from the
 * server) needs an RPC server of our own registered with the client host's
 * rpcbind, which a userspace library without privileges cannot count on;
 * the Linux client polls as well when a server's callbacks never come.
 * The cost is latency (up to the poll interval after the holder unlocks)
 * and no fairness between waiters.
 *
 * NLM4_DENIED_GRACE_PERIOD (the server restarted and only takes reclaims)
 * is retried with the same backoff by LOCK and TEST, waiting or not, as the
 * Linux client does; `signal` aborts the wait. For UNLOCK it means the lock
 * is gone already (this client never reclaims), so it counts as released.
 *
 * Not handled: reclaiming locks after a server reboot (that needs an NSM
 * of our own to receive SM_NOTIFY); locks held when the server restarts are
 * lost, as for any client that does not run statd.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { hostname } from 'node:os';
import { InvalidArgError, invalidArgType, type NfsStatusError } from '../errors.js';
import { NFS3_FHSIZE } from '../nfs3/constants.js';
import { lookupTcpPort, PMAP_PORT } from '../portmap/portmap.js';
import { isIPv6 } from 'node:net';
import type { Credential } from '../rpc/auth.js';
import { RpcClient } from '../rpc/client.js';
import { AbortError, RpcClosedError, RpcConnectionError } from '../rpc/errors.js';
import type { ResvPortMode } from '../rpc/resvport.js';
import { NLM4_BLOCKED, NLM4_DENIED, NLM4_DENIED_GRACE_PERIOD, NLM4_GRANTED, NLM4_VERS, NLM_PROG } from './constants.js';
import { nlm4Cancel, nlm4Lock, nlm4Test, nlm4Unlock, type Nlm4Lock } from './procedures.js';
import { nlm4Error } from './status.js';

export interface NlmLockerOptions {
  host: string;
  /** Credential for every NLM call; the server checks it against the export as for NFS calls. */
  auth: Credential;
  /** NLM v4 TCP port. Default: asked of rpcbind at `portmapPort` on first use. */
  port?: number | undefined;
  /** rpcbind's port. Default 111. */
  portmapPort?: number | undefined;
  /** caller_name: this client's host name as the server's lock manager records it. Default os.hostname(). */
  machineName?: string | undefined;
  /** ms to wait for TCP connect. Default 10 000. */
  connectTimeout?: number | undefined;
  /** ms per NLM call before ETIMEDOUT. Default 30 000. */
  timeout?: number | undefined;
  /** ms close() waits for the unlocks of its owners. Default 5000. */
  closeTimeout?: number | undefined;
  /** First and largest pause between polls of a waiting lock (and during a grace period). Defaults 10 and 1000 ms. */
  pollMinMs?: number | undefined;
  pollMaxMs?: number | undefined;
  /** The `state` sent with LOCK: the client's NSM state number. Default 0 (this client runs no NSM). */
  nsmState?: number | undefined;
  /** Bind to this local port (servers that want privileged ports). */
  localPort?: number | undefined;
  /** Privileged source ports (resvport) for the rpcbind and NLM connections. */
  resvport?: ResvPortMode | undefined;
  /**
   * An RPC client already pointed at the server's NLM service, used instead
   * of connecting (host, port, auth and the timeouts above are then not
   * used for connecting). It stays the caller's: close() does not close it.
   */
  client?: RpcClient | undefined;
}

export interface NlmLockOptions {
  /** A write lock; otherwise a read (shared) lock. */
  exclusive: boolean;
  /** Poll until granted (or `signal` aborts) instead of failing with EAGAIN. */
  wait?: boolean | undefined;
  /** Aborts a waiting lock with AbortError; an attempt already on the wire finishes first, so its outcome is never unknown. */
  signal?: AbortSignal | undefined;
}

/** The lock that conflicts with a tested range (fcntl F_GETLK's answer). */
export interface NlmConflict {
  exclusive: boolean;
  start: number;
  /** 0: to the end of the file. */
  length: number;
  /** The holder's owner, as its client identified it: compare with NlmLockOwner.oh / .svid. */
  svid: number;
  oh: Buffer;
}

const DEFAULTS = { timeout: 30_000, connectTimeout: 10_000, pollMinMs: 10, pollMaxMs: 1000, closeTimeout: 5000 };

/**
 * svids handed to owners, process-wide: unique across every NlmLocker here,
 * since some servers (Linux lockd) key an owner on (host, svid) alone and
 * ignore oh. Starts at a random positive int32 so that processes on one
 * host rarely overlap either.
 */
let nextSvid = randomInt(1, 0x7000_0000);

function allocSvid(): number {
  const s = nextSvid;
  nextSvid = nextSvid >= 0x7fff_ffff ? 1 : nextSvid + 1;
  return s;
}

/** fcntl-style range → (l_offset, l_len). A length of 0 or Infinity is "to EOF", which NLM spells l_len = 0. */
function toRange(start: number, length: number): { offset: number; length: number } {
  if (typeof start !== 'number') throw invalidArgType('start', 'of type number', start);
  if (typeof length !== 'number') throw invalidArgType('length', 'of type number', length);
  if (!Number.isSafeInteger(start) || start < 0) {
    throw new InvalidArgError('ERR_OUT_OF_RANGE', `The value of "start" is out of range. It must be a non-negative integer. Received ${start}`);
  }
  if (length === 0 || length === Infinity) return { offset: start, length: 0 };
  if (!Number.isSafeInteger(length) || length < 0 || !Number.isSafeInteger(start + length)) {
    throw new InvalidArgError('ERR_OUT_OF_RANGE', `The value of "length" is out of range. It must be a non-negative integer, 0 or Infinity (to end of file). Received ${length}`);
  }
  return { offset: start, length };
}

function checkFh(fh: Buffer): void {
  if (!Buffer.isBuffer(fh)) throw invalidArgType('fh', 'an instance of Buffer', fh);
  if (fh.length === 0 || fh.length > NFS3_FHSIZE) {
    throw new InvalidArgError('ERR_INVALID_ARG_VALUE', `The argument 'fh' must be an NFSv3 file handle of 1..${NFS3_FHSIZE} bytes. Received ${fh.length} bytes`);
  }
}

type Range = { offset: number; length: number };

/**
 * One lock owner: an svid under its NlmLocker's oh. Its locks never
 * conflict with each other; they conflict with every other owner's.
 */
export class NlmLockOwner {
  readonly svid = allocSvid();
  /**
   * Files this owner may hold locks on, by handle (hex) → handle. An entry
   * is added when LOCK is granted or its outcome is unknown (the call
   * failed in transit) and removed only by an UNLOCK of the whole file, so
   * it over-approximates what is held: close() unlocks each file in it.
   */
  private readonly files = new Map<string, Buffer>();
  /**
   * This owner's calls on the wire. close() waits for them before its
   * unlock sweep, so a LOCK granted while closing is swept too.
   */
  private readonly inflight = new Set<Promise<unknown>>();
  /** Aborted by close(): wakes this owner's poll waits. Aborted ⇔ closed. */
  private readonly closeAc = new AbortController();
  private closing: Promise<void> | undefined;

  /** @internal Created by NlmLocker.newOwner(). */
  constructor(private readonly locker: NlmLocker) {}

  /** The owner handle, shared by every owner of this owner's NlmLocker. */
  get oh(): Buffer {
    return this.locker.oh;
  }

  get closed(): boolean {
    return this.closeAc.signal.aborted;
  }

  /** Files on which this owner may hold locks (copies of their handles). */
  get lockedFiles(): Buffer[] {
    return [...this.files.values()].map((b) => Buffer.from(b));
  }

  private alock(fh: Buffer, r: Range): Nlm4Lock {
    return { callerName: this.locker.machineName, fh: Buffer.from(fh), oh: this.locker.oh, svid: this.svid, offset: r.offset, length: r.length };
  }

  private checkOpen(): void {
    if (this.closed) throw new RpcClosedError('NLM lock owner is closed');
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    const done = () => this.inflight.delete(p);
    p.then(done, done);
    return p;
  }

  /**
   * Takes a lock on [start, start + length) (length 0 or Infinity: to EOF).
   * A conflict rejects with NfsStatusError NLM4_DENIED / EAGAIN unless
   * `wait`; other refusals with their NLM4_* status and errno.
   */
  async lock(fh: Buffer, start: number, length: number, o: NlmLockOptions): Promise<void> {
    checkFh(fh);
    const r = toRange(start, length);
    if (typeof o?.exclusive !== 'boolean') throw invalidArgType('options.exclusive', 'of type boolean', o?.exclusive);
    const signal = o.signal;
    const key = fh.toString('hex');
    const alock = this.alock(fh, r);
    const exclusive = o.exclusive;
    let delay = this.locker.pollMinMs;
    for (;;) {
      if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
      this.checkOpen();
      // No signal on the call itself: a LOCK abandoned on the wire may be
      // granted anyway, and then nobody would know to release it. `files`
      // is updated inside the tracked promise, so a close() waiting for it
      // sees the file before its sweep.
      const res = await this.track(
        this.locker
          .call((rpc, cookie, opts) => nlm4Lock(rpc, { cookie, block: false, exclusive, alock, reclaim: false, state: this.locker.nsmState }, opts))
          .then(
            (res) => {
              if (res.stat === NLM4_GRANTED) this.files.set(key, alock.fh);
              return res;
            },
            (err: unknown) => {
              this.files.set(key, alock.fh); // outcome unknown
              throw err;
            },
          ),
      );
      let stat = res.stat;
      if (stat === NLM4_GRANTED) {
        // close() began while the call was out; its sweep releases this lock.
        this.checkOpen();
        return;
      }
      if (stat === NLM4_BLOCKED) {
        // Only block=TRUE may queue a request; withdraw it rather than
        // leave the server to grant it to nobody later.
        await this.track(this.locker.call((rpc, cookie, opts) => nlm4Cancel(rpc, { cookie, block: false, exclusive, alock }, opts))).catch(() => {});
        stat = NLM4_DENIED;
      }
      if (stat === NLM4_DENIED) {
        if (!o.wait) throw nlm4Error(stat, 'NLMPROC4_LOCK');
      } else if (stat !== NLM4_DENIED_GRACE_PERIOD) {
        throw nlm4Error(stat, 'NLMPROC4_LOCK');
      }
      await this.pause(delay, signal);
      delay = Math.min(delay * 2, this.locker.pollMaxMs);
    }
  }

  /** Releases [start, start + length); parts not held are ignored, as with fcntl F_UNLCK. */
  async unlock(fh: Buffer, start: number, length: number): Promise<void> {
    checkFh(fh);
    const r = toRange(start, length);
    this.checkOpen();
    await this.track(this.sendUnlock(fh, r));
  }

  private async sendUnlock(fh: Buffer, r: Range, timeout?: number): Promise<void> {
    const alock = this.alock(fh, r);
    const res = await this.locker.call((rpc, cookie, opts) => nlm4Unlock(rpc, { cookie, alock }, opts), timeout);
    // In its grace period the server holds no lock of ours (we never reclaim): released either way.
    if (res.stat !== NLM4_GRANTED && res.stat !== NLM4_DENIED_GRACE_PERIOD) throw nlm4Error(res.stat, 'NLMPROC4_UNLOCK');
    if (r.offset === 0 && r.length === 0) this.files.delete(fh.toString('hex'));
  }

  /**
   * The lock that would conflict with locking [start, start + length), or
   * undefined when it would be granted now. This owner's own locks never
   * conflict. The server reports one conflicting lock, not all of them.
   */
  async test(fh: Buffer, start: number, length: number, exclusive: boolean, opts?: { signal?: AbortSignal | undefined }): Promise<NlmConflict | undefined> {
    checkFh(fh);
    const r = toRange(start, length);
    if (typeof exclusive !== 'boolean') throw invalidArgType('exclusive', 'of type boolean', exclusive);
    const signal = opts?.signal;
    const alock = this.alock(fh, r);
    let delay = this.locker.pollMinMs;
    for (;;) {
      if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
      this.checkOpen();
      // TEST changes nothing on the server, so it may be abandoned on the wire.
      const res = await this.track(this.locker.call((rpc, cookie, o) => nlm4Test(rpc, { cookie, exclusive, alock }, { ...o, signal })));
      if (res.stat === NLM4_GRANTED) return undefined;
      if (res.stat === NLM4_DENIED) {
        const h = res.holder!;
        // A range reaching past 2^53 is "to EOF" for any file this client can address.
        const toEof = h.length === 0n || h.offset + h.length > BigInt(Number.MAX_SAFE_INTEGER);
        return { exclusive: h.exclusive, start: Number(h.offset), length: toEof ? 0 : Number(h.length), svid: h.svid, oh: h.oh };
      }
      if (res.stat !== NLM4_DENIED_GRACE_PERIOD) throw nlm4Error(res.stat, 'NLMPROC4_TEST');
      await this.pause(delay, signal);
      delay = Math.min(delay * 2, this.locker.pollMaxMs);
    }
  }

  /**
   * Releases every lock this owner may hold and retires it: waiting locks
   * reject with RpcClosedError, calls on the wire finish first, then each
   * file it locked gets one UNLOCK of the whole file. Every file is tried;
   * the first failure is thrown after all were. Idempotent.
   */
  close(): Promise<void> {
    return this.shutdown(undefined);
  }

  /** @internal close() with a per-call timeout, for NlmLocker.close(). */
  shutdown(timeout: number | undefined): Promise<void> {
    if (this.closing) return this.closing;
    this.closeAc.abort(new RpcClosedError('NLM lock owner closed while waiting'));
    this.closing = (async () => {
      await Promise.allSettled([...this.inflight]);
      this.locker.forget(this);
      let first: unknown;
      for (const fh of [...this.files.values()]) {
        try {
          await this.sendUnlock(fh, { offset: 0, length: 0 }, timeout);
        } catch (err) {
          first ??= err;
        }
      }
      if (first !== undefined) throw first;
    })();
    return this.closing;
  }

  /** Waits `ms` between polls; AbortError on `signal`, RpcClosedError on close(). */
  private pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
    const closeSignal = this.closeAc.signal;
    if (closeSignal.aborted) return Promise.reject(new RpcClosedError('NLM lock owner closed while waiting'));
    if (signal?.aborted) return Promise.reject(new AbortError(undefined, { cause: signal.reason }));
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        closeSignal.removeEventListener('abort', onClose);
      };
      const onAbort = () => {
        cleanup();
        reject(new AbortError(undefined, { cause: signal!.reason }));
      };
      const onClose = () => {
        cleanup();
        reject(new RpcClosedError('NLM lock owner closed while waiting'));
      };
      // Not unref'd: a process waiting for a lock stays alive, as one blocked in fcntl(F_SETLKW) does.
      const timer = setTimeout(() => {
        cleanup();
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
      closeSignal.addEventListener('abort', onClose, { once: true });
    });
  }
}

/**
 * NLM v4 client for one server: one TCP connection to its lock manager,
 * a default lock owner (lock/unlock/test here) and any number of further
 * owners (newOwner()). See the top of this file for the owner model and
 * why waiting locks poll.
 */
export class NlmLocker {
  readonly machineName: string;
  /** Owner handle (netobj oh) of every owner of this locker: 8 random bytes, then this process's pid (uint32 BE). */
  readonly oh: Buffer;
  /** @internal */
  readonly pollMinMs: number;
  /** @internal */
  readonly pollMaxMs: number;
  /** @internal */
  readonly nsmState: number;
  /** The owner behind this locker's own lock/unlock/test. */
  readonly owner: NlmLockOwner;
  /** Owners not yet closed; close() releases their locks. */
  private readonly owners = new Set<NlmLockOwner>();
  /** Set once the RPC client exists (after rpcbind, when asked, answered). */
  private rpc: RpcClient | undefined;
  /** The attempt to create `rpc`; cleared when it fails, so the next call asks rpbind again. */
  private rpcReady: Promise<RpcClient> | undefined;
  private cookieSeq = 0;
  private closing: Promise<void> | undefined;

  constructor(private readonly opts: NlmLockerOptions) {
    if (typeof opts?.host !== 'string' || opts.host === '') throw invalidArgType('options.host', 'a non-empty string', opts?.host);
    this.machineName = opts.machineName ?? hostname();
    this.pollMinMs = opts.pollMinMs ?? DEFAULTS.pollMinMs;
    this.pollMaxMs = Math.max(this.pollMinMs, opts.pollMaxMs ?? DEFAULTS.pollMaxMs);
    this.nsmState = opts.nsmState ?? 0;
    this.oh = Buffer.alloc(12);
    randomBytes(8).copy(this.oh, 0);
    this.oh.writeUInt32BE(process.pid >>> 0, 8);
    this.owner = this.newOwner();
  }

  /** The default owner's svid. */
  get svid(): number {
    return this.owner.svid;
  }

  /** A further lock owner on this connection; its locks contend with every other owner's, the default one's included. */
  newOwner(): NlmLockOwner {
    if (this.closing) throw new RpcClosedError('NLM locker is closed');
    const o = new NlmLockOwner(this);
    this.owners.add(o);
    return o;
  }

  lock(fh: Buffer, start: number, length: number, o: NlmLockOptions): Promise<void> {
    return this.owner.lock(fh, start, length, o);
  }

  unlock(fh: Buffer, start: number, length: number): Promise<void> {
    return this.owner.unlock(fh, start, length);
  }

  test(fh: Buffer, start: number, length: number, exclusive: boolean, opts?: { signal?: AbortSignal | undefined }): Promise<NlmConflict | undefined> {
    return this.owner.test(fh, start, length, exclusive, opts);
  }

  /**
   * Closes every owner (releasing all their locks: see NlmLockOwner.close)
   * and then the connection. Unlock failures are swallowed: the connection
   * is going away regardless, and a server keeps what it could not be told
   * to drop until an NSM reboot notice or an admin clears it. Idempotent.
   */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    const timeout = Math.min(this.opts.timeout ?? DEFAULTS.timeout, this.opts.closeTimeout ?? DEFAULTS.closeTimeout);
    const owners = [...this.owners];
    this.closing = (async () => {
      await Promise.allSettled(owners.map((o) => o.shutdown(timeout)));
      const rpc = this.rpc ?? (await this.rpcReady?.catch(() => undefined));
      await rpc?.close();
    })();
    return this.closing;
  }

  /** @internal An owner that closed. */
  forget(o: NlmLockOwner): void {
    this.owners.delete(o);
  }

  /** @internal One NLM call with a fresh cookie (pid, sequence number). */
  call<T>(fn: (rpc: RpcClient, cookie: Buffer, opts: { timeout?: number }) => Promise<T>, timeout?: number): Promise<T> {
    const cookie = Buffer.alloc(8);
    cookie.writeUInt32BE(process.pid >>> 0, 0);
    this.cookieSeq = (this.cookieSeq + 1) >>> 0;
    cookie.writeUInt32BE(this.cookieSeq, 4);
    return this.client().then((rpc) => fn(rpc, cookie, timeout !== undefined ? { timeout } : {}));
  }

  private client(): Promise<RpcClient> {
    if (this.rpc) return Promise.resolve(this.rpc);
    if (this.opts.client) return Promise.resolve(this.opts.client);
    this.rpcReady ??= this.connectClient().then(
      (rpc) => (this.rpc = rpc),
      (err: unknown) => {
        this.rpcReady = undefined;
        throw err;
      },
    );
    return this.rpcReady;
  }

  private async connectClient(): Promise<RpcClient> {
    const o = this.opts;
    const common = {
      host: o.host,
      auth: o.auth,
      connectTimeout: o.connectTimeout ?? DEFAULTS.connectTimeout,
      timeout: o.timeout ?? DEFAULTS.timeout,
      resvport: o.resvport,
    };
    let port = o.port;
    if (port === undefined) {
      const pmPort = o.portmapPort ?? PMAP_PORT;
      const pm = new RpcClient({ ...common, port: pmPort });
      try {
        port = await lookupTcpPort(pm, isIPv6(o.host), NLM_PROG, NLM4_VERS);
      } finally {
        await pm.close();
      }
      if (port === 0) {
        throw new RpcConnectionError(`NLM v4 (program ${NLM_PROG}) over TCP is not registered with rpcbind on ${o.host}:${pmPort}`, 'ERR_RPC_PROG_UNAVAIL', o.host, pmPort);
      }
    }
    return new RpcClient({ ...common, port, ...(o.localPort !== undefined ? { localPort: o.localPort } : {}) });
  }
}

/** True when `err` is the refusal of a conflicting lock (what fcntl reports as EAGAIN). */
export function isLockDenied(err: unknown): err is NfsStatusError {
  return (err as NfsStatusError | undefined)?.status === 'NLM4_DENIED';
}
