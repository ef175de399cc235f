import { randomFillSync } from 'node:crypto';
import { constants } from 'node:fs';
import type { NfsClient } from '../fs/client.js';
import { writeKept, type FileHandle } from '../fs/file-handle.js';
import type { Workload, WorkerSlot } from './engine.js';
import type { JobSpec } from './options.js';

const O_DIRECT = constants.O_DIRECT ?? 0o40000;

/**
 * read/write/randread/randwrite/randrw over one data file, through the public
 * FileHandle API: positional `read(buf, 0, bs, pos)`, and writes as FileHandle.write's
 * positional form with the buffer kept by reference, as writeFile's is (writeKept).
 *
 * Every job opens its own FileHandle (job j on client j mod clients). Sequential
 * jobs each keep a cursor from offset 0 that wraps at `size` (fio's shared
 * file with numjobs: every job starts at 0); random jobs pick block-aligned
 * offsets uniformly (fio's norandommap). Without --time_based a job ends
 * after `size / bs` operations (or --number_ios), as fio's does after `size`
 * bytes.
 */
export async function openIoWorkload(spec: JobSpec, clients: NfsClient[], jobCount: number): Promise<{ workload: Workload; close(): Promise<void> }> {
  const rw = spec.rw;
  const writes = rw === 'write' || rw === 'randwrite' || rw === 'randrw';
  const handles: FileHandle[] = [];
  try {
    // --direct=1 opens with O_DIRECT, as fio does: no readahead (the caches are off through noac).
    const flags = (writes ? constants.O_RDWR : constants.O_RDONLY) | (spec.direct ? O_DIRECT : 0);
    for (let j = 0; j < jobCount; j++) handles.push(await clients[j % clients.length]!.open(spec.filename, flags));
  } catch (err) {
    await Promise.allSettled(handles.map((h) => h.close()));
    throw err;
  }
  const blocks = Math.floor(spec.size / spec.bs);
  const bs = spec.bs;
  const cursors = new Array<number>(jobCount).fill(0);
  // Written data: random bytes, one buffer per job, shared by its workers (writes only read it).
  const wbufs = handles.map(() => (writes ? randomFillSync(Buffer.allocUnsafe(bs)) : Buffer.alloc(0)));
  const mix = spec.rwmixread / 100;
  const random = rw.startsWith('rand');

  const step = (slot: WorkerSlot): Promise<number> => {
    const j = slot.job;
    let block: number;
    if (random) block = Math.floor(Math.random() * blocks);
    else {
      block = cursors[j]!;
      cursors[j] = block + 1 === blocks ? 0 : block + 1;
    }
    const write = rw === 'write' || rw === 'randwrite' || (rw === 'randrw' && Math.random() >= mix);
    slot.write = write;
    const fh = handles[j]!;
    // The write buffers are never changed, so the handle may keep them for re-sending rather than copy them (writeKept).
    if (write) return writeKept(fh, wbufs[j]!, block * bs);
    return fh.read(slot.buf, 0, bs, block * bs).then(readBytes);
  };

  const limit = spec.numberIos > 0 ? spec.numberIos : spec.timeBased ? Infinity : blocks;
  return {
    workload: { step, limit, bufferSize: bs },
    close: async () => {
      const r = await Promise.allSettled(handles.map((h) => h.close()));
      const bad = r.find((x): x is PromiseRejectedResult => x.status === 'rejected');
      if (bad) throw bad.reason;
    },
  };
}

function readBytes(r: { bytesRead: number }): number {
  return r.bytesRead;
}
