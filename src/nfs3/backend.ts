import { NfsStatusError } from '../errors.js';
import type { MountTarget, Attrs, Backend, Capabilities, LockOwner, CallOpts, CreateMode, DirEntry, FileHandleId, FileKind, Limits, Looked, OpenState, ReadDest, SetAttrs, StableHow, StatFsResult, WriteResult } from '../fs/backend.js';
import { exportList, mnt, MOUNT_PROGRAM, MOUNT_V3, MountError, mountstat3, umnt } from '../mount/mount.js';
import { lookupTcpPort, PMAP_PORT } from '../portmap/portmap.js';
import { isIPv6 } from 'node:net';
import type { Credential } from '../rpc/auth.js';
import { releaseWithin } from '../core/release.js';
import { majorTimeoutMs, resolveOptions, retryPolicy, type ResolvedOptions } from '../options.js';
import { RpcClient, type RetryPolicy } from '../rpc/client.js';
import { NlmLocker } from '../nlm/locks.js';
import type { TlsOptions } from '../rpc/transport.js';
import { MAYBE_PRIVILEGED_PORT, PrivilegedPortError, type ResvPortMode } from '../rpc/resvport.js';
import { RpcConnectionError, RpcDeniedError } from '../rpc/errors.js';
import { WrongSecurityError } from '../rpc/gss/errors.js';
import { secNameOf } from '../rpc/gss/cred.js';
import { ftype3, NFS_PROGRAM, NFS_V3 } from './constants.js';
import { ioSize } from '../core/io-size.js';
import { ListingGuard } from '../core/listing.js';
import { STABLE_WIRE, stableFromWire } from '../core/stable.js';
import {
  nfs3Access,
  nfs3Commit,
  nfs3Create,
  nfs3Fsinfo,
  nfs3Fsstat,
  nfs3Getattr,
  nfs3Link,
  nfs3Lookup,
  nfs3Mkdir,
  nfs3Pathconf,
  locateRead3data,
  nfs3Read,
  nfs3Readdir,
  nfs3Readdirplus,
  nfs3Readlink,
  nfs3Remove,
  nfs3Rename,
  nfs3Rmdir,
  nfs3Setattr,
  nfs3Symlink,
  nfs3Write,
} from './procedures.js';
import { nfsstat3, nfsstat3Errno, nfsstat3Name } from './status.js';
import type { Fattr3, Sattr3 } from './types.js';

const KINDS: Record<number, FileKind> = {
  [ftype3.NF3REG]: 'file',
  [ftype3.NF3DIR]: 'directory',
  [ftype3.NF3BLK]: 'block',
  [ftype3.NF3CHR]: 'char',
  [ftype3.NF3LNK]: 'symlink',
  [ftype3.NF3SOCK]: 'socket',
  [ftype3.NF3FIFO]: 'fifo',
};

export function fromFattr3(a: Fattr3): Attrs {
  return {
    kind: KINDS[a.type]!,
    mode: a.mode & 0o7777,
    nlink: a.nlink,
    uid: a.uid,
    gid: a.gid,
    size: a.size,
    used: a.used,
    // Linux makedev: the layout node reports rdev in.
    rdev: ((a.rdev.specdata1 & 0xfff) << 8) | (a.rdev.specdata2 & 0xff) | ((a.rdev.specdata2 & ~0xff) << 12),
    fsid: a.fsid,
    fileid: a.fileid,
    atime: { sec: a.atime.seconds, nsec: a.atime.nseconds },
    mtime: { sec: a.mtime.seconds, nsec: a.mtime.nseconds },
    ctime: { sec: a.ctime.seconds, nsec: a.ctime.nseconds },
  };
}

const optAttrs = (a: Fattr3 | undefined) => (a ? fromFattr3(a) : undefined);

function toSattr3(s: SetAttrs): Sattr3 {
  const out: Sattr3 = {};
  if (s.mode !== undefined) out.mode = s.mode;
  if (s.uid !== undefined) out.uid = s.uid;
  if (s.gid !== undefined) out.gid = s.gid;
  if (s.size !== undefined) out.size = s.size;
  if (s.atime !== undefined) out.atime = s.atime === 'server' ? 'server' : { seconds: s.atime.sec, nseconds: s.atime.nsec };
  if (s.mtime !== undefined) out.mtime = s.mtime === 'server' ? 'server' : { seconds: s.mtime.sec, nseconds: s.mtime.nsec };
  return out;
}

