// The `mountless` command end to end, as a shell user runs it: the built CLI
// (`npm run build` first) against the real server, checking output, files on
// the server's disk, messages and exit statuses.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NFS_URL, scratch, urlWith } from './_env.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

interface Result {
  code: number | null;
  out: string;
  err: string;
}

function mountless(args: string[], env: NodeJS.ProcessEnv = {}, input?: string | Buffer): Promise<Result> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, TZ: 'UTC', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    c.on('error', reject);
    c.on('exit', (code) => resolve({ code, out, err }));
    c.stdin.end(input);
  });
}

async function setup(t: Test) {
  const s = await scratch(t, 'cli');
  const env = { NFS_URL: urlWith(s.dir) };
  const local = await mkdtemp(join(tmpdir(), 'mountless-cli-'));
  t.teardown(() => rm(local, { recursive: true, force: true }));
  const m = (...args: string[]) => mountless(args, env);
  return { s, env, local, m };
}

t.test('ls: names, -l, -a, -R, --json, errors', async (t) => {
  const { s, m } = await setup(t);
  await mkdir(s.localAt('d/e'), { recursive: true });
  await writeFile(s.localAt('a.txt'), '12345');
  await writeFile(s.localAt('.hidden'), '');
  await writeFile(s.localAt('d/e/deep'), 'x');
  await symlink('a.txt', s.localAt('ln'));
  let r = await m('ls');
  t.equal(r.code, 0, r.err);
  t.equal(r.out, 'a.txt\nd\nln\n', 'sorted, dotfiles hidden');
  r = await m('ls', '-a', '/');
  t.equal(r.out, '.hidden\na.txt\nd\nln\n');
  r = await m('ls', '-l');
  t.match(r.out, /^total \d+\n/);
  t.match(r.out, /\n-rw-r--r-- +1 +\d+ +\d+ +5 \d{4}-\d\d-\d\d \d\d:\d\d a\.txt\n/);
  t.match(r.out, /\ndrwx[-rwx]{6} +\d+ .* d\n/);
  t.match(r.out, /\nlrwxrwxrwx .* ln -> a\.txt\n/);
  r = await m('ls', '-R', '/d');
  t.equal(r.out, '/d:\ne\n\n/d/e:\ndeep\n');
  r = await m('ls', '--json', '/d/e');
  t.match(JSON.parse(r.out), [{ path: '/d/e/deep', name: 'deep', type: 'file', size: 1, mode: '0644' }]);
  r = await m('ls', '/a.txt');
  t.equal(r.out, '/a.txt\n', 'a file lists as itself');
  r = await m('ls', '/missing', '/a.txt');
  t.equal(r.code, 1);
  t.equal(r.err, "mountless: cannot access '/missing': No such file or directory\n");
  t.equal(r.out, '/a.txt\n', 'the other argument is still listed');
  r = await mountless(['ls', urlWith(s.at('d'))]);
  t.equal(r.out, 'e\n', 'a full nfs:// URL without NFS_URL');
});

t.test('cat and stat', async (t) => {
  const { s, m } = await setup(t);
  await writeFile(s.localAt('one'), 'first\n');
  await writeFile(s.localAt('two'), 'second\n');
  let r = await m('cat', '/one', 'two');
  t.equal(r.out, 'first\nsecond\n');
  r = await m('cat', '/nope');
  t.equal(r.code, 1);
  t.equal(r.err, "mountless: cannot open '/nope': No such file or directory\n");
  await mkdir(s.localAt('dir'));
  r = await m('cat', '/dir');
  t.equal(r.err, "mountless: cannot open '/dir': Is a directory\n");
  r = await m('stat', '/one');
  t.equal(r.code, 0);
  const st = await stat(s.localAt('one'));
  t.match(r.out, /^ {2}File: \/one\n {2}Size: 6 +Blocks: \d+ +IO Block: \d+ +regular file\n/);
  t.match(r.out, new RegExp(`Inode: ${st.ino} `));
  t.match(r.out, /Access: \(0644\/-rw-r--r--\)/);
  t.match(r.out, /Modify: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9} \+0000\n/);
  r = await m('stat', '--json', '/one');
  const j = JSON.parse(r.out) as Record<string, unknown>;
  t.match(j, { path: '/one', type: 'file', size: 6, mode: '0644', ino: String(st.ino), nlink: 1 });
  const big = await stat(s.localAt('one'), { bigint: true });
  t.equal(j.mtimeNs, String(big.mtimeNs), 'nanosecond mtime, as a string');
  r = await m('stat', '/x');
  t.equal(r.code, 1);
  t.equal(r.err, "mountless: cannot stat '/x': No such file or directory\n", 'the message from the issue');
});

