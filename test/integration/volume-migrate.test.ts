// migrate between two nfs:// URLs (two directories of the local export,
// each mounted by its own connection, standing in for two NAS endpoints):
// a full copy verified identical on the server's disk (content, owners,
// modes, mtimes, symlinks, hard links); an incremental sync that copies only
// what changed; an interrupted copy resumed; --checksum catching a change
// that size and mtime miss; --delete; a dry run that changes nothing.
import t, { type Test } from 'tap';
import { chmod, mkdir, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { migrate } from '../../src/volume/index.js';
import { scratch, urlWith, type Scratch } from './_env.js';
import { comparable, diskTree, linkGroups } from './_volume-tree.js';

async function identical(t: Test, src: string, dst: string): Promise<void> {
  const a = await diskTree(src);
  const b = await diskTree(dst);
  t.same(comparable(b), comparable(a), 'target identical to the source on disk: content, owners, modes, mtimes, symlinks');
  t.same(linkGroups(b), linkGroups(a), 'hard links kept as hard links');
}

/** A source tree made on the server's disk (owners need root there; the test runs as root). */
async function makeSource(s: Scratch): Promise<void> {
  const p = (r: string) => s.localAt(`src/${r}`);
  await mkdir(p('a/b/c'), { recursive: true });
  await mkdir(p('many'));
  await writeFile(p('a/f1'), 'hello');
  await chmod(p('a/f1'), 0o4755);
  const big = Buffer.alloc(9 * 1024 * 1024 + 7);
  for (let i = 0; i + 4 <= big.length; i += 4) big.writeUInt32LE((i * 2654435761) >>> 0, i);
  await writeFile(p('big.bin'), big);
  const { chown, lchown, link, symlink } = await import('node:fs/promises');
  await chown(p('big.bin'), 1234, 5678);
  await link(p('big.bin'), p('a/b/hard'));
  await symlink('../big.bin', p('a/link'));
  await lchown(p('a/link'), 42, 43);
  await symlink('/nowhere', p('dangling'));
  for (let i = 0; i < 300; i++) await writeFile(p(`many/f${i}`), `file ${i}\n`);
  await chmod(p('many'), 0o2750);
  await chown(p('many'), 100, 200);
  await utimes(p('a/f1'), new Date('2001-02-03T04:05:06Z'), new Date('2001-02-03T04:05:06.5Z'));
}

async function setup(t: Test, tag: string): Promise<{ s: Scratch; src: string; dst: string }> {
  const s = await scratch(t, tag);
  await mkdir(s.localAt('src'));
  await mkdir(s.localAt('dst'));
  await makeSource(s);
  return { s, src: urlWith(`${s.dir}/src`), dst: urlWith(`${s.dir}/dst`) };
}

t.test('full copy, verified; then an incremental sync copies only what changed', async (t) => {
  const { s, src, dst } = await setup(t, 'vol-mig');
  const t0 = performance.now();
  const r = await migrate(src, dst);
  const secs = (performance.now() - t0) / 1000;
  t.comment(`migrate: ${r.copied.files} files, ${(r.copied.bytes / 2 ** 20).toFixed(1)} MiB in ${secs.toFixed(2)} s (${(r.copied.files / secs).toFixed(0)} files/s, scan + copy + verify)`);
  t.match(r, { copied: { files: 302, dirs: 4, symlinks: 2, hardLinks: 1 }, unchanged: 0, unsupported: [], verify: { differences: [] } });
  await identical(t, s.localAt('src'), s.localAt('dst'));

  // Changes at the source: new content (same size), a mode change, a new file, a removed file.
  await writeFile(s.localAt('src/many/f1'), 'FILE 1\n');
  await chmod(s.localAt('src/many/f2'), 0o600);
  await writeFile(s.localAt('src/a/new'), 'new');
  const { rm } = await import('node:fs/promises');
  await rm(s.localAt('src/many/f3'));
  const r2 = await migrate(src, dst, { delete: true });
  t.match(r2.copied, { files: 2, dirs: 0, symlinks: 0, hardLinks: 0 }, 'only the changed and the new file copied');
  t.equal(r2.attrsFixed, 1, 'the mode change applied without a copy');
  t.equal(r2.removed, 1, '--delete removed what the source no longer has');
  t.same(r2.verify?.differences, []);
  await identical(t, s.localAt('src'), s.localAt('dst'));

  const r3 = await migrate(src, dst, { delete: true });
  t.match(r3, { copied: { files: 0, dirs: 0, symlinks: 0, hardLinks: 0 }, attrsFixed: 0, removed: 0 }, 'a third run has nothing to do');
});

t.test('interrupted half way (AbortSignal), resumed: complete, no partial files left', async (t) => {
  const { s, src, dst } = await setup(t, 'vol-mig-resume');
  const ac = new AbortController();
  const err = await migrate(src, dst, { signal: ac.signal, concurrency: 4, onProgress: (p) => p.filesCopied >= 100 && ac.abort() }).catch((e: unknown) => e);
  t.match(err, { name: 'AbortError' });
  const r = await migrate(src, dst);
  t.ok(r.unchanged >= 100, `the resumed run skipped what was done (${r.unchanged} unchanged)`);
  t.ok(r.copied.files < 302, `and copied the rest (${r.copied.files})`);
  t.same(r.verify?.differences, []);
  await identical(t, s.localAt('src'), s.localAt('dst'));
  const parts: string[] = [];
  for (const [p] of await diskTree(s.localAt('dst'))) if (p.endsWith('.mountless-part')) parts.push(p);
  t.same(parts, [], 'no .mountless-part files');
});

t.test('--checksum catches a change that keeps size and mtime; plain size+mtime does not', async (t) => {
  const { s, src, dst } = await setup(t, 'vol-mig-sum');
  const f = s.localAt('src/many/f10');
  // A whole-second mtime, so node:fs can put it back exactly after the change.
  await utimes(f, 1_000_000_000, 1_000_000_000);
  await migrate(src, dst);
  await writeFile(f, 'FILE 10\n');
  await utimes(f, 1_000_000_000, 1_000_000_000);
  const plain = await migrate(src, dst);
  t.equal(plain.copied.files, 0, 'same size and mtime: taken as unchanged');
  t.same(plain.verify?.differences, [], 'and the attribute verify cannot see it');
  const sums = await migrate(src, dst, { checksum: true });
  t.equal(sums.copied.files, 1, 'checksum: copied');
  t.same(sums.verify?.differences, []);
  t.equal(await readFile(s.localAt('dst/many/f10'), 'utf8'), 'FILE 10\n');
});

t.test('dry run changes nothing; verify reports differences a target gained', async (t) => {
  const { s, src, dst } = await setup(t, 'vol-mig-dry');
  const dry = await migrate(src, dst, { dryRun: true });
  t.match(dry, { dryRun: true, copied: { files: 302 } });
  t.same(await readdir(s.localAt('dst')), [], 'nothing written');
  await migrate(src, dst);
  await writeFile(s.localAt('dst/extra'), 'only at the target');
  const r = await migrate(src, dst);
  t.same(r.verify?.differences, [{ path: 'extra', what: 'only at the target' }], 'reported, not removed without --delete');
});
