import { fsError, InvalidArgError, invalidArgType } from '../errors.js';
import type { Attrs, Backend, CallOpts, FileHandleId, Looked } from './backend.js';

/** Symlinks followed in one resolution before ELOOP, as Linux (MAXSYMLINKS). */
export const MAX_SYMLINKS = 40;
export const NAME_MAX = 255;

export type PathLike = string | Buffer | URL;

/**
 * A validated path: absolute inside the export, split into components. `..`
 * stays a component (it is resolved physically, after symlinks, as the kernel
 * does), but a path whose `..` would climb above the export root is refused
 * before anything is sent. Other `.` components are dropped, except a final
 * one: `/file/.` must fail ENOTDIR and `rmdir('/dir/.')` EINVAL, so the
 * resolver and the calls acting on a name have to see it.
 */
export interface ParsedPath {
  /** The path as given, for error messages. */
  display: string;
  parts: string[];
  /** Ends in '/': the final component must be a directory. */
  trailingSlash: boolean;
  /** At least one component, and none is '.' or '..': a backend's resolvePath can take `parts` as they are. */
  plain: boolean;
}

export function toPathString(p: unknown, argName = 'path'): string {
  let s: string;
  if (typeof p === 'string') s = p;
  else if (Buffer.isBuffer(p)) s = p.toString('utf8');
  else if (p instanceof URL) {
    throw new InvalidArgError('ERR_INVALID_ARG_VALUE', `The argument '${argName}' must be a path inside the export, not a URL. Received ${p.href}`);
  } else throw invalidArgType(argName, 'of type string or an instance of Buffer or URL', p);
  if (s.includes('\0')) {
    throw new InvalidArgError('ERR_INVALID_ARG_VALUE', `The argument '${argName}' must be a string or Uint8Array without null bytes. Received ${JSON.stringify(s)}`);
  }
  return s;
}

/**
 * Recently parsed paths: a program stats or opens the same paths over and
 * over, and splitting them was a tenth of a cached stat. Entries are frozen,
 * since every caller shares them; the map is simply emptied when full.
 */
const parsed = new Map<string, ParsedPath>();
const PARSED_MAX = 4096;

export function parsePath(p: unknown, syscall: string, argName = 'path'): ParsedPath {
  const display = toPathString(p, argName);
  const hit = parsed.get(display);
  if (hit) return hit;
  const r = parseFresh(display, syscall, argName);
  if (parsed.size >= PARSED_MAX) parsed.clear();
  parsed.set(display, r);
  return r;
}

function parseFresh(display: string, syscall: string, argName: string): ParsedPath {
  if (display === '') throw fsError('ENOENT', syscall, display);
  const parts: string[] = [];
  let depth = 0;
  const comps = display.split('/');
  let last = comps.length - 1;
  while (last > 0 && comps[last] === '') last--;
  for (let i = 0; i < comps.length; i++) {
    const c = comps[i]!;
    if (c === '' || (c === '.' && i !== last)) continue;
    if (c === '.') {
      parts.push(c);
      continue;
    }
    if (c === '..') {
      if (depth === 0) {
        throw new InvalidArgError('ERR_INVALID_ARG_VALUE', `The argument '${argName}' climbs above the export root. Received '${display}'`);
      }
      depth--;
    } else {
      // A UTF-16 code unit is at most 3 UTF-8 bytes: short names need no count.
      if (c.length * 3 > NAME_MAX && Buffer.byteLength(c) > NAME_MAX) throw fsError('ENAMETOOLONG', syscall, display);
      depth++;
    }
    parts.push(c);
  }
  const plain = parts.length > 0 && !parts.includes('.') && !parts.includes('..');
  return Object.freeze({ display, parts: Object.freeze(parts) as string[], trailingSlash: display.length > 1 && display.endsWith('/'), plain });
}

/** A name for a new directory entry: one component, not '.', '..', empty, '/', NUL or > 255 bytes. */
export function checkName(name: string, syscall: string, display: string): void {
  if (name === '' || name === '.' || name === '..') throw fsError(name === '' ? 'ENOENT' : 'EEXIST', syscall, display);
  if (Buffer.byteLength(name) > NAME_MAX) throw fsError('ENAMETOOLONG', syscall, display);
}

