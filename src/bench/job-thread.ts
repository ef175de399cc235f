/**
 * The body of one worker thread of `mountless bench`: one job, on its own
 * event loop, with its own client (its own TCP connections), so that N jobs
 * use N cores. Protocol with src/bench/threads.ts:
 *
 *   thread → main  { type: 'ready' }            connected, file opened (untimed)
 *   main → thread  { type: 'go' }               every thread is ready (and any barrier passed)
 *   thread → main  { type: 'done', record }     the job's JobRecord (raw histograms)
 *   thread → main  { type: 'error', message, code }
 *
 * Live counters go to the shared array every PUBLISH_MS, for the main
 * thread's progress line.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { connect } from '../connect.js';
import type { ConnectOptions } from '../options.js';
import { processCpuUsage, threadCpuUsage } from './cpu.js';
import type { Live } from './engine.js';
import { openJobs } from './jobs.js';
import type { JobSpec } from './options.js';
import { toRecord } from './record.js';
import { publishLive, type ThreadInput, type ThreadMessage } from './threads.js';

const PUBLISH_MS = 100;

async function main(): Promise<void> {
  const input = workerData as ThreadInput;
  const port = parentPort!;
  const send = (m: ThreadMessage) => port.postMessage(m);
  const go = new Promise<void>((resolve) => port.once('message', () => resolve()));
  const spec: JobSpec = input.spec;
  const nfs = await connect(input.url, input.connectOptions as ConnectOptions);
  try {
    const cpuClock = threadCpuUsage() ? () => threadCpuUsage()! : processCpuUsage;
    const jobs = await openJobs(spec, [nfs], [input.job], cpuClock);
    try {
      send({ type: 'ready' });
      await go;
      const live: Live = { ios: 0, bytes: 0, measureStart: 0n, endsAt: undefined, ramping: false };
      const view = new BigInt64Array(input.shared);
      const timer = setInterval(() => publishLive(view, input.slot, live), PUBLISH_MS);
      let results;
      try {
        results = await jobs.run(live);
      } finally {
        clearInterval(timer);
        publishLive(view, input.slot, live);
      }
      const r = results[0]!;
      if (input.worker !== undefined) r.worker = input.worker;
      send({ type: 'done', record: toRecord(r) });
    } finally {
      await jobs.close();
    }
  } finally {
    await nfs.close();
  }
}

main().catch((err: unknown) => {
  const e = err as { message?: string; code?: string };
  parentPort!.postMessage({ type: 'error', message: e?.message ?? String(err), code: e?.code } satisfies ThreadMessage);
});
