/**
 * Space and inode use of a tree: a breadth-first walk over READDIRPLUS with
 * a few directories listed at once, by handle (see beneath.ts), never
 * following symlinks. Attributes come with the listing, so each entry costs
 * no call of its own. Files with several names (hard links) are counted
 * once, by fileid.
 */
import { AbortError } from '../errors.js';
import type { Beneath, Entry, Node } from './beneath.js';
import { joinPath } from './beneath.js';
import { SNAPSHOT_DIRNAME } from './names.js';

/** Bytes and files under a directory, counted by walking it (as `du`). */
export interface Usage {
  /** Apparent size of the regular files (each inode once), as `du -sb` without directories. */
  bytes: number;
  /** Storage the server reports as used by every inode in the tree, directories included, as `du -s`. */
  usedBytes: number;
  /** Regular files (inodes, not names). */
  files: number;
  /** Directories, the top one included. */
  dirs: number;
  /** Symlinks (not followed). */
  symlinks: number;
  /** Devices, fifos, sockets. */
  other: number;
  /** Extra names of files already counted (hard links). */
  extraLinks: number;
  /** '.snapshot' directories and other filesystems not entered. */
  skipped: string[];
}

/** How a tree is walked for usage and list. */
export interface WalkOptions {
  /** Directories listed at once. Default 8. */
  listers?: number;
  /** Aborts the walk. */
  signal?: AbortSignal | undefined;
}

/**
 * Lists every directory of the tree at `root` once, `listers` at a time,
 * with an explicit work list (no recursion over server data): `visit` gets
 * each directory and its entries and returns the subdirectories to list next.
 */
export function forEachDir(t: Beneath, root: Node, visit: (dir: Node, entries: Entry[]) => Node[] | void, opts: WalkOptions = {}): Promise<void> {
  const limit = opts.listers ?? 8;
  const signal = opts.signal;
  const work: Node[] = [root];
  let active = 0;
  let failed: { error: unknown } | undefined;
  return new Promise<void>((resolve, reject) => {
    const one = async (dir: Node) => {
      for await (const batch of t.entries(dir)) {
        if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
        const subs = visit(dir, batch);
        if (subs) for (const s of subs) work.push(s);
      }
    };
    const pump = () => {
      if (!failed && signal?.aborted) failed = { error: new AbortError(undefined, { cause: signal.reason }) };
      while (!failed && active < limit && work.length > 0) {
        active++;
        one(work.pop()!).then(
          () => {
            active--;
            pump();
          },
          (error: unknown) => {
            failed ??= { error };
            active--;
            pump();
          },
        );
      }
      if (active > 0) return;
      if (failed) reject(failed.error);
      else if (work.length === 0) resolve();
    };
    pump();
  });
}

export async function usageOf(t: Beneath, root: Node, opts: WalkOptions = {}): Promise<Usage> {
  const u: Usage = { bytes: 0, usedBytes: root.attrs.used, files: 0, dirs: 1, symlinks: 0, other: 0, extraLinks: 0, skipped: [] };
  const seen = new Set<bigint>();
  const fsid = root.attrs.fsid;
  await forEachDir(
    t,
    root,
    (dir, entries) => {
      const subs: Node[] = [];
      for (const e of entries) {
        const a = e.attrs;
        if (a.kind === 'directory') {
          const path = joinPath(dir.path, e.name);
          if (e.name === SNAPSHOT_DIRNAME || a.fsid !== fsid) {
            u.skipped.push(path);
            continue;
          }
          u.dirs++;
          u.usedBytes += a.used;
          subs.push({ fh: e.fh, attrs: a, path });
          continue;
        }
        if (a.nlink > 1) {
          if (seen.has(a.fileid)) {
            u.extraLinks++;
            continue;
          }
          seen.add(a.fileid);
        }
        u.usedBytes += a.used;
        if (a.kind === 'file') {
          u.files++;
          u.bytes += a.size;
        } else if (a.kind === 'symlink') u.symlinks++;
        else u.other++;
      }
      return subs;
    },
    opts,
  );
  return u;
}
