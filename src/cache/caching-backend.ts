import { LRUCache } from 'lru-cache';
import { NfsStatusError } from '../errors.js';
import type { Attrs, Backend, Capabilities, CallOpts, CreateMode, DirEntry, FileHandleId, Limits, Looked, OpenState, ReadDest, SetAttrs, StableHow, StatFsResult, WriteResult } from '../fs/backend.js';
import { attrTtlMs, type CachePolicy } from './policy.js';

interface NameEntry {
  /** undefined: a negative entry (the name did not exist). */
  fh: FileHandleId | undefined;
  /** The directory's generation when cached (see CachingBackend.dirs): a different one now means stale. */
  dirGen: number;
}

/** What changes when a directory's entries change: mtime, and ctime (NFSv4's change attribute moves with both). */
const marker = (a: Attrs): string => `${a.mtime.sec}.${a.mtime.nsec}/${a.ctime.sec}.${a.ctime.nsec}`;

/**
 * Handles as map keys. The same handle objects come back again and again
 * (the root, handles held in the caches), so their strings are kept with
 * them rather than made anew on every lookup.
 */
const keys = new WeakMap<FileHandleId, string>();
const key = (fh: FileHandleId): string => {
  let k = keys.get(fh);
  if (k === undefined) {
    k = fh.toString('latin1');
    keys.set(fh, k);
  }
  return k;
};
const nameKey = (dir: FileHandleId, name: string) => `${key(dir)}/${name}`;

/** Whole-path keys, kept with the (frozen, shared) component arrays the fs layer's parsed paths hand in. */
const joined = new WeakMap<readonly string[], string>();
const pathKey = (start: FileHandleId, parts: readonly string[]): string => {
  let j = joined.get(parts);
  if (j === undefined) {
    j = parts.join('/');
    if (Object.isFrozen(parts)) joined.set(parts, j);
  }
  return `${key(start)}/${j}`;
};

/**
 * The attribute and name caches, as a Backend that wraps another one, so
 * every NFS version gets them and the fs layer stays unaware of them.
 *
 * - attrs: file handle → Attrs, trusted for attrTtlMs (acregmin..acregmax).
 * - names: (directory handle, name) → handle, or a negative entry for a name
 *   that did not exist, trusted for acdirmin..acdirmax.
 *
 * Our own changes update or drop the entries they affect; other clients'
 * changes show after the timeouts, as with the kernel client. Opening a file
 * revalidates its attributes (close-to-open): the fs layer asks with
 * `fresh: true`.
 *
 * Concurrent misses for one key share one request (`inflight`). `gen` counts
 * invalidations: a reply that started before one is returned to its caller
 * but not stored, so a GETATTR racing our own WRITE cannot reinstate
 * attributes older than the write. (lru-cache's fetchMethod would coalesce
 * too, but reinstates such results or aborts the waiting callers.)
 */
export class CachingBackend implements Backend {
  private readonly attrs: LRUCache<string, Attrs>;
  private readonly names: LRUCache<string, NameEntry>;
  /** start handle + '/'-joined names → handle, for resolvePath; valid only while `epoch` is pathsEpoch. */
  private readonly paths: LRUCache<string, { fh: FileHandleId; epoch: number }>;
  /**
   * Bumped by every name change, which makes every cached path stale at
   * once: cheaper than paths.clear(), which lru-cache does in time
   * proportional to its maximum size (0.3 ms each, twice per REMOVE).
   */
  private pathsEpoch = 0;
  /**
   * Directory handle key → the change marker last seen in its attributes
   * and the generation its cached names must carry. When any reply shows a
   * directory's marker moved (another client added, removed or renamed an
   * entry), its generation changes: every name cached under it is stale at
   * once, as the kernel drops a directory's dentries when its mtime moves
   * (nfs(5), lookupcache). A directory seen for the first time gets a new
   * generation too, so names cached before we knew it are checked once.
   */
  private readonly dirs: LRUCache<string, { marker: string; gen: number }>;
  private dirGenSeq = 0;
  private readonly inflightAttrs = new Map<string, Promise<Attrs>>();
  private readonly inflightNames = new Map<string, Promise<Looked>>();
  private gen = 0;
  readonly stats = { attrHits: 0, attrMisses: 0, nameHits: 0, nameMisses: 0, dirChanges: 0 };

