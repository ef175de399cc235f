import type { FioTally } from './fio-stats.js';
import { FIO_PERCENTILES, Histogram } from './histogram.js';
import type { JobSpec } from './options.js';

/** Completion latencies of one direction (read or write), in ns. */
export interface LatencySummary {
  min: number;
  max: number;
  mean: number;
  stddev: number;
  /** fio's keys: "50.000000" → ns. */
  percentile: Record<string, number>;
}

export interface DirectionResult {
  /** Operations completed while measuring. */
  ios: number;
  bytes: number;
  clat: LatencySummary;
  /** The raw histogram behind `clat` (mountless runs), kept so jobs and workers merge exactly. */
  hist?: Histogram;
}

/**
 * One run of one job by one peer, reduced to numbers. Both the mountless
 * runner and the libnfs driver produce this shape, so reports and ratios
 * treat them alike. Metadata operations count as reads when they change
 * nothing (stat, readdir) and as writes otherwise (create, unlink, mkdir).
 */
export interface JobResult {
  spec: JobSpec;
  peer: 'mountless' | 'libnfs';
  /** 1-based run number with --compare --loops. */
  loop: number;
  /** Measured time: from the end of the ramp to the last completion, ns. */
  runtimeNs: number;
  read: DirectionResult;
  write: DirectionResult;
  /** CPU time of the whole client process while measuring, µs. */
  cpu: { userUs: number; systemUs: number };
  /** For readdir: entries listed. */
  entries?: number;
  /** Transfer sizes the client negotiated, when known. */
  rsize?: number;
  wsize?: number;
  /** Global job number (fio's numjobs clone), when this is one job's result. */
  job?: number;
  /** Index of the worker (pod) that ran it, in a run of several workers. */
  worker?: number;
  /** The whole process over the run (jobs on threads): CPU µs and wall ns, to show the cores used. */
  process?: { cpuUs: number; wallNs: number };
  /** Submission/total latency, fio's buckets and per-interval samples (mountless runs). */
  fio?: FioTally;
  /** ms since the epoch when the job started measuring (fio's job_start), when known. */
  startMs?: number;
  /** When this is a merge (group_reporting): the results it was merged from, one per job. */
  parts?: JobResult[];
}

export function pctKey(p: number): string {
  return p.toFixed(6);
}

export function summarize(h: Histogram): LatencySummary {
  const percentile: Record<string, number> = {};
  for (const p of FIO_PERCENTILES) percentile[pctKey(p)] = h.percentile(p);
  return { min: h.count ? h.min : 0, max: h.max, mean: h.mean, stddev: h.stddev, percentile };
}

export function totalIos(r: JobResult): number {
  return r.read.ios + r.write.ios;
}

export function iops(r: JobResult): number {
  return r.runtimeNs > 0 ? (totalIos(r) * 1e9) / r.runtimeNs : 0;
}

export function bandwidth(r: JobResult): number {
  return r.runtimeNs > 0 ? ((r.read.bytes + r.write.bytes) * 1e9) / r.runtimeNs : 0;
}

export function cpuUsPerOp(r: JobResult): number {
  const n = totalIos(r);
  return n > 0 ? (r.cpu.userUs + r.cpu.systemUs) / n : 0;
}

/** Latency over both directions, weighted by count: percentiles of the direction with the most ops. */
export function mainClat(r: JobResult): LatencySummary {
  return r.write.ios > r.read.ios ? r.write.clat : r.read.clat;
}

export function direction(h: Histogram, bytes: number): DirectionResult {
  return { ios: h.count, bytes, clat: summarize(h), hist: h };
}
