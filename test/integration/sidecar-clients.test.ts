// Request sequences of the WebDAV clients people mount volumes with,
// replayed against the sidecar: macOS Finder (webdavfs), Windows' WebDAV
// redirector (Mini-Redirector) and davfs2 (as captured from davfs2 1.6.1 on
// this machine). Each step checks what that client needs from the answer;
// the end state is checked on the server's disk.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request, startSidecar, type Reply } from './_sidecar.js';

const MS = 'urn:schemas-microsoft-com:';

function lockToken(res: Reply): string {
  const h = res.headers['lock-token'];
  const m = /^<(.+)>$/.exec(typeof h === 'string' ? h : '');
  if (!m) throw new Error(`no Lock-Token in the LOCK answer (status ${res.status})`);
  return m[1]!;
}

/** Splits a buffer into chunks of uneven sizes, as a client streaming from disk sends them. */
function chunks(buf: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (let k = 0; at < buf.length; k++) {
    const n = sizes[k % sizes.length]!;
    out.push(buf.subarray(at, at + n));
    at += n;
  }
  return out;
}

const lockinfo = (owner: string) =>
  `<?xml version="1.0" encoding="utf-8" ?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner><D:href>${owner}</D:href></D:owner></D:lockinfo>`;

t.test('macOS Finder: class 2 offered, AppleDouble probes 404, lock then chunked PUT with X-Expected-Entity-Length', async (t) => {
  const r = await startSidecar(t);
  const ua = { 'User-Agent': 'WebDAVFS/3.0.0 (03008000) Darwin/22.1.0 (arm64)' };
  const opts = await request(r.port, 'OPTIONS', '/', { headers: ua });
  t.equal(opts.status, 200);
  // Finder mounts read-only unless the server says class 2 (locking).
  t.ok(String(opts.headers.dav).split(',').map((s) => s.trim()).includes('2'), `DAV: ${opts.headers.dav} includes class 2`);

  // What Finder asks of every folder it opens, before any of it exists.
  for (const probe of ['/.DS_Store', '/._.', '/.hidden', '/.metadata_never_index', '/.ql_disablethumbnails', '/Backups.backupdb', '/mach_kernel', '/.Spotlight-V100', '/._report.pdf', '/nope/._x']) {
    const res = await request(r.port, 'PROPFIND', probe, {
      headers: { ...ua, Depth: '0', 'Content-Type': 'text/xml' },
      body: '<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop><D:getlastmodified/><D:getcontentlength/><D:creationdate/><D:resourcetype/></D:prop></D:propfind>',
    });
    t.equal(res.status, 404, `PROPFIND ${probe} → 404`);
  }

  // A copy onto the volume: an empty file, a lock on it, then the data,
  // chunked, with the size in X-Expected-Entity-Length and no Content-Length.
  t.equal((await request(r.port, 'PUT', '/report.pdf', { headers: ua, body: '' })).status, 201, 'empty PUT creates');
  const lock = await request(r.port, 'LOCK', '/report.pdf', { headers: { ...ua, Depth: '0', Timeout: 'Second-600', 'Content-Type': 'text/xml' }, body: lockinfo('http://www.apple.com/webdav_fs/') });
  t.equal(lock.status, 200);
  const token = lockToken(lock);
  const data = randomBytes(700_001);
  const put = await request(r.port, 'PUT', '/report.pdf', {
    headers: { ...ua, 'Transfer-Encoding': 'chunked', 'X-Expected-Entity-Length': String(data.length), If: `(<${token}>)` },
    body: chunks(data, [65536, 1, 4093, 131072, 7]),
  });
  t.equal(put.status, 204, 'chunked PUT under the lock');
  t.ok((await readFile(join(r.volLocal, 'report.pdf'))).equals(data), 'exactly the bytes sent are stored');

  // The AppleDouble companion (resource fork and extended attributes) and the
  // folder's .DS_Store are ordinary files here: stored as sent.
  const appleDouble = Buffer.concat([Buffer.from([0, 5, 0x16, 7, 0, 2, 0, 0]), Buffer.alloc(4088, 0)]);
  const ad = await request(r.port, 'PUT', '/._report.pdf', { headers: { ...ua, 'Transfer-Encoding': 'chunked', 'X-Expected-Entity-Length': String(appleDouble.length) }, body: chunks(appleDouble, [1000]) });
  t.equal(ad.status, 201, 'PUT of ._report.pdf');
  t.ok((await readFile(join(r.volLocal, '._report.pdf'))).equals(appleDouble));
  t.equal((await request(r.port, 'PUT', '/.DS_Store', { headers: ua, body: Buffer.alloc(6148, 1) })).status, 201, 'PUT of .DS_Store');
  const refresh = await request(r.port, 'LOCK', '/report.pdf', { headers: { ...ua, Timeout: 'Second-600', If: `(<${token}>)` } });
  t.equal(refresh.status, 200, 'lock refresh (no body, If header)');
  t.equal((await request(r.port, 'UNLOCK', '/report.pdf', { headers: { ...ua, 'Lock-Token': `<${token}>` } })).status, 204);

  const listing = await request(r.port, 'PROPFIND', '/', { headers: { ...ua, Depth: '1' } });
  t.match(listing.text, '<D:href>/._report.pdf</D:href>', 'AppleDouble files are listed, as Finder expects to find them');
  t.same((await readdir(r.volLocal)).sort(), ['.DS_Store', '._report.pdf', 'report.pdf']);
});

