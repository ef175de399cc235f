import { FioTally, type FioTallyData } from './fio-stats.js';
import { Histogram, type HistogramData } from './histogram.js';
import type { JobSpec } from './options.js';
import { direction, type JobResult } from './result.js';

/**
 * One job's result in a form that survives postMessage and JSON: what a worker
 * thread sends back, and what a worker (pod) writes to the run directory next
 * to its fio JSON. The raw histograms are in it, so whoever merges jobs does
 * so bucket by bucket and never from percentiles.
 */
export interface JobRecord {
  job: number;
  worker?: number;
  runtimeNs: number;
  read: { bytes: number; hist: HistogramData };
  write: { bytes: number; hist: HistogramData };
  cpu: { userUs: number; systemUs: number };
  entries?: number;
  rsize?: number;
  wsize?: number;
  fio?: FioTallyData;
  startMs?: number;
}

export function toRecord(r: JobResult): JobRecord {
  if (!r.read.hist || !r.write.hist) throw new Error('a job result without its histograms');
  const rec: JobRecord = {
    job: r.job ?? 0,
    runtimeNs: r.runtimeNs,
    read: { bytes: r.read.bytes, hist: r.read.hist.toJSON() },
    write: { bytes: r.write.bytes, hist: r.write.hist.toJSON() },
    cpu: { ...r.cpu },
  };
  if (r.worker !== undefined) rec.worker = r.worker;
  if (r.entries !== undefined) rec.entries = r.entries;
  if (r.rsize !== undefined) rec.rsize = r.rsize;
  if (r.wsize !== undefined) rec.wsize = r.wsize;
  if (r.fio) rec.fio = r.fio.toJSON();
  if (r.startMs !== undefined) rec.startMs = r.startMs;
  return rec;
}

export function fromRecord(rec: JobRecord, spec: JobSpec, loop = 0): JobResult {
  const r: JobResult = {
    spec,
    peer: 'mountless',
    loop,
    runtimeNs: rec.runtimeNs,
    read: direction(Histogram.fromJSON(rec.read.hist), rec.read.bytes),
    write: direction(Histogram.fromJSON(rec.write.hist), rec.write.bytes),
    cpu: { ...rec.cpu },
    job: rec.job,
  };
  if (rec.worker !== undefined) r.worker = rec.worker;
  if (rec.entries !== undefined) r.entries = rec.entries;
  if (rec.rsize !== undefined) r.rsize = rec.rsize;
  if (rec.wsize !== undefined) r.wsize = rec.wsize;
  if (rec.fio) r.fio = FioTally.fromJSON(rec.fio);
  if (rec.startMs !== undefined) r.startMs = rec.startMs;
  return r;
}
