import { Socket, connect as netConnect, isIP } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
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
  /**
   * TLS from the first byte (a TLS-terminating proxy such as stunnel in front
   * of the server): node's tls.connect options (ca, cert, key, servername,
   * rejectUnauthorized, ...). The certificate is verified unless told not to.
   */
  tls?: TlsOptions | undefined;
}

export type TlsOptions = Omit<ConnectionOptions, 'host' | 'port' | 'socket' | 'path'>;

export interface TransportEvents {
  onRecord(record: Buffer): void;
  /** Called once when the connection ends for any reason, with the cause if it was an error. */
  onClose(err: Error | undefined): void;
  /** The socket drained after a write returned false. */
  onDrain(): void;
}

/**
 * A delay setTimeout can honour: node fires anything above 2^31-1 ms (and
 * Infinity) after 1 ms, so those mean "no timer". Non-positive or NaN: no timer.
 */
export function clampDelay(ms: number): number | undefined {
  if (!(ms > 0) || ms === Infinity) return undefined;
  return Math.min(ms, 0x7fff_ffff);
}

/** Size of the reused socket read buffer (plain TCP). */
const READ_BUFFER = 1024 * 1024;
/** Bytes queued in one tick before we flush without waiting for the tick to end. */
const FLUSH_THRESHOLD = 256 * 1024;
/**
 * Bytes the socket may buffer before we stop handing it calls. Node's own
 * high-water mark (16 KiB) would make every 1 MiB WRITE wait for 'drain' and
 * serialise large writes; the in-flight window already bounds this memory.
 */
const SOCKET_BUFFER_LIMIT = 8 * 1024 * 1024;

/**
 * One TCP connection carrying RPC records.
 *
 * Writes are coalesced: buffers queued during one tick go out in a single
 * corked batch (one writev), so a burst of small calls costs one syscall.
 * `writable` is false from the moment the socket buffers more than
 * SOCKET_BUFFER_LIMIT until 'drain'; the client reads it as backpressure.
 */
export class Transport {
  private readonly decoder: RecordDecoder;
  /** Buffers waiting for the end-of-tick flush, in wire order. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private flushScheduled = false;
  private closed = false;
  /** Resolves when the socket has fully closed (its handle released). */
  readonly whenClosed: Promise<void>;
  writable = true;

  private constructor(
    private readonly socket: Socket,
    readonly opts: TransportOptions,
    private readonly events: TransportEvents,
    /** Where a socket reading into one reused buffer (`onread`) delivers its bytes. */
    sink?: { early: Buffer[]; push: (chunk: Buffer) => void },
  ) {
    this.decoder = new RecordDecoder(opts.maxRecordSize, (rec) => events.onRecord(rec), sink !== undefined);
    socket.setNoDelay(true);
    const push = (chunk: Buffer) => {
      try {
        this.decoder.push(chunk);
      } catch (err) {
        // A framing error leaves the byte stream unsynchronised: the only safe
        // recovery is a new connection.
        this.destroy(err as Error);
      }
    };
    if (sink) {
      sink.push = push;
      for (const c of sink.early.splice(0)) push(c);
    } else socket.on('data', push);
    socket.on('drain', () => {
      this.writable = true;
      events.onDrain();
    });
    socket.on('error', (err) => this.finish(err));
    this.whenClosed = new Promise((resolve) => {
      socket.on('close', () => {
        this.finish(undefined);
        resolve();
      });
    });
  }

  /**
   * Opens the connection. Rejects with RpcConnectionError (the errno name as
   * `code`, host and port in the message) on refusal or after
   * `connectTimeout` ms; `signal` abandons the attempt at once (the client's
   * close() uses it) and rejects with `signal.reason`.
   */
  static connect(opts: TransportOptions, events: TransportEvents, signal?: AbortSignal): Promise<Transport> {
    return new Promise((resolve, reject) => {
      const where = `${opts.host}:${opts.port}`;
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      // Bytes that arrive before the Transport exists (a server speaking first) are kept, copied.
      const early: Buffer[] = [];
      const sink = opts.tls ? undefined : { early, push: (c: Buffer) => void early.push(Buffer.from(c)) };
      const socket: Socket = opts.tls
        ? tlsConnect({ ...(isIP(opts.host) ? {} : { servername: opts.host }), ...opts.tls, host: opts.host, port: opts.port, ...(opts.localPort !== undefined ? { localPort: opts.localPort } : {}) })
        : netConnect({
            host: opts.host,
            port: opts.port,
            ...(opts.localPort !== undefined ? { localPort: opts.localPort } : {}),
            // One reused read buffer instead of a fresh 64 KiB Buffer per read:
            // fewer allocations and syscalls for large replies (records are copied out).
            onread: {
              buffer: Buffer.allocUnsafe(READ_BUFFER),
              callback: (n: number, buf: Uint8Array) => {
                sink!.push(Buffer.from(buf.buffer, buf.byteOffset, n));
                return true;
              },
            },
          });
      const ready = opts.tls ? 'secureConnect' : 'connect';
      let timer: NodeJS.Timeout | undefined;
      const fail = (err: unknown) => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        socket.off('error', onError);
        socket.off(ready, onConnect);
        // A late 'error' from the abandoned socket must not go unhandled.
        socket.on('error', () => {});
        socket.destroy();
        reject(err);
      };
      const onAbort = () => fail(signal!.reason);
      const onError = (err: NodeJS.ErrnoException) => {
        const code = err.code ?? 'ECONNREFUSED';
        // net's own message already reads "connect ECONNREFUSED host:port"; TLS failures need theirs appended.
        const detail = err.message.startsWith('connect ') ? '' : `: ${err.message}`;
        fail(new RpcConnectionError(`connect ${code} ${where}${opts.tls ? ' (TLS)' : ''}${detail}`, code, opts.host, opts.port, { cause: err }));
      };
      const onConnect = () => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        socket.off('error', onError);
        resolve(new Transport(socket, opts, events, sink));
      };
      const ms = clampDelay(opts.connectTimeout);
      if (ms !== undefined) {
        timer = setTimeout(
          () => fail(new RpcConnectionError(`connect ETIMEDOUT ${where} (no answer within ${opts.connectTimeout} ms)`, 'ETIMEDOUT', opts.host, opts.port)),
          ms,
        );
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      socket.once('error', onError);
      socket.once(ready, onConnect);
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
    // A write that returned false guarantees a later 'drain', which clears this.
    if (!ok && s.writableLength > SOCKET_BUFFER_LIMIT) this.writable = false;
  }

  destroy(err?: Error): void {
    if (this.closed) return;
    this.socket.destroy();
    this.finish(err);
  }

  /**
   * Graceful close: flush queued writes, send FIN, and release the socket once
   * they are out. It does not wait for the peer's FIN (a server that never
   * closes its side would keep the handle, and the process, alive), and gives
   * up on a peer that stops reading after `graceMs`.
   */
  end(graceMs = 1000): void {
    if (this.closed) return;
    this.flush();
    const s = this.socket;
    const timer = setTimeout(() => this.destroy(), graceMs);
    s.once('finish', () => this.destroy());
    s.once('close', () => clearTimeout(timer));
    s.end();
  }

  private finish(err: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = [];
    this.socket.destroy();
    this.events.onClose(err);
  }
}