/**
 * Call options that report whether the call went out more than once. A
 * non-idempotent call (CREATE, MKDIR, REMOVE, RENAME, LINK) that was
 * retransmitted after a lost reply may find its own first attempt's effect:
 * NOENT or EXIST then mean success, as the kernel client concludes, rather
 * than a spurious error.
 */
function retried(o: CallOpts | undefined) {
  return { ...(o?.signal ? { signal: o.signal } : {}), info: { retransmitted: false } };
}

function fail(status: number, op: string, detail?: string): NfsStatusError {
  return new NfsStatusError(nfsstat3Name(status), nfsstat3Errno(status), op, detail);
}

/** nfstime3 seconds are a uint32 (RFC 1813 §2.5). */
const NFSTIME3_SECONDS = { min: 0, max: 2 ** 32 - 1 };

/** What mount() works from: the target and the resolved options, in the shape the procedures need. */
interface Nfs3MountOptions {
  host: string;
  /** Path on the server: an export, or a directory inside one. */
  path: string;
  auth: Credential;
  nfsport: number | undefined;
  mountport: number | undefined;
  portmapPort: number;
  resvport: ResvPortMode | undefined;
  connectTimeout: number;
  /** ms before a fail-fast call (rpcbind, MOUNT) gives up. */
  timeout: number;
  /** TLS to a TLS-terminating proxy for the NFS and MOUNT connections; rpcbind is not asked (give both ports). */
  tls: TlsOptions | undefined;
  /** RPC-with-TLS (RFC 9289, xprtsec=tls) on the NFS and MOUNT connections; rpcbind stays plaintext. */
  xprtsec: TlsOptions | undefined;
  nconnect: number;
  /** Reconnect/retransmit policy for the NFS connection (MOUNT and rpcbind fail fast). */
  retry: RetryPolicy;
  rsize: number;
  wsize: number;
  maxInFlight: number;
  /** ms close() waits for NLM unlocks and UMNT. */
  closeTimeout: number;
}

function mountOptions(t: MountTarget, r: ResolvedOptions): Nfs3MountOptions {
  return {
    ...t,
    nfsport: r.nfsport,
    mountport: r.mountport,
    portmapPort: r.portmapPort,
    resvport: r.resvport,
    connectTimeout: r.connectTimeout,
    timeout: majorTimeoutMs(r),
    tls: r.tls,
    xprtsec: r.xprtsec,
    nconnect: r.nconnect,
    retry: retryPolicy(r),
    rsize: r.rsize,
    wsize: r.wsize,
    maxInFlight: r.maxInFlight,
    closeTimeout: r.closeTimeout,
  };
}

/**
 * NFSv3 behind the fs Backend interface: each method is one or two
 * procedure calls. Mounting asks rpcbind for the ports (unless given), MNTs
 * the longest export that prefixes the requested path, LOOKUPs the rest,
 * and reads FSINFO for the transfer sizes.
 */
export class Nfs3Backend implements Backend {
  readonly version = '3';
  readonly capabilities: Capabilities = { openByHandle: false, serverCopy: false, seek: false };

  /** Every connection (nconnect); `rpc` is the first. */
  private readonly conns: RpcClient[];

  private constructor(
    readonly rpc: RpcClient,
    readonly rootFh: FileHandleId,
    readonly limits: Limits,
    private readonly unmount: () => Promise<void>,
    private readonly mountInfo: Nfs3MountOptions,
    extra: RpcClient[] = [],
  ) {
    this.conns = [rpc, ...extra];
  }

  /** The connection with the fewest calls pending (nconnect > 1); NFSv3 calls are independent, any connection serves any call. */
  private pick(): RpcClient {
    const c = this.conns;
    if (c.length === 1) return this.rpc;
    let best = c[0]!;
    for (let i = 1; i < c.length; i++) if (c[i]!.pending < best.pending) best = c[i]!;
    return best;
  }

  /** RPC counters summed over every connection. */
  get rpcStats(): Record<string, number> {
    const sum: Record<string, number> = {};
    for (const c of this.conns) for (const [k, v] of Object.entries(c.stats)) sum[k] = (sum[k] ?? 0) + v;
    return sum;
  }

