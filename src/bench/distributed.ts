import { hostname } from 'node:os';
import { connect } from '../connect.js';
import type { NfsClient } from '../fs/client.js';
import { fioJson } from './fio-json.js';
import { writeLogs } from './fio-log.js';
import { allJobs, cleanupTree, layOutFile, prepareTree } from './layout.js';
import { expandJobs, isMetaRw, type BenchOptions } from './options.js';
import { Progress } from './progress.js';
import { toRecord } from './record.js';
import { awaitPrepared, barrier, sleepUntil, startTime } from './rendezvous.js';
import { jobLines, summary } from './report.js';
import { RunDir } from './run-dir.js';
import { packageVersion, runMountless, type BenchIo, type RunMode } from './run.js';

/**
 * One worker (pod) of a run of several, meeting on the export (see
 * run-dir.ts): prepare, open the jobs, register, wait at the barrier for
 * all, start at worker 0's start time, run, and leave the fio JSON and the
 * raw histograms in the run directory. Prints its own result as a single
 * run does. `mountless bench report` merges the workers' files.
 */
export async function runWorker(o: BenchOptions, io: BenchIo): Promise<number> {
  const d = o.distributed!;
  const log = (s: string) => io.stderr.write(`mountless bench: worker ${d.workerIndex}/${d.workers}: ${s}\n`);
  const spec = expandJobs(o)[0]!;
  const deadline = Date.now() + d.barrierTimeout * 1000;
  const connectOpts = o.base.direct ? { noac: true } : {};
  // The run directory is read without caches: other workers change it.
  const control = await connect(o.url, { noac: true });
  let nfs: NfsClient | undefined;
  try {
    const rd = new RunDir(control, d.runId);
    await rd.create();
    const stale = (await rd.indices('results', '.hist.json')).has(d.workerIndex) || (d.workerIndex === 0 && (await rd.get('start.json')) !== undefined);
    if (stale) throw new Error(`run ${d.runId} in ${rd.dir} already ran (worker ${d.workerIndex}'s result or the start time is there): choose a new --run-id`);
    nfs = await connect(o.url, { ...connectOpts, ...(spec.nconnect > 1 ? { nconnect: spec.nconnect } : {}) });
    const jobs = allJobs(spec, d.workerIndex);
    // The shared data file is laid out once, by worker 0; each worker makes its own jobs' trees.
    if (isMetaRw(spec.rw)) await prepareTree([nfs], spec, log, jobs);
    else if (d.workerIndex === 0) await layOutFile(nfs, spec, log);
    if (d.workerIndex === 0) await rd.put('prepared.json', { by: 0, at: new Date().toISOString() });
    else await awaitPrepared(rd, deadline, d.barrierTimeout);

    const gate = async () => {
      await rd.register({ worker: d.workerIndex, workers: d.workers, host: hostname(), pid: process.pid, registeredAt: new Date().toISOString() });
      log(`registered in ${rd.dir}, waiting for ${d.workers} workers`);
      await barrier(rd, d.workers, deadline, d.barrierTimeout);
      const at = await startTime(rd, d.workerIndex, d.workers, deadline, d.barrierTimeout);
      const late = await sleepUntil(at);
      log(`all ${d.workers} workers registered; started at ${new Date(at).toISOString()}${late > 50 ? ` (${late} ms late)` : ''}`);
    };
    const mode: RunMode = { worker: d.workerIndex, gate };
    if (!o.single) mode.threads = { url: o.url, connectOptions: { ...connectOpts, ...(spec.nconnect > 1 ? { nconnect: spec.nconnect } : {}) } };
    const result = await runMountless(spec, [nfs], 0, new Progress(io.stderr), mode);
    if (isMetaRw(spec.rw)) await cleanupTree([nfs], spec, jobs);

    await writeLogs([result], log);
    const fio = fioJson([result], packageVersion(), new Date(), o.groupReporting, { percentiles: o.percentiles, plus: o.outputFormat === 'json+' });
    const hist = { worker: d.workerIndex, workers: d.workers, host: hostname(), spec, records: (result.parts ?? [result]).map(toRecord), ...(result.process ? { process: result.process } : {}) };
    await rd.writeResults(d.workerIndex, fio, hist);
    log(`results in ${rd.dir}/results/${d.workerIndex}.*; merge them with: mountless bench report ${d.runId}`);
    if (o.outputFormat !== 'normal') io.stdout.write(JSON.stringify(fio, null, 2) + '\n');
    else io.stdout.write(summary(result) + (o.groupReporting ? '' : jobLines(result)) + '\n');
    return 0;
  } finally {
    await Promise.allSettled([control.close(), nfs?.close()]);
  }
}
