// Snapshot → restore round trips against the real server, compared entry by
// entry on the server's disk: content (sha256), type, mode (setuid, setgid,
// sticky), uid/gid, size, mtime to the nanosecond, symlink targets and hard
// link groups. Also: snapshots on the export in csi-driver-nfs's layout with
// retention, to and from local files (gzip), replacing a volume, and the
// archives restore must refuse (entries escaping the volume, writing through
// a symlink, ownership the server will not give).
import t, { type Test } from 'tap';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, lstat, readdir, readFile, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { connect } from '../../src/index.js';
import { openVolumes, VolumeError, MARKER, encodeHeader, padding, TAR_END, type TarHeader, type Volumes } from '../../src/volume/index.js';
import { NFS_URL, scratch, type Scratch } from './_env.js';
import { diskTree, linkGroups, type DiskEnt } from './_volume-tree.js';

async function setup(t: Test, tag: string): Promise<{ s: Scratch; vols: Volumes }> {
  const s = await scratch(t, tag);
  return { s, vols: await openVolumes(s.nfs, { base: s.dir }) };
}

/** Everything below `dir` on the server's disk, by relative path, the marker left out. */
const snapshotOfDisk = (dir: string) => diskTree(dir, (rel) => rel === MARKER, { symlinkTimes: true });

function compareTrees(t: Test, a: Map<string, DiskEnt>, b: Map<string, DiskEnt>, opts: { symlinkTimes: boolean }): void {
  t.same([...b.keys()].sort(), [...a.keys()].sort(), 'same paths');
  let checked = 0;
  for (const [p, ea] of a) {
    const eb = b.get(p);
    if (!eb) continue;
    // Block counts are the server's allocation, not the data: left out.
    const { ino: _ia, blocks: _ba, mtimeNs: ma, ...ra } = ea;
    const { ino: _ib, blocks: _bb, mtimeNs: mb, ...rb } = eb;
    t.same(rb, ra, `${p}: type, mode, owner, size, target, content`);
    if (ea.type !== 'symlink' || opts.symlinkTimes) t.equal(mb, ma, `${p}: mtime to the nanosecond`);
    checked++;
  }
  t.ok(checked > 0);
  t.same(linkGroups(b), linkGroups(a), 'same hard-link groups');
}

/** A volume with every kind of entry the round trip must keep. Made over NFS, owners and modes set over NFS. */
async function populate(s: Scratch, vol: string): Promise<void> {
  const n = s.nfs;
  const p = (r: string) => `${s.dir}/${vol}/${r}`;
  await n.mkdir(p('dir/sub/deeper'), { recursive: true });
  await n.writeFile(p('plain.txt'), 'hello\n');
  await n.writeFile(p('empty'), '');
  await n.writeFile(p('dir/secret'), 'mode 0400, owner 1234:5678');
  await n.chown(p('dir/secret'), 1234, 5678);
  await n.chmod(p('dir/secret'), 0o400);
  await n.writeFile(p('setuid-bin'), '#!/bin/sh\n');
  await n.chmod(p('setuid-bin'), 0o4755);
  await n.writeFile(p('setgid-bin'), 'x');
  await n.chmod(p('setgid-bin'), 0o2711);
  const big = Buffer.alloc(3 * 1024 * 1024 + 123);
  for (let i = 0; i + 4 <= big.length; i += 4) big.writeUInt32LE((i * 2654435761) >>> 0, i);
  await n.writeFile(p('dir/big.bin'), big);
  await n.writeFile(p('dir/exactly-1MiB'), Buffer.alloc(1024 * 1024, 1));
  await n.writeFile(p('dir/1MiB-plus-1'), Buffer.alloc(1024 * 1024 + 1, 2));
  await n.link(p('plain.txt'), p('dir/hard-1'));
  await n.link(p('plain.txt'), p('dir/sub/hard-2'));
  await n.link(p('dir/big.bin'), p('big-hard'));
  await n.symlink('../plain.txt', p('dir/rel-link'));
  await n.symlink('/etc/passwd', p('abs-link'));
  await n.symlink('does/not/exist', p('dangling'));
  await n.lchown(p('dangling'), 42, 43);
  await n.mkdir(p('sticky'));
  await n.chmod(p('sticky'), 0o1777);
  await n.mkdir(p('owned-dir'));
  await n.writeFile(p('owned-dir/inside'), 'x');
  await n.chown(p('owned-dir'), 65534, 65534);
  await n.chmod(p('owned-dir'), 0o2750);
  const longDir = 'L'.repeat(120);
  await n.mkdir(p(`${longDir}/${longDir}`), { recursive: true });
  await n.writeFile(p(`${longDir}/${longDir}/${'f'.repeat(200)}`), 'long path, pax');
  await n.writeFile(p('ünïcødé-日本.txt'), 'utf-8 name');
  await n.utimes(p('plain.txt'), new Date('2001-02-03T04:05:06.789Z'), new Date('2001-02-03T04:05:06.789Z'));
  // A read-only directory with content: its mode must be set after its children are made.
  await n.mkdir(p('readonly'));
  await n.writeFile(p('readonly/f'), 'inside a 0555 dir');
  await n.chmod(p('readonly'), 0o555);
  await n.chmod(p('dir/sub/deeper'), 0o700);
}

