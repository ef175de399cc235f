// The sidecar's security: the volume root is a jail (tested against every
// spelling of "above it", with a secret file just above the root), token auth,
// --read-only, and the limits on concurrency, headers and idle connections.
import t, { type Test } from 'tap';
import { readdir, symlink, writeFile } from 'node:fs/promises';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { metrics, request, startSidecar, type Running } from './_sidecar.js';

const SECRET = 'top secret: above the volume root';

async function withSecret(t: Test, flags: Record<string, string | true> = {}): Promise<Running> {
  const r = await startSidecar(t, flags);
  await writeFile(r.s.localAt('secret.txt'), SECRET);
  await writeFile(join(r.volLocal, 'inside.txt'), 'inside');
  return r;
}

t.test('no request path reaches above the volume root', async (t) => {
  const r = await withSecret(t);
  const attempts = [
    '/../secret.txt',
    '/./../secret.txt',
    '/inside.txt/../../secret.txt',
    '/%2e%2e/secret.txt',
    '/%2E%2E/secret.txt',
    '/.%2e/secret.txt',
    '/%2e./secret.txt',
    '/%2e%2e%2fsecret.txt',
    '/..%2fsecret.txt',
    '/..%2Fsecret.txt',
    '/%252e%252e/secret.txt',
    '/%252e%252e%252fsecret.txt',
    '/..%252fsecret.txt',
    '/..\\secret.txt',
    '/..%5csecret.txt',
    '/..%5Csecret.txt',
    '/%255c..%255csecret.txt',
    '/%c0%ae%c0%ae/secret.txt',
    '/secret.txt%00.txt',
    '/inside.txt%00',
    '/.mountless-props/',
    '/..;/secret.txt',
  ];
  for (const path of attempts) {
    for (const method of ['GET', 'PROPFIND', 'DELETE']) {
      const res = await request(r.port, method, path, method === 'PROPFIND' ? { headers: { Depth: '0' } } : {});
      t.ok([400, 403, 404].includes(res.status), `${method} ${path} → ${res.status}`);
      t.notMatch(res.text, SECRET, `${method} ${path} does not leak the secret`);
    }
  }
  t.equal((await request(r.port, 'GET', '/inside.txt')).text, 'inside', 'the volume itself is served');
  t.equal(await readdir(r.s.local).then((n) => n.includes('secret.txt')), true, 'nothing was deleted above the root');
});

t.test('COPY and MOVE cannot write above the root, whatever the Destination says', async (t) => {
  const r = await withSecret(t);
  const host = `127.0.0.1:${r.port}`;
  const dests = [
    `http://${host}/../escaped.txt`,
    `http://${host}/%2e%2e/escaped.txt`,
    `http://${host}/..%2fescaped.txt`,
    `http://${host}/..\\escaped.txt`,
    `/../escaped.txt`,
    `/%2e%2e/escaped.txt`,
    `http://${host}/.mountless-props/escaped.txt`,
  ];
  for (const d of dests) {
    for (const method of ['COPY', 'MOVE']) {
      const res = await request(r.port, method, '/inside.txt', { headers: { Destination: d, Overwrite: 'T' } });
      t.ok([400, 403].includes(res.status), `${method} to ${d} → ${res.status}`);
    }
  }
  const other = await request(r.port, 'COPY', '/inside.txt', { headers: { Destination: 'http://other.example/x' } });
  t.equal(other.status, 502, 'another server: 502');
  t.same((await readdir(r.s.local)).sort(), ['secret.txt', 'vol'], 'nothing appeared above the root');
  t.equal((await request(r.port, 'GET', '/inside.txt')).text, 'inside', 'the source is still there');
  // Decoded once, these are names inside the volume (a literal '%2e%2e' directory, a name with backslashes).
  t.equal((await request(r.port, 'COPY', '/inside.txt', { headers: { Destination: `http://${host}/%252e%252e/escaped.txt` } })).status, 409, "no directory named '%2e%2e' here");
  t.equal((await request(r.port, 'COPY', '/inside.txt', { headers: { Destination: `http://${host}/..%5cescaped.txt` } })).status, 201);
  t.same((await readdir(r.volLocal)).sort(), ['..\\escaped.txt', 'inside.txt'], 'the copy is in the volume, under its literal name');
  t.same((await readdir(r.s.local)).sort(), ['secret.txt', 'vol'], 'still nothing above the root');
});

t.test('symlinks cannot lead out of the volume either (the NFS client is rooted there)', async (t) => {
  const r = await withSecret(t);
  await symlink('../secret.txt', join(r.volLocal, 'up'));
  await symlink('/secret.txt', join(r.volLocal, 'abs'));
  await symlink('../../../../../../../../secret.txt', join(r.volLocal, 'deep'));
  for (const p of ['/up', '/abs', '/deep']) {
    const res = await request(r.port, 'GET', p);
    t.notMatch(res.text, SECRET, `GET ${p} (${res.status}) does not leak the secret`);
    t.not(res.status, 200);
  }
});