t.test('macOS Finder: a chunked body that is not X-Expected-Entity-Length long is refused, the old file kept', async (t) => {
  const r = await startSidecar(t);
  await writeFile(join(r.volLocal, 'keep.bin'), 'old content');
  const short = await request(r.port, 'PUT', '/keep.bin', { headers: { 'Transfer-Encoding': 'chunked', 'X-Expected-Entity-Length': '100' }, body: [Buffer.alloc(30, 1), Buffer.alloc(20, 2)] });
  t.equal(short.status, 400, 'fewer bytes than announced');
  const long = await request(r.port, 'PUT', '/keep.bin', { headers: { 'Transfer-Encoding': 'chunked', 'X-Expected-Entity-Length': '10' }, body: [Buffer.alloc(30, 1)] });
  t.equal(long.status, 400, 'more bytes than announced');
  const bad = await request(r.port, 'PUT', '/keep.bin', { headers: { 'Transfer-Encoding': 'chunked', 'X-Expected-Entity-Length': 'lots' }, body: ['x'] });
  t.equal(bad.status, 400, 'no byte count');
  t.equal(await readFile(join(r.volLocal, 'keep.bin'), 'utf8'), 'old content');
  t.same(await readdir(r.volLocal), ['keep.bin'], 'no temporary file left');
  const big = await request(r.port, 'PUT', '/big.bin', { headers: { 'Transfer-Encoding': 'chunked', 'X-Expected-Entity-Length': String(2 ** 40) }, body: ['x'] });
  t.equal(big.status, 413, 'an announced size past --max-body is refused before the body');
});

