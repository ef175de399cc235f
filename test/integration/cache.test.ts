// The attribute and name caches against the real server: hits cost no RPC,
// our own changes are seen at once, other clients' changes after open()
// (close-to-open) or at once with noac.
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { connect } from '../../src/index.js';
import { EXPORT_DIR, scratch, urlWith } from './_env.js';

type WithRpc = { backend: { inner?: { rpc: { stats: { calls: number } } }; rpc?: { stats: { calls: number } } } };
const rpcCalls = (nfs: unknown) => {
  const b = (nfs as WithRpc).backend;
  return (b.inner ?? b).rpc!.stats.calls;
};

t.test('repeated stat of a path is answered from the caches', async (t) => {
  const s = await scratch(t, 'cache-hit', { actimeo: 60 });
  await s.nfs.writeFile(`${s.dir}/f`, 'x');
  await s.nfs.stat(`${s.dir}/f`);
  const before = rpcCalls(s.nfs);
  const sizes = new Set<number>();
  for (let i = 0; i < 200; i++) sizes.add((await s.nfs.stat(`${s.dir}/f`)).size);
  t.same([...sizes], [1], 'every cached stat has the right size');
  t.equal(rpcCalls(s.nfs) - before, 0, '200 stats, no RPC');
  await s.nfs.appendFile(`${s.dir}/f`, 'yz');
  t.equal((await s.nfs.stat(`${s.dir}/f`)).size, 3, 'our own write is seen at once');
  await s.nfs.unlink(`${s.dir}/f`);
  await t.rejects(s.nfs.stat(`${s.dir}/f`), { code: 'ENOENT' }, 'our own unlink is seen at once');
});

t.test('another client\'s change: seen after open() (close-to-open), at once with noac', async (t) => {
  const s = await scratch(t, 'cache-cto', { actimeo: 60 });
  const p = `${s.dir}/g`;
  await s.nfs.writeFile(p, 'abc');
  t.equal((await s.nfs.stat(p)).size, 3);
  await appendFile(join(EXPORT_DIR, p), 'defg'); // another writer, straight on the server's disk
  t.equal((await s.nfs.stat(p)).size, 3, 'within actimeo the cached size is served, as the kernel client does');
  const fh = await s.nfs.open(p, 'r');
  t.equal((await fh.stat()).size, 7, 'open revalidated the attributes');
  await fh.close();
  t.equal((await s.nfs.stat(p)).size, 7, 'and the cache now holds the fresh ones');
  t.equal(await s.nfs.readFile(p, 'utf8'), 'abcdefg', 'readFile reads to the real end of file even from a stale size');

  const noac = await connect(urlWith(s.dir.slice(1)), { noac: true });
  t.teardown(() => noac.close());
  t.equal((await noac.stat('/g')).size, 7);
  await appendFile(join(EXPORT_DIR, p), 'h');
  t.equal((await noac.stat('/g')).size, 8, 'noac: every stat asks the server');
  const before = rpcCalls(noac);
  await noac.stat('/g');
  t.ok(rpcCalls(noac) > before, 'and costs RPCs');
});

t.test('readdir withFileTypes + stat of every entry: one READDIRPLUS pass, no GETATTR/LOOKUP per entry', async (t) => {
  const s = await scratch(t, 'cache-rdp', { actimeo: 60 });
  const n = 300;
  await Promise.all(Array.from({ length: n }, (_, i) => s.nfs.writeFile(`${s.dir}/e${i}`, String(i))));
  const fresh = await connect(urlWith(s.dir.slice(1)), { actimeo: 60 });
  t.teardown(() => fresh.close());
  const ents = await fresh.readdir('/', { withFileTypes: true });
  t.equal(ents.length, n);
  const before = rpcCalls(fresh);
  let bytes = 0;
  for (const e of ents) bytes += (await fresh.stat(`/${e.name}`)).size;
  t.equal(rpcCalls(fresh) - before, 0, `${n} stats after the listing cost no RPC`);
  t.equal(bytes, Array.from({ length: n }, (_, i) => String(i).length).reduce((a, b) => a + b));
});

t.test('a handle whose file was removed by another client: ESTALE on an open FileHandle', async (t) => {
  // The path-level retry (drop the caches, resolve again, once) is tested in
  // test/unit/fs-estale.test.ts: Ganesha keeps serving the handle of a removed
  // file while its fd cache holds the file open (e.g. after our own writes),
  // so which call sees ESTALE on the real server is not deterministic.
  const s = await scratch(t, 'cache-stale', { actimeo: 60 });
  const { rm, writeFile } = await import('node:fs/promises');
  await writeFile(join(EXPORT_DIR, s.dir, 'r'), 'made by another client');
  const noCache = await connect(urlWith(s.dir.slice(1)), { noac: true });
  t.teardown(() => noCache.close());
  const fh = await noCache.open('/r', 'r');
  await rm(join(EXPORT_DIR, s.dir, 'r'));
  await t.rejects(fh.readFile(), { code: 'ESTALE', syscall: 'read' }, 'an open FileHandle on a removed file reports ESTALE');
  await fh.close();
  await t.rejects(noCache.readFile('/r'), { code: 'ENOENT' });
});
