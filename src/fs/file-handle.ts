import { EventEmitter } from 'node:events';
import { createInterface, type Interface } from 'node:readline';
import { fsError, invalidArgType, InvalidArgError, toFsError } from '../errors.js';
import { abortable, checkAborted, signalOf } from './abort.js';
import { argType, argValue, checkInteger, outOfRange } from './args.js';
import type { Attrs, Backend, FileHandleId, StableHow, LockOwner, OpenState } from './backend.js';
import { parseMode, type OpenFlags } from './flags.js';
import { readInto, writeFrom } from './io.js';
import { Readahead } from './readahead.js';
import { giveSpare, SPARE_SIZE, takeSpare } from './spares.js';
import { BigIntStats, Stats } from './stats.js';
import { kStreamStart, kStreamWrite, type StreamSource } from './stream-source.js';
import { ReadStream, WriteStream, type ReadStreamOptions, type WriteStreamOptions } from './streams.js';
import { clampTimes, toSetAttrsTimes } from './times.js';

export { checkAborted } from './abort.js';

/** `{ signal }`, the option every async method takes. */
export interface SignalOpts {
  signal?: AbortSignal | undefined;
}

let nextFd = 1000;

/** The NFSv4 open state of each FileHandle, for server-side operations (COPY) the fs layer issues; not part of the public class. */
export const serverStates = new WeakMap<FileHandle, OpenState>();

export interface ReadResult<T extends ArrayBufferView> {
  bytesRead: number;
  buffer: T;
}

export interface WriteResultFs<T> {
  bytesWritten: number;
  buffer: T;
}

type Encoding = BufferEncoding;

/**
 * Unstable bytes kept per handle for re-sending. Past RETAIN_SOFT a COMMIT
 * starts in the background (writes go on); past RETAIN_HARD writes wait for
 * it, which bounds the memory a writer can pin.
 */
const RETAIN_SOFT = 16 * 1024 * 1024;
const SLAB_SIZE = SPARE_SIZE;

/**
 * A FileHandle that is garbage-collected while open is reported, as node
 * reports it, with a process warning; its server-side open state (NFSv4) is
 * released. The held value must not reach the handle, or it would never be
 * collected.
 */
interface Unclosed {
  fd: number;
  backend: Backend;
  state: OpenState | undefined;
}
const unclosed = new FinalizationRegistry<Unclosed>((u) => {
  process.emitWarning(`Closing file descriptor ${u.fd} on garbage collection`);
  if (u.state && u.backend.closeState) u.backend.closeState(u.state).catch(() => {});
});

/**
 * writeFile by path: the whole data in one call that resolves only after
 * the handle's COMMIT (close), so the caller's buffer is still there to be
 * sent again if the server loses the writes; it is kept by reference, not
 * copied (node's writeFile, too, reads the caller's buffer until it
 * resolves). Not for FileHandle.writeFile, whose COMMIT may come much later.
 */
export function writeBorrowed(h: FileHandle, data: Buffer, signal?: AbortSignal): Promise<number> {
  return h['writeAll'](data, signal);
}

/**
 * A positional write of bytes the caller never changes afterwards (the bench's
 * write buffers, filled once): kept by reference until their COMMIT instead
 * of copied, as writeBorrowed's and WriteStream's are. FileHandle.write must
 * copy, since its caller may reuse the buffer as soon as it resolves; for
 * 1 MiB writes that copy and its garbage were a third of the CPU per write.
 */
export function writeKept(h: FileHandle, data: Buffer, position: number): Promise<number> {
  return h['writeUnchanging'](data, position);
}

/** Marks a write whose data the handle may keep by reference (writeBorrowed). */
const BORROWED = Symbol('borrowed');

const RETAIN_HARD = 256 * 1024 * 1024;

/** readFile reads in rounds of at most this many bytes (each as parallel READs of rsize). */
const READ_ROUND = 64 * 1024 * 1024;

/** Largest single read into a fresh buffer (readFile): node's kIoMaxLength. */
const MAX_LENGTH = 2 ** 31 - 1;

/**
 * An open file, shaped like node's fs/promises FileHandle.
 *
 * NFSv3 has no open state on the server; the handle holds the file handle,
 * the open flags, the position for position-less reads and writes, and the
 * unstable-write bookkeeping: `retained` holds copies of the unstable WRITEs
 * not yet covered by a COMMIT (in the order they were written),
 * `unstableVerf` the verifier of the first of them. A COMMIT whose verifier
 * differs (or WRITEs whose verifiers differ) means the server restarted and
 * may have dropped them: they are written again, FILE_SYNC, before
 * sync()/close() report success. Nothing acknowledged is lost; at most
 * RETAIN_HARD bytes are held per handle.
 */