t.test('snapshot on the export → restore to a new name: identical tree', async (t) => {
  const { s, vols } = await setup(t, 'vol-snap');
  await vols.create('ns/src', { mode: 0o2775, uid: 1000, gid: 2000 });
  await populate(s, 'ns/src');
  const before = await snapshotOfDisk(s.localAt('ns/src'));

  const t0 = performance.now();
  const snap = await vols.snapshot('ns/src');
  const ms = performance.now() - t0;
  t.comment(`snapshot: ${snap.entries} entries, ${(snap.bytes / 2 ** 20).toFixed(1)} MiB in ${ms.toFixed(0)} ms`);
  t.match(snap.archive, new RegExp(`^${s.dir}/\\.mountless-snapshots/ns%2Fsrc@\\d{8}T\\d{6}Z-[0-9a-f]{6}/ns%2Fsrc\\.tar\\.gz$`), "csi-driver-nfs layout: <snapshot>/<volume>.tar.gz");
  t.equal(snap.hardLinks, 3, 'second and third names of files archived as links');
  t.same(snap.changed, []);
  t.same(snap.skipped, []);
  const onDisk = await stat(join(s.local, '..', snap.archive!.slice(1)));
  t.ok(onDisk.size > 0 && onDisk.size < snap.tarBytes, 'gzip-compressed on the export');
  await t.rejects(stat(join(s.local, '..', `${snap.archive!.slice(1)}.partial`)), { code: 'ENOENT' }, 'no .partial left');
  const manifest = (await readFile(join(s.local, '..', snap.manifestPath!.slice(1)), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
  t.equal(manifest.length, snap.entries, 'one manifest line per entry');
  // './big-hard' sorts before './dir/big.bin': it carries the content, the other is a link to it.
  const big = manifest.find((m: { path: string; type: string }) => m.path === './big-hard');
  t.match(big, { type: 'file', size: 3 * 1024 * 1024 + 123, sha256: before.get('dir/big.bin')!.sha256 }, 'manifest sha256 matches the content');
  t.match(manifest.find((m: { path: string }) => m.path === './dir/big.bin'), { type: 'link', linkname: './big-hard' });

  t.same(before, await snapshotOfDisk(s.localAt('ns/src')), 'the snapshot did not change the source');
  const t1 = performance.now();
  const r = await vols.restore({ id: snap.id! }, 'ns/copy');
  t.comment(`restore: ${r.entries} entries in ${(performance.now() - t1).toFixed(0)} ms`);
  t.match(r, { files: snap.files, dirs: snap.dirs, symlinks: 3, hardLinks: 3, replaced: false, skipped: [] });
  if (r.symlinkTimesIgnored > 0) t.comment(`the server ignored SETATTR times on ${r.symlinkTimesIgnored} symlinks (NFS-Ganesha VFS does): symlink mtimes not compared`);
  compareTrees(t, before, await snapshotOfDisk(s.localAt('ns/copy')), { symlinkTimes: r.symlinkTimesIgnored === 0 });
  const marker = JSON.parse(await readFile(s.localAt(`ns/copy/${MARKER}`), 'utf8'));
  t.match(marker, { name: 'ns/copy', mode: 0o2775, uid: 1000, gid: 2000 });
  t.match(marker.restoredFrom, new RegExp(`snapshot ${snap.id}`));
  t.same((await readdir(s.localAt('ns'))).sort(), ['copy', 'src'], 'no staging directory left');
  t.match(await vols.list({ usage: false }), [
    { kind: 'managed', path: 'ns/copy' },
    { kind: 'managed', path: 'ns/src' },
  ]);
});

t.test('snapshot to a local .tar.gz, restore from it with replace; GNU tar reads it', async (t) => {
  const { s, vols } = await setup(t, 'vol-snap-local');
  await vols.create('v');
  await populate(s, 'v');
  const before = await snapshotOfDisk(s.localAt('v'));
  const file = join(s.local, '..', `${s.dir.slice(1)}-local.tar.gz`);
  t.teardown(() => import('node:fs/promises').then((f) => f.rm(file, { force: true })));
  const snap = await vols.snapshot('v', { to: createWriteStream(file), gzip: true });
  t.equal(snap.archive, undefined, 'not on the export');
  const { execFileSync } = await import('node:child_process');
  const listing = execFileSync('tar', ['-tzvf', file, '--numeric-owner'], { encoding: 'utf8' });
  t.match(listing, /-rwsr-xr-x 0\/0 .* \.\/setuid-bin/, 'GNU tar sees the setuid bit and owner');
  t.match(listing, /-r-------- 1234\/5678 .* \.\/dir\/secret/);

  // The volume is changed, then restored over from the archive.
  await s.nfs.writeFile(`${s.dir}/v/plain.txt`, 'changed');
  await s.nfs.writeFile(`${s.dir}/v/new-file`, 'added after the snapshot');
  t.match(await vols.restore(createReadStream(file), 'v').catch((e: unknown) => e), { code: 'ERR_VOLUME_CONFLICT' }, 'an existing volume needs replace');
  const r = await vols.restore(createReadStream(file), 'v', { replace: true });
  t.equal(r.replaced, true);
  compareTrees(t, before, await snapshotOfDisk(s.localAt('v')), { symlinkTimes: r.symlinkTimesIgnored === 0 });
  t.same(await readdir(s.localAt('.mountless-trash')), [], 'the replaced tree was removed');
  t.same((await readdir(s.local)).sort(), ['.mountless-trash', 'v']);
});

t.test('retention: keep N snapshots per volume, newest first', async (t) => {
  const { vols } = await setup(t, 'vol-snap-keep');
  await vols.create('r');
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) ids.push((await vols.snapshot('r', { keep: 2 })).id!);
  const left = await vols.snapshots('r');
  t.equal(left.length, 2);
  t.same(left.map((x) => x.id).sort(), ids.slice(2).sort(), 'the two newest kept');
  await vols.deleteSnapshot(left[0]!.id);
  const [remaining] = await vols.snapshots('r');
  t.equal(remaining?.id, left[1]!.id, 'deleteSnapshot removed only that one');
  t.match(await vols.snapshot('r', { id: remaining!.id }).catch((e: unknown) => e), { code: 'ERR_VOLUME_CONFLICT' }, 'an existing snapshot id is not overwritten');
});

t.test('quiesce hook brackets the walk', async (t) => {
  const { vols } = await setup(t, 'vol-snap-quiesce');
  await vols.create('q');
  const calls: string[] = [];
  await vols.snapshot('q', {
    to: new (await import('node:stream')).PassThrough().resume(),
    quiesce: async (ref) => {
      calls.push(`freeze ${ref.name}`);
      return async () => void calls.push('thaw');
    },
  });
  t.same(calls, ['freeze q', 'thaw']);
});

function tarOf(entries: { h: Partial<TarHeader> & { path: string; type: TarHeader['type'] }; data?: string }[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '');
    parts.push(encodeHeader({ mode: 0o644, uid: 0, gid: 0, mtime: { sec: 1_700_000_000, nsec: 0 }, size: data.length, ...e.h }), data, padding(data.length));
  }
  parts.push(TAR_END);
  return Buffer.concat(parts);
}

