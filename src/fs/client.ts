import { constants } from 'node:fs';
import { NfsStatusError, fsError, InvalidArgError, invalidArgType, toFsError, FsError } from '../errors.js';
import type { Attrs, Backend, CallOpts, FileHandleId, FileKind, Looked, OpenRequest, OpenState, SetAttrs } from './backend.js';
import { Dir } from './dir.js';
import { abortable, checkAborted, signalOf } from './abort.js';
import { argType, checkBoolean, outOfRange, validMode } from './args.js';
import { FileHandle, ownerAttrs, readWhole, serverStates, writeBorrowed, type SignalOpts } from './file-handle.js';
import { parseFlags, parseMode, type OpenFlags } from './flags.js';
import { readInto } from './io.js';
import { SillyRenames } from './silly-rename.js';
import { checkName, MAX_SYMLINKS, MissingName, parsePath, PathResolver, toPathString, type ParsedPath, type PathLike, type Resolved } from './paths.js';
import { BigIntStats, bigintStatFs, Dirent, StatFs, Stats } from './stats.js';
import { ReadStream, WriteStream, type ReadStreamOptions, type WriteStreamOptions } from './streams.js';
import { clampTimes, toSetAttrsTimes } from './times.js';
import { randomBytes } from 'node:crypto';
import { constants as osConstants } from 'node:os';

type Encoding = BufferEncoding;
/** How op() runs a call: the second path of two-path calls, whether a stale handle is retried, the caller's signal. */
interface OpOpts {
  dest?: string | undefined;
  retryStale?: boolean;
  signal?: AbortSignal | undefined;
}

type ReadFileOptions = Encoding | { encoding?: Encoding | null; flag?: string; signal?: AbortSignal } | null;
type WriteFileOptions = Encoding | { encoding?: Encoding | null; mode?: number | string; flag?: string; signal?: AbortSignal; flush?: boolean } | null;

// ACCESS3 bits (RFC 1813 §3.3.4); NFSv4 ACCESS uses the same values.
const ACCESS_READ = 0x01;
const ACCESS_LOOKUP = 0x02;
const ACCESS_MODIFY = 0x04;
const ACCESS_EXTEND = 0x08;
const ACCESS_EXECUTE = 0x20;

/** Copies move this much per round of parallel READs then WRITEs. */
const COPY_CHUNK = 8 * 1024 * 1024;

export interface ClientSettings {
  /** Applied to the mode of files and directories this client creates, as the kernel applies the process umask. */
  umask: number;
  readonly: boolean;
}

/**
 * The node:fs/promises-shaped API over one mounted export. Paths are absolute
 * inside the export ('/dir/file'); relative paths are taken from its root.
 * Every method validates its arguments before sending anything, and reports
 * failures as node does: `code`, `errno`, `syscall`, `path` (and `dest`).
 */
export class NfsClient {
  private readonly resolver: PathResolver;
  /** Open files that a remove must not kill (NFSv3 only: see silly-rename.ts). */
  private readonly silly: SillyRenames;
  private closed = false;

  constructor(
    /** The protocol underneath: NFSv3 or NFSv4.x. */
    readonly backend: Backend,
    private readonly settings: ClientSettings,
  ) {
    this.resolver = new PathResolver(backend);
    this.silly = new SillyRenames(backend);
  }

  /** The protocol this client speaks, as negotiated at connect: `'3'`, `'4.0'`, `'4.1'` or `'4.2'`. */
  get version(): string {
    return this.backend.version;
  }

  /**
   * The handle-level operations under the fs methods (fs/backend.ts: LOOKUP,
   * READDIR, CREATE, REMOVE... by directory handle and name), for layers
   * that must not resolve paths, such as the volumes layer's walks beneath a
   * base directory. The same stack the fs methods use: the caches, and the
   * `readonly` refusal (EROFS before anything is sent). The client owns it:
   * close the client, not this.
   */
  get handles(): Backend {
    return this.backend;
  }

  private get blksize(): number {
    return this.backend.limits.wsize;
  }

  /**
   * Runs one fs call: converts backend errors to node-shaped ones naming
   * syscall and path. Calls on two paths (rename, link, symlink, copyfile)
   * report every failure as node does, `syscall 'path' -> 'dest'`, whichever
   * of the two paths the failure came from.
   */
  private op<T>(syscall: string, path: ParsedPath | string | undefined, fn: (co: CallOpts | undefined) => Promise<T>, o: OpOpts = {}): Promise<T> {
    // The signal also goes to every RPC (`co`), so an abort stops the waits of a hard mount as well as this call.
    const { signal } = o;
    if (!signal) return this.run(syscall, path, fn, o, undefined);
    return abortable(signal, () => this.run(syscall, path, fn, o, { signal }));
  }

  /**
   * A chain on fn's promise rather than an async function: every fs call
   * passes here, and a call that succeeds then costs one reaction. Never
   * throws synchronously.
   */
  private run<T>(syscall: string, path: ParsedPath | string | undefined, fn: (co: CallOpts | undefined) => Promise<T>, o: OpOpts, co: CallOpts | undefined): Promise<T> {
    if (this.closed) return Promise.reject(fsError('EBADF', syscall, displayOf(path), undefined, { message: 'client is closed' }));
    return attempt(fn, co).then(undefined, (err: unknown) => this.failed(syscall, path, fn, o, co, err));
  }

  /** run() after fn failed with `err`: a stale handle is retried once, then the failure is reported as node does. */
  private async failed<T>(syscall: string, path: ParsedPath | string | undefined, fn: (co: CallOpts | undefined) => Promise<T>, o: OpOpts, co: CallOpts | undefined, err: unknown): Promise<T> {
    const { dest, retryStale = true } = o;
    const display = displayOf(path);
    try {
      // A cached handle the server no longer knows (the file was replaced by
      // another client, the export re-created): forget what the caches hold
      // and resolve the path again, once. Only then is ESTALE reported.
      if (!retryStale || (err as { errnoCode?: string }).errnoCode !== 'ESTALE' || !this.invalidateCaches()) throw err;
      return await fn(co);
    } catch (err) {
      const e = toFsError(err, syscall, display, dest) as FsError;
      if (dest !== undefined && e instanceof FsError && (e.syscall !== syscall || e.path !== display || e.dest !== dest)) {
        throw fsError(e.code, syscall, display, dest, { cause: e, ...(e.nfsStatus !== undefined ? { nfsStatus: e.nfsStatus } : {}) });
      }
      throw e;
    }
  }

  /** Drops cached attributes and names; false when there are no caches (nothing to retry with). */
  private invalidateCaches(): boolean {
    const b = this.backend as Backend & { invalidateAll?: () => void };
    if (typeof b.invalidateAll !== 'function') return false;
    b.invalidateAll();
    return true;
  }

  private writable(syscall: string, path: string): void {
    if (this.settings.readonly) throw fsError('EROFS', syscall, path);
  }

  private createMode(mode: number): number {
    return mode & ~this.settings.umask & 0o7777;
  }

  // ---- metadata ----

