/**
 * The copy of one non-directory entry, shared by the tree walk of
 * migrate.ts and the partitions of the many-worker migrate
 * (migrate-workers.ts): skip it when the target already has it (size and
 * mtime, or sha256), fix owner/mode without copying, copy a file through
 * '.<name>.mountless-part' + RENAME, make symlinks and further names of a
 * multiply-linked file as such.
 *
 * A file's copy is idempotent: it only gets its name at the target when it
 * is complete with the source's size and mtime, so a copy cut off at any
 * point (Ctrl-C, kill -9, a worker whose claim expired) is simply done
 * again by the next run.
 */
import { createHash } from 'node:crypto';
import type { Attrs, FileHandleId, SetAttrs } from '../fs/backend.js';
import { readInto, writeFrom } from '../fs/io.js';
import { toFsError } from '../errors.js';
import { errnoCode, joinPath, type Beneath, type Entry, type Node } from './beneath.js';
import type { Pool } from './pool.js';
import { purgeTree } from './purge.js';

export const CHUNK = 4 * 1024 * 1024;
export const PART_SUFFIX = '.mountless-part';
/** Errors with which a target refuses a name itself, not the operation. */
const NAME_REFUSED = new Set(['ENAMETOOLONG', 'EINVAL', 'EILSEQ']);

/** What a copy did, summed over entries (a part of MigrateResult). */
export interface CopyTally {
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
}

export function emptyTally(): CopyTally {
  return { copied: { files: 0, bytes: 0, dirs: 0, symlinks: 0, hardLinks: 0 }, unchanged: 0, attrsFixed: 0, removed: 0, unsupported: [], symlinkTimesIgnored: 0 };
}

export interface CopyProgress {
  filesCopied: number;
  bytesCopied: number;
  filesSkipped: number;
  bytesSkipped: number;
}

export interface CopierOptions {
  checksum: boolean;
  /** mtimes this close (ms) count as equal; 0: to the nanosecond. */
  window: number;
  dryRun: boolean;
}

type LinkTarget = { fh: FileHandleId; fileid: bigint } | undefined;

export class EntryCopier {
  /**
   * Source fileid of a multiply-linked file → its handle at the target once
   * copied. Every name of one inode must pass through the same copier (one
   * tree walk, or one partition: the crawl keeps link groups together).
   */
  private readonly links = new Map<bigint, Promise<LinkTarget>>();

  constructor(
    readonly src: Beneath,
    readonly dst: Beneath,
    readonly pool: Pool,
    readonly res: CopyTally,
    readonly prog: CopyProgress,
    readonly progress: () => void,
    readonly o: CopierOptions,
  ) {}

  sameTime(a: Attrs, b: Attrs): boolean {
    const w = this.o.window;
    return Math.abs((a.mtime.sec - b.mtime.sec) * 1000 + (a.mtime.nsec - b.mtime.nsec) / 1e6) <= w && (w > 0 || a.mtime.nsec === b.mtime.nsec);
  }

  /** Records a name the target refuses in `unsupported`; false for any other error. */
  refuse(path: string, err: unknown): boolean {
    const code = errnoCode(err);
    if (code && NAME_REFUSED.has(code)) {
      this.res.unsupported.push({ path, why: `the target refuses the name (${code})` });
      return true;
    }
    return false;
  }

  /** SETATTR of a symlink's times, checked in the reply: a server may answer success and keep its own. */
  async symlinkTimes(fh: FileHandleId, path: string, a: Attrs): Promise<boolean> {
    const dst = this.dst;
    const after = await dst.call('lutime', path, () => dst.b.setattr(fh, finalAttrs(a, false)));
    if (this.sameTime(a, after ?? (await dst.call('lstat', path, () => dst.b.getattr(fh))))) return true;
    this.res.symlinkTimesIgnored++;
    return false;
  }

  /** `counted`: a removal for its own sake (stale, --delete), not an entry about to be replaced by the source's. */
  async removeAt(dir: Node, e: Entry, counted = false): Promise<void> {
    if (counted) this.res.removed++;
    if (this.o.dryRun) return;
    const dst = this.dst;
    if (e.attrs.kind === 'directory') {
      const st = await purgeTree(dst, dir, e.name, { fh: e.fh, attrs: e.attrs, path: joinPath(dir.path, e.name) });
      if (st.failed.length > 0) throw toFsError(Object.assign(new Error('remove failed'), { errnoCode: st.failed[0]!.code }), 'rm', st.failed[0]!.path);
    } else await dst.call('unlink', joinPath(dir.path, e.name), () => dst.b.remove(dir.fh, e.name));
  }

