import t from 'tap';
import { CachingBackend } from '../../src/cache/caching-backend.js';
import { attrTtlMs, DEFAULT_POLICY } from '../../src/cache/policy.js';
import { NfsStatusError } from '../../src/errors.js';
import type { Attrs, Backend, DirEntry, FileHandleId, Looked } from '../../src/fs/backend.js';

const now = () => Math.floor(Date.now() / 1000);
function attrs(kind: Attrs['kind'], size = 0, mtimeSec = now()): Attrs {
  const t0 = { sec: mtimeSec, nsec: 0 };
  return { kind, mode: 0o644, nlink: 1, uid: 0, gid: 0, size, used: size, rdev: 0, fsid: 1n, fileid: 1n, atime: t0, mtime: t0, ctime: t0 };
}

/** A one-directory in-memory backend that counts the calls reaching it. */
function fakeBackend() {
  const root = Buffer.from('root');
  const files = new Map<string, { fh: Buffer; attrs: Attrs }>();
  const calls = { getattr: 0, lookup: 0, write: 0, readdir: 0 };
  let release: (() => void) | undefined;
  const b = {
    version: 'fake',
    rootFh: root,
    limits: { rsize: 4096, wsize: 4096, dtpref: 4096, maxFileSize: 2 ** 40 },
    holdGetattr: false,
    async getattr(fh: FileHandleId) {
      calls.getattr++;
      if (b.holdGetattr) await new Promise<void>((r) => (release = r));
      if (fh.equals(root)) return attrs('directory');
      for (const f of files.values()) if (f.fh.equals(fh)) return { ...f.attrs };
      throw new NfsStatusError('NFS3ERR_STALE', 'ESTALE', 'NFSPROC3_GETATTR');
    },
    async lookup(_dir: FileHandleId, name: string): Promise<Looked> {
      calls.lookup++;
      const f = files.get(name);
      if (!f) throw new NfsStatusError('NFS3ERR_NOENT', 'ENOENT', 'NFSPROC3_LOOKUP');
      return { fh: f.fh, attrs: { ...f.attrs } };
    },
    async create(_dir: FileHandleId, name: string): Promise<Looked> {
      const f = { fh: Buffer.from(`fh-${name}`), attrs: attrs('file') };
      files.set(name, f);
      return { fh: f.fh, attrs: { ...f.attrs } };
    },
    async write(fh: FileHandleId, offset: number, data: Buffer) {
      calls.write++;
      for (const f of files.values()) if (f.fh.equals(fh)) f.attrs.size = Math.max(f.attrs.size, offset + data.length);
      return { count: data.length, committed: 'file' as const, verf: Buffer.alloc(8) };
    },
    async remove(_dir: FileHandleId, name: string) {
      if (!files.delete(name)) throw new NfsStatusError('NFS3ERR_NOENT', 'ENOENT', 'NFSPROC3_REMOVE');
    },
    async *readdir(): AsyncGenerator<DirEntry[]> {
      calls.readdir++;
      yield [...files.entries()].map(([name, f]) => ({ name, fileid: 1n, fh: f.fh, attrs: { ...f.attrs } }));
    },
  };
  return { backend: b as unknown as Backend & typeof b, calls, files, release: () => release?.() };
}

t.test('getattr is served from the cache until an own write drops it', async (t) => {
  const { backend, calls } = fakeBackend();
  const c = new CachingBackend(backend, DEFAULT_POLICY);
  const { fh } = await c.create(backend.rootFh, 'a', { mode: 'guarded', attrs: {} });
  await c.getattr(fh);
  await c.getattr(fh);
  t.equal(calls.getattr, 0, 'attributes from CREATE fill the cache');
  await c.write(fh, 0, Buffer.alloc(100), 'file');
  const a = await c.getattr(fh);
  t.equal(calls.getattr, 1, 'write forced one GETATTR');
  t.equal(a.size, 100, 'and the new size is seen');
  await c.getattr(fh, { fresh: true });
  t.equal(calls.getattr, 2, 'fresh bypasses the cache (close-to-open)');
});

