/**
 * migrate with many workers (processes, pods), which meet only in a queue
 * on the destination export (migrate-queue.ts):
 *
 *   worker 0   crawls the source, making the target's directories and
 *              queueing partitions as it goes (migrate-crawl.ts), then
 *              works like the others;
 *   each       claims a partition by one RENAME, copies it with the
 *              single-process copy (migrate-partition.ts), records it in
 *              done/ and drops its claim; renews its claims' leases every
 *              lease/3; takes over a claim whose lease ran out (its worker
 *              died: the copy is idempotent, so redoing half of it is safe);
 *   the last   the worker that finds nothing left but `final` claims it and
 *              runs the single-process migrate over the whole tree: it
 *              copies nothing the partitions did, sets every directory's
 *              mode and times deepest first (only correct once no file is
 *              added any more), removes stale partial files, applies
 *              --delete, and runs the verify pass.
 *
 * Why the last worker and not worker 0: worker 0 is the crawler and may be
 * the one that died; the final pass is a claim like the others, so if its
 * worker dies another takes it over. The others wait until it is done, so
 * every worker's exit means the run is finished (or this worker failed).
 *
 * Running the same run id again resumes: a dead crawl is redone (the same
 * partitions, only the missing ones queued), partitions in done/ are not
 * copied again, and a finished run does nothing.
 */
import { connect } from '../connect.js';
import type { NfsClient } from '../fs/client.js';
import { Beneath } from './beneath.js';
import { connectNearest, migrateClients, openTarget, type MigrateOptions, type MigrateResult } from './migrate.js';
import { crawl } from './migrate-crawl.js';
import { copyPartition, DirCache } from './migrate-partition.js';
import { FINAL, MigrateQueue, QUEUE_DIRNAME, checkRunId, type Claim, type CrawlRecord, type DoneRecord } from './migrate-queue.js';

/** Options of {@link migrateWorker}: which run and worker this is, the lease, partition limits, and the copy options of {@link migrate}. */
export interface WorkerOptions extends Pick<MigrateOptions, 'checksum' | 'mtimeWindowMs' | 'delete' | 'concurrency' | 'connect' | 'signal'> {
  /** Names the queue on the target (`.mountless-migrate/<runId>/`); every worker of one migration passes the same. */
  runId: string;
  /** How many workers share the migration. */
  workers: number;
  /** 0 … workers-1; worker 0 crawls. */
  worker: number;
  /** A claim not renewed for this long is taken over. Default 30 000 ms. */
  leaseMs?: number;
  /** How often an idle worker looks at the queue again. Default 500 ms. */
  pollMs?: number;
  /** Partition limits. Defaults 2000 entries, 4 GiB. */
  maxFiles?: number;
  /** Bytes per partition at most (a larger single file gets a partition of its own). */
  maxBytes?: number;
  /** Lines worth a log: claims taken over, claims lost, the crawl done. */
  onEvent?: ((line: string) => void) | undefined;
  /** Called as this worker finishes partitions (keep it cheap). */
  onProgress?: ((p: WorkerProgress) => void) | undefined;
}

/** Running counters of one worker, passed to `onProgress`. */
export interface WorkerProgress {
  /** Partitions this worker has copied and recorded. */
  partitions: number;
  /** Files in them. */
  files: number;
  /** Partitions waiting in the queue, when last listed. */
  queued?: number;
}

/** What one worker did. */
export interface WorkerResult {
  /** The run, as given. */
  runId: string;
  /** This worker's index. */
  worker: number;
  /** How many workers share the run. */
  workers: number;
  /** Set on worker 0 when it crawled in this run. */
  crawl?: CrawlRecord;
  /** Partitions this worker copied and recorded. */
  partitions: string[];
  /** Claims of dead workers this worker took over. */
  takenOver: string[];
  /** Claims this worker lost (its lease was not renewed in time and another took it). */
  lost: string[];
  /** Entries this worker copied, by kind, and file bytes. */
  copied: {
    /** Regular files. */
    files: number;
    /** Their bytes. */
    bytes: number;
    /** Symbolic links. */
    symlinks: number;
    /** Names linked to a file copied under another name. */
    hardLinks: number;
  };
  /** Entries already identical at the target. */
  unchanged: number;
  /** Entries the partition checks found wrong (then repaired by the final pass). */
  mismatches: number;
  /** The final pass (sync + verify), when this worker ran it; or, on a run that had finished before, its recorded result. */
  final?: MigrateResult;
  /** The run had finished before this worker started. */
  alreadyFinished: boolean;
  /** Wall time of this worker. */
  seconds: number;
}

/** Errors of a partition whose claim was lost: the copy stops, the new holder redoes it. */
class ClaimLost extends Error {
  constructor(readonly claim: string) {
    super(`claim ${claim} was taken over`);
    this.name = 'ClaimLost';
  }
}

