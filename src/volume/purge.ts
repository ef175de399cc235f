/**
 * Removes a directory tree bottom-up with bounded parallelism, by handle
 * (see beneath.ts), so it can be pointed at a tenant's tree safely.
 *
 *   listers (≤ `listers` at once) READDIRPLUS one directory each, popping
 *   directories from a LIFO stack (depth first keeps the frontier small);
 *   non-directories go to the pool as REMOVE(dir, name) tasks (≤
 *   `concurrency` in flight), subdirectories onto the stack;
 *   a directory whose listing finished and whose children are all gone gets
 *   an RMDIR task; when that succeeds its parent has one child less.
 *
 * Each directory counts its outstanding children in `pending` (plus one
 * while it is being listed), so "all children gone" is `pending === 0`.
 * A child that could not be removed marks its directory `blocked`: blocked
 * directories are not RMDIR'ed and block their parents in turn, so a failure
 * leaves the path to it in place and everything else removed.
 *
 * What counts as done and what is retried:
 * - ENOENT / ESTALE on any call: someone else removed it; counted in
 *   `alreadyGone`, not an error.
 * - RMDIR answering ENOTEMPTY / EEXIST: new entries appeared (a client still
 *   writing, a '.nfsXXXX' file its kernel made when an open file was
 *   unlinked, or entries a READDIR pass missed while the directory changed):
 *   the directory is listed again after a backoff, up to `retries` times.
 * - '.nfsXXXX' files are removed like any other (the server does not know
 *   they are special) and counted in `sillyRenamed`.
 * - '.snapshot' directories (read-only filer snapshots) and directories on
 *   another filesystem (a different fsid: a mount or junction below) are
 *   never entered: listed in `skipped`, and they block their parent.
 * Everything else that fails is listed in `failed` with its errno code.
 */
import { AbortError } from '../errors.js';
import type { FileHandleId } from '../fs/backend.js';
import { errnoCode, joinPath, type Beneath, type Node } from './beneath.js';
import { isSillyRename, SNAPSHOT_DIRNAME } from './names.js';
import { Pool } from './pool.js';

/** How a tree is removed (delete, purgeTrash): parallelism and retries. */
export interface PurgeOptions {
  /** REMOVE/RMDIR calls in flight. Default 64. */
  concurrency?: number;
  /** Directories listed at once. Default 4. */
  listers?: number;
  /** Times a directory is listed again when RMDIR finds it not empty. Default 5. */
  retries?: number;
  /** First backoff before listing again, doubled each time (capped at 2 s). Default 100 ms. */
  retryDelayMs?: number;
  /** Aborts the removal; what is left stays in the trash for the next run. */
  signal?: AbortSignal | undefined;
  /** Called after every removal with the running counters (keep it cheap). */
  onProgress?: ((s: PurgeStats) => void) | undefined;
}

/** Counters of a tree removal. */
export interface PurgeStats {
  /** Non-directories removed. */
  files: number;
  /** Directories removed (the top one included). */
  dirs: number;
  /** Entries already gone when we got to them (ENOENT, ESTALE). */
  alreadyGone: number;
  /** '.nfsXXXX' silly-renamed files met and removed. */
  sillyRenamed: number;
  /** Directories listed again after RMDIR found them not empty. */
  notEmptyRetries: number;
  /** Directories left alone: '.snapshot' and other filesystems. */
  skipped: string[];
  /** What could not be removed, with the errno code. */
  failed: { path: string; code: string }[];
}

export function emptyStats(): PurgeStats {
  return { files: 0, dirs: 0, alreadyGone: 0, sillyRenamed: 0, notEmptyRetries: 0, skipped: [], failed: [] };
}

/** Adds `b`'s counters into `a`. */
export function addStats(a: PurgeStats, b: PurgeStats): void {
  a.files += b.files;
  a.dirs += b.dirs;
  a.alreadyGone += b.alreadyGone;
  a.sillyRenamed += b.sillyRenamed;
  a.notEmptyRetries += b.notEmptyRetries;
  a.skipped.push(...b.skipped);
  a.failed.push(...b.failed);
}

interface DirTask {
  parent: DirTask | undefined;
  parentFh: FileHandleId;
  name: string;
  node: Node;
  /** Children not yet removed, plus one while this directory is being listed. */
  pending: number;
  /** Something beneath stays: do not RMDIR. */
  blocked: boolean;
  /** Listing it said it no longer exists: nothing to RMDIR. */
  gone: boolean;
  retries: number;
}

const GONE = new Set(['ENOENT', 'ESTALE']);

/**
 * Removes the directory `name` in `parent` and everything beneath it.
 * `node` is that directory as looked up (its fsid bounds the walk). Resolves
 * with the counters; check `failed` and `skipped` for what stayed. Rejects
 * only when aborted (after the calls in flight settle), leaving the rest of
 * the tree for a later run.
 */
