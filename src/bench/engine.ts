import { cpuSince, processCpuUsage, type CpuTime } from './cpu.js';
import { FioTally } from './fio-stats.js';
import { Histogram } from './histogram.js';
import { tallyOptions, type JobSpec } from './options.js';

/** What one worker owns: its job (0-based among the drive's jobs), its I/O buffer, and the direction of its current operation. */
export interface WorkerSlot {
  job: number;
  buf: Buffer;
  /** Set by Workload.step: whether the operation it started is a write. */
  write: boolean;
}

/**
 * A workload as the engine drives it. `step` starts the job's next operation
 * and resolves with the bytes it moved, or returns undefined when the job has
 * nothing left to do (a create pass that made all its files).
 */
export interface Workload {
  step(slot: WorkerSlot): Promise<number> | undefined;
  /** Operations per job once measuring; Infinity = until the runtime is over. */
  limit: number;
  /** Per-worker buffer size (0 for metadata). */
  bufferSize: number;
}

/** Counters the progress line reads while a job runs. */
export interface Live {
  ios: number;
  bytes: number;
  /** hrtime (ns) when measuring started; 0 while ramping. */
  measureStart: bigint;
  /** hrtime (ns) when the run will end, if it ends by time. */
  endsAt: bigint | undefined;
  ramping: boolean;
}

/** One job's share of a drive: its own histograms, bytes and last completion. */
export interface JobTally {
  runtimeNs: number;
  read: { hist: Histogram; bytes: number };
  write: { hist: Histogram; bytes: number };
  /** Submission and total latency, fio's buckets and per-interval samples. */
  fio: FioTally;
}

export interface DriveResult {
  /** One per job, in the order of the workload's jobs. */
  jobs: JobTally[];
  /** CPU time while measuring, of whatever `cpuClock` measures (default: the whole process). */
  cpu: CpuTime;
  /** Wall clock (ms since the epoch) when measuring started. */
  startMs: number | undefined;
}

/**
 * Runs `iodepth` workers for each of `jobCount` jobs, each worker awaiting one
 * operation at a time, and measures completion latency per operation with
 * a monotonic ns clock, per job. Operations that complete during the ramp
 * are not counted; measuring (latency, bytes, CPU time) starts for every job
 * with the first completion after it, and a job's runtime ends at its own
 * last completion. The run ends at the deadline (runtime), or when every
 * job has done `limit` operations or has nothing left.
 */
export async function drive(spec: JobSpec, w: Workload, jobCount: number, live?: Live, cpuClock: () => CpuTime = processCpuUsage): Promise<DriveResult> {
  const tallies = Array.from({ length: jobCount }, () => ({ read: new Histogram(), write: new Histogram(), rBytes: 0, wBytes: 0, last: 0, fio: new FioTally(tallyOptions(spec)), inflight: 0 }));
  const counted = new Array<number>(jobCount).fill(0);
  // Times are ns as plain numbers from performance.now() (exact to well under a ns over days):
  // process.hrtime.bigint() cost three BigInts per operation, charged to every op measured.
  const start = nowNs();
  const rampNs = Math.round(spec.rampTime * 1e9);
  const runNs = spec.runtime !== undefined ? Math.round(spec.runtime * 1e9) : undefined;
  const rampEnd = start + rampNs;
  let measuring = false;
  let measureStart = 0;
  let startMs: number | undefined;
  let deadline: number | undefined = runNs !== undefined ? rampEnd + runNs : undefined;
  let cpu0 = cpuClock();
  let stopped = false;
  const st = live ?? { ios: 0, bytes: 0, measureStart: 0n, endsAt: undefined, ramping: false };
  // The progress line reads hrtime.bigint() (another thread, possibly): this clock's
  // instants are handed over as offsets from a pair of readings taken together.
  const hrBase = process.hrtime.bigint() - BigInt(Math.round(nowNs()));
  const toHr = (ns: number) => hrBase + BigInt(Math.round(ns));
  st.ios = 0;
  st.bytes = 0;
  st.ramping = rampNs > 0;
  st.endsAt = deadline === undefined ? undefined : toHr(deadline);

  const begin = (t: number) => {
    measuring = true;
    measureStart = t;
    startMs = Date.now();
    st.measureStart = toHr(t);
    st.ramping = false;
    if (runNs !== undefined) deadline = t + runNs;
    st.endsAt = deadline === undefined ? undefined : toHr(deadline);
    for (const x of tallies) x.last = t;
    cpu0 = cpuClock();
  };
  if (rampNs === 0) begin(start);

  const worker = async (slot: WorkerSlot) => {
    const j = slot.job;
    const tally = tallies[j]!;
    for (;;) {
      if (stopped) return;
      if (measuring) {
        if (counted[j]! >= w.limit) return;
        counted[j]!++;
      }
      // slat: until the call has started the operation and returned; clat: from there to completion.
      const ts = nowNs();
      tally.inflight++;
      if (measuring) tally.fio.submitted(tally.inflight);
      const p = w.step(slot);
      if (p === undefined) {
        tally.inflight--;
        return;
      }
      const t0 = nowNs();
      // try/finally, not p.finally(): no second promise and closure per operation (the engine's own cost is charged to every op it measures).
      let n: number;
      try {
        n = await p;
      } finally {
        tally.inflight--;
      }
      const t1 = nowNs();
      if (measuring) {
        // Whole ns, as hrtime gave them: reports and fio's JSON print integers.
        const ns = Math.round(t1 - t0);
        tally.fio.completed(slot.write, n, Math.round(t0 - ts), ns, Math.round(t1 - measureStart));
        if (slot.write) {
          tally.write.record(ns);
          tally.wBytes += n;
        } else {
          tally.read.record(ns);
          tally.rBytes += n;
        }
        st.ios++;
        st.bytes += n;
        if (t1 > tally.last) tally.last = t1;
      } else if (t1 >= rampEnd) {
        begin(t1);
      }
      if (deadline !== undefined && t1 >= deadline) stopped = true;
    }
  };

  const workers: Promise<void>[] = [];
  for (let j = 0; j < jobCount; j++) {
    for (let k = 0; k < spec.iodepth; k++) {
      workers.push(worker({ job: j, buf: w.bufferSize > 0 ? Buffer.alloc(w.bufferSize) : Buffer.alloc(0), write: false }));
    }
  }
  // Stop every worker at the first failure, then report it.
  let failure: unknown;
  await Promise.all(
    workers.map((p) =>
      p.catch((err) => {
        stopped = true;
        failure ??= err;
      }),
    ),
  );
  if (failure !== undefined) throw failure;
  const cpu = cpuSince(cpu0, cpuClock());
  return {
    jobs: tallies.map((x) => {
      x.fio.runtimeNs = measuring ? Math.round(x.last - measureStart) : 0;
      return { runtimeNs: x.fio.runtimeNs, read: { hist: x.read, bytes: x.rBytes }, write: { hist: x.write, bytes: x.wBytes }, fio: x.fio };
    }),
    cpu,
    startMs,
  };
}

/** A monotonic clock in ns, as a number. */
function nowNs(): number {
  return performance.now() * 1e6;
}
