// RFC 1813 §2.6, names verbatim.
export const nfsstat3 = {
  NFS3_OK: 0,
  NFS3ERR_PERM: 1,
  NFS3ERR_NOENT: 2,
  NFS3ERR_IO: 5,
  NFS3ERR_NXIO: 6,
  NFS3ERR_ACCES: 13,
  NFS3ERR_EXIST: 17,
  NFS3ERR_XDEV: 18,
  NFS3ERR_NODEV: 19,
  NFS3ERR_NOTDIR: 20,
  NFS3ERR_ISDIR: 21,
  NFS3ERR_INVAL: 22,
  NFS3ERR_FBIG: 27,
  NFS3ERR_NOSPC: 28,
  NFS3ERR_ROFS: 30,
  NFS3ERR_MLINK: 31,
  NFS3ERR_NAMETOOLONG: 63,
  NFS3ERR_NOTEMPTY: 66,
  NFS3ERR_DQUOT: 69,
  NFS3ERR_STALE: 70,
  NFS3ERR_REMOTE: 71,
  NFS3ERR_BADHANDLE: 10001,
  NFS3ERR_NOT_SYNC: 10002,
  NFS3ERR_BAD_COOKIE: 10003,
  NFS3ERR_NOTSUPP: 10004,
  NFS3ERR_TOOSMALL: 10005,
  NFS3ERR_SERVERFAULT: 10006,
  NFS3ERR_BADTYPE: 10007,
  NFS3ERR_JUKEBOX: 10008,
} as const;

export const NFS3_OK = 0;

const NAMES = new Map<number, string>(Object.entries(nfsstat3).map(([k, v]) => [v, k]));

/**
 * The spec name of a status. Servers do send values outside RFC 1813 (NFSv4
 * codes leaking through, vendor extensions), so unknown values get a name
 * rather than a decode error: the reply is still a well-formed failure.
 */
export function nfsstat3Name(n: number): string {
  return NAMES.get(n) ?? `NFS3ERR_UNKNOWN_${n}`;
}

/**
 * nfsstat3 name → Linux errno name, as the fs layer should present it.
 *
 * Keyed by name, never by wire number: NFS3ERR_NOTEMPTY is 66 on the wire and
 * ENOTEMPTY is 39 on Linux; only the first twenty-odd NFS values happen to
 * equal their errno, which is exactly the trap.
 *
 * Follows the Linux client's nfs_errtbl (fs/nfs_common/common.c) except where
 * the kernel maps to an errno private to the kernel (EBADHANDLE, ENOTSYNC,
 * EBADCOOKIE, ENOTSUPP, ETOOSMALL, EBADTYPE, EJUKEBOX: 521-528, which no libc
 * and no Node table knows). For those the nearest userland errno is used:
 *
 * - BADHANDLE → ESTALE: the handle is unusable either way and the recovery
 *   (resolve the path again) is the same.
 * - NOT_SYNC (SETATTR guard mismatch) → EINVAL, not EAGAIN: retrying with the
 *   same guard fails the same way, so it must not look retryable.
 * - BAD_COOKIE → EINVAL: the READDIR loop should restart from cookie 0 on the
 *   status itself; if it ever reaches a caller it is an invalid argument.
 * - NOTSUPP → ENOTSUP (= EOPNOTSUPP on Linux, the kernel's own userland face).
 * - TOOSMALL → EINVAL: a READDIR count too small for one entry.
 * - BADTYPE → EINVAL: as mknod(2) reports an unsupported node type.
 * - JUKEBOX → EAGAIN: the server is fetching the data (HSM); callers retry
 *   after a delay, as the kernel does internally.
 * - SERVERFAULT → EREMOTEIO, as the kernel does.
 *
 * EREMOTE (Linux 66) and ESTALE/EDQUOT are real Linux errnos missing from
 * libuv's name map; the fs layer needs its own number for them.
 */
export const NFS3_ERRNO: Record<string, string> = {
  NFS3ERR_PERM: 'EPERM',
  NFS3ERR_NOENT: 'ENOENT',
  NFS3ERR_IO: 'EIO',
  NFS3ERR_NXIO: 'ENXIO',
  NFS3ERR_ACCES: 'EACCES',
  NFS3ERR_EXIST: 'EEXIST',
  NFS3ERR_XDEV: 'EXDEV',
  NFS3ERR_NODEV: 'ENODEV',
  NFS3ERR_NOTDIR: 'ENOTDIR',
  NFS3ERR_ISDIR: 'EISDIR',
  NFS3ERR_INVAL: 'EINVAL',
  NFS3ERR_FBIG: 'EFBIG',
  NFS3ERR_NOSPC: 'ENOSPC',
  NFS3ERR_ROFS: 'EROFS',
  NFS3ERR_MLINK: 'EMLINK',
  NFS3ERR_NAMETOOLONG: 'ENAMETOOLONG',
  NFS3ERR_NOTEMPTY: 'ENOTEMPTY',
  NFS3ERR_DQUOT: 'EDQUOT',
  NFS3ERR_STALE: 'ESTALE',
  NFS3ERR_REMOTE: 'EREMOTE',
  NFS3ERR_BADHANDLE: 'ESTALE',
  NFS3ERR_NOT_SYNC: 'EINVAL',
  NFS3ERR_BAD_COOKIE: 'EINVAL',
  NFS3ERR_NOTSUPP: 'ENOTSUP',
  NFS3ERR_TOOSMALL: 'EINVAL',
  NFS3ERR_SERVERFAULT: 'EREMOTEIO',
  NFS3ERR_BADTYPE: 'EINVAL',
  NFS3ERR_JUKEBOX: 'EAGAIN',
};

/** Errno name for a wire status; EIO for values the table does not know (as the kernel does). */
export function nfsstat3Errno(n: number): string {
  return NFS3_ERRNO[nfsstat3Name(n)] ?? 'EIO';
}
