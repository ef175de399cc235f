import { formatSize, isMetaRw, type JobSpec, type SweepKey } from './options.js';
import { formatCount } from './progress.js';
import { bandwidth, cpuUsPerOp, iops, mainClat, pctKey, type DirectionResult, type JobResult } from './result.js';

/** Human-readable output: one job's summary, sweep tables, the side-by-side comparison. */

/** `rw=randread bs=4k iodepth=32 …`, leaving out `omit` (the swept parameter of a table). */
export function describeJob(s: JobSpec, omit?: SweepKey): string {
  const meta = isMetaRw(s.rw);
  const parts = [`rw=${s.rw}`];
  if (s.rw === 'randrw') parts.push(`rwmixread=${s.rwmixread}`);
  for (const k of ['bs', 'iodepth', 'numjobs', 'nconnect'] as const) {
    if (k !== omit && !(k === 'bs' && meta)) parts.push(`${k}=${sweepValue(s, k)}`);
  }
  parts.push(meta ? `nrfiles=${s.nrfiles} dir=${s.filename}` : `size=${formatSize(s.size)} file=${s.filename}`);
  return parts.join(' ');
}

export function us(ns: number): string {
  const v = ns / 1000;
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

function mib(bytesPerSec: number): string {
  const v = bytesPerSec / 2 ** 20;
  return v >= 100 ? v.toFixed(0) : v.toFixed(1);
}

function directionLines(label: string, d: DirectionResult, runtimeNs: number, meta: boolean): string[] {
  if (d.ios === 0) return [];
  const s = runtimeNs / 1e9;
  const rate = s > 0 ? d.ios / s : 0;
  const p = d.clat.percentile;
  const lat = `    lat (µs): mean=${us(d.clat.mean)} p50=${us(p[pctKey(50)]!)} p90=${us(p[pctKey(90)]!)} p99=${us(p[pctKey(99)]!)} p99.9=${us(p[pctKey(99.9)]!)} min=${us(d.clat.min)} max=${us(d.clat.max)}`;
  if (meta) return [`  ${label}: ${formatCount(rate)} ops/s, ${d.ios} ops in ${s.toFixed(2)}s`, lat];
  const bw = s > 0 ? d.bytes / s : 0;
  return [`  ${label}: IOPS=${formatCount(rate)}, BW=${mib(bw)}MiB/s (${(bw / 1e6).toFixed(1)}MB/s) (${mib(d.bytes)}MiB in ${s.toFixed(2)}s)`, lat];
}

/** fio-like summary of one run. */
export function summary(r: JobResult): string {
  const meta = isMetaRw(r.spec.rw);
  const s = r.runtimeNs / 1e9;
  const head = `${r.spec.name}${r.loop > 0 ? ` #${r.loop}` : ''} (${r.peer}): ${describeJob(r.spec)}`;
  const lines = [head];
  const rl = meta ? r.spec.rw : 'read';
  const wl = meta ? r.spec.rw : 'write';
  lines.push(...directionLines(rl, r.read, r.runtimeNs, meta), ...directionLines(wl, r.write, r.runtimeNs, meta));
  if (r.read.ios + r.write.ios === 0) lines.push('  no operation completed while measuring');
  if (r.entries !== undefined && s > 0) lines.push(`  entries: ${formatCount(r.entries / s)}/s listed (${r.entries} in all)`);
  const usr = s > 0 ? (r.cpu.userUs / 1e4 / s).toFixed(1) : '0';
  const sys = s > 0 ? (r.cpu.systemUs / 1e4 / s).toFixed(1) : '0';
  lines.push(`  cpu: usr=${usr}%, sys=${sys}%, ${cpuUsPerOp(r).toFixed(1)} µs/op`);
  if (r.process && r.process.wallNs > 0) {
    const cpuS = r.process.cpuUs / 1e6;
    const wallS = r.process.wallNs / 1e9;
    lines.push(`  process: ${cpuS.toFixed(2)} s CPU in ${wallS.toFixed(2)} s wall (${(cpuS / wallS).toFixed(2)} cores)`);
  }
  return lines.join('\n');
}

/** One line per job of a merged result (nothing for a single job): fio's per-clone view, compact. */
export function jobLines(r: JobResult): string {
  if (!r.parts || r.parts.length < 2) return '';
  const rows = r.parts.map((p) => [`${p.worker !== undefined ? `w${p.worker} ` : ''}job ${p.job ?? '?'}`, ...metricCells(p)]);
  return '\n' + table(['job', ...METRIC_HEADER], rows);
}

/** Left-aligns the first column, right-aligns the rest. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [fmt(header), ...rows.map(fmt)].join('\n');
}

export function sweepValue(spec: JobSpec, key: SweepKey): string {
  return key === 'bs' ? formatSize(spec.bs) : String(spec[key]);
}

function metricCells(r: JobResult): string[] {
  const c = mainClat(r);
  const p = c.percentile;
  return [formatCount(iops(r)), isMetaRw(r.spec.rw) ? '-' : mib(bandwidth(r)), us(c.mean), us(p[pctKey(50)] ?? 0), us(p[pctKey(90)] ?? 0), us(p[pctKey(99)] ?? 0), us(p[pctKey(99.9)] ?? 0), cpuUsPerOp(r).toFixed(1)];
}

const METRIC_HEADER = ['IOPS', 'MiB/s', 'mean µs', 'p50 µs', 'p90 µs', 'p99 µs', 'p99.9 µs', 'CPU µs/op'];

/** One row per sweep point (mountless only). */
export function sweepTable(results: JobResult[], key: SweepKey): string {
  return table([key, ...METRIC_HEADER], results.map((r) => [sweepValue(r.spec, key), ...metricCells(r)]));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface PeerAggregate {
  iops: number;
  bandwidth: number;
  cpuUsPerOp: number;
  p50: number;
  p99: number;
  p999: number;
}

/** Median over loops of each metric (one loop: that run's numbers). */
export function aggregate(runs: JobResult[]): PeerAggregate {
  const pick = (p: number) => median(runs.map((r) => mainClat(r).percentile[pctKey(p)] ?? 0));
  return {
    iops: median(runs.map(iops)),
    bandwidth: median(runs.map(bandwidth)),
    cpuUsPerOp: median(runs.map(cpuUsPerOp)),
    p50: pick(50),
    p99: pick(99),
    p999: pick(99.9),
  };
}

export interface Ratios {
  iops: number;
  bandwidth: number;
  /** mountless CPU µs/op ÷ libnfs's: below 1 is better. */
  cpuPerOp: number;
}

export function ratios(m: PeerAggregate, l: PeerAggregate): Ratios {
  const div = (a: number, b: number) => (b > 0 ? a / b : 0);
  return { iops: div(m.iops, l.iops), bandwidth: div(m.bandwidth, l.bandwidth), cpuPerOp: div(m.cpuUsPerOp, l.cpuUsPerOp) };
}

/** Both peers' runs of one job, run by run, then medians and the ratios. */
export function compareTable(mountless: JobResult[], libnfs: JobResult[]): string {
  const rows: string[][] = [];
  const n = Math.max(mountless.length, libnfs.length);
  for (let i = 0; i < n; i++) {
    if (mountless[i]) rows.push([`mountless #${i + 1}`, ...metricCells(mountless[i]!)]);
    if (libnfs[i]) rows.push([`libnfs #${i + 1}`, ...metricCells(libnfs[i]!)]);
  }
  const m = aggregate(mountless);
  const l = aggregate(libnfs);
  const r = ratios(m, l);
  const spec = mountless[0]?.spec ?? libnfs[0]!.spec;
  const meta = isMetaRw(spec.rw);
  const bw = meta ? '' : ` bandwidth ${r.bandwidth.toFixed(2)}×,`;
  return [
    `${spec.name}: ${describeJob(spec)}`,
    table(['run', ...METRIC_HEADER], rows),
    `mountless/libnfs${n > 1 ? ` (medians of ${n} runs each)` : ''}: ${meta ? 'ops/s' : 'IOPS'} ${r.iops.toFixed(2)}×,${bw} CPU µs/op ${r.cpuPerOp.toFixed(2)}× (${m.cpuUsPerOp.toFixed(1)} vs ${l.cpuUsPerOp.toFixed(1)})`,
  ].join('\n');
}

/** One row per sweep point with both peers' medians and the ratios. */
export function compareSweepTable(points: { spec: JobSpec; mountless: JobResult[]; libnfs: JobResult[] }[], key: SweepKey): string {
  const rows = points.map((p) => {
    const m = aggregate(p.mountless);
    const l = aggregate(p.libnfs);
    const r = ratios(m, l);
    const meta = isMetaRw(p.spec.rw);
    return [sweepValue(p.spec, key), formatCount(m.iops), formatCount(l.iops), `${r.iops.toFixed(2)}×`, meta ? '-' : mib(m.bandwidth), meta ? '-' : mib(l.bandwidth), us(m.p99), us(l.p99), m.cpuUsPerOp.toFixed(1), l.cpuUsPerOp.toFixed(1), `${r.cpuPerOp.toFixed(2)}×`];
  });
  return table([key, 'IOPS ml', 'IOPS libnfs', 'ratio', 'MiB/s ml', 'MiB/s libnfs', 'p99 µs ml', 'p99 µs libnfs', 'CPU/op ml', 'CPU/op libnfs', 'CPU ratio'], rows);
}
