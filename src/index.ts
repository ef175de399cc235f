/**
 * mountless: NFS from userspace, with the node:fs/promises API.
 * The public surface only; internals live in their protocol folders.
 */
export { connect, GROUPS_WARNING } from './connect.js';
export { OPTIONS, type ConnectOptions, type NfsVersion, type SecName, type Krb5CredentialOptions } from './options.js';
export { parseNfsUrl, type NfsUrl } from './url.js';
export { NfsClient } from './fs/client.js';
export { FileHandle } from './fs/file-handle.js';
export { Dir } from './fs/dir.js';
export { Stats, BigIntStats, Dirent, StatFs } from './fs/stats.js';
export { ReadStream, WriteStream } from './fs/streams.js';
export {
  XdrDecodeError,
  RpcError,
  RpcRecordError,
  RpcAcceptedError,
  RpcDeniedError,
  RpcTimeoutError,
  RpcDeadlineError,
  RpcConnectionError,
  RpcClosedError,
  AbortError,
  MountError,
  InvalidArgError,
  NfsStatusError,
  FsError,
  isNfsError,
} from './errors.js';
export { Nfs4OpError } from './nfs4/compound.js';
export { RpcGssError, WrongSecurityError } from './rpc/gss/errors.js';
export { PrivilegedPortError } from './rpc/resvport.js';
export { Krb5Error, isKrb5Error, type Krb5ErrorCode } from './krb5/errors.js';
export { Nfs4PathError } from './nfs4/backend.js';
export { CLOSE_WARNING } from './core/release.js';
