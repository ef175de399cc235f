// The sidecar's HTTP file API against the real server: PUT/GET/HEAD/DELETE,
// ranges, validators and conditionals, atomic uploads, listings.
import t from 'tap';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { eventually, request, startSidecar } from './_sidecar.js';

const text = (n: number) => Buffer.from(Array.from({ length: n }, (_, k) => String.fromCharCode(97 + (k % 26))).join(''));

t.test('PUT creates, GET and HEAD read back, PUT replaces, DELETE removes', async (t) => {
  const r = await startSidecar(t);
  const body = text(100_000);
  const put = await request(r.port, 'PUT', '/hello.txt', { body });
  t.equal(put.status, 201, 'created');
  t.match(put.headers.etag, /^"[0-9a-f-]+"$/);
  t.same(await readFile(join(r.volLocal, 'hello.txt')), body, 'the bytes are on the server disk');
  const get = await request(r.port, 'GET', '/hello.txt');
  t.equal(get.status, 200);
  t.same(get.body, body);
  t.equal(get.headers['content-length'], String(body.length));
  t.equal(get.headers['content-type'], 'text/plain; charset=utf-8');
  t.equal(get.headers.etag, put.headers.etag, 'GET shows the ETag PUT returned');
  t.equal(get.headers['accept-ranges'], 'bytes');
  const st = await stat(join(r.volLocal, 'hello.txt'));
  t.equal(get.headers['last-modified'], new Date(Math.floor(st.mtimeMs / 1000) * 1000).toUTCString());
  const head = await request(r.port, 'HEAD', '/hello.txt');
  t.equal(head.status, 200);
  t.equal(head.body.length, 0);
  t.equal(head.headers['content-length'], String(body.length));
  t.equal(head.headers.etag, get.headers.etag);

  await r.nfs.chmod('/hello.txt', 0o640);
  const put2 = await request(r.port, 'PUT', '/hello.txt', { body: 'short' });
  t.equal(put2.status, 204, 'replaced');
  t.not(put2.headers.etag, put.headers.etag, 'new content, new ETag');
  t.equal((await request(r.port, 'GET', '/hello.txt')).text, 'short');
  t.equal((await stat(join(r.volLocal, 'hello.txt'))).mode & 0o777, 0o640, 'the mode of the replaced file is kept');

  t.equal((await request(r.port, 'DELETE', '/hello.txt')).status, 204);
  t.equal((await request(r.port, 'GET', '/hello.txt')).status, 404);
  t.equal((await request(r.port, 'DELETE', '/hello.txt')).status, 404);
});

t.test('PUT: chunked bodies, empty bodies, missing parents, collections', async (t) => {
  const r = await startSidecar(t);
  const chunks = Array.from({ length: 40 }, (_, k) => Buffer.alloc(50_000, k));
  const put = await request(r.port, 'PUT', '/chunked.bin', { body: chunks });
  t.equal(put.status, 201);
  t.same(await readFile(join(r.volLocal, 'chunked.bin')), Buffer.concat(chunks), 'chunked upload, 2 MB in 40 chunks');
  t.equal((await request(r.port, 'PUT', '/empty', { body: '' })).status, 201);
  t.equal((await stat(join(r.volLocal, 'empty'))).size, 0);
  t.equal((await request(r.port, 'PUT', '/no/such/dir/f', { body: 'x' })).status, 409, 'missing parent: 409');
  t.equal((await request(r.port, 'MKCOL', '/d')).status, 201);
  t.equal((await request(r.port, 'PUT', '/d', { body: 'x' })).status, 405, 'a collection is not replaced by PUT');
  t.equal((await request(r.port, 'PUT', '/d/', { body: 'x' })).status, 405);
  t.equal((await request(r.port, 'PUT', '/f.txt', { body: 'x', headers: { 'Content-Range': 'bytes 0-0/1' } })).status, 400, 'partial PUT refused');
  t.same(await readdir(r.volLocal).then((n) => n.sort()), ['chunked.bin', 'd', 'empty'], 'no temporary files left behind');
});

