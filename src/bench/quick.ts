import { connect } from '../connect.js';
import type { NfsClient } from '../fs/client.js';
import { cleanupTree, layOutFile, prepareTree } from './layout.js';
import { expandJobs, isMetaRw, parseBenchArgs, type JobSpec } from './options.js';
import { buildLibnfsDriver, libnfsVersion, runLibnfs } from './peer-libnfs.js';
import { table } from './report.js';
import { bandwidth, cpuUsPerOp, iops, mainClat, pctKey, type JobResult } from './result.js';
import { runMountless } from './run.js';

/**
 * The short benchmark that ends `mountless demo`: the headline
 * workloads, a few seconds each, through mountless and, where libnfs is
 * installed, through libnfs in the same run, with the ratio; caches off
 * (O_DIRECT, noac) as libnfs has none, then the stat again with them. A first look,
 * not a measurement to quote: `mountless bench` with --loops is that.
 */
const JOBS: Array<[string, string[]]> = [
  ['4k randread, depth 32', ['--rw=randread', '--bs=4k', '--iodepth=32', '--direct=1']],
  ['4k randwrite, depth 32', ['--rw=randwrite', '--bs=4k', '--iodepth=32', '--direct=1']],
  ['1m read, depth 8', ['--rw=read', '--bs=1m', '--iodepth=8', '--direct=1']],
  ['1m write, depth 8', ['--rw=write', '--bs=1m', '--iodepth=8', '--direct=1']],
  ['stat uncached, depth 32', ['--rw=stat', '--nrfiles=1000', '--iodepth=32', '--direct=1']],
  ['stat cached, depth 32', ['--rw=stat', '--nrfiles=1000', '--iodepth=32']],
];

export interface QuickBenchOptions {
  url: string;
  /** Seconds per workload and peer. */
  seconds: number;
  /** Directory in the export for the data file and tree; removed afterwards. */
  dir: string;
  /** Data file size (default 256m). */
  size?: string;
  /** Compare with libnfs when it can be built (default true). */
  libnfs?: boolean;
  log(s: string): void;
}

export async function quickBench(o: QuickBenchOptions): Promise<void> {
  let driver: string | undefined;
  let peerNote = '';
  if (o.libnfs !== false) {
    try {
      const v = await libnfsVersion();
      driver = await buildLibnfsDriver(v);
      peerNote = `, side by side with libnfs ${v}`;
    } catch (err) {
      peerNote = ` (no libnfs comparison: ${(err as Error).message.split('\n')[0]})`;
    }
  }
  o.log(`benchmark: ${o.seconds} s per workload${peerNote}`);
  const rows: string[][] = [];
  const clients = new Map<boolean, NfsClient>();
  try {
    for (const [title, args] of JOBS) {
      const opts = parseBenchArgs([
        '--url', o.url, `--size=${o.size ?? '256m'}`, `--runtime=${o.seconds}`, '--time_based',
        `--filename=${o.dir}/${args.includes('--rw=stat') ? 'tree' : 'data'}`, ...args,
      ]);
      if (opts === 'help') continue;
      const spec: JobSpec = expandJobs(opts)[0]!;
      let nfs = clients.get(spec.direct);
      if (!nfs) {
        nfs = await connect(o.url, spec.direct ? { noac: true } : {});
        clients.set(spec.direct, nfs);
      }
      if (isMetaRw(spec.rw)) await prepareTree([nfs], spec, () => {});
      else await layOutFile(nfs, spec, () => {});
      const m = await runMountless(spec, [nfs], 0);
      // libnfs caches nothing: the cached stat has no peer to compare with.
      const l = driver && spec.direct ? await runLibnfs(driver, spec, o.url, 0) : undefined;
      if (isMetaRw(spec.rw)) await cleanupTree([nfs], spec);
      rows.push(row(title, m, l, driver !== undefined));
    }
  } finally {
    const any = clients.values().next().value as NfsClient | undefined;
    await any?.rm(o.dir, { recursive: true, force: true }).catch(() => {});
    await Promise.allSettled([...clients.values()].map((c) => c.close()));
  }
  const header = ['workload', 'IOPS', 'MiB/s', 'p99 µs', 'CPU µs/op'];
  if (driver) header.push('libnfs IOPS', 'libnfs CPU µs/op', 'ratio');
  for (const line of table(header, rows).split('\n')) o.log(`  ${line}`);
}

function row(title: string, m: JobResult, l: JobResult | undefined, peerColumns: boolean): string[] {
  const meta = isMetaRw(m.spec.rw);
  const r = [title, count(iops(m)), meta ? '-' : (bandwidth(m) / 2 ** 20).toFixed(0), (mainClat(m).percentile[pctKey(99)]! / 1000).toFixed(0), cpuUsPerOp(m).toFixed(1)];
  if (l) r.push(count(iops(l)), cpuUsPerOp(l).toFixed(1), iops(l) > 0 ? `${(iops(m) / iops(l)).toFixed(2)}×` : '-');
  else if (peerColumns) r.push('-', '-', '-');
  return r;
}

function count(n: number): string {
  return n >= 10_000 ? `${(n / 1000).toFixed(1)}k` : n.toFixed(0);
}
