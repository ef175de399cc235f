// A run of several workers as Kubernetes would start them, without a
// cluster: N local processes of the built CLI (`npm run build` first) with
// JOB_COMPLETION_INDEX set, meeting on the real export; then `bench report`.
// The URL points into a scratch directory, so the run directory goes with it.
import t from 'tap';
import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FioJson } from '../../src/bench/fio-json.js';
import { bucketRange, FIO_PERCENTILES, type HistogramData } from '../../src/bench/histogram.js';
import type { RunReportJson } from '../../src/bench/run-report.js';
import type { WorkerResultFile } from '../../src/bench/run-dir.js';
import { scratch, uniqueName, urlWith } from './_env.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

function mountless(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    c.on('error', reject);
    c.on('exit', (code) => resolve({ code, out, err }));
  });
}

/** The test's own merge: bucket counts added by index, then a nearest-rank walk, as fio reads its plat histogram. */
function mergedPercentiles(hists: HistogramData[]): Record<string, number> {
  const counts = new Map<number, number>();
  let n = 0;
  let min = Infinity;
  let max = 0;
  for (const h of hists) {
    for (const [i, c] of h.buckets) counts.set(i, (counts.get(i) ?? 0) + c);
    n += h.count;
    if (h.count) min = Math.min(min, h.min);
    max = Math.max(max, h.max);
  }
  const order = [...counts.keys()].sort((a, b) => a - b);
  const out: Record<string, number> = {};
  for (const p of FIO_PERCENTILES) {
    const rank = Math.max(1, Math.ceil((p / 100) * n));
    let seen = 0;
    for (const i of order) {
      seen += counts.get(i)!;
      if (seen >= rank) {
        const [lo, hi] = bucketRange(i);
        out[p.toFixed(6)] = Math.round(Math.min(max, Math.max(min, lo === hi ? lo : Math.floor((lo + hi) / 2))));
        break;
      }
    }
  }
  return out;
}

