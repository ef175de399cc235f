import { fioBins } from './fio-plat.js';
import { intervalRates, LAT_MS_STEPS, LAT_STEPS, type FioTally } from './fio-stats.js';
import { FIO_PERCENTILES, type Histogram } from './histogram.js';
import { formatSize, isMetaRw, type PercentileOptions } from './options.js';
import { cpuUsPerOp, pctKey, type DirectionResult, type JobResult } from './result.js';

/**
 * fio's `--output-format=json` (and `json+`) layout, key for key where the
 * meaning exists, so fio tooling reads mountless runs. The reference is real
 * fio's output in test/fixtures/fio/ (test/unit/bench-fio-json.test.ts holds
 * both to the same relations); bench/README.md lists the keys left out and why.
 *
 *   { "fio version", "timestamp", "timestamp_ms", "time" (ctime form),
 *     ["global options" when there are some],
 *     "jobs": [ { "jobname", "groupid", "job_start", "error", "eta", "elapsed",
 *                 "job options": {…strings},
 *                 "read" | "write" | "trim": { "io_bytes", "io_kbytes", "bw_bytes",
 *                   "bw" (KiB/s), "iops", "runtime" (ms), "total_ios", "short_ios", "drop_ios",
 *                   "slat_ns" | "clat_ns" | "lat_ns": { min, max, mean, stddev, N,
 *                     [percentile], [bins: json+] },
 *                   "bw_min" … "bw_samples", "iops_min" … "iops_samples" },
 *                 "sync", "job_runtime", "usr_cpu", "sys_cpu", "ctx", "majf", "minf",
 *                 "iodepth_level", "iodepth_submit", "iodepth_complete",
 *                 "latency_ns", "latency_us", "latency_ms", "mountless": {…} } ] }
 *
 * One entry per job (fio's numjobs clones, each under the job's name), or,
 * with group_reporting, one entry per job definition with its clones merged
 * (src/bench/merge.ts). Metadata operations are counted in "read" when they
 * change nothing (stat, readdir) and in "write" otherwise, with io_bytes 0.
 * "mountless" is our own addition: peer, loop, CPU µs per operation.
 */
export interface FioJson {
  'fio version': string;
  timestamp: number;
  timestamp_ms: number;
  time: string;
  'global options'?: Record<string, string>;
  jobs: FioJob[];
}

export interface FioLat {
  min: number;
  max: number;
  mean: number;
  stddev: number;
  N: number;
  percentile?: Record<string, number>;
  bins?: Record<string, number>;
}

export interface FioDirection {
  io_bytes: number;
  io_kbytes: number;
  bw_bytes: number;
  bw: number;
  iops: number;
  runtime: number;
  total_ios: number;
  short_ios: number;
  drop_ios: number;
  /** Left out for the libnfs peer's entries, whose driver times only whole operations. */
  slat_ns?: FioLat;
  clat_ns: FioLat;
  lat_ns?: FioLat;
  bw_min?: number;
  bw_max?: number;
  bw_agg?: number;
  bw_mean?: number;
  bw_dev?: number;
  bw_samples?: number;
  iops_min?: number;
  iops_max?: number;
  iops_mean?: number;
  iops_stddev?: number;
  iops_samples?: number;
}

export interface FioJob {
  jobname: string;
  groupid: number;
  job_start?: number;
  error: number;
  eta: number;
  elapsed: number;
  'job options': Record<string, string>;
  read: FioDirection;
  write: FioDirection;
  trim: FioDirection;
  sync: { total_ios: number; lat_ns: FioLat };
  job_runtime: number;
  usr_cpu: number;
  sys_cpu: number;
  ctx?: number;
  majf?: number;
  minf?: number;
  iodepth_level?: Record<string, number>;
  iodepth_submit?: Record<string, number>;
  iodepth_complete?: Record<string, number>;
  latency_ns?: Record<string, number>;
  latency_us?: Record<string, number>;
  latency_ms?: Record<string, number>;
  mountless: {
    peer: string;
    loop: number;
    cpu_us_per_op: number;
    entries?: number;
    rsize?: number;
    wsize?: number;
    /** Global job number (one job's entry); absent on a merged entry. */
    job?: number;
    /** Worker (pod) index in a run of several. */
    worker?: number;
    /** Jobs merged into this entry (group_reporting). */
    jobs?: number;
    /** Whole process over the run: CPU seconds and wall seconds (CPU above wall = more than one core busy). */
    process_cpu_s?: number;
    process_wall_s?: number;
  };
}