  /**
   * A backend over an RPC client to an NFS server and a root handle got
   * elsewhere (no MOUNT, no FSINFO); close() closes `rpc` and unmounts
   * nothing. For tests that put a fake server behind the fs layer.
   * @internal
   */
  static fromRpc(rpc: RpcClient, rootFh: FileHandleId, limits: Limits): Nfs3Backend {
    return new Nfs3Backend(rpc, rootFh, limits, async () => {}, mountOptions({ host: rpc.opts.host, path: '/', auth: rpc.opts.auth }, resolveOptions({})));
  }

  static async mount(t: MountTarget, r: ResolvedOptions): Promise<Nfs3Backend> {
    const o = mountOptions(t, r);
    const rpcOpts = { connectTimeout: o.connectTimeout, timeout: o.timeout, auth: o.auth, resvport: o.resvport };
    if (o.tls && (o.mountport === undefined || o.nfsport === undefined)) {
      throw new RpcConnectionError('NFSv3 over TLS needs nfsport and mountport (the TLS proxy\'s ports): rpcbind is not tunnelled', 'ERR_INVALID_ARG_VALUE', o.host, o.portmapPort);
    }
    const tlsOpts = o.tls ? { tls: o.tls } : {};
    let mountport = o.mountport;
    let nfsport = o.nfsport;
    if (mountport === undefined || nfsport === undefined) {
      const pm = new RpcClient({ host: o.host, port: o.portmapPort, ...rpcOpts });
      try {
        if (mountport === undefined) mountport = await getport(pm, MOUNT_PROGRAM, MOUNT_V3, 'MOUNT v3', o.host);
        if (nfsport === undefined) nfsport = await getport(pm, NFS_PROGRAM, NFS_V3, 'NFS v3', o.host);
      } finally {
        await pm.close();
      }
    }
    const mountRpc = new RpcClient({ host: o.host, port: mountport!, ...rpcOpts, ...tlsOpts, ...(o.xprtsec ? { starttls: { prog: MOUNT_PROGRAM, vers: MOUNT_V3, tls: o.xprtsec } } : {}) });
    let exportPath: string;
    let root: Buffer;
    /** The flavors MNT says the export takes (RFC 1813 5.2.1), as sec= names. */
    let offered: string[] = [];
    try {
      const chosen = await chooseExport(mountRpc, o.path);
      exportPath = chosen.path;
      try {
        const m = await mnt(mountRpc, exportPath);
        root = m.fhandle;
        offered = m.authFlavors.map(secNameOf);
      } catch (err) {
        // Ganesha refuses a path it does not export with MNT3ERR_ACCES; when
        // its export list confirms there is no such export, say that instead.
        if (err instanceof MountError && err.status === 'MNT3ERR_ACCES' && chosen.unlisted) {
          throw Object.assign(new MountError('MNT3ERR_NOENT', mountstat3.MNT3ERR_NOENT, exportPath), { cause: err });
        }
        if (err instanceof MountError && err.status === 'MNT3ERR_ACCES' && !o.resvport) {
          throw Object.assign(new MountError(err.status, err.stat, exportPath, MAYBE_PRIVILEGED_PORT), { cause: err });
        }
        throw err;
      }
    } catch (err) {
      await mountRpc.close();
      throw err;
    }
    const used = t.gss?.name ?? 'sys';
    if (t.gss && offered.length > 0 && !offered.includes(used)) {
      await mountRpc.close();
      throw new WrongSecurityError(`mount ${o.host}:${exportPath}: this export wants ${offered.join('/')}, not ${used} (MOUNT's auth flavors)`, offered, used);
    }
    // After a server restart rpcbind may hand out a new NFS port; ask again unless the port was given.
    const resolvePort = o.nfsport === undefined ? () => askPort(o, NFS_PROGRAM, NFS_V3, 'NFS v3') : undefined;
    const retry = { ...o.retry, ...(resolvePort ? { resolvePort } : {}) };
    const nfsOpts = { host: o.host, port: nfsport!, maxInFlight: o.maxInFlight, ...rpcOpts, ...tlsOpts, retry, ...(o.xprtsec ? { starttls: { prog: NFS_PROGRAM, vers: NFS_V3, tls: o.xprtsec } } : {}) };
    const nfsAuth = (): Credential => t.gss?.credential(NFS_PROGRAM, NFS_V3) ?? o.auth;
    const rpc = new RpcClient({ ...nfsOpts, auth: nfsAuth() });
    // nconnect: more TCP connections to the same server, calls spread over them (as the kernel's nconnect).
    const extra = Array.from({ length: Math.max(0, o.nconnect - 1) }, () => new RpcClient({ ...nfsOpts, auth: nfsAuth(), owner: rpc.opts.owner }));
    const unmount = async () => {
      try {
        await umnt(mountRpc, exportPath, { timeout: Math.max(1, o.closeTimeout) });
      } catch {
        // UMNT is advisory (the server's mount list); failing it loses nothing.
      }
      await mountRpc.close();
    };
    try {
      // The part of the path below the export is looked up as our root: the client cannot see above it.
      const rest = o.path.slice(exportPath.length).split('/').filter((c) => c !== '' && c !== '.');
      for (const name of rest) {
        if (name === '..') throw new NfsStatusError('NFS3ERR_ACCES', 'EACCES', 'NFSPROC3_LOOKUP', 'mount path climbs above the export');
        const r = await nfs3Lookup(rpc, root, name);
        if (!r.ok) throw fail(r.status, 'NFSPROC3_LOOKUP', `mount path component '${name}'`);
        root = r.object;
      }
      const info = await nfs3Fsinfo(rpc, root);
      if (!info.ok) throw fail(info.status, 'NFSPROC3_FSINFO');
      // A krb5-only export answers FSINFO under AUTH_SYS and refuses (AUTH_TOOWEAK) everything
      // after: when MNT did not list AUTH_SYS, a GETATTR makes that refusal come at mount.
      const sysDoubtful = !t.gss && offered.length > 0 && !offered.includes('sys');
      const attrs = (!sysDoubtful && info.objAttributes) || (await getattrOrThrow(rpc, root));
      if (attrs.type !== ftype3.NF3DIR) throw new NfsStatusError('NFS3ERR_NOTDIR', 'ENOTDIR', 'NFSPROC3_FSINFO', `mount path '${o.path}' is not a directory`);
      const rsize = ioSize(o.rsize, info.rtpref, info.rtmax);
      const wsize = ioSize(o.wsize, info.wtpref, info.wtmax);
      const limits: Limits = { rsize, wsize, dtpref: Math.max(4096, Math.min(info.dtpref || 8192, 65536)), maxFileSize: info.maxfilesize, timeRange: NFSTIME3_SECONDS };
      return new Nfs3Backend(rpc, root, limits, unmount, o, extra);
    } catch (err) {
      await Promise.all([rpc, ...extra].map((c) => c.close()));
      await unmount();
      // A `secure` export refuses an unprivileged port with AUTH_TOOWEAK (Ganesha) or NFS3ERR_PERM (Linux nfsd) though it takes the flavor.
      const tooWeak = err instanceof RpcDeniedError && err.authStat === 5;
      if (!o.resvport && ((tooWeak && (offered.length === 0 || offered.includes(used))) || (err instanceof NfsStatusError && err.status === 'NFS3ERR_PERM'))) {
        throw new PrivilegedPortError(`mount ${o.host}:${exportPath}`, tooWeak ? `AUTH_TOOWEAK, though MOUNT lists ${used}` : 'NFS3ERR_PERM on the first call', { cause: err });
      }
      // AUTH_TOOWEAK: the export takes only stronger flavors than the one used (krb5 exports refuse AUTH_SYS here, after MNT).
      if (tooWeak) {
        const wanted = offered.filter((n) => n !== used);
        throw new WrongSecurityError(`mount ${o.host}:${exportPath}: this export wants ${wanted.length ? wanted.join('/') : 'a stronger security flavor'}, not ${used} (AUTH_TOOWEAK); give sec=${wanted[0] ?? 'krb5'}`, wanted, used, { cause: err });
      }
      throw err;
    }
  }