t.test('Windows WebDAV redirector: MS-Author-Via, Translate: f, 404 probes, empty PUT, LOCK, PUT, Win32 PROPPATCH, UNLOCK, rename', async (t) => {
  const r = await startSidecar(t);
  const win = { 'User-Agent': 'Microsoft-WebDAV-MiniRedir/10.0.19045', Translate: 'f' };
  const opts = await request(r.port, 'OPTIONS', '/', { headers: win });
  t.equal(opts.status, 200);
  t.equal(opts.headers['ms-author-via'], 'DAV', 'MS-Author-Via: DAV (else Windows treats the site as read-only web folders)');
  t.match(String(opts.headers.dav), /\b2\b/);
  t.equal((await request(r.port, 'PROPFIND', '/', { headers: { ...win, Depth: '0' } })).status, 207);
  for (const missing of ['/desktop.ini', '/Folder.jpg', '/autorun.inf', '/no/such/dir/desktop.ini']) {
    t.equal((await request(r.port, 'PROPFIND', missing, { headers: { ...win, Depth: '0' } })).status, 404, `PROPFIND ${missing} → 404`);
  }

  const name = '/New Text Document.txt';
  const href = encodeURI(name);
  t.equal((await request(r.port, 'PUT', href, { headers: { ...win }, body: '' })).status, 201, '0-byte PUT creates the file');
  const lock = await request(r.port, 'LOCK', href, { headers: { ...win, Timeout: 'Second-3600', 'Content-Type': 'text/xml; charset="utf-8"' }, body: lockinfo('DOMAIN\\user') });
  t.equal(lock.status, 200, 'LOCK of the existing empty file');
  const token = lockToken(lock);
  t.equal((await request(r.port, 'PUT', href, { headers: { ...win }, body: 'no token' })).status, 423, 'someone else cannot write meanwhile');
  const when = 'Thu, 02 Jan 2020 03:04:05 GMT';
  const times = `<?xml version="1.0" encoding="utf-8" ?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="${MS}"><D:set><D:prop><Z:Win32CreationTime>${when}</Z:Win32CreationTime><Z:Win32LastAccessTime>${when}</Z:Win32LastAccessTime><Z:Win32LastModifiedTime>${when}</Z:Win32LastModifiedTime><Z:Win32FileAttributes>00000020</Z:Win32FileAttributes></D:prop></D:set></D:propertyupdate>`;
  const put = await request(r.port, 'PUT', href, { headers: { ...win, If: `(<${token}>)` }, body: 'hello from Windows\r\n' });
  t.equal(put.status, 204, 'PUT with the lock token');
  const pp = await request(r.port, 'PROPPATCH', href, { headers: { ...win, If: `(<${token}>)`, 'Content-Type': 'text/xml; charset="utf-8"' }, body: times });
  t.equal(pp.status, 207);
  t.equal([...pp.text.matchAll(/HTTP\/1\.1 200 OK/g)].length, 1, 'one propstat, 200');
  t.notMatch(pp.text, /HTTP\/1\.1 (4|5)\d\d/, 'no property refused');
  t.equal((await request(r.port, 'UNLOCK', href, { headers: { ...win, 'Lock-Token': `<${token}>` } })).status, 204);
  const local = join(r.volLocal, 'New Text Document.txt');
  t.equal(await readFile(local, 'utf8'), 'hello from Windows\r\n');
  t.equal((await stat(local)).mtimeMs, Date.parse(when), 'the file has the time Windows set');

  const get = await request(r.port, 'GET', href, { headers: win });
  t.equal(get.text, 'hello from Windows\r\n', 'GET with Translate: f is the raw file');
  const mv = await request(r.port, 'MOVE', href, { headers: { ...win, Destination: `http://127.0.0.1:${r.port}/${encodeURIComponent('Renamed é.txt')}`, Overwrite: 'F' } });
  t.equal(mv.status, 201, 'rename');
  t.same((await readdir(r.volLocal)).sort(), ['.mountless-props', 'Renamed é.txt'], 'renamed (the Win32 properties kept in the hidden store)');
  t.same(await readdir(join(r.volLocal, '.mountless-props')), ['Renamed é.txt.json'], 'and they went with it');
  t.equal((await request(r.port, 'MKCOL', '/New%20folder', { headers: win })).status, 201);
  t.equal((await request(r.port, 'DELETE', '/New%20folder', { headers: win })).status, 204);
});

