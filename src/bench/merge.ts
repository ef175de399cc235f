import { FioTally } from './fio-stats.js';
import { Histogram } from './histogram.js';
import { direction, type DirectionResult, type JobResult } from './result.js';

/**
 * fio's group_reporting: several jobs' results as one. Nothing is averaged:
 * operations, bytes and CPU time are summed, latency histograms are added
 * bucket by bucket (so percentiles are those of every sample together), and
 * the runtime is the longest job's, as fio's sum_thread_stats keeps it; IOPS
 * and bandwidth are then the totals over that runtime. The jobs ran at the
 * same time (one start, or one start time for several workers), so the
 * totals over the longest runtime are the rate the server saw.
 */
export function mergeJobs(parts: JobResult[]): JobResult {
  if (parts.length === 0) throw new Error('nothing to merge');
  const first = parts[0]!;
  const out: JobResult = {
    spec: first.spec,
    peer: first.peer,
    loop: first.loop,
    runtimeNs: Math.max(...parts.map((p) => p.runtimeNs)),
    read: mergeDirection(parts.map((p) => p.read)),
    write: mergeDirection(parts.map((p) => p.write)),
    cpu: { userUs: sum(parts.map((p) => p.cpu.userUs)), systemUs: sum(parts.map((p) => p.cpu.systemUs)) },
    parts,
  };
  if (parts.some((p) => p.entries !== undefined)) out.entries = sum(parts.map((p) => p.entries ?? 0));
  if (first.rsize !== undefined) out.rsize = first.rsize;
  if (first.wsize !== undefined) out.wsize = first.wsize;
  if (parts.every((p) => p.worker === first.worker) && first.worker !== undefined) out.worker = first.worker;
  if (parts.every((p) => p.fio)) out.fio = FioTally.merge(parts.map((p) => p.fio!));
  const starts = parts.flatMap((p) => (p.startMs !== undefined ? [p.startMs] : []));
  if (starts.length) out.startMs = Math.min(...starts);
  return out;
}

function mergeDirection(ds: DirectionResult[]): DirectionResult {
  const h = new Histogram();
  for (const d of ds) {
    if (!d.hist) throw new Error('cannot merge a result without its histogram');
    h.merge(d.hist);
  }
  return direction(h, sum(ds.map((d) => d.bytes)));
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}
