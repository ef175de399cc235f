// migrate across an export boundary: from /export to /export2 of the local
// server (two exports, two mounts, as between two NAS endpoints), once
// NFSv3 → NFSv3 interrupted with an AbortSignal, once NFSv3 → NFSv4.1
// through the CLI killed with SIGKILL half way. Each time: resumed, the
// target compared with the source on the server's disk (sha256, owners,
// modes, mtimes to the nanosecond, symlinks, hard links), then changes at
// the source and an incremental sync that must copy exactly what changed:
// files not changed keep their inode at the target (a copy always makes a
// new one, '.part' + RENAME).
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, lchown, link, mkdir, readdir, rm, symlink, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrate, type MigrateResult } from '../../src/volume/index.js';
import { EXPORT2_DIR, EXPORT_DIR, uniqueName, url2With, urlWith } from './_env.js';
import { assertIdentical, diskTree, type DiskEnt } from './_volume-tree.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const SMALL = 1500;

/** The source tree, made on the server's disk as root (owners need it). */
async function makeSource(root: string): Promise<void> {
  const p = (r: string) => join(root, r);
  await mkdir(p('a/b/c'), { recursive: true });
  await mkdir(p('many'));
  await mkdir(p('empty-dir'));
  await writeFile(p('a/b/c/deep.txt'), 'deep\n');
  await writeFile(p('a/f1'), 'hello');
  await chmod(p('a/f1'), 0o4755);
  await writeFile(p('empty'), '');
  await writeFile(p('name with spaces, é ü ✓'), 'unicode name\n');
  const big = Buffer.alloc(9 * 1024 * 1024 + 7);
  for (let i = 0; i + 4 <= big.length; i += 4) big.writeUInt32LE((i * 2654435761) >>> 0, i);
  await writeFile(p('big.bin'), big);
  await chown(p('big.bin'), 1234, 5678);
  await chmod(p('big.bin'), 0o640);
  // Hard links across directories, one group of three names.
  await link(p('big.bin'), p('a/b/hard'));
  await writeFile(p('many/shared'), 'three names\n');
  await link(p('many/shared'), p('a/shared2'));
  await link(p('many/shared'), p('a/b/c/shared3'));
  await symlink('../big.bin', p('a/link'));
  await lchown(p('a/link'), 42, 43);
  await symlink('/nowhere/at/all', p('dangling'));
  for (let i = 0; i < SMALL; i++) await writeFile(p(`many/f${i}`), `file ${i}\n`.repeat(1 + (i % 7)));
  await chown(p('many/f11'), 2001, 2002);
  await chmod(p('empty-dir'), 0o1777);
  await chmod(p('many'), 0o2750);
  await chown(p('many'), 100, 200);
  // Times with sub-second parts (microseconds are what node:fs can set).
  await utimes(p('a/f1'), new Date('2001-02-03T04:05:06Z'), 981173106.123456);
  await utimes(p('many/f12'), 1.5e9, 1500000000.654321);
  await utimes(p('a/b'), 1.2e9, 1200000000.25);
}

async function setup(t: Test, tag: string): Promise<{ srcDisk: string; dstDisk: string; sub: string }> {
  const sub = uniqueName(tag);
  const srcDisk = join(EXPORT_DIR, sub);
  const dstDisk = join(EXPORT2_DIR, sub);
  t.teardown(async () => {
    await rm(srcDisk, { recursive: true, force: true });
    await rm(dstDisk, { recursive: true, force: true });
  });
  await mkdir(srcDisk);
  await mkdir(dstDisk);
  await makeSource(srcDisk);
  return { srcDisk, dstDisk, sub };
}

/** Changes at the source; returns the paths whose content (hence target inode) must change. */
async function change(srcDisk: string): Promise<{ recopied: string[] }> {
  const p = (r: string) => join(srcDisk, r);
  await writeFile(p('many/f1'), 'FILE ONE, longer now\n');
  await chmod(p('many/f2'), 0o600);
  await chown(p('many/f3'), 3000, 3001);
  await utimes(p('many/f4'), 1.6e9, 1.6e9);
  await writeFile(p('a/new'), 'new file\n');
  await unlink(p('many/f5'));
  await unlink(p('a/link'));
  await symlink('f1', p('a/link'));
  await mkdir(p('a/newdir'));
  await writeFile(p('a/newdir/inside'), 'x');
  return { recopied: ['many/f1', 'many/f4'] };
}

function inodes(m: Map<string, DiskEnt>): Map<string, bigint> {
  return new Map([...m].filter(([, e]) => e.type === 'file').map(([k, e]) => [k, e.ino]));
}