t.test('a failed upload leaves no partial file under the final name', async (t) => {
  const r = await startSidecar(t, { 'max-body': '1M' });
  await writeFile(join(r.volLocal, 'keep.txt'), 'old content');
  const tooBig = await request(r.port, 'PUT', '/keep.txt', { body: Buffer.alloc(2 * 1024 * 1024, 1) });
  t.equal(tooBig.status, 413, 'declared length over --max-body');
  const chunked = await request(r.port, 'PUT', '/keep.txt', { body: Array.from({ length: 24 }, () => Buffer.alloc(64 * 1024, 2)) });
  t.equal(chunked.status, 413, 'chunked body passing --max-body');
  t.equal(await readFile(join(r.volLocal, 'keep.txt'), 'utf8'), 'old content', 'the old content is intact');
  const fresh = await request(r.port, 'PUT', '/new.bin', { body: Array.from({ length: 24 }, () => Buffer.alloc(64 * 1024, 2)) });
  t.equal(fresh.status, 413);

  // A client that goes away mid-upload.
  await new Promise<void>((resolve, reject) => {
    const sock = netConnect(r.port, '127.0.0.1', () => {
      sock.write(`PUT /aborted.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 500000\r\n\r\n`);
      sock.write(Buffer.alloc(200_000, 3), () => {
        setTimeout(() => {
          sock.destroy();
          resolve();
        }, 100);
      });
    });
    sock.on('error', reject);
  });
  await eventually(async () => (await readdir(r.volLocal)).every((n) => !n.startsWith('.mountless-upload-')), 'the temporary file is removed');
  t.same((await readdir(r.volLocal)).sort(), ['keep.txt'], 'neither the aborted nor the oversized uploads left anything');
  await eventually(async () => r.logs.some((l) => l.msg === 'request' && l.path === '/aborted.bin'), 'the aborted request is logged');
  t.match(r.logs.find((l) => l.path === '/aborted.bin'), { method: 'PUT', aborted: true });
  t.same(r.logs.filter((l) => l.level === 'error'), [], 'a client going away is not logged as a server error');
});

t.test('ranges: single, suffix, open, multipart, unsatisfiable, If-Range', async (t) => {
  const r = await startSidecar(t);
  const data = text(1000);
  await writeFile(join(r.volLocal, 'r.txt'), data);
  const one = await request(r.port, 'GET', '/r.txt', { headers: { Range: 'bytes=10-19' } });
  t.equal(one.status, 206);
  t.equal(one.headers['content-range'], 'bytes 10-19/1000');
  t.same(one.body, data.subarray(10, 20));
  const suffix = await request(r.port, 'GET', '/r.txt', { headers: { Range: 'bytes=-7' } });
  t.same(suffix.body, data.subarray(993));
  t.equal(suffix.headers['content-range'], 'bytes 993-999/1000');
  const open = await request(r.port, 'GET', '/r.txt', { headers: { Range: 'bytes=995-' } });
  t.same(open.body, data.subarray(995));
  const multi = await request(r.port, 'GET', '/r.txt', { headers: { Range: 'bytes=0-4,100-104,-3' } });
  t.equal(multi.status, 206);
  const boundary = /multipart\/byteranges; boundary=(\S+)/.exec(multi.headers['content-type'] ?? '')?.[1];
  t.ok(boundary, 'multipart/byteranges with a boundary');
  t.equal(Number(multi.headers['content-length']), multi.body.length, 'Content-Length matches the body');
  const parts = multi.text.split(`--${boundary}`).slice(1, -1);
  t.equal(parts.length, 3);
  t.match(parts[0], /Content-Range: bytes 0-4\/1000\r\n\r\nabcde\r\n$/);
  t.match(parts[1], /Content-Range: bytes 100-104\/1000\r\n\r\nwxyza\r\n$/);
  t.match(parts[2], new RegExp(`Content-Range: bytes 997-999/1000\\r\\n\\r\\n${data.subarray(997).toString()}\\r\\n$`));
  t.match(multi.text, new RegExp(`--${boundary}--\\r\\n$`));
  const bad = await request(r.port, 'GET', '/r.txt', { headers: { Range: 'bytes=1000-' } });
  t.equal(bad.status, 416);
  t.equal(bad.headers['content-range'], 'bytes */1000');
  const ignored = await request(r.port, 'GET', '/r.txt', { headers: { Range: 'bytes=9-1' } });
  t.equal(ignored.status, 200, 'an invalid range is ignored');
  t.equal(ignored.body.length, 1000);
  const etag = one.headers.etag!;
  t.equal((await request(r.port, 'GET', '/r.txt', { headers: { Range: 'bytes=0-1', 'If-Range': etag } })).status, 206);
  const stale = await request(r.port, 'GET', '/r.txt', { headers: { Range: 'bytes=0-1', 'If-Range': '"stale"' } });
  t.equal(stale.status, 200, 'If-Range mismatch: the whole file');
  t.equal(stale.body.length, 1000);
  const headRange = await request(r.port, 'HEAD', '/r.txt', { headers: { Range: 'bytes=0-9' } });
  t.equal(headRange.status, 206);
  t.equal(headRange.body.length, 0);
});

