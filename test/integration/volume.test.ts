// Volumes against the real server: create (mode and owner exact on the
// server's disk, idempotent, refusals), list classification, archive,
// delete, retain, usage with hard links, df, and the confinement rules:
// names that would leave the base and symlinks anywhere below it are
// refused or never followed, and the base itself is never removed.
import t, { type Test } from 'tap';
import { lstat, mkdir, readdir, readFile, readlink, stat, statfs, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openVolumes, VolumeError, MARKER, type ListEntry, type Volumes } from '../../src/volume/index.js';
import { scratch, type Scratch } from './_env.js';

async function setup(t: Test, tag: string): Promise<{ s: Scratch; vols: Volumes }> {
  const s = await scratch(t, tag);
  return { s, vols: await openVolumes(s.nfs, { base: s.dir }) };
}

/** The error code a promise rejects with (VolumeError code or errno code). */
async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

/** Every path under `dir` on the server's disk, relative, sorted (directories with a trailing '/'). */
async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const stack = [''];
  while (stack.length > 0) {
    const rel = stack.pop()!;
    for (const e of await readdir(join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        out.push(r + '/');
        stack.push(r);
      } else out.push(r);
    }
  }
  return out.sort();
}

t.test('create: one MKDIR with exact mode, owner, marker; parents made; staging never left behind', async (t) => {
  const { s, vols } = await setup(t, 'vol-create');
  const r = await vols.create('team-a/data', { mode: 0o2770, uid: 1234, gid: 5678, labels: { app: 'db' }, requestedBytes: 10 * 2 ** 30 });
  t.equal(r.created, true);
  t.equal(r.path, `${s.dir}/team-a/data`);
  const st = await stat(s.localAt('team-a/data'));
  t.equal(st.mode & 0o7777, 0o2770, 'mode exact on the server disk, setgid included');
  t.equal(st.uid, 1234);
  t.equal(st.gid, 5678);
  t.same(r.fixed, ['mode'], 'Linux mkdir drops setgid: put back by SETATTR and reported');
  t.equal((await stat(s.localAt('team-a'))).mode & 0o7777, 0o755, 'parent made with parentMode');
  const marker = JSON.parse(await readFile(s.localAt(`team-a/data/${MARKER}`), 'utf8'));
  t.match(marker, { kind: 'mountless.volume/v1', name: 'team-a/data', labels: { app: 'db' }, requestedBytes: 10 * 2 ** 30, mode: 0o2770, uid: 1234, gid: 5678 });
  t.ok(!Number.isNaN(Date.parse(marker.created)));
  t.same(await readdir(s.localAt('team-a')), ['data'], 'no staging directory left');

  for (const [name, mode] of [
    ['plain', 0o777],
    ['sticky', 0o1777],
    ['private', 0o700],
  ] as const) {
    await vols.create(name, { mode });
    t.equal((await stat(s.localAt(name))).mode & 0o7777, mode, `${name}: ${mode.toString(8)} exact, whatever the umask`);
  }
  await vols.create('default');
  t.equal((await stat(s.localAt('default'))).mode & 0o7777, 0o777, 'default mode 0777, as the provisioners use');
});

t.test('create is idempotent; unmanaged, conflicting and nested names are refused', async (t) => {
  const { s, vols } = await setup(t, 'vol-idem');
  const first = await vols.create('ns/pvc', { mode: 0o770 });
  const again = await vols.create('ns/pvc', { mode: 0o777 });
  t.equal(again.created, false, 'existing managed volume: success, not created');
  t.same(again.marker, first.marker, 'the existing marker is returned');
  t.equal((await stat(s.localAt('ns/pvc'))).mode & 0o7777, 0o770, 'and left as it was');

  await mkdir(s.localAt('ns/unmanaged'));
  await writeFile(s.localAt('ns/unmanaged/precious'), 'data');
  t.equal(await codeOf(vols.create('ns/unmanaged')), 'ERR_VOLUME_UNMANAGED');
  t.equal(await readFile(s.localAt('ns/unmanaged/precious'), 'utf8'), 'data', 'untouched');
  t.notOk((await readdir(s.localAt('ns/unmanaged'))).includes(MARKER), 'no marker added');

  await writeFile(s.localAt('ns/a-file'), 'x');
  t.equal(await codeOf(vols.create('ns/a-file')), 'ERR_VOLUME_CONFLICT', 'a file of that name');
  await mkdir(s.localAt('ns/other'));
  await writeFile(s.localAt(`ns/other/${MARKER}`), JSON.stringify({ kind: 'mountless.volume/v1', name: 'ns/elsewhere', created: new Date().toISOString() }));
  t.equal(await codeOf(vols.create('ns/other')), 'ERR_VOLUME_CONFLICT', 'a marker naming another volume');
  await mkdir(s.localAt('ns/junk'));
  await writeFile(s.localAt(`ns/junk/${MARKER}`), 'not json');
  t.equal(await codeOf(vols.create('ns/junk')), 'ERR_VOLUME_CONFLICT', 'a marker that is not ours');
  t.equal(await codeOf(vols.create('ns/pvc/inner')), 'ERR_VOLUME_CONFLICT', 'inside another volume');
  t.notOk((await readdir(s.localAt('ns/pvc'))).includes('inner'));
  t.same((await readdir(s.localAt('ns'))).filter((n) => n.startsWith('.mountless')), [], 'no staging left by the refusals');
});

