// Merging jobs and workers: histograms through JSON and bucket by bucket,
// fio's group_reporting sums, per-job fio entries, a run's report.
import t from 'tap';
import { fioJobs, fioJson } from '../../src/bench/fio-json.js';
import { FIO_PERCENTILES, Histogram, type HistogramData } from '../../src/bench/histogram.js';
import { mergeJobs } from '../../src/bench/merge.js';
import { expandJobs, parseBenchArgs, type BenchOptions, type JobSpec } from '../../src/bench/options.js';
import { fromRecord, toRecord } from '../../src/bench/record.js';
import { mergeRun, reportJson, reportText } from '../../src/bench/run-report.js';
import { direction, iops, pctKey, type JobResult } from '../../src/bench/result.js';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function spec(...argv: string[]): JobSpec {
  return expandJobs(parseBenchArgs(['--url=nfs://127.0.0.1/export', '--rw=randread', '--bs=4k', ...argv]) as BenchOptions)[0]!;
}

/** A job whose `n` latencies are drawn from `gen`, with the samples kept for an exact check. */
function job(s: JobSpec, j: number, n: number, gen: () => number, runtimeNs: number): { r: JobResult; samples: number[] } {
  const h = new Histogram();
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = Math.floor(gen());
    h.record(v);
    samples.push(v);
  }
  const r: JobResult = { spec: s, peer: 'mountless', loop: 0, runtimeNs, read: direction(h, n * s.bs), write: direction(new Histogram(), 0), cpu: { userUs: n * 3, systemUs: n }, job: j };
  return { r, samples };
}

t.test('a histogram through JSON is the same histogram; bad data is refused', async (t) => {
  const rnd = lcg(11);
  const h = new Histogram();
  for (let i = 0; i < 10_000; i++) h.record(Math.floor(50_000 * Math.exp(rnd() * 4)));
  const back = Histogram.fromJSON(JSON.parse(JSON.stringify(h)) as HistogramData);
  t.equal(back.count, h.count);
  t.equal(back.min, h.min);
  t.equal(back.max, h.max);
  t.equal(back.mean, h.mean);
  t.equal(back.stddev, h.stddev);
  for (const p of FIO_PERCENTILES) t.equal(back.percentile(p), h.percentile(p), `p${p}`);
  const empty = Histogram.fromJSON(new Histogram().toJSON());
  t.equal(empty.count, 0);
  t.equal(empty.percentile(99), 0);
  const d = h.toJSON();
  t.throws(() => Histogram.fromJSON({ ...d, count: d.count + 1 }), /add up to/);
  t.throws(() => Histogram.fromJSON({ ...d, half: 64 }), /buckets per power of two/);
  t.throws(() => Histogram.fromJSON({ ...d, buckets: [[1e9, 1]] }), /out of range/);
});

t.test("group_reporting: sums, the longest runtime, percentiles of every sample (fio's merge)", async (t) => {
  const s = spec('--numjobs=3');
  const rnd = lcg(5);
  const jobs = [
    job(s, 0, 4000, () => 100_000 + rnd() * 50_000, 2.0e9),
    job(s, 1, 3000, () => 400_000 + rnd() * 400_000, 2.1e9),
    job(s, 2, 10, () => 5e6 + rnd() * 1e6, 1.9e9),
  ];
  const m = mergeJobs(jobs.map((x) => x.r));
  t.equal(m.read.ios, 7010);
  t.equal(m.read.bytes, 7010 * 4096);
  t.equal(m.runtimeNs, 2.1e9, 'runtime: the longest job');
  t.equal(iops(m), 7010 / 2.1, 'IOPS: every operation over that runtime');
  t.same(m.cpu, { userUs: 7010 * 3, systemUs: 7010 }, 'CPU summed');
  t.equal(m.parts!.length, 3);
  // The merged histogram is the histogram of all samples: exactly, not to within a bucket.
  const all = new Histogram();
  for (const x of jobs) for (const v of x.samples) all.record(v);
  for (const p of FIO_PERCENTILES) t.equal(m.read.clat.percentile[pctKey(p)], all.percentile(p), `p${p}`);
  t.equal(m.read.clat.min, Math.min(...jobs.flatMap((x) => x.samples)));
  t.equal(m.read.clat.max, Math.max(...jobs.flatMap((x) => x.samples)));
  // An average of the jobs' p99s would be far from it: the slow job has 10 of 7010 samples.
  const avgP99 = jobs.reduce((a, x) => a + x.r.read.clat.percentile[pctKey(99)]!, 0) / 3;
  t.ok(Math.abs(avgP99 - m.read.clat.percentile[pctKey(99)]!) > 100_000, 'not an average of percentiles');
  t.throws(() => mergeJobs([]), /nothing to merge/);
});

t.test('fio JSON: one jobs[] entry per job, or one with --group_reporting', async (t) => {
  const s = spec('--numjobs=2', '--name=nj');
  const rnd = lcg(9);
  const m = mergeJobs([job(s, 0, 100, () => 1e5 + rnd() * 1e4, 1e9).r, job(s, 1, 50, () => 2e5, 1e9).r]);
  const per = fioJobs([m], false);
  t.same(per.map((j) => [j.jobname, j.mountless.job, j.read.total_ios]), [['nj', 0, 100], ['nj', 1, 50]], "fio's clones: same name, one entry each");
  const grouped = fioJson([m], '0.1.0', new Date(0), true).jobs;
  t.equal(grouped.length, 1);
  t.equal(grouped[0]!.read.total_ios, 150);
  t.equal(grouped[0]!.mountless.jobs, 2);
});

t.test('records survive JSON; a run of 3 workers merges into the sum of its workers', async (t) => {
  const s = spec('--numjobs=2');
  const rnd = lcg(21);
  const files = [0, 1, 2].map((w) => {
    const parts = [0, 1].map((j) => job(s, w * 2 + j, 500 + w * 100 + j, () => (w === 2 ? 900_000 : 200_000) + rnd() * 100_000, 1e9 + w * 1e7).r);
    return { worker: w, workers: 3, host: `pod-${w}`, spec: s, records: JSON.parse(JSON.stringify(parts.map(toRecord))) };
  });
  const back = fromRecord(files[0]!.records[0]!, s);
  t.equal(back.read.ios, 500);
  t.equal(back.job, 0);
  const r = mergeRun('r1', files);
  t.same(r.missing, []);
  t.equal(r.perWorker.length, 3);
  const sumIos = r.perWorker.reduce((a, w) => a + w.result.read.ios, 0);
  t.equal(r.aggregate.read.ios, sumIos);
  t.equal(r.aggregate.read.bytes, r.perWorker.reduce((a, w) => a + w.result.read.bytes, 0));
  t.equal(r.aggregate.runtimeNs, 1.02e9);
  const j = reportJson(r);
  t.equal(j.jobs.length, 3, 'one entry per worker');
  t.same(j.jobs.map((x) => x.host), ['pod-0', 'pod-1', 'pod-2']);
  t.equal(j.aggregate.read.total_ios, sumIos);
  const text = reportText(r);
  t.match(text, /run r1: 3 of 3 workers, 6 jobs/);
  t.match(text, /\n2\s+pod-2\s/);
  const partial = mergeRun('r1', files.slice(0, 2));
  t.same(partial.missing, [2], 'a missing worker is named');
  t.match(reportText(partial), /missing results from worker 2/);
});