/** How to lay the JSON out: fio's percentile options, json+, the reporting group. */
export interface FioJsonOptions {
  percentiles?: PercentileOptions;
  /** json+: each latency with percentiles also gets its `bins`. */
  plus?: boolean;
  groupid?: number;
  /** The reporting group's bandwidth per direction, bytes/s (for bw_agg); default this entry's own. */
  groupBw?: [number, number];
}

const DEFAULT_PERCENTILES: PercentileOptions = { list: [...FIO_PERCENTILES], clat: true, lat: false, slat: false };
const ZERO_LAT: FioLat = { min: 0, max: 0, mean: 0, stddev: 0, N: 0 };

/** fio's latency block: exact min/max/mean, the sample standard deviation (n − 1) as fio's, percentiles of our histogram. */
function latBlock(h: Histogram, withPercentiles: boolean, o: Required<Pick<FioJsonOptions, 'percentiles' | 'plus'>>): FioLat {
  if (h.count === 0) return { ...ZERO_LAT };
  const n = h.count;
  const out: FioLat = { min: Math.round(h.min), max: Math.round(h.max), mean: h.mean, stddev: n > 1 ? h.stddev * Math.sqrt(n / (n - 1)) : 0, N: n };
  if (withPercentiles) {
    out.percentile = {};
    for (const p of o.percentiles.list) out.percentile[pctKey(p)] = Math.round(h.percentile(p));
    if (o.plus) out.bins = fioBins(h);
  }
  return out;
}

/** fio's per-interval sample statistics: min, max, mean and sample stddev, pooled over the jobs of a merge as fio's sum_stat pools them. */
function sampleStats(t: FioTally, d: 0 | 1, pick: 'bw' | 'iops'): { min: number; max: number; mean: number; dev: number; samples: number } {
  let min = 0;
  let max = 0;
  let mean = 0;
  let ss = 0;
  let samples = 0;
  // Each job's samples alone; a merge adds the jobs' min, max, mean and squared deviations (the group's rate at the same time).
  for (const set of t.sampleSets()) {
    const xs = intervalRates(set.samples, d, Math.floor(set.runtimeNs / 1e6))[pick];
    if (xs.length === 0 || xs.every((x) => x === 0)) continue;
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    min += Math.min(...xs);
    max += Math.max(...xs);
    mean += m;
    ss += xs.reduce((a, x) => a + (x - m) ** 2, 0);
    samples += xs.length;
  }
  return { min, max, mean, dev: samples > 1 ? Math.sqrt(ss / (samples - 1)) : 0, samples };
}