t.test('names that would leave the base are refused before anything is sent', async (t) => {
  const { s, vols } = await setup(t, 'vol-names');
  const before = await tree(s.local);
  for (const name of ['', '/abs', '/', '..', '../escape', 'a/../../escape', 'a//b', './x', 'x/.', '.mountless-trash', 'archived-x', 'a\nb']) {
    for (const op of [
      () => vols.create(name),
      () => vols.delete(name),
      () => vols.delete(name, { onDelete: 'archive' }),
      () => vols.usage(name),
      () => vols.snapshot(name, { to: undefined }),
    ]) {
      const err = await op().then(
        () => undefined,
        (e: unknown) => e,
      );
      t.ok(err instanceof VolumeError && err.code === 'ERR_VOLUME_NAME', `${JSON.stringify(name)} refused: ${String(err)}`);
    }
  }
  t.same(await tree(s.local), before, 'nothing created or removed');
  const outside = (await readdir(join(s.local, '..'))).length;
  t.ok(outside > 0);
});

t.test('symlinks below the base are never followed: create, delete, archive, usage', async (t) => {
  const { s, vols } = await setup(t, 'vol-symlink');
  const out = await scratch(t, 'vol-outside');
  await writeFile(out.localAt('canary'), 'keep me');
  await mkdir(out.localAt('sub'));
  await writeFile(out.localAt('sub/canary2'), 'keep me too');
  const outsideBefore = await tree(out.local);

  // A namespace directory that is a symlink to somewhere else.
  await symlink(out.local, s.localAt('evil'));
  t.equal(await codeOf(vols.create('evil/pvc')), 'ERR_VOLUME_SYMLINK', 'create through a symlinked parent');
  t.equal(await codeOf(vols.delete('evil')), 'ERR_VOLUME_SYMLINK', 'delete of a symlink as if a volume');
  t.equal(await codeOf(vols.delete('evil', { force: true })), 'ERR_VOLUME_SYMLINK', 'even with force');
  t.equal(await codeOf(vols.delete('evil/sub', { force: true })), 'ERR_VOLUME_SYMLINK', 'delete through it');
  t.equal(await codeOf(vols.delete('evil', { onDelete: 'archive', force: true })), 'ERR_VOLUME_SYMLINK', 'archive of it');
  t.equal(await codeOf(vols.usage('evil')), 'ERR_VOLUME_SYMLINK');
  t.equal(await readlink(s.localAt('evil')), out.local, 'the symlink itself is left alone');

  // A volume full of symlinks pointing out: absolute (export-relative for us, host-absolute on the server) and relative.
  await vols.create('vol');
  await symlink(`/${out.dir.slice(1)}`, s.localAt('vol/abs-export'));
  await symlink(out.local, s.localAt('vol/abs-host'));
  await symlink('../../' + out.dir.slice(1), s.localAt('vol/rel'));
  await symlink(out.localAt('canary'), s.localAt('vol/to-file'));
  await mkdir(s.localAt('vol/d'));
  await symlink(out.local, s.localAt('vol/d/deeper'));
  const u = await vols.usage('vol');
  t.equal(u.symlinks, 5, 'symlinks counted as symlinks');
  t.equal(u.files, 1, 'only the marker: nothing outside counted');
  const r = await vols.delete('vol');
  t.equal(r.action, 'deleted');
  t.equal(r.stats.files, 6, 'five symlinks and the marker unlinked');
  t.same(await tree(out.local), outsideBefore, 'outside: every file still there');
  t.equal(await readFile(out.localAt('sub/canary2'), 'utf8'), 'keep me too');
  await t.rejects(lstat(s.localAt('vol')), { code: 'ENOENT' });
});

