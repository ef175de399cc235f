// WebDAV behaviour beyond what litmus checks: where dead properties live and
// how they follow PUT, COPY, MOVE and DELETE; depth limits; locks and the If
// header from a client's point of view.
import t from 'tap';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { request, startSidecar } from './_sidecar.js';

const setProp = (name: string, value: string) =>
  `<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><z:${name} xmlns:z="urn:test">${value}</z:${name}></D:prop></D:set></D:propertyupdate>`;
const getProp = (name: string) => `<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><z:${name} xmlns:z="urn:test"/></D:prop></D:propfind>`;

async function propValue(port: number, path: string, name: string): Promise<string | undefined> {
  const res = await request(port, 'PROPFIND', path, { body: getProp(name), headers: { Depth: '0' } });
  if (res.status !== 207) return undefined;
  const m = new RegExp(`<${name} xmlns="urn:test">([^<]*)</${name}>`).exec(res.text);
  return m?.[1];
}

t.test('dead properties follow PUT, COPY, MOVE and DELETE, and live on the volume', async (t) => {
  const r = await startSidecar(t);
  await request(r.port, 'PUT', '/f.txt', { body: 'v1' });
  t.equal((await request(r.port, 'PROPPATCH', '/f.txt', { body: setProp('color', 'blue') })).status, 207);
  t.equal(await propValue(r.port, '/f.txt', 'color'), 'blue');
  const stored = JSON.parse(await readFile(join(r.volLocal, '.mountless-props', 'f.txt.json'), 'utf8')) as { props: Array<{ local: string }> };
  t.same(stored.props.map((p) => p.local), ['color'], 'stored beside the file');

  await request(r.port, 'PUT', '/f.txt', { body: 'v2' });
  t.equal(await propValue(r.port, '/f.txt', 'color'), 'blue', 'kept when the content is replaced');

  t.equal((await request(r.port, 'COPY', '/f.txt', { headers: { Destination: '/g.txt' } })).status, 201);
  t.equal(await propValue(r.port, '/g.txt', 'color'), 'blue', 'copied');
  t.equal((await request(r.port, 'MOVE', '/g.txt', { headers: { Destination: '/h.txt' } })).status, 201);
  t.equal(await propValue(r.port, '/h.txt', 'color'), 'blue', 'moved');
  t.equal((await request(r.port, 'GET', '/g.txt')).status, 404);
  t.same((await readdir(join(r.volLocal, '.mountless-props'))).sort(), ['f.txt.json', 'h.txt.json'], 'the source store entry went with it');

  t.equal((await request(r.port, 'DELETE', '/h.txt')).status, 204);
  t.same(await readdir(join(r.volLocal, '.mountless-props')), ['f.txt.json'], 'removed with the file');
  await request(r.port, 'PUT', '/h.txt', { body: 'new' });
  t.equal(await propValue(r.port, '/h.txt', 'color'), undefined, 'a new file under an old name starts with none');
  await request(r.port, 'DELETE', '/f.txt');
  t.notOk((await readdir(r.volLocal)).includes('.mountless-props'), 'an emptied store is removed');
});

t.test('properties inside collections travel with COPY and MOVE of the tree', async (t) => {
  const r = await startSidecar(t);
  await request(r.port, 'MKCOL', '/a');
  await request(r.port, 'MKCOL', '/a/b');
  await request(r.port, 'PUT', '/a/b/leaf', { body: 'x' });
  await request(r.port, 'PROPPATCH', '/a/b/leaf', { body: setProp('k', 'leafval') });
  await request(r.port, 'PROPPATCH', '/a/', { body: setProp('k', 'dirval') });
  t.equal((await request(r.port, 'COPY', '/a/', { headers: { Destination: '/c/' } })).status, 201);
  t.equal(await propValue(r.port, '/c/b/leaf', 'k'), 'leafval');
  t.equal(await propValue(r.port, '/c/', 'k'), 'dirval');
  t.equal((await request(r.port, 'MOVE', '/c/', { headers: { Destination: '/d/' } })).status, 201);
  t.equal(await propValue(r.port, '/d/b/leaf', 'k'), 'leafval');
  t.equal(await propValue(r.port, '/d/', 'k'), 'dirval');
  const listing = await request(r.port, 'PROPFIND', '/d/b/', { headers: { Depth: '1' } });
  t.notMatch(listing.text, 'mountless', 'the store is never listed');
  t.equal((await request(r.port, 'COPY', '/a/', { headers: { Destination: '/a/b/inside/' } })).status, 403, 'a collection cannot be copied into itself');
  t.equal((await request(r.port, 'COPY', '/a/', { headers: { Destination: '/shallow/', Depth: '0' } })).status, 201);
  t.same(await readdir(join(r.volLocal, 'shallow')), [], 'Depth 0 copies the collection alone');
});

