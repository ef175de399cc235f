// migrate with many workers, as a Kubernetes Indexed Job would run it but
// without a cluster: 3 local processes of the built CLI (`npx tsc -p
// tsconfig.json` first) with JOB_COMPLETION_INDEX set, /export → /export2 of
// the local server, meeting in the queue on /export2. One worker is
// SIGKILLed while it holds a claim; the others take the claim over when its
// lease (3 s here) runs out, finish the run, and the target is compared with
// the source on the server's disk (sha256, owners, modes, mtimes to the
// nanosecond, symlinks, hard links). Running the same run id again copies
// nothing. Then the queue's own races, with two clients in this process.
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, lchown, link, mkdir, readdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from '../../src/index.js';
import { Beneath } from '../../src/volume/beneath.js';
import { crawl } from '../../src/volume/migrate-crawl.js';
import { FINAL, MigrateQueue, type DoneRecord, type Partition } from '../../src/volume/migrate-queue.js';
import type { WorkerResult } from '../../src/volume/index.js';
import { EXPORT2_DIR, EXPORT_DIR, NFS_URL, NFS_URL2, uniqueName, url2With, urlWith } from './_env.js';
import { comparable, diskTree, linkGroups } from './_volume-tree.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const DIRS = 40;
const PER_DIR = 510;

/** ≥ 20 000 small files in 40 directories, made on the server's disk with many calls in flight; symlinks, hard links, owners, modes, times. */
async function makeSource(root: string): Promise<number> {
  const p = (r: string) => join(root, r);
  const jobs: (() => Promise<void>)[] = [];
  for (let d = 0; d < DIRS; d++) {
    await mkdir(p(`d${d}`));
    for (let i = 0; i < PER_DIR; i++) {
      const f = p(`d${d}/f${i}`);
      jobs.push(async () => {
        await writeFile(f, `file ${d}/${i}\n`.repeat(1 + ((d + i) % 5)));
        if (i % 97 === 0) await chmod(f, 0o600 | ((i >> 3) & 0o7));
        if (i % 89 === 0) await chown(f, 1000 + d, 2000 + i);
        if (i % 83 === 0) await utimes(f, 1.5e9 + i, 1500000000 + i + 0.123456);
      });
    }
  }
  for (let k = 0; k < jobs.length; k += 256) await Promise.all(jobs.slice(k, k + 256).map((j) => j()));
  await mkdir(p('d3/deeper/still'), { recursive: true });
  await writeFile(p('d3/deeper/still/x'), 'deep\n');
  // Hard links across directories (and so, usually, across partitions), one group of three names.
  for (let k = 0; k < 60; k++) await link(p(`d${k % DIRS}/f${k}`), p(`d${(k + 7) % DIRS}/hard${k}`));
  await link(p('d1/f1'), p('d3/deeper/three'));
  for (let k = 0; k < 100; k++) await symlink(`../d${k % DIRS}/f${k}`, p(`d${(k + 3) % DIRS}/sym${k}`));
  await lchown(p('d5/sym2'), 42, 43);
  await symlink('/nowhere', p('dangling'));
  await chmod(p('d7'), 0o2750);
  await chown(p('d7'), 100, 200);
  await utimes(p('d9'), 1.2e9, 1200000000.25);
  return DIRS * PER_DIR + 1;
}

interface Run {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }>;
}

function worker(index: number, args: string[]): Run {
  const child = spawn(process.execPath, [CLI, 'volume', 'migrate', ...args], { env: { ...process.env, JOB_COMPLETION_INDEX: String(index) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, out, err })));
  return { child, done };
}

const notQueue = (rel: string) => rel === '.mountless-migrate';