t.test('restore refuses archives that would write outside the volume, and leaves nothing behind', async (t) => {
  const { s, vols } = await setup(t, 'vol-snap-evil');
  const out = await scratch(t, 'vol-snap-evil-out');
  const cases: [string, Buffer][] = [
    ['dot-dot', tarOf([{ h: { path: './', type: 'directory' } }, { h: { path: './../../escape', type: 'file' }, data: 'x' }])],
    ['absolute', tarOf([{ h: { path: '/etc/escape', type: 'file' }, data: 'x' }])],
    [
      'through a symlink',
      tarOf([
        { h: { path: './a', type: 'symlink', linkname: out.dir } },
        { h: { path: './a/pwned', type: 'file' }, data: 'x' },
      ]),
    ],
    ['hard link to something not in the archive', tarOf([{ h: { path: './l', type: 'link', linkname: '../../../etc/passwd' } }])],
    ['garbage', Buffer.alloc(2048, 'not a tar archive')],
  ];
  for (const [what, bytes] of cases) {
    const err = await vols.restore(Readable.from([bytes]), 'evil').catch((e: unknown) => e);
    t.ok(err instanceof Error, `${what}: refused (${String(err)})`);
    if (what !== 'garbage') t.ok(err instanceof VolumeError && err.code === 'ERR_VOLUME_SNAPSHOT', `${what}: ERR_VOLUME_SNAPSHOT`);
  }
  t.same(await readdir(out.local), [], 'nothing written outside');
  t.same(await readdir(s.local), [], 'no staging directory or volume left');
});