export class FileHandle extends EventEmitter implements StreamSource {
  /** The number `fd` reports while open; -1 from the moment close() is called, as node's. */
  private readonly fdNumber = nextFd++;
  private position = 0;
  private closed = false;
  /** The close in progress or done: later close() calls share it. */
  private closing: Promise<void> | undefined;
  /** `own`: a SLAB_SIZE buffer of the free list that `data` is a view of, given back after COMMIT. */
  private retained: Array<{ at: number; data: Buffer; own?: Buffer | undefined }> = [];
  private retainedBytes = 0;
  /** The background COMMIT started past RETAIN_SOFT, while it runs. */
  private committing: Promise<void> | undefined;
  private unstableVerf: Buffer | undefined;
  private verfChanged = false;
  private readonly stable: StableHow;
  /** Background work in flight (readahead windows), so close() waits for it. */
  private busy = new Set<Promise<unknown>>();
  /**
   * Calls in flight by sequence number, kept by call() itself rather than
   * as promises in `busy` (a settle callback per READ or WRITE showed in the
   * 4 KiB profile). `waiters` wait for every call started before them.
   */
  private callSeq = 0;
  private live = new Set<number>();
  private waiters: Array<{ upTo: number; wake: () => void }> = [];

  /** Sequential small reads are served from windows fetched ahead; none for O_DIRECT handles. */
  private readonly readahead: Readahead | undefined;

  /** Byte-range lock owner, made on the first lock (NLM for v3, the open's lock-owner for v4). */
  private locks: LockOwner | undefined;

  constructor(
    private readonly backend: Backend,
    /** The server's file handle for this file. @internal */
    readonly fh: FileHandleId,
    /** The open flags as parsed from `open()`'s `flags`. @internal */
    readonly flags: OpenFlags,
    /** The path this handle was opened with, as errors and streams report it. */
    readonly path: string,
    private readonly blksize: number,
    /** NFSv4 open state (READ/WRITE present it; CLOSE releases it); undefined on v3. */
    private readonly state?: OpenState,
    /** Called once the handle is released (after its COMMIT): the last close of an unlinked file removes it (silly-rename.ts). */
    private readonly onRelease?: () => Promise<void>,
  ) {
    super();
    this.stable = flags.sync === 'file' ? 'file' : flags.sync === 'data' ? 'data' : 'unstable';
    if (flags.read && !flags.direct) {
      this.readahead = new Readahead(
        (buf, at, want) => readInto(this.backend, this.fh, buf, 0, want, at, undefined, this.state),
        (p) => void this.track(p),
      );
    }
    if (state) serverStates.set(this, state);
    unclosed.register(this, { fd: this.fdNumber, backend, state }, this);
  }

  /**
   * A number unique to this handle in the process (from 1000 up, not an OS descriptor), -1 once
   * close() has been called: for logs and for code that checks `fd` as node's FileHandle has one.
   */
  get fd(): number {
    return this.closing ? -1 : this.fdNumber;
  }

  /** node's error for a call on a closed FileHandle: 'file closed', code EBADF, syscall naming the method's internal function. */
  private check(syscall: string): void {
    if (this.closed) throw Object.assign(new Error('file closed'), { code: 'EBADF', syscall });
  }

  /** Resolves once every call and background fetch started before it has settled. */
  private async idle(): Promise<void> {
    const upTo = this.callSeq;
    if (this.oldestLive() <= upTo) await new Promise<void>((wake) => this.waiters.push({ upTo, wake }));
    await Promise.allSettled([...this.busy]);
  }

  private oldestLive(): number {
    let min = Infinity;
    for (const id of this.live) if (id < min) min = id;
    return min;
  }

  private wakeWaiters(): void {
    const oldest = this.oldestLive();
    this.waiters = this.waiters.filter((w) => {
      if (oldest <= w.upTo) return true;
      w.wake();
      return false;
    });
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.busy.add(p);
    const done = () => this.busy.delete(p);
    p.then(done, done);
    return p;
  }

  /**
   * Attributes of the open file (GETATTR on its handle, so it works after the name was removed or renamed).
   *
   * @throws {@link FsError} `ESTALE` (the file is gone from the server); `EBADF` once closed.
   */
  stat(opts: { bigint: true } & SignalOpts): Promise<BigIntStats>;
  stat(opts?: { bigint?: false } & SignalOpts): Promise<Stats>;
  stat(opts?: { bigint?: boolean } & SignalOpts): Promise<Stats | BigIntStats>;
  async stat(opts?: { bigint?: boolean } & SignalOpts): Promise<Stats | BigIntStats> {
    this.check('fstat');
    const signal = signalOf(opts);
    const a = await this.call('fstat', () => this.backend.getattr(this.fh, { signal }), signal);
    return opts?.bigint ? new BigIntStats(a, this.blksize) : new Stats(a, this.blksize);
  }

