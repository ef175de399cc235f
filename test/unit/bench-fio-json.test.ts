import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { drive, type Workload } from '../../src/bench/engine.js';
import { ctime, fioJson, type FioDirection, type FioJob, type FioJson, type FioLat } from '../../src/bench/fio-json.js';
import { runLogs } from '../../src/bench/fio-log.js';
import { platIndex, platRange, platValue, PLAT_NR } from '../../src/bench/fio-plat.js';
import { Histogram } from '../../src/bench/histogram.js';
import { mergeJobs } from '../../src/bench/merge.js';
import { expandJobs, parseBenchArgs, type BenchOptions } from '../../src/bench/options.js';
import { direction, type JobResult } from '../../src/bench/result.js';

/**
 * mountless's fio JSON against real fio's (test/fixtures/fio/, made by fio
 * 3.33: see the README there): the same keys at every level, less those
 * bench/README.md lists as left out, and the same relations between fields,
 * checked on fio's output first (so each relation is fio's, not ours) and
 * then on mountless's.
 */

const FIX = new URL('../fixtures/fio/', import.meta.url);
const fixture = (name: string) => JSON.parse(readFileSync(new URL(name, FIX), 'utf8')) as FioJson & Record<string, unknown>;
const fioPlus = fixture('jsonplus-randread.json');
const fioGroup = fixture('json-group.json');
const fioGlobal = fixture('json-global.json');

/** Keys of fio's we leave out (bench/README.md says why), per level. */
const LEFT_OUT = {
  top: ['disk_util'],
  job: ['ctx', 'majf', 'minf', 'latency_depth', 'latency_target', 'latency_percentile', 'latency_window'],
};
/** Keys we add: our own block, and job_start (fio ≥ 3.36; the fixtures' 3.33 predates it). */
const ADDED = { top: [] as string[], job: ['mountless', 'job_start'] };

/** A 1.1-second run through the real engine with an operation of 1–3 ms, 4 in flight; logs every 100 ms. */
async function mountlessRun(...extra: string[]): Promise<{ o: BenchOptions; r: JobResult }> {
  const o = parseBenchArgs(['--url=nfs://127.0.0.1/export', '--name=m', '--rw=randrw', '--bs=4k', '--iodepth=4', '--size=1m', '--runtime=1.1', '--time_based', ...extra]) as BenchOptions;
  const spec = expandJobs(o)[0]!;
  let n = 0;
  const w: Workload = {
    limit: Infinity,
    bufferSize: 0,
    step: (slot) => {
      slot.write = n++ % 3 === 0;
      return new Promise((res) => setTimeout(() => res(4096), 1 + (n % 3)));
    },
  };
  const d = await drive(spec, w, 1);
  const j = d.jobs[0]!;
  const part: JobResult = { spec, peer: 'mountless', loop: 0, runtimeNs: j.runtimeNs, read: direction(j.read.hist, j.read.bytes), write: direction(j.write.hist, j.write.bytes), cpu: d.cpu, job: 0, fio: j.fio, ...(d.startMs !== undefined ? { startMs: d.startMs } : {}) };
  return { o, r: mergeJobs([part]) };
}

const plusArgs = ['--lat_percentiles=1', '--write_bw_log=m', '--write_iops_log=m', '--write_lat_log=m', '--write_hist_log=m', '--log_avg_msec=500', '--log_hist_msec=500'];
// Started by the first test that needs it, not at load, when synchronous checks below would stall its timers.
let started: ReturnType<typeof mountlessRun> | undefined;
const runOnce = () => (started ??= mountlessRun(...plusArgs));

function keySet(t: Test, label: string, ours: object, theirs: object, leftOut: string[] = [], added: string[] = []): void {
  const o = Object.keys(ours).sort();
  const f = Object.keys(theirs).filter((k) => !leftOut.includes(k));
  t.same(o.filter((k) => !added.includes(k)).sort(), [...new Set(f)].sort(), `${label}: fio's keys, less those left out`);
}

