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

  override _read(n: number): void {
    const want = Math.min(n, this.end - (this.pos ?? this.bytesRead) + 1);
    if (want <= 0) {
      this.push(null);
      return;
    }
    const buf = Buffer.allocUnsafe(want);
    this.handle.read(buf, 0, want, this.pos ?? null).then(
      ({ bytesRead }) => {
        if (this.pos !== undefined) this.pos += bytesRead;
        this.bytesRead += bytesRead;
        if (bytesRead === 0) this.push(null);
        else this.push(bytesRead === want ? buf : buf.subarray(0, bytesRead));
      },
      (err) => this.destroy(err),
    );
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