  private async call<T>(syscall: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    try {
      const id = ++this.callSeq;
      this.live.add(id);
      try {
        return await abortable(signal, fn);
      } finally {
        this.live.delete(id);
        if (this.waiters.length > 0) this.wakeWaiters();
      }
    } catch (err) {
      // Like node's fd-based calls, errors name the syscall but not the path.
      throw toFsError(err, syscall);
    }
  }

  /**
   * Reads into a buffer, as `FileHandle.read`: at `position` when given (the file position is left
   * alone), else at the file position, which then advances. Sequential small reads are served from
   * read-ahead windows. Resolves `bytesRead` 0 at end of file.
   *
   * @throws {@link FsError} `EBADF` (closed, or not opened for reading), `EISDIR`; {@link InvalidArgError}
   *   for an offset, length or position out of range.
   * @example
   * ```ts
   * const { bytesRead, buffer } = await fh.read(Buffer.alloc(4096), 0, 4096, 0);
   * ```
   */
  read<T extends ArrayBufferView = Buffer>(buffer: T, offset?: number | null, length?: number | null, position?: number | bigint | null): Promise<ReadResult<T>>;
  read<T extends ArrayBufferView = Buffer>(opts?: { buffer?: T; offset?: number; length?: number; position?: number | bigint | null } & SignalOpts): Promise<ReadResult<T>>;
  read<T extends ArrayBufferView = Buffer>(buffer: T, opts?: { offset?: number; length?: number; position?: number | bigint | null } & SignalOpts): Promise<ReadResult<T>>;
  async read(a?: unknown, b?: unknown, c?: unknown, d?: unknown): Promise<ReadResult<ArrayBufferView>> {
    this.check('read');
    // Arguments are taken and checked in node's order and words (lib/internal/fs/promises.js).
    let buffer: ArrayBufferView;
    let offset: unknown = b;
    let length: unknown = c;
    let position: unknown = d;
    let signal: AbortSignal | undefined;
    if (ArrayBuffer.isView(a)) {
      buffer = a;
    } else {
      if (a !== undefined && a !== null && typeof a !== 'object') throw argType('options', 'of type object', a);
      const o = (a ?? {}) as { buffer?: unknown; offset?: number; length?: number; position?: unknown };
      const buf = o.buffer ?? Buffer.alloc(16384);
      if (!ArrayBuffer.isView(buf)) throw argType('buffer', 'an instance of Buffer, TypedArray, or DataView', buf);
      buffer = buf;
      offset = o.offset ?? 0;
      length = o.length ?? buffer.byteLength - (offset as number);
      position = o.position ?? null;
      signal = signalOf(a);
    }
    if (offset !== null && typeof offset === 'object') {
      const o = offset as { offset?: number; length?: number; position?: unknown };
      signal = signalOf(o);
      offset = o.offset ?? 0;
      length = o.length ?? buffer.byteLength - (offset as number);
      position = o.position ?? null;
    }
    if (offset === undefined || offset === null) offset = 0;
    else checkInteger(offset, 'offset', 0);
    const off = offset as number;
    const len = (length ?? buffer.byteLength - off) as number;
    if (len === 0) return { bytesRead: 0, buffer };
    if (buffer.byteLength === 0) throw argValue('buffer', 'is empty and cannot be written', '');
    if (off < 0) throw outOfRange('offset', '>= 0', off);
    if (len < 0) throw outOfRange('length', '>= 0', len);
    if (off + len > buffer.byteLength) throw outOfRange('length', `<= ${buffer.byteLength - off}`, len);
    if (!this.flags.read) throw fsError('EBADF', 'read');
    const pos = readPosition(position);
    const at = pos ?? this.position;
    const target = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    const co = signal ? { signal } : undefined;
    const n = await this.call('read', () => (co ? undefined : this.readahead?.read(target, off, len, at)) ?? readInto(this.backend, this.fh, target, off, len, at, co, this.state), signal);
    if (pos === undefined) this.position = at + n;
    return { bytesRead: n, buffer };
  }

  /**
   * Reads into several buffers in turn (scatter), as `FileHandle.readv`.
   *
   * @throws {@link FsError} `EBADF`, `EISDIR`.
   */
  async readv<T extends readonly ArrayBufferView[]>(buffers: T, position?: number | null, opts?: SignalOpts): Promise<{ bytesRead: number; buffers: T }> {
    this.check('readv');
    if (!Array.isArray(buffers)) throw argType('buffers', 'an ArrayBufferView[]', buffers);
    const signal = signalOf(opts);
    checkAborted(signal);
    if (!this.flags.read) throw fsError('EBADF', 'read');
    const pos = readPosition(position);
    let at = pos ?? this.position;
    let total = 0;
    for (const b of buffers) {
      const target = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      const n = await this.call('read', () => readInto(this.backend, this.fh, target, 0, b.byteLength, at, { signal }, this.state), signal);
      total += n;
      at += n;
      if (n < b.byteLength) break;
    }
    if (pos === undefined) this.position = at;
    return { bytesRead: total, buffers };
  }

