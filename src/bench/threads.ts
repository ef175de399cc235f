import { Worker } from 'node:worker_threads';
import type { Live } from './engine.js';
import type { JobSpec } from './options.js';
import type { Progress } from './progress.js';
import { fromRecord, type JobRecord } from './record.js';
import type { JobResult } from './result.js';

/**
 * `--numjobs N` as fio runs it: each job on its own worker thread (see
 * job-thread.ts), with its own client and connections, so N jobs use N
 * cores. Threads rather than child processes: one process holds them all,
 * so its CPU time (process.cpuUsage, getrusage) is the whole run's, results
 * come back by postMessage without a pipe protocol, a thread starts in
 * tens of milliseconds, and one signal stops the run.
 */

export interface ThreadInput {
  url: string;
  connectOptions: Record<string, unknown>;
  spec: JobSpec;
  /** Global job number. */
  job: number;
  worker: number | undefined;
  /** Live counters of every thread, LIVE_FIELDS int64s each (see publishLive). */
  shared: SharedArrayBuffer;
  slot: number;
}

export type ThreadMessage = { type: 'ready' } | { type: 'go' } | { type: 'done'; record: JobRecord } | { type: 'error'; message: string; code?: string | undefined };

/** How long a thread may take to close its client after its result, before it is terminated. */
const CLOSE_GRACE_MS = 5000;

/** ios, bytes, measureStart (ns), endsAt (ns, 0 = none), ramping (0/1). */
const LIVE_FIELDS = 5;

export function publishLive(view: BigInt64Array, slot: number, l: Live): void {
  const o = slot * LIVE_FIELDS;
  Atomics.store(view, o, BigInt(l.ios));
  Atomics.store(view, o + 1, BigInt(l.bytes));
  Atomics.store(view, o + 2, l.measureStart);
  Atomics.store(view, o + 3, l.endsAt ?? 0n);
  Atomics.store(view, o + 4, l.ramping ? 1n : 0n);
}

/** The sum over threads, for the progress line: the aggregate, not one job's. */
function gatherLive(view: BigInt64Array, n: number, into: Live): void {
  let ios = 0n;
  let bytes = 0n;
  let start = 0n;
  let ends = 0n;
  let ramping = false;
  for (let s = 0; s < n; s++) {
    const o = s * LIVE_FIELDS;
    ios += Atomics.load(view, o);
    bytes += Atomics.load(view, o + 1);
    const m = Atomics.load(view, o + 2);
    if (m > 0n && (start === 0n || m < start)) start = m;
    const e = Atomics.load(view, o + 3);
    if (e > ends) ends = e;
    if (Atomics.load(view, o + 4) === 1n) ramping = true;
  }
  into.ios = Number(ios);
  into.bytes = Number(bytes);
  into.measureStart = start;
  into.endsAt = ends > 0n ? ends : undefined;
  into.ramping = ramping || start === 0n;
}

function workerUrl(): URL {
  // Under a TypeScript loader (tests) this module is job-thread's .ts sibling; built, the .js.
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./job-thread${ext}`, import.meta.url);
}

export interface ThreadRun {
  url: string;
  connectOptions: Record<string, unknown>;
  spec: JobSpec;
  /** Global job numbers, one thread each. */
  jobs: readonly number[];
  worker?: number;
  progress?: Progress;
  label: string;
  /** Awaited once every thread is ready, before they start (a barrier across workers). */
  gate?: () => Promise<void>;
}

/** Runs each job on its own thread, all started together; one JobResult per job. */
export async function runOnThreads(r: ThreadRun): Promise<JobResult[]> {
  const n = r.jobs.length;
  const shared = new SharedArrayBuffer(n * LIVE_FIELDS * 8);
  const view = new BigInt64Array(shared);
  const threads: Worker[] = [];
  const settled: Array<Promise<JobRecord>> = [];
  const ready: Array<Promise<void>> = [];
  const exited: Array<Promise<void>> = [];
  for (let k = 0; k < n; k++) {
    const input: ThreadInput = { url: r.url, connectOptions: r.connectOptions, spec: r.spec, job: r.jobs[k]!, worker: r.worker, shared, slot: k };
    const w = new Worker(workerUrl(), { workerData: input });
    threads.push(w);
    exited.push(new Promise((res) => w.once('exit', () => res())));
    let onReady!: () => void;
    let failReady!: (e: Error) => void;
    ready.push(new Promise<void>((res, rej) => ((onReady = res), (failReady = rej))));
    settled.push(
      new Promise<JobRecord>((resolve, reject) => {
        const fail = (e: Error) => {
          failReady(e);
          reject(e);
        };
        w.on('message', (m: ThreadMessage) => {
          if (m.type === 'ready') onReady();
          else if (m.type === 'done') resolve(m.record);
          else if (m.type === 'error') fail(Object.assign(new Error(`job ${r.jobs[k]}: ${m.message}`), m.code ? { code: m.code } : {}));
        });
        w.on('error', (e) => fail(new Error(`job ${r.jobs[k]}: ${e.message}`)));
        w.on('exit', (code) => fail(new Error(`job ${r.jobs[k]}: thread exited (${code}) before its result`)));
      }),
    );
  }
  // A rejection is handled below; these keep an early one from being reported as unhandled.
  for (const p of [...settled, ...ready]) p.catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.all(ready);
    await r.gate?.();
    if (r.progress) {
      const progress = r.progress;
      const tick = () => gatherLive(view, n, progress.live);
      tick();
      timer = setInterval(tick, 100);
      timer.unref();
      progress.start(r.label);
    }
    for (const w of threads) w.postMessage({ type: 'go' } satisfies ThreadMessage);
    const records = await Promise.all(settled);
    // Each thread closes its own client after sending its result; give it the time to.
    const grace = setTimeout(() => threads.forEach((w) => void w.terminate()), CLOSE_GRACE_MS);
    await Promise.all(exited);
    clearTimeout(grace);
    return records.map((rec) => fromRecord(rec, r.spec));
  } finally {
    if (timer) clearInterval(timer);
    r.progress?.stop();
    await Promise.all(threads.map((w) => w.terminate()));
  }
}
