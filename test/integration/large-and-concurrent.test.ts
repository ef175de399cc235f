// Sizes and concurrency: offsets past 4 GiB, a 64 MiB round trip, transfers
// split into many rsize/wsize chunks at unaligned offsets, and 100 mixed
// operations in flight at once. Results are checked through mountless and on
// the server's disk (MOUNTLESS_NAS_EXPORT_DIR).
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import { connect } from '../../src/index.js';
import { instrument, NFS_URL, scratch } from './_env.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

const s = await scratch(t, 'large');
const nfs = s.nfs;

t.test('a sparse write at 5 GiB: 64-bit offsets and sizes', async (t) => {
  const tail = Buffer.from('bytes past the 32-bit boundary');
  const at = 5 * GiB + 3;
  const h = await nfs.open(s.at('sparse.bin'), 'w+');
  const w = await h.write(tail, 0, tail.length, at);
  t.equal(w.bytesWritten, tail.length);
  const st = await h.stat();
  t.equal(st.size, at + tail.length);
  t.ok(st.size > 4 * GiB);
  t.equal((await h.stat({ bigint: true })).size, BigInt(at + tail.length));

  const back = Buffer.alloc(tail.length + 10);
  const r = await h.read(back, 0, back.length, at - 10);
  t.equal(r.bytesRead, tail.length + 10, 'read stops at end of file');
  t.ok(back.subarray(0, 10).equals(Buffer.alloc(10)), 'the hole before the data reads as zeros');
  t.ok(back.subarray(10).equals(tail), 'the data at 5 GiB + 3');
  const mid = await h.read(Buffer.alloc(8), 0, 8, 4 * GiB + 12345);
  t.same([mid.bytesRead, mid.buffer], [8, Buffer.alloc(8)], 'a hole past 4 GiB');
  const past = await h.read(Buffer.alloc(8), 0, 8, 6 * GiB);
  t.equal(past.bytesRead, 0, 'nothing past the end');
  await h.close();

  const local = await fsp.stat(s.localAt('sparse.bin'));
  t.equal(local.size, at + tail.length, 'the size on the server disk');
  t.ok(local.blocks * 512 < 16 * MiB, 'the file is sparse on the server disk');
  const fd = await fsp.open(s.localAt('sparse.bin'));
  const onDisk = Buffer.alloc(tail.length);
  await fd.read(onDisk, 0, tail.length, at);
  await fd.close();
  t.ok(onDisk.equals(tail), 'the bytes are at 5 GiB + 3 on the server disk');

  const streamed: Buffer[] = [];
  for await (const c of nfs.createReadStream(s.at('sparse.bin'), { start: at, end: at + 4 })) streamed.push(c as Buffer);
  t.equal(Buffer.concat(streamed).toString(), 'bytes');

  await t.rejects(nfs.readFile(s.at('sparse.bin')), { name: 'RangeError', code: 'ERR_FS_FILE_TOO_LARGE' }, 'readFile refuses more than 2 GiB, as node does');

  await nfs.truncate(s.at('sparse.bin'), 4 * GiB + 1);
  t.equal((await nfs.stat(s.at('sparse.bin'))).size, 4 * GiB + 1);
  t.equal((await fsp.stat(s.localAt('sparse.bin'))).size, 4 * GiB + 1);
  await nfs.unlink(s.at('sparse.bin'));
});

t.test('a 64 MiB writeFile / readFile round trip', async (t) => {
  const data = randomBytes(64 * MiB);
  const digest = sha256(data);
  await nfs.writeFile(s.at('big.bin'), data);
  t.equal((await nfs.stat(s.at('big.bin'))).size, data.length);
  t.equal(sha256(await fsp.readFile(s.localAt('big.bin'))), digest, 'the server disk holds the same bytes');
  const back = await nfs.readFile(s.at('big.bin'));
  t.equal(back.length, data.length);
  t.equal(sha256(back), digest, 'read back through mountless');
  await nfs.copyFile(s.at('big.bin'), s.at('big-copy.bin'));
  t.equal(sha256(await fsp.readFile(s.localAt('big-copy.bin'))), digest, 'copyFile of 64 MiB');
  await nfs.rm(s.at('big.bin'));
  await nfs.rm(s.at('big-copy.bin'));
});