t.test('a directory swapped for a symlink while a delete runs: the delete never follows it', async (t) => {
  const { s, vols } = await setup(t, 'vol-swap');
  const out = await scratch(t, 'vol-swap-out');
  for (let i = 0; i < 40; i++) await writeFile(out.localAt(`victim-${i}`), 'x');
  const outsideBefore = await tree(out.local);
  await vols.create('vol');
  for (const d of ['a', 'b', 'c', 'd']) {
    await s.nfs.mkdir(`${s.dir}/vol/${d}`);
    for (let i = 0; i < 40; i++) await s.nfs.writeFile(`${s.dir}/vol/${d}/victim-${i}`, 'y');
  }
  let swapped = 0;
  // After the first removals, a tenant replaces every directory not yet finished with a symlink out.
  const r = await vols
    .delete('vol', {
      concurrency: 1,
      listers: 1,
      retries: 1,
      retryDelayMs: 1,
      onProgress: (st) => {
        if (st.files !== 3 || swapped > 0) return;
        const trash = join(s.local, '.mountless-trash');
        swapped = -1;
        void (async () => {
          const [entry] = await readdir(trash);
          for (const d of ['a', 'b', 'c', 'd']) {
            const p = join(trash, entry!, d);
            try {
              await (await import('node:fs/promises')).rename(p, `${p}-moved`);
              await symlink(out.local, p);
              swapped++;
            } catch {
              // already removed
            }
          }
        })();
      },
    })
    .catch((e: unknown) => e);
  t.comment(`delete after swapping ${swapped} directories: ${r instanceof Error ? r.message : 'complete'}`);
  t.same(await tree(out.local), outsideBefore, 'nothing outside was removed');
  // The next run finishes the trash entry: the symlinks are unlinked as what they are.
  const again = await vols.delete('vol');
  t.equal(again.action, 'deleted');
  t.same(await readdir(s.localAt('.mountless-trash')), [], 'trash empty');
  t.same(await tree(out.local), outsideBefore, 'and outside still intact');
});

t.test('list: managed, archived, trash, staging and orphan entries, with usage', async (t) => {
  const { s, vols } = await setup(t, 'vol-list');
  await vols.create('flat');
  await vols.create('ns1/a');
  await vols.create('ns1/b');
  await vols.create('deep/x/y');
  await s.nfs.writeFile(`${s.dir}/flat/data.bin`, Buffer.alloc(12345));
  await s.nfs.mkdir(`${s.dir}/flat/sub`);
  await s.nfs.writeFile(`${s.dir}/flat/sub/more`, 'abc');
  await vols.create('to-archive');
  const arch = await vols.delete('to-archive', { onDelete: 'archive' });
  await vols.create('ns2/gone');
  await vols.delete('ns2/gone', { onDelete: 'archive' });
  // Left behind by an interrupted delete and a crashed create, as they would be.
  await mkdir(s.localAt('.mountless-trash/old%2Fpvc@20250101T000000Z-deadbeef/x'), { recursive: true });
  await mkdir(s.localAt('ns1/.mountless-new-0123456789ab'));
  // Orphans: a plain directory with files, an empty one, a parent holding only an orphan, one next to volumes.
  await mkdir(s.localAt('legacy-pvc'));
  await writeFile(s.localAt('legacy-pvc/file'), 'x');
  await mkdir(s.localAt('empty'));
  await mkdir(s.localAt('nsx/leftover'), { recursive: true });
  await mkdir(s.localAt('ns1/stray'));
  await writeFile(s.localAt('stray-file'), 'ignored: not a directory');
  await mkdir(s.localAt('.snapshot'));

  const l = await vols.list();
  const brief = l.map((e: ListEntry) => `${e.kind} ${e.path}${e.name && e.name !== e.path ? ` (${e.name})` : ''}`);
  t.same(
    brief,
    [
      `trash .mountless-trash/old%2Fpvc@20250101T000000Z-deadbeef (old/pvc)`,
      `archived ${arch.archivedTo} (to-archive)`,
      `archived ${l.find((e) => e.name === 'ns2/gone')!.path} (ns2/gone)`,
      'managed deep/x/y',
      'orphan empty',
      'managed flat',
      'orphan legacy-pvc',
      'staging ns1/.mountless-new-0123456789ab',
      'managed ns1/a',
      'managed ns1/b',
      'orphan ns1/stray',
      'orphan nsx',
    ].sort((a, b) => (a.split(' ')[1]! < b.split(' ')[1]! ? -1 : 1)),
    brief.join('\n'),
  );
  t.match(l.find((e) => e.name === 'ns2/gone')!.path, /^archived-ns2\/gone-\d{8}T\d{6}Z$/);
  const flat = l.find((e) => e.path === 'flat')!;
  t.match(flat.usage, { files: 3, dirs: 2, bytes: 12345 + 3 + (await stat(s.localAt(`flat/${MARKER}`))).size, extraLinks: 0 });
  t.equal(l.find((e) => e.kind === 'trash')!.deletedAt, '2025-01-01T00:00:00.000Z');
  t.ok(l.every((e) => e.usage !== undefined), 'usage for every entry');
  const noUsage = await vols.list({ usage: false });
  t.ok(noUsage.every((e) => e.usage === undefined));
});

