// Unstable writes are kept until COMMIT and sent again if the server lost
// them (the write verifier changed). The copies kept must be the bytes of
// each write as it was, even when the caller reuses one buffer for every
// write (as streams and benchmarks do) and the copies' memory is recycled.
import t from 'tap';
import type { Attrs, Backend, Looked, StableHow } from '../../src/fs/backend.js';
import { NfsClient } from '../../src/fs/client.js';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const MiB = 1024 * 1024;
const t0 = { sec: Math.floor(Date.now() / 1000), nsec: 0 };

/** A server with one file 'f' that keeps unstable writes in memory until COMMIT, and can restart (losing them). */
function server(opts: { delayMs?: number; failAt?: number; restartAtFirstCommit?: boolean } = {}) {
  let disk = Buffer.alloc(0);
  let volatile: Array<{ at: number; data: Buffer }> = [];
  let boot = 1;
  const verf = () => Buffer.from(`verf${boot}`.padEnd(8, '.'));
  const counts = { write: 0, syncWrite: 0, commit: 0, concurrent: 0, maxConcurrent: 0, sizes: [] as number[] };
  const apply = (at: number, data: Buffer) => {
    if (disk.length < at + data.length) disk = Buffer.concat([disk, Buffer.alloc(at + data.length - disk.length)]);
    data.copy(disk, at);
  };
  const attrs = (): Attrs => ({ kind: 'file', mode: 0o644, nlink: 1, uid: 0, gid: 0, size: disk.length, used: disk.length, rdev: 0, fsid: 1n, fileid: 2n, atime: t0, mtime: t0, ctime: t0 });
  const b = {
    version: 'fake',
    rootFh: Buffer.from('root'),
    limits: { rsize: MiB, wsize: MiB, dtpref: 4096, maxFileSize: 2 ** 40 },
    async lookup(_d: Buffer, name: string): Promise<Looked> {
      if (name !== 'f') throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      return { fh: Buffer.from('f'), attrs: attrs() };
    },
    async getattr(fh: Buffer) {
      return fh.toString() === 'root' ? { ...attrs(), kind: 'directory' as const } : attrs();
    },
    async access(_fh: Buffer, mask: number) {
      return mask;
    },
    async write(_fh: Buffer, at: number, data: Buffer, stable: StableHow) {
      // The server takes its own copy, as the wire would.
      const mine = Buffer.from(data);
      counts.sizes.push(data.length);
      counts.maxConcurrent = Math.max(counts.maxConcurrent, ++counts.concurrent);
      try {
        if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
        if (opts.failAt !== undefined && at <= opts.failAt && opts.failAt < at + data.length) {
          throw Object.assign(new Error('NFS3ERR_NOSPC'), { code: 'ENOSPC', nfsStatus: 'NFS3ERR_NOSPC' });
        }
      } finally {
        counts.concurrent--;
      }
      if (stable === 'unstable') {
        counts.write++;
        volatile.push({ at, data: mine });
      } else {
        counts.syncWrite++;
        apply(at, mine);
      }
      return { count: data.length, committed: stable, verf: verf() };
    },
    async commit() {
      counts.commit++;
      if (opts.restartAtFirstCommit && counts.commit === 1) {
        volatile = [];
        boot++;
      }
      for (const w of volatile) apply(w.at, w.data);
      volatile = [];
      return verf();
    },
    restart() {
      volatile = [];
      boot++;
    },
  };
  return { b, counts, disk: () => disk };
}

function pattern(k: number): Buffer {
  const b = Buffer.alloc(MiB);
  for (let i = 0; i < b.length; i += 4) b.writeUInt32BE((k * 2654435761 + i) >>> 0, i);
  return b;
}

t.test('a restart before COMMIT: every unstable write is sent again from its own copy', async (t) => {
  const { b, counts, disk } = server();
  const nfs = new NfsClient(b as unknown as Backend, { umask: 0o022, readonly: false });
  // Two rounds, so the second reuses the copies' memory recycled after the first COMMIT.
  for (const round of [0, 1]) {
    const fh = await nfs.open('/f', 'r+');
    const buf = Buffer.alloc(MiB);
    const n = 12;
    for (let k = 0; k < n; k++) {
      pattern(round * 100 + k).copy(buf); // one buffer, overwritten for every write
      await fh.write(buf, 0, MiB, k * MiB);
    }
    buf.fill(0xaa); // the caller's buffer changes before the COMMIT
    b.restart(); // the server loses everything unstable
    const before = counts.syncWrite;
    await fh.close();
    t.equal(counts.syncWrite - before, n, `round ${round}: all ${n} writes sent again, stably`);
    for (let k = 0; k < n; k++) {
      t.ok(disk().subarray(k * MiB, (k + 1) * MiB).equals(pattern(round * 100 + k)), `round ${round}: MiB ${k} on disk is what was written`);
    }
  }
});

t.test('no restart: one COMMIT, nothing sent twice', async (t) => {
  const { b, counts, disk } = server();
  const nfs = new NfsClient(b as unknown as Backend, { umask: 0o022, readonly: false });
  const fh = await nfs.open('/f', 'r+');
  const buf = Buffer.alloc(MiB);
  for (let k = 0; k < 4; k++) {
    pattern(k).copy(buf);
    await fh.write(buf, 0, MiB, k * MiB);
  }
  await fh.close();
  t.equal(counts.syncWrite, 0);
  t.equal(counts.write, 4);
  t.ok(counts.commit >= 1);
  for (let k = 0; k < 4; k++) t.ok(disk().subarray(k * MiB, (k + 1) * MiB).equals(pattern(k)), `MiB ${k}`);
});

