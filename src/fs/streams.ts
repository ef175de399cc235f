import { Readable, Writable } from 'node:stream';
import { InvalidArgError } from '../errors.js';
import type { FileHandle } from './file-handle.js';

export interface ReadStreamOptions {
  start?: number;
  /** Inclusive, as node's. */
  end?: number;
  highWaterMark?: number;
  encoding?: BufferEncoding;
  /** Close the FileHandle when the stream ends or fails. Default true. */
  autoClose?: boolean;
  emitClose?: boolean;
  signal?: AbortSignal;
}

export interface WriteStreamOptions {
  start?: number;
  highWaterMark?: number;
  encoding?: BufferEncoding;
  autoClose?: boolean;
  emitClose?: boolean;
  /** Send a COMMIT (fsync) before 'finish'. Default false; close() commits anyway with autoClose. */
  flush?: boolean;
  signal?: AbortSignal;
}

/** Largest readahead window of a ReadStream. */
const READAHEAD_MAX = 8 * 1024 * 1024;

function checkPos(name: string, v: number | undefined): void {
  if (v === undefined) return;
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new InvalidArgError('ERR_OUT_OF_RANGE', `The value of "${name}" is out of range. It must be >= 0 && <= ${Number.MAX_SAFE_INTEGER}. Received ${v}`);
  }
}

/** A node Readable over a FileHandle: `start`/`end` (inclusive) and `highWaterMark` as fs.createReadStream. */
export class ReadStream extends Readable {
  bytesRead = 0;
  path: string;
  handle!: FileHandle;
  private readonly pending: Promise<FileHandle> | undefined;
  private pos: number | undefined;
  private readonly end: number;
  private readonly autoCloseHandle: boolean;

