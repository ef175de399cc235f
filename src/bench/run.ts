import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { connect } from '../connect.js';
import type { NfsClient } from '../fs/client.js';
import { cpuSince, processCpuUsage } from './cpu.js';
import { fioJson } from './fio-json.js';
import { writeLogs } from './fio-log.js';
import { openJobs } from './jobs.js';
import { allJobs, cleanupTree, layOutFile, prepareTree } from './layout.js';
import { mergeJobs } from './merge.js';
import { expandJobs, formatSize, isMetaRw, type BenchOptions, type JobSpec } from './options.js';
import { buildLibnfsDriver, findLibnfs, libnfsUrl, libnfsVersionOf, runLibnfs } from './peer-libnfs.js';
import { runOnThreads } from './threads.js';
import { renderHtml, renderSvg, type PlotInput } from './plot.js';
import { Progress, type ProgressStream } from './progress.js';
import { aggregate, compareSweepTable, compareTable, describeJob, jobLines, ratios, summary, sweepTable, sweepValue } from './report.js';
import type { JobResult } from './result.js';

export interface BenchIo {
  stdout: { write(s: string): unknown };
  stderr: ProgressStream;
}

export function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** How mountless runs a job's numjobs clones. */
export interface RunMode {
  /** Each job on its own worker thread with its own client (the default), or all on `clients` in this thread. */
  threads?: { url: string; connectOptions: Record<string, unknown> };
  /** Worker index in a run of several workers: its jobs are worker × numjobs + j. */
  worker?: number;
  /** Awaited after the jobs are open and before they start. */
  gate?: () => Promise<void>;
}

/**
 * One run of `spec` through mountless: every job's result (`parts`) and
 * their merge (fio's group_reporting) as the returned result. Without
 * `mode.threads` the jobs share `clients` and this event loop (round-robin),
 * as --single asks.
 */
export async function runMountless(spec: JobSpec, clients: NfsClient[], loop: number, progress?: Progress, mode: RunMode = {}): Promise<JobResult> {
  const jobs = allJobs(spec, mode.worker);
  const label = `mountless ${spec.name}`;
  const cpu0 = processCpuUsage();
  const t0 = process.hrtime.bigint();
  let parts: JobResult[];
  if (mode.threads) {
    parts = await runOnThreads({ ...mode.threads, spec, jobs, label, ...(mode.worker !== undefined ? { worker: mode.worker } : {}), ...(progress ? { progress } : {}), ...(mode.gate ? { gate: mode.gate } : {}) });
  } else {
    const ready = await openJobs(spec, clients, jobs);
    try {
      await mode.gate?.();
      progress?.start(label);
      parts = await ready.run(progress?.live);
    } finally {
      progress?.stop();
      await ready.close();
    }
    if (mode.worker !== undefined) for (const p of parts) p.worker = mode.worker;
  }
  const cpu = cpuSince(cpu0, processCpuUsage());
  for (const p of parts) p.loop = loop;
  const merged = mergeJobs(parts);
  merged.process = { cpuUs: cpu.userUs + cpu.systemUs, wallNs: Number(process.hrtime.bigint() - t0) };
  return merged;
}

interface Point {
  spec: JobSpec;
  mountless: JobResult[];
  libnfs: JobResult[];
}

/**
 * The whole `mountless bench` run: connect (one client per --nconnect value), lay out the file
 * (or tree) of each job, run it (with --compare: mountless, libnfs, mountless,
 * libnfs … for --loops rounds), then print the summary, table or fio JSON
 * and write the plot. Returns the exit code.
 */