t.test('reads and writes split into many 64 KiB chunks at unaligned offsets', async (t) => {
  const c = await connect(NFS_URL, { rsize: 65536, wsize: 65536 });
  t.teardown(() => c.close());
  t.equal(c.backend.limits.rsize, 65536);
  t.equal(c.backend.limits.wsize, 65536);
  const calls = instrument(c);
  const sizes = { read: [] as number[], write: [] as number[], writeAt: [] as number[] };
  calls.hook.read = (a) => sizes.read.push(a[2] as number);
  calls.hook.write = (a) => {
    sizes.write.push((a[2] as Buffer).length);
    sizes.writeAt.push(a[1] as number);
  };

  const base = randomBytes(2 * MiB);
  await fsp.writeFile(s.localAt('chunks.bin'), base);
  const patch = randomBytes(MiB + 12_345);
  const at = 65536 * 3 + 4097;
  const h = await c.open(s.at('chunks.bin'), 'r+');
  const w = await h.write(patch, 0, patch.length, at);
  t.equal(w.bytesWritten, patch.length);
  t.ok(sizes.write.length >= Math.ceil(patch.length / 65536), `${sizes.write.length} WRITEs for ${patch.length} bytes`);
  t.ok(Math.max(...sizes.write) <= 65536, 'no WRITE larger than wsize');
  t.equal(
    sizes.write.reduce((x, y) => x + y, 0),
    patch.length,
    'the WRITEs add up to the data',
  );
  t.equal(Math.min(...sizes.writeAt), at);

  // One read across the patch's edges and the untouched bytes on either side.
  const from = at - 1000;
  const len = patch.length + 3000;
  const got = Buffer.alloc(len);
  const r = await h.read(got, 0, len, from);
  t.equal(r.bytesRead, len);
  t.ok(sizes.read.length >= Math.ceil(len / 65536), `${sizes.read.length} READs for ${len} bytes`);
  t.ok(Math.max(...sizes.read) <= 65536, 'no READ larger than rsize');
  const expected = Buffer.from(base);
  patch.copy(expected, at);
  t.ok(got.equals(expected.subarray(from, from + len)), 'read back through mountless');
  t.ok((await fsp.readFile(s.localAt('chunks.bin'))).equals(expected), 'the whole file on the server disk');

  // A read running past the end of file comes back short, with every byte before EOF.
  const tailFrom = expected.length - 70_001;
  const tail = await h.read(Buffer.alloc(300_000), 0, 300_000, tailFrom);
  t.equal(tail.bytesRead, 70_001);
  t.ok(tail.buffer.subarray(0, 70_001).equals(expected.subarray(tailFrom)));

  // Growing the file by an unaligned multi-chunk write past its end.
  const ext = randomBytes(200_003);
  await h.write(ext, 0, ext.length, expected.length + 5);
  await h.close();
  const whole = await c.readFile(s.at('chunks.bin'));
  t.equal(whole.length, expected.length + 5 + ext.length);
  t.ok(whole.subarray(expected.length, expected.length + 5).equals(Buffer.alloc(5)));
  t.ok(whole.subarray(expected.length + 5).equals(ext));
  t.equal(sha256(whole), sha256(await fsp.readFile(s.localAt('chunks.bin'))));
});

t.test('100 concurrent operations on distinct files', async (t) => {
  // Two clients: the default window, and one that allows 4 calls in flight, so most wait their turn.
  for (const [label, c] of [
    ['default window', nfs],
    ['maxInFlight 4', await connect(NFS_URL, { maxInFlight: 4 })],
  ] as const) {
    if (c !== nfs) t.teardown(() => c.close());
    const dir = s.at(`conc-${label.replace(/\W+/g, '-')}`);
    const local = s.localAt(`conc-${label.replace(/\W+/g, '-')}`);
    await c.mkdir(dir);
    const content = (i: number) => `file ${i} `.repeat(1 + (i % 7) * 300);
    // Existing files to read, stat and unlink; directories to list.
    for (let i = 0; i < 60; i++) await fsp.writeFile(`${local}/old-${i}`, content(i));
    for (let i = 0; i < 10; i++) {
      await fsp.mkdir(`${local}/list-${i}`);
      for (let k = 0; k <= i; k++) await fsp.writeFile(`${local}/list-${i}/e${k}`, '');
    }

    const ops: Array<() => Promise<unknown>> = [];
    for (let i = 0; i < 20; i++) ops.push(() => c.writeFile(`${dir}/new-${i}`, content(100 + i)));
    for (let i = 0; i < 20; i++) ops.push(async () => t.equal(await c.readFile(`${dir}/old-${i}`, 'utf8'), content(i), `readFile old-${i}`));
    for (let i = 20; i < 40; i++) ops.push(async () => t.equal((await c.stat(`${dir}/old-${i}`)).size, Buffer.byteLength(content(i)), `stat old-${i}`));
    for (let i = 0; i < 10; i++) ops.push(async () => t.same((await c.readdir(`${dir}/list-${i}`)).sort(), Array.from({ length: i + 1 }, (_, k) => `e${k}`).sort(), `readdir list-${i}`));
    for (let i = 0; i < 15; i++) ops.push(() => c.mkdir(`${dir}/made-${i}`));
    for (let i = 40; i < 55; i++) ops.push(() => c.unlink(`${dir}/old-${i}`));
    t.equal(ops.length, 100);

    const results = await Promise.allSettled(ops.map((op) => op()));
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`op ${i}: ${String(r.reason)}`] : []));
    t.same(failed, [], `${label}: every operation succeeded`);

    // The server's disk agrees.
    for (let i = 0; i < 20; i++) t.equal(await fsp.readFile(`${local}/new-${i}`, 'utf8'), content(100 + i), `new-${i} on disk`);
    const names = new Set(await fsp.readdir(local));
    t.same(
      Array.from({ length: 15 }, (_, i) => names.has(`made-${i}`)),
      Array(15).fill(true),
      'every mkdir on disk',
    );
    t.same(
      Array.from({ length: 15 }, (_, i) => names.has(`old-${40 + i}`)),
      Array(15).fill(false),
      'every unlink on disk',
    );
    t.equal(names.size, 60 - 15 + 10 + 20 + 15);
  }
});
