import { constants as osConstants } from 'node:os';
import { getSystemErrorMap } from 'node:util';

import { XdrDecodeError } from './xdr/errors.js';
import { AbortError, RpcError } from './rpc/errors.js';
import { MountError } from './mount/mount.js';

export { XdrDecodeError } from './xdr/errors.js';
export {
  RpcError,
  RpcDeadlineError,
  RpcRecordError,
  RpcAcceptedError,
  RpcDeniedError,
  RpcTimeoutError,
  RpcConnectionError,
  RpcClosedError,
  AbortError,
} from './rpc/errors.js';
export { MountError } from './mount/mount.js';

const ERRNO = osConstants.errno as Record<string, number>;
const SYSTEM_ERRORS = getSystemErrorMap();

/** Messages libuv does not know (it has no ESTALE, EREMOTEIO, ...), worded as glibc's strerror, lower-cased as libuv's are. */
const EXTRA_MESSAGES: Record<string, string> = {
  ESTALE: 'stale file handle',
  EREMOTEIO: 'remote I/O error',
  EREMOTE: 'object is remote',
  EDQUOT: 'disk quota exceeded',
  EBADHANDLE: 'bad file handle',
  EJUKEBOX: 'request deferred by server',
};

/**
 * Linux numbers for errnos that node's os.constants.errno leaves out
 * (EREMOTEIO, EREMOTE) or that only the kernel's NFS client has (EBADHANDLE
 * 521, EJUKEBOX 528, include/linux/errno.h). Used when os.constants lacks the
 * name, so an error never claims EIO's number under another code.
 */
const LINUX_ERRNO: Record<string, number> = {
  EREMOTE: 66,
  ESTALE: 116,
  EREMOTEIO: 121,
  EDQUOT: 122,
  EBADHANDLE: 521,
  EJUKEBOX: 528,
};

/** node's fs errors carry errno as a negative number (libuv style); EIO's for names no table knows. */
export function errnoNumber(code: string): number {
  const n = ERRNO[code] ?? LINUX_ERRNO[code];
  return n === undefined ? -5 /* EIO */ : -n;
}

export function errnoMessage(code: string): string {
  const n = ERRNO[code];
  if (n !== undefined) {
    const e = SYSTEM_ERRORS.get(-n);
    if (e) return e[1];
  }
  return EXTRA_MESSAGES[code] ?? code.toLowerCase();
}

/**
 * An fs error shaped like node's system errors: `ENOENT: no such file or
 * directory, open '/x'` with `code`, `errno`, `syscall`, `path` and `dest`.
 * `nfsStatus` names the NFS status it came from (NFS3ERR_NOENT), when there
 * was one, and `cause` keeps the NFS-level error (which op failed, and why).
 */
export class FsError extends Error {
  /** The errno name, e.g. `ENOENT`, `EACCES`, `ESTALE`. */
  declare code: string;
  /** The negative errno number, as node's system errors carry it (libuv style: -2 for ENOENT). */
  declare errno: number;
  /** The node fs operation that failed, as node names it (`open`, `stat`, `scandir`, `rename`, …). */
  declare syscall: string;
  /** The path the call was given. */
  declare path?: string;
  /** For two-path calls (rename, link, symlink, copyfile): the second path. */
  declare dest?: string;
  /** The NFS status the server returned, by its spec name (`NFS3ERR_NOENT`, `NFS4ERR_ACCESS`), when one caused this. */
  declare nfsStatus?: string;
  constructor(code: string, syscall: string, path?: string, dest?: string, extra?: { nfsStatus?: string; cause?: unknown; message?: string }) {
    let msg = `${code}: ${extra?.message ?? errnoMessage(code)}, ${syscall}`;
    if (path !== undefined) msg += ` '${path}'`;
    if (dest !== undefined) msg += ` -> '${dest}'`;
    super(msg, extra?.cause !== undefined ? { cause: extra.cause } : undefined);
    // node's system errors are plain Errors: the name stays Error's (inherited, not an own key) and the own keys come in node's order.
    this.errno = errnoNumber(code);
    this.code = code;
    this.syscall = syscall;
    if (path !== undefined) this.path = path;
    if (dest !== undefined) this.dest = dest;
    if (extra?.nfsStatus !== undefined) this.nfsStatus = extra.nfsStatus;
  }
}

export function fsError(code: string, syscall: string, path?: string, dest?: string, extra?: { nfsStatus?: string; cause?: unknown; message?: string }): FsError {
  return new FsError(code, syscall, path, dest, extra);
}

