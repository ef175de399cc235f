// Unstable writes are kept until COMMIT and sent again if the server lost
// them (the write verifier changed). The copies kept must be the bytes of
// each write as it was, even when the caller reuses one buffer for every
// write (as streams and benchmarks do) and the copies' memory is recycled.
import t from 'tap';
import type { Attrs, Backend, Looked, StableHow } from '../../src/fs/backend.js';
import { NfsClient } from '../../src/fs/client.js';

const MiB = 1024 * 1024;
const t0 = { sec: Math.floor(Date.now() / 1000), nsec: 0 };

/** A server with one file 'f' that keeps unstable writes in memory until COMMIT, and can restart (losing them). */
function server() {
  let disk = Buffer.alloc(0);
  let volatile: Array<{ at: number; data: Buffer }> = [];
  let boot = 1;
  const verf = () => Buffer.from(`verf${boot}`.padEnd(8, '.'));
  const counts = { write: 0, syncWrite: 0, commit: 0 };
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