t.test('bearer token and Basic auth', async (t) => {
  const r = await startSidecar(t, {}, { MOUNTLESS_TOKEN: 'tok-123' });
  await writeFile(join(r.volLocal, 'f'), 'data');
  const none = await request(r.port, 'GET', '/f');
  t.equal(none.status, 401);
  const challenges = ([] as string[]).concat(none.headers['www-authenticate'] ?? []).join(', ');
  t.match(challenges, /Bearer realm="mountless"/);
  t.match(challenges, /Basic realm="mountless"/);
  t.notMatch(none.text, 'data');
  t.equal((await request(r.port, 'GET', '/f', { headers: { Authorization: 'Bearer wrong' } })).status, 401);
  t.equal((await request(r.port, 'GET', '/f', { headers: { Authorization: 'Bearer tok-1234' } })).status, 401);
  t.equal((await request(r.port, 'GET', '/f', { headers: { Authorization: 'Bearer tok-123' } })).text, 'data');
  const basic = 'Basic ' + Buffer.from('davuser:tok-123').toString('base64');
  t.equal((await request(r.port, 'GET', '/f', { headers: { Authorization: basic } })).text, 'data');
  t.equal((await request(r.port, 'PUT', '/g', { body: 'x', headers: { Authorization: 'Bearer nope' } })).status, 401);
  t.same((await readdir(r.volLocal)).sort(), ['f'], 'the unauthorised PUT wrote nothing');
  t.equal((await request(r.port, 'OPTIONS', '/')).status, 401, 'even OPTIONS');
});

t.test('--read-only refuses every write', async (t) => {
  const r = await startSidecar(t, { 'read-only': true });
  await writeFile(join(r.volLocal, 'f'), 'data');
  for (const [method, path, headers] of [
    ['PUT', '/g', {}],
    ['DELETE', '/f', {}],
    ['MKCOL', '/d', {}],
    ['COPY', '/f', { Destination: '/h' }],
    ['MOVE', '/f', { Destination: '/h' }],
    ['PROPPATCH', '/f', {}],
    ['LOCK', '/f', {}],
  ] as const) {
    const res = await request(r.port, method, path, { headers, ...(method === 'PUT' ? { body: 'x' } : {}) });
    t.equal(res.status, 405, `${method} refused`);
    t.notMatch(res.headers.allow, /PUT/);
  }
  t.same((await readdir(r.volLocal)).sort(), ['f']);
  t.equal((await request(r.port, 'GET', '/f')).text, 'data');
  t.equal((await request(r.port, 'PROPFIND', '/', { headers: { Depth: '1' } })).status, 207, 'reads still work');
  t.equal((await request(r.port, 'OPTIONS', '/')).headers.dav, '1', 'no class 2 when read-only');
});

t.test('more requests than --max-concurrent get 503', async (t) => {
  const r = await startSidecar(t, { 'max-concurrent': '1', 'admin-listen': '127.0.0.1:0' });
  // One upload held open: the body is only half sent.
  const sock = netConnect(r.port, '127.0.0.1');
  await new Promise((res) => sock.once('connect', res));
  sock.write('PUT /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345');
  let reply = '';
  sock.on('data', (d) => (reply += d));
  for (let k = 0; k < 100 && !/mountless_http_requests_in_flight 1/.test(await metrics(r.adminPort!)); k++) await new Promise((res) => setTimeout(res, 20));
  t.match(await metrics(r.adminPort!), /mountless_http_requests_in_flight 1/, 'the upload is in flight');
  const busy = await request(r.port, 'GET', '/');
  t.equal(busy.status, 503);
  t.equal(busy.headers['retry-after'], '1');
  t.match(await metrics(r.adminPort!), /mountless_http_rejected_total\{reason="busy"\} 1/);
  sock.write('67890');
  await new Promise<void>((res) => {
    const check = () => (/\r\n\r\n/.test(reply) ? res() : sock.once('data', check));
    check();
  });
  t.match(reply, /^HTTP\/1.1 201/, 'the held request completes');
  sock.destroy();
  t.equal((await request(r.port, 'GET', '/slow')).text, '1234567890', 'and the next request is served');
});

t.test('slow headers and idle connections are cut', async (t) => {
  const r = await startSidecar(t, { 'header-timeout': '300ms', 'idle-timeout': '400ms' });
  const closed = (write: string) =>
    new Promise<string>((resolve, reject) => {
      const sock = netConnect(r.port, '127.0.0.1', () => sock.write(write));
      let got = '';
      sock.on('data', (d) => (got += d));
      sock.on('close', () => resolve(got));
      sock.on('error', reject);
    });
  const partial = await closed('GET / HTTP/1.1\r\nHost: x\r\n');
  t.match(partial, /^(HTTP\/1.1 408|)/, 'headers never finished: the server closed the connection');
  const idle = await closed('');
  t.match(idle, /^(HTTP\/1.1 408|)/, 'a silent connection is closed (with a 408 at most)');
  // A kept-alive connection that goes quiet after a request is closed too.
  const afterOne = await closed('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  t.match(afterOne, /^HTTP\/1.1 200/, 'one request served, then the idle connection closed');
});

t.test('the XML body size is capped', async (t) => {
  const r = await startSidecar(t);
  const big = '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop>' + '<x:y xmlns:x="urn:x"/>'.repeat(60_000) + '</D:prop></D:propfind>';
  const res = await request(r.port, 'PROPFIND', '/', { body: big, headers: { Depth: '0' } });
  t.equal(res.status, 413);
  const dtd = await request(r.port, 'PROPFIND', '/', { body: '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><D:propfind xmlns:D="DAV:"><D:allprop/>&e;</D:propfind>', headers: { Depth: '0' } });
  t.equal(dtd.status, 400, 'DTDs and external entities are refused');
  t.notMatch(dtd.text, 'root:');
});
