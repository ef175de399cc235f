/**
 * The version-independent interface between the fs layer and a protocol.
 * nfs3/backend.ts implements it over NFSv3 procedures; NFSv4 implements the
 * same. Backends speak in file handles and names, never in paths: path
 * resolution, symlinks and node semantics live in fs/.
 *
 * Failures are thrown as NfsStatusError (status name + errno name); the fs
 * layer adds syscall and path.
 */

export type FileHandleId = Buffer;

/** Where a backend mounts: the server, the path on it, and who we are. */
export interface MountTarget {
  host: string;
  /** Path on the server: an export, or a directory inside one. */
  path: string;
  auth: import('../rpc/auth.js').Credential;
  /**
   * RPCSEC_GSS for the NFS connections (sec=krb5*): a new credential per
   * connection, since a context serves one. Absent: `auth` (AUTH_SYS) for
   * everything. rpcbind and MOUNT always use `auth`.
   */
  gss?: { name: import('../options.js').SecName; credential(prog: number, vers: number): import('../rpc/auth.js').Credential } | undefined;
}

export type FileKind = 'file' | 'directory' | 'symlink' | 'block' | 'char' | 'socket' | 'fifo';

export interface Time {
  sec: number;
  nsec: number;
}

/** Attributes as the fs layer needs them, whatever version produced them. */
export interface Attrs {
  kind: FileKind;
  /** Permission bits and setuid/setgid/sticky (07777), without the file type. */
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  size: number;
  /** Bytes of storage used. */
  used: number;
  /** Device number for block/char devices (Linux makedev layout). */
  rdev: number;
  fsid: bigint;
  fileid: bigint;
  atime: Time;
  mtime: Time;
  ctime: Time;
}

/** What to change; absent fields stay as they are. 'server' sets the server's current time. */
export interface SetAttrs {
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  atime?: Time | 'server';
  mtime?: Time | 'server';
}

export interface Looked {
  fh: FileHandleId;
  attrs?: Attrs | undefined;
}

export interface DirEntry {
  name: string;
  fileid: bigint;
  /** Present when the backend read attributes with the listing (READDIRPLUS, v4 READDIR). */
  attrs?: Attrs | undefined;
  fh?: FileHandleId | undefined;
}

export type StableHow = 'unstable' | 'data' | 'file';

export interface WriteResult {
  count: number;
  committed: StableHow;
  /** Write verifier; a change between WRITE and COMMIT means the server lost unstable data. */
  verf: Buffer;
}

export type CreateMode =
  | { mode: 'unchecked' | 'guarded'; attrs: SetAttrs }
  | { mode: 'exclusive'; verf: Buffer; attrs: SetAttrs };

export interface StatFsResult {
  /** Preferred transfer size, the `bsize` node reports. */
  bsize: number;
  totalBytes: number;
  freeBytes: number;
  availBytes: number;
  totalFiles: number;
  freeFiles: number;
  availFiles: number;
  nameMax: number;
}

export interface Limits {
  /** Largest READ the client sends. */
  rsize: number;
  /** Largest WRITE the client sends. */
  wsize: number;
  /** Preferred READDIR reply size. */
  dtpref: number;
  maxFileSize: number;
  /** Seconds a time attribute can hold (NFSv3: nfstime3's 0..2^32-1); absent: unbounded (nfstime4's int64). */
  timeRange?: { min: number; max: number };
}

export interface CallOpts {
  signal?: AbortSignal | undefined;
  /** Bypass cached attributes and names (close-to-open revalidation, `direct` I/O). */
  fresh?: boolean | undefined;
  /**
   * Before a cached name is used, check its directory with the server and
   * drop the directory's cached names if it changed (open()'s close-to-open:
   * another client may have replaced the name by a rename).
   */
  revalidate?: boolean | undefined;
  /**
   * READ: return the reply's post-operation attributes (`attrs`). Only an
   * attribute cache reads them; decoding them for nobody was a fifth of the
   * RPC core's CPU per 4 KiB READ, so a backend may leave them out without this.
   */
  attrs?: boolean | undefined;
}

