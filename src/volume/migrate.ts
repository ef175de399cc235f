/**
 * migrate: copies a tree from one NFS URL to another (two exports, two NAS
 * endpoints), rsync/XCP style, from an unprivileged process.
 *
 *   scan     walk the source for totals (files, bytes) for progress and ETA;
 *   copy     depth first over source and target listings side by side: a
 *            directory missing at the target is made (MKDIR with owner), a
 *            file whose size and mtime (or sha256, with `checksum`) differ
 *            is copied to '.<name>.mountless-part' and renamed over the
 *            old one when complete, symlinks and hard links are made as
 *            such, owners/modes/times are set; directories' modes and times
 *            last, deepest first;
 *   verify   both trees walked again and compared entry by entry.
 *
 * Resuming needs no separate journal: a file only gets its name at the
 * target by the RENAME that ends its copy, with the source's size and mtime
 * already set, so the target itself records what is done. Run again after a
 * crash or Ctrl-C, it skips those and copies the rest (stale '.mountless-part'
 * files are removed); run after changes, it copies only what changed (a final
 * sync). Both trees are walked by handle (beneath.ts): symlinks are never
 * followed. Names the target refuses (too long, invalid there) are reported
 * in `unsupported`, never changed. So are devices, fifos and sockets (no
 * MKNOD in this client yet).
 *
 * Either side may be NFSv3 or NFSv4.x (tested /export over v3 → /export2
 * over v4.1). Data always passes through this client: NFSv4.2 COPY works
 * within one connection, and the two sides here are two mounts (NFS-Ganesha
 * 4.3 has no COPY anyway).
 */
import { connect } from '../connect.js';
import type { ConnectOptions } from '../options.js';
import type { NfsClient } from '../fs/client.js';
import type { Attrs } from '../fs/backend.js';
import { Beneath, errnoCode, joinPath, type Entry, type Node } from './beneath.js';
import { EntryCopier, emptyTally, finalAttrs, listAll, PART_SUFFIX, sha256, type CopyTally } from './migrate-copy.js';
import { Pool } from './pool.js';
import { SNAPSHOT_DIRNAME } from './names.js';
import { usageOf } from './usage.js';

/** Options of {@link migrate} and {@link migrateClients}: what counts as unchanged, deletion, dry run, verify. */
export interface MigrateOptions {
  /** Compare contents by sha256 (both sides read) to decide what to copy, and in verify. Default: size and mtime. */
  checksum?: boolean;
  /** mtimes this close count as equal (targets with coarser timestamps). Default 0: to the nanosecond. */
  mtimeWindowMs?: number;
  /** Remove entries at the target that are not at the source. Default false. */
  delete?: boolean;
  /** Report what would be done; change nothing. */
  dryRun?: boolean;
  /** Files copied at once. Default 16. */
  concurrency?: number;
  /** Run the verify pass. Default true. */
  verify?: boolean;
  /** Options for both connections (uid/gid 0 to keep owners). */
  connect?: ConnectOptions;
  /** Aborts the migration; running it again resumes (unchanged entries are skipped). */
  signal?: AbortSignal | undefined;
  /** Called as the scan, the copy and the verify advance (keep it cheap). */
  onProgress?: ((p: MigrateProgress) => void) | undefined;
  /** Walk the source for totals first (progress, ETA). Default true. */
  scan?: boolean;
  /** Names at the roots of both trees that are left alone: not copied, not removed, not compared (the workers' queue). */
  ignoreAtRoot?: string[];
}

/** Running counters of a migration, passed to `onProgress`. */
export interface MigrateProgress {
  /** Which pass is running. */
  phase: 'scan' | 'copy' | 'verify';
  /** Files found at the source. */
  filesTotal: number;
  /** Their bytes. */
  bytesTotal: number;
  /** Files copied so far. */
  filesCopied: number;
  /** Bytes copied so far. */
  bytesCopied: number;
  /** Files already identical at the target. */
  filesSkipped: number;
  /** Their bytes. */
  bytesSkipped: number;
}

/** What a migration did (or, with `dryRun`, would do). */
export interface MigrateResult extends CopyTally {
  /** The source, as given (URL or label). */
  src: string;
  /** The target, as given. */
  dst: string;
  /** Whether nothing was changed. */
  dryRun: boolean;
  /** The verify pass's findings, unless `verify: false`. */
  verify?: VerifyResult;
}

