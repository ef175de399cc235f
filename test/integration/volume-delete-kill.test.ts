// `mountless volume delete` of a 50 000-file volume as a separate process,
// killed with SIGKILL once a good part of the tree is gone, then run again:
// the second run finishes it (the tree was renamed to the trash first, so
// the name is free and the leftover is found by it), and nothing outside
// the volume changed, although the tenant planted symlinks that point out
// of it (relative, absolute, '..' chains) and a hard link to a file of a
// sibling volume. The tree is made on the server's own disk, for speed.
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { link, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openVolumes, type DeleteResult } from '../../src/volume/index.js';
import { NFS_URL, scratch } from './_env.js';
import { comparable, diskTree } from './_volume-tree.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const TOP = 50;
const SUB = 10;
const FILES = 100; // TOP × SUB × FILES = 50 000

async function fillOnDisk(root: string): Promise<number> {
  const jobs: string[] = [];
  for (let d = 0; d < TOP; d++) {
    for (let s = 0; s < SUB; s++) {
      await mkdir(join(root, `d${d}`, `s${s}`), { recursive: true });
      for (let f = 0; f < FILES; f++) jobs.push(join(root, `d${d}`, `s${s}`, `f${f}`));
    }
  }
  for (let i = 0; i < jobs.length; i += 256) await Promise.all(jobs.slice(i, i + 256).map((p) => writeFile(p, p)));
  return jobs.length;
}

async function countFiles(dir: string): Promise<number> {
  let n = 0;
  const stack = [dir];
  while (stack.length > 0) {
    const d = stack.pop()!;
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory()) stack.push(join(d, e.name));
      else n++;
    }
  }
  return n;
}

function runCli(args: string[]) {
  const child = spawn(process.execPath, [CLI, 'volume', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, out, err })));
  return { child, exit };
}

t.test('delete of a 50 000-file volume: SIGKILL half way, run again, finished, nothing outside touched', async (t) => {
  if (!existsSync(CLI)) t.fail(`${CLI} missing: run npm run build first`);
  const s = await scratch(t, 'vol-del-kill');
  const vols = await openVolumes(s.nfs, { base: s.dir });
  await vols.create('tenant/big');
  await vols.create('tenant/sibling');
  await vols.create('other');

  const big = s.localAt('tenant/big');
  const t0 = performance.now();
  const made = await fillOnDisk(big);
  t.comment(`made ${made} files on the server's disk in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  await writeFile(s.localAt('tenant/sibling/keep'), 'sibling data');
  await mkdir(s.localAt('tenant/sibling/dir/deeper'), { recursive: true });
  await writeFile(s.localAt('tenant/sibling/dir/deeper/file'), 'deeper');
  await writeFile(s.localAt('other/data'), 'other volume');
  await writeFile(s.localAt('outside-file'), 'in the base, no volume');
  // What a tenant can plant to lead a path-following delete astray.
  await symlink('../sibling', join(big, 'to-sibling'));
  await symlink('../../other', join(big, 'd0/to-other'));
  await symlink(s.localAt('tenant/sibling'), join(big, 'd1/s1/absolute'));
  await symlink('/', join(big, 'd2/root'));
  await symlink('../../../../../..', join(big, 'd3/s3/up'));
  await link(s.localAt('tenant/sibling/keep'), join(big, 'd4/hard-to-sibling'));

  // The base minus the volume, the trash and the two directories whose entries the delete changes.
  const outside = async () => {
    const m = await diskTree(s.local, (rel) => rel === 'tenant/big' || rel === '.mountless-trash');
    m.delete('.');
    m.delete('tenant');
    return comparable(m);
  };
  const before = await outside();
  t.ok(Object.keys(before).length >= 8, 'the outside tree was read');

  const args = ['delete', 'tenant/big', '--url', NFS_URL, '--base', s.dir, '--json'];
  const first = runCli(args);
  let done = false;
  void first.exit.then(() => (done = true));
  const trash = s.localAt('.mountless-trash');
  let left = TOP;
  const deadline = Date.now() + 30_000;
  while (!done && Date.now() < deadline) {
    const entries = existsSync(trash) ? await readdir(trash) : [];
    if (entries.length === 1) {
      left = (await readdir(join(trash, entries[0]!)).catch(() => [])).filter((n) => /^d\d+$/.test(n)).length;
      if (left <= TOP * 0.6) break;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  first.child.kill('SIGKILL');
  const ex = await first.exit;
  t.equal(ex.signal, 'SIGKILL', `killed while deleting (${left} of ${TOP} top directories left) ${ex.err}`);
  await t.rejects(stat(big), { code: 'ENOENT' }, 'the name was freed first (renamed into the trash)');
  // Calls the killed process had in flight may still be carried out by the server.
  await new Promise((r) => setTimeout(r, 300));
  const [entry] = await readdir(trash);
  const remaining = await countFiles(join(trash, entry!));
  t.ok(remaining > 0 && remaining < made * 0.7, `a good part was gone, the rest waits in the trash (${remaining} entries left)`);

  const t1 = performance.now();
  const second = await runCli(args).exit;
  const secs = (performance.now() - t1) / 1000;
  t.equal(second.code, 0, `the second run exits 0 ${second.err}`);
  const r = JSON.parse(second.out) as DeleteResult;
  t.comment(`second run: ${r.stats.files} files + ${r.stats.dirs} dirs in ${secs.toFixed(2)} s (process start and connect included): ${((r.stats.files + r.stats.dirs) / secs).toFixed(0)} entries/s`);
  t.equal(r.action, 'deleted', 'the leftover found by the name and finished');
  t.equal(r.trash.length, 1);
  t.ok(r.stats.files <= remaining && r.stats.files >= remaining - 64, `it removed what was left (${r.stats.files} of ${remaining})`);
  t.same(r.stats.failed, []);
  t.same(r.stats.skipped, []);
  t.same(await readdir(trash), [], 'trash empty');
  t.same(await outside(), before, 'every entry outside the volume unchanged: content, owners, modes, mtimes, symlinks');
  t.equal(await readFile(s.localAt('tenant/sibling/keep'), 'utf8'), 'sibling data', 'the hard-linked file of the sibling keeps its content');
  t.equal((await stat(s.localAt('tenant/sibling/keep'))).nlink, 1, 'only the link inside the volume went');
  t.same((await readdir(s.localAt('tenant'))).sort(), ['sibling'], "'tenant' keeps the sibling, loses only the volume");
  t.same(
    (await vols.list({ usage: false })).map((e) => `${e.kind} ${e.path}`),
    ['managed other', 'managed tenant/sibling'],
    'list: the two other volumes, nothing in the trash',
  );
});
