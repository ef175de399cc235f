// Modification times set by WebDAV clients land on the file on the NFS
// server (checked on the server's disk): X-OC-Mtime on PUT, COPY and MOVE
// (ownCloud/Nextcloud, rclone), and PROPPATCH of DAV:lastmodified,
// DAV:getlastmodified and Windows' Win32 times, answered 200 per property.
import t from 'tap';
import { readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request, startSidecar } from './_sidecar.js';

const T1 = 1577934245; // 2020-01-02T03:04:05Z
const T2 = 1262304000; // 2010-01-01T00:00:00Z
const MS = 'urn:schemas-microsoft-com:';

const propertyupdate = (inner: string) =>
  `<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="${MS}">${inner}</D:propertyupdate>`;
const set = (props: string) => `<D:set><D:prop>${props}</D:prop></D:set>`;

/** The status of each property in a one-response multistatus, by local name. */
function propStatuses(xml: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const ps of xml.matchAll(/<D:propstat>([\s\S]*?)<\/D:propstat>/g)) {
    const status = Number(/<D:status>HTTP\/1\.1 (\d+)/.exec(ps[1]!)![1]);
    const prop = /<D:prop>([\s\S]*?)<\/D:prop>/.exec(ps[1]!)![1]!;
    for (const m of prop.matchAll(/<(?:D:)?(\w+)[\s/>]/g)) out[m[1]!] = status;
  }
  return out;
}

t.test('PUT with X-OC-Mtime: the file has that mtime, and the answer says accepted', async (t) => {
  const r = await startSidecar(t);
  const res = await request(r.port, 'PUT', '/a.txt', { body: 'hello', headers: { 'X-OC-Mtime': String(T1) } });
  t.equal(res.status, 201);
  t.equal(res.headers['x-oc-mtime'], 'accepted');
  const st = await stat(join(r.volLocal, 'a.txt'));
  t.equal(st.mtimeMs, T1 * 1000, 'mtime on the server');
  t.equal(await readFile(join(r.volLocal, 'a.txt'), 'utf8'), 'hello');
  t.equal(res.headers['last-modified'], new Date(T1 * 1000).toUTCString(), 'Last-Modified is the time set');

  const head = await request(r.port, 'HEAD', '/a.txt');
  t.equal(head.headers.etag, res.headers.etag, 'the ETag answered is the one the file has');
  const pf = await request(r.port, 'PROPFIND', '/a.txt', { headers: { Depth: '0' } });
  t.match(pf.text, `<D:getlastmodified>${new Date(T1 * 1000).toUTCString()}</D:getlastmodified>`);

  const again = await request(r.port, 'PUT', '/a.txt', { body: 'hello again', headers: { 'X-OC-Mtime': String(T2) } });
  t.equal(again.status, 204);
  t.equal((await stat(join(r.volLocal, 'a.txt'))).mtimeMs, T2 * 1000, 'replacing sets it too (an older time is fine)');

  const plain = await request(r.port, 'PUT', '/b.txt', { body: 'x' });
  t.equal(plain.headers['x-oc-mtime'], undefined, 'no header without X-OC-Mtime');
});

t.test('X-OC-Mtime that is no time: 400, nothing stored', async (t) => {
  const r = await startSidecar(t);
  for (const v of ['yesterday', '-1', '1e9', '99999999999']) {
    const res = await request(r.port, 'PUT', '/bad.txt', { body: 'x', headers: { 'X-OC-Mtime': v } });
    t.equal(res.status, 400, `X-OC-Mtime: ${v}`);
  }
  t.same(await readdir(r.volLocal), [], 'no file, no temporary file');
});

t.test('COPY and MOVE with X-OC-Mtime set the destination file\'s mtime', async (t) => {
  const r = await startSidecar(t);
  await writeFile(join(r.volLocal, 'src.txt'), 'data');
  const copy = await request(r.port, 'COPY', '/src.txt', { headers: { Destination: '/copy.txt', 'X-OC-Mtime': String(T1) } });
  t.equal(copy.status, 201);
  t.equal(copy.headers['x-oc-mtime'], 'accepted');
  t.equal((await stat(join(r.volLocal, 'copy.txt'))).mtimeMs, T1 * 1000);
  const move = await request(r.port, 'MOVE', '/copy.txt', { headers: { Destination: '/moved.txt', 'X-OC-Mtime': String(T2) } });
  t.equal(move.status, 201);
  t.equal(move.headers['x-oc-mtime'], 'accepted');
  t.equal((await stat(join(r.volLocal, 'moved.txt'))).mtimeMs, T2 * 1000);
  await request(r.port, 'MKCOL', '/dir');
  const dir = await request(r.port, 'COPY', '/dir', { headers: { Destination: '/dir2', 'X-OC-Mtime': String(T1) } });
  t.equal(dir.status, 201, 'a collection is copied');
  t.equal(dir.headers['x-oc-mtime'], undefined, 'but its time is not claimed as set');
  const bad = await request(r.port, 'MOVE', '/moved.txt', { headers: { Destination: '/x.txt', 'X-OC-Mtime': 'now' } });
  t.equal(bad.status, 400);
  t.ok((await readdir(r.volLocal)).includes('moved.txt'), 'a refused MOVE moved nothing');
});

