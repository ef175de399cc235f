// READ's post-op attributes against the real NFS-Ganesha: decoded only for a caller
// that keeps them (the attribute cache), and then they refresh what it serves.
import t from 'tap';
import { appendFile, writeFile } from 'node:fs/promises';
import { instrument, scratch } from './_env.js';

t.test('NFSv3 READ: attributes only when asked for, and right when they are', async (t) => {
  const s = await scratch(t, 'read-attrs', { noac: true });
  await writeFile(s.localAt('f'), 'hello world');
  const b = s.nfs.backend;
  const { fh } = await b.lookup((await b.lookup(b.rootFh, s.dir.slice(1))).fh, 'f');
  const plain = await b.read(fh, 0, 100);
  t.equal(plain.data.toString(), 'hello world');
  t.equal(plain.attrs, undefined, 'not decoded for a caller that did not ask');
  const asked = await b.read(fh, 0, 100, { attrs: true });
  t.equal(asked.data.toString(), 'hello world');
  t.equal(asked.attrs?.kind, 'file');
  t.equal(asked.attrs?.size, 11);
  const dest = Buffer.alloc(20);
  const into = await b.read(fh, 6, 5, { attrs: true }, undefined, { buf: dest, offset: 3 });
  t.equal(dest.subarray(3, 8).toString(), 'world', 'received into the caller\'s buffer');
  t.equal(into.attrs?.size, 11);
});

t.test('a READ\'s attributes refresh the attribute cache (no GETATTR needed to see the new size)', async (t) => {
  const s = await scratch(t, 'read-attrs-cache');
  await writeFile(s.localAt('g'), 'x'.repeat(10));
  const fh = await s.nfs.open(s.at('g'), 'r');
  t.teardown(() => fh.close());
  t.equal((await s.nfs.stat(s.at('g'))).size, 10);
  // Grown behind the client's back: the cache still says 10 until something refreshes it.
  await appendFile(s.localAt('g'), 'y'.repeat(10));
  const calls = instrument(s.nfs);
  const r = await fh.read(Buffer.alloc(64), 0, 64, 0);
  t.equal(r.bytesRead, 20);
  const st = await s.nfs.stat(s.at('g'));
  t.equal(st.size, 20, 'the size the READ reply carried');
  t.notOk(calls.log.includes('getattr'), `served without a GETATTR (calls: ${calls.log.join(', ')})`);
});