/**
 * One worker of a migration shared by many processes or pods: connects to both
 * URLs, then runs {@link migrateWorkerClients}. Start it once per index (0 …
 * workers-1) with the same `runId`; a rerun resumes.
 * @throws RangeError for a bad run id or index; connection and NFS errors as {@link migrate}.
 */
export async function migrateWorker(srcUrl: string, dstUrl: string, opts: WorkerOptions): Promise<WorkerResult> {
  const srcNfs = await connect(srcUrl, opts.connect ?? {});
  let dstNfs: NfsClient | undefined;
  try {
    const nearest = await connectNearest(dstUrl, opts.connect ?? {});
    dstNfs = nearest.nfs;
    return await migrateWorkerClients(srcNfs, dstNfs, { ...opts, dstPath: nearest.missing, srcLabel: srcUrl, dstLabel: dstUrl });
  } finally {
    await srcNfs.close().catch(() => {});
    await dstNfs?.close().catch(() => {});
  }
}

/**
 * One worker over clients already connected: worker 0 crawls the source into
 * partitions queued on the target, every worker claims partitions by RENAME
 * and copies them, a dead worker's claims are taken over when its lease
 * expires, and the last worker runs the final sync and verify.
 * @throws RangeError for a bad run id or index; NFS errors of either side.
 */
