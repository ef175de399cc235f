// Regression (issue 11, item 13): a parallel delete of a small tree with
// nested directories (a/b/c), files, a hard link, symlinks and a setgid
// parent left an empty subdirectory behind and failed with ENOTEMPTY, while
// `--concurrency 1 --listers 1` succeeded. Repeated, since it is a race.
import t from 'tap';
import { readdir } from 'node:fs/promises';
import { openVolumes } from '../../src/volume/index.js';
import type { NfsClient } from '../../src/index.js';
import { scratch } from './_env.js';

async function fillNested(nfs: NfsClient, root: string): Promise<void> {
  await nfs.mkdir(`${root}/a/b/c`, { recursive: true });
  await nfs.mkdir(`${root}/sg`);
  await nfs.chmod(`${root}/sg`, 0o2775);
  await nfs.mkdir(`${root}/sg/inner/deeper`, { recursive: true });
  for (const d of ['', '/a', '/a/b', '/a/b/c', '/sg', '/sg/inner', '/sg/inner/deeper']) {
    await nfs.writeFile(`${root}${d}/f1`, 'one');
    await nfs.writeFile(`${root}${d}/f2`, 'two');
  }
  await nfs.link(`${root}/a/f1`, `${root}/a/b/c/hard`);
  await nfs.symlink('../f1', `${root}/a/b/up`);
  await nfs.symlink('/nowhere', `${root}/sg/inner/dangling`);
  await nfs.symlink('c', `${root}/a/b/to-c`);
}

t.test('parallel delete of a nested tree, repeated: nothing left, nothing failed', async (t) => {
  const s = await scratch(t, 'vol-del-nested');
  const vols = await openVolumes(s.nfs, { base: s.dir });
  for (let round = 0; round < 8; round++) {
    const name = `n${round}`;
    await vols.create(name);
    await fillNested(s.nfs, `${s.dir}/${name}`);
    const r = await vols.delete(name, { concurrency: 64, listers: 4 });
    t.equal(r.action, 'deleted', `round ${round}: deleted`);
    t.same(r.action === 'deleted' ? r.stats.failed : [], [], `round ${round}: nothing failed`);
  }
  t.same(await readdir(s.localAt('.mountless-trash')).catch(() => []), [], 'nothing left in the trash');
});
