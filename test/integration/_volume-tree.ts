// Trees on the server's own disk, for the volume tests: a description of
// every entry as node:fs sees it there (type, mode, owner, size, mtime to
// the nanosecond, symlink target, sha256, inode), and the comparisons the
// migrate and snapshot tests make between two such trees.
import type { Test } from 'tap';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';

export interface DiskEnt {
  type: 'dir' | 'file' | 'symlink' | 'other';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Left out for symlinks: NFS-Ganesha's VFS backend does not set their times. */
  mtimeNs?: bigint;
  target?: string;
  sha256?: string;
  ino: bigint;
  blocks: number;
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * Every entry below `dir` by relative path ('.' for `dir` itself). With
 * `symlinkTimes`, symlinks keep their mtime too (for a caller that decides
 * per run whether the server set them).
 */
export async function diskTree(dir: string, skip: (rel: string) => boolean = () => false, opts: { symlinkTimes?: boolean } = {}): Promise<Map<string, DiskEnt>> {
  const out = new Map<string, DiskEnt>();
  const stack = [''];
  while (stack.length > 0) {
    const rel = stack.pop()!;
    const abs = join(dir, rel);
    const st = await lstat(abs, { bigint: true });
    const type = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isFile() ? 'file' : 'other';
    const e: DiskEnt = { type, mode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid), size: type === 'dir' ? 0 : Number(st.size), ino: st.ino, blocks: Number(st.blocks) };
    if (type !== 'symlink' || opts.symlinkTimes) e.mtimeNs = st.mtimeNs;
    if (type === 'symlink') e.target = await readlink(abs);
    if (type === 'file') e.sha256 = await sha256File(abs);
    out.set(rel || '.', e);
    if (type === 'dir') for (const n of await readdir(abs)) if (!skip(rel ? `${rel}/${n}` : n)) stack.push(rel ? `${rel}/${n}` : n);
  }
  return out;
}

/** What must match between two trees: everything but inode numbers and block counts. */
export function comparable(m: Map<string, DiskEnt>): Record<string, Omit<DiskEnt, 'ino' | 'blocks'>> {
  return Object.fromEntries([...m].map(([k, { ino: _i, blocks: _b, ...rest }]) => [k, rest]));
}

/** Hard-link groups: the paths sharing an inode, each group sorted. */
export function linkGroups(m: Map<string, DiskEnt>): string[][] {
  const by = new Map<bigint, string[]>();
  for (const [p, e] of m) if (e.type === 'file') by.set(e.ino, [...(by.get(e.ino) ?? []), p]);
  return [...by.values()]
    .filter((g) => g.length > 1)
    .map((g) => g.sort())
    .sort();
}

/** Asserts that `dst` on disk is `src` entry by entry: content, owners, modes, mtimes, symlinks, hard links. */
export async function assertIdentical(t: Test, src: string, dst: string, what = 'target'): Promise<Map<string, DiskEnt>> {
  const a = await diskTree(src);
  const b = await diskTree(dst);
  t.same(comparable(b), comparable(a), `${what} identical to the source on disk: sha256, owners, modes, mtimes (ns), symlinks`);
  t.same(linkGroups(b), linkGroups(a), `${what}: hard links kept as hard links`);
  return b;
}
