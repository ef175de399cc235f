import { Histogram, type HistogramData } from './histogram.js';
import { platIndex } from './fio-plat.js';

/**
 * What fio reports about a job beyond completion latency, counted as the
 * engine drives it (one FioTally per job, per run):
 *
 * - submission latency (slat: the synchronous part of starting an operation,
 *   until its call returned its promise) and total latency (lat = slat + clat,
 *   from before the call to the completion), per direction;
 * - fio's latency buckets (latency_ns/us/ms) of completion latency, counted
 *   exactly at fio's thresholds (our histogram's buckets do not fall on them);
 * - fio's iodepth_level: operations in flight at each submission, bucketed;
 * - per-interval samples: bytes and operations per direction in windows of
 *   SAMPLE_MS from the start of measuring (fio's bw_avg_time/iops_avg_time),
 *   from which bw_min/max/mean/dev and iops_min/max/mean/stddev come;
 * - with --write_*_log, the same per --log_avg_msec window, plus latency sums
 *   (the averaged lat/clat/slat logs), and with --write_hist_log per-window
 *   completion latency counts in fio's buckets.
 *
 * Every field is a count or a sum, so jobs merge by adding (group_reporting),
 * except the samples, which fio keeps per job and pools; a JSON round trip
 * (worker threads, result files) loses nothing.
 */

/** fio's default bw_avg_time and iops_avg_time. */
export const SAMPLE_MS = 500;

/** fio's latency bucket thresholds, in ns, µs and ms (FIO_IO_U_LAT_N/U/M). */
export const LAT_STEPS = [2, 4, 10, 20, 50, 100, 250, 500, 750, 1000] as const;
export const LAT_MS_STEPS = [...LAT_STEPS, 2000] as const;

/** Per direction: ios, bytes, slat sum, clat sum, lat sum (ns). */
const WIN_FIELDS = 5;

export interface Windows {
  /** Window width, ms. */
  ms: number;
  /** read (0) and write (1): WIN_FIELDS numbers per window. */
  dirs: [number[], number[]];
}

export interface FioTallyData {
  slat: [HistogramData, HistogramData];
  lat: [HistogramData, HistogramData];
  /** Completions below each of 2,4,…,1000 ns; then µs; then ms (…, 2000, and ≥2000). */
  latencyNs: number[];
  latencyUs: number[];
  latencyMs: number[];
  /** Submissions by operations in flight: 1, 2, ≤4, ≤8, ≤16, ≤32, more. */
  depth: number[];
  /** Submit calls (each starts one operation). */
  submits: number;
  samples: Windows;
  log: Windows | undefined;
  /** [window, direction, fio bucket, count]. */
  hist: Array<[number, number, number, number]> | undefined;
  histMs: number | undefined;
  runtimeNs: number;
  pooled: Array<{ samples: Windows; runtimeNs: number }>;
}

export interface TallyOptions {
  /** Window of the --write_*_log logs, ms; undefined: no logs. */
  logMs?: number | undefined;
  /** Window of the --write_hist_log log, ms; undefined: none. */
  histMs?: number | undefined;
}

export class FioTally {
  readonly slat: [Histogram, Histogram] = [new Histogram(), new Histogram()];
  readonly lat: [Histogram, Histogram] = [new Histogram(), new Histogram()];
  latencyNs = new Array<number>(LAT_STEPS.length).fill(0);
  latencyUs = new Array<number>(LAT_STEPS.length).fill(0);
  latencyMs = new Array<number>(LAT_MS_STEPS.length + 1).fill(0);
  depth = new Array<number>(7).fill(0);
  submits = 0;
  samples: Windows = { ms: SAMPLE_MS, dirs: [[], []] };
  log: Windows | undefined;
  /** key `window:dir:idx` → count. */
  private hist: Map<string, number> | undefined;
  histMs: number | undefined;

  constructor(o: TallyOptions = {}) {
    if (o.logMs !== undefined) this.log = { ms: o.logMs, dirs: [[], []] };
    if (o.histMs !== undefined) {
      this.histMs = o.histMs;
      this.hist = new Map();
    }
  }

  /** An operation is being started with `inflight` operations of the job in flight, itself included. */
  submitted(inflight: number): void {
    this.submits++;
    this.depth[inflight <= 1 ? 0 : inflight === 2 ? 1 : inflight <= 4 ? 2 : inflight <= 8 ? 3 : inflight <= 16 ? 4 : inflight <= 32 ? 5 : 6]!++;
  }

  /** An operation completed `atNs` after measuring started. */
  completed(write: boolean, bytes: number, slatNs: number, clatNs: number, atNs: number): void {
    const d = write ? 1 : 0;
    this.slat[d].record(slatNs);
    this.lat[d].record(slatNs + clatNs);
    countLatency(this, clatNs);
    addWindow(this.samples, d, atNs, bytes, slatNs, clatNs);
    if (this.log) addWindow(this.log, d, atNs, bytes, slatNs, clatNs);
    if (this.hist) {
      const key = `${Math.floor(atNs / 1e6 / this.histMs!)}:${d}:${platIndex(clatNs)}`;
      this.hist.set(key, (this.hist.get(key) ?? 0) + 1);
    }
  }

  /** Per-window counts of the histogram log: [window, direction, fio bucket, count]. */
  histWindows(): Array<[number, number, number, number]> | undefined {
    if (!this.hist) return undefined;
    return [...this.hist].map(([k, n]) => {
      const [w, d, idx] = k.split(':').map(Number) as [number, number, number];
      return [w, d, idx, n];
    });
  }

