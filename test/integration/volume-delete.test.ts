// Deleting big trees: a ~2 000-file volume across nested directories removed
// bottom-up with bounded parallelism; interrupted with an AbortSignal half
// way and finished by the next run; entries that appear while it runs
// (ENOTEMPTY races, '.nfsXXXX' silly-renamed files) retried and counted;
// '.snapshot' directories skipped; sibling volumes and the base untouched.
import t, { type Test } from 'tap';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { openVolumes, VolumeError, type Volumes } from '../../src/volume/index.js';
import type { NfsClient } from '../../src/index.js';
import { scratch } from './_env.js';

const DIRS = 10;
const SUBDIRS = 5;
const FILES = 40; // per subdirectory: 10 × 5 × 40 = 2 000 files

/** Fills volume `name` with DIRS × SUBDIRS × FILES files (and a few '.nfs' files), 64 writes at a time. */
async function fill(nfs: NfsClient, root: string): Promise<{ files: number; dirs: number }> {
  const jobs: (() => Promise<unknown>)[] = [];
  let files = 0;
  let dirs = 0;
  for (let d = 0; d < DIRS; d++) {
    for (let s = 0; s < SUBDIRS; s++) {
      await nfs.mkdir(`${root}/d${d}/s${s}`, { recursive: true });
      dirs += s === 0 ? 2 : 1;
      for (let f = 0; f < FILES; f++) {
        jobs.push(() => nfs.writeFile(`${root}/d${d}/s${s}/f${f}`, `file ${d}/${s}/${f}\n`));
        files++;
      }
    }
    jobs.push(() => nfs.writeFile(`${root}/d${d}/.nfs00000000001234${String(d).padStart(2, '0')}00000001`, 'silly'));
    files++;
  }
  for (let i = 0; i < jobs.length; i += 64) await Promise.all(jobs.slice(i, i + 64).map((j) => j()));
  return { files, dirs };
}

async function countTree(dir: string): Promise<{ files: number; dirs: number }> {
  let files = 0;
  let dirs = 0;
  const stack = [dir];
  while (stack.length > 0) {
    const d = stack.pop()!;
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) {
        dirs++;
        stack.push(join(d, e.name));
      } else files++;
    }
  }
  return { files, dirs };
}

async function setup(t: Test, tag: string) {
  const s = await scratch(t, tag);
  const vols: Volumes = await openVolumes(s.nfs, { base: s.dir });
  return { s, vols };
}

t.test('delete of a 2 000-file tree: everything gone, counted, siblings and base intact', async (t) => {
  const { s, vols } = await setup(t, 'vol-del-big');
  await vols.create('ns/big');
  await vols.create('ns/sibling');
  await s.nfs.writeFile(`${s.dir}/ns/sibling/keep`, 'sibling data');
  const made = await fill(s.nfs, `${s.dir}/ns/big`);
  const onDisk = await countTree(s.localAt('ns/big'));
  t.equal(onDisk.files, made.files + 1, 'fixture on disk (plus the marker)');

  const t0 = performance.now();
  const r = await vols.delete('ns/big', { onDelete: 'delete' });
  const ms = performance.now() - t0;
  t.comment(`deleted ${r.stats.files} files + ${r.stats.dirs} dirs in ${ms.toFixed(0)} ms: ${(((r.stats.files + r.stats.dirs) * 1000) / ms).toFixed(0)} entries/s`);
  t.equal(r.action, 'deleted');
  t.equal(r.stats.files, made.files + 1, 'every file, the marker and the .nfs files');
  t.equal(r.stats.dirs, made.dirs + 1, 'every directory and the volume itself');
  t.equal(r.stats.sillyRenamed, DIRS, '.nfsXXXX files met and counted');
  t.same(r.stats.failed, []);
  t.same(r.stats.skipped, []);
  t.same(r.removedParents, [], "'ns' still holds the sibling");
  await t.rejects(stat(s.localAt('ns/big')), { code: 'ENOENT' });
  t.same(await readdir(s.localAt('.mountless-trash')), [], 'trash empty');
  t.equal(await readFile(s.localAt('ns/sibling/keep'), 'utf8'), 'sibling data', 'sibling volume untouched');
  t.ok((await stat(s.local)).isDirectory(), 'base intact');
});