  /**
   * Brings the non-directory entry `e` of source directory `s` to target
   * directory `d` (undefined in a dry run to a target not made yet), where
   * `have` is what the target has under that name. Copies run in the pool;
   * await pool.idle() for them.
   */
  async entry(s: Node, d: Node | undefined, e: Entry, have: Entry | undefined, crel: string): Promise<void> {
    const { src, dst, res, prog, pool } = this;
    const dry = this.o.dryRun;
    const a = e.attrs;
    const sNode: Node = { fh: e.fh, attrs: a, path: joinPath(s.path, e.name) };
    const dPath = d ? joinPath(d.path, e.name) : `(new)/${crel}`;
    if (a.kind === 'file') {
      const first = a.nlink > 1 ? this.links.get(a.fileid) : undefined;
      if (first) {
        // A further name of a file already copied: a hard link at the target too.
        const target = await first;
        if (have && target && have.attrs.fileid === target.fileid) {
          res.unchanged++;
          return;
        }
        res.copied.hardLinks++;
        if (dry || !d || !target) return;
        if (have) await this.removeAt(d, have);
        await pool.push(async () => {
          try {
            await dst.call('link', dPath, () => dst.b.link(target.fh, d.fh, e.name));
          } catch (err) {
            if (!this.refuse(crel, err)) throw err;
          }
        });
        return;
      }
      const upToDate =
        have && have.attrs.kind === 'file' && have.attrs.size === a.size && this.sameTime(a, have.attrs) && (!this.o.checksum || (await sha256(src, sNode)) === (await sha256(dst, { fh: have.fh, attrs: have.attrs, path: dPath })));
      const done = deferredTarget();
      if (a.nlink > 1) this.links.set(a.fileid, done.promise);
      if (upToDate) {
        res.unchanged++;
        prog.filesSkipped++;
        prog.bytesSkipped += a.size;
        // atime is not compared: reading the source for the copy or a checksum changes it.
        if (!sameOwnerMode(a, have.attrs)) {
          res.attrsFixed++;
          if (!dry) await fixAttrs(dst, { fh: have.fh, attrs: have.attrs, path: dPath }, a);
        }
        done.resolve({ fh: have.fh, fileid: have.attrs.fileid });
        this.progress();
        return;
      }
      res.copied.files++;
      res.copied.bytes += a.size;
      if (dry || !d) {
        done.resolve(undefined);
        prog.filesCopied++;
        prog.bytesCopied += a.size;
        this.progress();
        return;
      }
      if (have && have.attrs.kind !== 'file') await this.removeAt(d, have);
      await pool.push(async () => {
        try {
          const fh = await copyFile(src, sNode, dst, d, e.name, a, (n) => {
            prog.bytesCopied += n;
            this.progress();
          });
          // The target's fileid is only needed to recognise hard links already made on a later run.
          done.resolve({ fh, fileid: a.nlink > 1 ? (await dst.b.getattr(fh, { fresh: true })).fileid : 0n });
          prog.filesCopied++;
          this.progress();
        } catch (err) {
          done.resolve(undefined);
          if (!this.refuse(crel, err)) throw err;
        }
      });
      return;
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
          if (!dry && !this.sameTime(a, have.attrs) && (await this.symlinkTimes(have.fh, dPath, a)) && !owner) res.attrsFixed++;
          return;
        }
      }
      res.copied.symlinks++;
      if (dry || !d) return;
      if (have) await this.removeAt(d, have);
      await pool.push(async () => {
        try {
          const m = await dst.call('symlink', dPath, () => dst.b.symlink(d.fh, e.name, target, { mode: 0o777, uid: a.uid, gid: a.gid }));
          const got = m.attrs ?? (await dst.b.getattr(m.fh));
          if (got.uid !== a.uid || got.gid !== a.gid) await dst.call('lchown', dPath, () => dst.b.setattr(m.fh, { uid: a.uid, gid: a.gid }));
          await this.symlinkTimes(m.fh, dPath, a);
        } catch (err) {
          if (!this.refuse(crel, err)) throw err;
        }
      });
      return;
    }
    res.unsupported.push({ path: crel, why: `a ${a.kind} (this client has no MKNOD)` });
  }
}

export function sameOwnerMode(a: Attrs, b: Attrs): boolean {
  return a.uid === b.uid && a.gid === b.gid && a.mode === b.mode;
}

export function finalAttrs(a: Attrs, withMode = true): SetAttrs {
  return { ...(withMode ? { mode: a.mode } : {}), atime: a.atime, mtime: a.mtime };
}

export async function listAll(t: Beneath, dir: Node): Promise<Entry[]> {
  const out: Entry[] = [];
  for await (const batch of t.entries(dir)) for (const e of batch) out.push(e);
  return out;
}

function deferredTarget(): { promise: Promise<LinkTarget>; resolve(v: LinkTarget): void } {
  let resolve!: (v: LinkTarget) => void;
  const promise = new Promise<LinkTarget>((r) => (resolve = r));
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

export async function sha256(t: Beneath, n: Node): Promise<string> {
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