  /**
   * Writes a buffer or string, as `FileHandle.write`: at `position` when given, else at the file position
   * (at the end of file in append mode). The bytes are sent UNSTABLE and kept until a COMMIT (sync, close)
   * confirms them; if the server restarted in between they are written again, so nothing acknowledged is lost.
   *
   * @throws {@link FsError} `EBADF` (closed, or not opened for writing), `ENOSPC`, `EDQUOT`, `EFBIG`.
   */
  write<T extends ArrayBufferView>(buffer: T, offset?: number | null, length?: number | null, position?: number | null): Promise<WriteResultFs<T>>;
  write<T extends ArrayBufferView>(buffer: T, opts?: { offset?: number; length?: number; position?: number | null } & SignalOpts): Promise<WriteResultFs<T>>;
  write(data: string, position?: number | null, encoding?: Encoding | null): Promise<WriteResultFs<string>>;
  async write(a: unknown, b?: unknown, c?: unknown, d?: unknown): Promise<WriteResultFs<unknown>> {
    this.check('write');
    // Arguments are taken and checked in node's order and words (lib/internal/fs/promises.js).
    let bytes: Buffer;
    let position: unknown;
    let signal: AbortSignal | undefined;
    if (ArrayBuffer.isView(a)) {
      let offset: unknown = b;
      let length: unknown = c;
      position = d;
      if (b !== null && typeof b === 'object') {
        const o = b as { offset?: number; length?: number; position?: number | null };
        signal = signalOf(o);
        offset = o.offset ?? 0;
        length = o.length ?? a.byteLength - (offset as number);
        position = o.position ?? null;
      }
      if (offset === undefined || offset === null) offset = 0;
      else checkInteger(offset, 'offset', 0);
      const off = offset as number;
      const len = typeof length === 'number' ? length : a.byteLength - off;
      if (off > a.byteLength) throw outOfRange('offset', `<= ${a.byteLength}`, off);
      if (len > a.byteLength - off) throw outOfRange('length', `<= ${a.byteLength - off}`, len);
      if (len < 0) throw outOfRange('length', '>= 0', len);
      checkInteger(len, 'length', 0, 2 ** 31 - 1);
      bytes = Buffer.from(a.buffer, a.byteOffset + off, len);
    } else if (typeof a === 'string') {
      // A string takes (position, encoding). node checks only that hex has
      // whole bytes; an encoding it does not know is utf8, as its binding takes it.
      position = b;
      const enc = typeof c === 'string' && Buffer.isEncoding(c) ? c : 'utf8';
      if (enc.toLowerCase() === 'hex' && a.length % 2 !== 0) throw argValue('encoding', `is invalid for data of length ${a.length}`, c);
      bytes = Buffer.from(a, enc);
    } else {
      throw argType('buffer', 'of type string or an instance of Buffer, TypedArray, or DataView', a);
    }
    const n = await this.writeBytes(bytes, writePosition(position), signal);
    return { bytesWritten: n, buffer: a };
  }

  /**
   * Writes several buffers one after the other (gather), as `FileHandle.writev`.
   *
   * @throws {@link FsError} `EBADF`, `ENOSPC`, `EDQUOT`.
   */
  async writev<T extends readonly ArrayBufferView[]>(buffers: T, position?: number | null, opts?: SignalOpts): Promise<{ bytesWritten: number; buffers: T }> {
    this.check('writev');
    if (!Array.isArray(buffers)) throw argType('buffers', 'an ArrayBufferView[]', buffers);
    const signal = signalOf(opts);
    checkAborted(signal);
    const all = Buffer.concat(buffers.map((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)));
    const n = await this.writeBytes(all, writePosition(position), signal);
    return { bytesWritten: n, buffers };
  }

  /** See writeKept(). */
  private writeUnchanging(data: Buffer, position: number): Promise<number> {
    this.check('write');
    return this.writeBytes(data, position, undefined, BORROWED);
  }

  /** See writeBorrowed(). */
  private writeAll(data: Buffer, signal?: AbortSignal): Promise<number> {
    this.check('writeFileHandle');
    checkAborted(signal);
    return this.writeBytes(data, undefined, signal, BORROWED);
  }

  /**
   * Write-behind for WriteStream: `data` is a view of `own` (from
   * takeSpare), which the handle now owns: kept as the retained copy of an
   * unstable write without copying it again, and given back to the free list
   * once COMMITted. With `advance`, the file position moves past the write as
   * soon as it is issued (the stream issues later writes before this one
   * completes). Not a method node's FileHandle has.
   * @internal
   */
  [kStreamWrite](data: Buffer, own: Buffer, at: number, advance: boolean): Promise<number> {
    this.check('write');
    if (advance) this.position = Math.max(this.position, at + data.length);
    return this.writeBytes(data, at, undefined, own);
  }