t.test('interrupted with an AbortSignal half way, then finished by the next run', async (t) => {
  const { s, vols } = await setup(t, 'vol-del-resume');
  await vols.create('team/vol');
  const made = await fill(s.nfs, `${s.dir}/team/vol`);
  const ac = new AbortController();
  let seen = 0;
  const err = await vols
    .delete('team/vol', {
      signal: ac.signal,
      onProgress: (st) => {
        seen = st.files;
        if (st.files >= 700) ac.abort(new Error('operator pressed Ctrl-C'));
      },
    })
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  t.match(err, { name: 'AbortError', code: 'ABORT_ERR' }, 'the delete rejects with an AbortError');
  t.ok(seen >= 700 && seen < made.files, `stopped part way (${seen} files removed when it settled)`);
  await t.rejects(stat(s.localAt('team/vol')), { code: 'ENOENT' }, 'the name was freed before the tree went (renamed to the trash first)');
  await t.rejects(stat(s.localAt('team')), { code: 'ENOENT' }, 'and its empty parent removed');
  const trash = await readdir(s.localAt('.mountless-trash'));
  t.equal(trash.length, 1, 'one trash entry left behind');
  const left = await countTree(s.localAt(`.mountless-trash/${trash[0]}`));
  t.ok(left.files > 0 && left.files <= made.files + 1 - 700, `${left.files} files left in the trash`);

  const listed = await vols.list({ usage: false });
  t.match(listed, [{ kind: 'trash', name: 'team/vol' }], 'list shows the unfinished delete');

  // The name can be reused while the old tree is still in the trash.
  await vols.create('team/vol');
  await s.nfs.writeFile(`${s.dir}/team/vol/new`, 'new volume, same name');
  // The next delete of a different volume does not touch it; the next delete of this name finishes it.
  const again = await vols.delete('team/vol');
  t.equal(again.action, 'deleted');
  t.equal(again.trash.length, 2, 'the new volume and the leftover');
  t.ok(again.stats.files >= left.files, 'the rest was removed');
  t.same(again.stats.failed, []);
  t.same(await readdir(s.localAt('.mountless-trash')), [], 'everything gone');
  t.same(
    (await readdir(s.local)).filter((n) => n !== '.mountless-trash'),
    [],
    'nothing else left in the base',
  );
  t.ok((await stat(s.local)).isDirectory(), 'base intact');
});

t.test('a retried delete of a name whose tree is only in the trash finishes it', async (t) => {
  const { s, vols } = await setup(t, 'vol-del-retry');
  await vols.create('v');
  await fill(s.nfs, `${s.dir}/v`);
  const ac = new AbortController();
  await t.rejects(vols.delete('v', { signal: ac.signal, onProgress: (st) => st.files >= 100 && ac.abort() }), { name: 'AbortError' });
  const r = await vols.delete('v');
  t.equal(r.action, 'deleted', 'not "absent": there was trash of it');
  t.equal(r.trash.length, 1);
  t.same(await readdir(s.localAt('.mountless-trash')), []);
  t.equal((await vols.delete('v')).action, 'absent', 'and after that, nothing left');
});

t.test('entries appearing during the delete: ENOTEMPTY retried, counted, finished', async (t) => {
  const { s, vols } = await setup(t, 'vol-del-race');
  await vols.create('racy');
  await fill(s.nfs, `${s.dir}/racy`);
  let injected: Promise<unknown> | undefined;
  const r = await vols.delete('racy', {
    retryDelayMs: 10,
    onProgress: (st) => {
      if (st.files < 100 || injected) return;
      // A client still writing into the volume, and its kernel silly-renaming a file it unlinked while open.
      injected = (async () => {
        const [entry] = await readdir(s.localAt('.mountless-trash'));
        const root = `${s.dir}/.mountless-trash/${entry}`;
        await s.nfs.writeFile(`${root}/late-arrival`, 'x');
        await s.nfs.writeFile(`${root}/.nfs0000000000abcdef00000002`, 'x');
      })();
    },
  });
  await injected;
  t.ok(r.stats.notEmptyRetries >= 1, `RMDIR found the top directory not empty and listed it again (${r.stats.notEmptyRetries} retries)`);
  t.ok(r.stats.sillyRenamed >= DIRS + 1, 'the late .nfs file counted too');
  t.same(r.stats.failed, []);
  t.same(await readdir(s.localAt('.mountless-trash')), []);
});

t.test('.snapshot directories are skipped, reported, and keep their content', async (t) => {
  const { s, vols } = await setup(t, 'vol-del-snapdir');
  await vols.create('filer');
  await s.nfs.mkdir(`${s.dir}/filer/data/.snapshot/hourly.0`, { recursive: true });
  await s.nfs.writeFile(`${s.dir}/filer/data/.snapshot/hourly.0/old`, 'read-only copy');
  await s.nfs.writeFile(`${s.dir}/filer/data/live`, 'x');
  const err = await vols.delete('filer').then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(err instanceof VolumeError && err.code === 'ERR_VOLUME_INCOMPLETE', 'incomplete, and says so');
  const details = (err as VolumeError).details as { stats: { skipped: string[]; files: number } };
  t.equal(details.stats.skipped.length, 1);
  t.match(details.stats.skipped[0], /\/data\/\.snapshot$/);
  t.equal(details.stats.files, 2, 'the marker and data/live removed');
  const [entry] = await readdir(s.localAt('.mountless-trash'));
  t.equal(await readFile(s.localAt(`.mountless-trash/${entry}/data/.snapshot/hourly.0/old`), 'utf8'), 'read-only copy', 'not entered');
});

t.test('usage walk of the 2 000-file tree (rate)', async (t) => {
  const { s, vols } = await setup(t, 'vol-usage-rate');
  await vols.create('u');
  const made = await fill(s.nfs, `${s.dir}/u`);
  const t0 = performance.now();
  const u = await vols.usage('u');
  const ms = performance.now() - t0;
  t.comment(`usage of ${u.files + u.dirs} entries in ${ms.toFixed(0)} ms: ${(((u.files + u.dirs) * 1000) / ms).toFixed(0)} entries/s`);
  t.equal(u.files, made.files + 1);
  t.equal(u.dirs, made.dirs + 1);
});
