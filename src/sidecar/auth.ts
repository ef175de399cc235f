import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * One shared secret, presented as `Authorization: Bearer <token>` or, for
 * WebDAV clients that only know passwords, `Authorization: Basic` with the
 * token as the password (any user name). The comparison is constant-time:
 * both sides are hashed to 32 bytes first, so neither the content nor the
 * length of the token leaks through timing.
 */
export class TokenAuth {
  private readonly digest: Buffer;

  constructor(token: string) {
    if (token === '') throw new Error('the token is empty');
    this.digest = sha256(token);
  }

  /** Whether an Authorization header value carries the token. */
  check(header: string | undefined): boolean {
    const presented = presentedSecret(header);
    // Compare even when nothing usable was presented, so both paths take the same time.
    const ok = timingSafeEqual(sha256(presented ?? ''), this.digest);
    return presented !== undefined && ok;
  }
}

/** The secret in an Authorization header: the bearer token or the Basic password. */
export function presentedSecret(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*(\S+)\s+(\S+)\s*$/.exec(header);
  if (!m) return undefined;
  const scheme = m[1]!.toLowerCase();
  if (scheme === 'bearer') return m[2];
  if (scheme === 'basic') {
    const decoded = Buffer.from(m[2]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon < 0 ? undefined : decoded.slice(colon + 1);
  }
  return undefined;
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** The challenges sent with 401: both schemes, so browsers and WebDAV clients prompt for a password. */
export const CHALLENGES = ['Bearer realm="mountless"', 'Basic realm="mountless", charset="UTF-8"'];

/** Reads the token from a file (trailing newline and surrounding whitespace dropped). */
export async function readTokenFile(path: string): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const t = (await readFile(path, 'utf8')).trim();
  if (t === '') throw new Error(`token file ${path} is empty`);
  return t;
}