  /** Where a stream over this handle starts when it has no `start`, and whether its writes append (O_APPEND). @internal */
  [kStreamStart](): { position: number; append: boolean } {
    return { position: this.position, append: this.flags.append };
  }

  /** Writes at `position`, or at the file position (the end of file in append mode). */
  private async writeBytes(data: Buffer, position: number | undefined, signal?: AbortSignal, own?: Buffer | typeof BORROWED): Promise<number> {
    if (!this.flags.write) throw fsError('EBADF', 'write');
    this.readahead?.drop();
    return this.call('write', async () => {
      let at: number;
      // O_APPEND ignores the position, as on Linux. NFS has no atomic append:
      // the end of file is read with GETATTR, as the kernel client does.
      if (this.flags.append) at = (await this.backend.getattr(this.fh)).size;
      else at = position ?? this.position;
      const r = await writeFrom(this.backend, this.fh, data, at, this.stable, { signal }, this.state);
      if (position === undefined || this.flags.append) this.position = at + r.bytes;
      if (r.verf === undefined) {
        if (own && own !== BORROWED) giveSpare(own);
      } else {
        this.noteUnstable(r.verf, r.verfChanged, at, data, own);
        if (this.retainedBytes > RETAIN_SOFT && !this.committing) {
          this.committing = this.commitIfDirty('write').finally(() => (this.committing = undefined));
          // A failure here is not this write's: the batch stays retained and the next sync()/close() reports it.
          this.committing.catch(() => {});
        }
        if (this.retainedBytes > RETAIN_HARD && this.committing) await this.committing;
      }
      return r.bytes;
    }, signal);
  }

  private noteUnstable(verf: Buffer, changed: boolean, at: number, data: Buffer, owned?: Buffer | typeof BORROWED): void {
    if (owned === BORROWED) {
      this.retained.push({ at, data });
    } else if (owned) {
      this.retained.push({ at, data, own: owned });
    } else if (data.length > SLAB_SIZE / 16 && data.length <= SLAB_SIZE) {
      // A copy: the caller may reuse its buffer once write() resolves, before the COMMIT.
      const own = takeSpare();
      data.copy(own);
      this.retained.push({ at, data: own.subarray(0, data.length), own });
    } else {
      this.retained.push({ at, data: this.copyRetained(data) });
    }
    this.retainedBytes += data.length;
    if (changed) this.verfChanged = true;
    if (this.unstableVerf === undefined) this.unstableVerf = Buffer.from(verf);
    else if (!this.unstableVerf.equals(verf)) this.verfChanged = true;
  }

  /** The slab small retained copies are packed into, and how much of it is used. */
  private slab: Buffer | undefined;
  private slabUsed = 0;

  /**
   * Copies a write's bytes for retention. Small writes share 1 MiB slabs
   * rather than each getting its own allocation: with 4 KiB random writes the
   * per-write allocations were a tenth of the CPU, in GC. A slab is freed
   * with the last retained write that points into it.
   */
  private copyRetained(data: Buffer): Buffer {
    if (data.length > SLAB_SIZE / 16) {
      const copy = Buffer.allocUnsafeSlow(data.length);
      data.copy(copy);
      return copy;
    }
    if (!this.slab || this.slabUsed + data.length > this.slab.length) {
      this.slab = Buffer.allocUnsafeSlow(SLAB_SIZE);
      this.slabUsed = 0;
    }
    const copy = this.slab.subarray(this.slabUsed, this.slabUsed + data.length);
    data.copy(copy);
    this.slabUsed += data.length;
    return copy;
  }

  /** Unstable writes re-sent because the server lost them (verifier changed), for tests and metrics. */
  resentWrites = 0;

  /**
   * COMMITs the retained unstable writes. If the verifier shows the server
   * restarted since they were written, writes them again FILE_SYNC, in their
   * original order so overlapping writes keep their last value.
   */
  private async commitIfDirty(syscall: string): Promise<void> {
    if (this.retained.length === 0) return;
    const batch = this.retained;
    const first = this.unstableVerf;
    const changed = this.verfChanged;
    this.retained = [];
    this.retainedBytes = 0;
    this.unstableVerf = undefined;
    this.verfChanged = false;
    try {
      await this.call(syscall, async () => {
        const verf = await this.backend.commit(this.fh);
        if (!changed && first !== undefined && first.equals(verf)) return;
        for (const w of batch) {
          await writeFrom(this.backend, this.fh, w.data, w.at, 'file', undefined, this.state);
          this.resentWrites++;
        }
        // Writes made while this COMMIT ran may overlap what was just re-sent: they must go again after it.
        if (this.retained.length > 0) this.verfChanged = true;
      });
      for (const w of batch) if (w.own) giveSpare(w.own);
    } catch (err) {
      // Not known to be on disk: keep them, to be written again stably by the next sync()/close().
      this.retained = batch.concat(this.retained);
      this.retainedBytes += batch.reduce((n, w) => n + w.data.length, 0);
      this.verfChanged = true;
      this.unstableVerf ??= first;
      throw err;
    }
  }