t.test('PROPPATCH of DAV:lastmodified (ownCloud, seconds) and DAV:getlastmodified (HTTP date) sets mtime', async (t) => {
  const r = await startSidecar(t);
  await writeFile(join(r.volLocal, 'f.txt'), 'x');
  const oc = await request(r.port, 'PROPPATCH', '/f.txt', { body: propertyupdate(set(`<D:lastmodified>${T1}</D:lastmodified>`)) });
  t.equal(oc.status, 207);
  t.same(propStatuses(oc.text), { lastmodified: 200 });
  t.equal((await stat(join(r.volLocal, 'f.txt'))).mtimeMs, T1 * 1000);

  const http = await request(r.port, 'PROPPATCH', '/f.txt', { body: propertyupdate(set(`<D:getlastmodified>${new Date(T2 * 1000).toUTCString()}</D:getlastmodified>`)) });
  t.same(propStatuses(http.text), { getlastmodified: 200 });
  t.equal((await stat(join(r.volLocal, 'f.txt'))).mtimeMs, T2 * 1000);
  t.notOk((await readdir(r.volLocal)).includes('.mountless-props'), 'times are the file\'s own, not stored as properties');

  const rm = await request(r.port, 'PROPPATCH', '/f.txt', { body: propertyupdate('<D:remove><D:prop><D:getlastmodified/></D:prop></D:remove>') });
  t.same(propStatuses(rm.text), { getlastmodified: 403 }, 'a live property cannot be removed');
  const etag = await request(r.port, 'PROPPATCH', '/f.txt', { body: propertyupdate(set('<D:getetag>"x"</D:getetag>')) });
  t.same(propStatuses(etag.text), { getetag: 403 }, 'other live properties stay protected');
});

t.test('PROPPATCH of Windows\' Win32 times: mtime and atime set, creation time and attributes kept, 200 each', async (t) => {
  const r = await startSidecar(t);
  await request(r.port, 'MKCOL', '/folder');
  await writeFile(join(r.volLocal, 'folder', 'doc.txt'), 'x');
  const created = 'Wed, 01 Jan 2014 10:00:00 GMT';
  const body = propertyupdate(
    set(
      `<Z:Win32CreationTime>${created}</Z:Win32CreationTime>` +
        `<Z:Win32LastAccessTime>${new Date(T2 * 1000).toUTCString()}</Z:Win32LastAccessTime>` +
        `<Z:Win32LastModifiedTime>${new Date(T1 * 1000).toUTCString()}</Z:Win32LastModifiedTime>` +
        '<Z:Win32FileAttributes>00000020</Z:Win32FileAttributes>',
    ),
  );
  const res = await request(r.port, 'PROPPATCH', '/folder/doc.txt', { body });
  t.equal(res.status, 207);
  t.same(propStatuses(res.text), { Win32CreationTime: 200, Win32LastAccessTime: 200, Win32LastModifiedTime: 200, Win32FileAttributes: 200 });
  const st = await stat(join(r.volLocal, 'folder', 'doc.txt'));
  t.equal(st.mtimeMs, T1 * 1000, 'Win32LastModifiedTime is the mtime');
  t.equal(st.atimeMs, T2 * 1000, 'Win32LastAccessTime is the atime');
  const back = await request(r.port, 'PROPFIND', '/folder/doc.txt', {
    headers: { Depth: '0' },
    body: `<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:Z="${MS}"><D:prop><Z:Win32CreationTime/><Z:Win32FileAttributes/><D:getlastmodified/></D:prop></D:propfind>`,
  });
  t.match(back.text, `>${created}</Win32CreationTime>`, 'the creation time Windows set reads back');
  t.match(back.text, '>00000020</Win32FileAttributes>');
  t.match(back.text, `<D:getlastmodified>${new Date(T1 * 1000).toUTCString()}</D:getlastmodified>`);

  const dir = await request(r.port, 'PROPPATCH', '/folder/', { body: propertyupdate(set(`<Z:Win32LastModifiedTime>${new Date(T2 * 1000).toUTCString()}</Z:Win32LastModifiedTime>`)) });
  t.same(propStatuses(dir.text), { Win32LastModifiedTime: 200 });
  t.equal((await stat(join(r.volLocal, 'folder'))).mtimeMs, T2 * 1000, 'a folder\'s time too');
});

t.test('a time property with no time in it: 409 for it, 424 for the rest, nothing changed', async (t) => {
  const r = await startSidecar(t);
  await writeFile(join(r.volLocal, 'f.txt'), 'x');
  await utimes(join(r.volLocal, 'f.txt'), T2, T2);
  const res = await request(r.port, 'PROPPATCH', '/f.txt', {
    body: propertyupdate(set(`<Z:Win32LastModifiedTime>not a date</Z:Win32LastModifiedTime><Z:Win32LastAccessTime>${new Date(T1 * 1000).toUTCString()}</Z:Win32LastAccessTime><z:color xmlns:z="urn:test">red</z:color>`)),
  });
  t.equal(res.status, 207);
  t.same(propStatuses(res.text), { Win32LastModifiedTime: 409, Win32LastAccessTime: 424, color: 424 });
  const st = await stat(join(r.volLocal, 'f.txt'));
  t.equal(st.mtimeMs, T2 * 1000, 'mtime unchanged');
  t.equal(st.atimeMs, T2 * 1000, 'atime unchanged');
  t.notOk((await readdir(r.volLocal)).includes('.mountless-props'), 'no dead property stored');
});