export interface VerifyResult {
  checked: number;
  differences: { path: string; what: string }[];
  /** Symlinks whose mtime differs: listed apart, since a server may be unable to set it (see symlinkTimesIgnored). */
  symlinkTimes: string[];
}

/** Copies the tree at `srcUrl` to `dstUrl`; see the file comment. */
export async function migrate(srcUrl: string, dstUrl: string, opts: MigrateOptions = {}): Promise<MigrateResult> {
  const srcNfs = await connect(srcUrl, opts.connect ?? {});
  let dstNfs: NfsClient | undefined;
  try {
    const nearest = await connectNearest(dstUrl, opts.connect ?? {});
    dstNfs = nearest.nfs;
    return await migrateClients(srcNfs, dstNfs, { ...opts, dstPath: nearest.missing, srcLabel: srcUrl, dstLabel: dstUrl });
  } finally {
    await srcNfs.close().catch(() => {});
    await dstNfs?.close().catch(() => {});
  }
}

/**
 * Connects to `url`, or, when its directory does not exist yet (ENOENT from
 * the mount), to its nearest existing ancestor: the target of a copy is
 * created as `cp -a` and rsync create it. `missing` is the path still to
 * make, relative to what was mounted ('/' when nothing is missing).
 */
export async function connectNearest(url: string, options: ConnectOptions): Promise<{ nfs: NfsClient; missing: string }> {
  const u = new URL(url);
  const missing: string[] = [];
  for (;;) {
    try {
      return { nfs: await connect(u.href, options), missing: '/' + missing.join('/') };
    } catch (err) {
      const parts = decodeURIComponent(u.pathname).split('/').filter((p) => p !== '');
      if (errnoCode(err) !== 'ENOENT' || parts.length <= 1) throw err;
      missing.unshift(parts.pop()!);
      u.pathname = '/' + parts.map(encodeURIComponent).join('/');
    }
  }
}