/** Where a READ's data may be received directly (see Backend.read). */
export interface ReadDest {
  buf: Uint8Array;
  offset: number;
}

/**
 * Server-side open state (NFSv4 OPEN): what READ, WRITE, SETATTR and LOCK
 * present as proof of the open. Opaque to the fs layer; NFSv3 has none.
 */
export type OpenState = { readonly __openState: unique symbol } | object;

export interface OpenRequest {
  read: boolean;
  write: boolean;
  /** Create the file if needed (GUARDED, UNCHECKED or EXCLUSIVE). */
  create?: CreateMode | undefined;
  truncate?: boolean | undefined;
}

export interface LockRequest {
  exclusive: boolean;
  /** Retry until granted (or `signal` aborts) instead of failing with EAGAIN. */
  wait?: boolean | undefined;
  signal?: AbortSignal | undefined;
}

/** Who holds a conflicting lock. */
export interface LockConflict {
  exclusive: boolean;
  start: number;
  /** 0: to end of file. */
  length: number;
}

/**
 * Byte-range locks of one lock owner (one per FileHandle, so locks behave
 * like Linux OFD locks). NFSv3 gets one from NLM; NFSv4 from the open state.
 */
export interface LockOwner {
  lock(start: number, length: number, o: LockRequest): Promise<void>;
  unlock(start: number, length: number): Promise<void>;
  test(start: number, length: number, exclusive: boolean): Promise<LockConflict | undefined>;
  /** Releases every lock this owner holds. */
  close(): Promise<void>;
}

/**
 * What a backend can do beyond the Backend methods every version has. The
 * fs layer decides by these, never by comparing version strings.
 */
export interface Capabilities {
  /** open() by handle alone (NFSv4.1+ CLAIM_FH); without it an open names a directory and a file. */
  openByHandle: boolean;
  /** Server-side copy (NFSv4.2 COPY) is worth trying; the server may still answer NOTSUPP. */
  serverCopy: boolean;
  /** Data and hole regions by SEEK (NFSv4.2). */
  seek: boolean;
}

export interface Backend {
  /** The protocol version, for display ('3', '4.1'); decisions use `capabilities`. */
  readonly version: string;
  readonly capabilities: Capabilities;
  readonly rootFh: FileHandleId;
  readonly limits: Limits;

  getattr(fh: FileHandleId, o?: CallOpts): Promise<Attrs>;
  /** Returns post-operation attributes when the server sent them. */
  setattr(fh: FileHandleId, attrs: SetAttrs, o?: CallOpts, state?: OpenState): Promise<Attrs | undefined>;
  lookup(dir: FileHandleId, name: string, o?: CallOpts): Promise<Looked>;
  /** ACCESS: which of the requested ACCESS bits (read=1, lookup=2, modify=4, extend=8, delete=16, execute=32) are granted. */
  access(fh: FileHandleId, mask: number, o?: CallOpts): Promise<number>;
  readlink(fh: FileHandleId, o?: CallOpts): Promise<string>;
  /**
   * One READ of at most limits.rsize bytes; `data` may be a view into the
   * reply. With `dest`, the backend may receive the data straight into
   * dest.buf at dest.offset (at most `length` bytes); `data` is then a view of
   * exactly that memory, which a caller can recognise and need not copy.
   */
  read(fh: FileHandleId, offset: number, length: number, o?: CallOpts, state?: OpenState, dest?: ReadDest): Promise<{ data: Buffer; eof: boolean; attrs?: Attrs | undefined }>;
  /** One WRITE of at most limits.wsize bytes. */
  write(fh: FileHandleId, offset: number, data: Buffer, stable: StableHow, o?: CallOpts, state?: OpenState): Promise<WriteResult>;
  /** COMMIT of everything written unstably; returns the write verifier. */
  commit(fh: FileHandleId, o?: CallOpts): Promise<Buffer>;
  create(dir: FileHandleId, name: string, how: CreateMode, o?: CallOpts): Promise<Looked>;
  mkdir(dir: FileHandleId, name: string, attrs: SetAttrs, o?: CallOpts): Promise<Looked>;
  symlink(dir: FileHandleId, name: string, target: string, attrs: SetAttrs, o?: CallOpts): Promise<Looked>;
  remove(dir: FileHandleId, name: string, o?: CallOpts): Promise<void>;
  rmdir(dir: FileHandleId, name: string, o?: CallOpts): Promise<void>;
  rename(fromDir: FileHandleId, fromName: string, toDir: FileHandleId, toName: string, o?: CallOpts): Promise<void>;
  link(fh: FileHandleId, dir: FileHandleId, name: string, o?: CallOpts): Promise<void>;
  /**
   * Lists a directory in server-sized batches, following the cookie loop to
   * the end. With `attrs`, entries carry attributes and handles where the
   * server provides them. '.' and '..' are not returned.
   */
  readdir(dir: FileHandleId, withAttrs: boolean, o?: CallOpts): AsyncIterable<DirEntry[]>;
  statfs(fh: FileHandleId, o?: CallOpts): Promise<StatFsResult>;
  /** Releases server state (UMNT, DESTROY_SESSION) and closes connections. */
  close(): Promise<void>;

