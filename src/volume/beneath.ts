/**
 * File-handle operations confined beneath a base directory, as openat2's
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS would give them.
 *
 * Why not paths: the fs layer resolves a path component by component and
 * follows symlinks in every one of them. The trees the volume layer walks,
 * deletes and copies belong to tenants, who can swap a directory for a
 * symlink to another volume while a delete runs; a path-based rm of
 * 'vol/a/b' would then remove the other volume's 'b'. Here every call names
 * a directory handle obtained while walking down from the base and one
 * component inside it (REMOVE(dir, name), RMDIR, READDIRPLUS(dir)), so a
 * symlink is only ever an entry to unlink, never a path to follow.
 *
 * This works on `nfs.handles` (the handle-level interface the fs layer
 * itself uses, with its caches and its read-only refusal), converting its
 * errors into node-shaped fs errors that name the syscall and the path under
 * the export.
 */
import type { NfsClient } from '../fs/client.js';
import type { Attrs, Backend, DirEntry, FileHandleId, SetAttrs } from '../fs/backend.js';
import { toFsError } from '../errors.js';
import { VolumeError } from './errors.js';

/** A file object reached from the base: its handle, attributes, and path under the export (for messages). */
export interface Node {
  fh: FileHandleId;
  attrs: Attrs;
  path: string;
}

/** A directory entry with the attributes and handle READDIRPLUS gives (looked up when the server left them out). */
export interface Entry {
  name: string;
  fh: FileHandleId;
  attrs: Attrs;
}

export function errnoCode(err: unknown): string | undefined {
  const e = err as { errnoCode?: string; code?: string } | null;
  return e?.errnoCode ?? e?.code;
}