function direction(d: DirectionResult, runtimeNs: number, fio: FioTally | undefined, dir: 0 | 1, o: Required<Pick<FioJsonOptions, 'percentiles' | 'plus'>>, groupBw: number): FioDirection {
  // fio's arithmetic: runtime in whole ms, bw_bytes and bw truncated, iops a float.
  const runtime = d.ios > 0 ? Math.max(1, Math.floor(runtimeNs / 1e6)) : 0;
  const bwBytes = runtime > 0 ? Math.floor((d.bytes * 1000) / runtime) : 0;
  const p = o.percentiles;
  const out: FioDirection = {
    io_bytes: d.bytes,
    io_kbytes: Math.floor(d.bytes / 1024),
    bw_bytes: bwBytes,
    bw: Math.floor(bwBytes / 1024),
    iops: runtime > 0 ? (d.ios * 1000) / runtime : 0,
    runtime,
    total_ios: d.ios,
    short_ios: 0,
    drop_ios: 0,
    clat_ns: ZERO_LAT,
  };
  if (!d.hist) {
    // A peer's summary without its histogram (libnfs): completion latency only.
    out.clat_ns = d.ios > 0 ? { min: Math.round(d.clat.min), max: Math.round(d.clat.max), mean: d.clat.mean, stddev: d.clat.stddev, N: d.ios, percentile: roundValues(d.clat.percentile) } : { ...ZERO_LAT };
    return out;
  }
  if (fio) out.slat_ns = latBlock(fio.slat[dir], p.slat, o);
  out.clat_ns = latBlock(d.hist, p.clat, o);
  if (fio) {
    out.lat_ns = latBlock(fio.lat[dir], p.lat, o);
    const bw = sampleStats(fio, dir, 'bw');
    const io = sampleStats(fio, dir, 'iops');
    const aggKiB = groupBw / 1024;
    Object.assign(out, {
      bw_min: bw.min,
      bw_max: bw.max,
      bw_agg: aggKiB > 0 && bw.samples > 0 ? Math.min(100, (bw.mean * 100) / aggKiB) : 0,
      bw_mean: bw.mean,
      bw_dev: bw.dev,
      bw_samples: bw.samples,
      iops_min: io.min,
      iops_max: io.max,
      iops_mean: io.mean,
      iops_stddev: io.dev,
      iops_samples: io.samples,
    });
  }
  return out;
}

function roundValues(r: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(r)) out[k] = Math.round(v);
  return out;
}

const EMPTY: DirectionResult = { ios: 0, bytes: 0, clat: { min: 0, max: 0, mean: 0, stddev: 0, percentile: {} } };

/** A distribution as fio prints one: percent of the total, and at least 0.1 where anything was counted (fio's stat_calc_dist). */
function dist(keys: readonly string[], counts: number[], total: number, floor: boolean): Record<string, number> {
  const out: Record<string, number> = {};
  keys.forEach((k, i) => {
    const n = counts[i] ?? 0;
    const pct = total > 0 ? (n * 100) / total : 0;
    out[k] = floor && n > 0 && pct < 0.1 ? 0.1 : pct;
  });
  return out;
}

const DEPTH_KEYS = ['1', '2', '4', '8', '16', '32', '>=64'] as const;
const CALL_KEYS = ['0', '4', '8', '16', '32', '64', '>=64'] as const;

/** The depth and latency distributions of a job that has a FioTally. */
function distributions(job: FioJob, t: FioTally, ios: number): void {
  job.iodepth_level = dist(DEPTH_KEYS, t.depth, t.submits, true);
  // Each submit call starts one operation and each completion is reaped on its own: all in fio's "1 to 4" bucket.
  job.iodepth_submit = dist(CALL_KEYS, [0, t.submits], t.submits, true);
  job.iodepth_complete = dist(CALL_KEYS, [0, ios], ios, true);
  const steps = LAT_STEPS.map(String);
  job.latency_ns = dist(steps, t.latencyNs, ios, false);
  job.latency_us = dist(steps, t.latencyUs, ios, false);
  job.latency_ms = dist([...LAT_MS_STEPS.map(String), '>=2000'], t.latencyMs, ios, false);
}

