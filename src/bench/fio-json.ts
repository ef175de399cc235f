import { formatSize, isMetaRw } from './options.js';
import { cpuUsPerOp, type DirectionResult, type JobResult } from './result.js';

/**
 * fio's `--output-format=json` layout, so fio tooling reads mountless runs:
 *
 *   { "fio version", "timestamp", "timestamp_ms", "time", "global options",
 *     "jobs": [ { "jobname", "groupid", "error", "job options": {…strings},
 *                 "read" | "write" | "trim": { "io_bytes", "io_kbytes", "bw_bytes",
 *                   "bw" (KiB/s), "iops", "runtime" (ms), "total_ios",
 *                   "slat_ns", "clat_ns": { min, max, mean, stddev, N, percentile },
 *                   "lat_ns" },
 *                 "job_runtime", "usr_cpu", "sys_cpu", "ctx", "majf", "minf",
 *                 "elapsed", "mountless": {…} } ] }
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
  'global options': Record<string, string>;
  jobs: FioJob[];
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
  slat_ns: { min: number; max: number; mean: number; stddev: number; N: number };
  clat_ns: { min: number; max: number; mean: number; stddev: number; N: number; percentile: Record<string, number> };
  lat_ns: { min: number; max: number; mean: number; stddev: number; N: number };
}

export interface FioJob {
  jobname: string;
  groupid: number;
  error: number;
  elapsed: number;
  'job options': Record<string, string>;
  read: FioDirection;
  write: FioDirection;
  trim: FioDirection;
  job_runtime: number;
  usr_cpu: number;
  sys_cpu: number;
  ctx: number;
  majf: number;
  minf: number;
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

function direction(d: DirectionResult, runtimeNs: number): FioDirection {
  const s = runtimeNs / 1e9;
  const bwBytes = s > 0 ? d.bytes / s : 0;
  const stats = { min: Math.round(d.clat.min), max: Math.round(d.clat.max), mean: d.clat.mean, stddev: d.clat.stddev, N: d.ios };
  const percentile: Record<string, number> = {};
  for (const [k, v] of Object.entries(d.clat.percentile)) percentile[k] = Math.round(v);
  return {
    io_bytes: d.bytes,
    io_kbytes: Math.floor(d.bytes / 1024),
    bw_bytes: Math.round(bwBytes),
    bw: Math.round(bwBytes / 1024),
    iops: s > 0 ? d.ios / s : 0,
    runtime: d.ios > 0 ? Math.round(runtimeNs / 1e6) : 0,
    total_ios: d.ios,
    short_ios: 0,
    drop_ios: 0,
    slat_ns: { min: 0, max: 0, mean: 0, stddev: 0, N: 0 },
    clat_ns: d.ios > 0 ? { ...stats, percentile } : { min: 0, max: 0, mean: 0, stddev: 0, N: 0, percentile: {} },
    lat_ns: d.ios > 0 ? stats : { min: 0, max: 0, mean: 0, stddev: 0, N: 0 },
  };
}

const EMPTY: DirectionResult = { ios: 0, bytes: 0, clat: { min: 0, max: 0, mean: 0, stddev: 0, percentile: {} } };

export function fioJob(r: JobResult): FioJob {
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
  const job: FioJob = {
    jobname,
    groupid: 0,
    error: 0,
    elapsed: Math.round(s + r.spec.rampTime),
    'job options': opts,
    read: direction(r.read, r.runtimeNs),
    write: direction(r.write, r.runtimeNs),
    trim: direction(EMPTY, 0),
    job_runtime: Math.round(r.runtimeNs / 1e6),
    usr_cpu: s > 0 ? (r.cpu.userUs / 1e6 / s) * 100 : 0,
    sys_cpu: s > 0 ? (r.cpu.systemUs / 1e6 / s) * 100 : 0,
    ctx: 0,
    majf: 0,
    minf: 0,
    mountless: { peer: r.peer, loop: r.loop, cpu_us_per_op: cpuUsPerOp(r) },
  };
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
  return job;
}

/**
 * fio's jobs[]: each merged result's parts, one per job (each with the whole
 * process's CPU and wall time), or (group_reporting, or no parts) the result itself.
 */
export function fioJobs(results: JobResult[], groupReporting: boolean): FioJob[] {
  return results.flatMap((r) => (!groupReporting && r.parts ? r.parts.map((p) => fioJob(r.process ? { ...p, process: r.process } : p)) : [fioJob(r)]));
}

export function fioJson(results: JobResult[], version: string, now = new Date(), groupReporting = true): FioJson {
  return {
    'fio version': `mountless-${version}`,
    timestamp: Math.floor(now.getTime() / 1000),
    timestamp_ms: now.getTime(),
    time: now.toString(),
    'global options': {},
    jobs: fioJobs(results, groupReporting),
  };
}