export function joinPath(dir: string, name: string): string {
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

export class Beneath {
  readonly b: Backend;

  private constructor(
    readonly nfs: NfsClient,
    /** The base directory. Nothing here removes, renames or changes it. */
    readonly root: Node,
  ) {
    this.b = nfs.handles;
  }

  /**
   * Opens `basePath` (a path inside the export; symlinks in it are the
   * administrator's and are followed once, here) and refuses anything but a
   * directory.
   */
  static async open(nfs: NfsClient, basePath: string): Promise<Beneath> {
    const real = await nfs.realpath(basePath);
    const b = nfs.handles;
    let node: Node = { fh: b.rootFh, attrs: await call('stat', real, () => b.getattr(b.rootFh)), path: '/' };
    for (const part of real.split('/').filter((p) => p !== '')) {
      const path = joinPath(node.path, part);
      const l = await call('stat', path, () => b.lookup(node.fh, part, { fresh: true }));
      node = { fh: l.fh, attrs: l.attrs ?? (await call('stat', path, () => b.getattr(l.fh))), path };
    }
    if (node.attrs.kind !== 'directory') throw toFsError(Object.assign(new Error('not a directory'), { errnoCode: 'ENOTDIR' }), 'scandir', basePath);
    return new Beneath(nfs, node);
  }

  /** Runs one backend call, turning NFS status errors into fs errors naming `syscall` and `path`. */
  call<T>(syscall: string, path: string, fn: () => Promise<T>): Promise<T> {
    return call(syscall, path, fn);
  }

  /** The entry `name` in `dir`, not following it if it is a symlink; undefined if there is none. Always asks the server. */
  async lookup(dir: Node, name: string): Promise<Node | undefined> {
    const path = joinPath(dir.path, name);
    try {
      const l = await this.b.lookup(dir.fh, name, { fresh: true });
      return { fh: l.fh, attrs: l.attrs ?? (await this.b.getattr(l.fh, { fresh: true })), path };
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw toFsError(err, 'lstat', path);
    }
  }

  /**
   * Walks `parts` down from the base, one LOOKUP each, and returns the
   * directories reached (the base first). A symlink anywhere is refused
   * (ERR_VOLUME_SYMLINK), a non-directory is ERR_VOLUME_CONFLICT, a missing
   * component is created with `create` when given (another client creating
   * it at the same moment is fine), else ERR_VOLUME_NOT_FOUND.
   */
  async walk(parts: readonly string[], create?: SetAttrs): Promise<Node[]> {
    const out: Node[] = [this.root];
    let dir = this.root;
    for (const part of parts) {
      let next = await this.lookup(dir, part);
      if (!next && create) {
        const path = joinPath(dir.path, part);
        try {
          const made = await this.b.mkdir(dir.fh, part, create);
          next = { fh: made.fh, attrs: made.attrs ?? (await this.b.getattr(made.fh)), path };
        } catch (err) {
          if (errnoCode(err) !== 'EEXIST') throw toFsError(err, 'mkdir', path);
          next = await this.lookup(dir, part);
        }
      }
      if (!next) throw new VolumeError('ERR_VOLUME_NOT_FOUND', `${joinPath(dir.path, part)}: no such directory`);
      this.checkDir(next);
      out.push(next);
      dir = next;
    }
    return out;
  }

  /** Refuses a node that is a symlink (never followed) or not a directory. */
  checkDir(n: Node): void {
    if (n.attrs.kind === 'symlink') throw new VolumeError('ERR_VOLUME_SYMLINK', `${n.path} is a symlink: refused, symlinks below the base are never followed`);
    if (n.attrs.kind !== 'directory') throw new VolumeError('ERR_VOLUME_CONFLICT', `${n.path} is a ${n.attrs.kind}, not a directory`);
  }

  /**
   * The entries of `dir` in READDIRPLUS batches, each with handle and
   * attributes ('.' and '..' left out). Entries the server sent without them
   * are looked up; one that vanished meanwhile is left out.
   */
  async *entries(dir: Node): AsyncGenerator<Entry[]> {
    const it = this.b.readdir(dir.fh, true)[Symbol.asyncIterator]();
    for (;;) {
      let r: IteratorResult<DirEntry[]>;
      try {
        r = await it.next();
      } catch (err) {
        throw toFsError(err, 'scandir', dir.path);
      }
      if (r.done) return;
      const out: Entry[] = [];
      for (const e of r.value) {
        if (e.fh && e.attrs) {
          out.push({ name: e.name, fh: e.fh, attrs: e.attrs });
          continue;
        }
        const n = await this.lookup(dir, e.name);
        if (n) out.push({ name: e.name, fh: n.fh, attrs: n.attrs });
      }
      yield out;
    }
  }

  /** Reads a whole small file (at most `max` bytes; more is an error). */
  async readSmall(n: Node, max: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let at = 0;
    for (;;) {
      const r = await call('read', n.path, () => this.b.read(n.fh, at, Math.min(this.b.limits.rsize, max + 1 - at)));
      parts.push(Buffer.from(r.data));
      at += r.data.length;
      if (at > max) throw new VolumeError('ERR_VOLUME_CONFLICT', `${n.path} is larger than ${max} bytes`);
      if (r.eof || r.data.length === 0) return Buffer.concat(parts);
    }
  }

  /** Creates `name` in `dir` (GUARDED: fails EEXIST if it exists) holding `data`, written FILE_SYNC. */
  async writeSmall(dir: Node, name: string, data: Buffer, attrs: SetAttrs): Promise<Node> {
    const path = joinPath(dir.path, name);
    const made = await call('open', path, () => this.b.create(dir.fh, name, { mode: 'guarded', attrs }));
    let at = 0;
    while (at < data.length) {
      const w = await call('write', path, () => this.b.write(made.fh, at, data.subarray(at, at + this.b.limits.wsize), 'file'));
      if (w.count === 0) throw toFsError(Object.assign(new Error('short write'), { errnoCode: 'EIO' }), 'write', path);
      at += w.count;
    }
    return { fh: made.fh, attrs: await call('stat', path, () => this.b.getattr(made.fh, { fresh: true })), path };
  }
}

async function call<T>(syscall: string, path: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toFsError(err, syscall, path);
  }
}