t.test('3 workers, one SIGKILLed holding a claim: the others take it over and finish; identical on disk; the same run again copies nothing', async (t) => {
  if (!existsSync(CLI)) t.fail(`${CLI} missing: run npx tsc -p tsconfig.json first`);
  const sub = uniqueName('vol-mig-w');
  const srcDisk = join(EXPORT_DIR, sub);
  const dstDisk = join(EXPORT2_DIR, sub);
  t.teardown(async () => {
    await rm(srcDisk, { recursive: true, force: true });
    await rm(dstDisk, { recursive: true, force: true });
  });
  await mkdir(srcDisk);
  const t0 = performance.now();
  const files = await makeSource(srcDisk);
  t.comment(`source: ${files} files, 60 + 1 extra hard links, 101 symlinks, made in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  t.ok(files >= 20_000, 'at least 20 000 files');

  const args = [urlWith(sub, 'version=3'), url2With(sub, 'version=4.1'), '--workers', '3', '--run-id', 'r1', '--lease', '3', '--partition-files', '500', '--json'];
  const started = performance.now();
  const runs = [0, 1, 2].map((i) => worker(i, args));
  const claimed = join(dstDisk, '.mountless-migrate/r1/claimed');
  const doneDir = join(dstDisk, '.mountless-migrate/r1/done');
  // SIGKILL worker 1 half way, while it holds a claim.
  let killedHolding: string | undefined;
  for (;;) {
    const held = existsSync(claimed) ? (await readdir(claimed)).filter((n) => /^p\d+\.1\./.test(n)) : [];
    const nDone = existsSync(doneDir) ? (await readdir(doneDir)).length : 0;
    if (held.length > 0 && nDone >= 10) {
      runs[1]!.child.kill('SIGKILL');
      killedHolding = held[0]!.split('.')[0];
      break;
    }
    if (runs[1]!.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  const killed = await runs[1]!.done;
  t.equal(killed.signal, 'SIGKILL', `worker 1 killed holding ${killedHolding}`);
  const [r0, r2] = await Promise.all([runs[0]!.done, runs[2]!.done]);
  const secs = (performance.now() - started) / 1000;
  t.equal(r0.code, 0, `worker 0 exits 0 ${r0.err}`);
  t.equal(r2.code, 0, `worker 2 exits 0 ${r2.err}`);
  const w0 = JSON.parse(r0.out) as WorkerResult;
  const w2 = JSON.parse(r2.out) as WorkerResult;
  t.comment(`3 workers (one killed): ${secs.toFixed(1)} s, ${(files / secs).toFixed(0)} files/s; worker 0: ${w0.partitions.length} partitions, worker 2: ${w2.partitions.length}`);
  t.ok(w0.crawl && w0.crawl.files >= files, 'worker 0 crawled the source');
  t.ok([...w0.takenOver, ...w2.takenOver].includes(killedHolding!), `the killed worker's claim ${killedHolding} was taken over`);
  const finals = [w0, w2].filter((w) => w.final);
  t.equal(finals.length, 1, 'one worker ran the final pass');
  const f = finals[0]!.final!;
  t.match(f.copied, { files: 0, dirs: 0, hardLinks: 0 }, 'the final pass found every file copied by the partitions');
  t.same(f.verify?.differences, [], 'verify: no differences');
  t.same(f.unsupported, []);
  t.equal(w0.mismatches + w2.mismatches, 0, 'every partition checked clean');
  t.same(await readdir(claimed), [], 'no claim left');
  const records = await Promise.all(
    (await readdir(doneDir)).filter((n) => n !== 'final').map(async (n) => JSON.parse(await readFile(join(doneDir, n), 'utf8')) as DoneRecord),
  );
  t.equal(records.length, w0.crawl!.partitions, 'a done/ record for every partition');
  t.equal(
    records.reduce((n, r) => n + r.files, 0),
    w0.crawl!.files,
    'the records account for every file crawled',
  );
  t.ok(
    records.every((r) => /^[0-9a-f]{64}$/.test(r.digest) && r.mismatches.length === 0 && r.vanished === 0),
    'each with a digest of its checked entries, none wrong or missing',
  );
  t.same((await readdir(join(dstDisk, '.mountless-migrate/r1/todo'))).length, 0, 'nothing left to do');

  const a = await diskTree(srcDisk);
  const b = await diskTree(dstDisk, notQueue);
  t.same(comparable(b), comparable(a), 'target identical to the source on disk: sha256, owners, modes, mtimes (ns), symlinks');
  t.same(linkGroups(b), linkGroups(a), 'hard links kept as hard links');
  t.same(
    [...b.keys()].filter((k) => k.endsWith('.mountless-part')),
    [],
    'no partial files',
  );

  const again = await Promise.all([0, 1, 2].map((i) => worker(i, args).done));
  for (const [i, r] of again.entries()) {
    t.equal(r.code, 0, `rerun: worker ${i} exits 0 ${r.err}`);
    const w = JSON.parse(r.out) as WorkerResult;
    t.match(w, { alreadyFinished: true, partitions: [], copied: { files: 0, bytes: 0, symlinks: 0, hardLinks: 0 } }, `rerun: worker ${i} copies nothing`);
  }
});

t.test('queue: of two workers racing for a partition one wins; a lapsed lease is taken over once; final is claimed once', async (t) => {
  const sub = uniqueName('vol-mig-q');
  const dir = join(EXPORT2_DIR, sub);
  await mkdir(dir);
  const [n1, n2] = await Promise.all([connect(`${NFS_URL2}/${sub}`), connect(`${NFS_URL2}/${sub}`)]);
  t.teardown(async () => {
    await n1.close();
    await n2.close();
    await rm(dir, { recursive: true, force: true });
  });
  const q1 = await MigrateQueue.open(await Beneath.open(n1, '/'), 'race', 1);
  const q2 = await MigrateQueue.open(await Beneath.open(n2, '/'), 'race', 2);
  for (let i = 0; i < 20; i++) await q1.addPartition({ id: `p${String(i).padStart(6, '0')}`, dirs: [{ path: '', names: [`f${i}`], whole: false }], files: 1, bytes: 1 });
  const parts = (await q1.todo()).sort();
  t.equal(parts.length, 20, 'partitions visible whole in todo/ (written aside, then renamed in)');
  // Issued in both orders, so each worker wins some.
  const results = await Promise.all(parts.map((p, i) => (i % 2 ? Promise.all([q1.claim(p), q2.claim(p)]) : Promise.all([q2.claim(p), q1.claim(p)]).then(([b, a]) => [a, b] as const))));
  for (const [i, [c1, c2]] of results.entries()) t.ok((c1 === undefined) !== (c2 === undefined), `${parts[i]}: exactly one claim succeeded`);
  const claims = await q1.claims();
  t.equal(claims.length, 20, 'every partition claimed once');
  t.same(await q1.todo(), [], 'todo/ empty');

  // Worker 2 stops renewing: after the lease its claims are taken over, each by one of two takers.
  const ofW2 = claims.filter((c) => c.worker === 2);
  t.ok(ofW2.length > 0, 'worker 2 holds some');
  const q3 = await MigrateQueue.open(await Beneath.open(n2, '/'), 'race', 3);
  await new Promise((r) => setTimeout(r, 1200));
  const now = await q1.heartbeat();
  const stale = (await q1.claims()).filter((c) => c.worker === 2);
  t.ok(
    stale.every((c) => now - c.leaseMs >= 1000),
    'lease ages measured in the server clock',
  );
  const mine = ofW2[0]!;
  t.ok(await q2.renew(mine.name), 'worker 2 can still renew its claim');
  const taken = await Promise.all(stale.map((c) => Promise.all([q1.takeOver(c), q3.takeOver(c)])));
  for (const [c1, c3] of taken) t.ok((c1 === undefined) !== (c3 === undefined), 'one taker wins');
  t.notOk(await q2.renew(mine.name), 'worker 2 learns by its renewal that its claim is gone');
  const after = await q1.claims();
  t.equal(after.length, 20, 'no claim lost or doubled');
  t.notOk(
    after.some((c) => c.worker === 2),
    'none left under worker 2',
  );
  const fresh = after.find((c) => c.part === mine.part)!;
  t.ok((await q1.heartbeat()) - fresh.leaseMs < 1000, 'a claim taken over starts with a fresh lease');

  // Finishing: done/ records, claims gone; `final` is claimable by one worker.
  for (const c of after) await (c.worker === 1 ? q1 : q3).finish(c.part, c.name, { id: c.part });
  t.equal((await q1.done()).length, 20);
  t.same(await q1.claims(), []);
  await q1.addFinal();
  const [f1, f2] = await Promise.all([q1.claim(FINAL), q2.claim(FINAL)]);
  t.ok((f1 === undefined) !== (f2 === undefined), 'final claimed by exactly one worker');
});

t.test('crawl: partitions within the limits, hard-link groups whole, directories made; a resumed crawl queues only what is missing', async (t) => {
  const sub = uniqueName('vol-mig-crawl');
  const srcDisk = join(EXPORT_DIR, sub);
  const dstDisk = join(EXPORT2_DIR, sub);
  await mkdir(join(srcDisk, 'big'), { recursive: true });
  await mkdir(join(srcDisk, 'small/inner'), { recursive: true });
  await mkdir(dstDisk);
  const [sn, dn] = await Promise.all([connect(`${NFS_URL}/${sub}`), connect(`${NFS_URL2}/${sub}`)]);
  t.teardown(async () => {
    await sn.close();
    await dn.close();
    await rm(srcDisk, { recursive: true, force: true });
    await rm(dstDisk, { recursive: true, force: true });
  });
  for (let i = 0; i < 23; i++) await writeFile(join(srcDisk, `big/f${String(i).padStart(2, '0')}`), 'x'.repeat(i));
  await writeFile(join(srcDisk, 'small/a'), 'a');
  await symlink('a', join(srcDisk, 'small/s'));
  await link(join(srcDisk, 'big/f03'), join(srcDisk, 'small/inner/l3'));
  await link(join(srcDisk, 'big/f03'), join(srcDisk, 'l3-root'));
  await link(join(srcDisk, 'big/f20'), join(srcDisk, 'small/l20'));
  const src = await Beneath.open(sn, '/');
  const dst = await Beneath.open(dn, '/');
  const q = await MigrateQueue.open(dst, 'crawl', 0);
  const rec = await crawl(src, dst, q, { maxFiles: 5, maxBytes: 60, ignoreAtRoot: ['.mountless-migrate'] });
  t.match(rec, { files: 23 + 1 + 3, dirs: 3 }, 'every file counted once per name, every directory');
  const todoDir = join(dstDisk, '.mountless-migrate/crawl/todo');
  const read = async () => new Map(await Promise.all((await readdir(todoDir)).filter((n) => n !== FINAL).map(async (n) => [n, JSON.parse(await readFile(join(todoDir, n), 'utf8')) as Partition] as const)));
  const parts = await read();
  t.equal(parts.size, rec.partitions);
  t.ok((await readdir(todoDir)).includes(FINAL), 'the final pass is queued');
  const where = new Map<string, string>();
  for (const [id, p] of parts) {
    const n = p.dirs.reduce((k, c) => k + c.names.length, 0);
    t.ok(n <= 5 && (p.bytes <= 60 || n === 1), `${id}: ${n} entries, ${p.bytes} bytes: within the limits`);
    for (const c of p.dirs) for (const name of c.names) where.set(c.path ? `${c.path}/${name}` : name, id);
  }
  t.equal(where.size, 23 + 1 + 1 + 3, 'every non-directory in exactly one partition');
  t.equal(new Set(['big/f03', 'small/inner/l3', 'l3-root'].map((p) => where.get(p))).size, 1, 'the three names of one inode in one partition');
  t.equal(where.get('big/f20'), where.get('small/l20'), 'a pair of links in one partition');
  const small = [...parts.values()].flatMap((p) => p.dirs).filter((c) => c.path === 'small' && c.names.includes('a'));
  t.match(small, [{ whole: true }], "a directory within one partition is marked whole (listed, not looked up)");
  t.ok(
    [...parts.values()].flatMap((p) => p.dirs).filter((c) => c.path === 'big').every((c) => !c.whole),
    'a directory split over partitions is not',
  );
  for (const d of ['big', 'small', 'small/inner']) t.ok(existsSync(join(dstDisk, d)), `${d} made at the target`);

  // Worker 0 died after queueing: crawl-done missing, one partition gone to a worker (removed here). The crawl again writes nothing new.
  await rm(join(dstDisk, '.mountless-migrate/crawl/crawl-done'));
  const [firstId] = [...parts.keys()].sort();
  await rm(join(todoDir, firstId!));
  await writeFile(join(dstDisk, `.mountless-migrate/crawl/done/${firstId}`), '{}');
  const again = await crawl(src, dst, q, { maxFiles: 5, maxBytes: 60, ignoreAtRoot: ['.mountless-migrate'] });
  t.equal(again.partitions, rec.partitions, 'the same partitions cut');
  const after = await read();
  t.same([...after.keys()].sort(), [...parts.keys()].filter((k) => k !== firstId).sort(), 'the partition recorded done was not queued again');
  t.same(after, new Map([...parts].filter(([k]) => k !== firstId)), 'and the others are the same partitions');
});
