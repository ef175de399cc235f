import { NfsStatusError } from '../errors.js';
import { nlm4_stats } from './constants.js';

const NAMES = new Map<number, string>(Object.entries(nlm4_stats).map(([k, v]) => [v, k]));

/**
 * The spec name of an nlm4_stats value. A value outside the enum still gets
 * a name (the reply around it is well-formed), and maps to EIO.
 */
export function nlm4StatsName(n: number): string {
  return NAMES.get(n) ?? `NLM4_UNKNOWN_${n}`;
}

/**
 * nlm4_stats name → errno name, as fcntl(2) would report it. Keyed by name,
 * never by wire number (NLM4_DENIED is 1 on the wire, EAGAIN is 11).
 *
 * - DENIED → EAGAIN: F_SETLK's "conflicting lock held by another process".
 * - DENIED_NOLOCKS → ENOLCK: the server is out of lock resources. Ganesha
 *   also answers it when its rpc.statd cannot monitor the client (SM_MON).
 * - DEADLCK → EDEADLK, ROFS → EROFS, STALE_FH → ESTALE.
 * - FBIG → EFBIG: the range lies beyond what the server's files can address.
 *   (The Linux client says EOVERFLOW here; EFBIG names the cause.)
 * - FAILED → EIO: an unspecified server failure (Linux says ENOLCK).
 * - DENIED_GRACE_PERIOD: never surfaces from NlmLocker, which retries it
 *   until the grace period ends; ENOLCK (as Linux) when a stub's caller
 *   turns it into an error itself.
 * - BLOCKED: only an answer to block=TRUE, which NlmLocker never sends;
 *   ENOLCK, as Linux reports the unexpected case.
 */
export const NLM4_ERRNO: Record<string, string> = {
  NLM4_DENIED: 'EAGAIN',
  NLM4_DENIED_NOLOCKS: 'ENOLCK',
  NLM4_BLOCKED: 'ENOLCK',
  NLM4_DENIED_GRACE_PERIOD: 'ENOLCK',
  NLM4_DEADLCK: 'EDEADLK',
  NLM4_ROFS: 'EROFS',
  NLM4_STALE_FH: 'ESTALE',
  NLM4_FBIG: 'EFBIG',
  NLM4_FAILED: 'EIO',
};

/** Errno name for a wire status; EIO for values the table does not know. */
export function nlm4StatsErrno(n: number): string {
  return NLM4_ERRNO[nlm4StatsName(n)] ?? 'EIO';
}

/** The error a failed NLM call is reported as: status name, errno name and procedure name. */
export function nlm4Error(stat: number, op: string): NfsStatusError {
  return new NfsStatusError(nlm4StatsName(stat), nlm4StatsErrno(stat), op);
}