  /** An abort stops the wait; the COMMIT itself, once sent, still settles the retained writes. */
  async sync(opts?: SignalOpts): Promise<void> {
    this.check('fsync');
    const signal = signalOf(opts);
    await abortable(signal, async () => {
      await this.idle();
      await this.committing?.catch(() => {});
      await this.commitIfDirty('fsync');
    });
  }

  /**
   * As {@link FileHandle.sync}: NFS COMMIT has no data-only variant, so both make data and metadata stable.
   *
   * @throws {@link FsError} `EBADF`, `EIO` (the server could not commit).
   */
  async datasync(opts?: SignalOpts): Promise<void> {
    this.check('fdatasync');
    const signal = signalOf(opts);
    await abortable(signal, async () => {
      await this.idle();
      await this.committing?.catch(() => {});
      await this.commitIfDirty('fdatasync');
    });
  }

  /**
   * Sets the file's size through the open handle (which needs write access).
   *
   * @throws {@link FsError} `EINVAL` (not opened for writing), `EBADF`; {@link InvalidArgError} for a non-integer `len`.
   */
  async truncate(len = 0, opts?: SignalOpts): Promise<void> {
    this.check('ftruncate');
    if (typeof len !== 'number') throw argType('len', 'of type number', len);
    if (!Number.isInteger(len)) throw outOfRange('len', 'an integer', len);
    const signal = signalOf(opts);
    if (!this.flags.write) throw fsError('EINVAL', 'ftruncate');
    this.readahead?.drop();
    await this.call('ftruncate', () => this.backend.setattr(this.fh, { size: Math.max(0, len) }, { signal }, this.state), signal);
  }

  /**
   * Sets the open file's permission bits.
   *
   * @throws {@link FsError} `EPERM`, `EBADF`.
   */
  async chmod(mode: number | string, opts?: SignalOpts): Promise<void> {
    this.check('fchmod');
    const m = parseMode(mode, 0);
    const signal = signalOf(opts);
    await this.call('fchmod', () => this.backend.setattr(this.fh, { mode: m }, { signal }), signal);
  }

  /**
   * Sets the open file's owner and group (`-1` keeps one).
   *
   * @throws {@link FsError} `EPERM`, `EBADF`.
   */
  async chown(uid: number, gid: number, opts?: SignalOpts): Promise<void> {
    this.check('fchown');
    const s = ownerAttrs(uid, gid);
    const signal = signalOf(opts);
    await this.call('fchown', () => this.backend.setattr(this.fh, s, { signal }), signal);
  }

  /**
   * Sets the open file's access and modification times.
   *
   * @throws {@link FsError} `EINVAL` (an invalid Date), `EPERM`, `EBADF`.
   */
  async utimes(atime: number | string | Date, mtime: number | string | Date, opts?: SignalOpts): Promise<void> {
    this.check('futimes');
    const s = toSetAttrsTimes(atime, mtime);
    const signal = signalOf(opts);
    // An invalid Date has no time to set: futimes(2) fails EINVAL, as in node.
    if (!s) throw fsError('EINVAL', 'futime');
    await this.call('futime', () => this.backend.setattr(this.fh, clampTimes(s, this.backend), { signal }), signal);
  }

  /**
   * Reads from the file position to the end of file, a Buffer or (with an encoding) a string.
   *
   * @throws {@link FsError} `EBADF` (not opened for reading), `EISDIR`; `ERR_FS_FILE_TOO_LARGE` past 2 GiB.
   */
  readFile(opts?: { encoding?: null; signal?: AbortSignal } | null): Promise<Buffer>;
  readFile(opts: Encoding | { encoding: Encoding; signal?: AbortSignal }): Promise<string>;
  readFile(opts?: Encoding | { encoding?: Encoding | null; signal?: AbortSignal } | null): Promise<Buffer | string>;
  async readFile(opts?: Encoding | { encoding?: Encoding | null; signal?: AbortSignal } | null): Promise<Buffer | string> {
    this.check('readFileHandle');
    const o = typeof opts === 'string' ? { encoding: opts } : (opts ?? {});
    if (!this.flags.read) throw fsError('EBADF', 'read');
    checkAborted(o.signal);
    const buf = await this.call('read', () => readWhole(this.backend, this.fh, this.position, o.signal, undefined, this.state), o.signal ?? undefined);
    this.position += buf.length;
    return o.encoding ? buf.toString(o.encoding) : buf;
  }