  // Optional capabilities exist exactly when the wrapped backend has them.
  readonly resolvePath: NonNullable<Backend['resolvePath']>;
  readonly open?: Backend['open'];
  readonly closeState?: Backend['closeState'];
  readonly lockOwner?: Backend['lockOwner'];
  readonly copy?: Backend['copy'];
  readonly seek?: Backend['seek'];
  readonly allocate?: Backend['allocate'];
  readonly deallocate?: Backend['deallocate'];

  constructor(
    readonly inner: Backend,
    readonly policy: CachePolicy,
  ) {
    // Whole paths are cached by their start handle and names, for NFSv4's
    // one-COMPOUND lookups and for NFSv3's LOOKUP chains alike (a cached
    // stat of a deep path is then one cache hit, not one per component); any
    // change to any name drops them all (dropName), since a rename of one
    // component moves every path below it.
    const walkPath = inner.resolvePath ? (parts: readonly string[], start: FileHandleId, o?: CallOpts) => inner.resolvePath!(parts, start, o) : (parts: readonly string[], start: FileHandleId, o?: CallOpts) => this.lookupChain(parts, start, o);
    this.resolvePath = async (parts, start, o) => {
      if (o?.revalidate && !o.fresh && parts.length > 0) {
        // The last name's directory, from the caches, checked with the server.
        const parent = parts.length > 1 ? (await this.resolvePath(parts.slice(0, -1), start, { ...o, revalidate: false })).fh : start;
        await this.revalidateDir(parent, o);
      }
      const k = pathKey(start, parts);
      if (!o?.fresh) {
        const e = this.paths.get(k);
        const fh = e && e.epoch === this.pathsEpoch ? e.fh : undefined;
        const a = fh && this.attrs.get(key(fh));
        if (fh && a) {
          this.stats.nameHits++;
          return { fh, attrs: a };
        }
        if (fh) return { fh, attrs: await this.getattr(fh, o) };
      }
      this.stats.nameMisses++;
      const gen = this.gen;
      const epoch = this.pathsEpoch;
      const l = await walkPath(parts, start, o);
      // Nothing changed while the server walked it: the path is as fresh as the reply, even if the
      // reply itself is what shows a directory for the first time (putAttrs then moves the epoch).
      const settled = gen === this.gen && epoch === this.pathsEpoch;
      this.putAttrs(l.fh, l.attrs, gen);
      if (settled && this.policy.acdirmax > 0) this.paths.set(k, { fh: l.fh, epoch: this.pathsEpoch }, { ttl: this.policy.acdirmax * 1000 });
      return l;
    };
    if (inner.open) {
      this.open = async (dirOrFh, name, req, o) => {
        if (name !== undefined) this.dropName(dirOrFh, name);
        const st = await inner.open!(dirOrFh, name, req, o);
        // OPEN may create or truncate: what we knew of the file and its
        // directory is stale. The attributes it returned (GETATTR in the same
        // COMPOUND) are the file's as of the open: close-to-open needs no more.
        this.dropAttrs(st.fh, name !== undefined ? dirOrFh : undefined);
        this.putAttrs(st.fh, (st as { attrs?: Attrs }).attrs);
        return st;
      };
    }
    if (inner.closeState) this.closeState = (st, o) => inner.closeState!(st, o);
    if (inner.lockOwner) this.lockOwner = (fh, st) => inner.lockOwner!(fh, st);
    if (inner.copy) {
      this.copy = async (src, dst, so, doff, n, o) => {
        try {
          return await inner.copy!(src, dst, so, doff, n, o);
        } finally {
          this.dropAttrs((dst as { fh?: FileHandleId }).fh);
        }
      };
    }
    if (inner.seek) this.seek = (st, off, what, o) => inner.seek!(st, off, what, o);
    if (inner.allocate) this.allocate = (st, off, len, o) => this.dropping(st, () => inner.allocate!(st, off, len, o));
    if (inner.deallocate) this.deallocate = (st, off, len, o) => this.dropping(st, () => inner.deallocate!(st, off, len, o));
    this.attrs = new LRUCache({ max: policy.maxEntries, ttl: policy.acregmax * 1000 || 1, ttlAutopurge: false });
    this.names = new LRUCache({ max: policy.maxEntries, ttl: policy.acdirmax * 1000 || 1, ttlAutopurge: false });
    this.paths = new LRUCache({ max: policy.maxEntries, ttl: policy.acdirmax * 1000 || 1, ttlAutopurge: false });
    this.dirs = new LRUCache({ max: policy.maxEntries });
  }