t.test('PROPFIND: depth 0 and 1, infinity refused, live properties', async (t) => {
  const r = await startSidecar(t);
  await request(r.port, 'PUT', '/x%20y.txt', { body: 'hello' });
  await request(r.port, 'MKCOL', '/sub');
  const inf = await request(r.port, 'PROPFIND', '/', { headers: { Depth: 'infinity' } });
  t.equal(inf.status, 403);
  t.match(inf.text, '<D:propfind-finite-depth/>');
  t.equal((await request(r.port, 'PROPFIND', '/')).status, 403, 'no Depth means infinity');
  const d1 = await request(r.port, 'PROPFIND', '/', { headers: { Depth: '1' } });
  t.equal(d1.status, 207);
  t.match(d1.headers['content-type'], /^application\/xml/);
  const hrefs = [...d1.text.matchAll(/<D:href>([^<]*)<\/D:href>/g)].map((m) => m[1]);
  t.same(hrefs, ['/', '/sub/', '/x%20y.txt'], 'the collection, then its members, names encoded');
  t.match(d1.text, /<D:href>\/sub\/<\/D:href><D:propstat><D:prop>.*<D:resourcetype><D:collection\/><\/D:resourcetype>/);
  const d0 = await request(r.port, 'PROPFIND', '/x%20y.txt', { headers: { Depth: '0' } });
  t.match(d0.text, '<D:getcontentlength>5</D:getcontentlength>');
  t.match(d0.text, /<D:getetag>"[0-9a-f-]+"<\/D:getetag>/);
  t.match(d0.text, '<D:getcontenttype>text/plain; charset=utf-8</D:getcontenttype>');
  t.match(d0.text, '<D:supportedlock>');
  const names = await request(r.port, 'PROPFIND', '/x%20y.txt', { headers: { Depth: '0' }, body: '<D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>' });
  t.match(names.text, '<D:getetag/>');
  t.equal((await request(r.port, 'PROPFIND', '/missing', { headers: { Depth: '0' } })).status, 404);
});

t.test('PROPPATCH of a live property fails as a whole', async (t) => {
  const r = await startSidecar(t);
  await request(r.port, 'PUT', '/f', { body: 'x' });
  const res = await request(r.port, 'PROPPATCH', '/f', {
    body: '<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:getetag>"forged"</D:getetag><z:ok xmlns:z="urn:test">1</z:ok></D:prop></D:set></D:propertyupdate>',
  });
  t.equal(res.status, 207);
  t.match(res.text, /<D:getetag\/><\/D:prop><D:status>HTTP\/1.1 403 Forbidden/);
  t.match(res.text, /<ok xmlns="urn:test"\/><\/D:prop><D:status>HTTP\/1.1 424 Failed Dependency/);
  t.equal(await propValue(r.port, '/f', 'ok'), undefined, 'nothing was set');
});

