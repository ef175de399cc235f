// PUT with OC-Checksum (rclone's owncloud and nextcloud vendors send it):
// a body that does not match is refused before it replaces anything.
import t from 'tap';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request, startSidecar } from './_sidecar.js';

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');

t.test('OC-Checksum: a matching body is stored, a corrupted one refused and the old file kept', async (t) => {
  const r = await startSidecar(t);
  const body = 'payload '.repeat(100_000);
  const ok = await request(r.port, 'PUT', '/f.txt', { body, headers: { 'OC-Checksum': `SHA1:${sha1(body)}` } });
  t.equal(ok.status, 201);
  t.equal(await readFile(join(r.volLocal, 'f.txt'), 'utf8'), body);

  const corrupted = body.slice(0, -1) + '!';
  const bad = await request(r.port, 'PUT', '/f.txt', { body: corrupted, headers: { 'OC-Checksum': `SHA1:${sha1(body)}` } });
  t.equal(bad.status, 400, 'the digest does not match the body');
  t.equal(await readFile(join(r.volLocal, 'f.txt'), 'utf8'), body, 'the old content stays');
  t.same(await readdir(r.volLocal), ['f.txt'], 'no temporary file left');

  const chunked = await request(r.port, 'PUT', '/g.txt', { body: ['ab', 'c'], headers: { 'OC-Checksum': `MD5:${createHash('md5').update('abc').digest('hex')}` } });
  t.equal(chunked.status, 201, 'MD5, chunked');
  t.equal((await request(r.port, 'PUT', '/h.txt', { body: 'x', headers: { 'OC-Checksum': 'ADLER32:00000000' } })).status, 201, 'an algorithm not checked is ignored');
  t.equal((await request(r.port, 'PUT', '/i.txt', { body: 'x', headers: { 'OC-Checksum': 'SHA1:nothex' } })).status, 400, 'a malformed header');
  t.same((await readdir(r.volLocal)).sort(), ['f.txt', 'g.txt', 'h.txt']);
});