  /**
   * Attributes of a file, following symlinks, as `fs.promises.stat`.
   * Served from the attribute cache while it is fresh (see the `ac*` options), so
   * it may not send anything; `noac` makes every call ask the server.
   *
   * @throws {@link FsError} `ENOENT` (no such path), `ENOTDIR` (a component is not a directory),
   *   `ELOOP` (too many symlinks), `EACCES`; RPC errors such as {@link RpcTimeoutError} on a `soft` mount.
   * @example
   * ```ts
   * const st = await nfs.stat('/data/file.bin');
   * console.log(st.size, st.isFile(), st.mtime);
   * ```
   */
  stat(path: PathLike, opts: { bigint: true } & SignalOpts): Promise<BigIntStats>;
  stat(path: PathLike, opts?: { bigint?: false } & SignalOpts): Promise<Stats>;
  stat(path: PathLike, opts?: { bigint?: boolean } & SignalOpts): Promise<Stats | BigIntStats>;
  stat(path: PathLike, opts?: { bigint?: boolean } & SignalOpts): Promise<Stats | BigIntStats> {
    return this.statPath('stat', path, true, opts);
  }

  /**
   * As {@link NfsClient.stat}, but a symlink at the end of the path is described itself, not followed.
   *
   * @throws {@link FsError} `ENOENT`, `ENOTDIR`, `EACCES`.
   */
  lstat(path: PathLike, opts: { bigint: true } & SignalOpts): Promise<BigIntStats>;
  lstat(path: PathLike, opts?: { bigint?: false } & SignalOpts): Promise<Stats>;
  lstat(path: PathLike, opts?: { bigint?: boolean } & SignalOpts): Promise<Stats | BigIntStats>;
  lstat(path: PathLike, opts?: { bigint?: boolean } & SignalOpts): Promise<Stats | BigIntStats> {
    return this.statPath('lstat', path, false, opts);
  }