t.test('names: positive and negative entries, invalidated by create and remove', async (t) => {
  const { backend, calls } = fakeBackend();
  const c = new CachingBackend(backend, DEFAULT_POLICY);
  await t.rejects(c.lookup(backend.rootFh, 'x'), { errnoCode: 'ENOENT' } as unknown as Error);
  await t.rejects(c.lookup(backend.rootFh, 'x'), { errnoCode: 'ENOENT' } as unknown as Error);
  t.equal(calls.lookup, 1, 'negative entry answered the second lookup');
  await c.create(backend.rootFh, 'x', { mode: 'guarded', attrs: {} });
  const l = await c.lookup(backend.rootFh, 'x');
  t.equal(calls.lookup, 1, 'create replaced the negative entry with the new handle');
  t.same(l.fh, Buffer.from('fh-x'));
  await c.remove(backend.rootFh, 'x');
  await t.rejects(c.lookup(backend.rootFh, 'x'), { errnoCode: 'ENOENT' } as unknown as Error);
  t.equal(calls.lookup, 2, 'remove dropped the entry: the server was asked again');
});

t.test('concurrent misses share one GETATTR; a racing invalidation is not stored', async (t) => {
  const { backend, calls, release } = fakeBackend();
  const c = new CachingBackend(backend, DEFAULT_POLICY);
  const { fh } = await c.create(backend.rootFh, 'f', { mode: 'guarded', attrs: {} });
  c.invalidateAll();
  backend.holdGetattr = true;
  const all = Promise.all([c.getattr(fh), c.getattr(fh), c.getattr(fh)]);
  await new Promise((r) => setImmediate(r));
  t.equal(calls.getattr, 1, 'three callers, one request');
  await c.write(fh, 0, Buffer.alloc(10), 'file'); // invalidates while the GETATTR is out
  release();
  await all;
  backend.holdGetattr = false;
  await c.getattr(fh);
  t.equal(calls.getattr, 2, 'the reply that raced the write was not cached');
});

t.test('READDIRPLUS results fill the caches: stat of every entry costs no call', async (t) => {
  const { backend, calls } = fakeBackend();
  const raw = new CachingBackend(backend, DEFAULT_POLICY);
  for (let i = 0; i < 50; i++) await backend.create(backend.rootFh, `e${i}`);
  for await (const batch of raw.readdir(backend.rootFh, true)) t.equal(batch.length, 50);
  for (let i = 0; i < 50; i++) {
    const l = await raw.lookup(backend.rootFh, `e${i}`);
    await raw.getattr(l.fh);
  }
  t.equal(calls.lookup + calls.getattr, 0);
  t.equal(raw.stats.nameHits, 50);
});

t.test('ESTALE drops the cached attributes', async (t) => {
  const { backend, files } = fakeBackend();
  const c = new CachingBackend(backend, { ...DEFAULT_POLICY, acregmin: 0, acregmax: 0 });
  const { fh } = await c.create(backend.rootFh, 's', { mode: 'guarded', attrs: {} });
  files.delete('s');
  await t.rejects(c.getattr(fh), { errnoCode: 'ESTALE' } as unknown as Error);
});

t.test('TTL policy follows acregmin/acregmax and the age of the file', async (t) => {
  const p = DEFAULT_POLICY;
  const nowMs = Date.now();
  t.equal(attrTtlMs(p, attrs('file', 0, Math.floor(nowMs / 1000)), nowMs), p.acregmin * 1000, 'just modified: acregmin');
  t.equal(attrTtlMs(p, attrs('file', 0, Math.floor(nowMs / 1000) - 300), nowMs), 30_000, 'a tenth of its age in between');
  t.equal(attrTtlMs(p, attrs('file', 0, 0), nowMs), p.acregmax * 1000, 'old: acregmax');
  t.equal(attrTtlMs(p, attrs('directory', 0, Math.floor(nowMs / 1000)), nowMs), p.acdirmin * 1000, 'directories: acdirmin');
});

