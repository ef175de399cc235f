/**
 * The `readonly` connect option as a Backend layer. Every caller that
 * modifies anything (the fs methods, FileHandles, streams, the volumes
 * layer's handle walks) goes through the backend, so refusing here, before
 * anything is sent, holds for all of them; the fs methods' own checks only
 * give earlier, path-shaped errors.
 */
import { NfsStatusError } from '../errors.js';
import type {
  Attrs,
  Backend,
  CallOpts,
  CreateMode,
  DirEntry,
  FileHandleId,
  Limits,
  LockOwner,
  Looked,
  OpenRequest,
  OpenState,
  ReadDest,
  SetAttrs,
  StableHow,
  StatFsResult,
  WriteResult, Capabilities } from '../fs/backend.js';

/** The request each refused method would have sent: [NFSv3 (or NLM), NFSv4]; open and the 4.2 operations exist on NFSv4 only. */
const REFUSED = {
  setattr: ['NFSPROC3_SETATTR', 'OP_SETATTR'],
  write: ['NFSPROC3_WRITE', 'OP_WRITE'],
  commit: ['NFSPROC3_COMMIT', 'OP_COMMIT'],
  create: ['NFSPROC3_CREATE', 'OP_OPEN'],
  mkdir: ['NFSPROC3_MKDIR', 'OP_CREATE'],
  symlink: ['NFSPROC3_SYMLINK', 'OP_CREATE'],
  remove: ['NFSPROC3_REMOVE', 'OP_REMOVE'],
  rmdir: ['NFSPROC3_RMDIR', 'OP_REMOVE'],
  rename: ['NFSPROC3_RENAME', 'OP_RENAME'],
  link: ['NFSPROC3_LINK', 'OP_LINK'],
  open: ['OP_OPEN', 'OP_OPEN'],
  lock: ['NLM4_LOCK', 'OP_LOCK'],
  copy: ['OP_COPY', 'OP_COPY'],
  allocate: ['OP_ALLOCATE', 'OP_ALLOCATE'],
  deallocate: ['OP_DEALLOCATE', 'OP_DEALLOCATE'],
} as const;

type Refused = keyof typeof REFUSED;

/**
 * A Backend that passes reads through and refuses every change with EROFS
 * (status NFS3ERR_ROFS / NFS4ERR_ROFS, as a read-only export would answer):
 * SETATTR, WRITE, COMMIT, creates, removes, renames, links, opens for
 * writing, creating or truncating, exclusive byte-range locks, and the
 * NFSv4.2 COPY, ALLOCATE and DEALLOCATE. Shared locks are allowed: on a
 * read-only mount a reader may still coordinate with writers elsewhere.
 */
export class ReadonlyBackend implements Backend {
  private readonly v3: boolean;

  // Optional capabilities exist exactly when the wrapped backend has them.
  readonly resolvePath?: Backend['resolvePath'];
  readonly cachedPath?: Backend['cachedPath'];
  readonly open?: Backend['open'];
  readonly closeState?: Backend['closeState'];
  readonly lockOwner?: Backend['lockOwner'];
  readonly copy?: Backend['copy'];
  readonly seek?: Backend['seek'];
  readonly allocate?: Backend['allocate'];
  readonly deallocate?: Backend['deallocate'];

  constructor(
    /** The backend underneath; `inner` is also how metrics find the wire backend. */
    readonly inner: Backend,
  ) {
    this.v3 = inner.version === '3';
    if (inner.resolvePath) this.resolvePath = (parts, start, o) => inner.resolvePath!(parts, start, o);
    if (inner.cachedPath) this.cachedPath = (parts, start) => inner.cachedPath!(parts, start);
    if (inner.open) {
      this.open = (dirOrFh, name, req: OpenRequest, o) => {
        if (req.write || req.create || req.truncate) return Promise.reject(this.refuse('open'));
        return inner.open!(dirOrFh, name, req, o);
      };
    }
    if (inner.closeState) this.closeState = (st, o) => inner.closeState!(st, o);
    if (inner.lockOwner) {
      this.lockOwner = (fh, st): LockOwner => {
        const owner = inner.lockOwner!(fh, st);
        return {
          lock: (start, length, o) => (o.exclusive ? Promise.reject(this.refuse('lock')) : owner.lock(start, length, o)),
          unlock: (start, length) => owner.unlock(start, length),
          test: (start, length, exclusive) => owner.test(start, length, exclusive),
          close: () => owner.close(),
        };
      };
    }
    if (inner.copy) this.copy = () => Promise.reject(this.refuse('copy'));
    if (inner.seek) this.seek = (st, offset, what, o) => inner.seek!(st, offset, what, o);
    if (inner.allocate) this.allocate = () => Promise.reject(this.refuse('allocate'));
    if (inner.deallocate) this.deallocate = () => Promise.reject(this.refuse('deallocate'));
  }