  /**
   * Writes a string, buffer or (async) iterable of chunks at the file position, as
   * `FileHandle.writeFile`. Does not commit: call sync() or close() for that.
   *
   * @throws {@link FsError} `EBADF`, `ENOSPC`, `EDQUOT`.
   */
  async writeFile(data: string | ArrayBufferView | Iterable<unknown> | AsyncIterable<unknown>, opts?: Encoding | { encoding?: Encoding | null; signal?: AbortSignal } | null): Promise<void> {
    this.check('writeFileHandle');
    const o = typeof opts === 'string' ? { encoding: opts } : (opts ?? {});
    // Even when there is nothing to write, as node's writeFile.
    checkAborted(o.signal);
    for await (const chunk of toChunks(data, o.encoding ?? 'utf8')) {
      checkAborted(o.signal);
      await this.writeBytes(chunk, undefined, o.signal ?? undefined);
    }
  }

  /**
   * As {@link FileHandle.writeFile}: a handle opened with `'a'` writes at the end of file.
   *
   * @throws {@link FsError} as writeFile.
   */
  appendFile(data: string | ArrayBufferView, opts?: Encoding | { encoding?: Encoding | null; signal?: AbortSignal } | null): Promise<void> {
    return this.writeFile(data, opts);
  }

  /** A {@link ReadStream} over this handle; it closes the handle when it ends unless `autoClose: false`. */
  createReadStream(opts?: ReadStreamOptions): ReadStream {
    return new ReadStream(this, opts);
  }

  /** Lines of the file from the current position, as node's: a readline Interface over createReadStream(opts), '\r\n' one break. */
  readLines(opts?: ReadStreamOptions): Interface {
    return createInterface({ input: this.createReadStream(opts), crlfDelay: Infinity });
  }

  /** A {@link WriteStream} into this handle. */
  createWriteStream(opts?: WriteStreamOptions): WriteStream {
    return new WriteStream(this, opts);
  }

  /**
   * COMMITs outstanding unstable writes, then releases the handle. As node:
   * `fd` is -1 and 'close' is emitted as soon as it is called; a second call
   * shares the first one's outcome.
   */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = this.release();
    unclosed.unregister(this);
    this.emit('close');
    return this.closing;
  }

  private async release(): Promise<void> {
    if (this.closed) return;
    await this.idle();
    await this.committing?.catch(() => {});
    try {
      await this.commitIfDirty('close');
    } finally {
      this.closed = true;
      // Locks go with the handle, as with OFD locks; then the server's open state.
      await this.locks?.close().catch(() => {});
      if (this.state && this.backend.closeState) await this.backend.closeState(this.state).catch(() => {});
      await this.onRelease?.();
    }
  }

  /**
   * fcntl-style byte-range lock on [start, start + length) (length 0: to end
   * of file), owned by this FileHandle. `exclusive` (default true) is a write
   * lock; `wait` retries until granted or `signal` aborts, else a conflict
   * fails with EAGAIN. NFSv3 locks through NLM, NFSv4 with LOCK.
   */
  async lock(start = 0, length = 0, opts: { exclusive?: boolean; wait?: boolean; signal?: AbortSignal } = {}): Promise<void> {
    this.check('lock');
    checkLockRange(start, length);
    const signal = signalOf(opts);
    checkAborted(signal);
    const exclusive = opts.exclusive ?? true;
    if (exclusive ? !this.flags.write : !this.flags.read) throw fsError('EBADF', 'lock');
    await this.call('lock', () => this.lockOwner().lock(start, length, { exclusive, wait: opts.wait, signal }), signal);
    // What another client wrote under its lock must be read afresh under ours.
    this.readahead?.drop();
  }

  /** Releases [start, start + length) of this handle's locks. */
  async unlock(start = 0, length = 0, opts?: SignalOpts): Promise<void> {
    this.check('unlock');
    checkLockRange(start, length);
    const signal = signalOf(opts);
    checkAborted(signal);
    if (!this.locks) return;
    await this.call('unlock', () => this.locks!.unlock(start, length), signal);
  }

  /** F_GETLK: the lock that would block [start, start + length), or undefined. */
  async getLock(start = 0, length = 0, opts: { exclusive?: boolean } & SignalOpts = {}): Promise<{ exclusive: boolean; start: number; length: number } | undefined> {
    this.check('lock');
    checkLockRange(start, length);
    const signal = signalOf(opts);
    checkAborted(signal);
    return this.call('lock', () => this.lockOwner().test(start, length, opts.exclusive ?? true), signal);
  }

  private lockOwner(): LockOwner {
    if (!this.backend.lockOwner) throw fsError('ENOLCK', 'lock', this.path, undefined, { message: 'this server offers no byte-range locks' });
    return (this.locks ??= this.backend.lockOwner(this.fh, this.state));
  }

  /** Closes the handle at the end of an `await using` block. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Whether the handle has been released (close() finished its COMMIT and let go of the server state). */
  get isClosed(): boolean {
    return this.closed;
  }
}

