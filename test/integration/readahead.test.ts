// Readahead of FileHandle.read loops against the real server: the bytes of
// sequential small reads (compared with node:fs reading the same file on the
// server's disk), how many READs reached the wire, a write through the
// handle seen by the next read, and O_DIRECT reading without it.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open as openLocal, writeFile } from 'node:fs/promises';
import { instrument, scratch, NFS_URL } from './_env.js';

const version = new URL(NFS_URL).searchParams.get('version') ?? '3';
const SIZE = 5 * 1024 * 1024 + 777;

t.test(`NFSv${version}: sequential 4 KiB reads through FileHandle.read match node:fs, in a few READs`, async (t) => {
  const s = await scratch(t, 'readahead');
  const content = randomBytes(SIZE);
  await writeFile(s.localAt('f'), content);
  const fh = await s.nfs.open(s.at('f'), 'r');
  const calls = instrument(s.nfs);
  const local = await openLocal(s.localAt('f'), 'r');
  const a = Buffer.alloc(4096);
  const b = Buffer.alloc(4096);
  let reads = 0;
  let mismatches = 0;
  for (;;) {
    const [m, n] = await Promise.all([fh.read(a, 0, 4096, null), local.read(b, 0, 4096, null)]);
    reads++;
    if (m.bytesRead !== n.bytesRead || !a.subarray(0, m.bytesRead).equals(b.subarray(0, n.bytesRead))) mismatches++;
    if (n.bytesRead === 0 || m.bytesRead === 0) {
      t.equal(m.bytesRead, n.bytesRead, 'both end together');
      break;
    }
  }
  await local.close();
  t.equal(mismatches, 0, `${reads} reads, all the same as node:fs`);
  const readCalls = calls.log.filter((k) => k === 'read').length;
  t.ok(readCalls < reads / 10, `${readCalls} READ calls for ${reads} reads`);
  await fh.close();
});

t.test(`NFSv${version}: a write through the handle is seen by the next sequential read; O_DIRECT reads every time`, async (t) => {
  const s = await scratch(t, 'readahead-w');
  const content = randomBytes(1024 * 1024);
  await writeFile(s.localAt('f'), content);
  const fh = await s.nfs.open(s.at('f'), 'r+');
  const buf = Buffer.alloc(4096);
  for (let at = 0; at < 8 * 4096; at += 4096) await fh.read(buf, 0, 4096, at);
  await fh.write(Buffer.alloc(4096, 0x5a), 0, 4096, 8 * 4096);
  await fh.read(buf, 0, 4096, 8 * 4096);
  t.ok(buf.every((x) => x === 0x5a), 'the written bytes, not the window fetched before');
  await fh.close();

  const direct = await s.nfs.open(s.at('f'), constants.O_RDONLY | (constants.O_DIRECT ?? 0o40000));
  const calls = instrument(s.nfs);
  for (let at = 0; at < 16 * 4096; at += 4096) await direct.read(buf, 0, 4096, at);
  t.equal(calls.log.filter((k) => k === 'read').length, 16, 'one READ per read');
  await direct.close();
});
