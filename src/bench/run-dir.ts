import { hostname } from 'node:os';
import type { NfsClient } from '../fs/client.js';
import type { FioJson } from './fio-json.js';
import type { JobSpec } from './options.js';
import type { JobRecord } from './record.js';

/**
 * The directory a run of several workers meets in, on the export itself (no
 * pod-to-pod network needed):
 *
 *   /.mountless-bench/<run>/
 *     prepared.json        worker 0: the data file is laid out, the others may open it
 *     workers/<i>.json     worker i is ready (connected, jobs open): the barrier counts these
 *     start.json           worker 0, once all registered: the common start time (epoch ms)
 *     results/<i>.fio.json worker i's fio JSON (one entry per job)
 *     results/<i>.hist.json   worker i's raw histograms (JobRecord per job), what `bench report` merges
 *
 * Every file is written under a temporary name and renamed into place, so a
 * reader sees it whole or not at all.
 */
export const RUNS_ROOT = '/.mountless-bench';

export function runDir(runId: string): string {
  return `${RUNS_ROOT}/${runId}`;
}

export interface Registration {
  worker: number;
  workers: number;
  host: string;
  pid: number;
  registeredAt: string;
}

export interface StartFile {
  /** Epoch ms at which every worker starts its jobs. */
  startAt: number;
  chosenBy: number;
  workers: number;
}

/** What a worker leaves for `bench report`: its jobs' raw results, and the job they ran. */
export interface WorkerResultFile {
  worker: number;
  workers: number;
  host: string;
  spec: JobSpec;
  records: JobRecord[];
  /** Whole process of that worker: CPU µs and wall ns. */
  process?: { cpuUs: number; wallNs: number };
}

export class RunDir {
  readonly dir: string;
  constructor(
    readonly nfs: NfsClient,
    readonly runId: string,
  ) {
    this.dir = runDir(runId);
  }

  async create(): Promise<void> {
    await this.nfs.mkdir(`${this.dir}/workers`, { recursive: true });
    await this.nfs.mkdir(`${this.dir}/results`, { recursive: true });
  }

  /** Writes `name` (relative to the run directory) atomically. */
  async put(name: string, value: unknown): Promise<void> {
    const final = `${this.dir}/${name}`;
    const tmp = `${final}.tmp-${hostname()}-${process.pid}`;
    await this.nfs.writeFile(tmp, JSON.stringify(value, null, 2) + '\n');
    await this.nfs.rename(tmp, final);
  }

  /** The parsed JSON file, or undefined when it is not there (yet). */
  async get<T>(name: string): Promise<T | undefined> {
    try {
      return JSON.parse(String(await this.nfs.readFile(`${this.dir}/${name}`, 'utf8'))) as T;
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** Indices of the workers whose `<i><suffix>` exists in `sub` (workers/ or results/). */
  async indices(sub: 'workers' | 'results', suffix: string): Promise<Set<number>> {
    let names: string[];
    try {
      names = (await this.nfs.readdir(`${this.dir}/${sub}`)) as string[];
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return new Set();
      throw err;
    }
    const out = new Set<number>();
    const re = new RegExp(`^(\\d+)${suffix.replace(/\./g, '\\.')}$`);
    for (const n of names) {
      const m = re.exec(n);
      if (m) out.add(Number(m[1]));
    }
    return out;
  }

  register(r: Registration): Promise<void> {
    return this.put(`workers/${r.worker}.json`, r);
  }

  async writeResults(worker: number, fio: FioJson, hist: WorkerResultFile): Promise<void> {
    await this.put(`results/${worker}.fio.json`, fio);
    await this.put(`results/${worker}.hist.json`, hist);
  }
}

/** 0 … n-1 minus the present ones. */
export function missing(n: number, present: Set<number>): number[] {
  return Array.from({ length: n }, (_, i) => i).filter((i) => !present.has(i));
}
