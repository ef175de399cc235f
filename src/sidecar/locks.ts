import { randomUUID } from 'node:crypto';
import type { XmlNode } from './xml.js';

/**
 * WebDAV write locks (RFC 4918 §6, §7), in memory: they live as long as the
 * sidecar process, which is what a single sidecar in front of a volume
 * needs. A lock is rooted at a path and covers it, plus everything below it
 * when its depth is infinity. Exclusive locks conflict with every other
 * lock on an overlapping scope; shared locks only with exclusive ones.
 *
 * Expired locks are dropped when next looked at, and by a periodic sweep.
 */

export type LockScope = 'exclusive' | 'shared';
export type LockDepth = 0 | 'infinity';

export interface Lock {
  token: string;
  /** Volume path of the lock root, '/a/b' ('/' for the root). */
  root: string;
  depth: LockDepth;
  scope: LockScope;
  /** The DAV:owner element's content, kept verbatim to give back in lock discovery. */
  owner: XmlNode[] | undefined;
  /** Seconds granted; Infinity for an infinite timeout. */
  timeout: number;
  /** ms since the epoch; Infinity when the timeout is infinite. */
  expires: number;
}

export interface LockOptions {
  /** Timeout granted when the client asks for none. Seconds. */
  defaultTimeout: number;
  /** Longest timeout granted (an Infinite request gets this). Seconds. */
  maxTimeout: number;
  /** Locks held at once before LOCK is refused. */
  maxLocks: number;
  now?: () => number;
}

export const DEFAULT_LOCK_OPTIONS: LockOptions = { defaultTimeout: 600, maxTimeout: 3600, maxLocks: 10_000 };

export class LockLimitError extends Error {
  constructor(max: number) {
    super(`too many locks (at most ${max})`);
    this.name = 'LockLimitError';
  }
}

/** '/a/b' and every ancestor up to '/': the roots whose depth-infinity locks cover it. */
export function ancestorsOf(path: string): string[] {
  const out = [path];
  let p = path;
  while (p !== '/') {
    const k = p.lastIndexOf('/');
    p = k <= 0 ? '/' : p.slice(0, k);
    out.push(p);
  }
  return out;
}

function isBelow(path: string, root: string): boolean {
  return root === '/' ? path !== '/' : path.startsWith(root + '/');
}

export class LockManager {
  /** token → lock. */
  private readonly byToken = new Map<string, Lock>();
  /** lock root → tokens rooted there. Kept in step with byToken. */
  private readonly byRoot = new Map<string, Set<string>>();
  private readonly opts: Required<LockOptions>;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(opts: Partial<LockOptions> = {}) {
    this.opts = { ...DEFAULT_LOCK_OPTIONS, now: Date.now, ...opts } as Required<LockOptions>;
  }

  /** Starts the periodic sweep of expired locks (unref'd: it never keeps the process alive). */
  startSweeping(everyMs = 30_000): void {
    this.sweeper ??= setInterval(() => this.sweep(), everyMs).unref();
  }

  stop(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  get size(): number {
    return this.byToken.size;
  }

  /** Seconds to grant for a Timeout header value (`Second-3600, Infinite`). */
  grantTimeout(header: string | undefined): number {
    if (header === undefined) return this.opts.defaultTimeout;
    for (const part of header.split(',')) {
      const t = part.trim();
      if (/^infinite$/i.test(t)) return this.opts.maxTimeout;
      const m = /^second-(\d+)$/i.exec(t);
      if (m) return Math.max(1, Math.min(Number(m[1]), this.opts.maxTimeout));
    }
    return this.opts.defaultTimeout;
  }

  sweep(): void {
    const now = this.opts.now();
    for (const l of this.byToken.values()) if (l.expires <= now) this.drop(l);
  }

  private live(l: Lock | undefined): Lock | undefined {
    if (l && l.expires <= this.opts.now()) {
      this.drop(l);
      return undefined;
    }
    return l;
  }

  private drop(l: Lock): void {
    this.byToken.delete(l.token);
    const set = this.byRoot.get(l.root);
    set?.delete(l.token);
    if (set?.size === 0) this.byRoot.delete(l.root);
  }

  get(token: string): Lock | undefined {
    return this.live(this.byToken.get(token));
  }

  /** Locks rooted exactly at `path`. */
  rootedAt(path: string): Lock[] {
    const out: Lock[] = [];
    for (const t of this.byRoot.get(path) ?? []) {
      const l = this.live(this.byToken.get(t));
      if (l) out.push(l);
    }
    return out;
  }

  /** Locks that apply to `path`: rooted at it, or depth-infinity locks on an ancestor. */
  covering(path: string): Lock[] {
    const out: Lock[] = [];
    for (const p of ancestorsOf(path)) for (const l of this.rootedAt(p)) if (p === path || l.depth === 'infinity') out.push(l);
    return out;
  }

  /** Locks rooted strictly below `path`. */
  below(path: string): Lock[] {
    const out: Lock[] = [];
    for (const [root] of this.byRoot) if (isBelow(root, path)) out.push(...this.rootedAt(root));
    return out;
  }

  /** Existing locks that a new lock with this scope on this root and depth would conflict with. */
  conflicts(root: string, depth: LockDepth, scope: LockScope): Lock[] {
    const overlapping = this.covering(root);
    if (depth === 'infinity') overlapping.push(...this.below(root));
    return overlapping.filter((l) => scope === 'exclusive' || l.scope === 'exclusive');
  }

  /** Creates a lock; the caller has checked conflicts. */
  create(root: string, depth: LockDepth, scope: LockScope, owner: XmlNode[] | undefined, timeout: number): Lock {
    if (this.byToken.size >= this.opts.maxLocks) {
      this.sweep();
      if (this.byToken.size >= this.opts.maxLocks) throw new LockLimitError(this.opts.maxLocks);
    }
    const l: Lock = { token: `opaquelocktoken:${randomUUID()}`, root, depth, scope, owner, timeout, expires: 0 };
    this.setExpiry(l, timeout);
    this.byToken.set(l.token, l);
    let set = this.byRoot.get(root);
    if (!set) this.byRoot.set(root, (set = new Set()));
    set.add(l.token);
    return l;
  }

  refresh(l: Lock, timeout: number): void {
    this.setExpiry(l, timeout);
  }

  private setExpiry(l: Lock, timeout: number): void {
    l.timeout = timeout;
    l.expires = timeout === Infinity ? Infinity : this.opts.now() + timeout * 1000;
  }

  unlock(token: string): boolean {
    const l = this.byToken.get(token);
    if (!l) return false;
    this.drop(l);
    return true;
  }

  /** Drops the locks on `path` and below: the resource is gone (DELETE, MOVE source). */
  removeTree(path: string): void {
    for (const l of [...this.rootedAt(path), ...this.below(path)]) this.drop(l);
  }

  /** Seconds left, for the Timeout element of lock discovery. */
  remaining(l: Lock): number {
    return l.expires === Infinity ? Infinity : Math.max(0, Math.ceil((l.expires - this.opts.now()) / 1000));
  }
}
