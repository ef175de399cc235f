import t from 'tap';
import { drive, type DriveResult, type Workload } from '../../src/bench/engine.js';
import { fioJson } from '../../src/bench/fio-json.js';
import { Histogram } from '../../src/bench/histogram.js';
import { expandJobs, parseBenchArgs, type BenchOptions, type JobSpec } from '../../src/bench/options.js';
import { niceScale, renderHtml, renderSvg } from '../../src/bench/plot.js';
import { compareTable, summary, sweepTable } from '../../src/bench/report.js';
import { summarize, type JobResult } from '../../src/bench/result.js';

function spec(...argv: string[]): JobSpec {
  const o = parseBenchArgs(['--url=nfs://127.0.0.1/export', ...argv]) as BenchOptions;
  return expandJobs(o)[0]!;
}

function result(s: JobSpec, peer: 'mountless' | 'libnfs', ios: number, latNs: number, loop = 0): JobResult {
  const h = new Histogram();
  for (let i = 0; i < ios; i++) h.record(latNs + (i % 100) * 10);
  const empty = new Histogram();
  return {
    spec: s,
    peer,
    loop,
    runtimeNs: 2e9,
    read: { ios, bytes: s.rw === 'stat' ? 0 : ios * s.bs, clat: summarize(h) },
    write: { ios: 0, bytes: 0, clat: summarize(empty) },
    cpu: { userUs: ios * 8, systemUs: ios * 2 },
  };
}

const FIO_KEYS = ['1.000000', '5.000000', '10.000000', '20.000000', '30.000000', '40.000000', '50.000000', '60.000000', '70.000000', '80.000000', '90.000000', '95.000000', '99.000000', '99.500000', '99.900000', '99.950000', '99.990000'];

t.test("fio JSON: fio's layout and units", async (t) => {
  const s = spec('--rw=randread', '--bs=4k', '--iodepth=32', '--size=64m', '--runtime=2', '--time_based', '--name=j');
  const j = fioJson([result(s, 'mountless', 20_000, 500_000)], '0.1.0', new Date(1_700_000_000_000));
  t.equal(j['fio version'], 'mountless-0.1.0');
  t.equal(j.timestamp, 1_700_000_000);
  t.equal(j.timestamp_ms, 1_700_000_000_000);
  t.type(j.time, 'string');
  t.notOk('global options' in j, 'no "global options" when there are none, as fio');
  t.equal(j.jobs.length, 1);
  const job = j.jobs[0]!;
  t.equal(job.jobname, 'j');
  t.equal(job.error, 0);
  t.match(job['job options'], { name: 'j', rw: 'randread', bs: '4k', iodepth: '32', size: '64m', runtime: '2', time_based: '1', filename: '/mountless-bench/j.dat' });
  for (const v of Object.values(job['job options'])) t.type(v, 'string', 'job options are strings, as fio prints them');
  const r = job.read;
  t.equal(r.io_bytes, 20_000 * 4096);
  t.equal(r.io_kbytes, 20_000 * 4);
  t.equal(r.total_ios, 20_000);
  t.equal(r.runtime, 2000, 'runtime in ms');
  t.equal(r.iops, 10_000);
  t.equal(r.bw_bytes, 20_000 * 4096 / 2);
  t.equal(r.bw, 20_000 * 4 / 2, 'bw in KiB/s');
  t.same(Object.keys(r.clat_ns.percentile!), FIO_KEYS, "fio's default percentile list");
  for (const k of FIO_KEYS) t.ok(Number.isInteger(r.clat_ns.percentile![k]), `percentile ${k} is an integer ns`);
  t.ok(r.clat_ns.percentile!['50.000000']! >= 500_000 && r.clat_ns.percentile!['99.000000']! <= 501_000);
  t.ok(r.clat_ns.mean > 500_000 && r.clat_ns.mean < 501_000);
  t.equal(r.clat_ns.N, 20_000);
  t.equal(r.clat_ns.min, 500_000);
  t.equal(r.clat_ns.max, 500_990);
  t.equal(r.lat_ns, undefined, 'no total latency without the submission timing');
  t.same(job.write.total_ios, 0);
  t.notOk('percentile' in job.write.clat_ns, 'no percentiles of a direction without I/O, as fio');
  t.same(job.trim.io_bytes, 0);
  t.equal(job.usr_cpu, (20_000 * 8) / 1e6 / 2 * 100, 'usr_cpu is percent of runtime');
  t.equal(job.sys_cpu, (20_000 * 2) / 1e6 / 2 * 100);
  t.equal(job.mountless.cpu_us_per_op, 10);
  t.equal(job.mountless.peer, 'mountless');
  t.doesNotThrow(() => JSON.parse(JSON.stringify(j)), 'serialisable');
});