export function fioJob(r: JobResult, options: FioJsonOptions = {}): FioJob {
  const o = { percentiles: options.percentiles ?? DEFAULT_PERCENTILES, plus: options.plus ?? false };
  const s = r.runtimeNs / 1e9;
  const opts: Record<string, string> = {
    ...r.spec.given,
    name: r.spec.name,
    rw: r.spec.rw,
    bs: formatSize(r.spec.bs),
    iodepth: String(r.spec.iodepth),
    numjobs: String(r.spec.numjobs),
    nconnect: String(r.spec.nconnect),
    filename: r.spec.filename,
  };
  if (isMetaRw(r.spec.rw)) opts.nrfiles = String(r.spec.nrfiles);
  else opts.size = formatSize(r.spec.size);
  const jobname = r.peer === 'mountless' && r.loop === 0 ? r.spec.name : `${r.spec.name}@${r.peer}#${r.loop}`;
  const ownBw = (d: DirectionResult) => (r.runtimeNs > 0 ? (d.bytes * 1e9) / r.runtimeNs : 0);
  const groupBw = options.groupBw ?? [ownBw(r.read), ownBw(r.write)];
  const job: FioJob = {
    jobname,
    groupid: options.groupid ?? 0,
    error: 0,
    eta: 0,
    elapsed: Math.round(s + r.spec.rampTime),
    'job options': opts,
    read: direction(r.read, r.runtimeNs, r.fio, 0, o, groupBw[0]),
    write: direction(r.write, r.runtimeNs, r.fio, 1, o, groupBw[1]),
    trim: direction(EMPTY, 0, r.fio, 0, o, 0),
    sync: { total_ios: 0, lat_ns: { ...ZERO_LAT } },
    job_runtime: Math.floor(r.runtimeNs / 1e6),
    usr_cpu: s > 0 ? (r.cpu.userUs / 1e6 / s) * 100 : 0,
    sys_cpu: s > 0 ? (r.cpu.systemUs / 1e6 / s) * 100 : 0,
    mountless: { peer: r.peer, loop: r.loop, cpu_us_per_op: cpuUsPerOp(r) },
  };
  if (r.startMs !== undefined) job.job_start = Math.round(r.startMs);
  if (r.fio) {
    // trim: none, and fio zeroes its sample statistics too.
    Object.assign(job.trim, { slat_ns: { ...ZERO_LAT }, lat_ns: { ...ZERO_LAT }, bw_min: 0, bw_max: 0, bw_agg: 0, bw_mean: 0, bw_dev: 0, bw_samples: 0, iops_min: 0, iops_max: 0, iops_mean: 0, iops_stddev: 0, iops_samples: 0 });
    distributions(job, r.fio, r.read.ios + r.write.ios);
  }
  if (r.entries !== undefined) job.mountless.entries = r.entries;
  if (r.rsize !== undefined) job.mountless.rsize = r.rsize;
  if (r.wsize !== undefined) job.mountless.wsize = r.wsize;
  if (r.job !== undefined) job.mountless.job = r.job;
  if (r.worker !== undefined) job.mountless.worker = r.worker;
  if (r.parts) job.mountless.jobs = r.parts.length;
  if (r.process) {
    job.mountless.process_cpu_s = r.process.cpuUs / 1e6;
    job.mountless.process_wall_s = r.process.wallNs / 1e9;
  }
  // Our own block last, after fio's keys.
  const { mountless, ...fio } = job;
  return { ...fio, mountless };
}

/** A group's bandwidth per direction as fio's rs->agg: its bytes over its longest runtime. */
function groupBandwidth(r: JobResult): [number, number] {
  const rt = Math.floor(r.runtimeNs / 1e6);
  const bw = (d: DirectionResult) => (rt > 0 ? (d.bytes * 1000) / rt : 0);
  return [bw(r.read), bw(r.write)];
}

/**
 * fio's jobs[]: each merged result's parts, one per job (each with the whole
 * process's CPU and wall time), or (group_reporting, or no parts) the result itself.
 * `groupids[i]` is results[i]'s reporting group (job files; default 0).
 */
export function fioJobs(results: JobResult[], groupReporting: boolean, options: FioJsonOptions = {}, groupids?: number[]): FioJob[] {
  return results.flatMap((r, i) => {
    const o: FioJsonOptions = { ...options, groupBw: groupBandwidth(r), groupid: groupids?.[i] ?? options.groupid ?? 0 };
    return !groupReporting && r.parts ? r.parts.map((p) => fioJob(r.process ? { ...p, process: r.process } : p, o)) : [fioJob(r, o)];
  });
}

export function fioJson(results: JobResult[], version: string, now = new Date(), groupReporting = true, options: FioJsonOptions = {}, groupids?: number[]): FioJson {
  return {
    'fio version': `mountless-${version}`,
    timestamp: Math.floor(now.getTime() / 1000),
    timestamp_ms: now.getTime(),
    time: ctime(now),
    jobs: fioJobs(results, groupReporting, options, groupids),
  };
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** C's ctime() form in local time, without its newline, as fio prints "time": "Fri Dec  4 21:12:29 2026" (strptime "%a %b %d %H:%M:%S %Y"). */
export function ctime(d: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${d.getFullYear()}`;
}