  private refuse(method: Refused): NfsStatusError {
    const status = this.v3 ? 'NFS3ERR_ROFS' : 'NFS4ERR_ROFS';
    const op = REFUSED[method][this.v3 ? 0 : 1];
    const e = new NfsStatusError(status, 'EROFS', op);
    e.message = `${op}: refused, the client is read-only (${status})`;
    return e;
  }

  get version(): string {
    return this.inner.version;
  }
  get capabilities(): Capabilities {
    return this.inner.capabilities;
  }
  get rootFh(): FileHandleId {
    return this.inner.rootFh;
  }
  get limits(): Limits {
    return this.inner.limits;
  }

  getattr(fh: FileHandleId, o?: CallOpts): Promise<Attrs> {
    return this.inner.getattr(fh, o);
  }
  lookup(dir: FileHandleId, name: string, o?: CallOpts): Promise<Looked> {
    return this.inner.lookup(dir, name, o);
  }
  access(fh: FileHandleId, mask: number, o?: CallOpts): Promise<number> {
    return this.inner.access(fh, mask, o);
  }
  readlink(fh: FileHandleId, o?: CallOpts): Promise<string> {
    return this.inner.readlink(fh, o);
  }
  read(fh: FileHandleId, offset: number, length: number, o?: CallOpts, state?: OpenState, dest?: ReadDest): Promise<{ data: Buffer; eof: boolean; attrs?: Attrs | undefined }> {
    return this.inner.read(fh, offset, length, o, state, dest);
  }
  readdir(dir: FileHandleId, withAttrs: boolean, o?: CallOpts): AsyncIterable<DirEntry[]> {
    return this.inner.readdir(dir, withAttrs, o);
  }
  statfs(fh: FileHandleId, o?: CallOpts): Promise<StatFsResult> {
    return this.inner.statfs(fh, o);
  }
  close(): Promise<void> {
    return this.inner.close();
  }

  setattr(_fh: FileHandleId, _attrs: SetAttrs): Promise<Attrs | undefined> {
    return Promise.reject(this.refuse('setattr'));
  }
  write(_fh: FileHandleId, _offset: number, _data: Buffer, _stable: StableHow): Promise<WriteResult> {
    return Promise.reject(this.refuse('write'));
  }
  commit(_fh: FileHandleId): Promise<Buffer> {
    return Promise.reject(this.refuse('commit'));
  }
  create(_dir: FileHandleId, _name: string, _how: CreateMode): Promise<Looked> {
    return Promise.reject(this.refuse('create'));
  }
  mkdir(_dir: FileHandleId, _name: string, _attrs: SetAttrs): Promise<Looked> {
    return Promise.reject(this.refuse('mkdir'));
  }
  symlink(_dir: FileHandleId, _name: string, _target: string, _attrs: SetAttrs): Promise<Looked> {
    return Promise.reject(this.refuse('symlink'));
  }
  remove(_dir: FileHandleId, _name: string): Promise<void> {
    return Promise.reject(this.refuse('remove'));
  }
  rmdir(_dir: FileHandleId, _name: string): Promise<void> {
    return Promise.reject(this.refuse('rmdir'));
  }
  rename(_fromDir: FileHandleId, _fromName: string, _toDir: FileHandleId, _toName: string): Promise<void> {
    return Promise.reject(this.refuse('rename'));
  }
  link(_fh: FileHandleId, _dir: FileHandleId, _name: string): Promise<void> {
    return Promise.reject(this.refuse('link'));
  }
}