  /** NLM, connected on the first lock: most mounts never lock. */
  private locker: NlmLocker | undefined;

  /** Byte-range locks over NLM v4: one NLM owner per FileHandle. */
  lockOwner(fh: FileHandleId): LockOwner {
    this.locker ??= new NlmLocker({
      host: this.mountInfo.host,
      auth: this.mountInfo.auth,
      portmapPort: this.mountInfo.portmapPort,
      resvport: this.mountInfo.resvport,
      connectTimeout: this.mountInfo.connectTimeout,
      timeout: this.mountInfo.timeout,
      closeTimeout: Math.max(1, this.mountInfo.closeTimeout),
    });
    const owner = this.locker.newOwner();
    return {
      lock: (start, length, o) => owner.lock(fh, start, length, o),
      unlock: (start, length) => owner.unlock(fh, start, length),
      test: async (start, length, exclusive) => {
        const c = await owner.test(fh, start, length, exclusive);
        return c && { exclusive: c.exclusive, start: c.start, length: c.length };
      },
      close: () => owner.close(),
    };
  }

  async getattr(fh: FileHandleId, o?: CallOpts): Promise<Attrs> {
    const r = await nfs3Getattr(this.pick(), fh, o);
    if (!r.ok) throw fail(r.status, 'NFSPROC3_GETATTR');
    return fromFattr3(r.attributes);
  }