t.test('whole-path lookups (resolvePath) are cached until any name changes', async (t) => {
  const { backend, files } = fakeBackend();
  let resolves = 0;
  const withPaths = Object.assign(Object.create(backend) as typeof backend, {
    async resolvePath(parts: string[]): Promise<Looked> {
      resolves++;
      const f = files.get(parts.join('/'));
      if (!f) throw new NfsStatusError('NFS4ERR_NOENT', 'ENOENT', 'OP_LOOKUP');
      return { fh: f.fh, attrs: { ...f.attrs } };
    },
  });
  const c = new CachingBackend(withPaths as unknown as Backend, DEFAULT_POLICY);
  await c.create(backend.rootFh, 'a', { mode: 'unchecked', attrs: {} });
  await c.create(backend.rootFh, 'b', { mode: 'unchecked', attrs: {} });
  t.same((await c.resolvePath!(['a'], backend.rootFh)).fh, Buffer.from('fh-a'));
  await c.resolvePath!(['a'], backend.rootFh);
  t.equal(resolves, 1, 'the second resolve is a hit');
  await c.remove(backend.rootFh, 'b'); // a change to another name
  await c.resolvePath!(['a'], backend.rootFh);
  t.equal(resolves, 2, 'every cached path is stale after any name change');
  await c.resolvePath!(['a'], backend.rootFh);
  t.equal(resolves, 2, 'and cached again');
  c.invalidateAll();
  await c.resolvePath!(['a'], backend.rootFh);
  t.equal(resolves, 3, 'invalidateAll drops it');
});

t.test('NFSv3 whole-path lookups: a chain of cached LOOKUPs, then one cache hit; a symlink in the middle is reported with its target', async (t) => {
  const { backend, calls, files } = fakeBackend();
  const c = new CachingBackend(backend, DEFAULT_POLICY);
  t.type(c.resolvePath, 'function', 'the caching layer offers whole-path lookups over any backend');
  await c.create(backend.rootFh, 'f', { mode: 'unchecked', attrs: {} });
  const first = await c.resolvePath(['f'], backend.rootFh);
  t.same(first.fh, Buffer.from('fh-f'));
  const lookups = calls.lookup;
  await c.resolvePath(['f'], backend.rootFh);
  t.equal(calls.lookup, lookups, 'cached: no LOOKUP');
  t.match(await c.resolvePath(['f', 'x'], backend.rootFh).catch((e: unknown) => e), { errnoCode: 'ENOTDIR' }, 'a file in the middle is ENOTDIR');
  // A symlink in the middle.
  files.set('l', { fh: Buffer.from('fh-l'), attrs: attrs('symlink') });
  (backend as unknown as { readlink: (fh: Buffer) => Promise<string> }).readlink = async () => 'f';
  const err = await c.resolvePath(['l', 'x'], backend.rootFh).catch((e: unknown) => e);
  t.match(err, { errnoCode: 'ENOTDIR', symlink: { index: 0, target: 'f', dirFh: backend.rootFh } });
});

t.test('cachedPath: synchronous, only what the caches hold now', async (t) => {
  const { backend, calls } = fakeBackend();
  const c = new CachingBackend(backend, DEFAULT_POLICY);
  await c.create(backend.rootFh, 'f', { mode: 'unchecked', attrs: {} });
  const parts = Object.freeze(['f']);
  t.equal(c.cachedPath(parts, backend.rootFh), undefined, 'nothing before the first resolution');
  await c.resolvePath(parts, backend.rootFh);
  const before = { ...calls };
  const hit = c.cachedPath(parts, backend.rootFh);
  t.same(hit?.fh, Buffer.from('fh-f'));
  t.equal(hit?.attrs?.kind, 'file');
  t.same(calls, before, 'no call reached the backend');
  await c.create(backend.rootFh, 'g', { mode: 'unchecked', attrs: {} });
  t.equal(c.cachedPath(parts, backend.rootFh), undefined, 'a name change makes it a miss');
  await c.resolvePath(parts, backend.rootFh);
  t.ok(c.cachedPath(parts, backend.rootFh));
  await c.write(Buffer.from('fh-f'), 0, Buffer.from('x'), 'file');
  t.equal(c.cachedPath(parts, backend.rootFh), undefined, 'own write drops the attributes: a miss');
});
