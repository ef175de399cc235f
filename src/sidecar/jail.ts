/**
 * The volume root is a jail: every request path (and Destination header) is
 * turned into a list of plain names, or refused. The NFS client cannot climb
 * above its root either (connect() roots it at the URL's directory); this is
 * the same rule enforced where the bytes come in.
 *
 * The raw path is split on '/' and each segment percent-decoded exactly once;
 * the result is a name as NFS stores it, and nothing decodes it again. What
 * could leave the volume, or means something else than a name, is refused:
 *   - '.' and '..' segments, literal or encoded (%2e%2e, .%2E, …);
 *   - an encoded slash (%2f) inside a segment (a name holds no '/');
 *   - NUL (%00), which ends a name in C and cannot be in an NFS name;
 *   - a raw backslash, which RFC 3986 does not allow unencoded and some
 *     clients and proxies read as '/' ('..\' would climb there);
 *   - malformed percent-encoding, invalid UTF-8, a fragment ('#'), names over
 *     255 bytes, more than MAX_DEPTH segments;
 *   - names beginning with RESERVED_PREFIX, which the sidecar keeps for
 *     itself (dead properties, uploads in progress).
 * Every other name another NFS client may have made is served, as PROPFIND
 * lists it: an encoded backslash (`back%5Cslash.txt`), a literal percent
 * sequence (`%252e%252e.txt` is the name `%2e%2e.txt`), control characters.
 */

export const RESERVED_PREFIX = '.mountless-';
const NAME_MAX = 255;
const MAX_DEPTH = 128;

export interface VolPath {
  /** Plain names from the volume root; [] is the root itself. */
  parts: string[];
  /** The request path ended in '/'. */
  slash: boolean;
}

export type JailCode = 'bad-encoding' | 'traversal' | 'bad-name' | 'reserved' | 'too-long';

export class JailError extends Error {
  constructor(
    readonly why: JailCode,
    message: string,
  ) {
    super(message);
    this.name = 'JailError';
  }
}

/** Decodes one raw path segment, strictly (every '%' must start a valid escape, the bytes valid UTF-8). */
function decodeSegment(raw: string): string {
  if (/%(?![0-9a-fA-F]{2})/.test(raw)) throw new JailError('bad-encoding', 'malformed percent-encoding');
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new JailError('bad-encoding', 'percent-encoding is not valid UTF-8');
  }
}

/** One decoded name, or a JailError saying why it cannot be one. */
export function checkName(name: string): void {
  if (name === '.' || name === '..') throw new JailError('traversal', `'${name}' is not allowed in a path`);
  if (name.includes('/')) throw new JailError('traversal', 'an encoded slash is not allowed in a name');
  if (name.includes('\u0000')) throw new JailError('bad-name', 'NUL is not allowed in a name');
  if (Buffer.byteLength(name) > NAME_MAX) throw new JailError('too-long', `a name is longer than ${NAME_MAX} bytes`);
  if (name.startsWith(RESERVED_PREFIX)) throw new JailError('reserved', `names beginning with '${RESERVED_PREFIX}' are reserved`);
}

/**
 * The path part of a request target (`/a/b%20c/?q`) as names. `*` (OPTIONS *)
 * is the root. Empty segments ('//') are skipped.
 */
export function parseRequestPath(target: string): VolPath {
  if (target === '*') return { parts: [], slash: true };
  if (target.includes('#')) throw new JailError('bad-name', 'a fragment is not allowed in a request');
  const q = target.indexOf('?');
  const raw = q >= 0 ? target.slice(0, q) : target;
  if (!raw.startsWith('/')) throw new JailError('bad-name', 'the request path must be absolute');
  if (raw.includes('\\')) throw new JailError('traversal', 'a raw backslash is not allowed in a path (send it as %5C)');
  const segs = raw.split('/');
  const parts: string[] = [];
  for (const seg of segs) {
    if (seg === '') continue;
    const name = decodeSegment(seg);
    checkName(name);
    parts.push(name);
    if (parts.length > MAX_DEPTH) throw new JailError('too-long', `more than ${MAX_DEPTH} path segments`);
  }
  return { parts, slash: raw.endsWith('/') };
}

/**
 * A Destination header (RFC 4918 §10.3): an absolute URI on this server or
 * an absolute path. `host` is the request's Host header; a URI naming
 * another authority is refused with 'other-server' (answered 502).
 */
export function parseDestination(value: string, host: string | undefined): VolPath | 'other-server' {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)(.*)$/.exec(value.trim());
  if (!m) return parseRequestPath(value.trim());
  const scheme = m[1]!.toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') return 'other-server';
  if (host === undefined || !sameAuthority(m[2]!, host, scheme)) return 'other-server';
  return parseRequestPath(m[3] === '' ? '/' : m[3]!);
}

function sameAuthority(a: string, b: string, scheme: string): boolean {
  const norm = (x: string) => {
    let h = x.toLowerCase();
    const at = h.lastIndexOf('@');
    if (at >= 0) h = h.slice(at + 1);
    const defaultPort = scheme === 'https' ? ':443' : ':80';
    if (h.endsWith(defaultPort)) h = h.slice(0, -defaultPort.length);
    return h;
  };
  return norm(a) === norm(b);
}

/** The NFS path of a volume path: '/' + names. */
export function fsPath(p: VolPath | readonly string[]): string {
  const parts = Array.isArray(p) ? p : (p as VolPath).parts;
  return '/' + parts.join('/');
}

/** A percent-encoded URL path for hrefs and Location headers; `dir` adds the trailing slash. */
export function hrefOf(parts: readonly string[], dir: boolean): string {
  const p = '/' + parts.map((n) => encodeURIComponent(n)).join('/');
  return dir && parts.length > 0 ? p + '/' : p;
}

/** Whether `inner` is `outer` or below it. */
export function isWithin(inner: readonly string[], outer: readonly string[]): boolean {
  if (inner.length < outer.length) return false;
  for (let k = 0; k < outer.length; k++) if (inner[k] !== outer[k]) return false;
  return true;
}