  toJSON(): FioTallyData {
    return {
      slat: [this.slat[0].toJSON(), this.slat[1].toJSON()],
      lat: [this.lat[0].toJSON(), this.lat[1].toJSON()],
      latencyNs: this.latencyNs,
      latencyUs: this.latencyUs,
      latencyMs: this.latencyMs,
      depth: this.depth,
      submits: this.submits,
      samples: this.samples,
      log: this.log,
      hist: this.histWindows(),
      histMs: this.histMs,
      runtimeNs: this.runtimeNs,
      pooled: this.pooled,
    };
  }

  static fromJSON(d: FioTallyData): FioTally {
    const t = new FioTally({ logMs: d.log?.ms, histMs: d.histMs });
    t.slat.splice(0, 2, Histogram.fromJSON(d.slat[0]), Histogram.fromJSON(d.slat[1]));
    t.lat.splice(0, 2, Histogram.fromJSON(d.lat[0]), Histogram.fromJSON(d.lat[1]));
    t.latencyNs = [...d.latencyNs];
    t.latencyUs = [...d.latencyUs];
    t.latencyMs = [...d.latencyMs];
    t.depth = [...d.depth];
    t.submits = d.submits;
    t.samples = d.samples;
    t.runtimeNs = d.runtimeNs;
    t.pooled = d.pooled;
    if (d.log) t.log = d.log;
    if (d.hist) for (const [w, dir, idx, n] of d.hist) t.hist!.set(`${w}:${dir}:${idx}`, n);
    return t;
  }

  /**
   * Several jobs as one (group_reporting): counts and histograms added; the
   * per-interval samples pooled, as fio's sum_thread_stats pools them (so
   * bw_mean stays a per-job mean and bw_samples counts every job's). Logs
   * stay with each job: merged entries have none.
   */
  static merge(parts: FioTally[]): FioTally {
    const out = new FioTally();
    for (const p of parts) {
      for (const d of [0, 1] as const) {
        out.slat[d].merge(p.slat[d]);
        out.lat[d].merge(p.lat[d]);
      }
      addInto(out.latencyNs, p.latencyNs);
      addInto(out.latencyUs, p.latencyUs);
      addInto(out.latencyMs, p.latencyMs);
      addInto(out.depth, p.depth);
      out.submits += p.submits;
    }
    out.pooled = parts.flatMap((p) => p.sampleSets());
    out.runtimeNs = Math.max(0, ...parts.map((p) => p.runtimeNs));
    return out;
  }

  /** Measured time of the job (set when it ends), ns: which sample windows are complete. */
  runtimeNs = 0;
  /** The sample windows of the jobs merged into this one (empty: this one's own). */
  private pooled: Array<{ samples: Windows; runtimeNs: number }> = [];

  /** Every job's sample windows with its runtime: one job's own, or those of the jobs merged into it. */
  sampleSets(): Array<{ samples: Windows; runtimeNs: number }> {
    return this.pooled.length ? this.pooled : [{ samples: this.samples, runtimeNs: this.runtimeNs }];
  }
}

function addInto(a: number[], b: number[]): void {
  for (let i = 0; i < a.length; i++) a[i]! += b[i] ?? 0;
}

function countLatency(t: FioTally, ns: number): void {
  if (ns < 1000) t.latencyNs[bucket(ns, LAT_STEPS)]!++;
  else if (ns < 1e6) t.latencyUs[bucket(ns / 1e3, LAT_STEPS)]!++;
  else t.latencyMs[bucket(ns / 1e6, LAT_MS_STEPS)]!++;
}

/** The first threshold the value is below; past the last, one more slot (only ms has it). */
function bucket(v: number, steps: readonly number[]): number {
  for (let i = 0; i < steps.length; i++) if (v < steps[i]!) return i;
  return steps.length;
}

function addWindow(w: Windows, d: 0 | 1, atNs: number, bytes: number, slatNs: number, clatNs: number): void {
  const k = Math.floor(atNs / 1e6 / w.ms);
  const a = w.dirs[d];
  while (a.length < (k + 1) * WIN_FIELDS) a.push(0);
  const o = k * WIN_FIELDS;
  a[o]!++;
  a[o + 1]! += bytes;
  a[o + 2]! += slatNs;
  a[o + 3]! += clatNs;
  a[o + 4]! += slatNs + clatNs;
}

/** One window of one direction. */
export interface Window {
  ios: number;
  bytes: number;
  slatSum: number;
  clatSum: number;
  latSum: number;
}

export function windowsOf(w: Windows, d: 0 | 1): Window[] {
  const a = w.dirs[d];
  const out: Window[] = [];
  for (let o = 0; o + WIN_FIELDS <= a.length; o += WIN_FIELDS) out.push({ ios: a[o]!, bytes: a[o + 1]!, slatSum: a[o + 2]!, clatSum: a[o + 3]!, latSum: a[o + 4]! });
  return out;
}

/** fio's per-interval rates of the complete windows within `runtimeMs`: KiB/s and IO/s, truncated as fio's integer arithmetic does. */
export function intervalRates(w: Windows, d: 0 | 1, runtimeMs: number): { bw: number[]; iops: number[] } {
  const full = Math.floor(runtimeMs / w.ms);
  const wins = windowsOf(w, d);
  const bw: number[] = [];
  const iops: number[] = [];
  for (let k = 0; k < full; k++) {
    const x = wins[k] ?? { ios: 0, bytes: 0 };
    bw.push(Math.floor((x.bytes * 1000) / w.ms / 1024));
    iops.push(Math.floor((x.ios * 1000) / w.ms));
  }
  return { bw, iops };
}
