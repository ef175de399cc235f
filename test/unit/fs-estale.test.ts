// ESTALE on a cached handle: the fs layer drops the caches, resolves the path
// again and retries once; only a second ESTALE reaches the caller.
import t from 'tap';
import { CachingBackend } from '../../src/cache/caching-backend.js';
import { DEFAULT_POLICY } from '../../src/cache/policy.js';
import { NfsStatusError } from '../../src/errors.js';
import type { Attrs, Backend, Looked } from '../../src/fs/backend.js';
import { NfsClient } from '../../src/fs/client.js';

const t0 = { sec: Math.floor(Date.now() / 1000), nsec: 0 };
const attrs = (kind: Attrs['kind'], size: number): Attrs => ({ kind, mode: 0o644, nlink: 1, uid: 0, gid: 0, size, used: size, rdev: 0, fsid: 1n, fileid: 2n, atime: t0, mtime: t0, ctime: t0 });

/** One file 'f' in the root whose handle changes (generation++) when `replace()` is called. */
function server(opts: { alwaysStale?: boolean } = {}) {
  let gen = 1;
  const calls: string[] = [];
  const b = {
    version: 'fake',
    rootFh: Buffer.from('root'),
    limits: { rsize: 65536, wsize: 65536, dtpref: 4096, maxFileSize: 2 ** 40 },
    replace: () => gen++,
    async lookup(_d: Buffer, name: string): Promise<Looked> {
      calls.push('lookup');
      if (name !== 'f') throw new NfsStatusError('NFS3ERR_NOENT', 'ENOENT', 'LOOKUP');
      return { fh: Buffer.from(`f${gen}`), attrs: attrs('file', 5) };
    },
    async getattr(fh: Buffer) {
      calls.push('getattr');
      if (fh.toString() === 'root') return attrs('directory', 0);
      if (opts.alwaysStale || fh.toString() !== `f${gen}`) throw new NfsStatusError('NFS3ERR_STALE', 'ESTALE', 'GETATTR');
      return attrs('file', 5);
    },
    async read(fh: Buffer) {
      calls.push('read');
      if (opts.alwaysStale || fh.toString() !== `f${gen}`) throw new NfsStatusError('NFS3ERR_STALE', 'ESTALE', 'READ');
      return { data: Buffer.from(`gen${gen}`), eof: true };
    },
  };
  return { b, calls };
}

t.test('readFile through a stale cached handle resolves the path again', async (t) => {
  const { b, calls } = server();
  const nfs = new NfsClient(new CachingBackend(b as unknown as Backend, DEFAULT_POLICY), { umask: 0o022, readonly: false });
  t.equal(await nfs.readFile('/f', 'utf8'), 'gen1');
  b.replace();
  calls.length = 0;
  t.equal(await nfs.readFile('/f', 'utf8'), 'gen2', 'the new file is read');
  t.same(calls.filter((c) => c !== 'getattr'), ['read', 'lookup', 'read'], 'one failed READ, one LOOKUP, one READ');
  t.equal(calls[0], 'getattr', "the open checks the name's directory first (close-to-open)");
});

t.test('a second ESTALE is reported, node-shaped', async (t) => {
  const { b } = server({ alwaysStale: true });
  const nfs = new NfsClient(new CachingBackend(b as unknown as Backend, DEFAULT_POLICY), { umask: 0o022, readonly: false });
  await t.rejects(nfs.readFile('/f'), { code: 'ESTALE', nfsStatus: 'NFS3ERR_STALE' });
});

t.test('without caches there is nothing to retry with: ESTALE at once', async (t) => {
  const { b, calls } = server({ alwaysStale: true });
  const nfs = new NfsClient(b as unknown as Backend, { umask: 0o022, readonly: false });
  await t.rejects(nfs.stat('/f').then(() => nfs.readFile('/f')), { code: 'ESTALE' });
  t.equal(calls.filter((c) => c === 'read').length, 1);
});
