import { Socket, connect as netConnect, isIP } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { RecordDecoder, type DirectTarget, type Placement } from './record.js';
import { RpcConnectionError } from './errors.js';
import type { ReservedPort } from './resvport.js';

export interface TransportOptions {
  host: string;
  port: number;
  /** ms before a connect attempt is abandoned. */
  connectTimeout: number;
  maxRecordSize: number;
  /** Local port to bind; RPC servers with `secure` exports want one below 1024. */
  localPort?: number;
  /** Bind a privileged source port (resvport), the same one again on a reconnect where possible; overrides localPort. */
  resvport?: ReservedPort | undefined;
  /**
   * TLS from the first byte (a TLS-terminating proxy such as stunnel in front
   * of the server): node's tls.connect options (ca, cert, key, servername,
   * rejectUnauthorized, ...). The certificate is verified unless told not to.
   */
  tls?: TlsOptions | undefined;
  /** RPC-with-TLS (RFC 9289): probe with a NULL call of this program, then TLS on the same connection. */
  starttls?: { prog: number; vers: number; tls: TlsOptions } | undefined;
}

export type TlsOptions = Omit<ConnectionOptions, 'host' | 'port' | 'socket' | 'path'>;

export interface TransportEvents {
  /** A complete record; `placement` says where its payload went when it was placed (the record then lacks it). */
  onRecord(record: Buffer, placement: Placement | undefined): void;
  /** A whole record in the reused read buffer: true if it was decoded right there (no copy to make). */
  inPlace?(record: Buffer): boolean;
  /** Asked at the start of each record that spans chunks: where its payload should go, if anywhere. */
  place?(head: Buffer, recordLength: number): Placement | undefined;
  /** Called once when the connection ends for any reason, with the cause if it was an error. */
  onClose(err: Error | undefined): void;
  /** The socket drained after a write returned false. */
  onDrain(): void;
  /** `bytes` of a placed payload were read straight into the caller's buffer (no copy). */
  onDirect?(bytes: number): void;
  /** True while a call awaits a payload of at least DIRECT_MIN bytes to be placed: reads between records are then short. */
  awaitsPayload?(): boolean;
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
/** Payload bytes still to come worth a read of their own straight into the caller's buffer. */
export const DIRECT_MIN = 16 * 1024;
/**
 * The read between records while a large payload is awaited: long enough for
 * any reply's head (RPC header, status, attributes, the payload's length),
 * short enough that the payload after it is read directly. A full-size read
 * would pull in most of the next record, payload included, before its head
 * could say where the payload goes.
 */
const HEAD_READ = 1024;

/**
 * Where a plain TCP socket reading into buffers we provide (`onread`)
 * delivers. Before the Transport exists, bytes a server sends first are kept
 * (copied) in `early`; then the Transport takes over `push` and `next`.
 *
 * Reads normally land in `buf`. While a placed payload (a READ's data) is
 * being received, `next` may hand node a window of the caller's buffer
 * instead, so the kernel copies the payload once, straight where it belongs;
 * `armed` is that window until the read into it completes. node applies the
 * buffer `next` returns to the read after the one just delivered.
 */
interface ReadSink {
  early: Buffer[];
  buf: Buffer;
  /** The first HEAD_READ bytes of `buf`. */
  head: Buffer;
  armed: DirectTarget | undefined;
  push(chunk: Buffer): void;
  direct(n: number): void;
  next(): Uint8Array;
}
/** A batch of at most this many bytes is sent as one buffer (copied together) rather than corked pieces. */
const CONCAT_MAX = 64 * 1024;
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
    /** Where a socket reading into buffers we provide (`onread`) delivers its bytes. */
    private readonly sink?: ReadSink,
  ) {
    this.decoder = new RecordDecoder(
      opts.maxRecordSize,
      (rec, placement) => events.onRecord(rec, placement),
      sink !== undefined,
      events.place ? (head, n) => events.place!(head, n) : undefined,
      events.inPlace ? (rec) => events.inPlace!(rec) : undefined,
    );
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
      // Switching the armed buffer back needs the handle's useUserBuffer (node's internal
      // binding, there since node 12); without it payloads take the copy.
      const handle = (socket as unknown as { _handle?: { useUserBuffer?: unknown } })._handle;
      if (typeof handle?.useUserBuffer === 'function') {
        sink.direct = (n) => {
          try {
            events.onDirect?.(n);
            this.decoder.pushDirect(n);
          } catch (err) {
            this.destroy(err as Error);
          }
        };
        sink.next = () => {
          const d = this.closed ? undefined : this.decoder.directTarget(DIRECT_MIN);
          sink.armed = d;
          if (d) return d.view;
          return events.awaitsPayload?.() && !this.decoder.assembling ? sink.head : sink.buf;
        };
      }
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
  static async connect(opts: TransportOptions, events: TransportEvents, signal?: AbortSignal): Promise<Transport> {
    const rp = opts.resvport;
    const dial = (reusedReads: boolean) =>
      rp ? rp.dial((localPort) => Transport.dial(localPort === undefined ? opts : { ...opts, localPort }, signal, reusedReads), opts.host, opts.port) : Transport.dial(opts, signal, reusedReads);
    if (!opts.starttls) {
      const { socket, sink } = await dial(true);
      return new Transport(socket, opts, events, sink);
    }
    // RPC-with-TLS (RFC 9289): a NULL call with AUTH_TLS on the plain
    // connection; a server that answers STARTTLS gets a TLS handshake on the
    // same connection. Anything else is an error: never a silent fallback to
    // plaintext.
    const { socket } = await dial(false);
    const where = `${opts.host}:${opts.port}`;
    try {
      await probeStartTls(socket, opts.starttls.prog, opts.starttls.vers, opts.connectTimeout, where);
      const t = opts.starttls.tls;
      const secure = tlsConnect({ ...(isIP(opts.host) ? {} : { servername: opts.host }), ...t, socket });
      await new Promise<void>((resolve, reject) => {
        secure.once('secureConnect', () => {
          secure.off('error', reject);
          resolve();
        });
        secure.once('error', reject);
      });
      return new Transport(secure, opts, events);
    } catch (err) {
      socket.destroy();
      const e = err as NodeJS.ErrnoException;
      if (e instanceof RpcConnectionError) throw e;
      throw new RpcConnectionError(`connect ${e.code ?? 'ETLS'} ${where} (RPC-with-TLS): ${e.message}`, e.code ?? 'ETLS', opts.host, opts.port, { cause: err });
    }
  }

  private static dial(opts: TransportOptions, signal: AbortSignal | undefined, reusedReads: boolean): Promise<{ socket: Socket; sink: ReadSink | undefined }> {
    return new Promise((resolve, reject) => {
      const where = `${opts.host}:${opts.port}`;
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      // Bytes that arrive before the Transport exists (a server speaking first) are kept, copied.
      const early: Buffer[] = [];
      const buf = Buffer.allocUnsafe(READ_BUFFER);
      const sink: ReadSink | undefined = opts.tls || !reusedReads
        ? undefined
        : { early, buf, head: buf.subarray(0, HEAD_READ), armed: undefined, push: (c: Buffer) => void early.push(Buffer.from(c)), direct: () => {}, next: () => buf };
      const socket: Socket = opts.tls
        ? tlsConnect({ ...(isIP(opts.host) ? {} : { servername: opts.host }), ...opts.tls, host: opts.host, port: opts.port, ...(opts.localPort !== undefined ? { localPort: opts.localPort } : {}) })
        : !sink
          ? netConnect({ host: opts.host, port: opts.port, ...(opts.localPort !== undefined ? { localPort: opts.localPort } : {}) })
          : netConnect({
            host: opts.host,
            port: opts.port,
            ...(opts.localPort !== undefined ? { localPort: opts.localPort } : {}),
            // One reused read buffer instead of a fresh 64 KiB Buffer per read:
            // fewer allocations and syscalls for large replies (records are copied out),
            // or, inside a placed payload, the caller's buffer itself (ReadSink).
            onread: {
              buffer: () => sink!.next(),
              // Not the buffer node passes: after release() re-aimed a read, node still names the old one.
              callback: (n: number) => {
                if (sink!.armed !== undefined) {
                  sink!.armed = undefined;
                  sink!.direct(n);
                } else {
                  sink!.push(Buffer.from(buf.buffer, buf.byteOffset, n));
                }
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
        resolve({ socket, sink });
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

  /**
   * The caller behind `p` gave up: a read already aimed at its buffer is
   * re-aimed at the transport's own, so not one more byte lands there (the
   * rest of the payload is then read and dropped, and the stream stays in step).
   */
  release(p: Placement): void {
    const sink = this.sink;
    if (!sink || sink.armed?.placement !== p) return;
    sink.armed = undefined;
    const handle = (this.socket as unknown as { _handle?: { useUserBuffer?(b: Uint8Array): void } })._handle;
    handle?.useUserBuffer?.(sink.buf);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Queues one record's buffers; they leave at the end of this tick or when the batch is large. */
  write(bufs: Buffer[], bytes: number): void {
    if (this.closed) return;
    this.endRun();
    for (let i = 0; i < bufs.length; i++) this.pending.push(bufs[i]!);
    this.queued(bytes);
  }

  /**
   * Queues bytes [start, end) of `arena` (RpcClient's send arena). Calls
   * encoded one after the other there are sent as one view of their run,
   * with no copy and no Buffer per call.
   */
  writeIn(arena: Buffer, start: number, end: number): void {
    if (this.closed) return;
    if (arena === this.runArena && start === this.runEnd) {
      this.runEnd = end;
    } else {
      this.endRun();
      this.runArena = arena;
      this.runStart = start;
      this.runEnd = end;
    }
    this.queued(end - start);
  }

  /** flush(), bound once: a closure per batch was one more allocation per event-loop turn. */
  private readonly flushLater = (): void => this.flush();

  /** Where small batches are copied together; given up to the socket whenever it keeps a batch buffered. */
  private out: Buffer | undefined;

  /** The run of arena bytes queued since the last buffer: [runStart, runEnd) of runArena. */
  private runArena: Buffer | undefined;
  private runStart = 0;
  private runEnd = 0;

  private endRun(): void {
    if (this.runArena === undefined) return;
    this.pending.push(this.runArena.subarray(this.runStart, this.runEnd));
    this.runArena = undefined;
  }

  private queued(bytes: number): void {
    this.pendingBytes += bytes;
    if (this.pendingBytes >= FLUSH_THRESHOLD) {
      this.flush();
    } else if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(this.flushLater);
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    this.endRun();
    if (this.closed || this.pending.length === 0) return;
    const bufs = this.pending;
    const total = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    const s = this.socket;
    let ok: boolean;
    if (bufs.length === 1) {
      ok = s.write(bufs[0]!);
    } else if (total <= CONCAT_MAX) {
      // Small calls (READs, GETATTRs): one copy into one buffer costs less
      // than node's stream bookkeeping for each of them in a corked batch.
      // The buffer is kept for the next batch when the socket took the bytes
      // at once (nothing left buffered in the stream): no allocation per batch.
      const out = (this.out ??= Buffer.allocUnsafeSlow(CONCAT_MAX));
      let at = 0;
      for (let i = 0; i < bufs.length; i++) {
        out.set(bufs[i]!, at);
        at += bufs[i]!.length;
      }
      ok = s.write(out.subarray(0, total));
      if (s.writableLength > 0) this.out = undefined;
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
    this.runArena = undefined;
    this.socket.destroy();
    this.events.onClose(err);
  }
}

/** AUTH_TLS (RFC 9289 §4.1): the credential of the STARTTLS probe. */
const AUTH_TLS = 7;

/**
 * Sends the RFC 9289 probe (procedure NULL with an AUTH_TLS credential) and
 * waits for its reply: MSG_ACCEPTED, SUCCESS, and a verifier whose body is
 * "STARTTLS". Reads the raw socket; nothing else is in flight yet.
 */
function probeStartTls(socket: Socket, prog: number, vers: number, timeoutMs: number, where: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const xid = (Math.random() * 0x1_0000_0000) >>> 0;
    const call = Buffer.alloc(44);
    [0x8000_0028, xid, 0, 2, prog, vers, 0, AUTH_TLS, 0, 0, 0].forEach((v, i) => call.writeUInt32BE(v >>> 0, i * 4));
    let got = Buffer.alloc(0);
    const timer = setTimeout(() => done(new RpcConnectionError(`RPC-with-TLS probe to ${where}: no answer within ${timeoutMs} ms`, 'ETIMEDOUT', where, 0)), timeoutMs);
    const done = (err?: Error) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', done);
      socket.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const refuse = (why: string) => done(new RpcConnectionError(`${where} does not offer RPC-with-TLS (${why}); refusing to fall back to plaintext`, 'ERR_RPC_TLS_UNAVAILABLE', where, 0));
    const onClose = () => refuse('connection closed');
    const onData = (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length < 4) return;
      const len = got.readUInt32BE(0) & 0x7fff_ffff;
      if (len > 1024) return refuse('oversize reply');
      if (got.length < 4 + len) return;
      if (got.length > 4 + len) return refuse('data after the probe reply');
      const r = got.subarray(4, 4 + len);
      if (len < 24 || r.readUInt32BE(0) !== xid || r.readUInt32BE(4) !== 1 || r.readUInt32BE(8) !== 0) return refuse('reply is not an accepted reply to the probe');
      const verfLen = r.readUInt32BE(16);
      if (verfLen > 400 || 20 + verfLen + 4 > len) return refuse('malformed verifier');
      const verf = r.subarray(20, 20 + verfLen).toString('latin1');
      const stat = r.readUInt32BE(20 + ((verfLen + 3) & ~3));
      if (stat !== 0 || verf !== 'STARTTLS') return refuse(stat !== 0 ? `accept_stat ${stat}` : 'no STARTTLS verifier');
      done();
    };
    socket.on('data', onData);
    socket.once('error', done);
    socket.once('close', onClose);
    socket.write(call);
  });
}
