import { randomFillSync } from 'node:crypto';
import { posix } from 'node:path';
import type { NfsClient } from '../fs/client.js';
import type { JobSpec } from './options.js';

/** Layout writes this much per call, LAYOUT_DEPTH calls at a time. */
const LAYOUT_CHUNK = 8 * 2 ** 20;
const LAYOUT_DEPTH = 4;
/** Metadata setup (creating or removing the tree) keeps this many calls in flight. */
const SETUP_DEPTH = 64;

/**
 * Makes `spec.filename` at least `spec.size` bytes long, as fio lays out its
 * files: missing directories are made, the file is created when missing, and
 * the part past its current end is written sequentially with random data.
 * Returns the bytes written (0 when the file was already long enough).
 */
export async function layOutFile(nfs: NfsClient, spec: JobSpec, log: (s: string) => void): Promise<number> {
  const path = spec.filename;
  let have = 0;
  try {
    const st = await nfs.stat(path);
    if (!st.isFile()) throw new Error(`${path} exists and is not a regular file`);
    have = st.size;
  } catch (err) {
    if ((err as { code?: string }).code !== 'ENOENT') throw err;
    await nfs.mkdir(posix.dirname(path), { recursive: true });
  }
  if (have >= spec.size) return 0;
  log(`laying out ${path}: ${((spec.size - have) / 2 ** 20).toFixed(0)} MiB`);
  const fh = await nfs.open(path, have > 0 ? 'r+' : 'w');
  try {
    const chunk = randomFillSync(Buffer.allocUnsafe(LAYOUT_CHUNK));
    let next = have;
    const writer = async () => {
      while (next < spec.size) {
        const at = next;
        const n = Math.min(LAYOUT_CHUNK, spec.size - at);
        next += n;
        await fh.write(chunk, 0, n, at);
      }
    };
    await Promise.all(Array.from({ length: LAYOUT_DEPTH }, writer));
  } finally {
    await fh.close();
  }
  return spec.size - have;
}

/** Global job numbers 0 … numjobs-1, or those of worker `worker` in a run of several (worker × numjobs + j). */
export function allJobs(spec: JobSpec, worker = 0): number[] {
  return Array.from({ length: spec.numjobs }, (_, j) => worker * spec.numjobs + j);
}

/** Directory of job `j`'s part of a metadata tree. */
export function jobDir(spec: JobSpec, j: number): string {
  return `${spec.filename.replace(/\/+$/, '')}/j${j}`;
}

/** Entry `i` of job `j`: files f<i> (stat, create, unlink, readdir), directories d<i> (mkdir). */
export function entryPath(spec: JobSpec, j: number, i: number): string {
  return `${jobDir(spec, j)}/${spec.rw === 'mkdir' ? 'd' : 'f'}${i}`;
}

async function pool(n: number, depth: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(depth, n) }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

/**
 * Puts the tree in the state the workload starts from, untimed: the job
 * directories exist; stat, readdir and unlink find their `nrfiles` files;
 * create finds none of them; mkdir finds none of its directories.
 */
export async function prepareTree(clients: NfsClient[], spec: JobSpec, log: (s: string) => void, jobs = allJobs(spec)): Promise<void> {
  for (const j of jobs) {
    const nfs = clients[j % clients.length]!;
    const dir = jobDir(spec, j);
    await nfs.mkdir(dir, { recursive: true });
    const present = new Set(await nfs.readdir(dir));
    const want = spec.rw === 'mkdir' ? 'd' : 'f';
    const names = Array.from({ length: spec.nrfiles }, (_, i) => `${want}${i}`);
    if (spec.rw === 'create' || spec.rw === 'mkdir') {
      const gone = names.filter((n) => present.has(n));
      if (gone.length) log(`removing ${gone.length} entries from ${dir}`);
      await pool(gone.length, SETUP_DEPTH, (i) => (spec.rw === 'mkdir' ? nfs.rmdir(`${dir}/${gone[i]}`) : nfs.unlink(`${dir}/${gone[i]}`)));
    } else {
      const missing = names.filter((n) => !present.has(n));
      if (missing.length) log(`creating ${missing.length} files in ${dir}`);
      await pool(missing.length, SETUP_DEPTH, (i) => nfs.writeFile(`${dir}/${missing[i]}`, ''));
    }
  }
}

/** Undoes what a mkdir run made, so that the tree holds files only. */
export async function cleanupTree(clients: NfsClient[], spec: JobSpec, jobs = allJobs(spec)): Promise<void> {
  if (spec.rw !== 'mkdir') return;
  for (const j of jobs) {
    const nfs = clients[j % clients.length]!;
    const dir = jobDir(spec, j);
    const names = (await nfs.readdir(dir)).filter((n) => /^d\d+$/.test(n));
    await pool(names.length, SETUP_DEPTH, (i) => nfs.rmdir(`${dir}/${names[i]}`));
  }
}
