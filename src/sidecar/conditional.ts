/**
 * Validators and HTTP preconditions (RFC 9110 §8.8, §13).
 *
 * The ETag is strong and built from what changes when content changes: the
 * file id (an upload replaces the file, so the id changes), the size and the
 * mtime in microseconds. Last-Modified is the mtime at one-second
 * resolution, as HTTP dates are.
 */

export interface Validators {
  ino: number;
  size: number;
  mtimeMs: number;
}

export function etagOf(v: Validators): string {
  return `"${v.ino.toString(16)}-${v.size.toString(16)}-${Math.round(v.mtimeMs * 1000).toString(16)}"`;
}

export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

/** An HTTP date in seconds since the epoch, or undefined if it does not parse. */
export function parseHttpDate(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : Math.floor(t / 1000);
}

interface EntityTag {
  weak: boolean;
  opaque: string;
}

/** A comma-separated list of entity tags; '*' as the single element `'*'`. Malformed members are skipped. */
export function parseEtagList(s: string): EntityTag[] | '*' {
  if (s.trim() === '*') return '*';
  const out: EntityTag[] = [];
  const re = /\s*(W\/)?("[^"]*")\s*(?:,|$)/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    out.push({ weak: m[1] !== undefined, opaque: m[2]! });
    if (re.lastIndex >= s.length) break;
  }
  return out;
}

function parseOne(etag: string): EntityTag {
  return etag.startsWith('W/') ? { weak: true, opaque: etag.slice(2) } : { weak: false, opaque: etag };
}

export function strongMatch(a: string, b: string): boolean {
  const x = parseOne(a);
  const y = parseOne(b);
  return !x.weak && !y.weak && x.opaque === y.opaque;
}

export function weakMatch(a: string, b: string): boolean {
  return parseOne(a).opaque === parseOne(b).opaque;
}

export interface PreconditionHeaders {
  'if-match'?: string | undefined;
  'if-none-match'?: string | undefined;
  'if-modified-since'?: string | undefined;
  'if-unmodified-since'?: string | undefined;
}

/** What the current representation looks like; undefined when there is none. */
export interface Current {
  etag: string;
  mtimeMs: number;
}

/**
 * RFC 9110 §13.2.2 in its order: If-Match, If-Unmodified-Since,
 * If-None-Match, If-Modified-Since. Returns the status to answer with (304
 * or 412), or undefined to go on with the request.
 */
export function checkPreconditions(h: PreconditionHeaders, method: string, cur: Current | undefined): 304 | 412 | undefined {
  const safe = method === 'GET' || method === 'HEAD';
  if (h['if-match'] !== undefined) {
    const list = parseEtagList(h['if-match']);
    if (!cur) return 412;
    if (list !== '*' && !list.some((t) => !t.weak && strongMatch(t.opaque, cur.etag))) return 412;
  } else if (h['if-unmodified-since'] !== undefined && cur) {
    const since = parseHttpDate(h['if-unmodified-since']);
    if (since !== undefined && Math.floor(cur.mtimeMs / 1000) > since) return 412;
  }
  if (h['if-none-match'] !== undefined) {
    const list = parseEtagList(h['if-none-match']);
    const matched = cur !== undefined && (list === '*' || list.some((t) => weakMatch(t.opaque, cur.etag)));
    if (matched) return safe ? 304 : 412;
  } else if (safe && h['if-modified-since'] !== undefined && cur) {
    const since = parseHttpDate(h['if-modified-since']);
    if (since !== undefined && Math.floor(cur.mtimeMs / 1000) <= since) return 304;
  }
  return undefined;
}

/**
 * If-Range (RFC 9110 §13.1.5): the Range header counts only if the validator
 * still matches: an entity tag by strong comparison, or a date equal to
 * Last-Modified.
 */
export function ifRangeHolds(value: string | undefined, cur: Current): boolean {
  if (value === undefined) return true;
  const v = value.trim();
  if (v.startsWith('"') || v.startsWith('W/')) return strongMatch(v, cur.etag);
  const d = parseHttpDate(v);
  return d !== undefined && d === Math.floor(cur.mtimeMs / 1000);
}