/** What Linux answers a call on a name that is '..' ('dir/..'), by syscall. */
const DOTDOT_ERRORS: Record<string, string> = {
  rmdir: 'ENOTEMPTY',
  mkdir: 'EEXIST',
  link: 'EEXIST',
  symlink: 'EEXIST',
  rename: 'EBUSY',
  unlink: 'EISDIR',
  open: 'EISDIR',
};

export interface Resolved {
  fh: FileHandleId;
  attrs: Attrs;
}

export interface ResolvedParent {
  dir: FileHandleId;
  /** Final component; undefined when the path names the export root. */
  name: string | undefined;
}

/** A final path component that does not exist, in a directory that does (PathResolver.resolveOrMissing). */
export class MissingName {
  constructor(
    readonly dir: FileHandleId,
    readonly name: string,
  ) {}
}

function sameResolved(r: Resolved): Resolved {
  return r;
}

function rethrow(err: unknown): never {
  throw err;
}

/**
 * Walks paths component by component with LOOKUP, following symlinks
 * (relative to their directory; absolute targets are taken relative to the
 * export root, as libnfs does) up to MAX_SYMLINKS.
 *
 * Invariant: `stack` holds the handles of the directories from the root to the
 * current one, so `..` pops physically and never leaves the export.
 */
export class PathResolver {
  constructor(private readonly backend: Backend) {}

  /**
   * The resolution, if the caches hold all of it (a plain path, its handle
   * and fresh attributes, and nothing left to follow); undefined otherwise.
   */
  cached(path: ParsedPath, follow: boolean): Resolved | undefined {
    const b = this.backend;
    if (!b.cachedPath || path.trailingSlash || path.parts.length === 0) return undefined;
    for (const c of path.parts) if (c === '..' || c === '.' || c === '') return undefined;
    const l = b.cachedPath(path.parts, b.rootFh);
    if (!l?.attrs || (follow && l.attrs.kind === 'symlink')) return undefined;
    return { fh: l.fh, attrs: l.attrs };
  }

  resolve(path: ParsedPath, follow: boolean, syscall: string, o?: CallOpts): Promise<Resolved> {
    return this.resolveThen(path, follow, syscall, o, sameResolved, rethrow);
  }

  /**
   * resolve(), then `k` with the resolution or `fail` with the error, in
   * the reaction that receives the server's answer. A plain path with a
   * backend that resolves whole paths (NFSv4) is one call, and when its
   * answer needs nothing more (attributes came with it, no final symlink to
   * follow) nothing else runs; anything else continues in walk() from that
   * same call. Never throws synchronously.
   */
  resolveThen<R>(path: ParsedPath, follow: boolean, syscall: string, o: CallOpts | undefined, k: (r: Resolved) => R, fail: (err: unknown) => R | Promise<R>): Promise<R> {
    // A trailing slash asks for a directory, so even lstat follows a final symlink ('link/'), as Linux does.
    const deref = follow || path.trailingSlash;
    const b = this.backend;
    if (!path.plain || !b.resolvePath) return this.resolveWalk(path, deref, syscall, o, undefined).then(k, fail);
    let first: Promise<Looked>;
    try {
      first = b.resolvePath(path.parts, b.rootFh, o);
    } catch (err) {
      first = Promise.reject(err);
    }
    return first.then(
      (l) => {
        const a = l.attrs;
        if (a === undefined || (deref && a.kind === 'symlink')) return this.resolveWalk(path, deref, syscall, o, first).then(k, fail);
        if (path.trailingSlash && a.kind !== 'directory') return fail(fsError('ENOTDIR', syscall, path.display));
        return k(l as Resolved);
      },
      () => this.resolveWalk(path, deref, syscall, o, first).then(k, fail),
    );
  }

  /** resolve() by walk(); `first`: a resolvePath of the whole path from the root, already sent. */
  private async resolveWalk(path: ParsedPath, deref: boolean, syscall: string, o: CallOpts | undefined, first: Promise<Looked> | undefined): Promise<Resolved> {
    const r = await this.walk(path.parts, deref, syscall, path.display, o, undefined, first);
    if (path.trailingSlash && r.attrs.kind !== 'directory') throw fsError('ENOTDIR', syscall, path.display);
    return r;
  }