  async setattr(fh: FileHandleId, attrs: SetAttrs, o?: CallOpts): Promise<Attrs | undefined> {
    const r = await nfs3Setattr(this.pick(), fh, toSattr3(attrs), undefined, o);
    if (!r.ok) throw fail(r.status, 'NFSPROC3_SETATTR');
    return optAttrs(r.objWcc.after);
  }

  async lookup(dir: FileHandleId, name: string, o?: CallOpts): Promise<Looked> {
    const r = await nfs3Lookup(this.pick(), dir, name, o);
    if (!r.ok) throw fail(r.status, 'NFSPROC3_LOOKUP');
    return { fh: r.object, attrs: optAttrs(r.objAttributes) };
  }

  async access(fh: FileHandleId, mask: number, o?: CallOpts): Promise<number> {
    const r = await nfs3Access(this.pick(), fh, mask, o);
    if (!r.ok) throw fail(r.status, 'NFSPROC3_ACCESS');
    return r.access;
  }

  async readlink(fh: FileHandleId, o?: CallOpts): Promise<string> {
    const r = await nfs3Readlink(this.pick(), fh, o);
    if (!r.ok) throw fail(r.status, 'NFSPROC3_READLINK');
    return r.data;
  }

  // read and write are not async functions: one promise fewer per call on the hottest paths.
  read(fh: FileHandleId, offset: number, length: number, o?: CallOpts, _state?: OpenState, dest?: ReadDest): Promise<{ data: Buffer; eof: boolean; attrs: Attrs | undefined }> {
    const count = Math.min(length, this.limits.rsize);
    const co = dest ? { signal: o?.signal, into: { dest: dest.buf, destOffset: dest.offset, max: count, locate: locateRead3data, copies: true } } : o;
    return nfs3Read(this.pick(), fh, offset, count, co, o?.attrs === true).then((r) => {
      if (!r.ok) throw fail(r.status, 'NFSPROC3_READ');
      return { data: r.data, eof: r.eof, attrs: optAttrs(r.fileAttributes) };
    });
  }

  write(fh: FileHandleId, offset: number, data: Buffer, stable: StableHow, o?: CallOpts): Promise<WriteResult> {
    const chunk = data.length > this.limits.wsize ? data.subarray(0, this.limits.wsize) : data;
    // wcc_data skipped: nothing here keeps attributes by it (the cache drops them around a write).
    return nfs3Write(this.pick(), fh, offset, chunk, STABLE_WIRE[stable], o, false).then((r) => {
      if (!r.ok) throw fail(r.status, 'NFSPROC3_WRITE');
      if (r.count > chunk.length) throw new NfsStatusError('NFS3ERR_IO', 'EIO', 'NFSPROC3_WRITE', `server claims ${r.count} bytes written of ${chunk.length} sent`);
      return { count: r.count, committed: stableFromWire(r.committed), verf: r.verf };
    });
  }

  async commit(fh: FileHandleId, o?: CallOpts): Promise<Buffer> {
    const r = await nfs3Commit(this.pick(), fh, 0, 0, o);
    if (!r.ok) throw fail(r.status, 'NFSPROC3_COMMIT');
    return r.verf;
  }

  /** CREATE/MKDIR/SYMLINK may omit the new handle; then it is looked up. */
  private async made(dir: FileHandleId, name: string, obj: Buffer | undefined, attrs: Fattr3 | undefined, o?: CallOpts): Promise<Looked> {
    if (obj) return { fh: obj, attrs: optAttrs(attrs) };
    return this.lookup(dir, name, o);
  }