  // ---- optional capabilities (NFSv4; the fs layer falls back without them) ----

  /**
   * A run of plain names (no '.', '..') from `start` in one round trip.
   * Throws with `symlink: { index, dirFh, fh, attrs, target }` when a
   * symlink sits in the middle; a final symlink is returned unfollowed.
   */
  resolvePath?(parts: readonly string[], start: FileHandleId, o?: CallOpts): Promise<Looked>;
  /**
   * What resolvePath would return, if a cache holds all of it now (handle
   * and fresh attributes); undefined otherwise. Synchronous, so that a
   * cached stat costs no round trip through the promise machinery.
   */
  cachedPath?(parts: readonly string[], start: FileHandleId): Looked | undefined;
  /**
   * remove() of the name `parts` ends with, the directories before it walked
   * from `start` in the same round trip (NFSv4 without caches: one COMPOUND
   * where resolving the directory first costs one of its own). false, with
   * nothing removed, when a directory on the way did not resolve plainly
   * (missing, not a directory, a symlink): the caller then resolves it
   * itself. Failures at the name itself are remove()'s.
   */
  removePath?(parts: readonly string[], start: FileHandleId, o?: CallOpts): Promise<boolean>;
  /**
   * open() of the name `parts` ends with, walked to in the OPEN's own round
   * trip; undefined, with nothing opened or created, when a directory on the
   * way did not resolve plainly.
   */
  openPath?(parts: readonly string[], req: OpenRequest, start: FileHandleId, o?: CallOpts): Promise<(OpenState & { fh: FileHandleId }) | undefined>;
  /** Opens (and maybe creates) a file: by directory + name, or by handle (name undefined). */
  open?(dirOrFh: FileHandleId, name: string | undefined, req: OpenRequest, o?: CallOpts): Promise<OpenState & { fh: FileHandleId }>;
  closeState?(state: OpenState, o?: CallOpts): Promise<void>;
  /** Byte-range locks for a FileHandle; `state` is its open state where the protocol has one. */
  lockOwner?(fh: FileHandleId, state: OpenState | undefined): LockOwner;
  /** Server-side copy (NFSv4.2 COPY); ENOTSUP where the server has none. */
  copy?(src: OpenState, dst: OpenState, srcOffset: number, dstOffset: number, count: number, o?: CallOpts): Promise<{ count: number; committed: StableHow; verf: Buffer }>;
  seek?(state: OpenState, offset: number, what: 'data' | 'hole', o?: CallOpts): Promise<{ offset: number; eof: boolean }>;
  allocate?(state: OpenState, offset: number, length: number, o?: CallOpts): Promise<void>;
  deallocate?(state: OpenState, offset: number, length: number, o?: CallOpts): Promise<void>;
}
