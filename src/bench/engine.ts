import { Histogram } from './histogram.js';
import type { JobSpec } from './options.js';
import { summarize, type JobResult } from './result.js';

/** What one worker owns: its I/O buffer, and the direction of its current operation. */
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

/**
 * Runs `iodepth` workers for each of `numjobs` jobs, each worker awaiting one
 * operation at a time, and measures completion latency per operation with
 * process.hrtime.bigint(). Operations that complete during the ramp are not
 * counted; measuring (latency, bytes, CPU time) starts with the first
 * completion after it. The run ends at the deadline (runtime), or when every
 * job has done `limit` operations or has nothing left.
 */
export async function drive(spec: JobSpec, w: Workload, live?: Live): Promise<Omit<JobResult, 'peer' | 'loop' | 'spec'>> {
  const readH = new Histogram();
  const writeH = new Histogram();
  let rBytes = 0;
  let wBytes = 0;
  const counted = new Array<number>(spec.numjobs).fill(0);
  const start = process.hrtime.bigint();
  const rampNs = BigInt(Math.round(spec.rampTime * 1e9));
  const runNs = spec.runtime !== undefined ? BigInt(Math.round(spec.runtime * 1e9)) : undefined;
  const rampEnd = start + rampNs;
  let measuring = false;
  let measureStart = 0n;
  let deadline: bigint | undefined = runNs !== undefined ? rampEnd + runNs : undefined;
  let cpu0 = process.cpuUsage();
  let last = start;
  let stopped = false;
  const st = live ?? { ios: 0, bytes: 0, measureStart: 0n, endsAt: undefined, ramping: false };
  st.ios = 0;
  st.bytes = 0;
  st.ramping = rampNs > 0n;
  st.endsAt = deadline;

  const begin = (t: bigint) => {
    measuring = true;
    measureStart = t;
    st.measureStart = t;
    st.ramping = false;
    if (runNs !== undefined) deadline = t + runNs;
    st.endsAt = deadline;
    cpu0 = process.cpuUsage();
  };
  if (rampNs === 0n) begin(start);

  const worker = async (slot: WorkerSlot) => {
    const j = slot.job;
    for (;;) {
      if (stopped) return;
      if (measuring) {
        if (counted[j]! >= w.limit) return;
        counted[j]!++;
      }
      const p = w.step(slot);
      if (p === undefined) return;
      const t0 = process.hrtime.bigint();
      const n = await p;
      const t1 = process.hrtime.bigint();
      if (measuring) {
        const ns = Number(t1 - t0);
        if (slot.write) {
          writeH.record(ns);
          wBytes += n;
        } else {
          readH.record(ns);
          rBytes += n;
        }
        st.ios++;
        st.bytes += n;
        if (t1 > last) last = t1;
      } else if (t1 >= rampEnd) {
        begin(t1);
        last = t1;
      }
      if (deadline !== undefined && t1 >= deadline) stopped = true;
    }
  };

  const workers: Promise<void>[] = [];
  for (let j = 0; j < spec.numjobs; j++) {
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
  const cpu = process.cpuUsage(cpu0);
  return {
    runtimeNs: measuring ? Number(last - measureStart) : 0,
    read: { ios: readH.count, bytes: rBytes, clat: summarize(readH) },
    write: { ios: writeH.count, bytes: wBytes, clat: summarize(writeH) },
    cpu: { userUs: cpu.user, systemUs: cpu.system },
  };
}
