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
import { createHash } from 'node:crypto';
import { connect } from '../connect.js';
import type { ConnectOptions } from '../options.js';
import type { NfsClient } from '../fs/client.js';
import type { Attrs, FileHandleId, SetAttrs } from '../fs/backend.js';
import { readInto, writeFrom } from '../fs/io.js';
import { toFsError } from '../errors.js';
import { Beneath, errnoCode, joinPath, type Entry, type Node } from './beneath.js';
import { Pool } from './pool.js';
import { purgeTree } from './purge.js';
import { SNAPSHOT_DIRNAME } from './names.js';
import { usageOf } from './usage.js';

const CHUNK = 4 * 1024 * 1024;
const PART_SUFFIX = '.mountless-part';
/** Errors with which a target refuses a name itself, not the operation. */
const NAME_REFUSED = new Set(['ENAMETOOLONG', 'EINVAL', 'EILSEQ']);

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
export interface MigrateResult {
  /** The source, as given (URL or label). */
  src: string;
  /** The target, as given. */
  dst: string;
  /** Whether nothing was changed. */
  dryRun: boolean;
  /** Entries copied, by kind, and file bytes. */
  copied: { files: number; bytes: number; dirs: number; symlinks: number; hardLinks: number };
  /** Entries already identical at the target. */
  unchanged: number;
  /** Entries whose content matched but whose owner, mode or times were set again. */
  attrsFixed: number;
  /** Entries removed at the target (`delete`, stale partial files); entries replaced by the source's are not counted. */
  removed: number;
  /** Entries not copied and why (devices, names the target refuses). */
  unsupported: { path: string; why: string }[];
  /**
   * Symlinks whose mtime the target kept although it answered SETATTR with
   * success (NFS-Ganesha's VFS backend never sets a symlink's times, on v3
   * or v4): they are copied, but not with the source's mtime.
   */
  symlinkTimesIgnored: number;
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
async function connectNearest(url: string, options: ConnectOptions): Promise<{ nfs: NfsClient; missing: string }> {
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
  const res: MigrateResult = {
    src: opts.srcLabel ?? src.root.path,
    dst: opts.dstLabel ?? dst.root.path,
    dryRun: dry,
    copied: { files: 0, bytes: 0, dirs: 0, symlinks: 0, hardLinks: 0 },
    unchanged: 0,
    attrsFixed: 0,
    removed: 0,
    unsupported: [],
    symlinkTimesIgnored: 0,
  };
  const prog: MigrateProgress = { phase: 'scan', filesTotal: 0, bytesTotal: 0, filesCopied: 0, bytesCopied: 0, filesSkipped: 0, bytesSkipped: 0 };
  const progress = () => opts.onProgress?.({ ...prog });
  const total = await usageOf(src, src.root, { signal });
  prog.filesTotal = total.files;
  prog.bytesTotal = total.bytes;
  prog.phase = 'copy';
  progress();

  const pool = new Pool(opts.concurrency ?? 16, { signal, highWater: 2 * (opts.concurrency ?? 16) });
  const fsid = src.root.attrs.fsid;
  /** Source fileid of a multiply-linked file → its handle at the target (once copied). */
  const links = new Map<bigint, Promise<{ fh: FileHandleId; fileid: bigint } | undefined>>();
  const dirFinal: { node: Node; a: Attrs }[] = [];
  // A dry run to a target that does not exist yet: everything would be copied.
  const stack: { s: Node; d: Node | undefined; rel: string }[] = [{ s: src.root, d: target.exists ? dst.root : undefined, rel: '' }];
  dirFinal.push({ node: dst.root, a: src.root.attrs });

  const same = (a: Attrs, b: Attrs) => a.uid === b.uid && a.gid === b.gid && a.mode === b.mode;
  const sameTime = (a: Attrs, b: Attrs) => Math.abs((a.mtime.sec - b.mtime.sec) * 1000 + (a.mtime.nsec - b.mtime.nsec) / 1e6) <= window && (window > 0 || a.mtime.nsec === b.mtime.nsec);
  const finalAttrs = (a: Attrs, withMode = true): SetAttrs => ({ ...(withMode ? { mode: a.mode } : {}), atime: a.atime, mtime: a.mtime });

  const refuse = (path: string, err: unknown): boolean => {
    const code = errnoCode(err);
    if (code && NAME_REFUSED.has(code)) {
      res.unsupported.push({ path, why: `the target refuses the name (${code})` });
      return true;
    }
    return false;
  };

  /** SETATTR of a symlink's times, checked in the reply: a server may answer success and keep its own. */
  const symlinkTimes = async (fh: FileHandleId, path: string, a: Attrs): Promise<boolean> => {
    const after = await dst.call('lutime', path, () => dst.b.setattr(fh, finalAttrs(a, false)));
    if (sameTime(a, after ?? (await dst.call('lstat', path, () => dst.b.getattr(fh))))) return true;
    res.symlinkTimesIgnored++;
    return false;
  };

  /** `counted`: a removal for its own sake (stale, --delete), not an entry about to be replaced by the source's. */
  const removeAt = async (dir: Node, e: Entry, counted = false) => {
    if (counted) res.removed++;
    if (dry) return;
    if (e.attrs.kind === 'directory') {
      const st = await purgeTree(dst, dir, e.name, { fh: e.fh, attrs: e.attrs, path: joinPath(dir.path, e.name) });
      if (st.failed.length > 0) throw toFsError(Object.assign(new Error('remove failed'), { errnoCode: st.failed[0]!.code }), 'rm', st.failed[0]!.path);
    } else await dst.call('unlink', joinPath(dir.path, e.name), () => dst.b.remove(dir.fh, e.name));
  };

  try {
    while (stack.length > 0) {
      if (signal?.aborted) throw signal.reason;
      if (pool.stopped) await pool.idle();
      const { s, d, rel } = stack.pop()!;
      const srcEntries = await listAll(src, s);
      const dstEntries = d ? new Map((await listAll(dst, d)).map((e) => [e.name, e])) : new Map<string, Entry>();
      const srcNames = new Set(srcEntries.map((e) => e.name));
      // Stale partial copies from an interrupted run, and (with `delete`) what the source no longer has.
      for (const [name, e] of dstEntries) {
        const stale = name.startsWith('.') && name.endsWith(PART_SUFFIX);
        if (stale || (opts.delete && !srcNames.has(name))) {
          await removeAt(d!, e, true);
          dstEntries.delete(name);
        }
      }
      srcEntries.sort((x, y) => (x.name < y.name ? 1 : x.name > y.name ? -1 : 0));
      for (const e of srcEntries) {
        const a = e.attrs;
        const crel = rel ? `${rel}/${e.name}` : e.name;
        const sNode: Node = { fh: e.fh, attrs: a, path: joinPath(s.path, e.name) };
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
            if (have) await removeAt(d!, have);
            res.copied.dirs++;
            if (!dry && d) {
              try {
                const m = await dst.call('mkdir', dPath, () => dst.b.mkdir(d.fh, e.name, { mode: 0o700, uid: a.uid, gid: a.gid }));
                dn = { fh: m.fh, attrs: m.attrs ?? (await dst.b.getattr(m.fh)), path: dPath };
              } catch (err) {
                if (refuse(crel, err)) continue;
                throw err;
              }
            }
          }
          if (dn) {
            if (dn.attrs.uid !== a.uid || dn.attrs.gid !== a.gid) await dst.call('chown', dPath, () => dst.b.setattr(dn.fh, { uid: a.uid, gid: a.gid }));
            dirFinal.push({ node: dn, a });
          }
          stack.push({ s: sNode, d: dn, rel: crel });
          continue;
        }
        if (a.kind === 'file') {
          const first = a.nlink > 1 ? links.get(a.fileid) : undefined;
          if (first) {
            // A further name of a file already copied: a hard link at the target too.
            const target = await first;
            if (have && target && have.attrs.fileid === target.fileid) {
              res.unchanged++;
              continue;
            }
            res.copied.hardLinks++;
            if (dry || !d || !target) continue;
            if (have) await removeAt(d, have);
            await pool.push(async () => {
              try {
                await dst.call('link', dPath, () => dst.b.link(target.fh, d.fh, e.name));
              } catch (err) {
                if (!refuse(crel, err)) throw err;
              }
            });
            continue;
          }
          const upToDate = have && have.attrs.kind === 'file' && have.attrs.size === a.size && sameTime(a, have.attrs) && (!opts.checksum || (await sha256(src, sNode)) === (await sha256(dst, { fh: have.fh, attrs: have.attrs, path: dPath })));
          const done = deferredTarget();
          if (a.nlink > 1) links.set(a.fileid, done.promise);
          if (upToDate) {
            res.unchanged++;
            prog.filesSkipped++;
            prog.bytesSkipped += a.size;
            // atime is not compared: reading the source for the copy or a checksum changes it.
            if (!same(a, have.attrs)) {
              res.attrsFixed++;
              if (!dry) await fixAttrs(dst, { fh: have.fh, attrs: have.attrs, path: dPath }, a);
            }
            done.resolve({ fh: have.fh, fileid: have.attrs.fileid });
            progress();
            continue;
          }
          res.copied.files++;
          res.copied.bytes += a.size;
          if (dry || !d) {
            done.resolve(undefined);
            prog.filesCopied++;
            prog.bytesCopied += a.size;
            progress();
            continue;
          }
          if (have && have.attrs.kind !== 'file') await removeAt(d, have);
          await pool.push(async () => {
            try {
              const fh = await copyFile(src, sNode, dst, d, e.name, a, (n) => {
                prog.bytesCopied += n;
                progress();
              });
              // The target's fileid is only needed to recognise hard links already made on a later run.
              done.resolve({ fh, fileid: a.nlink > 1 ? (await dst.b.getattr(fh, { fresh: true })).fileid : 0n });
              prog.filesCopied++;
              progress();
            } catch (err) {
              done.resolve(undefined);
              if (!refuse(crel, err)) throw err;
            }
          });
          continue;
        }
        if (a.kind === 'symlink') {
          const target = await src.call('readlink', sNode.path, () => src.b.readlink(e.fh));
          if (have && have.attrs.kind === 'symlink') {
            const t = await dst.call('readlink', dPath, () => dst.b.readlink(have.fh));
            if (t === target) {
              res.unchanged++;
              const owner = have.attrs.uid !== a.uid || have.attrs.gid !== a.gid;
              if (owner) {
                res.attrsFixed++;
                if (!dry) await dst.call('lchown', dPath, () => dst.b.setattr(have.fh, { uid: a.uid, gid: a.gid }));
              }
              // Counted as fixed only when the server really takes the times (NFS-Ganesha's VFS never does).
              if (!dry && !sameTime(a, have.attrs) && (await symlinkTimes(have.fh, dPath, a)) && !owner) res.attrsFixed++;
              continue;
            }
          }
          res.copied.symlinks++;
          if (dry || !d) continue;
          if (have) await removeAt(d, have);
          await pool.push(async () => {
            try {
              const m = await dst.call('symlink', dPath, () => dst.b.symlink(d.fh, e.name, target, { mode: 0o777, uid: a.uid, gid: a.gid }));
              const got = m.attrs ?? (await dst.b.getattr(m.fh));
              if (got.uid !== a.uid || got.gid !== a.gid) await dst.call('lchown', dPath, () => dst.b.setattr(m.fh, { uid: a.uid, gid: a.gid }));
              await symlinkTimes(m.fh, dPath, a);
            } catch (err) {
              if (!refuse(crel, err)) throw err;
            }
          });
          continue;
        }
        res.unsupported.push({ path: crel, why: `a ${a.kind} (this client has no MKNOD)` });
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
    res.verify = await verifyTrees(src, dst, { checksum: !!opts.checksum, window, signal });
  }
  return res;
}

/**
 * The target directory, made (with its parents) when missing, as `cp -a` and
 * rsync do; its final mode, owner and times are the source's, set at the
 * end. A dry run makes nothing: it opens the nearest existing ancestor and
 * says the target does not exist.
 */
async function openTarget(nfs: NfsClient, path: string, dry: boolean): Promise<{ tree: Beneath; exists: boolean }> {
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

async function listAll(t: Beneath, dir: Node): Promise<Entry[]> {
  const out: Entry[] = [];
  for await (const batch of t.entries(dir)) for (const e of batch) out.push(e);
  return out;
}

function deferredTarget(): { promise: Promise<{ fh: FileHandleId; fileid: bigint } | undefined>; resolve(v: { fh: FileHandleId; fileid: bigint } | undefined): void } {
  let resolve!: (v: { fh: FileHandleId; fileid: bigint } | undefined) => void;
  const promise = new Promise<{ fh: FileHandleId; fileid: bigint } | undefined>((r) => (resolve = r));
  return { promise, resolve };
}

async function fixAttrs(dst: Beneath, n: Node, a: Attrs): Promise<void> {
  if (n.attrs.uid !== a.uid || n.attrs.gid !== a.gid) await dst.call('chown', n.path, () => dst.b.setattr(n.fh, { uid: a.uid, gid: a.gid }));
  await dst.call('utime', n.path, () => dst.b.setattr(n.fh, { mode: a.mode, atime: a.atime, mtime: a.mtime }));
}

/**
 * Copies one file to '.<name>.mountless-part' in `dir` (owner in the CREATE),
 * content in CHUNK rounds (the next READ round in flight while one is
 * written), COMMIT with a verifier check, mode and times, then RENAMEs it
 * over `name`. Returns the new file's handle.
 */
async function copyFile(src: Beneath, s: Node, dst: Beneath, dir: Node, name: string, a: Attrs, onBytes: (n: number) => void): Promise<FileHandleId> {
  const part = `.${name}${PART_SUFFIX}`;
  const partPath = joinPath(dir.path, part);
  const b = dst.b;
  let made;
  try {
    made = await b.create(dir.fh, part, { mode: 'guarded', attrs: { mode: 0o600, uid: a.uid, gid: a.gid } });
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw toFsError(err, 'open', partPath);
    await dst.call('unlink', partPath, () => b.remove(dir.fh, part));
    made = await dst.call('open', partPath, () => b.create(dir.fh, part, { mode: 'guarded', attrs: { mode: 0o600, uid: a.uid, gid: a.gid } }));
  }
  const fh = made.fh;
  const got = made.attrs ?? (await b.getattr(fh));
  if (got.uid !== a.uid || got.gid !== a.gid) await dst.call('chown', partPath, () => b.setattr(fh, { uid: a.uid, gid: a.gid }));
  let verf: Buffer | undefined;
  const read = async (pos: number) => {
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(a.size - pos, 0)));
    const n = buf.length === 0 ? 0 : await src.call('read', s.path, () => readInto(src.b, s.fh, buf, 0, buf.length, pos));
    return buf.subarray(0, n);
  };
  let pos = 0;
  let next: Promise<Buffer> | undefined = a.size > 0 ? read(0) : undefined;
  while (next) {
    const buf = await next;
    if (buf.length === 0) break;
    const at = pos;
    pos += buf.length;
    // Past the size seen at the scan the file grew: copy what is there now.
    next = buf.length === CHUNK ? read(pos) : undefined;
    const w = await dst.call('write', partPath, () => writeFrom(b, fh, buf, at, 'unstable'));
    if (w.verfChanged || (verf && w.verf && !w.verf.equals(verf))) throw toFsError(Object.assign(new Error('target restarted'), { errnoCode: 'EIO' }), 'write', partPath);
    verf ??= w.verf;
    onBytes(buf.length);
  }
  if (verf) {
    const c = await dst.call('fsync', partPath, () => b.commit(fh));
    if (!c.equals(verf)) throw toFsError(Object.assign(new Error('target restarted'), { errnoCode: 'EIO' }), 'fsync', partPath);
  }
  await dst.call('utime', partPath, () => b.setattr(fh, { mode: a.mode, atime: a.atime, mtime: a.mtime }));
  await dst.call('rename', partPath, () => b.rename(dir.fh, part, dir.fh, name));
  return fh;
}