/** Relations between fields that hold in fio's output; `fio` tells which side is checked, for the messages. */
function directionRelations(t: Test, side: string, d: FioDirection, pcts: string[] | undefined): void {
  t.equal(d.io_kbytes, Math.floor(d.io_bytes / 1024), `${side}: io_kbytes = io_bytes >> 10`);
  if (d.runtime === 0) return;
  t.equal(d.bw_bytes, Math.floor((d.io_bytes * 1000) / d.runtime), `${side}: bw_bytes = io_bytes / runtime, truncated`);
  t.equal(d.bw, Math.floor(d.bw_bytes / 1024), `${side}: bw = bw_bytes / 1024, truncated`);
  t.ok(Math.abs(d.iops - (d.total_ios * 1000) / d.runtime) < 1e-3, `${side}: iops = total_ios / runtime`);
  const { slat_ns: s, clat_ns: c, lat_ns: l } = d;
  for (const [name, x] of [['slat', s], ['clat', c], ['lat', l]] as const) {
    t.equal(x!.N, d.total_ios, `${side}: ${name} N = total_ios`);
    t.ok(x!.min <= x!.mean && x!.mean <= x!.max, `${side}: ${name} min ≤ mean ≤ max`);
  }
  t.ok(Math.abs(l!.mean - (s!.mean + c!.mean)) <= 1e-6 * l!.mean, `${side}: lat mean = slat mean + clat mean`);
  t.ok(l!.min >= s!.min + c!.min && l!.max <= s!.max + c!.max, `${side}: lat = slat + clat per I/O bounds min and max`);
  for (const [name, x] of [['clat', c], ['lat', l]] as const) if (x!.percentile) percentileRelations(t, `${side} ${name}`, x!, pcts);
  t.ok(d.bw_samples! > 0 && d.bw_min! <= d.bw_mean! && d.bw_mean! <= d.bw_max!, `${side}: bw_min ≤ bw_mean ≤ bw_max over ${d.bw_samples} samples`);
  t.ok(d.iops_samples! > 0 && d.iops_min! <= d.iops_mean! && d.iops_mean! <= d.iops_max!, `${side}: iops samples`);
  t.ok(Number.isInteger(d.bw_min) && Number.isInteger(d.bw_max) && Number.isInteger(d.iops_min), `${side}: sample min/max are integers`);
  t.ok(d.bw_agg! > 0 && d.bw_agg! <= 100, `${side}: bw_agg is a percent of the group`);
}

function percentileRelations(t: Test, side: string, x: FioLat, pcts: string[] | undefined): void {
  const p = x.percentile!;
  if (pcts) t.same(Object.keys(p), pcts, `${side}: percentile keys as fio formats them`);
  for (const k of Object.keys(p)) t.match(k, /^\d+\.\d{6}$/, `${side}: key ${k} is %f`);
  const vals = Object.values(p);
  t.ok(vals.every((v, i) => Number.isInteger(v) && (i === 0 || v >= vals[i - 1]!)), `${side}: integer ns, in order`);
  if (!x.bins) return;
  const bins = Object.entries(x.bins).map(([k, n]) => [Number(k), n] as const);
  t.equal(bins.reduce((a, [, n]) => a + n, 0), x.N, `${side}: bins add up to N`);
  t.ok(bins.every(([v]) => platValue(platIndex(v)) === v), `${side}: every bin key is the value fio names a bucket by`);
  // Each percentile lies in the bucket where the cumulative count first reaches p% of N (fio's rule).
  for (const [k, v] of Object.entries(p)) {
    let cum = 0;
    const at = bins.find(([, n]) => (cum += n) >= (Number(k) / 100) * x.N)!;
    t.equal(platIndex(v), platIndex(at[0]), `${side}: p${k} is in the bucket of its rank`);
  }
}

function jobRelations(t: Test, side: string, j: FioJob): void {
  const total = (o: Record<string, number> | undefined) => Object.values(o!).reduce((a, b) => a + b, 0);
  const lat = total(j.latency_ns) + total(j.latency_us) + total(j.latency_ms);
  t.ok(Math.abs(lat - 100) < 0.01, `${side}: latency_ns/us/ms add up to 100% (${lat})`);
  t.ok(total(j.iodepth_level) >= 99.9 && total(j.iodepth_level) <= 100.4, `${side}: iodepth_level is a distribution`);
  t.same(Object.keys(j.iodepth_level!), ['1', '2', '4', '8', '16', '32', '>=64']);
  t.same(Object.keys(j.iodepth_submit!), ['0', '4', '8', '16', '32', '64', '>=64']);
  t.same(Object.keys(j.latency_ms!), ['2', '4', '10', '20', '50', '100', '250', '500', '750', '1000', '2000', '>=2000']);
  for (const v of Object.values(j['job options'])) t.type(v, 'string');
}

