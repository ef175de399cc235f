import { Socket, connect as netConnect } from 'node:net';
import { RecordDecoder } from './record.js';
import { RpcConnectionError } from './errors.js';

export interface TransportOptions {
  host: string;
  port: number;
  /** ms before a connect attempt is abandoned. */
  connectTimeout: number;
  maxRecordSize: number;
  /** Local port to bind; RPC servers with `secure` exports want one below 1024. */
  localPort?: number;
}

export interface TransportEvents {
  onRecord(record: Buffer): void;
  /** Called once when the connection ends for any reason, with the cause if it was an error. */
  onClose(err: Error | undefined): void;
  /** The socket drained after a write returned false. */
  onDrain(): void;
}

/** Bytes queued in one tick before we flush without waiting for the tick to end. */
const FLUSH_THRESHOLD = 256 * 1024;

/**
 * One TCP connection carrying RPC records.
 *
 * Writes are coalesced: buffers queued during one tick go out in a single
 * corked batch (one writev), so a burst of small calls costs one syscall.
 * `writable` is false from the moment the socket's buffer is over its high
 * water mark until 'drain'; the client reads it as backpressure.
 */
export class Transport {
  private readonly decoder: RecordDecoder;
  /** Buffers waiting for the end-of-tick flush, in wire order. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private flushScheduled = false;
  private closed = false;
  writable = true;

  private constructor(
    private readonly socket: Socket,
    readonly opts: TransportOptions,
    private readonly events: TransportEvents,
  ) {
    this.decoder = new RecordDecoder(opts.maxRecordSize, (rec) => events.onRecord(rec));
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      try {
        this.decoder.push(chunk);
      } catch (err) {
        // A framing error leaves the byte stream unsynchronised: the only safe
        // recovery is a new connection.
        this.destroy(err as Error);
      }
    });
    socket.on('drain', () => {
      this.writable = true;
      events.onDrain();
    });
    socket.on('error', (err) => this.finish(err));
    socket.on('close', () => this.finish(undefined));
  }

  static connect(opts: TransportOptions, events: TransportEvents): Promise<Transport> {
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host: opts.host, port: opts.port, localPort: opts.localPort });
      const where = `${opts.host}:${opts.port}`;
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new RpcConnectionError(`connect ETIMEDOUT ${where} (no answer within ${opts.connectTimeout} ms)`, 'ETIMEDOUT', opts.host, opts.port));
      }, opts.connectTimeout);
      const onError = (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        socket.destroy();
        reject(new RpcConnectionError(`connect ${err.code ?? 'failed'} ${where}: ${err.message}`, err.code ?? 'ECONNREFUSED', opts.host, opts.port, { cause: err }));
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        resolve(new Transport(socket, opts, events));
      });
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Queues one record's buffers; they leave at the end of this tick or when the batch is large. */
  write(bufs: Buffer[], bytes: number): void {
    if (this.closed) return;
    for (let i = 0; i < bufs.length; i++) this.pending.push(bufs[i]!);
    this.pendingBytes += bytes;
    if (this.pendingBytes >= FLUSH_THRESHOLD) {
      this.flush();
    } else if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.closed || this.pending.length === 0) return;
    const bufs = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    const s = this.socket;
    let ok: boolean;
    if (bufs.length === 1) {
      ok = s.write(bufs[0]!);
    } else {
      s.cork();
      ok = true;
      for (let i = 0; i < bufs.length; i++) ok = s.write(bufs[i]!) && ok;
      s.uncork();
    }
    if (!ok) this.writable = false;
  }

  destroy(err?: Error): void {
    if (this.closed) return;
    this.socket.destroy();
    this.finish(err);
  }

  /** Graceful close: flush queued writes, then FIN. */
  end(): void {
    if (this.closed) return;
    this.flush();
    this.socket.end();
  }

  private finish(err: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = [];
    this.socket.destroy();
    this.events.onClose(err);
  }
}