t.test('put and get round-trip files and trees', async (t) => {
  const { s, local, m } = await setup(t);
  const big = Buffer.alloc(9 * 1024 * 1024 + 17);
  for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE(i, i);
  await writeFile(join(local, 'big.bin'), big);
  let r = await m('put', join(local, 'big.bin'), '/big.bin');
  t.equal(r.code, 0, r.err);
  t.same(await readFile(s.localAt('big.bin')), big, 'put: bytes on the server');
  t.equal(r.err, '', 'quiet when stderr is not a terminal');
  r = await m('get', '/big.bin', join(local, 'back.bin'));
  t.equal(r.code, 0, r.err);
  t.same(await readFile(join(local, 'back.bin')), big, 'get: bytes back');
  r = await m('get', '/missing', join(local, 'x'));
  t.equal(r.code, 1);
  t.equal(r.err, "mountless: cannot stat '/missing': No such file or directory\n");
});

t.test('cp: local <-> NFS, recursive and parallel, with progress', async (t) => {
  const { s, local, m } = await setup(t);
  const src = join(local, 'tree');
  await mkdir(join(src, 'sub/deeper'), { recursive: true });
  const files: Record<string, Buffer> = {};
  for (let k = 0; k < 12; k++) {
    const rel = k % 3 === 0 ? `sub/deeper/f${k}` : k % 3 === 1 ? `sub/f${k}` : `f${k}`;
    files[rel] = Buffer.alloc(100_000 + k * 1000, k);
    await writeFile(join(src, rel), files[rel]!);
  }
  await symlink('f2', join(src, 'link'));
  let r = await m('cp', join(local, 'tree'), ':/copy');
  t.equal(r.code, 1, 'a directory without -r');
  t.match(r.err, /-r not specified; omitting directory/);
  r = await m('cp', '-r', '-j', '4', '--progress', src, ':/');
  t.equal(r.code, 0, r.err);
  for (const [rel, data] of Object.entries(files)) t.same(await readFile(s.localAt(`tree/${rel}`)), data, `uploaded ${rel}`);
  t.equal(await readlink(s.localAt('tree/link')), 'f2', 'symlinks are copied as symlinks');
  t.match(r.err, /100% \[#+\]/, 'the progress bar reached 100%');
  t.match(r.err, /copied 12 files, [\d.]+ MiB in [\d.]+ s \([\d.]+ [KM]iB\/s\)\n$/);
  const back = join(local, 'back');
  r = await m('cp', '-r', ':/tree', back);
  t.equal(r.code, 0, r.err);
  for (const [rel, data] of Object.entries(files)) t.same(await readFile(join(back, rel)), data, `downloaded ${rel}`);
  t.ok((await lstat(join(back, 'link'))).isSymbolicLink());
  r = await m('cp', ':/tree/f2', ':/tree/f5', join(local, 'two'));
  t.equal(r.code, 1, 'several sources into a missing directory');
  t.match(r.err, /target '.*two' is not a directory/);
  r = await m('cp', ':/tree/f2', '-');
  t.equal(r.out, files['f2']!.toString('latin1'), 'to standard output');
  const stdin = await mountless(['cp', '-', ':/from-stdin'], { NFS_URL: urlWith(s.dir) }, 'piped in\n');
  t.equal(stdin.code, 0, stdin.err);
  t.equal(await readFile(s.localAt('from-stdin'), 'utf8'), 'piped in\n');
  await writeFile(s.localAt('keep'), 'old');
  r = await m('cp', '-n', join(src, 'f2'), ':/keep');
  t.equal(await readFile(s.localAt('keep'), 'utf8'), 'old', '-n does not overwrite');
});

t.test('cp: NFS <-> NFS, within a volume and across volumes, by URL', async (t) => {
  const { s, m } = await setup(t);
  await mkdir(s.localAt('a'));
  await mkdir(s.localAt('b'));
  await writeFile(s.localAt('a/x'), Buffer.alloc(3_000_000, 9));
  let r = await m('cp', ':/a/x', ':/a/y');
  t.equal(r.code, 0, r.err);
  t.same(await readFile(s.localAt('a/y')), await readFile(s.localAt('a/x')), 'same volume (copyFile)');
  // Two different volumes: one rooted at a/, the other named by a full URL to b/.
  r = await mountless(['cp', ':/x', `${urlWith(s.at('b'))}/z`], { NFS_URL: urlWith(s.at('a')) });
  t.equal(r.code, 0, r.err);
  t.same(await readFile(s.localAt('b/z')), await readFile(s.localAt('a/x')), 'across volumes (streamed)');
  r = await mountless(['cp', `${NFS_URL.replace(/\/$/, '')}${s.dir}/a/x`, `${urlWith(s.dir)}/a/w`]);
  t.equal(r.code, 0, r.err);
  t.same(await readFile(s.localAt('a/w')), await readFile(s.localAt('a/x')), 'two full URLs, no NFS_URL');
});

t.test('rm, mkdir, mv, ln', async (t) => {
  const { s, m } = await setup(t);
  let r = await m('mkdir', '/d');
  t.equal(r.code, 0, r.err);
  r = await m('mkdir', '/d');
  t.equal(r.code, 1);
  t.equal(r.err, "mountless: cannot create directory '/d': File exists\n");
  r = await m('mkdir', '-p', '-m', '700', '/p/q/r');
  t.equal(r.code, 0, r.err);
  t.equal((await stat(s.localAt('p/q/r'))).mode & 0o777, 0o700);
  r = await m('mkdir', '/no/such/parent');
  t.equal(r.err, "mountless: cannot create directory '/no/such/parent': No such file or directory\n");
  await writeFile(s.localAt('f'), 'f');
  r = await m('mv', '/f', '/g');
  t.equal(r.code, 0, r.err);
  t.same((await readdir(s.local)).sort(), ['d', 'g', 'p']);
  r = await m('mv', '/g', '/d');
  t.equal(r.code, 0, r.err);
  t.same(await readdir(s.localAt('d')), ['g'], 'moved into the directory');
  r = await m('mv', '/missing', '/d');
  t.equal(r.code, 1);
  t.match(r.err, /^mountless: cannot move '\/missing' to '\/d': No such file or directory\n$/);
  r = await m('ln', '-s', 'g', '/d/link');
  t.equal(r.code, 0, r.err);
  t.equal(await readlink(s.localAt('d/link')), 'g');
  r = await m('ln', '/d/g', '/d/hard');
  t.equal(r.code, 0, r.err);
  t.equal((await stat(s.localAt('d/g'))).nlink, 2);
  r = await m('ln', '-s', 'x', '/d/link');
  t.equal(r.code, 1);
  t.equal(r.err, "mountless: cannot create symbolic link '/d/link': File exists\n");
  r = await m('rm', '/d');
  t.equal(r.code, 1);
  t.equal(r.err, "mountless: cannot remove '/d': Is a directory\n");
  r = await m('rm', '/missing');
  t.equal(r.err, "mountless: cannot remove '/missing': No such file or directory\n");
  t.equal((await m('rm', '-f', '/missing')).code, 0);
  r = await m('rm', '-r', '/d', '/p');
  t.equal(r.code, 0, r.err);
  t.same(await readdir(s.local), []);
  r = await m('rm', '-rf', '/');
  t.equal(r.code, 1);
  t.match(r.err, /refusing to remove the volume root/);
});

t.test('df and exports', async (t) => {
  const { m } = await setup(t);
  let r = await m('df');
  t.equal(r.code, 0, r.err);
  const [head, row] = r.out.trimEnd().split('\n');
  t.match(head, /^Volume +1K-blocks +Used +Available +Use% +Path$/);
  t.match(row, /^nfs:\/\/\S+ +\d+ +\d+ +\d+ +\d+% +\/$/);
  r = await m('df', '-h');
  t.match(r.out, /\d(\.\d)?[KMGT]? /);
  r = await m('df', '--json');
  const j = JSON.parse(r.out) as { bytes: { total: number; used: number; avail: number }; files: { total: number } };
  t.ok(j.bytes.total > 0 && j.bytes.total >= j.bytes.used);
  r = await mountless(['exports', '127.0.0.1']);
  t.equal(r.code, 0, r.err);
  t.match(r.out, /^Export list for 127\.0\.0\.1:\n/);
  t.match(r.out, new RegExp(`\\n${new URL(NFS_URL).pathname.replace(/\/$/, '')} `));
  r = await mountless(['exports', '--json'], { NFS_URL });
  t.ok((JSON.parse(r.out) as Array<{ dir: string }>).some((e) => e.dir === new URL(NFS_URL).pathname.replace(/\/$/, '')));
  r = await mountless(['exports', '127.0.0.2']);
  t.equal(r.code, 1);
  t.match(r.err, /^mountless: cannot list exports of '127\.0\.0\.2': /);
});

t.test('usage errors exit 2, bench and volume are dispatched', async (t) => {
  let r = await mountless(['ls', '--nope']);
  t.equal(r.code, 2);
  r = await mountless(['nope']);
  t.equal(r.code, 2);
  r = await mountless(['cat']);
  t.equal(r.code, 2);
  t.equal(r.err, 'usage: mountless cat PATH...\n');
  r = await mountless(['bench', '--help']);
  t.equal(r.code, 0, 'bench --help');
  t.match(r.out, /bench/);
  r = await mountless(['volume', '--help']);
  t.ok(r.code === 0 || r.code === 2, `volume --help exits cleanly (${r.code})`);
  t.notMatch(r.err, /\n\s+at /, 'no stack trace');
  r = await mountless(['help', 'volume', 'migrate']);
  t.equal(r.code, 0);
  t.match(r.out, /^usage: mountless volume migrate/, "'help volume migrate' is the sub-command's own help");
  r = await mountless(['volume', 'migrate', 'nfs://a/x', 'nfs://b/y', '--delete', 'extra']);
  t.equal(r.code, 2);
  t.match(r.err, /unexpected argument 'extra'/, '--delete is a flag of migrate');
  r = await mountless(['--version']);
  t.match(r.out, /^mountless \d+\.\d+\.\d+\n$/);
});