t.test('restore of a foreign archive: missing parents made, marker added, devices listed as skipped', async (t) => {
  const { s, vols } = await setup(t, 'vol-snap-foreign');
  const bytes = tarOf([
    { h: { path: 'deep/er/file', type: 'file', uid: 7, gid: 8, mode: 0o640 }, data: 'no directory entries before me' },
    { h: { path: 'fifo', type: 'fifo' } },
  ]);
  const r = await vols.restore(Readable.from([bytes]), 'foreign');
  t.same(r.skipped, ['fifo']);
  const st = await stat(s.localAt('foreign/deep/er/file'));
  t.match({ mode: st.mode & 0o7777, uid: st.uid, gid: st.gid }, { mode: 0o640, uid: 7, gid: 8 });
  t.match(JSON.parse(await readFile(s.localAt(`foreign/${MARKER}`), 'utf8')), { name: 'foreign', restoredFrom: 'archive' });
  t.equal((await stat(s.localAt('foreign'))).mode & 0o7777, 0o777);
});

t.test('ownership the server will not give is an error, never dropped', async (t) => {
  const { s, vols } = await setup(t, 'vol-snap-owner');
  await chmod(s.local, 0o777);
  const user = await connect(NFS_URL, { uid: 1000, gid: 1000 });
  t.teardown(() => user.close());
  const asUser = await openVolumes(user, { base: s.dir });
  const bytes = tarOf([
    { h: { path: './', type: 'directory', uid: 1000, gid: 1000, mode: 0o755 } },
    { h: { path: './mine', type: 'file', uid: 1000, gid: 1000 }, data: 'ok' },
    { h: { path: './roots', type: 'file', uid: 0, gid: 0 }, data: 'cannot be given to root by uid 1000' },
  ]);
  const err = await asUser.restore(Readable.from([bytes]), 'owned').catch((e: unknown) => e);
  t.ok(err instanceof VolumeError && err.code === 'ERR_VOLUME_OWNERSHIP', `refused: ${String(err)}`);
  t.same(await readdir(s.local), [], 'staging removed, no volume made');
  // The same archive restores as root, owners kept.
  await vols.restore(Readable.from([bytes]), 'owned');
  t.equal((await stat(s.localAt('owned/roots'))).uid, 0);
  t.equal((await stat(s.localAt('owned/mine'))).uid, 1000);
});