async function incremental(t: Test, srcUrl: string, dstUrl: string, srcDisk: string, dstDisk: string): Promise<void> {
  const before = inodes(await diskTree(dstDisk));
  const { recopied } = await change(srcDisk);
  const r = await migrate(srcUrl, dstUrl, { delete: true });
  t.match(r.copied, { files: 4, bytes: 21 + 7 * 5 + 9 + 1, dirs: 1, symlinks: 1, hardLinks: 0 }, 'copied: the changed file, the touched file, the two new files, the new dir, the retargeted symlink');
  t.equal(r.attrsFixed, 2, 'a mode and an owner change applied without copying');
  t.equal(r.removed, 1, 'the removed file removed at the target (--delete)');
  t.same(r.verify?.differences, [], 'verify: no differences');
  const after = await assertIdentical(t, srcDisk, dstDisk, 'after the incremental sync');
  const rewritten = [...inodes(after)].filter(([k, ino]) => before.has(k) && before.get(k) !== ino).map(([k]) => k);
  t.same(rewritten.sort(), recopied.sort(), 'only the changed files were rewritten; every other file at the target kept its inode (big.bin included)');
  const again = await migrate(srcUrl, dstUrl, { delete: true });
  t.match(again, { copied: { files: 0, bytes: 0, dirs: 0, symlinks: 0, hardLinks: 0 }, attrsFixed: 0, removed: 0 }, 'a further run has nothing to do');
}

function summary(r: MigrateResult): string {
  return `${r.copied.files} files, ${r.copied.dirs} dirs, ${r.copied.symlinks} symlinks, ${r.copied.hardLinks} hard links copied, ${r.unchanged} unchanged`;
}

t.test('NFSv3 /export → NFSv3 /export2: interrupted, resumed, identical, then an incremental sync', async (t) => {
  const { srcDisk, dstDisk, sub } = await setup(t, 'vol-mig-x3');
  const src = urlWith(sub, 'version=3');
  const dst = url2With(sub, 'version=3');
  const ac = new AbortController();
  const err = await migrate(src, dst, { signal: ac.signal, concurrency: 4, onProgress: (p) => p.filesCopied >= 400 && ac.abort(new Error('Ctrl-C')) }).catch((e: unknown) => e);
  t.match(err, { name: 'AbortError' }, 'the first run stopped');
  const partial = await diskTree(dstDisk);
  const copiedBefore = [...partial.values()].filter((e) => e.type === 'file').length;
  t.ok(copiedBefore >= 400 && copiedBefore < SMALL, `part of the tree reached /export2 (${copiedBefore} files)`);

  const r = await migrate(src, dst);
  t.comment(`resumed: ${summary(r)}`);
  t.ok(r.unchanged >= 400, `the resumed run skipped what was done (${r.unchanged} unchanged)`);
  t.ok(r.copied.files + r.copied.hardLinks > 0 && r.copied.files < SMALL, `and copied the rest (${r.copied.files} files)`);
  t.same(r.unsupported, []);
  t.same(r.verify?.differences, [], 'verify: no differences');
  await assertIdentical(t, srcDisk, dstDisk);
  await incremental(t, src, dst, srcDisk, dstDisk);
});

t.test('NFSv3 /export → NFSv4.1 /export2 through the CLI: SIGKILL half way, resumed, identical, then an incremental sync', async (t) => {
  if (!existsSync(CLI)) t.fail(`${CLI} missing: run npm run build first`);
  const { srcDisk, dstDisk, sub } = await setup(t, 'vol-mig-x41');
  const src = urlWith(sub, 'version=3');
  const dst = url2With(sub, 'version=4.1');
  const cli = (args: string[]) => spawn(process.execPath, [CLI, 'volume', 'migrate', src, dst, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });

  const child = cli(['--concurrency', '2']);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  let done = false;
  void exited.then(() => (done = true));
  const many = join(dstDisk, 'many');
  let seen = 0;
  while (!done) {
    seen = existsSync(many) ? (await readdir(many)).filter((n) => /^f\d+$/.test(n)).length : 0;
    if (seen >= 300) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  child.kill('SIGKILL');
  const ex = await exited;
  t.equal(ex.signal, 'SIGKILL', `killed mid-copy (${seen} of ${SMALL} small files were at the target)`);
  const killedAt = [...(await diskTree(dstDisk)).keys()];
  const parts = killedAt.filter((p) => p.endsWith('.mountless-part'));
  t.ok(killedAt.filter((p) => /^many\/f\d+$/.test(p)).length < SMALL, 'the target is incomplete');
  t.comment(`left by the kill: ${parts.length} partial file(s)`);

  const resumed = cli(['--json']);
  let out = '';
  let errText = '';
  resumed.stdout.on('data', (d: Buffer) => (out += d.toString()));
  resumed.stderr.on('data', (d: Buffer) => (errText += d.toString()));
  const code = await new Promise<number | null>((resolve) => resumed.on('exit', (c) => resolve(c)));
  t.equal(code, 0, `the resumed run exits 0 ${errText}`);
  const r = JSON.parse(out) as MigrateResult;
  t.comment(`resumed: ${summary(r)}`);
  t.ok(r.unchanged >= 300, `the resumed run skipped what was done (${r.unchanged} unchanged)`);
  t.ok(r.copied.files < SMALL, `and copied the rest (${r.copied.files} files)`);
  t.equal(r.removed, parts.length, 'stale partial files removed');
  t.same(r.verify?.differences, [], 'verify: no differences');
  const tree = await assertIdentical(t, srcDisk, dstDisk);
  t.same(
    [...tree.keys()].filter((p) => p.endsWith('.mountless-part')),
    [],
    'no partial files left',
  );
  await incremental(t, src, dst, srcDisk, dstDisk);
});
