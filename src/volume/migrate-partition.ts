/**
 * One partition of a many-worker migrate: its entries brought to the target
 * with the same copy as the single-process migrate (EntryCopier), then
 * checked there (kind, size, mtime, mode, owner, hard links), and a digest
 * of what was checked for done/.
 *
 * A directory the partition holds whole is listed (READDIRPLUS) on both
 * sides; a slice of a larger directory is looked up name by name, so a
 * directory of millions of entries split over many partitions is never
 * listed once per partition.
 */
import { createHash } from 'node:crypto';
import { type Beneath, type Entry, type Node } from './beneath.js';
import { EntryCopier, emptyTally, listAll } from './migrate-copy.js';
import type { DoneRecord, Partition, PartitionDir } from './migrate-queue.js';
import { Pool } from './pool.js';

export interface PartitionCopyOptions {
  worker: number;
  checksum: boolean;
  window: number;
  concurrency: number;
  signal?: AbortSignal | undefined;
  onFile?: (() => void) | undefined;
}

/** Directories by relative path, shared by the partitions one worker copies (most are near each other in the tree). */
export class DirCache {
  private readonly map = new Map<string, Promise<Node>>();
  constructor(readonly t: Beneath) {}

  at(rel: string): Promise<Node> {
    let p = this.map.get(rel);
    if (!p) {
      if (this.map.size > 10_000) this.map.clear();
      p = this.t.walk(rel === '' ? [] : rel.split('/')).then((nodes) => nodes[nodes.length - 1]!);
      p.catch(() => this.map.delete(rel));
      this.map.set(rel, p);
    }
    return p;
  }
}

const LOOKUPS_IN_FLIGHT = 32;

async function entriesOf(t: Beneath, dir: Node, c: PartitionDir): Promise<Map<string, Entry>> {
  if (c.whole) {
    const want = new Set(c.names);
    return new Map((await listAll(t, dir)).filter((e) => want.has(e.name)).map((e) => [e.name, e]));
  }
  const out = new Map<string, Entry>();
  for (let i = 0; i < c.names.length; i += LOOKUPS_IN_FLIGHT) {
    const batch = c.names.slice(i, i + LOOKUPS_IN_FLIGHT);
    const got = await Promise.all(batch.map((n) => t.lookup(dir, n)));
    got.forEach((n, j) => n && out.set(batch[j]!, { name: batch[j]!, fh: n.fh, attrs: n.attrs }));
  }
  return out;
}

export async function copyPartition(src: Beneath, dst: Beneath, dirs: { src: DirCache; dst: DirCache }, p: Partition, o: PartitionCopyOptions): Promise<DoneRecord> {
  const t0 = performance.now();
  const tally = emptyTally();
  const prog = { filesCopied: 0, bytesCopied: 0, filesSkipped: 0, bytesSkipped: 0 };
  const pool = new Pool(o.concurrency, { signal: o.signal, highWater: 2 * o.concurrency });
  const copier = new EntryCopier(src, dst, pool, tally, prog, () => o.onFile?.(), { checksum: o.checksum, window: o.window, dryRun: false });
  const checks: { c: PartitionDir; d: Node; s: Map<string, Entry> }[] = [];
  let vanished = 0;
  try {
    for (const c of p.dirs) {
      if (o.signal?.aborted) throw o.signal.reason;
      if (pool.stopped) await pool.idle();
      const [sDir, dDir] = await Promise.all([dirs.src.at(c.path), dirs.dst.at(c.path)]);
      const [se, de] = await Promise.all([entriesOf(src, sDir, c), entriesOf(dst, dDir, c)]);
      for (const name of c.names) {
        const e = se.get(name);
        // Gone, or now a directory, since the crawl: the final pass settles it.
        if (!e || e.attrs.kind === 'directory') {
          vanished++;
          se.delete(name);
          continue;
        }
        await copier.entry(sDir, dDir, e, de.get(name), c.path ? `${c.path}/${name}` : name);
      }
      checks.push({ c, d: dDir, s: se });
    }
    await pool.idle();
  } catch (err) {
    await pool.idle().catch(() => {});
    throw err;
  } finally {
    pool.close();
  }

  // The check: what the target has now, against the source's attributes as copied.
  const mismatches: { path: string; what: string }[] = [];
  const lines: string[] = [];
  const linkTo = new Map<bigint, bigint>();
  for (const { c, d, s } of checks) {
    const de = await entriesOf(dst, d, c);
    for (const [name, e] of s) {
      const crel = c.path ? `${c.path}/${name}` : name;
      const a = e.attrs;
      const b = de.get(name)?.attrs;
      if (tally.unsupported.some((u) => u.path === crel)) continue;
      if (!b) {
        mismatches.push({ path: crel, what: 'missing at the target' });
        continue;
      }
      const what: string[] = [];
      if (a.kind !== b.kind) what.push(`a ${a.kind} at the source, a ${b.kind} at the target`);
      else {
        if (a.kind === 'file' && a.size !== b.size) what.push(`size ${a.size} → ${b.size}`);
        if (a.uid !== b.uid || a.gid !== b.gid) what.push(`owner ${a.uid}:${a.gid} → ${b.uid}:${b.gid}`);
        if (a.kind !== 'symlink') {
          if (a.mode !== b.mode) what.push(`mode ${a.mode.toString(8)} → ${b.mode.toString(8)}`);
          if (!copier.sameTime(a, b)) what.push('mtime differs');
        }
        if (a.kind === 'file' && a.nlink > 1) {
          const seen = linkTo.get(a.fileid);
          if (seen === undefined) linkTo.set(a.fileid, b.fileid);
          else if (seen !== b.fileid) what.push('hard link not kept');
        }
      }
      if (what.length > 0) mismatches.push({ path: crel, what: what.join(', ') });
      const t = a.kind === 'symlink' ? '' : ` ${b.mtime.sec}.${b.mtime.nsec} ${b.mode.toString(8)}`;
      lines.push(`${crel}\0${b.kind} ${b.size}${t} ${b.uid}:${b.gid}`);
    }
  }
  lines.sort();
  const h = createHash('sha256');
  for (const l of lines) h.update(l + '\n');
  return {
    id: p.id,
    worker: o.worker,
    entries: p.dirs.reduce((n, c) => n + c.names.length, 0),
    files: p.files,
    bytes: p.bytes,
    copied: { files: tally.copied.files, bytes: tally.copied.bytes, symlinks: tally.copied.symlinks, hardLinks: tally.copied.hardLinks },
    unchanged: tally.unchanged,
    vanished,
    unsupported: tally.unsupported,
    mismatches,
    digest: h.digest('hex'),
    seconds: (performance.now() - t0) / 1000,
    finishedAt: new Date().toISOString(),
  };
}