  async create(dir: FileHandleId, name: string, how: CreateMode, o?: CallOpts): Promise<Looked> {
    const c = retried(o);
    const r = await nfs3Create(
      this.pick(),
      dir,
      name,
      how.mode === 'exclusive' ? { mode: 'EXCLUSIVE', verf: how.verf } : { mode: how.mode === 'guarded' ? 'GUARDED' : 'UNCHECKED', attributes: toSattr3(how.attrs) },
      c,
    );
    if (!r.ok) {
      if (c.info.retransmitted && r.status === nfsstat3.NFS3ERR_EXIST) return this.lookup(dir, name, o);
      throw fail(r.status, 'NFSPROC3_CREATE');
    }
    return this.made(dir, name, r.obj, r.objAttributes, o);
  }

  async mkdir(dir: FileHandleId, name: string, attrs: SetAttrs, o?: CallOpts): Promise<Looked> {
    const c = retried(o);
    const r = await nfs3Mkdir(this.pick(), dir, name, toSattr3(attrs), c);
    if (!r.ok) {
      if (c.info.retransmitted && r.status === nfsstat3.NFS3ERR_EXIST) return this.lookup(dir, name, o);
      throw fail(r.status, 'NFSPROC3_MKDIR');
    }
    return this.made(dir, name, r.obj, r.objAttributes, o);
  }

  async symlink(dir: FileHandleId, name: string, target: string, attrs: SetAttrs, o?: CallOpts): Promise<Looked> {
    const c = retried(o);
    const r = await nfs3Symlink(this.pick(), dir, name, toSattr3(attrs), target, c);
    if (!r.ok) {
      if (c.info.retransmitted && r.status === nfsstat3.NFS3ERR_EXIST) return this.lookup(dir, name, o);
      throw fail(r.status, 'NFSPROC3_SYMLINK');
    }
    return this.made(dir, name, r.obj, r.objAttributes, o);
  }

  async remove(dir: FileHandleId, name: string, o?: CallOpts): Promise<void> {
    const c = retried(o);
    const r = await nfs3Remove(this.pick(), dir, name, c);
    if (!r.ok && !(c.info.retransmitted && r.status === nfsstat3.NFS3ERR_NOENT)) throw fail(r.status, 'NFSPROC3_REMOVE');
  }

  async rmdir(dir: FileHandleId, name: string, o?: CallOpts): Promise<void> {
    const c = retried(o);
    const r = await nfs3Rmdir(this.pick(), dir, name, c);
    if (!r.ok && !(c.info.retransmitted && r.status === nfsstat3.NFS3ERR_NOENT)) throw fail(r.status, 'NFSPROC3_RMDIR');
  }

  async rename(fromDir: FileHandleId, fromName: string, toDir: FileHandleId, toName: string, o?: CallOpts): Promise<void> {
    const c = retried(o);
    const r = await nfs3Rename(this.pick(), fromDir, fromName, toDir, toName, c);
    if (!r.ok && !(c.info.retransmitted && r.status === nfsstat3.NFS3ERR_NOENT)) throw fail(r.status, 'NFSPROC3_RENAME');
  }

  async link(fh: FileHandleId, dir: FileHandleId, name: string, o?: CallOpts): Promise<void> {
    const c = retried(o);
    const r = await nfs3Link(this.pick(), fh, dir, name, c);
    if (!r.ok && !(c.info.retransmitted && r.status === nfsstat3.NFS3ERR_EXIST)) throw fail(r.status, 'NFSPROC3_LINK');
  }

