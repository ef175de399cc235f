import { UsageError } from './args.js';
import { errnoMessage } from '../errors.js';

/** Where a command reads and writes; tests pass their own. */
export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
}

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env };
}

/** strerror(3) wording, as coreutils prints it, for the errors people meet most. */
const STRERROR: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EEXIST: 'File exists',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  ENOTEMPTY: 'Directory not empty',
  EROFS: 'Read-only file system',
  ENOSPC: 'No space left on device',
  EDQUOT: 'Disk quota exceeded',
  ENAMETOOLONG: 'File name too long',
  ELOOP: 'Too many levels of symbolic links',
  EINVAL: 'Invalid argument',
  EXDEV: 'Invalid cross-device link',
  EBUSY: 'Device or resource busy',
  EFBIG: 'File too large',
  EIO: 'Input/output error',
  ESTALE: 'Stale file handle',
  ETIMEDOUT: 'Connection timed out',
  ECONNREFUSED: 'Connection refused',
  ECONNRESET: 'Connection reset by peer',
  EHOSTUNREACH: 'No route to host',
  ENOTSUP: 'Operation not supported',
  EMLINK: 'Too many links',
};

/** What went wrong, in words a shell user knows: "No such file or directory". */
export function describeError(err: unknown): string {
  const e = err as { code?: string; message?: string; info?: { code?: string } };
  if (e?.code === 'ERR_FS_EISDIR') return STRERROR.EISDIR!;
  const c = e?.code;
  if (c && STRERROR[c]) return STRERROR[c];
  if (c && /^E[A-Z]+$/.test(c)) {
    const m = errnoMessage(c);
    return m.charAt(0).toUpperCase() + m.slice(1);
  }
  return e?.message ?? String(err);
}

/**
 * Prints `mountless: cannot <verb> '<path>': <reason>` on stderr. A usage
 * error is not a per-file failure: it is rethrown, to end the command with
 * status 2.
 */
export function cannot(io: CliIo, verb: string, path: string, err: unknown): void {
  if (err instanceof UsageError) throw err;
  io.stderr.write(`mountless: cannot ${verb} '${path}': ${describeError(err)}\n`);
}

export function warn(io: CliIo, message: string): void {
  io.stderr.write(`mountless: ${message}\n`);
}

/** 1536 → "1.5K", as ls -h and df -h print sizes. */
export function humanSize(n: number): string {
  const units = ['', 'K', 'M', 'G', 'T', 'P', 'E'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  if (u === 0) return String(n);
  return `${v < 10 ? (Math.ceil(v * 10) / 10).toFixed(1) : Math.ceil(v).toFixed(0)}${units[u]}`;
}

export { bytes } from '../units.js';
