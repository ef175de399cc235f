// Regression (issue 11, item 14): restore and migrate give symlinks their
// owner and group (also below a setgid directory, whose group a new entry
// would inherit) and their mtime, as GNU tar does; where the server answers
// SETATTR on a symlink with success but keeps its times (NFS-Ganesha's VFS
// backend skips times for symlinks), the result says so instead of claiming
// a faithful copy.
import t, { type Test } from 'tap';
import { chmod, chown, lchown, lstat, lutimes, mkdir, symlink, writeFile } from 'node:fs/promises';
import { openVolumes } from '../../src/volume/index.js';
import { migrateClients } from '../../src/volume/migrate.js';
import { scratch } from './_env.js';

const OLD = new Date('2003-04-05T06:07:08.250Z');

async function makeTree(root: string): Promise<void> {
  await chown(root, 0, 3000);
  await chmod(root, 0o2775);
  await mkdir(`${root}/sub`);
  await chown(`${root}/sub`, 0, 3000);
  await chmod(`${root}/sub`, 0o2775);
  await writeFile(`${root}/sub/f`, 'x');
  await symlink('f', `${root}/sub/l-own-group`);
  await lchown(`${root}/sub/l-own-group`, 1000, 1000);
  await symlink('../nowhere', `${root}/l-root`);
  await lchown(`${root}/l-root`, 0, 0);
  for (const l of ['sub/l-own-group', 'l-root']) await lutimes(`${root}/${l}`, OLD, OLD);
}

async function check(t: Test, root: string, timesIgnored: number): Promise<void> {
  for (const [l, uid, gid] of [['sub/l-own-group', 1000, 1000], ['l-root', 0, 0]] as const) {
    const st = await lstat(`${root}/${l}`);
    t.same([st.uid, st.gid], [uid, gid], `${l}: owner and group as in the source, not the setgid parent's group`);
    if (timesIgnored === 0) t.equal(st.mtime.getTime(), OLD.getTime(), `${l}: mtime restored`);
    else t.not(st.mtime.getTime(), OLD.getTime(), `${l}: the server kept its own mtime, and the result says so`);
  }
}

t.test('restore: symlinks keep owner, group and mtime, or the result says which times the server kept', async (t) => {
  const s = await scratch(t, 'vol-symlink-restore');
  const vols = await openVolumes(s.nfs, { base: s.dir });
  await vols.create('src');
  await makeTree(s.localAt('src'));
  const snap = await vols.snapshot('src');
  const r = await vols.restore({ id: snap.id! }, 'copy');
  t.equal(r.symlinks, 2);
  t.ok(r.symlinkTimesIgnored === 0 || r.symlinkTimesIgnored === 2, `${r.symlinkTimesIgnored} symlink times kept by the server`);
  await check(t, s.localAt('copy'), r.symlinkTimesIgnored);
});

t.test('migrate: symlinks keep owner, group and mtime, or the result says which times the server kept', async (t) => {
  const s = await scratch(t, 'vol-symlink-migrate');
  await mkdir(s.localAt('src'));
  await mkdir(s.localAt('dst'));
  await makeTree(s.localAt('src'));
  await chown(s.localAt('dst'), 0, 3000);
  await chmod(s.localAt('dst'), 0o2775);
  const r = await migrateClients(s.nfs, s.nfs, { srcPath: `${s.dir}/src`, dstPath: `${s.dir}/dst` });
  t.equal(r.copied.symlinks, 2);
  const ignored = r.symlinkTimesIgnored;
  t.ok(ignored === 0 || ignored === 2, `${ignored} symlink times kept by the server`);
  t.same(r.verify!.differences, []);
  t.equal(r.verify!.symlinkTimes.length, ignored, 'the verify pass lists the symlinks whose mtime differs');
  await check(t, s.localAt('dst'), ignored);
});