async function sha256(t: Beneath, n: Node): Promise<string> {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(n.attrs.size, 1)));
  let pos = 0;
  for (;;) {
    const got = await t.call('read', n.path, () => readInto(t.b, n.fh, buf, 0, buf.length, pos));
    if (got === 0) break;
    h.update(buf.subarray(0, got));
    pos += got;
    if (got < buf.length) break;
  }
  return h.digest('hex');
}

/** Walks both trees and lists every difference (type, size, owner, mode, mtime, symlink target, hard links, and sha256 with `checksum`). */
export async function verifyTrees(src: Beneath, dst: Beneath, opts: { checksum: boolean; window: number; signal?: AbortSignal | undefined }): Promise<VerifyResult> {
  const out: VerifyResult = { checked: 0, differences: [], symlinkTimes: [] };
  const diff = (path: string, what: string) => out.differences.push({ path: path || '.', what });
  const linkMap = new Map<bigint, bigint>();
  const stack: { s: Node; d: Node; rel: string }[] = [{ s: src.root, d: dst.root, rel: '' }];
  const fsid = src.root.attrs.fsid;
  while (stack.length > 0) {
    if (opts.signal?.aborted) throw opts.signal.reason;
    const { s, d, rel } = stack.pop()!;
    const se = await listAll(src, s);
    const de = new Map((await listAll(dst, d)).map((e) => [e.name, e]));
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