function timeRelations(t: Test, side: string, j: FioJson): void {
  t.match(j.time, /^(Sun|Mon|Tue|Wed|Thu|Fri|Sat) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d\d:\d\d:\d\d \d{4}$/, `${side}: time in ctime form`);
  t.ok(Math.abs(new Date(j.time).getTime() / 1000 - j.timestamp) <= 1, `${side}: time and timestamp agree`);
  t.equal(j.timestamp, Math.floor(j.timestamp_ms / 1000));
}

t.test("the relations hold in fio's own output (the reference)", async (t) => {
  const j = fioPlus.jobs[0]!;
  directionRelations(t, 'fio', j.read, undefined);
  jobRelations(t, 'fio', j);
  timeRelations(t, 'fio', fioPlus);
  const g = fioGroup.jobs[0]!;
  for (const d of [g.read, g.write]) percentileRelations(t, 'fio group', d.clat_ns, ['50.000000', '99.000000', '99.900000']);
  t.notOk('global options' in fioPlus, 'fio leaves "global options" out when there are none');
  t.ok('global options' in fioGlobal);
  t.notOk('percentile' in j.write.clat_ns, 'and percentiles of a direction without I/O');
  // fio's bw log at log_avg_msec = bw_avg_time holds the samples behind bw_min/max/mean/dev.
  const bw = readFileSync(new URL('r_bw.1.log', FIX), 'utf8').trim().split('\n').map((l) => Number(l.split(', ')[1]));
  sampleRelations(t, 'fio', j.read, bw);
});

function sampleRelations(t: Test, side: string, d: FioDirection, xs: number[]): void {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const dev = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1));
  t.equal(d.bw_samples, xs.length, `${side}: one bw sample per log line`);
  t.equal(d.bw_min, Math.min(...xs), `${side}: bw_min from the samples`);
  t.equal(d.bw_max, Math.max(...xs));
  t.ok(Math.abs(d.bw_mean! - mean) < 1e-6, `${side}: bw_mean from the samples`);
  t.ok(Math.abs(d.bw_dev! - dev) < 1e-3, `${side}: bw_dev is the samples' standard deviation (n − 1)`);
}

t.test("mountless's json+: fio's keys and fio's relations", async (t) => {
  const { o, r } = await runOnce();
  const j = fioJson([r], '0.0.0', new Date(), true, { percentiles: o.percentiles, plus: true });
  keySet(t, 'top', j, fioPlus, ['disk_util', 'global options']);
  const job = j.jobs[0]!;
  const ref = fioPlus.jobs[0]!;
  keySet(t, 'job', job, ref, LEFT_OUT.job, ADDED.job);
  // Both of our directions did I/O: fio's read (randread) is their reference; trim did none in either.
  for (const [dir, like] of [['read', 'read'], ['write', 'read'], ['trim', 'trim']] as const) {
    keySet(t, dir, job[dir], ref[like]);
    for (const lat of ['slat_ns', 'clat_ns', 'lat_ns'] as const) keySet(t, `${dir} ${lat}`, job[dir][lat]!, ref[like][lat]!);
  }
  keySet(t, 'sync', job.sync, (ref as unknown as { sync: object }).sync);
  const pcts = o.percentiles.list.map((p) => p.toFixed(6));
  directionRelations(t, 'mountless read', job.read, pcts);
  directionRelations(t, 'mountless write', job.write, pcts);
  jobRelations(t, 'mountless', job);
  timeRelations(t, 'mountless', j);
  t.ok(job.job_start! > 0 && job.job_start! <= j.timestamp_ms, 'job_start: ms since the epoch, before the report');
  t.ok(j.jobs[0]!.read.slat_ns!.mean > 0, 'submission latency is measured, not zero');
});