t.test('3 worker processes meet at the barrier; the report is the exact merge of their files', async (t) => {
  const s = await scratch(t, 'bench-workers');
  const env = { NFS_URL: urlWith(s.dir) };
  const run = uniqueName('run');
  const args = ['bench', '--name=w', '--filename=/data.dat', '--rw=randread', '--bs=4k', '--iodepth=4', '--size=4m', '--runtime=1', '--time_based', '--run-id', run, '--workers', '3', '--barrier-timeout', '60', '--output-format=json'];
  // The report Job's way: started with the workers, it waits for their results.
  const waiting = mountless(['bench', 'report', run, '--wait', '120', '--output-format=json'], env);
  const workers = await Promise.all([0, 1, 2].map((i) => mountless(args, { ...env, JOB_COMPLETION_INDEX: String(i) })));
  workers.forEach((w, i) => {
    t.equal(w.code, 0, `worker ${i}: ${w.err}`);
    t.match(w.err, new RegExp(`worker ${i}/3: all 3 workers registered; started at`));
  });
  const starts = new Set(workers.map((w) => /started at (\S+)/.exec(w.err)?.[1]));
  t.equal(starts.size, 1, 'one common start time, chosen by worker 0');
  t.equal((await s.nfs.stat(`${s.dir}/data.dat`)).size, 4 * 2 ** 20, 'worker 0 laid the file out once');

  const dir = `${s.dir}/.mountless-bench/${run}`;
  const fio: FioJson[] = [];
  const hist: WorkerResultFile[] = [];
  for (const i of [0, 1, 2]) {
    fio.push(JSON.parse(String(await s.nfs.readFile(`${dir}/results/${i}.fio.json`, 'utf8'))) as FioJson);
    hist.push(JSON.parse(String(await s.nfs.readFile(`${dir}/results/${i}.hist.json`, 'utf8'))) as WorkerResultFile);
    t.same(JSON.parse(workers[i]!.out), fio[i], `worker ${i} printed what it left on the export`);
  }
  t.same((await s.nfs.readdir(`${dir}/workers`)).sort(), ['0.json', '1.json', '2.json']);

  const rep = await mountless(['bench', 'report', run, '--output-format=json'], env);
  t.equal(rep.code, 0, rep.err);
  const r = JSON.parse(rep.out) as RunReportJson;
  t.equal(r.run_id, run);
  t.same(r.missing, []);
  t.equal(r.jobs.length, 3, 'a row per worker');
  t.same(r.jobs.map((j) => j.mountless.worker), [0, 1, 2]);
  const sum = (f: (j: FioJson['jobs'][number]) => number) => fio.flatMap((x) => x.jobs).reduce((a, j) => a + f(j), 0);
  t.ok(r.aggregate.read.total_ios > 0);
  t.equal(r.aggregate.read.total_ios, sum((j) => j.read.total_ios), 'total operations = the sum of the workers\' fio files');
  t.equal(r.aggregate.read.io_bytes, sum((j) => j.read.io_bytes), 'bytes too');
  t.equal(r.aggregate.read.io_bytes, r.aggregate.read.total_ios * 4096);
  t.same(r.jobs.map((j) => j.read.total_ios), fio.map((x) => x.jobs[0]!.read.total_ios), 'each worker\'s row is its file');
  t.same(r.aggregate.read.clat_ns.percentile, mergedPercentiles(hist.flatMap((h) => h.records.map((rec) => rec.read.hist))), 'percentiles of the merged histogram');
  t.equal(r.aggregate.read.clat_ns.N, r.aggregate.read.total_ios);

  const waited = await waiting;
  t.equal(waited.code, 0, waited.err);
  t.same((JSON.parse(waited.out) as RunReportJson).aggregate.read.total_ios, r.aggregate.read.total_ios, 'report --wait saw all three results');

  const plot = join(tmpdir(), `${run}.svg`);
  t.teardown(() => rm(plot, { force: true }));
  const text = await mountless(['bench', 'report', run, '--plot', plot], env);
  t.match(await readFile(plot, 'utf8'), /^<svg [\s\S]*<polyline /, 'a per-worker chart');
  t.equal(text.code, 0, text.err);
  t.match(text.out, /run .*: 3 of 3 workers, 3 jobs/);
  t.match(text.out, /aggregate \(all workers, histograms merged\):\n  read: IOPS=/);
  t.match(text.out, /\nworker\s+host\s+IOPS\s+MB\/s\s+p50 µs\s+p99 µs/);

  const again = await mountless(args, { ...env, JOB_COMPLETION_INDEX: '1' });
  t.equal(again.code, 1, 'a run id is used once');
  t.match(again.err, /already ran .*choose a new --run-id/);
});

t.test('a worker that never comes: the others time out at the barrier, naming it', async (t) => {
  const s = await scratch(t, 'bench-workers');
  const env = { NFS_URL: urlWith(s.dir) };
  const run = uniqueName('run');
  // Long enough for workers 0 and 2 to see each other on a busy machine, short for a test.
  const args = ['bench', '--filename=/data.dat', '--rw=read', '--bs=64k', '--size=1m', '--runtime=1', '--run-id', run, '--workers', '3', '--barrier-timeout', '6'];
  const [w0, w2] = await Promise.all([0, 2].map((i) => mountless(args, { ...env, JOB_COMPLETION_INDEX: String(i) })));
  for (const [i, w] of [[0, w0!], [2, w2!]] as const) {
    t.equal(w.code, 1, `worker ${i} failed`);
    t.match(w.err, /barrier timeout after 6 s .*: worker 1 of 3 never registered \(missing: 1\)/, `worker ${i} names the missing worker`);
  }
  const rep = await mountless(['bench', 'report', run], env);
  t.equal(rep.code, 1, 'nothing to report');
  t.match(rep.err, /no results yet|no run/);
});
