// The server is killed (kill -9) and restarted in the middle of parallel
// writes and reads: with the default hard mount every call completes, and
// every byte whose write was acknowledged is on the server's disk. A soft
// mount against a stopped server fails with ETIMEDOUT instead of hanging.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { link, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { connect } from '../../src/index.js';
import { EXPORT_DIR, NFS_URL, scratch, urlWith } from './_env.js';

const LOCAL_NAS = join(dirname(fileURLToPath(import.meta.url)), '../../scripts/local-nas');
const LOCAL = new URL(NFS_URL).hostname === '127.0.0.1' && !process.env.MOUNTLESS_TEST_URL;

function nasEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of execFileSync(LOCAL_NAS, ['env'], { encoding: 'utf8' }).split('\n')) {
    const m = /^(\w+)=(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!.replace(/^'(.*)'$/, '$1');
  }
  return out;
}

function kill9(): void {
  const pid = Number(nasEnv().MOUNTLESS_NAS_PID);
  if (!pid) throw new Error('no NFS-Ganesha pid from scripts/local-nas env');
  process.kill(pid, 'SIGKILL');
}

function start(): void {
  execFileSync(LOCAL_NAS, ['start'], { stdio: ['ignore', 'ignore', 'inherit'] });
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const version of ['3', '4.0', '4.1', '4.2'] as const) {
  t.test(`NFSv${version}: kill -9 and restart during parallel writes and reads: nothing acknowledged is lost, nothing hangs`, { skip: !LOCAL && 'needs the local NFS-Ganesha' }, async (t) => {
    const s = await scratch(t, `restart-v${version.replace('.', '')}`, { timeo: 10, retrans: 2, version });
    const files = Array.from({ length: 24 }, (_, i) => ({ name: `f${i}`, data: randomBytes(256 * 1024 + i * 4099) }));
    // Some files exist before the crash, to be read during it.
    await Promise.all(files.slice(0, 8).map((f) => s.nfs.writeFile(s.at(f.name), f.data)));
    const backend = s.nfs.backend as unknown as { inner: { rpc: { stats: { reconnects: number; retransmits: number }; pending: number } } };
    const rpc = backend.inner.rpc;
    // A FileHandle open across the restart: on v4 its open state is lost with the server and re-established
    // (this server has no grace period: by handle on 4.1+, by directory and name on 4.0).
    const held = await s.nfs.open(s.at('held'), 'w+');
    await held.write(Buffer.from('before '), 0, 7, 0);
    // One holding a byte-range lock: with no grace period the lock cannot be reclaimed, so the handle must fail.
    await s.nfs.writeFile(s.at('locked'), 'locked data');
    const locked = version === '3' ? undefined : await s.nfs.open(s.at('locked'), 'r+');
    await locked?.lock(0, 5, { exclusive: true });
    // One whose name is given to another file while the server is down (the first file lives on as
    // 'kept'): 4.0 re-opens by name and must refuse what it finds; 4.1+ re-opens the same file by handle.
    await s.nfs.writeFile(s.at('swapped'), 'first file');
    const swapped = version === '3' ? undefined : await s.nfs.open(s.at('swapped'), 'r+');
    await link(join(EXPORT_DIR, s.dir, 'swapped'), join(EXPORT_DIR, s.dir, 'kept'));

    const work = Promise.all([
      ...files.slice(8).map(async (f, i) => {
        await sleep(i * 15);
        await s.nfs.writeFile(s.at(f.name), f.data);
        return f.name;
      }),
      ...files.slice(0, 8).map(async (f, i) => {
        await sleep(i * 20);
        const back = (await s.nfs.readFile(s.at(f.name))) as Buffer;
        t.equal(sha(back), sha(f.data), `read of ${f.name} across the restart is intact`);
        return f.name;
      }),
    ]);
    await sleep(60);
    kill9();
    await writeFile(join(EXPORT_DIR, s.dir, 'swapped.new'), 'second file');
    await rename(join(EXPORT_DIR, s.dir, 'swapped.new'), join(EXPORT_DIR, s.dir, 'swapped'));
    await sleep(700);
    start();
    const done = await work;
    t.equal(done.length, files.length, 'every call completed');
    await held.write(Buffer.from('after'), 0, 5, 7);
    t.equal(await held.readFile({ encoding: 'utf8' }), 'before after', 'read back through the same handle');
    await held.close();
    t.equal(await readFile(join(EXPORT_DIR, s.dir, 'held'), 'utf8'), 'before after', 'the handle open across the restart wrote both halves');
    if (locked && swapped) {
      const v4 = backend.inner as unknown as { stats: { reopens: number; recoveries: number } };
      t.ok(v4.stats.reopens >= 1, `the open was re-established after the server forgot it (${v4.stats.reopens} re-opens, ${v4.stats.recoveries} client recoveries)`);
      await t.rejects(locked.write('X', 0), { code: 'EIO', syscall: 'write', nfsStatus: 'NFS4ERR_NO_GRACE' }, 'a handle whose lock could not be reclaimed fails with EIO');
      await t.rejects(locked.read(Buffer.alloc(4), 0, 4, 0), { code: 'EIO' }, 'reads too, every time');
      await locked.close();
      t.equal(await readFile(join(EXPORT_DIR, s.dir, 'locked'), 'utf8'), 'locked data', 'nothing written through the lost handle');
      if (version === '4.0') {
        await t.rejects(swapped.write('X', 0), { code: 'ESTALE', syscall: 'write' }, '4.0: the name now leads to another file: refused');
        await t.rejects(swapped.write('X', 0), { code: 'ESTALE' }, 'and stays refused');
      } else {
        await swapped.write('F', 0);
      }
      await swapped.close();
      t.equal(await readFile(join(EXPORT_DIR, s.dir, 'swapped'), 'utf8'), 'second file', 'the file that took the name was not written');
      t.equal(await readFile(join(EXPORT_DIR, s.dir, 'kept'), 'utf8'), version === '4.0' ? 'first file' : 'First file', '4.1+ wrote to the file it had open');
    }
    t.ok(rpc.stats.reconnects >= 1, `the client reconnected (${rpc.stats.reconnects} reconnects, ${rpc.stats.retransmits} retransmits)`);
    t.equal(rpc.pending, 0, 'no call left pending');
    for (const f of files) {
      const onDisk = await readFile(join(EXPORT_DIR, s.dir, f.name));
      t.equal(sha(onDisk), sha(f.data), `${f.name} on the server's disk byte for byte`);
    }
  });
}

