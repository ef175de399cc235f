/**
 * The work queue of a many-worker migrate, kept on the destination export
 * itself (workers need no network between them, only the NAS):
 *
 *   DST/.mountless-migrate/<run>/
 *     tmp/                    partitions and records being written (then RENAMEd into place)
 *     todo/p000123            a partition waiting for a worker (JSON: source directories and names)
 *     todo/final              the final sync + verify; claimable only once nothing else is left
 *     claimed/p000123.<w>.<t> worker w (process token t) holds it; the file's mtime is its lease
 *     done/p000123            what the copy did: counts, bytes, a digest of the verified entries
 *     workers/<w>             heartbeat: its mtime, set to the server's time, is the server's "now"
 *     crawl-done              worker 0 listed the whole source; no partition is added after it
 *
 * Every transition is one RENAME, which the server performs atomically, so
 * of two workers renaming the same name exactly one succeeds and the other
 * gets NFS3ERR_NOENT. A partition only moves forward, todo → claimed →
 * done: a claim whose lease ran out is taken over by renaming it to the
 * new holder's name, never put back into todo/. That keeps the end of the
 * run decidable by two listings: once crawl-done exists and todo/ holds
 * nothing but `final`, a claimed/ listing taken after it that is empty
 * means every partition is done (whatever was not done was in claimed/ and
 * stays there until it is).
 *
 * Leases are measured in the server's clock only (SETATTR mtime to server
 * time; the age is the heartbeat's mtime minus the claim's), so pods with
 * skewed clocks agree on what expired.
 */
import { randomBytes } from 'node:crypto';
import type { Attrs } from '../fs/backend.js';
import { toFsError } from '../errors.js';
import { errnoCode, joinPath, type Beneath, type Node } from './beneath.js';
import { listAll } from './migrate-copy.js';

export const QUEUE_DIRNAME = '.mountless-migrate';
export const FINAL = 'final';
const CRAWL_DONE = 'crawl-done';

/** A run id becomes a directory name: keep it to a safe alphabet. */
export function checkRunId(id: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(id)) throw new RangeError(`run id must be 1-100 of [A-Za-z0-9._-] (not starting with . or -), got '${id}'`);
  return id;
}

/** The source entries a worker copies: non-directories, grouped by their directory (relative to the source root, '' for it). */
export interface Partition {
  id: string;
  dirs: PartitionDir[];
  files: number;
  bytes: number;
}

export interface PartitionDir {
  path: string;
  names: string[];
  /** The chunk holds every non-directory of the directory the crawl put in partitions: list it rather than LOOKUP each name. */
  whole: boolean;
}

export interface DoneRecord {
  id: string;
  worker: number;
  entries: number;
  files: number;
  bytes: number;
  copied: { files: number; bytes: number; symlinks: number; hardLinks: number };
  unchanged: number;
  /** Entries the crawl listed that were gone when the partition was copied (the final pass settles them). */
  vanished: number;
  /** Entries not copied and why (devices, names the target refuses). */
  unsupported: { path: string; why: string }[];
  /** Entries whose target did not match the source after the copy (the final pass repairs them). */
  mismatches: { path: string; what: string }[];
  /** sha256 over the sorted lines "path kind size mtime mode uid:gid" of the target entries, as verified. */
  digest: string;
  seconds: number;
  finishedAt: string;
}

/** What the crawl of worker 0 queued, recorded in the queue's `crawl-done` marker. */
export interface CrawlRecord {
  /** Partitions queued. */
  partitions: number;
  /** Files in them. */
  files: number;
  /** Their bytes. */
  bytes: number;
  /** Directories made at the target as the crawl went. */
  dirs: number;
  /** Wall time of the crawl. */
  seconds: number;
  /** When it ended (ISO 8601). */
  finishedAt: string;
}

export interface Claim {
  /** The name in claimed/. */
  name: string;
  part: string;
  worker: number;
  /** Server time of the last renewal, ms since the epoch. */
  leaseMs: number;
}

const ms = (a: Attrs) => a.mtime.sec * 1000 + a.mtime.nsec / 1e6;

export class MigrateQueue {
  /** This process's token in its claims' names: a restarted pod with the same index is another holder. */
  readonly token = randomBytes(3).toString('hex');
  private tmpSeq = 0;

  private constructor(
    readonly t: Beneath,
    readonly worker: number,
    readonly run: Node,
    private readonly sub: Record<'tmp' | 'todo' | 'claimed' | 'done' | 'workers', Node>,
  ) {}

  /** Opens (creating what is missing, as every worker may be first) the run's queue under the target tree's root. */
  static async open(dst: Beneath, runId: string, worker: number): Promise<MigrateQueue> {
    const base = await dst.walk([QUEUE_DIRNAME, checkRunId(runId)], { mode: 0o700 });
    const run = base[base.length - 1]!;
    const sub = {} as Record<'tmp' | 'todo' | 'claimed' | 'done' | 'workers', Node>;
    for (const name of ['tmp', 'todo', 'claimed', 'done', 'workers'] as const) {
      const w = await dst.walk([QUEUE_DIRNAME, runId, name], { mode: 0o700 });
      sub[name] = w[w.length - 1]!;
    }
    return new MigrateQueue(dst, worker, run, sub);
  }

  claimName(part: string): string {
    return `${part}.${this.worker}.${this.token}`;
  }

  /** Writes `value` as JSON to tmp/ and RENAMEs it to `dir`/`name` (replacing what is there): a reader sees it whole or not at all. */
  private async put(dir: Node, name: string, value: unknown): Promise<void> {
    const tmp = `${name}.${this.worker}.${this.token}.${this.tmpSeq++}`;
    await this.t.writeSmall(this.sub.tmp, tmp, Buffer.from(JSON.stringify(value) + '\n'), { mode: 0o600 });
    await this.t.call('rename', joinPath(dir.path, name), () => this.t.b.rename(this.sub.tmp.fh, tmp, dir.fh, name));
  }