export async function migrateWorkerClients(
  srcNfs: NfsClient,
  dstNfs: NfsClient,
  opts: WorkerOptions & { srcPath?: string; dstPath?: string; srcLabel?: string; dstLabel?: string },
): Promise<WorkerResult> {
  const t0 = performance.now();
  checkRunId(opts.runId);
  if (!Number.isInteger(opts.workers) || opts.workers < 1) throw new RangeError(`workers must be a positive integer, got ${opts.workers}`);
  if (!Number.isInteger(opts.worker) || opts.worker < 0 || opts.worker >= opts.workers) throw new RangeError(`worker index must be 0 … ${opts.workers - 1}, got ${opts.worker}`);
  const leaseMs = opts.leaseMs ?? 30_000;
  const pollMs = opts.pollMs ?? 500;
  const signal = opts.signal;
  const log = (s: string) => opts.onEvent?.(`worker ${opts.worker}: ${s}`);
  const src = await Beneath.open(srcNfs, opts.srcPath ?? '/');
  const dst = (await openTarget(dstNfs, opts.dstPath ?? '/', false)).tree;
  const q = await MigrateQueue.open(dst, opts.runId, opts.worker);
  const res: WorkerResult = {
    runId: opts.runId,
    worker: opts.worker,
    workers: opts.workers,
    partitions: [],
    takenOver: [],
    lost: [],
    copied: { files: 0, bytes: 0, symlinks: 0, hardLinks: 0 },
    unchanged: 0,
    mismatches: 0,
    alreadyFinished: false,
    seconds: 0,
  };
  const copyOpts = { checksum: !!opts.checksum, window: opts.mtimeWindowMs ?? 0, concurrency: opts.concurrency ?? 16 };
  const dirs = { src: new DirCache(src), dst: new DirCache(dst) };
  let filesSeen = 0;
  const progress = () => opts.onProgress?.({ partitions: res.partitions.length, files: filesSeen });

  /** Claims held now → the controller that stops their copy when the claim is lost. */
  const held = new Map<string, AbortController>();
  // The server's clock, read by the last heartbeat, advanced by the local monotonic clock since.
  let serverMs = await q.heartbeat();
  let serverAt = performance.now();
  const serverNow = () => serverMs + (performance.now() - serverAt);
  let renewing = false;
  const renew = async () => {
    serverMs = await q.heartbeat();
    serverAt = performance.now();
    for (const [name, ac] of held) if (!(await q.renew(name))) ac.abort(new ClaimLost(name));
  };
  const timer = setInterval(() => {
    if (renewing) return;
    renewing = true;
    renew()
      .catch((err: unknown) => log(`lease renewal failed (retried): ${(err as Error).message}`))
      .finally(() => (renewing = false));
  }, Math.max(50, Math.floor(leaseMs / 3)));
  timer.unref();

  /** Runs `work` under claim `name`; false when the claim was lost on the way (then nothing is recorded). */
  const underClaim = async (name: string, part: string, work: (signal: AbortSignal) => Promise<unknown>): Promise<boolean> => {
    const ac = new AbortController();
    held.set(name, ac);
    const s = signal ? AbortSignal.any([signal, ac.signal]) : ac.signal;
    try {
      const record = await work(s);
      if (ac.signal.aborted) throw ac.signal.reason;
      await q.finish(part, name, record);
      return true;
    } catch (err) {
      if (ac.signal.aborted && !signal?.aborted) {
        log(`lost ${part} to another worker (lease not renewed in time); it redoes the copy`);
        res.lost.push(part);
        return false;
      }
      throw err;
    } finally {
      held.delete(name);
    }
  };

  const runPartition = async (name: string, part: string): Promise<void> => {
    if (await q.isDone(part)) {
      // Its worker recorded it and died before dropping the claim.
      await q.release(name);
      return;
    }
    const p = await q.readClaimed(name);
    if (!p) {
      res.lost.push(part);
      return;
    }
    let rec: DoneRecord | undefined;
    const ok = await underClaim(name, part, async (s) => {
      rec = await copyPartition(src, dst, dirs, p, { ...copyOpts, worker: opts.worker, signal: s, onFile: () => void filesSeen++ });
      return rec;
    });
    if (!ok || !rec) return;
    res.partitions.push(part);
    res.copied.files += rec.copied.files;
    res.copied.bytes += rec.copied.bytes;
    res.copied.symlinks += rec.copied.symlinks;
    res.copied.hardLinks += rec.copied.hardLinks;
    res.unchanged += rec.unchanged;
    res.mismatches += rec.mismatches.length;
    progress();
  };

  const runFinal = async (name: string): Promise<void> => {
    log('every partition is done: the final sync and verify pass');
    await underClaim(name, FINAL, async (s) => {
      const r = await migrateClients(srcNfs, dstNfs, {
        ...copyOpts,
        mtimeWindowMs: copyOpts.window,
        delete: !!opts.delete,
        signal: s,
        scan: false,
        ignoreAtRoot: [QUEUE_DIRNAME],
        srcPath: opts.srcPath ?? '/',
        dstPath: opts.dstPath ?? '/',
        ...(opts.srcLabel !== undefined ? { srcLabel: opts.srcLabel } : {}),
        ...(opts.dstLabel !== undefined ? { dstLabel: opts.dstLabel } : {}),
      });
      res.final = r;
      return { id: FINAL, worker: opts.worker, finishedAt: new Date().toISOString(), result: r };
    });
  };

  /** Takes over (and runs) every claim whose lease ran out; returns the claims seen. */
  const takeOverExpired = async (): Promise<{ claims: Claim[]; tookOver: boolean }> => {
    const claims = await q.claims();
    const now = serverNow();
    let tookOver = false;
    for (const c of claims) {
      if (held.has(c.name) || now - c.leaseMs <= leaseMs) continue;
      const name = await q.takeOver(c);
      if (name === undefined) continue;
      log(`took over ${c.part} from worker ${c.worker} (lease ${((now - c.leaseMs) / 1000).toFixed(1)} s old)`);
      res.takenOver.push(c.part);
      tookOver = true;
      if (c.part === FINAL) await runFinal(name);
      else await runPartition(name, c.part);
    }
    return { claims, tookOver };
  };

  try {
    if (opts.worker === 0 && !(await q.crawlDone())) {
      log('crawling the source');
      res.crawl = await crawl(src, dst, q, { maxFiles: opts.maxFiles ?? 2000, maxBytes: opts.maxBytes ?? 4 * 2 ** 30, ignoreAtRoot: [QUEUE_DIRNAME], signal });
      log(`crawl done: ${res.crawl.files} files in ${res.crawl.partitions} partitions, ${res.crawl.dirs} directories`);
    }
    let first = true;
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      // crawl-done is read before todo/ is listed: when it exists, the listing is the whole queue.
      const crawled = (await q.crawlDone()) !== undefined;
      const todo = (await q.todo()).filter((n) => n !== FINAL).sort();
      let worked = false;
      // Start at a different place in the list for each worker, so they rarely race for the same name.
      const from = Math.floor((todo.length * opts.worker) / opts.workers);
      for (let i = 0; i < todo.length; i++) {
        const part = todo[(from + i) % todo.length]!;
        const name = await q.claim(part);
        if (name === undefined) continue;
        worked = true;
        await runPartition(name, part);
        // A dead worker's claim is taken over between partitions, not only once todo/ is empty.
        await takeOverExpired();
      }
      if (worked) {
        first = false;
        continue;
      }
      const { claims, tookOver } = await takeOverExpired();
      worked ||= tookOver;
      if (worked) {
        first = false;
        continue;
      }
      if (crawled && todo.length === 0 && claims.length === 0) {
        // todo/ was listed before claimed/: nothing but `final` there and no claim now means every partition is done.
        const name = (await q.todo()).includes(FINAL) ? await q.claim(FINAL) : undefined;
        if (name !== undefined) {
          await runFinal(name);
          first = false;
          continue;
        }
        if ((await q.todo()).length === 0 && (await q.claims()).length === 0) {
          if (first) {
            res.alreadyFinished = true;
            const rec = await q.doneRecord<{ result: MigrateResult }>(FINAL);
            if (rec) res.final = rec.result;
          }
          break;
        }
      }
      first = false;
      await new Promise((r) => setTimeout(r, pollMs));
    }
  } finally {
    clearInterval(timer);
  }
  res.seconds = (performance.now() - t0) / 1000;
  return res;
}