export function purgeTree(t: Beneath, parent: Node, name: string, node: Node, opts: PurgeOptions = {}): Promise<PurgeStats> {
  const stats = emptyStats();
  const listers = opts.listers ?? 4;
  const maxRetries = opts.retries ?? 5;
  const baseDelay = opts.retryDelayMs ?? 100;
  const signal = opts.signal;
  const pool = new Pool(opts.concurrency ?? 64, { signal });
  const fsid = node.attrs.fsid;
  const stack: DirTask[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const listing = new Set<Promise<void>>();
  let finished = false;
  const b = t.b;

  return new Promise<PurgeStats>((resolve, reject) => {
    const progress = () => opts.onProgress?.(stats);

    const fail = (path: string, err: unknown) => {
      stats.failed.push({ path, code: errnoCode(err) ?? 'EIO' });
    };

    const finish = (err?: unknown) => {
      if (finished) return;
      finished = true;
      pool.close();
      for (const tm of timers) clearTimeout(tm);
      signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(stats);
    };

    /** The pool stops on its own (it has the signal); reject once the calls in flight settled. */
    const onAbort = () => {
      for (const tm of timers) clearTimeout(tm);
      timers.clear();
      stack.length = 0;
      void Promise.allSettled([pool.idle(), ...listing]).then(() => finish(new AbortError(undefined, { cause: signal!.reason })));
    };
    signal?.addEventListener('abort', onAbort, { once: true });

    const childDone = (d: DirTask) => {
      if (--d.pending === 0) dirComplete(d);
    };

    /** `d` is empty as far as we know: RMDIR it, or pass its blockage up. */
    const dirComplete = (d: DirTask) => {
      if (signal?.aborted) return;
      if (d.gone) return up(d, true);
      if (d.blocked) return up(d, false);
      pool.add(async () => {
        try {
          await b.rmdir(d.parentFh, d.name);
          stats.dirs++;
        } catch (err) {
          const code = errnoCode(err);
          if (code && GONE.has(code)) stats.alreadyGone++;
          else if ((code === 'ENOTEMPTY' || code === 'EEXIST') && d.retries < maxRetries) {
            d.retries++;
            stats.notEmptyRetries++;
            const tm = setTimeout(
              () => {
                timers.delete(tm);
                stack.push(d);
                pumpListers();
              },
              Math.min(2000, baseDelay * 2 ** (d.retries - 1)),
            );
            timers.add(tm);
            return;
          } else {
            fail(d.node.path, err);
            return up(d, false);
          }
        }
        progress();
        up(d, true);
      });
    };

    /** `d` is finished (removed, or left in place when `removed` is false). */
    const up = (d: DirTask, removed: boolean) => {
      if (!d.parent) return finish();
      if (!removed) d.parent.blocked = true;
      childDone(d.parent);
    };

    const list = async (d: DirTask) => {
      d.pending = 1;
      try {
        for await (const batch of t.entries(d.node)) {
          for (const e of batch) {
            if (signal?.aborted) return;
            const path = joinPath(d.node.path, e.name);
            if (e.attrs.kind === 'directory') {
              if (e.name === SNAPSHOT_DIRNAME || e.attrs.fsid !== fsid) {
                stats.skipped.push(path);
                d.blocked = true;
                continue;
              }
              d.pending++;
              stack.push({ parent: d, parentFh: d.node.fh, name: e.name, node: { fh: e.fh, attrs: e.attrs, path }, pending: 0, blocked: false, gone: false, retries: 0 });
              continue;
            }
            d.pending++;
            await pool.push(async () => {
              try {
                await b.remove(d.node.fh, e.name);
                stats.files++;
                if (isSillyRename(e.name)) stats.sillyRenamed++;
              } catch (err) {
                const code = errnoCode(err);
                if (code && GONE.has(code)) stats.alreadyGone++;
                else {
                  fail(path, err);
                  d.blocked = true;
                }
              }
              progress();
              childDone(d);
            });
          }
          pumpListers();
        }
      } catch (err) {
        if (signal?.aborted) return;
        const code = errnoCode(err);
        if (code && GONE.has(code)) {
          // The directory itself went away under us; children already handed out still finish first.
          stats.alreadyGone++;
          d.gone = true;
        } else {
          fail(d.node.path, err);
          d.blocked = true;
        }
      }
      childDone(d);
    };

    const pumpListers = () => {
      while (!signal?.aborted && listing.size < listers && stack.length > 0) {
        const p: Promise<void> = list(stack.pop()!).finally(() => {
          listing.delete(p);
          pumpListers();
        });
        listing.add(p);
      }
    };

    if (signal?.aborted) return finish(new AbortError(undefined, { cause: signal.reason }));
    stack.push({ parent: undefined, parentFh: parent.fh, name, node, pending: 0, blocked: false, gone: false, retries: 0 });
    pumpListers();
  });
}
