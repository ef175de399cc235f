/**
 * How long cached attributes are trusted, in the kernel's terms (nfs(5)):
 * files between acregmin and acregmax seconds, directories between acdirmin
 * and acdirmax (the timeouts are options: see options.ts). Within the range,
 * the longer a file has gone unmodified the longer we trust it (a tenth of
 * its age), as the Linux client's heuristic.
 */
import type { Attrs } from '../fs/backend.js';
import type { CachePolicy } from '../options.js';
export { DEFAULT_POLICY, type CachePolicy } from '../options.js';

/** Milliseconds to trust `a`, seen at `nowMs`. */
export function attrTtlMs(p: CachePolicy, a: Attrs, nowMs: number): number {
  const dir = a.kind === 'directory';
  const min = dir ? p.acdirmin : p.acregmin;
  const max = dir ? p.acdirmax : p.acregmax;
  const ageS = Math.max(0, Math.floor(nowMs / 1000) - a.mtime.sec);
  return Math.round(Math.min(max, Math.max(min, ageS / 10)) * 1000);
}