  get version(): string {
    return this.inner.version;
  }

  get capabilities(): Capabilities {
    return this.inner.capabilities;
  }
  get rootFh(): FileHandleId {
    return this.inner.rootFh;
  }
  get limits(): Limits {
    return this.inner.limits;
  }

  /** Drops everything: after a reconnect to a restarted server, or on request. */
  invalidateAll(): void {
    this.gen++;
    this.pathsEpoch++;
    if (this.attrs.size > 0) this.attrs.clear();
    if (this.names.size > 0) this.names.clear();
    if (this.paths.size > 0) this.paths.clear();
    if (this.dirs.size > 0) this.dirs.clear();
  }

  private putAttrs(fh: FileHandleId, a: Attrs | undefined, gen = this.gen): void {
    if (!a) return;
    // Even a reply too old to cache tells whether the directory changed since we last looked.
    if (a.kind === 'directory') this.sawDir(fh, a);
    if (gen !== this.gen) return;
    const ttl = attrTtlMs(this.policy, a, Date.now());
    // lru-cache reads a ttl of 0 as "forever": a zero timeout means do not cache.
    if (ttl > 0) this.attrs.set(key(fh), a, { ttl });
  }

  /** Notes a directory's attributes; a moved marker makes its cached names (and every cached path) stale. */
  private sawDir(fh: FileHandleId, a: Attrs): void {
    const k = key(fh);
    const m = marker(a);
    const d = this.dirs.get(k);
    if (d?.marker === m) return;
    if (d) this.stats.dirChanges++;
    this.dirs.set(k, { marker: m, gen: ++this.dirGenSeq });
    this.pathsEpoch++;
  }

  private dirGen(dir: FileHandleId): number {
    return this.dirs.get(key(dir))?.gen ?? 0;
  }

  /** open()'s check: the directory's attributes from the server, which drops its names if it changed. */
  private async revalidateDir(dir: FileHandleId, o: CallOpts | undefined): Promise<void> {
    await this.getattr(dir, { ...(o?.signal ? { signal: o.signal } : {}), fresh: true });
  }

  private dropAttrs(...fhs: (FileHandleId | undefined)[]): void {
    this.gen++;
    for (const fh of fhs) if (fh) this.attrs.delete(key(fh));
  }

  private putName(dir: FileHandleId, name: string, fh: FileHandleId | undefined, gen = this.gen): void {
    if (gen !== this.gen) return;
    const ms = (fh ? this.policy.acdirmax : this.policy.acdirmin) * 1000;
    if (ms > 0) this.names.set(nameKey(dir, name), { fh, dirGen: this.dirGen(dir) }, { ttl: ms });
  }

  private dropName(dir: FileHandleId, name: string): FileHandleId | undefined {
    this.gen++;
    this.pathsEpoch++;
    const k = nameKey(dir, name);
    const e = this.names.get(k);
    this.names.delete(k);
    return e?.fh;
  }

  cachedPath(parts: readonly string[], start: FileHandleId): Looked | undefined {
    const e = this.paths.get(pathKey(start, parts));
    if (!e || e.epoch !== this.pathsEpoch) return undefined;
    const attrs = this.attrs.get(key(e.fh));
    if (!attrs) return undefined;
    this.stats.nameHits++;
    return { fh: e.fh, attrs };
  }

  /**
   * resolvePath's contract over plain LOOKUPs (NFSv3), each through the name
   * cache: a symlink in the middle is reported with its target (the fs
   * layer goes on from there), a non-directory in the middle is ENOTDIR
   * without asking the server.
   */
  private async lookupChain(parts: readonly string[], start: FileHandleId, o?: CallOpts): Promise<Looked> {
    let dir = start;
    let l: Looked | undefined;
    let attrs: Attrs | undefined;
    let at = -1;
    for (let i = 0; i < parts.length; i++) {
      const name = parts[i]!;
      if (name === '' || name === '.') continue;
      if (attrs && attrs.kind !== 'directory') {
        if (attrs.kind === 'symlink') {
          const e = new NfsStatusError('NFS3ERR_NOTDIR', 'ENOTDIR', 'NFSPROC3_LOOKUP') as NfsStatusError & { symlink: unknown };
          e.symlink = { index: at, dirFh: dir, fh: l!.fh, attrs, target: await this.readlink(l!.fh, o) };
          throw e;
        }
        throw new NfsStatusError('NFS3ERR_NOTDIR', 'ENOTDIR', 'NFSPROC3_LOOKUP');
      }
      if (l) dir = l.fh;
      at = i;
      l = await this.lookup(dir, name, o);
      attrs = l.attrs ?? (await this.getattr(l.fh, o));
    }
    if (!l) return { fh: start, attrs: await this.getattr(start, o) };
    return { fh: l.fh, attrs: attrs! };
  }