function checkLockRange(start: number, length: number): void {
  for (const [n, v] of [['start', start], ['length', length]] as const) {
    if (!Number.isSafeInteger(v) || v < 0) throw new InvalidArgError('ERR_OUT_OF_RANGE', `The value of "${n}" is out of range. It must be an integer >= 0. Received ${v}`);
  }
}

/**
 * A read's position as node takes it: a bigint is range-checked; a number
 * that is not a non-negative safe integer, or anything else, means the file
 * position (node reads at the file position for -2, 1.5 or 'x').
 */
function readPosition(p: unknown): number | undefined {
  if (typeof p === 'bigint') {
    if (p < -1n || p > BigInt(Number.MAX_SAFE_INTEGER)) throw outOfRange('position', `>= -1 && <= ${Number.MAX_SAFE_INTEGER}`, `${p}n`);
    return p === -1n ? undefined : Number(p);
  }
  return typeof p === 'number' && Number.isSafeInteger(p) && p >= 0 ? p : undefined;
}

/** A write's position: node passes anything but a non-negative integer through as "the file position". */
function writePosition(p: unknown): number | undefined {
  if (typeof p === 'bigint') return p >= 0n && p <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(p) : undefined;
  return typeof p === 'number' && Number.isSafeInteger(p) && p >= 0 ? p : undefined;
}

export function ownerAttrs(uid: number, gid: number): { uid?: number; gid?: number } {
  for (const [n, v] of [['uid', uid], ['gid', gid]] as const) {
    if (typeof v !== 'number' || !Number.isInteger(v)) throw invalidArgType(n, 'of type number', v);
    if (v < -1 || v > 0xffffffff) throw new InvalidArgError('ERR_OUT_OF_RANGE', `The value of "${n}" is out of range. It must be >= -1 && <= 4294967295. Received ${v}`);
  }
  // -1 leaves the id unchanged, as chown(2) does.
  const s: { uid?: number; gid?: number } = {};
  if (uid !== -1) s.uid = uid;
  if (gid !== -1) s.gid = gid;
  return s;
}

/** Reads from `start` to end of file: size from GETATTR, then parallel READs; continues if the file grew. */
export async function readWhole(b: Backend, fh: FileHandleId, start: number, signal?: AbortSignal, attrs?: Attrs, state?: OpenState): Promise<Buffer> {
  const a = attrs ?? (await b.getattr(fh, { signal }));
  if (a.kind === 'directory') throw fsError('EISDIR', 'read');
  let size = Math.max(0, a.size - start);
  if (size > MAX_LENGTH) throw Object.assign(new RangeError(`File size (${a.size}) is greater than 2 GiB`), { code: 'ERR_FS_FILE_TOO_LARGE' });
  const parts: Buffer[] = [];
  let at = start;
  let total = 0;
  // One extra READ past the expected size detects growth (and costs one round trip).
  for (;;) {
    // The size is the server's word: trust it for at most READ_ROUND bytes at a time, so a hostile
    // or stale size cannot make us allocate (or send READs for) more than the file really holds.
    const want = Math.min(Math.max(size, b.limits.rsize), READ_ROUND);
    const buf = Buffer.allocUnsafe(want);
    const n = await readInto(b, fh, buf, 0, want, at, { signal }, state);
    parts.push(buf.subarray(0, n));
    total += n;
    at += n;
    if (n < want) break;
    if (total > MAX_LENGTH) throw Object.assign(new RangeError('File size is greater than 2 GiB'), { code: 'ERR_FS_FILE_TOO_LARGE' });
    size -= n;
    if (size <= 0) size = b.limits.rsize * 4;
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
}

/** Normalises writeFile's data argument (string, buffer, iterable, async iterable) to Buffers. */
export async function* toChunks(data: unknown, encoding: Encoding): AsyncGenerator<Buffer> {
  if (typeof data === 'string') {
    yield Buffer.from(data, encoding);
  } else if (ArrayBuffer.isView(data)) {
    yield Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  } else if (data && typeof data === 'object' && (Symbol.asyncIterator in data || Symbol.iterator in data)) {
    for await (const c of data as AsyncIterable<unknown>) {
      if (typeof c === 'string') yield Buffer.from(c, encoding);
      else if (ArrayBuffer.isView(c)) yield Buffer.from(c.buffer, c.byteOffset, c.byteLength);
      else throw invalidArgType('data', 'of type string or an instance of Buffer, TypedArray, or DataView', c);
    }
  } else {
    throw invalidArgType('data', 'of type string or an instance of Buffer, TypedArray, DataView, Iterable or AsyncIterable', data);
  }
}