t.test('fio JSON: compare runs are named by peer and loop; metadata has nrfiles', async (t) => {
  const s = spec('--rw=stat', '--name=m', '--nrfiles=10');
  const j = fioJson([result(s, 'mountless', 10, 100_000, 1), result(s, 'libnfs', 10, 90_000, 1)], '0.1.0');
  t.same(
    j.jobs.map((x) => x.jobname),
    ['m@mountless#1', 'm@libnfs#1'],
  );
  t.equal(j.jobs[0]!['job options'].nrfiles, '10');
  t.notOk('size' in j.jobs[0]!['job options']);
  t.equal(j.jobs[1]!.mountless.peer, 'libnfs');
  t.equal(j.jobs[0]!.read.io_bytes, 0, 'metadata ops move no bytes');
});

t.test('human summary, sweep table and compare table', async (t) => {
  const s = spec('--rw=randread', '--bs=4k', '--iodepth=32', '--name=j');
  const text = summary(result(s, 'mountless', 20_000, 500_000));
  t.match(text, /^j \(mountless\): rw=randread bs=4k iodepth=32 numjobs=1 nconnect=1 size=256m file=\/mountless-bench\/j.dat/);
  t.match(text, /read: IOPS=10\.0k, BW=39\.1MiB\/s \(41\.0MB\/s\)/);
  t.match(text, /lat \(µs\): mean=500 p50=50[01] p90=50[01] p99=501 p99\.9=501 min=500 max=501/);
  t.match(text, /cpu: usr=8\.0%, sys=2\.0%, 10\.0 µs\/op/);
  const meta = summary(result(spec('--rw=stat'), 'mountless', 100, 50_000));
  t.match(meta, /stat: 50 ops\/s, 100 ops in 2\.00s/);
  t.notMatch(meta, /BW=/);

  const o = parseBenchArgs(['--url=nfs://h/e', '--iodepth=1,32']) as BenchOptions;
  const pts = expandJobs(o).map((js, i) => result(js, 'mountless', (i + 1) * 1000, 100_000));
  const table = sweepTable(pts, 'iodepth');
  const lines = table.split('\n');
  t.equal(lines.length, 3);
  t.match(lines[0], /^iodepth\s+IOPS\s+MiB\/s\s+mean µs\s+p50 µs\s+p90 µs\s+p99 µs\s+p99\.9 µs\s+CPU µs\/op$/);
  t.match(lines[1], /^1\s+500\s/);
  t.match(lines[2], /^32\s+1\.00k\s/);

  const cmp = compareTable([result(s, 'mountless', 20_000, 500_000, 1)], [result(s, 'libnfs', 40_000, 250_000, 1)]);
  t.match(cmp, /mountless #1\s+10\.0k/);
  t.match(cmp, /libnfs #1\s+20\.0k/);
  t.match(cmp, /mountless\/libnfs: IOPS 0\.50×, bandwidth 0\.50×, CPU µs\/op 1\.00× \(10\.0 vs 10\.0\)/);
});

t.test('plot: SVG with both panels, one line per series; HTML wraps it with a table', async (t) => {
  const input = { title: 'mountless bench: randread against iodepth', subtitle: 'bs 4k <&>', xLabel: 'iodepth', x: ['1', '4', '16', '64'], series: [
    { label: 'mountless', iops: [5000, 15000, 30000, 40000], p99us: [300, 500, 900, 2500] },
    { label: 'libnfs', iops: [6000, 18000, 33000, 41000], p99us: [250, 450, 800, 2400] },
  ] };
  const svg = renderSvg(input);
  t.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  t.match(svg, /IOPS \(higher is better\)/);
  t.match(svg, /p99 completion latency, µs/);
  t.equal(svg.match(/<polyline /g)?.length, 4, 'two series × two panels');
  t.equal(svg.match(/<circle /g)?.length, 16);
  t.match(svg, /bs 4k &lt;&amp;&gt;/, 'text is escaped');
  t.notMatch(svg, /NaN|undefined/);
  t.match(svg, /<\/svg>\n$/);
  const html = renderHtml(input);
  t.match(html, /^<!doctype html>/);
  t.match(html, /<svg /);
  t.match(html, /<th>mountless IOPS<\/th>/);
  const one = renderSvg({ ...input, x: ['j'], series: [{ label: 'mountless', iops: [100], p99us: [10] }] });
  t.notMatch(one, /NaN/, 'a single point plots');
  t.same(niceScale(0), { max: 1, step: 0.2 });
  t.same(niceScale(41000), { max: 50000, step: 10000 });
  t.same(niceScale(2400), { max: 2500, step: 500 });
  t.same(niceScale(7), { max: 10, step: 2 });
});

/** A workload that completes after a tick, so the engine runs without sockets. */
function fakeWorkload(limit: number, write = false): { w: Workload; started: number[] } {
  const started: number[] = [];
  return {
    started,
    w: {
      limit,
      bufferSize: 16,
      step: (slot) => {
        started.push(slot.job);
        slot.write = write;
        return new Promise((resolve) => setImmediate(() => resolve(16)));
      },
    },
  };
}

/** A drive's jobs added up. */
function total(r: DriveResult) {
  return {
    readIos: r.jobs.reduce((a, j) => a + j.read.hist.count, 0),
    readBytes: r.jobs.reduce((a, j) => a + j.read.bytes, 0),
    writeIos: r.jobs.reduce((a, j) => a + j.write.hist.count, 0),
    runtimeNs: Math.max(...r.jobs.map((j) => j.runtimeNs)),
  };
}

t.test('engine: limits per job, iodepth workers, counts and bytes, one tally per job', async (t) => {
  const s = { ...spec('--numjobs=3', '--iodepth=4'), numjobs: 3, iodepth: 4 };
  const { w, started } = fakeWorkload(25);
  const r = await drive(s, w, 3);
  const tot = total(r);
  t.equal(tot.readIos, 75, 'limit per job × numjobs');
  t.equal(tot.readBytes, 75 * 16);
  t.same(r.jobs.map((j) => j.read.hist.count), [25, 25, 25], 'each job its own histogram');
  t.equal(started.filter((j) => j === 2).length, 25);
  t.equal(tot.writeIos, 0);
  t.ok(tot.runtimeNs > 0);
  t.ok(r.jobs[0]!.read.hist.percentile(50) > 0);
  t.ok(r.cpu.userUs >= 0 && r.cpu.systemUs >= 0);
});

t.test('engine: runtime bounds a time-based run; ramp ops are not counted', async (t) => {
  const s = { ...spec('--runtime=0.2', '--time_based', '--ramp_time=0.1'), iodepth: 2 };
  const { w, started } = fakeWorkload(Infinity, true);
  const t0 = Date.now();
  const r = total(await drive(s, w, 1));
  const took = Date.now() - t0;
  t.ok(took >= 280 && took < 2000, `ran ramp + runtime (${took} ms)`);
  t.ok(r.writeIos > 0 && r.writeIos < started.length, 'ops completed in the ramp are left out');
  t.ok(r.runtimeNs >= 0.19e9 && r.runtimeNs < 1e9, `measured ≈ runtime (${r.runtimeNs} ns)`);
});

t.test('engine: a failing operation stops the run and is reported', async (t) => {
  const s = { ...spec(), iodepth: 4 };
  let n = 0;
  const w: Workload = {
    limit: Infinity,
    bufferSize: 0,
    step: () => (++n === 10 ? Promise.reject(new Error('EIO from server')) : new Promise((r) => setImmediate(() => r(0)))),
  };
  await t.rejects(drive(s, w, 1), /EIO from server/);
});

t.test('engine: a workload with nothing left ends its worker', async (t) => {
  const s = { ...spec(), iodepth: 8 };
  let left = 5;
  const w: Workload = { limit: Infinity, bufferSize: 0, step: () => (left-- > 0 ? Promise.resolve(0) : undefined) };
  const r = total(await drive(s, w, 1));
  t.equal(r.readIos, 5);
});