  /** `handle` may be a promise (fs.createReadStream opens lazily); open errors are emitted as 'error'. */
  constructor(handle: FileHandle | Promise<FileHandle>, opts: ReadStreamOptions = {}, path?: string) {
    checkPos('start', opts.start);
    checkPos('end', opts.end);
    if (opts.start !== undefined && opts.end !== undefined && opts.start > opts.end) {
      throw new InvalidArgError('ERR_OUT_OF_RANGE', `The value of "start" is out of range. It must be <= "end" (here: ${opts.end}). Received ${opts.start}`);
    }
    super({
      highWaterMark: opts.highWaterMark ?? 64 * 1024,
      ...(opts.encoding ? { encoding: opts.encoding } : {}),
      emitClose: opts.emitClose ?? true,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    this.pending = handle instanceof Promise ? handle : undefined;
    if (!(handle instanceof Promise)) this.handle = handle;
    this.path = handle instanceof Promise ? (path ?? '') : handle.path;
    this.pos = opts.start;
    this.end = opts.end ?? Infinity;
    this.autoCloseHandle = opts.autoClose ?? true;
  }

  override _construct(cb: (err?: Error | null) => void): void {
    opened(this, this.pending, (h) => (this.handle = h), cb);
  }

  /**
   * Readahead. Each fetch is one readInto (parallel READs of rsize), of a
   * window that starts at one highWaterMark and doubles after each full
   * fetch up to READAHEAD_MAX, as the kernel's readahead ramps up; a small
   * file costs one READ. Fetched bytes wait in `ahead` as highWaterMark-sized
   * chunks, handed out one per _read as node's fs streams do; the next fetch
   * starts while fewer than a window's bytes are waiting, so a single
   * sequential reader keeps READs in flight. At most two windows are held.
   */
  private window = 0;
  private ahead: Buffer[] = [];
  private aheadBytes = 0;
  private fetching = false;
  private atEof = false;
  /** A _read came while nothing was fetched: the next fetch answers it. */
  private waiting = false;

  override _read(): void {
    const next = this.ahead.shift();
    if (next) {
      this.aheadBytes -= next.length;
      // Handed out on a later turn, as a read from disk would be: a consumer
      // calling read() gets one chunk at a time, as from node's fs streams.
      setImmediate(() => {
        if (!this.destroyed) this.push(next);
      });
      this.fetch();
      return;
    }
    if (this.atEof) {
      this.push(null);
      return;
    }
    this.waiting = true;
    this.fetch();
  }

  private fetch(): void {
    if (this.fetching || this.atEof || (this.window > 0 && this.aheadBytes >= this.window)) return;
    const hwm = this.readableHighWaterMark;
    const left = this.end - (this.pos ?? this.bytesRead) + 1;
    this.window = this.window === 0 ? hwm : Math.min(this.window * 2, Math.max(READAHEAD_MAX, hwm));
    const want = Math.min(this.window, left);
    if (want <= 0) {
      this.atEof = true;
      this.answerWaiting();
      return;
    }
    this.fetching = true;
    const buf = Buffer.allocUnsafe(want);
    this.handle.read(buf, 0, want, this.pos ?? null).then(
      ({ bytesRead }) => {
        this.fetching = false;
        if (this.pos !== undefined) this.pos += bytesRead;
        this.bytesRead += bytesRead;
        for (let off = 0; off < bytesRead; off += hwm) this.ahead.push(buf.subarray(off, Math.min(off + hwm, bytesRead)));
        this.aheadBytes += bytesRead;
        if (bytesRead < want) this.atEof = true;
        this.answerWaiting();
        if (!this.destroyed) this.fetch();
      },
      (err) => this.destroy(err),
    );
  }

  private answerWaiting(): void {
    if (!this.waiting) return;
    this.waiting = false;
    const next = this.ahead.shift();
    if (next) this.aheadBytes -= next.length;
    this.push(next ?? null);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    closeHandle(this.handle, this.autoCloseHandle, err, cb);
  }
}

/** fs.createReadStream/createWriteStream open lazily: the stream starts once its handle is open, as node's emits 'open' then 'ready'. */
function opened(stream: Readable | Writable, pending: Promise<FileHandle> | undefined, set: (h: FileHandle) => void, cb: (err?: Error | null) => void): void {
  if (!pending) return cb();
  pending.then(
    (h) => {
      set(h);
      stream.emit('open', h.fd);
      stream.emit('ready');
      cb();
    },
    (err) => cb(err),
  );
}

/** Closes an owned handle on destroy; close() COMMITs, and its failure (a lost unstable write) must reach the user. */
function closeHandle(h: FileHandle | undefined, owned: boolean, err: Error | null, cb: (err?: Error | null) => void): void {
  if (!owned || !h || h.isClosed) return cb(err);
  h.close().then(
    () => cb(err),
    (e) => cb(err ?? e),
  );
}

/** A node Writable over a FileHandle; writes go out in order, each as parallel WRITEs of wsize. */
export class WriteStream extends Writable {
  bytesWritten = 0;
  path: string;
  handle!: FileHandle;
  private readonly pending: Promise<FileHandle> | undefined;
  private pos: number | undefined;
  private readonly autoCloseHandle: boolean;
  private readonly flushOnFinal: boolean;

  constructor(handle: FileHandle | Promise<FileHandle>, opts: WriteStreamOptions = {}, path?: string) {
    checkPos('start', opts.start);
    super({
      highWaterMark: opts.highWaterMark ?? 16 * 1024,
      decodeStrings: true,
      ...(opts.encoding ? { defaultEncoding: opts.encoding } : {}),
      emitClose: opts.emitClose ?? true,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    this.pending = handle instanceof Promise ? handle : undefined;
    if (!(handle instanceof Promise)) this.handle = handle;
    this.path = handle instanceof Promise ? (path ?? '') : handle.path;
    this.pos = opts.start;
    this.autoCloseHandle = opts.autoClose ?? true;
    this.flushOnFinal = opts.flush ?? false;
  }

  override _construct(cb: (err?: Error | null) => void): void {
    opened(this, this.pending, (h) => (this.handle = h), cb);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.handle.write(chunk, 0, chunk.length, this.pos ?? null).then(
      ({ bytesWritten }) => {
        if (this.pos !== undefined) this.pos += bytesWritten;
        this.bytesWritten += bytesWritten;
        cb();
      },
      (err) => cb(err),
    );
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    const all = Buffer.concat(chunks.map((c) => c.chunk));
    this._write(all, 'buffer' as BufferEncoding, cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (!this.flushOnFinal) return cb();
    this.handle.sync().then(() => cb(), cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    closeHandle(this.handle, this.autoCloseHandle, err, cb);
  }
}