  /**
   * stat and lstat: from the caches when they hold the whole path, else one
   * resolution. Not an async function (a stat is the most frequent call):
   * argument errors come back as a rejected promise all the same.
   */
  private statPath(syscall: 'stat' | 'lstat', path: PathLike, follow: boolean, opts: ({ bigint?: boolean } & SignalOpts) | undefined): Promise<Stats | BigIntStats> {
    try {
      const p = parsePath(path, syscall);
      const signal = signalOf(opts);
      checkAborted(signal);
      const bigint = opts?.bigint === true;
      const hit = !this.closed && this.resolver.cached(p, follow);
      if (hit) return Promise.resolve(this.toStats(hit.attrs, bigint));
      const resolve = (co: CallOpts | undefined) => this.resolver.resolve(p, follow, syscall, co);
      const toStats = (r: Resolved) => this.toStats(r.attrs, bigint);
      if (signal || this.closed) return this.op(syscall, p, resolve, { signal }).then(toStats);
      // run() fused into the resolution's own reaction: its error path, then Stats, in one step.
      return this.resolver.resolveThen(p, follow, syscall, undefined, toStats, (err) => this.failed(syscall, p, resolve, {}, undefined, err).then(toStats));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private toStats(a: Attrs, bigint: boolean): Stats | BigIntStats {
    return bigint ? new BigIntStats(a, this.blksize) : new Stats(a, this.blksize);
  }

  /**
   * Checks that the path exists and, with `R_OK`/`W_OK`/`X_OK` (from `fs.constants`), that the
   * server grants this user that access (NFS ACCESS, so ACLs and id mapping are the server's to judge).
   *
   * @throws {@link FsError} `ENOENT`, `EACCES` (not granted), `EROFS` (`W_OK` on a `readonly` client).
   * @example
   * ```ts
   * import { constants } from 'node:fs';
   * await nfs.access('/shared/report.csv', constants.R_OK | constants.W_OK);
   * ```
   */
  async access(path: PathLike, accessMode: number = constants.F_OK, opts?: SignalOpts): Promise<void> {
    const p = parsePath(path, 'access');
    const mode = validMode(accessMode);
    const signal = signalOf(opts);
    await this.op('access', p, async (co) => {
      const r = await this.resolver.resolve(p, true, 'access', co);
      if (mode === constants.F_OK) return;
      if (mode & constants.W_OK && this.settings.readonly) throw fsError('EROFS', 'access', p.display);
      let want = 0;
      if (mode & constants.R_OK) want |= ACCESS_READ;
      if (mode & constants.W_OK) want |= r.attrs.kind === 'directory' ? ACCESS_MODIFY : ACCESS_MODIFY | ACCESS_EXTEND;
      if (mode & constants.X_OK) want |= r.attrs.kind === 'directory' ? ACCESS_LOOKUP : ACCESS_EXECUTE;
      const granted = await this.backend.access(r.fh, want, co);
      if ((granted & want) !== want) throw fsError('EACCES', 'access', p.display);
    }, { signal });
  }

  /**
   * The target of a symlink, as stored on the server (not resolved).
   *
   * @throws {@link FsError} `EINVAL` (not a symlink), `ENOENT`.
   */
  async readlink(path: PathLike, opts?: Encoding | ({ encoding?: Encoding | 'buffer' | null } & SignalOpts)): Promise<string> {
    const p = parsePath(path, 'readlink');
    return this.op('readlink', p, async (co) => {
      const r = await this.resolver.resolve(p, false, 'readlink', co);
      if (r.attrs.kind !== 'symlink') throw fsError('EINVAL', 'readlink', p.display);
      return this.backend.readlink(r.fh, co);
    }, { signal: signalOf(opts) });
  }

  /**
   * The canonical path inside the export: `.`, `..` and symlinks resolved.
   *
   * @throws {@link FsError} `ENOENT`, `ELOOP`, `ENOTDIR`.
   */
  async realpath(path: PathLike, opts?: Encoding | ({ encoding?: Encoding | null } & SignalOpts)): Promise<string> {
    const p = parsePath(path, 'realpath');
    return this.op('realpath', p, (co) => this.resolver.realpath(p, 'realpath', co), { signal: signalOf(opts) });
  }

  /**
   * File-system sizes of the export holding `path` (NFS FSSTAT, or the v4 space and files attributes),
   * shaped like `fs.promises.statfs`; `{ bigint: true }` gives the same fields as bigints.
   *
   * @throws {@link FsError} `ENOENT`, `ENOTDIR`.
   */
  statfs(path: PathLike, opts: { bigint: true } & SignalOpts): Promise<ReturnType<typeof bigintStatFs>>;
  statfs(path: PathLike, opts?: { bigint?: false } & SignalOpts): Promise<StatFs>;
  statfs(path: PathLike, opts?: { bigint?: boolean } & SignalOpts): Promise<StatFs | ReturnType<typeof bigintStatFs>>;
  async statfs(path: PathLike, opts?: { bigint?: boolean } & SignalOpts): Promise<StatFs | ReturnType<typeof bigintStatFs>> {
    const p = parsePath(path, 'statfs');
    return this.op('statfs', p, async (co) => {
      const r = await this.resolver.resolve(p, true, 'statfs', co);
      const s = new StatFs(await this.backend.statfs(r.fh, co));
      return opts?.bigint ? bigintStatFs(s) : s;
    }, { signal: signalOf(opts) });
  }

  // ---- attributes ----

  /** `attrs` undefined: nothing valid to set (an invalid Date), which fails EINVAL once the path resolves, as utimes(2) does. */
  private async setattrPath(syscall: string, path: PathLike, follow: boolean, attrs: () => SetAttrs | undefined, opts: SignalOpts | undefined): Promise<void> {
    const p = parsePath(path, syscall);
    const s = attrs();
    const signal = signalOf(opts);
    this.writable(syscall, p.display);
    await this.op(syscall, p, async (co) => {
      const r = await this.resolver.resolve(p, follow, syscall, co);
      if (!s) throw fsError('EINVAL', syscall, p.display);
      await this.backend.setattr(r.fh, clampTimes(s, this.backend), co);
    }, { signal });
  }

  /**
   * Sets the permission bits (a number or an octal string such as `'644'`).
   *
   * @throws {@link FsError} `EPERM` (not the owner), `ENOENT`, `EROFS` (`readonly` client, sent nothing).
   */
  chmod(path: PathLike, mode: number | string, opts?: SignalOpts): Promise<void> {
    return this.setattrPath('chmod', path, true, () => ({ mode: parseMode(mode, 0) }), opts);
  }

  /**
   * Sets owner and group (numeric ids; `-1` leaves one unchanged). Follows symlinks.
   *
   * @throws {@link FsError} `EPERM` (the server refuses, e.g. root squashed), `ENOENT`, `EROFS`.
   */
  chown(path: PathLike, uid: number, gid: number, opts?: SignalOpts): Promise<void> {
    return this.setattrPath('chown', path, true, () => ownerAttrs(uid, gid), opts);
  }

  /**
   * As {@link NfsClient.chown}, but changes a symlink itself rather than its target.
   *
   * @throws {@link FsError} `EPERM`, `ENOENT`, `EROFS`.
   */
  lchown(path: PathLike, uid: number, gid: number, opts?: SignalOpts): Promise<void> {
    return this.setattrPath('lchown', path, false, () => ownerAttrs(uid, gid), opts);
  }

  /**
   * Sets access and modification times (seconds as a number, a numeric string, or a Date); follows symlinks.
   * Times beyond what the server stores are clamped to its range.
   *
   * @throws {@link FsError} `EINVAL` (an invalid Date), `EPERM`, `ENOENT`, `EROFS`.
   */
  utimes(path: PathLike, atime: number | string | Date, mtime: number | string | Date, opts?: SignalOpts): Promise<void> {
    return this.setattrPath('utime', path, true, () => toSetAttrsTimes(atime, mtime), opts);
  }

  /**
   * As {@link NfsClient.utimes}, but sets the times of a symlink itself.
   *
   * @throws {@link FsError} `EINVAL`, `EPERM`, `ENOENT`, `EROFS`.
   */
  lutimes(path: PathLike, atime: number | string | Date, mtime: number | string | Date, opts?: SignalOpts): Promise<void> {
    return this.setattrPath('lutime', path, false, () => toSetAttrsTimes(atime, mtime), opts);
  }

  /**
   * Sets the size of a file: shorter drops the tail, longer reads back as zeros (a hole on most servers).
   *
   * @throws {@link FsError} `EISDIR`, `ENOENT`, `EROFS`; {@link InvalidArgError} for a `len` that is not an integer.
   */
  async truncate(path: PathLike, len = 0, opts?: SignalOpts): Promise<void> {
    if (typeof len !== 'number') throw argType('len', 'of type number', len);
    if (!Number.isInteger(len)) throw outOfRange('len', 'an integer', len);
    const p = parsePath(path, 'open');
    this.writable('open', p.display);
    await this.op('open', p, async (co) => {
      const r = await this.resolver.resolve(p, true, 'open', co);
      if (r.attrs.kind === 'directory') throw fsError('EISDIR', 'open', p.display);
      await this.backend.setattr(r.fh, { size: Math.max(0, len) }, co);
    }, { signal: signalOf(opts) });
  }

  // ---- directories ----

  /**
   * Creates a directory; its mode is `mode` (default `0o777`) less the client's `umask`.
   * With `recursive`, missing parents are created too and the first directory created is returned
   * (undefined when all existed); a directory another client creates meanwhile is used, not an error.
   *
   * @throws {@link FsError} `EEXIST` (without `recursive`, or a file is in the way), `ENOENT` (a parent is missing),
   *   `ENOTDIR`, `EACCES`, `EROFS`.
   * @example
   * ```ts
   * await nfs.mkdir('/projects/2026/q4', { recursive: true, mode: 0o750 });
   * ```
   */
  async mkdir(path: PathLike, opts?: number | string | ({ recursive?: boolean; mode?: number | string } & SignalOpts)): Promise<string | undefined> {
    const o = typeof opts === 'object' && opts !== null ? opts : { mode: opts ?? undefined };
    const mode = this.createMode(parseMode(o.mode, 0o777));
    const p = parsePath(path, 'mkdir');
    checkBoolean(o.recursive, 'options.recursive');
    const signal = signalOf(o);
    this.writable('mkdir', p.display);
    if (!o.recursive) {
      await this.op('mkdir', p, async (co) => {
        const { dir, name } = await this.resolver.resolveParent(p, 'mkdir', co);
        if (name === undefined) throw fsError('EEXIST', 'mkdir', p.display);
        checkName(name, 'mkdir', p.display);
        await this.backend.mkdir(dir, name, { mode }, co);
      }, { signal });
      return undefined;
    }
    return this.op('mkdir', p, async () => {
      // Create missing components from the root down; the first one created is returned, as node does.
      let first: string | undefined;
      let dir: FileHandleId = this.backend.rootFh;
      const sofar: string[] = [];
      const parts = lexicalParts(p);
      for (let i = 0; i < parts.length; i++) {
        const name = parts[i]!;
        sofar.push(name);
        let looked: Looked | undefined;
        try {
          looked = await this.backend.lookup(dir, name);
        } catch (err) {
          if ((err as { errnoCode?: string }).errnoCode !== 'ENOENT') throw err;
        }
        if (looked) {
          const attrs = looked.attrs ?? (await this.backend.getattr(looked.fh));
          if (attrs.kind === 'symlink') {
            const r = await this.resolver.resolve(parsePath('/' + sofar.join('/'), 'mkdir'), true, 'mkdir');
            if (r.attrs.kind !== 'directory') throw fsError(i === parts.length - 1 ? 'EEXIST' : 'ENOTDIR', 'mkdir', p.display);
            dir = r.fh;
            continue;
          }
          if (attrs.kind !== 'directory') throw fsError(i === parts.length - 1 ? 'EEXIST' : 'ENOTDIR', 'mkdir', p.display);
          dir = looked.fh;
          continue;
        }
        let made: Looked;
        try {
          made = await this.backend.mkdir(dir, name, { mode });
        } catch (err) {
          // Another client created it between our LOOKUP and MKDIR: use theirs.
          if ((err as { errnoCode?: string }).errnoCode !== 'EEXIST') throw err;
          made = await this.backend.lookup(dir, name);
        }
        first ??= firstMade(p, sofar.length);
        dir = made.fh;
      }
      return first;
    }, { signal });
  }

  /**
   * `recursive` (deprecated in node) does what node 20 does with it: stat
   * the path (following symlinks), remove a directory as a tree, and give
   * anything else to rmdir(2), which refuses a file with ENOTDIR.
   */
  async rmdir(path: PathLike, opts?: { recursive?: boolean; maxRetries?: number; retryDelay?: number } & SignalOpts): Promise<void> {
    const p = parsePath(path, 'rmdir');
    if (opts !== undefined && (opts === null || typeof opts !== 'object')) throw argType('options', 'of type object', opts);
    checkBoolean(opts?.recursive, 'options.recursive');
    const signal = signalOf(opts);
    this.writable('rmdir', p.display);
    if (opts?.recursive) {
      const st = await this.op('stat', p, (co) => this.resolver.resolve(p, true, 'stat', co), { signal });
      if (st.attrs.kind === 'directory') return this.rmParsed(p, { recursive: true }, signal);
    }
    await this.op('rmdir', p, async (co) => {
      const { dir, name } = await this.resolver.resolveParent(p, 'rmdir', co);
      if (name === undefined) throw fsError('EBUSY', 'rmdir', p.display);
      if (name === '.') throw fsError('EINVAL', 'rmdir', p.display);
      await this.backend.rmdir(dir, name, co);
    }, { signal });
  }

  /**
   * Names in a directory, without `.` and `..`, in the server's order (READDIRPLUS / READDIR
   * with the cookie loop). `withFileTypes` gives {@link Dirent}s; `recursive` lists the whole tree
   * breadth-first with paths relative to `path`, as node does.
   *
   * @throws {@link FsError} `ENOTDIR`, `ENOENT`, `EACCES`.
   * @example
   * ```ts
   * for (const d of await nfs.readdir('/logs', { withFileTypes: true })) {
   *   if (d.isFile()) console.log(d.name);
   * }
   * ```
   */
  readdir(path: PathLike, opts: { withFileTypes: true; recursive?: boolean; encoding?: Encoding | null } & SignalOpts): Promise<Dirent[]>;
  readdir(path: PathLike, opts?: Encoding | ({ withFileTypes?: false; recursive?: boolean; encoding?: Encoding | null } & SignalOpts) | null): Promise<string[]>;
  readdir(path: PathLike, opts?: Encoding | ({ withFileTypes?: boolean; recursive?: boolean; encoding?: Encoding | null } & SignalOpts) | null): Promise<string[] | Dirent[]>;
  async readdir(path: PathLike, opts?: Encoding | ({ withFileTypes?: boolean; recursive?: boolean; encoding?: Encoding | null } & SignalOpts) | null): Promise<string[] | Dirent[]> {
    const o = typeof opts === 'object' && opts !== null ? opts : {};
    const p = parsePath(path, 'scandir');
    return this.op('scandir', p, async (co) => {
      const r = await this.resolver.resolve(p, true, 'scandir', co);
      if (r.attrs.kind !== 'directory') throw fsError('ENOTDIR', 'scandir', p.display);
      const base = p.display;
      const withTypes = !!o.withFileTypes;
      const out: (string | Dirent)[] = [];
      // Breadth-first for `recursive`, as node lists it; an explicit queue, never recursion.
      const queue: Array<{ fh: FileHandleId; rel: string; abs: string }> = [{ fh: r.fh, rel: '', abs: base }];
      for (let qi = 0; qi < queue.length; qi++) {
        const d = queue[qi]!;
        for await (const batch of this.backend.readdir(d.fh, withTypes || !!o.recursive, co)) {
          for (const e of batch) {
            let kind = e.attrs?.kind;
            if ((withTypes || o.recursive) && kind === undefined) {
              const l = await this.backend.lookup(d.fh, e.name);
              kind = (l.attrs ?? (await this.backend.getattr(l.fh))).kind;
              e.fh ??= l.fh;
            }
            const rel = d.rel ? `${d.rel}/${e.name}` : e.name;
            if (withTypes) out.push(new Dirent(e.name, d.abs, kind));
            else out.push(rel);
            if (o.recursive && kind === 'directory') {
              const fh = e.fh ?? (await this.backend.lookup(d.fh, e.name)).fh;
              queue.push({ fh, rel, abs: d.abs.endsWith('/') ? d.abs + e.name : `${d.abs}/${e.name}` });
            }
          }
        }
      }
      return out as string[] | Dirent[];
    }, { signal: signalOf(o) });
  }

  /**
   * Opens a directory for reading entry by entry, in batches as the server sends them,
   * for directories too large to list at once.
   *
   * @throws {@link FsError} `ENOTDIR`, `ENOENT`, `EACCES`.
   * @example
   * ```ts
   * for await (const d of await nfs.opendir('/huge')) console.log(d.name);
   * ```
   */
  async opendir(path: PathLike, opts?: { bufferSize?: number; encoding?: Encoding } & SignalOpts): Promise<Dir> {
    const p = parsePath(path, 'opendir');
    return this.op('opendir', p, async (co) => {
      const r = await this.resolver.resolve(p, true, 'opendir', co);
      if (r.attrs.kind !== 'directory') throw fsError('ENOTDIR', 'opendir', p.display);
      return new Dir(this.backend, r.fh, p.display);
    }, { signal: signalOf(opts) });
  }

  // ---- names ----

  /**
   * Removes a name that is not a directory. On NFSv3 a file still open through this client is
   * renamed to a hidden `.nfs…` name instead and removed at its last close (as the kernel client does),
   * so reads through open handles keep working.
   *
   * @throws {@link FsError} `EISDIR` (a directory: use rmdir or rm), `ENOENT`, `EACCES`, `EROFS`.
   */
  async unlink(path: PathLike, opts?: SignalOpts): Promise<void> {
    const p = parsePath(path, 'unlink');
    const signal = signalOf(opts);
    this.writable('unlink', p.display);
    await this.op('unlink', p, async (co) => {
      // Without caches (noac) a backend that can (NFSv4) resolves the directory and removes in one call.
      const b = this.backend;
      if (b.removePath && p.plain && !p.trailingSlash && (await b.removePath(p.parts, b.rootFh, co))) return;
      const { dir, name } = await this.resolver.resolveParent(p, 'unlink');
      // 'dir/.' names a directory: Linux answers EISDIR without asking (servers differ: v3 EISDIR, v4 EINVAL).
      if (name === undefined || name === '.') throw fsError('EISDIR', 'unlink', p.display);
      if (p.trailingSlash) {
        const l = await this.backend.lookup(dir, name);
        const a = l.attrs ?? (await this.backend.getattr(l.fh));
        throw fsError(a.kind === 'directory' ? 'EISDIR' : 'ENOTDIR', 'unlink', p.display);
      }
      if (!(await this.silly.hideIfOpen(dir, name))) await this.backend.remove(dir, name);
    }, { signal });
  }

  /**
   * Removes a file, or with `recursive` a directory and everything below it (entries removed
   * in parallel). `force` makes a missing path a success, as `fs.promises.rm`.
   *
   * @throws {@link FsError} `ENOENT` (without `force`), `EACCES`, `EROFS`; an `ERR_FS_EISDIR` error for a
   *   directory without `recursive`, as node.
   */
  async rm(path: PathLike, opts?: { recursive?: boolean; force?: boolean; maxRetries?: number; retryDelay?: number } & SignalOpts): Promise<void> {
    const p = parsePath(path, 'rm');
    checkBoolean(opts?.recursive, 'options.recursive');
    checkBoolean(opts?.force, 'options.force');
    return this.rmParsed(p, opts ?? {}, signalOf(opts));
  }

  private async rmParsed(p: ParsedPath, opts: { recursive?: boolean | undefined; force?: boolean | undefined }, signal: AbortSignal | undefined): Promise<void> {
    this.writable('rm', p.display);
    // As node: the path is lstat'ed first (so a missing path is an lstat error), then unlinked or removed as a tree.
    let top;
    try {
      top = await this.op('lstat', p, (co) => this.resolver.resolve(p, false, 'lstat', co), { signal });
    } catch (err) {
      if (opts?.force && (err as FsError).code === 'ENOENT') return;
      throw err;
    }
    const isDir = top.attrs.kind === 'directory';
    if (isDir && !opts?.recursive) throw rmIsDirectory(p.display);
    await this.op(isDir ? 'rm' : 'unlink', p, async (co) => {
      const { dir, name } = await this.resolver.resolveParent(p, 'rm', co);
      if (name === undefined) throw fsError('EBUSY', 'rm', p.display);
      if (isDir) await this.removeTree(dir, name, top.fh);
      else if (!(await this.silly.hideIfOpen(dir, name, co))) await this.backend.remove(dir, name, co);
    }, { signal });
  }

  /**
   * Removes a directory tree bottom-up with an explicit stack (no recursion on
   * server data). Each directory is listed, its files removed in parallel, its
   * subdirectories pushed; it is removed once its children are gone.
   */
  private async removeTree(parent: FileHandleId, name: string, fh: FileHandleId): Promise<void> {
    type Frame = { parent: FileHandleId; name: string; fh: FileHandleId; expanded: boolean };
    const stack: Frame[] = [{ parent, name, fh, expanded: false }];
    while (stack.length > 0) {
      const f = stack[stack.length - 1]!;
      if (f.expanded) {
        stack.pop();
        await ignoreEnoent(this.backend.rmdir(f.parent, f.name));
        continue;
      }
      f.expanded = true;
      const removals: Promise<void>[] = [];
      for await (const batch of this.backend.readdir(f.fh, true)) {
        for (const e of batch) {
          let kind = e.attrs?.kind;
          let efh = e.fh;
          if (kind === undefined || (kind === 'directory' && !efh)) {
            const l = await this.backend.lookup(f.fh, e.name);
            efh = l.fh;
            kind = (l.attrs ?? (await this.backend.getattr(l.fh))).kind;
          }
          if (kind === 'directory') stack.push({ parent: f.fh, name: e.name, fh: efh!, expanded: false });
          else removals.push(ignoreEnoent(this.backend.remove(f.fh, e.name)));
        }
      }
      await Promise.all(removals);
    }
  }

  /**
   * Moves `oldPath` to `newPath`, replacing a file there (atomically on the server).
   * Both paths are inside this export; NFS has no rename across exports.
   *
   * @throws {@link FsError} `ENOENT`, `EXDEV`, `ENOTEMPTY` (a non-empty directory in the way), `EISDIR`/`ENOTDIR`
   *   (kinds differ), `EBUSY` (the root), `EROFS`; `path` and `dest` name both paths, as node's do.
   */
  async rename(oldPath: PathLike, newPath: PathLike, opts?: SignalOpts): Promise<void> {
    const from = parsePath(oldPath, 'rename', 'oldPath');
    const to = parsePath(newPath, 'rename', 'newPath');
    const signal = signalOf(opts);
    this.writable('rename', from.display);
    await this.op(
      'rename',
      from,
      async (co) => {
        // Both parents are looked up at once, but their failures are reported
        // in rename(2)'s order: the source's parent, then the destination's.
        const [ra, rb] = await Promise.allSettled([this.resolver.resolveParent(from, 'rename', co), this.resolver.resolveParent(to, 'rename', co)]);
        if (ra.status === 'rejected') throw ra.reason;
        if (rb.status === 'rejected') throw rb.reason;
        const [a, b] = [ra.value, rb.value];
        // Renaming the root, or a name that is '.', is EBUSY on Linux.
        if (a.name === undefined || b.name === undefined || a.name === '.' || b.name === '.') throw fsError('EBUSY', 'rename', from.display, to.display);
        checkName(b.name, 'rename', to.display);
        // A target still open here is moved aside first, so its handle outlives the rename (NFSv3).
        if (!(a.dir.equals(b.dir) && a.name === b.name)) await this.silly.hideIfOpen(b.dir, b.name, co);
        await this.backend.rename(a.dir, a.name, b.dir, b.name, co);
      },
      { dest: to.display, signal },
    );
  }

  /**
   * Creates a hard link `newPath` to the file at `existingPath`.
   *
   * @throws {@link FsError} `EEXIST`, `ENOENT`, `EPERM` (a directory), `EROFS`.
   */
  async link(existingPath: PathLike, newPath: PathLike, opts?: SignalOpts): Promise<void> {
    const from = parsePath(existingPath, 'link', 'existingPath');
    const to = parsePath(newPath, 'link', 'newPath');
    const signal = signalOf(opts);
    this.writable('link', from.display);
    await this.op(
      'link',
      from,
      async (co) => {
        const src = await this.resolver.resolve(from, false, 'link', co);
        if (src.attrs.kind === 'directory') throw fsError('EPERM', 'link', from.display, to.display);
        const { dir, name } = await this.resolver.resolveParent(to, 'link', co);
        if (name === undefined) throw fsError('EEXIST', 'link', from.display, to.display);
        checkName(name, 'link', to.display);
        await this.backend.link(src.fh, dir, name, co);
      },
      { dest: to.display, signal },
    );
  }

  /**
   * Creates a symlink at `path` whose target is `target`, stored as given (relative or absolute;
   * absolute targets are read by whoever follows them, possibly a kernel mount with another root).
   * `type` is accepted for node's signature and ignored.
   *
   * @throws {@link FsError} `EEXIST`, `ENOENT` (empty target or missing parent), `ENAMETOOLONG`, `EROFS`.
   */
  async symlink(target: PathLike, path: PathLike, type?: string | null, opts?: SignalOpts): Promise<void> {
    void type;
    const signal = signalOf(opts);
    const t = parsePathTarget(target);
    const p = parsePath(path, 'symlink');
    // symlink(2) refuses an empty target before looking at the new name.
    if (t === '') throw fsError('ENOENT', 'symlink', t, p.display);
    this.writable('symlink', t);
    await this.op(
      'symlink',
      t,
      async (co) => {
        const { dir, name } = await this.resolver.resolveParent(p, 'symlink', co);
        if (name === undefined) throw fsError('EEXIST', 'symlink', t, p.display);
        checkName(name, 'symlink', p.display);
        await this.backend.symlink(dir, name, t, { mode: 0o777 }, co);
      },
      { dest: p.display, signal },
    );
  }

  // ---- files ----

  /**
   * Opens a file as `fs.promises.open` does: `flags` such as `'r'`, `'r+'`, `'w'`, `'a'`, `'wx'`
   * (default `'r'`), `mode` for a file it creates (less the `umask`). On NFSv4 this is an OPEN with
   * share state; the handle must be closed to release it.
   *
   * @throws {@link FsError} `ENOENT`, `EEXIST` (with `x`), `EISDIR` (writing a directory), `EACCES`, `EROFS`.
   * @example
   * ```ts
   * const fh = await nfs.open('/data/log.txt', 'a');
   * try {
   *   await fh.write('one more line\n');
   * } finally {
   *   await fh.close();
   * }
   * ```
   */
  async open(path: PathLike, flags?: string | number, mode?: number | string, opts?: SignalOpts): Promise<FileHandle> {
    return this.openWith(parsePath(path, 'open'), flags, mode, signalOf(opts));
  }

  /** `signal` goes to every RPC, so an abort ends a wait on a hard mount. */
  private async openWith(p: ParsedPath, flags: string | number | undefined, mode: number | string | undefined, signal: AbortSignal | undefined): Promise<FileHandle> {
    const f = parseFlags(flags);
    const m = this.createMode(parseMode(mode, 0o666));
    if (f.write || f.create || f.truncate) this.writable('open', p.display);
    return this.op('open', p, (co) => this.openParsed(p, f, m, 0, co), { signal });
  }

  /** `co` carries the caller's signal to every RPC, so an abort ends a wait on a hard mount. */
  private async openParsed(p: ParsedPath, f: OpenFlags, mode: number, links = 0, co?: CallOpts): Promise<FileHandle> {
    if (f.create && !f.exclusive && !f.directory && !p.trailingSlash && p.plain && this.backend.open) {
      const h = await this.openCreating(p, f, mode, co);
      if (h) return h;
    }
    let fh: FileHandleId | undefined;
    let existing: Resolved | undefined;
    let missing: MissingName | undefined;
    try {
      // Close-to-open for names too: the last name's directory is checked
      // with the server first, so a file another client replaced by rename
      // is found under its name now, not the one the caches remember.
      const o = { ...co, revalidate: true };
      if (!f.create) existing = await this.resolver.resolve(p, !f.noFollow, 'open', o);
      else {
        const r = await this.resolver.resolveOrMissing(p, !f.noFollow, 'open', o);
        if (r instanceof MissingName) missing = r;
        else existing = r;
      }
    } catch (err) {
      if ((err as { errnoCode?: string; code?: string }).errnoCode !== 'ENOENT' || !f.create) throw err;
    }
    if (existing) {
      if (f.create && f.exclusive) throw fsError('EEXIST', 'open', p.display);
      if (existing.attrs.kind === 'symlink') throw fsError('ELOOP', 'open', p.display);
      if (existing.attrs.kind === 'directory' && (f.write || f.truncate)) throw fsError('EISDIR', 'open', p.display);
      if (f.directory && existing.attrs.kind !== 'directory') throw fsError('ENOTDIR', 'open', p.display);
      fh = existing.fh;
      // Close-to-open: whatever the caches say, opening sees the server's
      // current attributes. An NFSv4 OPEN returns them in its own COMPOUND
      // (and the cache keeps them), and truncates under its stateid.
      if (!this.backend.open || existing.attrs.kind === 'directory') {
        const fresh = await this.backend.getattr(fh, { ...co, fresh: true });
        if (f.truncate && f.write && fresh.size !== 0) await this.backend.setattr(fh, { size: 0 }, co);
      }
    } else {
      if (p.trailingSlash) throw fsError('EISDIR', 'open', p.display);
      const { dir, name } = missing ?? (await this.resolver.resolveParent(p, 'open', co));
      if (name === undefined) throw fsError('EISDIR', 'open', p.display);
      checkName(name, 'open', p.display);
      const made = await this.createFile(dir, name, mode, f.exclusive, co);
      if (made.kind === 'symlink') {
        // A dangling symlink is in the way: O_CREAT creates its target, as the kernel does.
        if (f.noFollow || ++links > MAX_SYMLINKS) throw fsError('ELOOP', 'open', p.display);
        const target = await this.backend.readlink(made.fh, co);
        const base = target.startsWith('/') ? '' : await this.resolver.realpath({ display: p.display, parts: p.parts.slice(0, -1), trailingSlash: false, plain: false }, 'open', co);
        return this.openParsed({ ...parsePath(clampToRoot(`${base}/${target}`), 'open'), display: p.display }, f, mode, links, co);
      }
      fh = made.fh;
    }
    // Directories are opened without server state (NFSv4 OPEN is for files); reading one fails with EISDIR, as in node.
    const isDir = existing?.attrs.kind === 'directory';
    const state = this.backend.open && !isDir ? await this.openState(p, fh, { ...f, truncate: existing !== undefined && f.truncate && f.write }, co) : undefined;
    // By name (4.0) the OPEN finds whatever the name leads to now: the handle follows it.
    if (state) fh = state.fh;
    // Without server open state (NFSv3) the client keeps an unlinked open file alive itself.
    const release = this.backend.open ? undefined : this.silly.opened(fh);
    return new FileHandle(this.backend, fh, f, p.display, this.blksize, state, release);
  }

  /**
   * O_CREAT without O_EXCL where the server opens by name (NFSv4): the
   * directory, then one OPEN that creates the file or opens the one there
   * (UNCHECKED4: an existing file keeps its mode; truncation, when asked,
   * is the open's own SETATTR), where the general path resolves the name,
   * its directory, creates, and opens again. undefined when the server
   * refused the OPEN with a status (a symlink or directory in the way, a
   * kind of file OPEN does not take...): the general path then decides, and
   * fails as it fails. Nothing was created or left open in that case.
   */
  private async openCreating(p: ParsedPath, f: OpenFlags, mode: number, co?: CallOpts): Promise<FileHandle | undefined> {
    const req: OpenRequest = { read: f.read, write: f.write, create: { mode: 'unchecked', attrs: { mode } }, truncate: f.truncate && f.write };
    const b = this.backend;
    let state: (OpenState & { fh: FileHandleId }) | undefined;
    try {
      // Without caches (noac), NFSv4 walks to the directory in the OPEN's own COMPOUND.
      if (b.openPath) state = await b.openPath(p.parts, req, b.rootFh, co);
    } catch (err) {
      if (err instanceof NfsStatusError) return undefined;
      throw err;
    }
    if (!state) {
      const { dir, name } = await this.resolver.resolveParent(p, 'open', co);
      if (name === undefined) return undefined;
      checkName(name, 'open', p.display);
      try {
        state = await this.backend.open!(dir, name, req, co);
      } catch (err) {
        if (err instanceof NfsStatusError) return undefined;
        throw err;
      }
    }
    return new FileHandle(this.backend, state.fh, f, p.display, this.blksize, state);
  }

  /**
   * NFSv4 OPEN of a file already resolved (and created if need be): by handle
   * on 4.1+, by directory and name on 4.0, which cannot open a bare handle.
   */
  private async openState(p: ParsedPath, fh: FileHandleId, f: OpenFlags, co?: CallOpts): Promise<OpenState & { fh: FileHandleId }> {
    const req = { read: f.read, write: f.write, truncate: f.truncate };
    if (this.backend.capabilities.openByHandle) return this.backend.open!(fh, undefined, req, co);
    // The path's own directory and name first (resolved from the caches);
    // when the name is a symlink (the server refuses to OPEN it) the
    // canonical path's, which costs a LOOKUP per component.
    if (!p.parts.includes('..')) {
      const { dir, name } = await this.resolver.resolveParent(p, 'open', co);
      if (name !== undefined && name !== '.' && name !== '') {
        try {
          return await this.backend.open!(dir, name, req, co);
        } catch (err) {
          if ((err as { status?: string }).status !== 'NFS4ERR_SYMLINK') throw err;
        }
      }
    }
    const canonical = parsePath(await this.resolver.realpath(p, 'open', co), 'open');
    const { dir, name } = await this.resolver.resolveParent(canonical, 'open', co);
    if (name === undefined) throw fsError('EISDIR', 'open', p.display);
    return this.backend.open!(dir, name, req, co);
  }

  /**
   * O_CREAT without O_EXCL is GUARDED, falling back to what is there if the
   * name exists: another client's file (it won the race), or a dangling
   * symlink (the caller follows it; `kind` says which). O_EXCL is EXCLUSIVE
   * with a random verifier (safe to retransmit), followed by the SETATTR the
   * spec requires for mode.
   */
  private async createFile(dir: FileHandleId, name: string, mode: number, exclusive: boolean, co?: CallOpts): Promise<{ fh: FileHandleId; kind: FileKind }> {
    if (exclusive) {
      let made: Looked;
      try {
        made = await this.backend.create(dir, name, { mode: 'exclusive', verf: randomBytes(8), attrs: { mode } }, co);
      } catch (err) {
        // O_EXCL on any existing name, a symlink included, is EEXIST (NFSv4 servers answer NFS4ERR_SYMLINK for a link).
        if ((err as { errnoCode?: string }).errnoCode === 'ELOOP') throw new NfsStatusError('NFS4ERR_EXIST', 'EEXIST', 'OP_OPEN');
        throw err;
      }
      await this.backend.setattr(made.fh, { mode, atime: 'server', mtime: 'server' }, co);
      return { fh: made.fh, kind: 'file' };
    }
    try {
      return { fh: (await this.backend.create(dir, name, { mode: 'guarded', attrs: { mode } }, co)).fh, kind: 'file' };
    } catch (err) {
      if ((err as { errnoCode?: string }).errnoCode !== 'EEXIST') throw err;
      const l = await this.backend.lookup(dir, name, co);
      return { fh: l.fh, kind: (l.attrs ?? (await this.backend.getattr(l.fh, co))).kind };
    }
  }

  /**
   * Reads a whole file: a Buffer, or a string with an `encoding`. The file is reopened with the
   * server (close-to-open), so what another client closed before this call is what is read.
   *
   * @throws {@link FsError} `ENOENT` (an `open` error), `EISDIR` (a `read` error), `EACCES`; an abort
   *   through `signal` rejects with an {@link AbortError}.
   * @example
   * ```ts
   * const text = await nfs.readFile('/etc-share/app.conf', 'utf8');
   * ```
   */
  readFile(path: PathLike | FileHandle, opts?: { encoding?: null; flag?: string; signal?: AbortSignal } | null): Promise<Buffer>;
  readFile(path: PathLike | FileHandle, opts: Encoding | { encoding: Encoding; flag?: string; signal?: AbortSignal }): Promise<string>;
  readFile(path: PathLike | FileHandle, opts?: ReadFileOptions): Promise<Buffer | string>;
  async readFile(path: PathLike | FileHandle, opts?: ReadFileOptions): Promise<Buffer | string> {
    const o = typeof opts === 'string' ? { encoding: opts } : (opts ?? {});
    if (o.encoding && !Buffer.isEncoding(o.encoding)) throw new InvalidArgError('ERR_INVALID_ARG_VALUE', `The argument 'encoding' is invalid encoding. Received '${o.encoding}'`);
    if (path instanceof FileHandle) return path.readFile(o);
    const p = parsePath(path, 'open');
    const signal = signalOf(o);
    checkAborted(signal);
    const f = parseFlags(o.flag, 'r');
    if (f.write || f.create) {
      const h = await this.openWith(p, o.flag, undefined, signal);
      try {
        return await h.readFile(o);
      } finally {
        await h.close();
      }
    }
    // As node: failing to find the file is an `open` error with the path, failing to read it a `read` error without.
    const once = async () => {
      // An open: its name is checked with the server as open()'s is (close-to-open).
      const r = await this.op('open', p, (co) => this.resolver.resolve(p, true, 'open', { ...co, revalidate: true }), { signal });
      // No close-to-open GETATTR needed: readWhole reads past the size it was given until a short READ, so a stale cached size cannot truncate or pad the result.
      return this.op('read', undefined, () => readWhole(this.backend, r.fh, 0, signal, r.attrs), { retryStale: false, signal });
    };
    let buf: Buffer;
    try {
      buf = await once();
    } catch (err) {
      // The READ hit a stale cached handle: resolve the path again, once (op() does this for single-step calls).
      if ((err as { code?: string }).code !== 'ESTALE' || !this.invalidateCaches()) throw err;
      buf = await once();
    }
    return o.encoding ? buf.toString(o.encoding) : buf;
  }

  /**
   * Replaces a file's contents (creating it; `flag` `'w'` by default) with a string, a buffer or an
   * (async) iterable of chunks. Resolves once the data is committed to the server's stable storage
   * (the close's COMMIT), so a resolved call survives a server crash.
   *
   * @throws {@link FsError} `ENOENT` (missing parent), `EISDIR`, `EACCES`, `ENOSPC`, `EDQUOT`, `EROFS`.
   * @example
   * ```ts
   * await nfs.writeFile('/out/result.json', JSON.stringify(result));
   * ```
   */
  async writeFile(path: PathLike | FileHandle, data: string | ArrayBufferView | Iterable<unknown> | AsyncIterable<unknown>, opts?: WriteFileOptions): Promise<void> {
    const o = typeof opts === 'string' ? { encoding: opts } : (opts ?? {});
    if (path instanceof FileHandle) return path.writeFile(data, o);
    const enc = o.encoding ?? 'utf8';
    if (!Buffer.isEncoding(enc)) throw new InvalidArgError('ERR_INVALID_ARG_VALUE', `The argument 'encoding' is invalid encoding. Received '${enc}'`);
    if (typeof data !== 'string' && !ArrayBuffer.isView(data) && !(data && typeof data === 'object' && (Symbol.iterator in data || Symbol.asyncIterator in data))) {
      throw invalidArgType('data', 'of type string or an instance of Buffer, TypedArray, or DataView', data);
    }
    const signal = signalOf(o);
    checkAborted(signal);
    const h = await this.openWith(parsePath(path, 'open'), o.flag ?? 'w', o.mode, signal);
    let ok = false;
    try {
      // A string or buffer is written in one call and this call resolves only
      // after close's COMMIT: the handle may keep the bytes by reference.
      if (typeof data === 'string') await writeBorrowed(h, Buffer.from(data, enc), o.signal);
      else if (ArrayBuffer.isView(data)) await writeBorrowed(h, Buffer.from(data.buffer, data.byteOffset, data.byteLength), o.signal);
      else await h.writeFile(data, { encoding: enc, ...(o.signal ? { signal: o.signal } : {}) });
      if (o.flush) await h.sync();
      ok = true;
    } finally {
      // close() COMMITs; its error must win over success, not be swallowed.
      if (ok) await h.close();
      else await h.close().catch(() => {});
    }
  }

  /**
   * As {@link NfsClient.writeFile} with flag `'a'`: adds to the end of the file, creating it if missing.
   *
   * @throws {@link FsError} as writeFile.
   */
  appendFile(path: PathLike | FileHandle, data: string | ArrayBufferView, opts?: WriteFileOptions): Promise<void> {
    const o = typeof opts === 'string' ? { encoding: opts } : (opts ?? {});
    return this.writeFile(path, data, { ...o, flag: o.flag ?? 'a' });
  }

  /**
   * Copies a file's bytes and mode. On NFSv4.2 servers with COPY the server copies without the
   * data crossing the network; otherwise the client reads and writes in large overlapped chunks.
   * `fs.constants.COPYFILE_EXCL` refuses an existing destination.
   *
   * @throws {@link FsError} `ENOENT`, `EEXIST` (with `COPYFILE_EXCL`), `EISDIR`, `EROFS`.
   */
  async copyFile(src: PathLike, dest: PathLike, copyMode = 0, opts?: SignalOpts): Promise<void> {
    const s = parsePath(src, 'copyfile', 'src');
    const d = parsePath(dest, 'copyfile', 'dest');
    const mode = validMode(copyMode);
    const signal = signalOf(opts);
    this.writable('copyfile', d.display);
    await this.op(
      'copyfile',
      s,
      async () => {
        const from = await this.resolver.resolve(s, true, 'copyfile');
        if (from.attrs.kind === 'directory') throw fsError('EISDIR', 'copyfile', s.display, d.display);
        const excl = (mode & constants.COPYFILE_EXCL) !== 0;
        if (!excl) {
          // As libuv: copying a file onto itself (same path, a hard link, a symlink to it) leaves it alone.
          const dst = await this.resolver.resolve(d, true, 'copyfile').catch(() => undefined);
          if (dst && dst.attrs.fileid === from.attrs.fileid && dst.attrs.fsid === from.attrs.fsid) return;
        }
        const to = await this.openParsed(d, parseFlags(excl ? 'wx' : 'w'), from.attrs.mode & ~this.settings.umask);
        try {
          // As libuv: the target gets the source's mode exactly (no umask), whether it was created or not.
          await this.backend.setattr(to.fh, { mode: from.attrs.mode });
          if (await this.serverSideCopy(s, from.fh, to)) return;
          const buf = Buffer.allocUnsafe(Math.min(COPY_CHUNK, Math.max(from.attrs.size, this.backend.limits.rsize)));
          // Reading the next chunk overlaps writing the previous one.
          let at = 0;
          let n = await readInto(this.backend, from.fh, buf, 0, buf.length, at);
          let spare = Buffer.allocUnsafe(buf.length);
          let cur = buf;
          while (n > 0) {
            const w = to.write(cur, 0, n, at);
            const next = n === cur.length ? readInto(this.backend, from.fh, spare, 0, spare.length, at + n) : Promise.resolve(0);
            const [, nn] = await Promise.all([w, next]);
            at += n;
            n = nn;
            [cur, spare] = [spare, cur];
          }
        } finally {
          await to.close();
        }
      },
      { dest: d.display, signal },
    );
  }

  /**
   * NFSv4.2 COPY: the server copies, no byte passes through the client.
   * false when the server has no COPY (NFS4ERR_NOTSUPP, as NFS-Ganesha 4.3):
   * the caller copies through the client instead.
   */
  private async serverSideCopy(s: ParsedPath, srcFh: FileHandleId, to: FileHandle): Promise<boolean> {
    const b = this.backend;
    const dst = serverStates.get(to);
    if (!b.copy || !dst || !b.capabilities.serverCopy || this.copyUnsupported) return false;
    const src = await this.openState(s, srcFh, parseFlags('r'));
    try {
      let at = 0;
      for (;;) {
        const r = await b.copy(src, dst, at, at, 0);
        if (r.count === 0) break;
        at += r.count;
        if (r.committed === 'unstable') await b.commit(to.fh);
      }
      return true;
    } catch (err) {
      if ((err as { errnoCode?: string }).errnoCode !== 'ENOTSUP') throw err;
      this.copyUnsupported = true;
      return false;
    } finally {
      await b.closeState?.(src).catch(() => {});
    }
  }

  /** The server answered COPY with NOTSUPP once: don't ask again. */
  private copyUnsupported = false;

  /**
   * A Readable over a file (or an open {@link FileHandle}), as `fs.createReadStream`: `start`/`end`
   * for a byte range, `highWaterMark` for the read size. Open errors arrive as the stream's `'error'`.
   *
   * @example
   * ```ts
   * import { pipeline } from 'node:stream/promises';
   * import { createWriteStream } from 'node:fs';
   * await pipeline(nfs.createReadStream('/big.iso'), createWriteStream('/tmp/big.iso'));
   * ```
   */
  createReadStream(path: PathLike | FileHandle, opts?: ReadStreamOptions & { flags?: string; fd?: FileHandle }): ReadStream {
    if (path instanceof FileHandle) return new ReadStream(path, opts);
    if (opts?.fd instanceof FileHandle) return new ReadStream(opts.fd, opts);
    const p = parsePath(path, 'open');
    return new ReadStream(this.openWith(p, opts?.flags ?? 'r', undefined, undefined), opts, p.display);
  }

  /**
   * A Writable into a file (created or truncated with the default flag `'w'`), as
   * `fs.createWriteStream`; it ends with the close's COMMIT, so `'finish'`/`'close'` mean the data is stable.
   * Errors arrive as the stream's `'error'`.
   */
  createWriteStream(path: PathLike | FileHandle, opts?: WriteStreamOptions & { flags?: string; mode?: number; fd?: FileHandle }): WriteStream {
    if (path instanceof FileHandle) return new WriteStream(path, opts);
    if (opts?.fd instanceof FileHandle) return new WriteStream(opts.fd, opts);
    const p = parsePath(path, 'open');
    return new WriteStream(this.openWith(p, opts?.flags ?? 'w', opts?.mode, undefined), opts, p.display);
  }

  /** Unmounts and closes the connections. Calls still pending fail with a closed-client error. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.backend.close();
  }

  /** Closes the client at the end of an `await using` block. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * A backend that removes by path in one call (Nfs4Backend.removePath): true
 * when removed; false, with nothing done, when a directory on the way did
 * not resolve plainly. The caching backend does not offer it: with caches,
 * the directory comes from them and the remove is one call anyway.
 */
/**
 * A backend that opens by path in one call (Nfs4Backend.openPath): the open
 * state; undefined, with nothing opened, when a directory on the way did
 * not resolve plainly. Like removePath, offered without caches only.
 */
function displayOf(path: ParsedPath | string | undefined): string | undefined {
  return typeof path === 'string' ? path : path?.display;
}

/** fn(co), with a synchronous throw as a rejected promise. */
function attempt<T>(fn: (co: CallOpts | undefined) => Promise<T>, co: CallOpts | undefined): Promise<T> {
  try {
    return fn(co);
  } catch (err) {
    return Promise.reject(err);
  }
}

/** node's error for rm() of a directory without `recursive`: a SystemError with code ERR_FS_EISDIR. */
function rmIsDirectory(path: string): Error {
  const errno = osConstants.errno.EISDIR;
  const err = new Error(`Path is a directory: rm returned EISDIR (is a directory) ${path}`);
  Object.defineProperty(err, 'name', { value: 'SystemError', configurable: true, writable: true });
  return Object.assign(err, { code: 'ERR_FS_EISDIR', info: { code: 'EISDIR', message: 'is a directory', path, syscall: 'rm', errno }, errno, syscall: 'rm', path });
}

/** A symlink's target is stored verbatim: any string without NUL, up to the NFS path limit. */
function parsePathTarget(target: PathLike): string {
  const t = toPathString(target, 'target');
  if (Buffer.byteLength(t) > 4096) throw fsError('ENAMETOOLONG', 'symlink', t);
  return t;
}

/** A symlink target joined to its directory's real path: '..' at the root stays at the root, as it does on the server. */
function clampToRoot(path: string): string {
  const out: string[] = [];
  let depth = 0;
  for (const c of path.split('/')) {
    if (c === '..') {
      if (depth === 0) continue;
      depth--;
    } else if (c !== '' && c !== '.') depth++;
    out.push(c);
  }
  return '/' + out.filter((c) => c !== '').join('/') + (path.endsWith('/') ? '/' : '');
}

/** Components with '..' applied lexically (parsePath already refused climbing above the root). */
function lexicalParts(p: ParsedPath): string[] {
  const out: string[] = [];
  for (const c of p.parts) {
    if (c === '..') out.pop();
    else out.push(c);
  }
  return out;
}

/**
 * What mkdir({ recursive: true }) returns for the first directory it made, as
 * node does: the path as given, cut after that component (all of it, trailing
 * slash included, when it is the last). With '..' in the path, the lexical form.
 */
function firstMade(p: ParsedPath, count: number): string {
  if (p.parts.includes('..')) return '/' + lexicalParts(p).slice(0, count).join('/');
  if (count === p.parts.length) return p.display;
  const segs = p.display.split('/');
  let seen = 0;
  for (let k = 0; k < segs.length; k++) {
    const c = segs[k]!;
    if (c !== '' && c !== '.' && ++seen === count) return segs.slice(0, k + 1).join('/');
  }
  return p.display;
}

async function ignoreEnoent(p: Promise<void>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if ((err as { errnoCode?: string }).errnoCode !== 'ENOENT') throw err;
  }
}