export async function runBench(o: BenchOptions, io: BenchIo, collect?: (results: JobResult[]) => void): Promise<number> {
  if (o.distributed) return (await import('./distributed.js')).runWorker(o, io);
  const log = (s: string) => io.stderr.write(`mountless bench: ${s}\n`);
  const specs = expandJobs(o);
  const progress = new Progress(io.stderr);
  let driver: string | undefined;
  if (o.compare === 'libnfs') {
    const peer = await findLibnfs(o.libnfs);
    driver = await buildLibnfsDriver(peer);
    const { dropped } = libnfsUrl(o.url);
    if (dropped.length) log(`URL arguments libnfs does not take, used by mountless only: ${dropped.join(', ')}`);
    log(`comparing with ${peer.label} (async API, ${driver}) over NFSv${libnfsVersionOf(o.url) === 4 ? '4.0, libnfs having no 4.1' : '3'}`);
    if (isMetaRw(o.base.rw) && !o.base.direct) log('libnfs caches no attributes and mountless does: add --direct=1 to compare uncached with uncached');
  }
  // One client (one mount) per --nconnect value, with that many TCP
  // connections: mountless spreads its calls over them, as the kernel's nconnect.
  const byConns = new Map<number, NfsClient>();
  const clients: NfsClient[] = [];
  const points: Point[] = [];
  try {
    // --direct bypasses mountless's caches: the attribute and name caches off (noac).
    const connectOpts = o.base.direct ? { noac: true } : {};
    const clientFor = async (n: number): Promise<NfsClient[]> => {
      let c = byConns.get(n);
      if (!c) {
        c = await connect(o.url, { ...connectOpts, ...(n > 1 ? { nconnect: n } : {}) });
        byConns.set(n, c);
        clients.push(c);
      }
      return [c];
    };
    for (const spec of specs) {
      const use = await clientFor(spec.nconnect);
      if (isMetaRw(spec.rw)) await prepareTree(use, spec, log);
      else await layOutFile(use[0]!, spec, log);
      const point: Point = { spec, mountless: [], libnfs: [] };
      const loops = driver ? o.loops : 1;
      for (let loop = 1; loop <= loops; loop++) {
        const tag = driver ? loop : 0;
        const mode: RunMode = o.single ? {} : { threads: { url: o.url, connectOptions: { ...connectOpts, ...(spec.nconnect > 1 ? { nconnect: spec.nconnect } : {}) } } };
        // create and unlink change the tree: every run after the first starts from it laid out anew.
        const relay = driver && (spec.rw === 'create' || spec.rw === 'unlink');
        if (relay && loop > 1) await prepareTree(use, spec, log);
        point.mountless.push(await runMountless(spec, use, tag, progress, mode));
        if (driver) {
          if (relay) await prepareTree(use, spec, log);
          progress.start(`libnfs ${spec.name}`, { seconds: spec.timeBased && spec.runtime !== undefined ? spec.runtime + spec.rampTime : undefined });
          try {
            point.libnfs.push(await runLibnfs(driver, spec, o.url, loop));
          } finally {
            progress.stop();
          }
        }
      }
      if (isMetaRw(spec.rw)) await cleanupTree(use, spec);
      points.push(point);
      if (o.outputFormat === 'normal') io.stdout.write(reportPoint(point, !!driver, o.groupReporting) + '\n\n');
    }
  } finally {
    progress.stop();
    await Promise.allSettled(clients.map((c) => c.close()));
  }

  // A job file's section: its caller writes the logs and the JSON of every section together (job-file.ts).
  if (collect) {
    collect(points.flatMap((p) => p.mountless));
    return 0;
  }
  await writeLogs(points.flatMap((p) => p.mountless), log);
  if (o.outputFormat !== 'normal') {
    const all = points.flatMap((p) => interleave(p.mountless, p.libnfs));
    const out: Record<string, unknown> = { ...fioJson(all, packageVersion(), new Date(), o.groupReporting, { percentiles: o.percentiles, plus: o.outputFormat === 'json+' }) };
    if (driver) {
      out['mountless compare'] = points.map((p) => {
        const m = aggregate(p.mountless);
        const l = aggregate(p.libnfs);
        return { jobname: p.spec.name, loops: p.mountless.length, mountless: m, libnfs: l, ratio: ratios(m, l) };
      });
    }
    io.stdout.write(JSON.stringify(out, null, 2) + '\n');
  } else if (o.sweep) {
    io.stdout.write(`sweep of ${o.sweep}: ${describeJob(specs[0]!, o.sweep)}\n`);
    io.stdout.write((driver ? compareSweepTable(points, o.sweep) : sweepTable(points.map((p) => p.mountless[0]!), o.sweep)) + '\n');
  }

  if (o.plot) {
    const input = plotInput(o, points);
    await writeFile(o.plot, /\.html?$/i.test(o.plot) ? renderHtml(input) : renderSvg(input));
    log(`wrote ${o.plot}`);
  }
  return 0;
}

function reportPoint(p: Point, compare: boolean, groupReporting: boolean): string {
  if (!compare) return summary(p.mountless[0]!) + (groupReporting ? '' : jobLines(p.mountless[0]!));
  const runs = interleave(p.mountless, p.libnfs).map(summary).join('\n');
  return `${runs}\n\n${compareTable(p.mountless, p.libnfs)}`;
}

function interleave<T>(a: T[], b: T[]): T[] {
  const out: T[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== undefined) out.push(a[i]!);
    if (b[i] !== undefined) out.push(b[i]!);
  }
  return out;
}

function plotInput(o: BenchOptions, points: Point[]): PlotInput {
  const key = o.sweep;
  const s0 = points[0]!.spec;
  const meta = isMetaRw(s0.rw);
  const series = [{ label: 'mountless', iops: points.map((p) => aggregate(p.mountless).iops), p99us: points.map((p) => aggregate(p.mountless).p99 / 1000) }];
  if (o.compare) series.push({ label: 'libnfs', iops: points.map((p) => aggregate(p.libnfs).iops), p99us: points.map((p) => aggregate(p.libnfs).p99 / 1000) });
  const fixed = (['bs', 'iodepth', 'numjobs', 'nconnect'] as const)
    .filter((k) => k !== key && !(k === 'bs' && meta))
    .map((k) => `${k} ${sweepValue(s0, k)}`);
  fixed.unshift(meta ? `nrfiles ${s0.nrfiles}` : `size ${formatSize(s0.size)}`);
  return {
    title: `mountless bench: ${s0.rw}${key ? ` against ${key}` : ''}`,
    subtitle: `${fixed.join(', ')}; ${o.url.replace(/\?.*$/, '')}; ${new Date().toISOString().slice(0, 16).replace('T', ' ')}`,
    xLabel: key ?? 'job',
    x: points.map((p) => (key ? sweepValue(p.spec, key) : p.spec.name)),
    series,
  };
}