  /**
   * resolve() for an O_CREAT open: when the walk goes component by
   * component (NFSv3) and only the final name is missing, with no symlink
   * followed on the way, the result is that name and the directory the
   * same walk found for it (what resolveParent would find, without walking
   * again), rather than ENOENT. Otherwise as resolve().
   */
  async resolveOrMissing(path: ParsedPath, follow: boolean, syscall: string, o?: CallOpts): Promise<Resolved | MissingName> {
    if (this.backend.resolvePath && !path.parts.includes('..')) return this.resolve(path, follow, syscall, o);
    const r = await this.walkSlow(path.parts, follow || path.trailingSlash, syscall, path.display, o, [], true);
    if (r instanceof MissingName) return r;
    if (path.trailingSlash && r.attrs.kind !== 'directory') throw fsError('ENOTDIR', syscall, path.display);
    return r;
  }

  /** Resolves every component but the last (following symlinks), for calls that act on a name in a directory. */
  async resolveParent(path: ParsedPath, syscall: string, o?: CallOpts): Promise<ResolvedParent> {
    const parts = path.parts.slice();
    // A path ending in '..' names a directory by way of its child: the path
    // must resolve, then each call refuses it as Linux does (DOTDOT_ERRORS).
    // A final '.' is handed to the caller as the name, which refuses it in
    // the way its syscall does (rmdir EINVAL, mkdir EEXIST).
    if (parts[parts.length - 1] === '..') {
      await this.walk(parts, true, syscall, path.display, o);
      throw fsError(DOTDOT_ERRORS[syscall] ?? 'EINVAL', syscall, path.display);
    }
    if (parts.length === 0) return { dir: this.backend.rootFh, name: undefined };
    const name = parts.pop()!;
    const dir = await this.walk(parts, true, syscall, path.display, o);
    if (dir.attrs.kind !== 'directory') throw fsError('ENOTDIR', syscall, path.display);
    return { dir: dir.fh, name };
  }

  /** The canonical path: symlinks expanded, '.' and '..' resolved. */
  async realpath(path: ParsedPath, syscall: string, o?: CallOpts): Promise<string> {
    const names: string[] = [];
    await this.walk(path.parts, true, syscall, path.display, o, names);
    return '/' + names.join('/');
  }

  /**
   * With a backend that resolves several names in one round trip (NFSv4),
   * runs of plain names go in one call. That walk keeps no `stack` of the
   * directories it passed, so it is used only where no '..' follows (and not
   * for realpath, which needs the names); a '..' met later restarts the walk
   * component by component.
   */
  private async walk(initial: string[], follow: boolean, syscall: string, display: string, o?: CallOpts, names?: string[], first?: Promise<Looked>): Promise<Resolved> {
    if (this.backend.resolvePath && !names && !initial.includes('..')) {
      const r = await this.walkFast(initial, follow, syscall, display, o, first);
      if (r) return r;
    }
    return this.walkSlow(initial, follow, syscall, display, o, names ?? []);
  }

