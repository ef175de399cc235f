/**
 * Worker 0's crawl of a many-worker migrate: walks the source depth first
 * (READDIRPLUS, names sorted, so a resumed crawl cuts the same partitions
 * with the same ids), makes each directory at the target as it goes (MKDIR
 * with the owner; modes and times are the final pass's, deepest first), and
 * queues the non-directories in partitions of at most `maxFiles` entries
 * or `maxBytes` of file data, each written while the crawl goes on.
 *
 * Hard links: every name of a multiply-linked file goes into the same
 * partition, so the worker that copies it makes the other names as links
 * to its copy. Such names are held back until all `nlink` of them were
 * seen (then queued together), or until the end of the crawl for an inode
 * with names outside the source tree.
 */
import type { Attrs } from '../fs/backend.js';
import { toFsError } from '../errors.js';
import { errnoCode, joinPath, type Beneath, type Entry, type Node } from './beneath.js';
import { listAll } from './migrate-copy.js';
import { FINAL, type CrawlRecord, type MigrateQueue, type Partition } from './migrate-queue.js';
import { SNAPSHOT_DIRNAME } from './names.js';

export interface CrawlOptions {
  maxFiles: number;
  maxBytes: number;
  ignoreAtRoot: string[];
  signal?: AbortSignal | undefined;
  onPartition?: ((p: Partition) => void) | undefined;
}

interface LinkGroup {
  size: number;
  nlink: number;
  names: { dir: string; name: string }[];
}

export async function crawl(src: Beneath, dst: Beneath, q: MigrateQueue, o: CrawlOptions): Promise<CrawlRecord> {
  const t0 = performance.now();
  const known = await q.known();
  const stats = { partitions: 0, files: 0, bytes: 0, dirs: 0 };
  let seq = 0;
  const fresh = (): Partition & { entries: number } => ({ id: `p${String(seq++).padStart(6, '0')}`, dirs: [], files: 0, bytes: 0, entries: 0 });
  let cur = fresh();
  const flush = async () => {
    if (cur.entries === 0) return;
    if (!known.has(cur.id)) await q.addPartition(cur);
    o.onPartition?.(cur);
    stats.partitions++;
    cur = fresh();
  };
  const take = (e: Entry) => {
    cur.entries++;
    if (e.attrs.kind === 'file') {
      cur.files++;
      cur.bytes += e.attrs.size;
      stats.files++;
      stats.bytes += e.attrs.size;
    }
  };
  const full = (size: number, n = 1) => cur.entries > 0 && (cur.entries + n > o.maxFiles || cur.bytes + size > o.maxBytes);

  const groups = new Map<bigint, LinkGroup>();
  const emitGroup = async (g: LinkGroup) => {
    if (full(g.size, g.names.length)) await flush();
    for (const { dir, name } of g.names) {
      const last = cur.dirs[cur.dirs.length - 1];
      if (last && last.path === dir && !last.whole) last.names.push(name);
      else cur.dirs.push({ path: dir, names: [name], whole: false });
      cur.entries++;
      cur.files++;
    }
    cur.bytes += g.size;
    stats.files += g.names.length;
    stats.bytes += g.size;
  };

  const fsid = src.root.attrs.fsid;
  const ignored = new Set(o.ignoreAtRoot);
  const stack: { s: Node; d: Node; rel: string }[] = [{ s: src.root, d: dst.root, rel: '' }];
  while (stack.length > 0) {
    if (o.signal?.aborted) throw o.signal.reason;
    const { s, d, rel } = stack.pop()!;
    const entries = (await listAll(src, s)).filter((e) => rel !== '' || !ignored.has(e.name));
    entries.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
    const subdirs: { s: Node; d: Node; rel: string }[] = [];
    const plain: Entry[] = [];
    for (const e of entries) {
      const crel = rel ? `${rel}/${e.name}` : e.name;
      if (e.attrs.kind === 'directory') {
        // Left to the final pass, which reports them as not copied.
        if (e.name === SNAPSHOT_DIRNAME || e.attrs.fsid !== fsid) continue;
        stats.dirs++;
        subdirs.push({ s: { fh: e.fh, attrs: e.attrs, path: joinPath(s.path, e.name) }, d: await ensureDir(dst, d, e.name, e.attrs), rel: crel });
      } else if (e.attrs.kind === 'file' && e.attrs.nlink > 1) {
        let g = groups.get(e.attrs.fileid);
        if (!g) groups.set(e.attrs.fileid, (g = { size: e.attrs.size, nlink: e.attrs.nlink, names: [] }));
        g.names.push({ dir: rel, name: e.name });
        if (g.names.length >= g.nlink) {
          groups.delete(e.attrs.fileid);
          await emitGroup(g);
        }
      } else plain.push(e);
    }
    let chunk: string[] = [];
    let start = 0;
    const close = (end: number) => {
      if (chunk.length > 0) cur.dirs.push({ path: rel, names: chunk, whole: start === 0 && end === plain.length });
      chunk = [];
    };
    for (let i = 0; i < plain.length; i++) {
      const e = plain[i]!;
      if (full(e.attrs.kind === 'file' ? e.attrs.size : 0)) {
        close(i);
        await flush();
        start = i;
      }
      chunk.push(e.name);
      take(e);
    }
    close(plain.length);
    for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]!);
  }
  for (const g of groups.values()) await emitGroup(g);
  await flush();
  if (!known.has(FINAL)) await q.addFinal();
  const rec: CrawlRecord = { ...stats, seconds: (performance.now() - t0) / 1000, finishedAt: new Date().toISOString() };
  await q.markCrawlDone(rec);
  return rec;
}

/** The directory `name` in `d` at the target, made (MKDIR with the source's owner) when missing, a non-directory there removed first. */
async function ensureDir(dst: Beneath, d: Node, name: string, a: Attrs): Promise<Node> {
  const path = joinPath(d.path, name);
  for (let attempt = 0; ; attempt++) {
    try {
      const m = await dst.b.mkdir(d.fh, name, { mode: 0o700, uid: a.uid, gid: a.gid });
      const attrs = m.attrs ?? (await dst.call('stat', path, () => dst.b.getattr(m.fh)));
      if (attrs.uid !== a.uid || attrs.gid !== a.gid) await dst.call('chown', path, () => dst.b.setattr(m.fh, { uid: a.uid, gid: a.gid }));
      return { fh: m.fh, attrs, path };
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST' || attempt > 2) throw toFsError(err, 'mkdir', path);
    }
    const have = await dst.lookup(d, name);
    if (!have) continue;
    if (have.attrs.kind !== 'directory') {
      await dst.call('unlink', path, () => dst.b.remove(d.fh, name));
      continue;
    }
    if (have.attrs.uid !== a.uid || have.attrs.gid !== a.gid) await dst.call('chown', path, () => dst.b.setattr(have.fh, { uid: a.uid, gid: a.gid }));
    return have;
  }
}
