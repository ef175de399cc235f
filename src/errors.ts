import { constants as osConstants } from 'node:os';
import { getSystemErrorMap } from 'node:util';

export { XdrDecodeError } from './xdr/errors.js';
export {
  RpcError,
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
 * An fs error shaped like node's: `ENOENT: no such file or directory, open '/x'`
 * with `code`, `errno`, `syscall`, `path` and `dest`. `nfsStatus` names the
 * NFS status it came from (NFS3ERR_NOENT), when there was one.
 */
export interface FsError extends Error {
  code: string;
  errno: number;
  syscall: string;
  path?: string;
  dest?: string;
  nfsStatus?: string;
}

export function fsError(code: string, syscall: string, path?: string, dest?: string, extra?: { nfsStatus?: string; cause?: unknown; message?: string }): FsError {
  let msg = `${code}: ${extra?.message ?? errnoMessage(code)}, ${syscall}`;
  if (path !== undefined) msg += ` '${path}'`;
  if (dest !== undefined) msg += ` -> '${dest}'`;
  const err = new Error(msg, extra?.cause !== undefined ? { cause: extra.cause } : undefined) as FsError;
  err.errno = errnoNumber(code);
  err.code = code;
  err.syscall = syscall;
  if (path !== undefined) err.path = path;
  if (dest !== undefined) err.dest = dest;
  if (extra?.nfsStatus !== undefined) err.nfsStatus = extra.nfsStatus;
  return err;
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
    /** Procedure or operation that failed, e.g. NFSPROC3_LOOKUP or OP_OPEN. */
    readonly op: string,
  ) {
    super(`${op} failed: ${status}`);
    this.name = 'NfsStatusError';
  }
}

/** node-style argument errors (ERR_INVALID_ARG_TYPE / ERR_INVALID_ARG_VALUE). */
export class InvalidArgError extends TypeError {
  constructor(
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
 * Converts whatever a backend threw into the error an fs call reports:
 * NFS statuses become node-shaped errors naming syscall and path; RPC and
 * connection errors keep their class and gain `syscall`/`path` for context.
 */
export function toFsError(err: unknown, syscall: string, path?: string, dest?: string): unknown {
  if (err instanceof NfsStatusError) {
    // The NFS-level error stays as the cause: which op failed, and the client's own explanation when it raised one.
    return fsError(err.errnoCode, syscall, path, dest, { nfsStatus: err.status, cause: err });
  }
  if (err && typeof err === 'object' && 'syscall' in err && 'errno' in err) return err;
  if (err instanceof Error && !(err instanceof TypeError) && !(err instanceof RangeError)) {
    const e = err as Error & { syscall?: string; path?: string; dest?: string };
    e.syscall ??= syscall;
    if (path !== undefined) e.path ??= path;
    if (dest !== undefined) e.dest ??= dest;
  }
  return err;
}