  /**
   * undefined: a symlink brought in a '..'; the caller walks again the slow way.
   * `first`: the resolvePath of `initial` from the root, when the caller already sent it.
   */
  private async walkFast(initial: string[], follow: boolean, syscall: string, display: string, o?: CallOpts, first?: Promise<Looked>): Promise<Resolved | undefined> {
    const b = this.backend;
    let parts = initial;
    if (initial.some((c) => c === '' || c === '.')) {
      parts = initial.filter((c) => c !== '' && c !== '.');
      // 'file/.' must still fail with ENOTDIR: leave such paths to the slow walk.
      if (parts.length !== initial.filter((c) => c !== '').length) return undefined;
    }
    let from: FileHandleId = b.rootFh;
    let links = 0;
    for (;;) {
      if (parts.length === 0) return { fh: from, attrs: await b.getattr(from, o) };
      let l;
      try {
        const sent = first ?? b.resolvePath!(parts, from, o);
        first = undefined;
        l = await sent;
      } catch (err) {
        const sl = (err as { symlink?: { index: number; dirFh: FileHandleId; target: string } }).symlink;
        if (!sl) throw err;
        if (++links > MAX_SYMLINKS) throw fsError('ELOOP', syscall, display);
        if (sl.target === '') throw fsError('ENOENT', syscall, display);
        const next = sl.target.split('/').concat(parts.slice(sl.index + 1));
        if (next.includes('..')) return undefined;
        from = sl.target.startsWith('/') ? b.rootFh : sl.dirFh;
        parts = next.filter((c) => c !== '' && c !== '.');
        continue;
      }
      const attrs = l.attrs ?? (await b.getattr(l.fh, o));
      if (attrs.kind !== 'symlink' || !follow) return { fh: l.fh, attrs };
      // A final symlink to follow: its target is relative to its directory.
      if (++links > MAX_SYMLINKS) throw fsError('ELOOP', syscall, display);
      const target = await b.readlink(l.fh, o);
      if (target === '') throw fsError('ENOENT', syscall, display);
      const tparts = target.split('/');
      if (tparts.includes('..')) return undefined;
      if (!target.startsWith('/')) {
        const dirParts = parts.slice(0, -1);
        from = dirParts.length ? (await b.resolvePath!(dirParts, from, o)).fh : from;
      } else from = b.rootFh;
      parts = tparts.filter((c) => c !== '' && c !== '.');
    }
  }

  /** With `missingLast`, a final name of `initial` that does not exist (no symlink followed) is a MissingName instead of ENOENT. */
  private async walkSlow(initial: string[], follow: boolean, syscall: string, display: string, o: CallOpts | undefined, names: string[]): Promise<Resolved>;
  private async walkSlow(initial: string[], follow: boolean, syscall: string, display: string, o: CallOpts | undefined, names: string[], missingLast: true): Promise<Resolved | MissingName>;
  private async walkSlow(initial: string[], follow: boolean, syscall: string, display: string, o: CallOpts | undefined, names: string[], missingLast = false): Promise<Resolved | MissingName> {
    const b = this.backend;
    // names[k] is the entry name of stack[k].
    const stack: Resolved[] = [];
    let root: Resolved | undefined;
    const getRoot = async () => (root ??= { fh: b.rootFh, attrs: await b.getattr(b.rootFh, o) });
    let cur: Resolved | undefined;
    let parts = initial;
    let i = 0;
    let links = 0;
    while (i < parts.length) {
      const name = parts[i]!;
      const last = i === parts.length - 1;
      i++;
      if (name === '' || name === '.' || name === '..') {
        // 'file/.' and 'file/..' fail as the kernel fails them: the component before must be a directory.
        if (cur && cur.attrs.kind !== 'directory') throw fsError('ENOTDIR', syscall, display);
        if (name !== '..') continue;
        if (stack.length > 0) {
          stack.pop();
          names.pop();
        }
        cur = stack[stack.length - 1];
        continue;
      }
      // The export root is a directory (mount checked it): no GETATTR needed to walk down from it.
      if (cur && cur.attrs.kind !== 'directory') throw fsError('ENOTDIR', syscall, display);
      const dir = cur ? cur.fh : b.rootFh;
      let looked: Looked;
      try {
        looked = await b.lookup(dir, name, o);
      } catch (err) {
        if (missingLast && last && links === 0 && (err as { errnoCode?: string }).errnoCode === 'ENOENT') return new MissingName(dir, name);
        throw err;
      }
      const attrs = looked.attrs ?? (await b.getattr(looked.fh, o));
      if (attrs.kind === 'symlink' && (follow || !last)) {
        if (++links > MAX_SYMLINKS) throw fsError('ELOOP', syscall, display);
        const target = await b.readlink(looked.fh, o);
        if (target === '') throw fsError('ENOENT', syscall, display);
        const tparts = target.split('/');
        if (target.startsWith('/')) {
          stack.length = 0;
          names.length = 0;
          cur = undefined;
        }
        parts = tparts.concat(parts.slice(i));
        i = 0;
        continue;
      }
      cur = { fh: looked.fh, attrs };
      stack.push(cur);
      names.push(name);
    }
    return cur ?? (await getRoot());
  }
}