/** migrate() over two connected clients, from `srcPath` to `dstPath` (default: their roots). */
export async function migrateClients(
  srcNfs: NfsClient,
  dstNfs: NfsClient,
  opts: MigrateOptions & { srcPath?: string; dstPath?: string; srcLabel?: string; dstLabel?: string } = {},
): Promise<MigrateResult> {
  const src = await Beneath.open(srcNfs, opts.srcPath ?? '/');
  const dry = !!opts.dryRun;
  const target = await openTarget(dstNfs, opts.dstPath ?? '/', dry);
  const dst = target.tree;
  const signal = opts.signal;
  const window = opts.mtimeWindowMs ?? 0;
  const res: MigrateResult = { src: opts.srcLabel ?? src.root.path, dst: opts.dstLabel ?? dst.root.path, dryRun: dry, ...emptyTally() };
  const prog: MigrateProgress = { phase: 'scan', filesTotal: 0, bytesTotal: 0, filesCopied: 0, bytesCopied: 0, filesSkipped: 0, bytesSkipped: 0 };
  const progress = () => opts.onProgress?.({ ...prog });
  if (opts.scan ?? true) {
    const total = await usageOf(src, src.root, { signal });
    prog.filesTotal = total.files;
    prog.bytesTotal = total.bytes;
  }
  prog.phase = 'copy';
  progress();

  const pool = new Pool(opts.concurrency ?? 16, { signal, highWater: 2 * (opts.concurrency ?? 16) });
  const copier = new EntryCopier(src, dst, pool, res, prog, progress, { checksum: !!opts.checksum, window, dryRun: dry });
  const fsid = src.root.attrs.fsid;
  const dirFinal: { node: Node; a: Attrs }[] = [];
  // A dry run to a target that does not exist yet: everything would be copied.
  const stack: { s: Node; d: Node | undefined; rel: string }[] = [{ s: src.root, d: target.exists ? dst.root : undefined, rel: '' }];
  dirFinal.push({ node: dst.root, a: src.root.attrs });
  const ignored = new Set(opts.ignoreAtRoot ?? []);

  try {
    while (stack.length > 0) {
      if (signal?.aborted) throw signal.reason;
      if (pool.stopped) await pool.idle();
      const { s, d, rel } = stack.pop()!;
      const srcEntries = (await listAll(src, s)).filter((e) => rel !== '' || !ignored.has(e.name));
      const dstEntries = d ? new Map((await listAll(dst, d)).filter((e) => rel !== '' || !ignored.has(e.name)).map((e) => [e.name, e])) : new Map<string, Entry>();
      const srcNames = new Set(srcEntries.map((e) => e.name));
      // Stale partial copies from an interrupted run, and (with `delete`) what the source no longer has.
      for (const [name, e] of dstEntries) {
        const stale = name.startsWith('.') && name.endsWith(PART_SUFFIX);
        if (stale || (opts.delete && !srcNames.has(name))) {
          await copier.removeAt(d!, e, true);
          dstEntries.delete(name);
        }
      }
      srcEntries.sort((x, y) => (x.name < y.name ? 1 : x.name > y.name ? -1 : 0));
      for (const e of srcEntries) {
        const a = e.attrs;
        const crel = rel ? `${rel}/${e.name}` : e.name;
        const have = dstEntries.get(e.name);
        const dPath = d ? joinPath(d.path, e.name) : `(new)/${crel}`;
        if (a.kind === 'directory') {
          if (e.name === SNAPSHOT_DIRNAME || a.fsid !== fsid) {
            res.unsupported.push({ path: crel, why: e.name === SNAPSHOT_DIRNAME ? 'a .snapshot directory' : 'another filesystem below the source' });
            continue;
          }
          let dn: Node | undefined;
          if (have && have.attrs.kind === 'directory') dn = { fh: have.fh, attrs: have.attrs, path: dPath };
          else {
            if (have) await copier.removeAt(d!, have);
            res.copied.dirs++;
            if (!dry && d) {
              try {
                const m = await dst.call('mkdir', dPath, () => dst.b.mkdir(d.fh, e.name, { mode: 0o700, uid: a.uid, gid: a.gid }));
                dn = { fh: m.fh, attrs: m.attrs ?? (await dst.b.getattr(m.fh)), path: dPath };
              } catch (err) {
                if (copier.refuse(crel, err)) continue;
                throw err;
              }
            }
          }
          if (dn) {
            if (dn.attrs.uid !== a.uid || dn.attrs.gid !== a.gid) await dst.call('chown', dPath, () => dst.b.setattr(dn.fh, { uid: a.uid, gid: a.gid }));
            dirFinal.push({ node: dn, a });
          }
          stack.push({ s: { fh: e.fh, attrs: a, path: joinPath(s.path, e.name) }, d: dn, rel: crel });
          continue;
        }
        await copier.entry(s, d, e, have, crel);
      }
    }
    await pool.idle();
    if (!dry) {
      for (let i = dirFinal.length - 1; i >= 0; i--) {
        const { node, a } = dirFinal[i]!;
        if (i === 0 && (dst.root.attrs.uid !== a.uid || dst.root.attrs.gid !== a.gid)) await dst.call('chown', node.path, () => dst.b.setattr(node.fh, { uid: a.uid, gid: a.gid }));
        await dst.call('utime', node.path, () => dst.b.setattr(node.fh, finalAttrs(a)));
      }
    }
  } catch (err) {
    await pool.idle().catch(() => {});
    throw err;
  } finally {
    pool.close();
  }

  if (opts.verify ?? true) {
    if (dry) return res;
    prog.phase = 'verify';
    progress();
    res.verify = await verifyTrees(src, dst, { checksum: !!opts.checksum, window, signal, ignoreAtRoot: [...ignored] });
  }
  return res;
}

/**
 * The target directory, made (with its parents) when missing, as `cp -a` and
 * rsync do; its final mode, owner and times are the source's, set at the
 * end. A dry run makes nothing: it opens the nearest existing ancestor and
 * says the target does not exist.
 */