t.test('archive: one rename to archived-<name>-<stamp>, nested parents made, empty parents removed', async (t) => {
  const { s, vols } = await setup(t, 'vol-archive');
  await vols.create('ns/a');
  await vols.create('ns/b');
  await s.nfs.writeFile(`${s.dir}/ns/a/data`, 'payload');
  const ino = (await stat(s.localAt('ns/a/data'))).ino;
  const r = await vols.delete('ns/a', { onDelete: 'archive' });
  t.equal(r.action, 'archived');
  t.match(r.archivedTo, /^archived-ns\/a-\d{8}T\d{6}Z$/);
  t.equal((await stat(s.localAt(`${r.archivedTo}/data`))).ino, ino, 'same inode: renamed, not copied');
  t.equal(await readFile(s.localAt(`${r.archivedTo}/data`), 'utf8'), 'payload');
  await t.rejects(stat(s.localAt('ns/a')), { code: 'ENOENT' });
  t.same(r.removedParents, [], "'ns' still holds 'b'");
  const r2 = await vols.delete('ns/b', { onDelete: 'archive' });
  t.same(r2.removedParents, ['ns'], "'ns' left empty and removed");
  await t.rejects(stat(s.localAt('ns')), { code: 'ENOENT' });
  t.ok((await stat(s.local)).isDirectory(), 'the base stays');
  t.equal((await vols.delete('ns/b', { onDelete: 'archive' })).action, 'absent', 'a retried archive is not an error');
  await vols.create('flat');
  const r3 = await vols.delete('flat', { onDelete: 'archive' });
  t.match(r3.archivedTo, /^archived-flat-\d{8}T\d{6}Z$/);
  // The same name archived again (within the same second, or not): never overwrites an earlier archive.
  await vols.create('flat');
  const r4 = await vols.delete('flat', { onDelete: 'archive' });
  t.not(r4.archivedTo, r3.archivedTo);
  t.ok((await stat(s.localAt(r3.archivedTo!))).isDirectory());
  t.ok((await stat(s.localAt(r4.archivedTo!))).isDirectory());
});

t.test('retain keeps the volume; unmanaged directories are refused unless forced', async (t) => {
  const { s, vols } = await setup(t, 'vol-retain');
  await vols.create('keep');
  t.equal((await vols.delete('keep', { onDelete: 'retain' })).action, 'retained');
  t.ok((await stat(s.localAt(`keep/${MARKER}`))).isFile());
  await mkdir(s.localAt('orphan/sub'), { recursive: true });
  await writeFile(s.localAt('orphan/sub/f'), 'x');
  t.equal(await codeOf(vols.delete('orphan')), 'ERR_VOLUME_UNMANAGED');
  t.equal(await codeOf(vols.delete('orphan', { onDelete: 'archive' })), 'ERR_VOLUME_UNMANAGED');
  t.ok((await stat(s.localAt('orphan/sub/f'))).isFile(), 'untouched');
  const r = await vols.delete('orphan', { force: true });
  t.equal(r.action, 'deleted');
  await t.rejects(stat(s.localAt('orphan')), { code: 'ENOENT' });
  t.equal((await vols.delete('never-existed')).action, 'absent', 'deleting a missing volume is not an error (retries)');
});

