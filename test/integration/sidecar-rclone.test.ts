// rclone (Debian package `rclone`) over its webdav backend against the
// sidecar: copy, check, sync, moveto and purge, with the end state checked
// on the NFS server's disk. Vendor `other` (plain WebDAV) and `owncloud`
// (sends X-OC-Mtime, so modification times are kept and a second copy
// transfers nothing), the latter with a bearer token.
import t, { type Test } from 'tap';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { startSidecar } from './_sidecar.js';

const run = promisify(execFile);

async function haveRclone(): Promise<boolean> {
  try {
    await run('rclone', ['version']);
    return true;
  } catch {
    return false;
  }
}

interface Remote {
  /** Runs rclone with the remote's flags (times in UTC); resolves with its output (listings on stdout, -v logs on stderr), rejects on a non-zero exit. */
  rclone(...args: string[]): Promise<string>;
}

async function remoteFor(t: Test, port: number, vendor: string, token?: string): Promise<Remote> {
  const home = await mkdtemp(join(tmpdir(), 'mountless-rclone-'));
  t.teardown(() => rm(home, { recursive: true, force: true }));
  const config = join(home, 'rclone.conf');
  await writeFile(config, '');
  const flags = [`--config=${config}`, `--webdav-url=http://127.0.0.1:${port}`, `--webdav-vendor=${vendor}`, '--retries=1', '--low-level-retries=1'];
  if (token) flags.push(`--webdav-bearer-token=${token}`);
  return {
    async rclone(...args: string[]) {
      const { stdout, stderr } = await run('rclone', [...flags, ...args], { timeout: 60_000, maxBuffer: 8 * 1024 * 1024, env: { ...process.env, TZ: 'UTC' } });
      return stdout + stderr;
    },
  };
}

/** Every file below `dir` → its content and mtime in whole seconds. */
async function tree(dir: string, skip = (_name: string) => false): Promise<Map<string, { data: string; mtime: number }>> {
  const out = new Map<string, { data: string; mtime: number }>();
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (skip(e.name)) continue;
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.set(relative(dir, p), { data: await readFile(p, 'utf8'), mtime: Math.floor((await stat(p)).mtimeMs / 1000) });
    }
  };
  await walk(dir);
  return out;
}

const contents = (m: Map<string, { data: string }>) => Object.fromEntries([...m].map(([k, v]) => [k, v.data]).sort());
const mtimes = (m: Map<string, { mtime: number }>) => Object.fromEntries([...m].map(([k, v]) => [k, v.mtime]).sort());

/** A source tree with old mtimes (so an mtime the server made up cannot match by chance). */
async function makeSource(t: Test): Promise<string> {
  const src = await mkdtemp(join(tmpdir(), 'mountless-rclone-src-'));
  t.teardown(() => rm(src, { recursive: true, force: true }));
  await mkdir(join(src, 'sub', 'deeper'), { recursive: true });
  const files: Record<string, string> = {
    'a.txt': 'alpha\n',
    'sub/b.txt': 'bravo '.repeat(50_000),
    'sub/deeper/c d é.txt': 'charlie\n',
    'sub/50% off.txt': 'percent\n',
    'empty.txt': '',
  };
  let when = 1_500_000_000;
  for (const [name, data] of Object.entries(files)) {
    await writeFile(join(src, name), data);
    await utimes(join(src, name), when, when);
    when += 86_400 + 7;
  }
  return src;
}

async function scenario(t: Test, vendor: string, token?: string): Promise<void> {
  const r = await startSidecar(t, {}, token ? { MOUNTLESS_TOKEN: token } : {});
  const remote = await remoteFor(t, r.port, vendor, token);
  const src = await makeSource(t);
  const dst = join(r.volLocal, 'dst');
  const keepsMtime = vendor !== 'other';

  await remote.rclone('copy', src, ':webdav:dst');
  const copied = await tree(dst);
  t.same(contents(copied), contents(await tree(src)), 'copy: every file on the server, same content');
  if (keepsMtime) t.same(mtimes(copied), mtimes(await tree(src)), 'copy: modification times kept (X-OC-Mtime)');
  else t.comment('vendor other: rclone sends no times, the server\'s own mtimes stand');

  const check = await remote.rclone('check', src, ':webdav:dst');
  t.match(check, /0 differences found/, 'check: no differences');

  const lsl = await remote.rclone('lsl', ':webdav:dst/sub/deeper');
  const when = new Date(copied.get('sub/deeper/c d é.txt')!.mtime * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '');
  t.match(lsl, new RegExp(`^ +8 ${when}\\.0+ c d é\\.txt$`, 'm'), `lsl shows the file with the server's mtime (${when})`);
  if (keepsMtime) {
    const again = await remote.rclone('copy', '-v', src, ':webdav:dst');
    t.notMatch(again, /Copied/, 'a second copy transfers nothing: sizes and times match');
  }

  // sync: a changed file, a new one, a deleted one.
  await writeFile(join(src, 'a.txt'), 'alpha, changed\n');
  await utimes(join(src, 'a.txt'), 1_600_000_000, 1_600_000_000);
  await writeFile(join(src, 'sub', 'new.txt'), 'new\n');
  await rm(join(src, 'sub', 'deeper', 'c d é.txt'));
  await remote.rclone('sync', src, ':webdav:dst');
  const synced = await tree(dst);
  t.same(contents(synced), contents(await tree(src)), 'sync: the server mirrors the source, the deleted file gone');
  if (keepsMtime) t.equal(synced.get('a.txt')?.mtime, 1_600_000_000, 'sync: the changed file has its new time');
  t.match(await remote.rclone('check', src, ':webdav:dst'), /0 differences found/);

  await remote.rclone('moveto', ':webdav:dst/sub/new.txt', ':webdav:dst/moved.txt');
  t.equal(await readFile(join(dst, 'moved.txt'), 'utf8'), 'new\n', 'moveto: at the new name');
  t.notOk((await readdir(join(dst, 'sub'))).includes('new.txt'), 'moveto: gone from the old one');

  await remote.rclone('purge', ':webdav:dst/sub');
  t.notOk((await readdir(dst)).includes('sub'), 'purge: the directory and everything in it removed');
  t.same((await readdir(dst)).sort(), ['a.txt', 'empty.txt', 'moved.txt']);
  t.equal(r.logs.filter((l) => l.msg === 'request failed').length, 0, 'no request failed on the server side');
}

t.test('rclone is installed (apt-get install rclone)', async (t) => {
  t.ok(await haveRclone(), 'the rclone command runs');
});

t.test('rclone, vendor other: copy, check, sync, moveto, purge', async (t) => {
  if (!(await haveRclone())) return t.fail('rclone is not installed: apt-get install rclone');
  await scenario(t, 'other');
});

t.test('rclone, vendor owncloud with a bearer token: the same, with modification times kept', async (t) => {
  if (!(await haveRclone())) return t.fail('rclone is not installed: apt-get install rclone');
  await scenario(t, 'owncloud', 'rclone-test-token');
});