/** A Readable of `total` bytes of pattern(k) data in chunks of `chunk` bytes, reusing nothing. */
function source(total: number, chunk: number): { stream: Readable; expected: Buffer } {
  const expected = Buffer.alloc(total);
  for (let off = 0; off < total; off += MiB) pattern(off / MiB).copy(expected, off);
  let off = 0;
  const stream = new Readable({
    read() {
      if (off >= total) return this.push(null);
      const n = Math.min(chunk, total - off);
      this.push(Buffer.from(expected.subarray(off, off + n)));
      off += n;
    },
  });
  return { stream, expected };
}

t.test('createWriteStream: small chunks are coalesced, WRITEs overlap, the bytes arrive in place', async (t) => {
  const { b, counts, disk } = server({ delayMs: 2 });
  const nfs = new NfsClient(b as unknown as Backend, { umask: 0o022, readonly: false });
  const total = 6 * MiB + 12345;
  const { stream, expected } = source(total, 16 * 1024);
  const ws = nfs.createWriteStream('/f', { flags: 'r+' });
  await pipeline(stream, ws);
  t.equal(ws.bytesWritten, total);
  t.ok(disk().equals(expected), 'the file holds exactly what was streamed');
  t.ok(Math.max(...counts.sizes) > 16 * 1024, `16 KiB chunks went out as larger WRITEs (largest ${Math.max(...counts.sizes)})`);
  t.ok(counts.maxConcurrent > 1, `WRITEs overlapped (at most ${counts.maxConcurrent} at once)`);
});

t.test('createWriteStream: a failed WRITE fails the stream with its error', async (t) => {
  const { b } = server({ delayMs: 1, failAt: 3 * MiB + 10 });
  const nfs = new NfsClient(b as unknown as Backend, { umask: 0o022, readonly: false });
  const { stream } = source(8 * MiB, 64 * 1024);
  const ws = nfs.createWriteStream('/f', { flags: 'r+' });
  await t.rejects(pipeline(stream, ws), { code: 'ENOSPC' });
  t.ok(ws.bytesWritten < 8 * MiB, 'not everything counted as written');
});

t.test('createWriteStream with start: writes land from there; the rest of the file stays', async (t) => {
  const { b, disk } = server();
  const nfs = new NfsClient(b as unknown as Backend, { umask: 0o022, readonly: false });
  const fh = await nfs.open('/f', 'r+');
  await fh.write(Buffer.alloc(3 * MiB, 0x11), 0, 3 * MiB, 0);
  await fh.close();
  const { stream, expected } = source(MiB + 5, 100_000);
  await pipeline(stream, nfs.createWriteStream('/f', { flags: 'r+', start: MiB - 7 }));
  t.ok(disk().subarray(0, MiB - 7).every((x) => x === 0x11), 'before start: untouched');
  t.ok(disk().subarray(MiB - 7, 2 * MiB - 2).equals(expected), 'the streamed bytes at start');
  t.ok(disk().subarray(2 * MiB - 2).every((x) => x === 0x11), 'after: untouched');
});

t.test('writeFile by path: a restart before its COMMIT is survived from the caller\'s own buffer', async (t) => {
  const { b, counts, disk } = server({ restartAtFirstCommit: true });
  const nfs = new NfsClient(b as unknown as Backend, { umask: 0o022, readonly: false });
  const data = Buffer.concat(Array.from({ length: 6 }, (_, k) => pattern(k)));
  await nfs.writeFile('/f', data, { flag: 'r+' });
  t.ok(counts.syncWrite > 0, 'the writes were sent again, stably');
  t.ok(disk().subarray(0, data.length).equals(data), 'the file holds the data');
  t.ok(data.equals(Buffer.concat(Array.from({ length: 6 }, (_, k) => pattern(k)))), 'the caller\'s buffer untouched');
});

t.test('close() and sync() wait for the calls already in flight, not for later ones', async (t) => {
  const { b, counts } = server({ delayMs: 30 });
  const nfs = new NfsClient(b as unknown as Backend, { umask: 0o022, readonly: false });
  const fh = await nfs.open('/f', 'r+');
  const order: string[] = [];
  const w1 = fh.write(pattern(1), 0, MiB, 0).then(() => order.push('write 1'));
  const synced = fh.sync().then(() => order.push('sync'));
  const w2 = fh.write(pattern(2), 0, MiB, MiB).then(() => order.push('write 2'));
  await Promise.all([w1, synced, w2]);
  t.equal(order.indexOf('write 1') < order.indexOf('sync'), true, 'sync waited for the write before it');
  const w3 = fh.write(pattern(3), 0, MiB, 2 * MiB).then(() => order.push('write 3'));
  await fh.close().then(() => order.push('close'));
  await w3;
  t.ok(order.indexOf('write 3') < order.indexOf('close'), 'close waited for the write in flight');
  t.ok(counts.commit >= 2, 'sync and close each COMMITted');
});