t.test('delete: the name is free at once, the tree goes, empty parents go, the base stays', async (t) => {
  const { s, vols } = await setup(t, 'vol-delete');
  await vols.create('a/b/c');
  await s.nfs.mkdir(`${s.dir}/a/b/c/x/y`, { recursive: true });
  await s.nfs.writeFile(`${s.dir}/a/b/c/x/y/f`, 'data');
  const r = await vols.delete('a/b/c');
  t.equal(r.action, 'deleted');
  t.same(r.removedParents, ['a/b', 'a']);
  t.match(r.stats, { files: 2, dirs: 3, failed: [], skipped: [] });
  t.same(await readdir(s.local), ['.mountless-trash'], 'only the (empty) trash directory is left in the base');
  t.same(await readdir(s.localAt('.mountless-trash')), []);
  // The name can be reused right away.
  t.equal((await vols.create('a/b/c')).created, true);
});

t.test('usage: bytes and files, hard links once, symlinks not followed; df from FSSTAT', async (t) => {
  const { s, vols } = await setup(t, 'vol-usage');
  await vols.create('u');
  const p = (r: string) => `${s.dir}/u/${r}`;
  await s.nfs.mkdir(p('d1/d2'), { recursive: true });
  await s.nfs.writeFile(p('a'), Buffer.alloc(1000));
  await s.nfs.writeFile(p('d1/b'), Buffer.alloc(70_000));
  await s.nfs.writeFile(p('d1/d2/c'), Buffer.alloc(3));
  await s.nfs.link(p('d1/b'), p('hard1'));
  await s.nfs.link(p('d1/b'), p('d1/d2/hard2'));
  await s.nfs.symlink('d1/b', p('sym'));
  const u = await vols.usage('u');
  const marker = (await stat(s.localAt(`u/${MARKER}`))).size;
  t.match(u, { files: 4, bytes: 1000 + 70_000 + 3 + marker, dirs: 3, symlinks: 1, extraLinks: 2, other: 0, skipped: [] });
  // Cross-check with the server's disk: unique inodes below the volume.
  const seen = new Map<number, number>();
  const stack = [s.localAt('u')];
  while (stack.length > 0) {
    const d = stack.pop()!;
    for (const e of await readdir(d, { withFileTypes: true })) {
      const st = await lstat(join(d, e.name));
      if (e.isDirectory()) stack.push(join(d, e.name));
      else if (e.isFile()) seen.set(st.ino, st.size);
    }
  }
  t.equal(u.files, seen.size, 'files = unique inodes on disk');
  t.equal(u.bytes, [...seen.values()].reduce((a, b) => a + b, 0), 'bytes = their sizes on disk');
  t.ok(u.usedBytes >= u.bytes, 'used is allocated space');

  const df = await vols.df();
  const local = await statfs(s.local);
  t.equal(df.totalBytes, local.blocks * local.bsize, 'total bytes as the server filesystem says');
  t.equal(df.totalFiles, local.files);
  t.ok(df.availBytes <= df.freeBytes && df.freeBytes <= df.totalBytes);
  t.equal(df.usedBytes, df.totalBytes - df.freeBytes);
  t.equal(await codeOf(vols.usage('missing')), 'ERR_VOLUME_NOT_FOUND');
});

t.test('purgeTrash finishes leftovers: old staging directories and trash entries', async (t) => {
  const { s, vols } = await setup(t, 'vol-purge');
  await mkdir(s.localAt('.mountless-trash/x@20250101T000000Z-00000000/a/b'), { recursive: true });
  await writeFile(s.localAt('.mountless-trash/x@20250101T000000Z-00000000/a/b/f'), 'x');
  await mkdir(s.localAt('ns/.mountless-new-aaaaaaaaaaaa'), { recursive: true });
  await vols.create('ns/live');
  const young = await vols.purgeTrash();
  t.same(young.trash, ['.mountless-trash/x@20250101T000000Z-00000000']);
  t.same(young.staging, [], 'a fresh staging directory may be a create in progress: kept');
  const r = await vols.purgeTrash({ stagingAgeMs: 0 });
  t.same(r.staging, ['ns/.mountless-new-aaaaaaaaaaaa']);
  t.same((await readdir(s.localAt('ns'))).sort(), ['live']);
  t.same(await readdir(s.localAt('.mountless-trash')), []);
});
