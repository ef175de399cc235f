import { writeFile } from 'node:fs/promises';
import { PLAT_NR } from './fio-plat.js';
import { windowsOf, type FioTally, type Window } from './fio-stats.js';
import type { JobResult } from './result.js';

/**
 * fio's log files (--write_bw_log, --write_iops_log, --write_lat_log,
 * --write_hist_log), in fio's format so fio2gnuplot, fiologparser.py and
 * fiologparser_hist.py read them:
 *
 *   PREFIX_bw.N.log, PREFIX_iops.N.log          time (ms), value, direction, 0, 0
 *   PREFIX_lat.N.log, _clat.N.log, _slat.N.log  (KiB/s, IO/s, mean ns per window)
 *   PREFIX_clat_hist.N.log                      time, direction, bs, 1856 bucket counts
 *
 * N is the job's number from 1, as fio numbers the jobs of a run (numjobs
 * clones and, in a job file, the jobs of every section, in order). Values are
 * averages over each --log_avg_msec window (the block size and offset columns
 * are 0, as fio writes them for averaged entries): bandwidth and IOPS for
 * every complete window of the run, latencies for every window with
 * completions, the last one ending at the job's last completion, as fio's.
 * Histogram lines count the completions of each --log_hist_msec window in
 * fio's buckets (fio-plat.ts).
 */
export interface LogFile {
  path: string;
  text: string;
}

type Row = [time: number, value: number, dir: number];

function lines(rows: Row[]): string {
  return rows
    .sort((a, b) => a[0] - b[0] || a[2] - b[2])
    .map(([t, v, d]) => `${t}, ${v}, ${d}, 0, 0\n`)
    .join('');
}

function dirsOf(r: JobResult): Array<0 | 1> {
  const out: Array<0 | 1> = [];
  if (r.read.ios > 0) out.push(0);
  if (r.write.ios > 0) out.push(1);
  return out;
}

function rateRows(t: FioTally, r: JobResult, pick: (w: Window, ms: number) => number): Row[] {
  const w = t.log!;
  const full = Math.floor(r.runtimeNs / 1e6 / w.ms);
  const rows: Row[] = [];
  for (const d of dirsOf(r)) {
    const wins = windowsOf(w, d);
    for (let k = 0; k < full; k++) rows.push([(k + 1) * w.ms, pick(wins[k] ?? { ios: 0, bytes: 0, slatSum: 0, clatSum: 0, latSum: 0 }, w.ms), d]);
  }
  return rows;
}

function latRows(t: FioTally, r: JobResult, sum: (w: Window) => number): Row[] {
  const w = t.log!;
  const endMs = Math.floor(r.runtimeNs / 1e6);
  const rows: Row[] = [];
  for (const d of dirsOf(r)) {
    windowsOf(w, d).forEach((x, k) => {
      if (x.ios > 0) rows.push([Math.min((k + 1) * w.ms, endMs), Math.floor(sum(x) / x.ios), d]);
    });
  }
  return rows;
}

function histLines(t: FioTally, r: JobResult): string {
  const ms = t.histMs!;
  const endMs = Math.floor(r.runtimeNs / 1e6);
  const byLine = new Map<string, number[]>();
  for (const [w, d, idx, n] of t.histWindows() ?? []) {
    const key = `${w}:${d}`;
    let bins = byLine.get(key);
    if (!bins) byLine.set(key, (bins = new Array<number>(PLAT_NR).fill(0)));
    bins[idx]! += n;
  }
  return [...byLine]
    .map(([key, bins]) => {
      const [w, d] = key.split(':').map(Number) as [number, number];
      return { t: Math.min((w + 1) * ms, endMs), d, bins };
    })
    .sort((a, b) => a.t - b.t || a.d - b.d)
    .map((x) => `${x.t}, ${x.d}, ${r.spec.bs}, ${x.bins.join(', ')}\n`)
    .join('');
}

/** The log files of one job (number `n`, from 1), by its spec's --write_*_log options. */
export function jobLogs(r: JobResult, n: number): LogFile[] {
  const logs = r.spec.logs;
  const t = r.fio;
  if (!logs || !t) return [];
  const out: LogFile[] = [];
  if (logs.bw) out.push({ path: `${logs.bw}_bw.${n}.log`, text: lines(rateRows(t, r, (x, ms) => Math.floor((x.bytes * 1000) / ms / 1024))) });
  if (logs.iops) out.push({ path: `${logs.iops}_iops.${n}.log`, text: lines(rateRows(t, r, (x, ms) => Math.floor((x.ios * 1000) / ms))) });
  if (logs.lat) {
    out.push({ path: `${logs.lat}_lat.${n}.log`, text: lines(latRows(t, r, (x) => x.latSum)) });
    out.push({ path: `${logs.lat}_clat.${n}.log`, text: lines(latRows(t, r, (x) => x.clatSum)) });
    out.push({ path: `${logs.lat}_slat.${n}.log`, text: lines(latRows(t, r, (x) => x.slatSum)) });
  }
  if (logs.hist) out.push({ path: `${logs.hist}_clat_hist.${n}.log`, text: histLines(t, r) });
  return out;
}

/** Every job's logs of a run's mountless results (each result's jobs in turn), numbered from 1 across the run. */
export function runLogs(results: JobResult[]): LogFile[] {
  const jobs = results.flatMap((r) => r.parts ?? [r]);
  return jobs.flatMap((r, i) => jobLogs(r, i + 1));
}

export async function writeLogs(results: JobResult[], log: (s: string) => void): Promise<void> {
  const files = runLogs(results);
  for (const f of files) await writeFile(f.path, f.text);
  if (files.length) log(`wrote ${files.map((f) => f.path).join(', ')}`);
}