t.test('percentile options: --percentile_list, --clat_percentiles=0, json without bins', async (t) => {
  const { r } = await runOnce();
  const o = parseBenchArgs(['--url=nfs://h/e', '--percentile_list=99.9:50', '--clat_percentiles=0', '--lat_percentiles=1']) as BenchOptions;
  t.same(o.percentiles.list, [50, 99.9], 'sorted, as fio sorts them');
  const job = fioJson([r], '0.0.0', new Date(), true, { percentiles: o.percentiles }).jobs[0]!;
  t.notOk('percentile' in job.read.clat_ns, 'clat_percentiles=0 leaves clat percentiles out');
  t.same(Object.keys(job.read.lat_ns!.percentile!), ['50.000000', '99.900000']);
  t.notOk('bins' in job.read.lat_ns!, 'plain json has no bins');
  t.notOk('percentile' in job.read.slat_ns!);
  t.throws(() => parseBenchArgs(['--url=nfs://h/e', '--percentile_list=50:101']), /percentile_list: '101'/);
});

t.test("fio's logs: fio's line format and file names, values that agree with the JSON", async (t) => {
  const { o, r } = await runOnce();
  const files = runLogs([r]);
  t.same(files.map((f) => f.path), ['m_bw.1.log', 'm_iops.1.log', 'm_lat.1.log', 'm_clat.1.log', 'm_slat.1.log', 'm_clat_hist.1.log']);
  const rows = (name: string) =>
    files
      .find((f) => f.path === name)!
      .text.trim()
      .split('\n')
      .map((l) => l.split(', ').map(Number));
  for (const f of files.filter((f) => !f.path.includes('hist'))) {
    t.ok(f.text.split('\n').slice(0, -1).every((l) => /^\d+, \d+, [01], 0, 0$/.test(l)), `${f.path}: "time, value, direction, 0, 0" lines`);
  }
  const job = fioJson([r], '0.0.0', new Date(), true, { percentiles: o.percentiles }).jobs[0]!;
  for (const [d, dir] of [[0, 'read'], [1, 'write']] as const) {
    sampleRelations(t, `mountless ${dir}`, job[dir], rows('m_bw.1.log').filter((x) => x[2] === d).map((x) => x[1]!));
    const iops = rows('m_iops.1.log').filter((x) => x[2] === d).map((x) => x[1]!);
    t.equal(job[dir].iops_min, Math.min(...iops), `${dir}: iops_min from the iops log`);
    // Averaged lat log: its windows weighted by their I/Os give the JSON's mean (to the truncation of each line).
    const lat = rows('m_lat.1.log').filter((x) => x[2] === d);
    t.ok(lat.length >= 2 && lat.every((x) => x[1]! >= job[dir].lat_ns!.min && x[1]! <= job[dir].lat_ns!.max), `${dir}: lat log means within the JSON's min and max`);
  }
  const hist = rows('m_clat_hist.1.log');
  t.ok(hist.every((x) => x.length === 3 + PLAT_NR), 'hist lines: time, direction, bs and every fio bucket');
  for (const [d, dir] of [[0, 'read'], [1, 'write']] as const) {
    const n = hist.filter((x) => x[1] === d).reduce((a, x) => a + x.slice(3).reduce((p, q) => p + q, 0), 0);
    t.equal(n, job[dir].total_ios, `${dir}: the histogram log counts every completion`);
  }
});

