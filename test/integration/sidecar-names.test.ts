// Names another NFS client made, that are valid but unusual over HTTP — a
// backslash, a literal percent sequence — are served by every method, with
// URLs encoded as rclone and browsers send them (encodeURIComponent per
// segment); what would leave the volume is still refused.
import t from 'tap';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request, startSidecar } from './_sidecar.js';

const NAMES = ['back\\slash.txt', 'C:\\dir\\file.txt', '%2e%2e.txt', 'v1%2E2.txt', '%2e%2e', '..%2f', 'a%00b'];

const href = (...parts: string[]) => '/' + parts.map(encodeURIComponent).join('/');

t.test('GET, PUT, PROPFIND, COPY, MOVE and DELETE of names with backslashes and percent sequences', async (t) => {
  const r = await startSidecar(t);
  for (const n of NAMES) await writeFile(join(r.volLocal, n), `content of ${n}`);
  const listing = await request(r.port, 'PROPFIND', '/', { headers: { Depth: '1' } });
  t.equal(listing.status, 207);
  for (const n of NAMES) {
    t.match(listing.text, `<D:href>${href(n).replace(/&/g, '&amp;')}</D:href>`, `PROPFIND lists ${n} as ${href(n)}`);
  }
  for (const n of NAMES) {
    const u = href(n);
    const got = await request(r.port, 'GET', u);
    t.equal(got.status, 200, `GET ${u}`);
    t.equal(got.text, `content of ${n}`, `GET ${u} reads ${JSON.stringify(n)}`);
    t.equal((await request(r.port, 'HEAD', u)).status, 200, `HEAD ${u}`);
    const one = await request(r.port, 'PROPFIND', u, { headers: { Depth: '0' } });
    t.equal(one.status, 207, `PROPFIND ${u}`);
    t.equal((await request(r.port, 'PUT', u, { body: `new ${n}` })).status, 204, `PUT ${u} overwrites`);
    t.equal(await readFile(join(r.volLocal, n), 'utf8'), `new ${n}`, `the file ${JSON.stringify(n)} itself was written`);
    const copy = await request(r.port, 'COPY', u, { headers: { Destination: `http://127.0.0.1:${r.port}${href(`copy of ${n}`)}` } });
    t.equal(copy.status, 201, `COPY ${u}`);
    t.equal(await readFile(join(r.volLocal, `copy of ${n}`), 'utf8'), `new ${n}`);
    const move = await request(r.port, 'MOVE', href(`copy of ${n}`), { headers: { Destination: href(`moved ${n}`) } });
    t.equal(move.status, 201, `MOVE to ${href(`moved ${n}`)}`);
    t.equal(await readFile(join(r.volLocal, `moved ${n}`), 'utf8'), `new ${n}`);
    t.equal((await request(r.port, 'DELETE', u)).status, 204, `DELETE ${u}`);
    t.equal((await request(r.port, 'DELETE', href(`moved ${n}`))).status, 204);
  }
  t.same(await readdir(r.volLocal), [], 'everything was deleted, nothing else touched');
});

t.test('a directory with such a name: listed, entered, copied and removed', async (t) => {
  const r = await startSidecar(t);
  const dir = 'win\\path %2e%2e';
  await mkdir(join(r.volLocal, dir));
  await writeFile(join(r.volLocal, dir, 'inner.txt'), 'inner');
  const ls = await request(r.port, 'PROPFIND', href(dir) + '/', { headers: { Depth: '1' } });
  t.equal(ls.status, 207);
  t.match(ls.text, `<D:href>${href(dir, 'inner.txt')}</D:href>`);
  t.equal((await request(r.port, 'GET', href(dir, 'inner.txt'))).text, 'inner');
  t.equal((await request(r.port, 'COPY', href(dir) + '/', { headers: { Destination: href('copy') + '/' } })).status, 201);
  t.equal(await readFile(join(r.volLocal, 'copy', 'inner.txt'), 'utf8'), 'inner');
  t.equal((await request(r.port, 'DELETE', href(dir) + '/')).status, 204);
  t.same(await readdir(r.volLocal), ['copy']);
});

t.test('what leaves the volume is still refused: ..%2f, %2e%2e/, %2F, %00', async (t) => {
  const r = await startSidecar(t);
  await writeFile(r.s.localAt('outside.txt'), 'outside');
  await writeFile(join(r.volLocal, 'inside.txt'), 'inside');
  for (const path of ['/..%2foutside.txt', '/..%2Foutside.txt', '/%2e%2e/outside.txt', '/%2E%2E/', '/inside.txt%2F', '/%2F', '/inside.txt%00', '/%00', '/..\\outside.txt']) {
    for (const method of ['GET', 'PUT', 'DELETE', 'PROPFIND', 'MOVE', 'COPY']) {
      const headers: Record<string, string> = method === 'MOVE' || method === 'COPY' ? { Destination: '/dest.txt' } : method === 'PROPFIND' ? { Depth: '0' } : {};
      const res = await request(r.port, method, path, { headers, ...(method === 'PUT' ? { body: 'x' } : {}) });
      t.equal(res.status, 400, `${method} ${path} → ${res.status}`);
    }
  }
  for (const dest of ['/..%2foutside.txt', `http://127.0.0.1:${r.port}/%2e%2e/outside.txt`, '/%2e%2e%2Foutside.txt', '/a%00b']) {
    const res = await request(r.port, 'COPY', '/inside.txt', { headers: { Destination: dest, Overwrite: 'T' } });
    t.equal(res.status, 400, `COPY to ${dest}`);
  }
  t.equal(await readFile(r.s.localAt('outside.txt'), 'utf8'), 'outside', 'the file above the root is untouched');
  t.same((await readdir(r.volLocal)).sort(), ['inside.txt'], 'nothing appeared in the volume');
  t.same((await readdir(r.s.local)).sort(), ['outside.txt', 'vol']);
});
