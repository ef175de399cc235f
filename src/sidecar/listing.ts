import type { NfsClient } from '../fs/client.js';
import type { Stats } from '../fs/stats.js';
import { mapLimit } from './context.js';
import { hrefOf, RESERVED_PREFIX } from './jail.js';
import { bytes } from '../units.js';

/** One directory member, as the JSON listing shows it. */
export interface ListEntry {
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'other';
  size: number;
  /** ISO 8601. */
  mtime: string;
}

function typeOf(st: Stats): ListEntry['type'] {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symlink';
  return 'other';
}

/** Stats calls at once while listing (each is usually a cache hit after READDIRPLUS). */
const STAT_PARALLEL = 32;

/**
 * The members of a directory with their types, sizes and mtimes, sorted by
 * name, without the sidecar's reserved names. Symlinks are described by
 * what they point to (GET follows them); a dangling one as a symlink.
 */
export async function listDirectory(nfs: NfsClient, dir: string): Promise<ListEntry[]> {
  const names = (await nfs.readdir(dir)).filter((n) => !n.startsWith(RESERVED_PREFIX)).sort();
  const base = dir.endsWith('/') ? dir : dir + '/';
  const out = await mapLimit(names, STAT_PARALLEL, async (name): Promise<ListEntry | undefined> => {
    let st: Stats;
    try {
      st = await nfs.stat(base + name);
    } catch {
      try {
        st = await nfs.lstat(base + name);
      } catch {
        return undefined; // removed while we listed
      }
    }
    return { name, type: typeOf(st), size: st.size, mtime: st.mtime.toISOString() };
  });
  return out.filter((e): e is ListEntry => e !== undefined);
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"'\u0000-\u001f\u007f]/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function listingHtml(parts: readonly string[], entries: readonly ListEntry[]): string {
  const title = escapeHtml(hrefOf(parts, true) === '/' ? '/' : '/' + parts.join('/') + '/');
  const rows: string[] = [];
  if (parts.length > 0) rows.push(`<tr><td><a href="${escapeHtml(hrefOf(parts.slice(0, -1), true))}">../</a></td><td></td><td></td></tr>`);
  for (const e of entries) {
    const dir = e.type === 'directory';
    const href = escapeHtml(hrefOf([...parts, e.name], dir));
    rows.push(`<tr><td><a href="${href}">${escapeHtml(e.name)}${dir ? '/' : ''}</a></td><td class="n">${dir ? '' : bytes(e.size)}</td><td>${e.mtime.replace('T', ' ').slice(0, 19)}</td></tr>`);
  }
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Index of ${title}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em}td{padding:.15em 1.2em .15em 0}.n{text-align:right}</style>
</head><body><h1>Index of ${title}</h1>
<table><thead><tr><th align="left">Name</th><th>Size</th><th align="left">Modified (UTC)</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table></body></html>
`;
}

/** Whether the client asked for JSON: `Accept` names application/json and not text/html, or `?format=json`. */
export function wantsJson(accept: string | undefined, query: string): boolean {
  if (/(^|&)format=json(&|$)/.test(query)) return true;
  if (!accept) return false;
  return /application\/json/i.test(accept) && !/text\/html/i.test(accept);
}
