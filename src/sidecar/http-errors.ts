import { STATUS_CODES } from 'node:http';
import { JailError } from './jail.js';

/**
 * An error that is an HTTP answer: status, optional headers, and either a
 * plain-text message or a WebDAV `DAV:error` body naming a precondition
 * (RFC 4918 §16), e.g. 'lock-token-submitted'.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message?: string,
    readonly opts: { headers?: Record<string, string | string[]>; davCondition?: string; davHrefs?: string[]; close?: boolean } = {},
  ) {
    super(message ?? STATUS_CODES[status] ?? `HTTP ${status}`);
    this.name = 'HttpError';
  }
}

/** The HTTP status for an fs error code (node-shaped errors from the NFS client). */
export function statusForCode(code: string | undefined): number {
  switch (code) {
    case 'ENOENT':
    case 'ESTALE':
      return 404;
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return 403;
    case 'EEXIST':
    case 'ENOTEMPTY':
    case 'EISDIR':
    case 'ENOTDIR':
    case 'EBUSY':
    case 'EXDEV':
      return 409;
    case 'ENOSPC':
    case 'EDQUOT':
      return 507;
    case 'EFBIG':
      return 413;
    case 'ENAMETOOLONG':
      return 414;
    case 'ELOOP':
      return 508;
    case 'ETIMEDOUT':
      return 504;
    case 'ECONNRESET':
    case 'ECONNREFUSED':
    case 'EPIPE':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EJUKEBOX':
      return 503;
    default:
      return 500;
  }
}

/** Any thrown value as an HttpError (jail refusals, fs errors, RPC failures, bugs). */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof JailError) return new HttpError(err.why === 'reserved' ? 403 : err.why === 'too-long' ? 414 : 400, err.message);
  const e = err as { code?: string; name?: string; message?: string };
  let status = statusForCode(e?.code);
  if (status === 500 && typeof e?.name === 'string') {
    if (e.name === 'RpcTimeoutError') status = 504;
    else if (e.name === 'RpcConnectionError' || e.name === 'RpcClosedError') status = 503;
  }
  // Server-side failures get a generic message: details go to the log, not to the client.
  const message = status >= 500 ? STATUS_CODES[status] : e?.code ? errnoText(e.code) : STATUS_CODES[status];
  const out = new HttpError(status, message);
  (out as { cause?: unknown }).cause = err;
  return out;
}

function errnoText(code: string): string {
  const map: Record<string, string> = {
    ENOENT: 'Not Found',
    EACCES: 'Permission denied',
    EPERM: 'Operation not permitted',
    EROFS: 'Read-only file system',
    EEXIST: 'Already exists',
    ENOTEMPTY: 'Directory not empty',
    EISDIR: 'Is a directory',
    ENOTDIR: 'Not a directory',
    ENAMETOOLONG: 'Name too long',
    ELOOP: 'Too many levels of symbolic links',
  };
  return map[code] ?? code;
}