  async getattr(fh: FileHandleId, o?: CallOpts): Promise<Attrs> {
    const k = key(fh);
    if (!o?.fresh) {
      const hit = this.attrs.get(k);
      if (hit) {
        this.stats.attrHits++;
        return hit;
      }
      const pending = this.inflightAttrs.get(k);
      if (pending) return pending;
    }
    this.stats.attrMisses++;
    const gen = this.gen;
    const p = this.inner.getattr(fh, o).then(
      (a) => {
        this.putAttrs(fh, a, gen);
        return a;
      },
      (err) => {
        if (isStale(err)) this.dropAttrs(fh);
        throw err;
      },
    );
    if (!o?.fresh) {
      this.inflightAttrs.set(k, p);
      const done = () => this.inflightAttrs.delete(k);
      p.then(done, done);
    }
    return p;
  }

  async lookup(dir: FileHandleId, name: string, o?: CallOpts): Promise<Looked> {
    const k = nameKey(dir, name);
    if (o?.revalidate && !o.fresh) await this.revalidateDir(dir, o);
    if (!o?.fresh) {
      const e = this.names.get(k);
      if (e && e.dirGen !== this.dirGen(dir)) this.names.delete(k);
      else if (e) {
        if (!e.fh) {
          this.stats.nameHits++;
          throw negative(name);
        }
        const a = this.attrs.get(key(e.fh));
        if (a) {
          this.stats.nameHits++;
          return { fh: e.fh, attrs: a };
        }
        // The name is known but its attributes expired: one GETATTR, not a LOOKUP.
        return { fh: e.fh, attrs: await this.getattr(e.fh, o) };
      }
      const pending = this.inflightNames.get(k);
      if (pending) return pending;
    }
    this.stats.nameMisses++;
    const gen = this.gen;
    const p = this.inner.lookup(dir, name, o).then(
      (l) => {
        this.putName(dir, name, l.fh, gen);
        this.putAttrs(l.fh, l.attrs, gen);
        return l;
      },
      (err) => {
        if ((err as { errnoCode?: string }).errnoCode === 'ENOENT') this.putName(dir, name, undefined, gen);
        throw err;
      },
    );
    if (!o?.fresh) {
      this.inflightNames.set(k, p);
      const done = () => this.inflightNames.delete(k);
      p.then(done, done);
    }
    return p;
  }

  private async dropping(st: OpenState, fn: () => Promise<void>): Promise<void> {
    const fh = (st as { fh?: FileHandleId }).fh;
    this.dropAttrs(fh);
    try {
      await fn();
    } finally {
      this.dropAttrs(fh);
    }
  }

  async setattr(fh: FileHandleId, attrs: SetAttrs, o?: CallOpts, state?: OpenState): Promise<Attrs | undefined> {
    this.dropAttrs(fh);
    const a = await this.inner.setattr(fh, attrs, o, state);
    this.putAttrs(fh, a);
    return a;
  }

  access(fh: FileHandleId, mask: number, o?: CallOpts): Promise<number> {
    return this.inner.access(fh, mask, o);
  }

  readlink(fh: FileHandleId, o?: CallOpts): Promise<string> {
    return this.inner.readlink(fh, o);
  }

  read(fh: FileHandleId, offset: number, length: number, o?: CallOpts, state?: OpenState, dest?: ReadDest) {
    const gen = this.gen;
    // Not async: one promise fewer on the hottest path.
    return this.inner.read(fh, offset, length, o ? { ...o, attrs: true } : WANT_ATTRS, state, dest).then((r) => {
      this.putAttrs(fh, r.attrs, gen);
      return r;
    });
  }

  async write(fh: FileHandleId, offset: number, data: Buffer, stable: StableHow, o?: CallOpts, state?: OpenState): Promise<WriteResult> {
    this.dropAttrs(fh);
    try {
      return await this.inner.write(fh, offset, data, stable, o, state);
    } finally {
      // Parallel WRITEs of one request each drop again: none may leave pre-write attrs behind.
      this.dropAttrs(fh);
    }
  }

