import type { NfsClient } from '../fs/client.js';
import type { Workload, WorkerSlot } from './engine.js';
import { entryPath, jobDir } from './layout.js';
import type { JobSpec } from './options.js';

/** Listings per job for readdir when neither --runtime nor --number_ios bounds the run. */
export const READDIR_DEFAULT_IOS = 10;

/**
 * mdtest-style metadata operations over the tree prepareTree() made: the
 * drive's job k is global job g = jobs[k] and works in `<filename>/j<g>`.
 *
 *   stat     stat('<dir>/f<i>'), i cycling over nrfiles (wraps with --time_based)
 *   create   open('<dir>/f<i>', 'w') + close, once per file
 *   unlink   unlink('<dir>/f<i>'), once per file
 *   mkdir    mkdir('<dir>/d<i>'), once per directory
 *   readdir  readdir('<dir>'): one operation lists all nrfiles entries
 *
 * Paths are built before the run, so the measured time is the client's.
 */
export function metaWorkload(spec: JobSpec, clients: NfsClient[], jobs: readonly number[]): { workload: Workload; entries(job: number): number } {
  const paths = jobs.map((g) => Array.from({ length: spec.nrfiles }, (_, i) => entryPath(spec, g, i)));
  const dirs = jobs.map((g) => jobDir(spec, g));
  const cursors = new Array<number>(jobs.length).fill(0);
  const entries = new Array<number>(jobs.length).fill(0);
  const n = spec.nrfiles;
  const wraps = spec.rw === 'stat' && spec.timeBased;

  const step = (slot: WorkerSlot): Promise<number> | undefined => {
    const j = slot.job;
    const nfs = clients[j % clients.length]!;
    if (spec.rw === 'readdir') {
      slot.write = false;
      return nfs.readdir(dirs[j]!).then((names) => {
        entries[j]! += names.length;
        return 0;
      });
    }
    let i = cursors[j]!;
    if (i >= n) {
      if (!wraps) return undefined;
      i = 0;
    }
    cursors[j] = i + 1;
    const path = paths[j]![i]!;
    switch (spec.rw) {
      case 'stat':
        slot.write = false;
        return nfs.stat(path).then(zero);
      case 'create':
        slot.write = true;
        return nfs.open(path, 'w').then((fh) => fh.close()).then(zero);
      case 'unlink':
        slot.write = true;
        return nfs.unlink(path).then(zero);
      case 'mkdir':
        slot.write = true;
        return nfs.mkdir(path).then(zero);
      default:
        throw new Error(`not a metadata workload: ${spec.rw}`);
    }
  };

  const limit = spec.numberIos > 0 ? spec.numberIos : spec.rw === 'readdir' ? (spec.timeBased ? Infinity : READDIR_DEFAULT_IOS) : wraps ? Infinity : n;
  return { workload: { step, limit, bufferSize: 0 }, entries: (j) => entries[j]! };
}

function zero(): number {
  return 0;
}