  /**
   * The READDIR(PLUS) cookie loop. Every entry passes the shared listing
   * guard (core/listing.ts): loops and impossible names end the listing with
   * EIO, a name listed twice is passed on once, '.' and '..' are left out.
   */
  async *readdir(dir: FileHandleId, withAttrs: boolean, o?: CallOpts): AsyncGenerator<DirEntry[]> {
    let cookie = 0n;
    let verf: Buffer = Buffer.alloc(8);
    const op = withAttrs ? 'NFSPROC3_READDIRPLUS' : 'NFSPROC3_READDIR';
    const guard = new ListingGuard({ op, badCookie: 'NFS3ERR_BAD_COOKIE', io: 'NFS3ERR_IO' });
    const dircount = this.limits.dtpref;
    const maxcount = Math.min(this.limits.rsize, 1024 * 1024);
    for (;;) {
      const r = withAttrs ? await nfs3Readdirplus(this.pick(), dir, cookie, verf, dircount, maxcount, o) : await nfs3Readdir(this.pick(), dir, cookie, verf, dircount, o);
      if (!r.ok) throw fail(r.status, op);
      verf = r.cookieverf;
      const out: DirEntry[] = [];
      for (const e of r.entries) {
        cookie = e.cookie;
        if (!guard.entry(e.cookie, e.name)) continue;
        const pe = e as { attributes?: Fattr3; handle?: Buffer };
        out.push({ name: e.name, fileid: e.fileid, attrs: optAttrs(pe.attributes), fh: pe.handle });
      }
      if (out.length > 0) yield out;
      guard.endPage(r.entries.length, r.eof);
      if (r.eof) return;
    }
  }

  async statfs(fh: FileHandleId, o?: CallOpts): Promise<StatFsResult> {
    const [s, p] = await Promise.all([nfs3Fsstat(this.pick(), fh, o), nfs3Pathconf(this.pick(), fh, o)]);
    if (!s.ok) throw fail(s.status, 'NFSPROC3_FSSTAT');
    const nameMax = p.ok ? p.nameMax : 255;
    return {
      bsize: this.limits.wsize,
      totalBytes: s.tbytes,
      freeBytes: s.fbytes,
      availBytes: s.abytes,
      totalFiles: s.tfiles,
      freeFiles: s.ffiles,
      availFiles: s.afiles,
      nameMax,
    };
  }

  /**
   * Releases NLM locks and the MOUNT entry within closeTimeout, then closes
   * every connection whatever the server did; what could not be released is
   * reported as a process warning, not thrown (the client is closed either way).
   */
  async close(): Promise<void> {
    await releaseWithin(this.mountInfo.closeTimeout, [
      ...(this.locker ? [{ what: 'NLM byte-range locks', run: () => this.locker!.close() }] : []),
    ]);
    await Promise.all(this.conns.map((c) => c.close()));
    await releaseWithin(this.mountInfo.closeTimeout, [{ what: 'MOUNT entry (UMNT)', run: () => this.unmount() }]);
  }
}

async function askPort(o: Nfs3MountOptions, prog: number, vers: number, what: string): Promise<number> {
  const pm = new RpcClient({ host: o.host, port: o.portmapPort, connectTimeout: o.connectTimeout, timeout: 5000, auth: o.auth, resvport: o.resvport });
  try {
    return await getport(pm, prog, vers, what, o.host);
  } finally {
    await pm.close();
  }
}

async function getport(pm: RpcClient, prog: number, vers: number, what: string, host: string): Promise<number> {
  const port = await lookupTcpPort(pm, isIPv6(host), prog, vers);
  if (port === 0) {
    throw new RpcConnectionError(`${what} is not registered with rpcbind on ${host}:${PMAP_PORT}`, 'ERR_RPC_PROG_UNAVAIL', host, PMAP_PORT);
  }
  return port;
}

/**
 * The export to MNT for a path: the longest entry of the export list that is
 * a prefix of it (so `nfs://host/export/vol1` mounts /export and looks up
 * vol1), or the path itself when the server won't list its exports or lists
 * none that fits (`unlisted`; MNT is still tried, since a list may be partial).
 */
async function chooseExport(mountRpc: RpcClient, path: string): Promise<{ path: string; unlisted: boolean }> {
  const norm = '/' + path.split('/').filter((c) => c !== '').join('/');
  let exports: string[];
  try {
    exports = (await exportList(mountRpc)).map((e) => e.dir);
  } catch {
    return { path: norm, unlisted: false };
  }
  let best: string | undefined;
  for (const e of exports) {
    const d = e === '/' ? '/' : e.replace(/\/+$/, '');
    if (norm === d || norm.startsWith(d === '/' ? '/' : d + '/')) {
      if (best === undefined || d.length > best.length) best = d;
    }
  }
  return best === undefined ? { path: norm, unlisted: true } : { path: best, unlisted: false };
}

async function getattrOrThrow(rpc: RpcClient, fh: Buffer): Promise<Fattr3> {
  const r = await nfs3Getattr(rpc, fh);
  if (!r.ok) throw fail(r.status, 'NFSPROC3_GETATTR');
  return r.attributes;
}