  private async get<T>(dir: Node, name: string): Promise<T | undefined> {
    const n = await this.t.lookup(dir, name);
    if (!n) return undefined;
    try {
      return JSON.parse((await this.t.readSmall(n, 64 * 1024 * 1024)).toString('utf8')) as T;
    } catch (err) {
      // Renamed away (claimed, taken over) between the LOOKUP and the READ: the handle went stale.
      if (errnoCode(err) === 'ESTALE' || errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    }
  }

  private async names(dir: Node): Promise<string[]> {
    return (await listAll(this.t, dir)).map((e) => e.name);
  }

  addPartition(p: Partition): Promise<void> {
    return this.put(this.sub.todo, p.id, p);
  }

  addFinal(): Promise<void> {
    return this.put(this.sub.todo, FINAL, { id: FINAL });
  }

  async crawlDone(): Promise<CrawlRecord | undefined> {
    return this.get<CrawlRecord>(this.run, CRAWL_DONE);
  }

  markCrawlDone(r: CrawlRecord): Promise<void> {
    return this.put(this.run, CRAWL_DONE, r);
  }

  todo(): Promise<string[]> {
    return this.names(this.sub.todo);
  }

  done(): Promise<string[]> {
    return this.names(this.sub.done);
  }

  async isDone(part: string): Promise<boolean> {
    return (await this.t.lookup(this.sub.done, part)) !== undefined;
  }

  doneRecord<T = DoneRecord>(part: string): Promise<T | undefined> {
    return this.get<T>(this.sub.done, part);
  }

  /** Every claim with its lease time (READDIRPLUS attributes, fresh from the server). */
  async claims(): Promise<Claim[]> {
    const out: Claim[] = [];
    for (const e of await listAll(this.t, this.sub.claimed)) {
      const m = /^([^.]+)\.(\d+)\.[0-9a-f]+$/.exec(e.name);
      if (m) out.push({ name: e.name, part: m[1]!, worker: Number(m[2]), leaseMs: ms(e.attrs) });
    }
    return out;
  }

  /** Touches workers/<w> with the server's time and returns that time (ms): the clock leases are measured in. */
  async heartbeat(): Promise<number> {
    const name = String(this.worker);
    let n = await this.t.lookup(this.sub.workers, name);
    if (!n) {
      try {
        n = await this.t.writeSmall(this.sub.workers, name, Buffer.alloc(0), { mode: 0o600 });
      } catch (err) {
        if (errnoCode(err) !== 'EEXIST') throw err;
        n = (await this.t.lookup(this.sub.workers, name))!;
      }
    }
    const fh = n.fh;
    const after = await this.t.call('utime', n.path, () => this.t.b.setattr(fh, { mtime: 'server' }));
    return ms(after ?? (await this.t.call('stat', n.path, () => this.t.b.getattr(fh, { fresh: true }))));
  }

  /**
   * Takes todo/`part` by one RENAME to claimed/; false when another worker
   * won it (NFS3ERR_NOENT). The lease is set first, on the file still in
   * todo/: the RENAME keeps the mtime, and a claim must never appear with
   * the old time of a partition that waited in todo/ (others would take it
   * over at once).
   */
  async claim(part: string): Promise<string | undefined> {
    const n = await this.t.lookup(this.sub.todo, part);
    if (!n) return undefined;
    return this.move(this.sub.todo, part, n, this.claimName(part));
  }

  /** Takes over `c`, whose lease ran out, by one RENAME to this worker's name; undefined when another worker won it. */
  takeOver(c: Claim): Promise<string | undefined> {
    return this.t.lookup(this.sub.claimed, c.name).then((n) => (n ? this.move(this.sub.claimed, c.name, n, this.claimName(c.part)) : undefined));
  }

  private async move(from: Node, name: string, n: Node, to: string): Promise<string | undefined> {
    try {
      await this.t.b.setattr(n.fh, { mtime: 'server' });
      await this.t.b.rename(from.fh, name, this.sub.claimed.fh, to);
      return to;
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'ESTALE') return undefined;
      throw toFsError(err, 'rename', joinPath(from.path, name));
    }
  }

  /** Renews the lease of claimed/`name`, by name (a handle would follow the file to another holder); false when it is no longer ours. */
  async renew(name: string): Promise<boolean> {
    const n = await this.t.lookup(this.sub.claimed, name);
    if (!n) return false;
    try {
      await this.t.b.setattr(n.fh, { mtime: 'server' });
      return true;
    } catch (err) {
      if (errnoCode(err) === 'ESTALE' || errnoCode(err) === 'ENOENT') return false;
      throw toFsError(err, 'utime', n.path);
    }
  }

  readClaimed<T = Partition>(name: string): Promise<T | undefined> {
    return this.get<T>(this.sub.claimed, name);
  }

  /** Records `part` as done, then drops the claim (already gone if another worker took it over: both wrote the same). */
  async finish(part: string, claim: string, record: unknown): Promise<void> {
    await this.put(this.sub.done, part, record);
    await this.release(claim);
  }

  async release(claim: string): Promise<void> {
    try {
      await this.t.b.remove(this.sub.claimed.fh, claim);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw toFsError(err, 'unlink', joinPath(this.sub.claimed.path, claim));
    }
  }

  /** Names already queued, held or done (a resumed crawl writes only the others). */
  async known(): Promise<Set<string>> {
    const out = new Set<string>([...(await this.todo()), ...(await this.done())]);
    for (const c of await this.claims()) out.add(c.part);
    return out;
  }
}