/**
 * Thrown by backends for a failing NFS status. The fs layer turns it into an
 * FsError with the syscall and path of the call, so the error carries the
 * caller's stack rather than the socket's.
 */
export class NfsStatusError extends Error {
  constructor(
    /** Status name from the spec, e.g. NFS3ERR_NOENT or NFS4ERR_STALE. */
    readonly status: string,
    /** errno name it maps to, e.g. ENOENT. */
    readonly errnoCode: string,
    /** The procedure or operation that failed, as the spec names it: NFSPROC3_LOOKUP, OP_OPEN. */
    readonly op: string,
    /** What the client knows beyond the status: a rule the server broke, the path component. */
    readonly detail?: string,
  ) {
    super(detail === undefined ? `${op} failed: ${status}` : `${op}: ${detail} (${status})`);
    this.name = 'NfsStatusError';
  }

  /** The errno name, as FsError and node's errors call it. */
  get code(): string {
    return this.errnoCode;
  }
}

/** node-style argument errors (ERR_INVALID_ARG_TYPE / ERR_INVALID_ARG_VALUE). */
export class InvalidArgError extends TypeError {
  constructor(
    /** node's code for the argument error. */
    readonly code: 'ERR_INVALID_ARG_TYPE' | 'ERR_INVALID_ARG_VALUE' | 'ERR_OUT_OF_RANGE' | 'ERR_INVALID_URL',
    message: string,
  ) {
    super(message);
    this.name = code === 'ERR_OUT_OF_RANGE' ? 'RangeError' : 'TypeError';
  }
}

export function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'function') return `function ${(v as { name?: string }).name || '<anonymous>'}`;
  if (typeof v === 'object') return `an instance of ${(v as object).constructor?.name ?? 'Object'}`;
  let s = String(v);
  if (s.length > 28) s = `${s.slice(0, 25)}...`;
  return `type ${typeof v} (${typeof v === 'string' ? `'${s}'` : s})`;
}

export function invalidArgType(name: string, expected: string, actual: unknown): InvalidArgError {
  return new InvalidArgError('ERR_INVALID_ARG_TYPE', `The "${name}" argument must be ${expected}. Received ${describeType(actual)}`);
}

/**
 * Whether `err` is an error mountless raised (an FsError, an NFS status, an
 * RPC, XDR or mount failure, an argument error) and, with `code`, whether
 * its code is that one: `isNfsError(err, 'ENOENT')`. The one way to test an
 * error here; codes are node's errno names (ENOENT), RPC codes
 * (ERR_RPC_CLOSED, ETIMEDOUT) or node's argument codes (ERR_INVALID_ARG_TYPE).
 */
export function isNfsError(err: unknown, code?: string): err is Error & { code: string } {
  if (!(err instanceof Error)) return false;
  const known = err instanceof FsError || err instanceof NfsStatusError || err instanceof RpcError || err instanceof XdrDecodeError || err instanceof MountError || err instanceof InvalidArgError || err instanceof AbortError;
  if (!known) return false;
  return code === undefined || (err as { code?: unknown }).code === code;
}

/**
 * Converts whatever a backend threw into the error an fs call reports, as a
 * new object made here, in the caller's async context (so its stack shows
 * the caller): NFS statuses become node-shaped FsErrors naming syscall and
 * path; RPC and connection errors become a copy of their class with
 * `syscall`/`path` added and the original as `cause`. The thrown error is
 * never changed: it may be shared, and was already seen by others.
 */
export function toFsError(err: unknown, syscall: string, path?: string, dest?: string): unknown {
  if (err instanceof NfsStatusError) {
    return new FsError(err.errnoCode, syscall, path, dest, { nfsStatus: err.status, cause: err });
  }
  // Already an fs error (ours, or node's own from a local file): complete as it is.
  if (err instanceof FsError || (err && typeof err === 'object' && 'syscall' in err && 'errno' in err)) return err;
  if (err instanceof Error && !(err instanceof TypeError) && !(err instanceof RangeError) && err.name !== 'AbortError') {
    const e = Object.create(Object.getPrototypeOf(err) as object) as Error & { syscall?: string; path?: string; dest?: string };
    for (const k of Reflect.ownKeys(err)) if (k !== 'stack' && k !== 'cause') Object.defineProperty(e, k, Object.getOwnPropertyDescriptor(err, k)!);
    Object.defineProperty(e, 'cause', { value: err, writable: true, configurable: true });
    e.syscall ??= syscall;
    if (path !== undefined) e.path ??= path;
    if (dest !== undefined) e.dest ??= dest;
    Error.captureStackTrace(e, toFsError);
    return e;
  }
  return err;
}