export async function openTarget(nfs: NfsClient, path: string, dry: boolean): Promise<{ tree: Beneath; exists: boolean }> {
  try {
    return { tree: await Beneath.open(nfs, path), exists: true };
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
  if (!dry) {
    await nfs.mkdir(path, { recursive: true, mode: 0o700 });
    return { tree: await Beneath.open(nfs, path), exists: true };
  }
  let up = path;
  for (;;) {
    up = up.replace(/\/[^/]*\/?$/, '') || '/';
    try {
      return { tree: await Beneath.open(nfs, up), exists: false };
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT' || up === '/') throw err;
    }
  }
}

/** Walks both trees and lists every difference (type, size, owner, mode, mtime, symlink target, hard links, and sha256 with `checksum`). */
export async function verifyTrees(src: Beneath, dst: Beneath, opts: { checksum: boolean; window: number; signal?: AbortSignal | undefined; ignoreAtRoot?: string[] }): Promise<VerifyResult> {
  const ignored = new Set(opts.ignoreAtRoot ?? []);
  const out: VerifyResult = { checked: 0, differences: [], symlinkTimes: [] };
  const diff = (path: string, what: string) => out.differences.push({ path: path || '.', what });
  const linkMap = new Map<bigint, bigint>();
  const stack: { s: Node; d: Node; rel: string }[] = [{ s: src.root, d: dst.root, rel: '' }];
  const fsid = src.root.attrs.fsid;
  while (stack.length > 0) {
    if (opts.signal?.aborted) throw opts.signal.reason;
    const { s, d, rel } = stack.pop()!;
    const se = (await listAll(src, s)).filter((e) => rel !== '' || !ignored.has(e.name));
    const de = new Map((await listAll(dst, d)).filter((e) => rel !== '' || !ignored.has(e.name)).map((e) => [e.name, e]));
    for (const e of se) {
      const a = e.attrs;
      const crel = rel ? `${rel}/${e.name}` : e.name;
      if (a.kind === 'directory' && (e.name === SNAPSHOT_DIRNAME || a.fsid !== fsid)) continue;
      if (a.kind !== 'directory' && a.kind !== 'file' && a.kind !== 'symlink') continue;
      out.checked++;
      const o = de.get(e.name);
      de.delete(e.name);
      if (!o) {
        diff(crel, 'missing at the target');
        continue;
      }
      const b = o.attrs;
      if (b.kind !== a.kind) {
        diff(crel, `a ${a.kind} at the source, a ${b.kind} at the target`);
        continue;
      }
      if (a.uid !== b.uid || a.gid !== b.gid) diff(crel, `owner ${a.uid}:${a.gid} → ${b.uid}:${b.gid}`);
      if (a.kind !== 'symlink' && a.mode !== b.mode) diff(crel, `mode ${a.mode.toString(8)} → ${b.mode.toString(8)}`);
      const dt = Math.abs((a.mtime.sec - b.mtime.sec) * 1000 + (a.mtime.nsec - b.mtime.nsec) / 1e6);
      if (a.kind !== 'symlink' && (dt > opts.window || (opts.window === 0 && a.mtime.nsec !== b.mtime.nsec))) diff(crel, `mtime differs by ${dt.toFixed(3)} ms`);
      if (a.kind === 'directory') {
        stack.push({ s: { fh: e.fh, attrs: a, path: joinPath(s.path, e.name) }, d: { fh: o.fh, attrs: b, path: joinPath(d.path, e.name) }, rel: crel });
        continue;
      }
      if (a.kind === 'symlink') {
        const [ts, td] = await Promise.all([src.b.readlink(e.fh), dst.b.readlink(o.fh)]);
        if (ts !== td) diff(crel, `symlink target '${ts}' → '${td}'`);
        if (dt > opts.window || (opts.window === 0 && a.mtime.nsec !== b.mtime.nsec)) out.symlinkTimes.push(crel);
        continue;
      }
      if (a.size !== b.size) diff(crel, `size ${a.size} → ${b.size}`);
      if (a.nlink > 1 || b.nlink > 1) {
        const seen = linkMap.get(a.fileid);
        if (seen === undefined) linkMap.set(a.fileid, b.fileid);
        else if (seen !== b.fileid) diff(crel, 'hard link not kept (a separate copy at the target)');
      }
      if (opts.checksum && a.size === b.size) {
        const [hs, hd] = await Promise.all([sha256(src, { fh: e.fh, attrs: a, path: joinPath(s.path, e.name) }), sha256(dst, { fh: o.fh, attrs: b, path: joinPath(d.path, e.name) })]);
        if (hs !== hd) diff(crel, 'content differs (sha256)');
      }
    }
    for (const [name] of de) if (!(name.startsWith('.') && name.endsWith(PART_SUFFIX))) diff(rel ? `${rel}/${name}` : name, 'only at the target');
  }
  return out;
}
