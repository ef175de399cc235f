import { writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from '../connect.js';
import { fioJob, type FioJob } from './fio-json.js';
import { mergeJobs } from './merge.js';
import { isMetaRw, type ReportOptions } from './options.js';
import { renderHtml, renderSvg } from './plot.js';
import { formatCount } from './progress.js';
import { fromRecord } from './record.js';
import { describeJob, summary, table, us } from './report.js';
import { bandwidth, cpuUsPerOp, iops, mainClat, pctKey, type JobResult } from './result.js';
import { missing, RunDir, type WorkerResultFile } from './run-dir.js';
import { packageVersion, type BenchIo } from './run.js';

/** One worker's jobs merged, and where it ran. */
export interface WorkerRow {
  worker: number;
  host: string;
  result: JobResult;
}

export interface RunReport {
  runId: string;
  workers: number;
  missing: number[];
  /** Every job of every worker merged (fio's group_reporting over the run). */
  aggregate: JobResult;
  perWorker: WorkerRow[];
}

/**
 * Merges a run's result files: each worker's jobs into one row, and every job
 * of every worker into the aggregate, histograms bucket by bucket (so the
 * aggregate's percentiles are those of all the run's operations).
 */
export function mergeRun(runId: string, files: WorkerResultFile[]): RunReport {
  if (files.length === 0) throw new Error(`run ${runId} has no results yet`);
  const workers = Math.max(...files.map((f) => f.workers));
  const perWorker = files
    .sort((a, b) => a.worker - b.worker)
    .map((f) => ({ worker: f.worker, host: f.host, result: mergeJobs(f.records.map((rec) => fromRecord(rec, f.spec))) }));
  const aggregate = mergeJobs(perWorker.flatMap((w) => w.result.parts!));
  return { runId, workers, missing: missing(workers, new Set(files.map((f) => f.worker))), aggregate, perWorker };
}

export async function readRun(o: ReportOptions, log: (s: string) => void): Promise<WorkerResultFile[]> {
  const nfs = await connect(o.url, { noac: true });
  try {
    const rd = new RunDir(nfs, o.runId);
    const deadline = Date.now() + o.wait * 1000;
    let waited = false;
    for (;;) {
      const have = await rd.indices('results', '.hist.json');
      const start = await rd.get<{ workers: number }>('start.json');
      const expected = start?.workers;
      if ((expected !== undefined && have.size >= expected) || Date.now() >= deadline) {
        if (have.size === 0 && start === undefined && (await rd.indices('workers', '.json')).size === 0) {
          throw Object.assign(new Error(`no run ${o.runId} in ${rd.dir} on ${o.url.replace(/\?.*$/, '')}`), { code: 'ENOENT' });
        }
        const files: WorkerResultFile[] = [];
        for (const i of [...have].sort((a, b) => a - b)) files.push((await rd.get<WorkerResultFile>(`results/${i}.hist.json`))!);
        return files;
      }
      if (!waited) log(`waiting up to ${o.wait} s for the results of run ${o.runId} (${have.size}${expected !== undefined ? ` of ${expected}` : ''} so far)`);
      waited = true;
      await sleep(1000);
    }
  } finally {
    await nfs.close();
  }
}

function workerTable(r: RunReport): string {
  const rows = r.perWorker.map((w) => {
    const c = mainClat(w.result);
    const p = c.percentile;
    return [String(w.worker), w.host, formatCount(iops(w.result)), isMetaRw(w.result.spec.rw) ? '-' : (bandwidth(w.result) / 1e6).toFixed(1), us(p[pctKey(50)] ?? 0), us(p[pctKey(99)] ?? 0), us(p[pctKey(99.9)] ?? 0), cpuUsPerOp(w.result).toFixed(1), (w.result.runtimeNs / 1e9).toFixed(2)];
  });
  return table(['worker', 'host', 'IOPS', 'MB/s', 'p50 µs', 'p99 µs', 'p99.9 µs', 'CPU µs/op', 'runtime s'], rows);
}

export function reportText(r: RunReport): string {
  const lines = [
    `run ${r.runId}: ${r.perWorker.length} of ${r.workers} workers, ${r.aggregate.parts!.length} jobs; ${describeJob(r.aggregate.spec)}`,
    summary(r.aggregate).replace(/^[^\n]*\n/, 'aggregate (all workers, histograms merged):\n'),
    '',
    workerTable(r),
  ];
  if (r.missing.length) lines.push('', `missing results from worker${r.missing.length > 1 ? 's' : ''} ${r.missing.join(', ')}`);
  return lines.join('\n');
}

export interface RunReportJson {
  'fio version': string;
  time: string;
  run_id: string;
  workers: number;
  missing: number[];
  /** Every job of the run merged. */
  aggregate: FioJob;
  /** One entry per worker, its jobs merged. */
  jobs: Array<FioJob & { host: string }>;
}

export function reportJson(r: RunReport, now = new Date()): RunReportJson {
  return {
    'fio version': `mountless-${packageVersion()}`,
    time: now.toString(),
    run_id: r.runId,
    workers: r.workers,
    missing: r.missing,
    aggregate: { ...fioJob(r.aggregate), jobname: `${r.aggregate.spec.name}@${r.runId}` },
    jobs: r.perWorker.map((w) => ({ ...fioJob(w.result), jobname: `${w.result.spec.name}@w${w.worker}`, host: w.host })),
  };
}

/** `mountless bench report`: exit 0, or 1 when a worker's result is missing (the rest is still printed). */
export async function benchReport(o: ReportOptions, io: BenchIo): Promise<number> {
  const log = (s: string) => io.stderr.write(`mountless bench report: ${s}\n`);
  const files = await readRun(o, log);
  const r = mergeRun(o.runId, files);
  if (o.outputFormat === 'json') io.stdout.write(JSON.stringify(reportJson(r), null, 2) + '\n');
  else io.stdout.write(reportText(r) + '\n');
  if (o.plot) {
    const input = {
      title: `mountless bench run ${o.runId}: per worker`,
      subtitle: `${describeJob(r.aggregate.spec)}; aggregate ${formatCount(iops(r.aggregate))} IOPS`,
      xLabel: 'worker',
      x: r.perWorker.map((w) => String(w.worker)),
      series: [{ label: 'mountless', iops: r.perWorker.map((w) => iops(w.result)), p99us: r.perWorker.map((w) => (mainClat(w.result).percentile[pctKey(99)] ?? 0) / 1000) }],
    };
    await writeFile(o.plot, /\.html?$/i.test(o.plot) ? renderHtml(input) : renderSvg(input));
    log(`wrote ${o.plot}`);
  }
  if (r.missing.length) {
    log(`missing results from worker${r.missing.length > 1 ? 's' : ''} ${r.missing.join(', ')}`);
    return 1;
  }
  return 0;
}