  commit(fh: FileHandleId, o?: CallOpts): Promise<Buffer> {
    return this.inner.commit(fh, o);
  }

  private async created(dir: FileHandleId, name: string, p: Promise<Looked>): Promise<Looked> {
    this.dropName(dir, name);
    this.dropAttrs(dir);
    const l = await p;
    this.dropAttrs(dir);
    this.putName(dir, name, l.fh);
    this.putAttrs(l.fh, l.attrs);
    return l;
  }

  create(dir: FileHandleId, name: string, how: CreateMode, o?: CallOpts): Promise<Looked> {
    return this.created(dir, name, this.inner.create(dir, name, how, o));
  }

  mkdir(dir: FileHandleId, name: string, attrs: SetAttrs, o?: CallOpts): Promise<Looked> {
    return this.created(dir, name, this.inner.mkdir(dir, name, attrs, o));
  }

  symlink(dir: FileHandleId, name: string, target: string, attrs: SetAttrs, o?: CallOpts): Promise<Looked> {
    return this.created(dir, name, this.inner.symlink(dir, name, target, attrs, o));
  }

  private async removed(dir: FileHandleId, name: string, p: () => Promise<void>): Promise<void> {
    const fh = this.dropName(dir, name);
    this.dropAttrs(dir, fh);
    try {
      await p();
    } finally {
      this.dropName(dir, name);
      this.dropAttrs(dir, fh);
    }
  }

  remove(dir: FileHandleId, name: string, o?: CallOpts): Promise<void> {
    return this.removed(dir, name, () => this.inner.remove(dir, name, o));
  }

  rmdir(dir: FileHandleId, name: string, o?: CallOpts): Promise<void> {
    return this.removed(dir, name, () => this.inner.rmdir(dir, name, o));
  }

  async rename(fromDir: FileHandleId, fromName: string, toDir: FileHandleId, toName: string, o?: CallOpts): Promise<void> {
    const moved = this.dropName(fromDir, fromName);
    const replaced = this.dropName(toDir, toName);
    this.dropAttrs(fromDir, toDir, moved, replaced);
    try {
      await this.inner.rename(fromDir, fromName, toDir, toName, o);
    } finally {
      this.dropName(fromDir, fromName);
      this.dropName(toDir, toName);
      this.dropAttrs(fromDir, toDir, moved, replaced);
    }
  }

  async link(fh: FileHandleId, dir: FileHandleId, name: string, o?: CallOpts): Promise<void> {
    this.dropName(dir, name);
    this.dropAttrs(fh, dir);
    try {
      await this.inner.link(fh, dir, name, o);
    } finally {
      this.dropName(dir, name);
      this.dropAttrs(fh, dir);
    }
  }

  /** Listings are not cached, but READDIRPLUS results fill both caches: a stat of each entry costs nothing. */
  async *readdir(dir: FileHandleId, withAttrs: boolean, o?: CallOpts): AsyncGenerator<DirEntry[]> {
    for await (const batch of this.inner.readdir(dir, withAttrs, o)) {
      const gen = this.gen;
      for (const e of batch) {
        if (e.fh) {
          // The listing shows a name leading to another file than we cached (replaced by another client): paths through it are stale.
          const had = this.names.get(nameKey(dir, e.name))?.fh;
          if (had && !had.equals(e.fh)) this.pathsEpoch++;
          this.putName(dir, e.name, e.fh, gen);
          this.putAttrs(e.fh, e.attrs, gen);
        }
      }
      yield batch;
    }
  }

  statfs(fh: FileHandleId, o?: CallOpts): Promise<StatFsResult> {
    return this.inner.statfs(fh, o);
  }

  close(): Promise<void> {
    this.invalidateAll();
    return this.inner.close();
  }
}

function isStale(err: unknown): boolean {
  return (err as { errnoCode?: string }).errnoCode === 'ESTALE';
}

/** The error a cached negative entry answers with, shaped as the backend's own. */
function negative(name: string): NfsStatusError {
  return new NfsStatusError('NOENT (cached negative lookup)', 'ENOENT', `LOOKUP '${name}'`);
}

/** CallOpts for a READ whose reply's attributes the cache keeps. */
const WANT_ATTRS: CallOpts = Object.freeze({ attrs: true });