t.test('davfs2 (use_locks 1): the sequence davfs2 1.6.1 sends, as captured', async (t) => {
  const r = await startSidecar(t);
  await writeFile(join(r.volLocal, 'cached.txt'), 'v1');
  const ua = { 'User-Agent': 'davfs2/1.6.1 neon/0.32.5', TE: 'trailers' };
  const xml = { 'Content-Type': 'application/xml' };
  t.equal((await request(r.port, 'OPTIONS', '/', { headers: ua })).status, 200);
  const ls = await request(r.port, 'PROPFIND', '/', {
    headers: { ...ua, ...xml, Depth: '1' },
    body: '<?xml version="1.0" encoding="utf-8"?>\n<propfind xmlns="DAV:"><prop>\n<resourcetype xmlns="DAV:"/>\n<getcontentlength xmlns="DAV:"/>\n<getetag xmlns="DAV:"/>\n<getlastmodified xmlns="DAV:"/>\n<executable xmlns="http://apache.org/dav/props/"/>\n</prop></propfind>\n',
  });
  t.equal(ls.status, 207);
  t.match(ls.text, /<D:href>\/cached\.txt<\/D:href>[\s\S]*<D:getetag>/);
  const quota = await request(r.port, 'PROPFIND', '/', {
    headers: { ...ua, ...xml, Depth: '0' },
    body: '<?xml version="1.0" encoding="utf-8"?>\n<propfind xmlns="DAV:"><prop>\n<quota-available-bytes xmlns="DAV:"/>\n<quota-used-bytes xmlns="DAV:"/>\n</prop></propfind>\n',
  });
  t.equal(quota.status, 207, 'the quota request (statfs) is answered');
  const avail = Number(/<D:quota-available-bytes>(\d+)<\/D:quota-available-bytes>/.exec(quota.text)?.[1]);
  const used = Number(/<D:quota-used-bytes>(\d+)<\/D:quota-used-bytes>/.exec(quota.text)?.[1]);
  const disk = await statfs(r.volLocal);
  const total = disk.blocks * disk.bsize;
  // Others write to the same disk meanwhile: the figures agree within 5% of its size.
  t.ok(Math.abs(avail - disk.bavail * disk.bsize) < total * 0.05, `quota-available-bytes ${avail} is what the server's disk has free`);
  t.ok(Math.abs(used - (disk.blocks - disk.bfree) * disk.bsize) < total * 0.05, `quota-used-bytes ${used} is what it has in use`);
  const all = await request(r.port, 'PROPFIND', '/', { headers: { ...ua, Depth: '0' } });
  t.notMatch(all.text, 'quota', 'not in allprop (RFC 4331 §3)');
  const onFile = await request(r.port, 'PROPFIND', '/cached.txt', {
    headers: { ...ua, ...xml, Depth: '0' },
    body: '<?xml version="1.0"?><propfind xmlns="DAV:"><prop><quota-used-bytes/></prop></propfind>',
  });
  t.match(onFile.text, /<D:quota-used-bytes\/><\/D:prop><D:status>HTTP\/1\.1 404/, 'a file has no quota');

  // Creating a file: LOCK of the unmapped URL creates it, HEAD for its ETag,
  // then PUT with If-Match and the lock in a tagged If list, then UNLOCK.
  const lock = await request(r.port, 'LOCK', '/x.txt', {
    headers: { ...ua, ...xml, Depth: '0', Timeout: 'Second-1800' },
    body: "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<lockinfo xmlns='DAV:'>\n <lockscope><exclusive/></lockscope>\n<locktype><write/></locktype><owner>davfs2 1.6.1</owner>\n</lockinfo>\n",
  });
  t.equal(lock.status, 201, 'LOCK on an unmapped URL creates an empty file');
  const token = lockToken(lock);
  const head = await request(r.port, 'HEAD', '/x.txt', { headers: ua });
  t.equal(head.status, 200);
  const etag = String(head.headers.etag);
  const tagged = `<http://127.0.0.1:${r.port}/x.txt> (<${token}>)`;
  const put = await request(r.port, 'PUT', '/x.txt', { headers: { ...ua, 'If-Match': etag, If: tagged }, body: 'abc\n' });
  t.equal(put.status, 204);
  const stale = await request(r.port, 'PUT', '/x.txt', { headers: { ...ua, 'If-Match': etag, If: tagged }, body: 'lost update\n' });
  t.equal(stale.status, 412, 'the old ETag no longer matches: no lost update');
  t.equal((await request(r.port, 'UNLOCK', '/x.txt', { headers: { ...ua, 'Lock-Token': `<${token}>` } })).status, 204);
  t.equal(await readFile(join(r.volLocal, 'x.txt'), 'utf8'), 'abc\n');

  // A rename of a file still locked: MOVE with the source's token.
  const l2 = lockToken(await request(r.port, 'LOCK', '/x.txt', { headers: { ...ua, ...xml, Depth: '0', Timeout: 'Second-1800' }, body: lockinfo('davfs2') }));
  await request(r.port, 'MKCOL', '/d2/', { headers: ua });
  const mv = await request(r.port, 'MOVE', '/x.txt', { headers: { ...ua, Destination: `http://127.0.0.1:${r.port}/d2/renamed.txt`, Overwrite: 'T', If: `<http://127.0.0.1:${r.port}/x.txt> (<${l2}>)` } });
  t.equal(mv.status, 201);

  // Re-reading a cached file: conditional GET.
  const g1 = await request(r.port, 'GET', '/cached.txt', { headers: ua });
  t.equal(g1.text, 'v1');
  const cond = { 'If-None-Match': String(g1.headers.etag), 'If-Modified-Since': String(g1.headers['last-modified']) };
  t.equal((await request(r.port, 'GET', '/cached.txt', { headers: { ...ua, ...cond } })).status, 304, 'unchanged: 304');
  await writeFile(join(r.volLocal, 'cached.txt'), 'v2, longer');
  const g2 = await request(r.port, 'GET', '/cached.txt', { headers: { ...ua, ...cond } });
  t.equal(g2.status, 200, 'changed by another NFS client: 200');
  t.equal(g2.text, 'v2, longer');
  t.same((await readdir(r.volLocal)).sort(), ['cached.txt', 'd2']);
  t.same(await readdir(join(r.volLocal, 'd2')), ['renamed.txt']);
});