t.test("fio's bucket scheme: index ↔ value, and our histogram converts exactly", async (t) => {
  t.equal(platIndex(127), 127);
  t.equal(platIndex(128), 128);
  t.equal(platIndex(255), 191);
  t.equal(platIndex(256), 192);
  t.equal(platValue(192), 258, 'the middle of [256, 259], truncated');
  t.equal(platIndex(30336), platIndex(30400), 'one fio bucket');
  t.equal(platValue(platIndex(30336)), 30336, "a key of fio's own json+");
  t.equal(platIndex(1e12), PLAT_NR - 1, 'past the last group: the last bucket');
  for (let idx = 0; idx < PLAT_NR - 1; idx++) {
    const [lo, hi] = platRange(idx);
    if (platIndex(lo) !== idx || platIndex(hi) !== idx || platIndex(hi + 1) !== idx + 1) {
      t.fail(`bucket ${idx} is [${lo}, ${hi}]`);
      return;
    }
  }
  const h = new Histogram();
  const values = [1, 127, 128, 129, 255, 256, 1000, 30_399, 30_400, 99_999, 1e6, 2 ** 33, 2 ** 35];
  for (const v of values) h.record(v);
  const { fioBins } = await import('../../src/bench/fio-plat.js');
  const expect = new Map<string, number>();
  for (const v of values) expect.set(String(platValue(platIndex(v))), (expect.get(String(platValue(platIndex(v)))) ?? 0) + 1);
  t.same(fioBins(h), Object.fromEntries(expect), 'each value counted in the fio bucket it belongs to');
});

t.test('ctime: the form fio prints', async (t) => {
  t.equal(ctime(new Date(2026, 11, 4, 21, 2, 9)), 'Fri Dec  4 21:02:09 2026');
  t.equal(ctime(new Date(2026, 0, 14, 1, 0, 0)), 'Wed Jan 14 01:00:00 2026');
});

const clat2csv = spawnSync('sh', ['-c', 'command -v fio_jsonplus_clat2csv'], { encoding: 'utf8' }).stdout.trim();
t.test("fio's own fio_jsonplus_clat2csv reads and validates mountless's json+", { skip: clat2csv ? false : 'fio_jsonplus_clat2csv not installed (Debian package fio)' }, async (t) => {
  const { o, r } = await runOnce();
  const dir = mkdtempSync(join(tmpdir(), 'ml-clat2csv-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'm.json'), JSON.stringify(fioJson([r], '0.0.0', new Date(), true, { percentiles: o.percentiles, plus: true })));
  const gen = spawnSync(clat2csv, [join(dir, 'm.json'), join(dir, 'm.csv')], { encoding: 'utf8' });
  t.equal(gen.status, 0, gen.stderr);
  const val = spawnSync(clat2csv, [join(dir, 'm.json'), join(dir, 'm.csv'), '--validate'], { encoding: 'utf8' });
  t.equal(val.status, 0, val.stderr);
  t.match(val.stdout, /m_job0\.csv validated/);
  const csv = readFileSync(join(dir, 'm_job0.csv'), 'utf8').trim().split('\n');
  t.ok(csv.length > 2, 'one row per bucket');
});

// fio's fiologparser_hist.py ships gzipped in Debian's fio docs and needs pandas (python3-pandas).
const HIST_PARSER = '/usr/share/doc/fio/fiologparser_hist.py.gz';
const pandas = spawnSync('/usr/bin/python3', ['-c', 'import pandas'], { encoding: 'utf8' }).status === 0;
t.test("fio's own fiologparser_hist.py reads mountless's histogram log", { skip: pandas && spawnSync('test', ['-f', HIST_PARSER]).status === 0 ? false : 'fio docs or python3-pandas not installed' }, async (t) => {
  const { r } = await runOnce();
  const dir = mkdtempSync(join(tmpdir(), 'ml-histlog-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'parser.py'), spawnSync('zcat', [HIST_PARSER]).stdout);
  const hist = runLogs([r]).find((f) => f.path.endsWith('_clat_hist.1.log'))!;
  writeFileSync(join(dir, 'h.log'), hist.text);
  const out = spawnSync('/usr/bin/python3', [join(dir, 'parser.py'), join(dir, 'h.log')], { encoding: 'utf8', cwd: dir });
  t.equal(out.status, 0, out.stderr);
  const rows = out.stdout.trim().split('\n').slice(1).map((l) => l.split(', ').map(Number));
  // The tool spreads each line's counts over its own 1 s intervals by time overlap (it does so with fio's logs too), so only the shape is checked.
  t.ok(rows.length >= 1 && rows.every((x) => x.length === 9 && x[1]! > 0), 'rows of end-time, samples, min, avg, median, 90%, 95%, 99%, max');
  t.ok(rows.every((x) => x[2]! > 0 && x[2]! <= x[4]! && x[4]! <= x[8]!), 'min ≤ median ≤ max in every row');
});
