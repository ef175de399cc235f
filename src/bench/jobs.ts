import type { NfsClient } from '../fs/client.js';
import type { CpuTime } from './cpu.js';
import { drive, type Live, type Workload } from './engine.js';
import { openIoWorkload } from './io-workload.js';
import { metaWorkload } from './meta-workload.js';
import { isMetaRw, type JobSpec } from './options.js';
import { direction, type JobResult } from './result.js';

/** Jobs opened and ready to go: `run` drives them once, `close` releases their handles. */
export interface ReadyJobs {
  run(live?: Live): Promise<JobResult[]>;
  close(): Promise<void>;
}

/**
 * Opens the workload of the global jobs `jobs` on `clients` (job k on client
 * k mod clients), untimed, so that a caller can wait (for other threads, for
 * other workers) between this and `run`. One JobResult per job comes back,
 * with its raw histograms. `cpuClock` measures the CPU the jobs are charged:
 * the thread's own when they run on a worker thread; when several jobs
 * share one event loop, the CPU is split between them by operations (only
 * their sum is measured).
 */
export async function openJobs(spec: JobSpec, clients: NfsClient[], jobs: readonly number[], cpuClock?: () => CpuTime): Promise<ReadyJobs> {
  const rsize = clients[0]!.backend.limits.rsize;
  const wsize = clients[0]!.backend.limits.wsize;
  let workload: Workload;
  let entries: ((k: number) => number) | undefined;
  let close = async () => {};
  if (isMetaRw(spec.rw)) {
    const m = metaWorkload(spec, clients, jobs);
    workload = m.workload;
    if (spec.rw === 'readdir') entries = m.entries;
  } else {
    const io = await openIoWorkload(spec, clients, jobs.length);
    workload = io.workload;
    close = io.close;
  }
  return {
    close,
    run: async (live) => {
      const r = await drive(spec, workload, jobs.length, live, cpuClock);
      const ops = r.jobs.map((t) => t.read.hist.count + t.write.hist.count);
      const total = ops.reduce((a, b) => a + b, 0);
      return r.jobs.map((t, k) => {
        const share = total > 0 ? ops[k]! / total : 1 / jobs.length;
        const out: JobResult = {
          spec,
          peer: 'mountless',
          loop: 0,
          runtimeNs: t.runtimeNs,
          read: direction(t.read.hist, t.read.bytes),
          write: direction(t.write.hist, t.write.bytes),
          cpu: { userUs: r.cpu.userUs * share, systemUs: r.cpu.systemUs * share },
          rsize,
          wsize,
          job: jobs[k]!,
          fio: t.fio,
          startMs: r.startMs,
        };
        if (entries) out.entries = entries(k);
        return out;
      });
    },
  };
}