t.test('conditional requests: 304 and 412', async (t) => {
  const r = await startSidecar(t);
  const put = await request(r.port, 'PUT', '/c.txt', { body: 'v1' });
  const etag = put.headers.etag!;
  const lm = (await request(r.port, 'HEAD', '/c.txt')).headers['last-modified']!;
  const nm = await request(r.port, 'GET', '/c.txt', { headers: { 'If-None-Match': etag } });
  t.equal(nm.status, 304);
  t.equal(nm.body.length, 0);
  t.equal(nm.headers.etag, etag, '304 carries the validators');
  t.equal((await request(r.port, 'GET', '/c.txt', { headers: { 'If-None-Match': '"other"' } })).status, 200);
  t.equal((await request(r.port, 'GET', '/c.txt', { headers: { 'If-Modified-Since': lm } })).status, 304);
  t.equal((await request(r.port, 'GET', '/c.txt', { headers: { 'If-Modified-Since': 'Thu, 01 Jan 1970 00:00:00 GMT' } })).status, 200);
  t.equal((await request(r.port, 'GET', '/c.txt', { headers: { 'If-Match': '"other"' } })).status, 412);
  t.equal((await request(r.port, 'PUT', '/c.txt', { body: 'v2', headers: { 'If-Match': '"other"' } })).status, 412, 'lost update prevented');
  t.equal((await request(r.port, 'PUT', '/c.txt', { body: 'v2', headers: { 'If-None-Match': '*' } })).status, 412, 'create-only over an existing file');
  t.equal((await request(r.port, 'GET', '/c.txt')).text, 'v1', 'unchanged by the refused PUTs');
  t.equal((await request(r.port, 'PUT', '/c.txt', { body: 'v2', headers: { 'If-Match': etag } })).status, 204);
  t.equal((await request(r.port, 'GET', '/c.txt')).text, 'v2');
  t.equal((await request(r.port, 'PUT', '/new.txt', { body: 'n', headers: { 'If-None-Match': '*' } })).status, 201, 'create-only of a new file');
  t.equal((await request(r.port, 'DELETE', '/c.txt', { headers: { 'If-Match': etag } })).status, 412, 'DELETE with a stale ETag');
});

t.test('directory listings: JSON and HTML, reserved names hidden', async (t) => {
  const r = await startSidecar(t);
  await request(r.port, 'MKCOL', '/sub');
  await request(r.port, 'PUT', '/a%20b.txt', { body: '12345' });
  await request(r.port, 'PUT', '/sub/x', { body: 'x' });
  // Dead properties create the hidden store in the directory.
  const pp = await request(r.port, 'PROPPATCH', '/a%20b.txt', {
    body: '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><z:k xmlns:z="urn:z">v</z:k></D:prop></D:set></D:propertyupdate>',
  });
  t.equal(pp.status, 207);
  t.ok((await readdir(r.volLocal)).includes('.mountless-props'), 'the props store exists on disk');
  const json = await request(r.port, 'GET', '/', { headers: { Accept: 'application/json' } });
  t.equal(json.status, 200);
  t.match(json.headers['content-type'], /^application\/json/);
  const doc = JSON.parse(json.text) as { path: string; entries: Array<{ name: string; type: string; size: number; mtime: string }> };
  t.equal(doc.path, '/');
  t.same(
    doc.entries.map((e) => [e.name, e.type]),
    [
      ['a b.txt', 'file'],
      ['sub', 'directory'],
    ],
    'sorted, reserved names hidden',
  );
  t.equal(doc.entries[0]!.size, 5);
  t.ok(!Number.isNaN(Date.parse(doc.entries[0]!.mtime)));
  const html = await request(r.port, 'GET', '/');
  t.match(html.headers['content-type'], /^text\/html/);
  t.match(html.text, '<a href="/a%20b.txt">a b.txt</a>');
  t.match(html.text, '<a href="/sub/">sub/</a>');
  t.notMatch(html.text, 'mountless-props');
  const sub = JSON.parse((await request(r.port, 'GET', '/sub/?format=json')).text) as { path: string; entries: Array<{ name: string }> };
  t.equal(sub.path, '/sub/');
  t.same(sub.entries.map((e) => e.name), ['x']);
  t.equal((await request(r.port, 'GET', '/a%20b.txt/')).status, 404, 'a file with a trailing slash');
  t.equal((await request(r.port, 'GET', '/missing/')).status, 404);
});

t.test('OPTIONS advertises WebDAV class 1 and 2', async (t) => {
  const r = await startSidecar(t);
  const o = await request(r.port, 'OPTIONS', '/');
  t.equal(o.status, 200);
  t.equal(o.headers.dav, '1, 2');
  t.match(o.headers.allow, /PROPFIND/);
  t.match(o.headers.allow, /LOCK/);
  t.equal((await request(r.port, 'OPTIONS', '*')).status, 200);
  t.equal((await request(r.port, 'POST', '/')).status, 405, 'methods we do not serve: 405');
  t.equal((await request(r.port, 'PATCH', '/x')).status, 405);
});
