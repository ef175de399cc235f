// davfs2 (Debian package `davfs2`) mounts the sidecar through FUSE, with
// use_locks 1: files made, copied, renamed, read and removed through the
// mount land on the NFS server's disk, and a file open for writing through
// the mount is locked against other WebDAV writers. Needs root and
// /dev/fuse; where the machine cannot mount, the test says why and skips
// (sidecar-clients.test.ts replays davfs2's requests without a mount).
import t from 'tap';
import { execFile } from 'node:child_process';
import { access, chmod, mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { request, startSidecar } from './_sidecar.js';

const run = promisify(execFile);

/** Why this machine cannot mount davfs, or undefined if it can try. */
async function cannotMount(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'not root (mount -t davfs needs root here)';
  try {
    await access('/dev/fuse');
  } catch {
    return 'no /dev/fuse (the fuse module is not loaded: modprobe fuse)';
  }
  return undefined;
}

async function haveDavfs(): Promise<boolean> {
  try {
    await access('/sbin/mount.davfs');
    return true;
  } catch {
    return false;
  }
}

/** Shell commands run in a child process: the sidecar serving the mount lives in this one's event loop. */
async function sh(script: string): Promise<string> {
  return (await run('sh', ['-ec', script], { timeout: 60_000 })).stdout;
}

t.test('davfs2 is installed (apt-get install davfs2)', async (t) => {
  t.ok(await haveDavfs(), '/sbin/mount.davfs exists');
});

t.test('davfs2 mount with use_locks 1: write, copy, rename, read, remove; a file open for writing is locked', async (t) => {
  if (!(await haveDavfs())) return t.fail('davfs2 is not installed: apt-get install davfs2');
  const why = await cannotMount();
  if (why) return t.skip(`cannot mount davfs on this machine: ${why}`, () => {});
  const r = await startSidecar(t);
  await writeFile(join(r.volLocal, 'before.txt'), 'made by NFS\n');

  const work = await mkdtemp(join(tmpdir(), 'mountless-davfs-'));
  // davfs2 drops to its own user (davfs2) before touching its cache.
  await chmod(work, 0o777);
  const mnt = join(work, 'mnt');
  const cache = join(work, 'cache');
  await sh(`mkdir -p '${mnt}' '${cache}' && chmod 777 '${cache}'`);
  const conf = join(work, 'davfs2.conf');
  // buf_size 64: with a smaller buffer, davfs2 1.6/1.7's READDIR fails with
  // EINVAL on Linux 6.16 and later (davfs2 issue #22). delay_upload 0: upload
  // at close, so the test need not wait.
  await writeFile(conf, 'use_locks 1\nask_auth 0\nbuf_size 64\ndelay_upload 0\nfile_refresh 1\ndir_refresh 1\ncache_dir ' + cache + '\n');
  let mounted = false;
  t.teardown(async () => {
    if (mounted) await run('umount', [mnt], { timeout: 60_000 }).catch(() => run('umount', ['-l', mnt]).catch(() => {}));
    await rm(work, { recursive: true, force: true });
  });
  try {
    await run('mount', ['-t', 'davfs', '-o', `conf=${conf}`, `http://127.0.0.1:${r.port}/`, mnt], { timeout: 30_000 });
  } catch (err) {
    const msg = String((err as { stderr?: string }).stderr || err).trim();
    // The kernel side missing is the machine's limit; anything else (the sidecar's answers at mount time) is a failure.
    if (/fuse|coda|not permitted|permission denied/i.test(msg)) return t.skip(`cannot mount davfs on this machine: ${msg}`, () => {});
    throw err;
  }
  mounted = true;

  t.same((await sh(`ls '${mnt}'`)).split('\n').filter(Boolean).sort(), ['before.txt', 'lost+found'], 'the volume is listed (lost+found is davfs2\'s own, local)');
  t.equal(await sh(`cat '${mnt}/before.txt'`), 'made by NFS\n', 'a file made by another NFS client reads through the mount');

  // A file held open for writing through the mount: davfs2 locks it on the server.
  const held = await open(join(mnt, 'held.txt'), 'w');
  try {
    await held.write('written through davfs2\n');
    const other = await request(r.port, 'PUT', '/held.txt', { body: 'someone else' });
    t.equal(other.status, 423, 'another WebDAV client cannot overwrite it meanwhile');
  } finally {
    await held.close();
  }

  await sh(
    [
      `cd '${mnt}'`,
      'printf "new file\\n" > new.txt',
      'mkdir -p dir/sub',
      'head -c 300000 /dev/zero | tr "\\0" x > dir/sub/big.txt',
      'cp new.txt dir/copy.txt',
      'mv new.txt dir/renamed.txt',
      'rm before.txt',
    ].join('\n'),
  );
  await run('umount', [mnt], { timeout: 60_000 });
  mounted = false;

  t.same((await readdir(r.volLocal)).sort(), ['dir', 'held.txt'], 'after umount: what the mount did, on the server');
  t.equal(await readFile(join(r.volLocal, 'held.txt'), 'utf8'), 'written through davfs2\n');
  t.equal(await readFile(join(r.volLocal, 'dir', 'renamed.txt'), 'utf8'), 'new file\n');
  t.equal(await readFile(join(r.volLocal, 'dir', 'copy.txt'), 'utf8'), 'new file\n');
  t.equal(await readFile(join(r.volLocal, 'dir', 'sub', 'big.txt'), 'utf8'), 'x'.repeat(300_000));
  const methods = new Set(r.logs.filter((l) => l.msg === 'request').map((l) => l.method));
  t.ok(methods.has('LOCK') && methods.has('UNLOCK'), 'davfs2 took and released locks');
  t.same(r.logs.filter((l) => l.msg === 'request failed'), [], 'no request failed on the server side');
});