t.test('soft mount: a stopped server gives ETIMEDOUT, then works again after restart', { skip: !LOCAL && 'needs the local NFS-Ganesha' }, async (t) => {
  const s = await scratch(t, 'soft', {});
  await s.nfs.writeFile(s.at('x'), 'x');
  const soft = await connect(urlWith(s.dir.slice(1)), { soft: true, timeo: 5, retrans: 1, noac: true });
  t.teardown(() => soft.close());
  t.equal((await soft.stat('/x')).size, 1);
  execFileSync(LOCAL_NAS, ['stop'], { stdio: 'ignore' });
  try {
    await t.rejects(soft.stat('/x'), { code: 'ETIMEDOUT' }, 'soft: fails with ETIMEDOUT after timeo × retrans');
  } finally {
    start();
  }
  t.equal((await soft.stat('/x')).size, 1, 'and the next call reconnects');
});

t.test('hard mount: a call waiting for a stopped server is aborted by its signal', { skip: !LOCAL && 'needs the local NFS-Ganesha' }, async (t) => {
  const s = await scratch(t, 'hard-abort', {});
  await s.nfs.writeFile(s.at('y'), 'yy');
  const hard = await connect(urlWith(s.dir.slice(1)), { timeo: 5, retrans: 1, noac: true });
  t.teardown(() => hard.close());
  await hard.stat('/y');
  execFileSync(LOCAL_NAS, ['stop'], { stdio: 'ignore' });
  try {
    const ac = new AbortController();
    const p = hard.readFile('/y', { signal: ac.signal });
    await sleep(1500); // longer than the soft timeout would be: hard keeps waiting
    ac.abort();
    await t.rejects(p, { name: 'AbortError' });
  } finally {
    start();
  }
  t.equal(await hard.readFile('/y', 'utf8'), 'yy', 'the same client works after the restart');
});