t.test('locks: writes need the token; refresh, unlock, lock-null, granted timeout', async (t) => {
  const r = await startSidecar(t, { 'max-lock-timeout': '120' });
  await request(r.port, 'PUT', '/doc', { body: 'v1' });
  const lock = await request(r.port, 'LOCK', '/doc', {
    headers: { Timeout: 'Second-3600', Depth: '0' },
    body: '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner><D:href>mailto:me@example</D:href></D:owner></D:lockinfo>',
  });
  t.equal(lock.status, 200);
  const token = /^<(.+)>$/.exec(String(lock.headers['lock-token'] ?? ''))?.[1];
  t.match(token, /^opaquelocktoken:/);
  t.match(lock.text, '<D:timeout>Second-120</D:timeout>', 'the timeout is capped');
  t.match(lock.text, '<D:owner><href xmlns="DAV:">mailto:me@example</href></D:owner>', 'the owner comes back as sent');
  const blocked = await request(r.port, 'PUT', '/doc', { body: 'v2' });
  t.equal(blocked.status, 423);
  t.match(blocked.text, '<D:lock-token-submitted><D:href>/doc</D:href></D:lock-token-submitted>');
  t.equal((await request(r.port, 'DELETE', '/doc')).status, 423);
  t.equal((await request(r.port, 'MOVE', '/doc', { headers: { Destination: '/moved' } })).status, 423);
  t.equal((await request(r.port, 'PUT', '/doc', { body: 'v2', headers: { If: '(<opaquelocktoken:wrong>)' } })).status, 412, 'a wrong token: the If header fails');
  t.equal((await request(r.port, 'PUT', '/doc', { body: 'v2', headers: { If: `(<${token}>)` } })).status, 204);
  t.equal((await request(r.port, 'GET', '/doc')).text, 'v2');
  const refresh = await request(r.port, 'LOCK', '/doc', { headers: { If: `(<${token}>)`, Timeout: 'Second-60' } });
  t.equal(refresh.status, 200);
  t.match(refresh.text, '<D:timeout>Second-60</D:timeout>');
  t.equal((await request(r.port, 'UNLOCK', '/doc', { headers: { 'Lock-Token': '<opaquelocktoken:nope>' } })).status, 409);
  t.equal((await request(r.port, 'UNLOCK', '/doc', { headers: { 'Lock-Token': `<${token}>` } })).status, 204);
  t.equal((await request(r.port, 'PUT', '/doc', { body: 'v3' })).status, 204, 'unlocked: writable by anyone');

  const nul = await request(r.port, 'LOCK', '/new-doc', {
    body: '<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>',
  });
  t.equal(nul.status, 201, 'a lock on an unmapped URL creates an empty resource');
  t.equal((await stat(join(r.volLocal, 'new-doc'))).size, 0);
  t.equal((await request(r.port, 'LOCK', '/nodir/x', { body: '<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:shared/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>' })).status, 409);
  t.equal((await request(r.port, 'LOCK', '/doc', { body: '<D:lockinfo xmlns:D="DAV:"><D:locktype><D:write/></D:locktype></D:lockinfo>' })).status, 400, 'no lockscope');
});

t.test('a depth-infinity lock on a collection protects its members', async (t) => {
  const r = await startSidecar(t);
  await request(r.port, 'MKCOL', '/coll');
  await request(r.port, 'PUT', '/coll/a', { body: 'a' });
  const lock = await request(r.port, 'LOCK', '/coll/', {
    body: '<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>',
  });
  const token = /^<(.+)>$/.exec(String(lock.headers['lock-token'] ?? ''))?.[1]!;
  t.equal((await request(r.port, 'PUT', '/coll/b', { body: 'b' })).status, 423, 'adding a member');
  t.equal((await request(r.port, 'PUT', '/coll/a', { body: 'A' })).status, 423, 'changing a member');
  t.equal((await request(r.port, 'DELETE', '/coll/')).status, 423);
  const tagged = `<http://127.0.0.1:${r.port}/coll/> (<${token}>)`;
  t.equal((await request(r.port, 'PUT', '/coll/b', { body: 'b', headers: { If: tagged } })).status, 201, 'with the token, tagged with the lock root');
  t.equal((await request(r.port, 'LOCK', '/coll/a', { body: '<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:shared/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>' })).status, 423, 'conflicting lock below');
  t.equal((await request(r.port, 'DELETE', '/coll/', { headers: { If: `(<${token}>)` } })).status, 204, 'the owner may delete it');
  t.equal((await request(r.port, 'PUT', '/coll', { body: 'file now' })).status, 201, 'the lock went with the collection');
});
