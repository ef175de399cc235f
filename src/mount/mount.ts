import type { RpcClient, CallOptions } from '../rpc/client.js';
import { XdrDecodeError } from '../xdr/errors.js';

// RFC 1813 appendix I.
export const MOUNT_PROGRAM = 100005;
export const MOUNT_V3 = 3;
export const MOUNTPROC3_NULL = 0;
export const MOUNTPROC3_MNT = 1;
export const MOUNTPROC3_DUMP = 2;
export const MOUNTPROC3_UMNT = 3;
export const MOUNTPROC3_UMNTALL = 4;
export const MOUNTPROC3_EXPORT = 5;

export const MNTPATHLEN = 1024;
export const MNTNAMLEN = 255;
export const FHSIZE3 = 64;

export const mountstat3 = {
  MNT3_OK: 0,
  MNT3ERR_PERM: 1,
  MNT3ERR_NOENT: 2,
  MNT3ERR_IO: 5,
  MNT3ERR_ACCES: 13,
  MNT3ERR_NOTDIR: 20,
  MNT3ERR_INVAL: 22,
  MNT3ERR_NAMETOOLONG: 63,
  MNT3ERR_NOTSUPP: 10004,
  MNT3ERR_SERVERFAULT: 10006,
} as const;

const MOUNTSTAT_NAMES = new Map<number, string>(Object.entries(mountstat3).map(([k, v]) => [v, k]));

/** Errno names for mount errors, so the fs layer can present them like node. */
const MOUNTSTAT_ERRNO: Record<string, string> = {
  MNT3ERR_PERM: 'EPERM',
  MNT3ERR_NOENT: 'ENOENT',
  MNT3ERR_IO: 'EIO',
  MNT3ERR_ACCES: 'EACCES',
  MNT3ERR_NOTDIR: 'ENOTDIR',
  MNT3ERR_INVAL: 'EINVAL',
  MNT3ERR_NAMETOOLONG: 'ENAMETOOLONG',
  MNT3ERR_NOTSUPP: 'ENOTSUP',
  MNT3ERR_SERVERFAULT: 'EIO',
};

/** The MOUNT service refused an export. `status` is the MNT3ERR_* name. */
export class MountError extends Error {
  /** The errno name the MOUNT status maps to (`ENOENT`, `EACCES`, …; `EIO` for others). */
  readonly code: string;
  constructor(
    /** The mountstat3 name from RFC 1813, e.g. `MNT3ERR_ACCES`. */
    readonly status: string,
    /** The mountstat3 number as the server sent it. */
    readonly stat: number,
    /** The export path that could not be mounted. */
    readonly path: string,
    /** What the client can tell beyond the status (a likely cause and its remedy). */
    hint?: string,
  ) {
    super(`${status}: cannot mount '${path}'${hint ? ` (${hint})` : ''}`);
    this.name = 'MountError';
    this.code = MOUNTSTAT_ERRNO[status] ?? 'EIO';
  }
}

function label(proc: number, name: string) {
  return { prog: MOUNT_PROGRAM, vers: MOUNT_V3, proc, name };
}

export interface MountResult {
  fhandle: Buffer;
  authFlavors: number[];
}

export function mountNull(rpc: RpcClient, opts?: CallOptions): Promise<void> {
  return rpc.call(label(MOUNTPROC3_NULL, 'MOUNTPROC3_NULL'), null, () => {}, opts);
}

function checkDirpath(path: string): void {
  if (typeof path !== 'string') throw new TypeError('MOUNT: dirpath must be a string');
  if (Buffer.byteLength(path) > MNTPATHLEN) throw new RangeError(`MOUNT: dirpath longer than ${MNTPATHLEN} bytes`);
}

/** MOUNTPROC3_MNT. Throws MountError for MNT3ERR_*. */
export function mnt(rpc: RpcClient, dirpath: string, opts?: CallOptions): Promise<MountResult> {
  checkDirpath(dirpath);
  return rpc.call(
    label(MOUNTPROC3_MNT, 'MOUNTPROC3_MNT'),
    (w) => w.string(dirpath),
    (r) => {
      const stat = r.u32('mountstat3');
      if (stat !== mountstat3.MNT3_OK) {
        const name = MOUNTSTAT_NAMES.get(stat);
        if (!name) throw new XdrDecodeError(`MOUNT: invalid mountstat3 ${stat}`, 'mountstat3');
        throw new MountError(name, stat, dirpath);
      }
      // Copy: the handle outlives this reply's buffer.
      const fh = r.opaque(FHSIZE3, 'fhandle3');
      // An empty handle would fail every later call with an argument error: refuse it here, as a decode error.
      if (fh.length === 0) throw new XdrDecodeError('MOUNT: empty fhandle3 in MNT reply', 'fhandle3');
      const fhandle = Buffer.from(fh);
      const authFlavors = r.array(64, 4, (x) => x.u32('auth_flavors'), 'auth_flavors');
      return { fhandle, authFlavors };
    },
    opts,
  );
}

export function umnt(rpc: RpcClient, dirpath: string, opts?: CallOptions): Promise<void> {
  checkDirpath(dirpath);
  return rpc.call(label(MOUNTPROC3_UMNT, 'MOUNTPROC3_UMNT'), (w) => w.string(dirpath), () => {}, opts);
}

export function umntall(rpc: RpcClient, opts?: CallOptions): Promise<void> {
  return rpc.call(label(MOUNTPROC3_UMNTALL, 'MOUNTPROC3_UMNTALL'), null, () => {}, opts);
}

export interface ExportEntry {
  dir: string;
  groups: string[];
}

export interface MountEntry {
  hostname: string;
  directory: string;
}

/** MOUNTPROC3_EXPORT: the export list with the groups allowed to mount each. */
export function exportList(rpc: RpcClient, opts?: CallOptions): Promise<ExportEntry[]> {
  return rpc.call(
    label(MOUNTPROC3_EXPORT, 'MOUNTPROC3_EXPORT'),
    null,
    (r) =>
      r.list(
        100_000,
        (x) => ({
          dir: x.string(MNTPATHLEN, 'ex_dir'),
          groups: x.list(100_000, (g) => g.string(MNTNAMLEN, 'gr_name'), 'groups'),
        }),
        'exports',
      ),
    opts,
  );
}

/** MOUNTPROC3_DUMP: the server's list of mounts it believes are active. */
export function dump(rpc: RpcClient, opts?: CallOptions): Promise<MountEntry[]> {
  return rpc.call(
    label(MOUNTPROC3_DUMP, 'MOUNTPROC3_DUMP'),
    null,
    (r) => r.list(100_000, (x) => ({ hostname: x.string(MNTNAMLEN, 'ml_hostname'), directory: x.string(MNTPATHLEN, 'ml_directory') }), 'mountlist'),
    opts,
  );
}
