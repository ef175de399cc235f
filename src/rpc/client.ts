import { XdrReader } from '../xdr/reader.js';
import { XdrWriter } from '../xdr/writer.js';
import { authNone, type Credential } from './auth.js';
import { AbortError, RpcClosedError, RpcConnectionError, RpcTimeoutError } from './errors.js';
import { decodeReplyHeader, encodeCallHeader, REPLY, type CallLabel } from './message.js';
import { recordMark } from './record.js';
import { Transport } from './transport.js';

export interface RpcClientOptions {
  host: string;
  port: number;
  /** ms to wait for TCP connect. Default 10 000. */
  connectTimeout?: number;
  /** ms a call may wait for its reply (queue time included). Default 60 000; 0 disables. */
  timeout?: number;
  /** Calls on the wire at once; further calls wait in a FIFO. Default 128. */
  maxInFlight?: number;
  /** Largest reply record accepted; larger ones reset the connection. Default 4 MiB + 64 KiB. */
  maxRecordSize?: number;
  /** Default credential for calls that don't name one. Default AUTH_NONE. */
  auth?: Credential;
  /** Bind to this local port (privileged ports for `secure` exports). */
  localPort?: number;
}

export interface CallOptions {
  timeout?: number;
  signal?: AbortSignal | undefined;
  auth?: Credential;
}

export type Encoder = ((w: XdrWriter) => void) | null;
export type Decoder<T> = (r: XdrReader) => T;

/**
 * One outstanding call. Settles exactly once: `settle` clears the timer,
 * detaches the abort listener and removes the xid from the map.
 */
interface PendingCall {
  xid: number;
  label: CallLabel;
  bufs: Buffer[];
  bytes: number;
  decode: Decoder<unknown>;
  resolve(v: unknown): void;
  reject(e: unknown): void;
  timer: NodeJS.Timeout | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** True once the call's bytes were handed to the transport. */
  sent: boolean;
}

/** Counters for observability and tests. */
export interface RpcStats {
  calls: number;
  replies: number;
  /** Replies whose xid matched no pending call (late, duplicate or forged); dropped. */
  unknownXids: number;
  /** Replies that failed to decode. */
  badReplies: number;
  timeouts: number;
  connects: number;
}

const DEFAULTS = {
  connectTimeout: 10_000,
  timeout: 60_000,
  maxInFlight: 128,
  maxRecordSize: 4 * 1024 * 1024 + 64 * 1024,
};

/**
 * ONC RPC client over one TCP connection (RFC 5531).
 *
 * Replies are matched to calls by xid through `inflight`; servers may answer
 * in any order. At most `maxInFlight` calls are on the wire; the rest wait in
 * `queue` (FIFO, consumed from `queueHead` to avoid O(n) shifts) and are sent
 * as replies free slots or as the socket drains.
 *
 * Connecting is lazy after a loss: the next call opens a new connection. Calls
 * in flight when a connection drops are rejected with RpcConnectionError
 * (reconnect-and-resend belongs to the retry policy above this layer).
 */
export class RpcClient {
  readonly opts: Required<Omit<RpcClientOptions, 'localPort'>> & { localPort?: number };
  readonly stats: RpcStats = { calls: 0, replies: 0, unknownXids: 0, badReplies: 0, timeouts: 0, connects: 0 };

  private transport: Transport | undefined;
  private connecting: Promise<Transport> | undefined;
  private readonly inflight = new Map<number, PendingCall>();
  private queue: PendingCall[] = [];
  private queueHead = 0;
  private xid: number;
  private closed = false;

  constructor(opts: RpcClientOptions) {
    this.opts = {
      host: opts.host,
      port: opts.port,
      connectTimeout: opts.connectTimeout ?? DEFAULTS.connectTimeout,
      timeout: opts.timeout ?? DEFAULTS.timeout,
      maxInFlight: opts.maxInFlight ?? DEFAULTS.maxInFlight,
      maxRecordSize: opts.maxRecordSize ?? DEFAULTS.maxRecordSize,
      auth: opts.auth ?? authNone(),
      ...(opts.localPort !== undefined ? { localPort: opts.localPort } : {}),
    };
    // Random start so a restarted client's xids don't collide with its
    // predecessor's entries in the server's duplicate request cache.
    this.xid = (Math.random() * 0x1_0000_0000) >>> 0;
  }

  /** Opens the connection now (calls would open it lazily); rejects with a named connect error. */
  async connect(): Promise<void> {
    await this.ensureTransport();
  }

  /** Calls waiting for a reply plus calls waiting for a slot. */
  get pending(): number {
    return this.inflight.size + (this.queue.length - this.queueHead);
  }

  /**
   * Sends one call. `encode` writes the procedure's arguments and runs now, so
   * a bad argument throws before anything is sent; `decode` reads the results
   * and runs when the reply arrives.
   */
  call<T>(label: CallLabel, encode: Encoder, decode: Decoder<T>, opts?: CallOptions): Promise<T> {
    if (this.closed) return Promise.reject(new RpcClosedError());
    const signal = opts?.signal;
    if (signal?.aborted) return Promise.reject(new AbortError(undefined, { cause: signal.reason }));

    const xid = this.nextXid();
    const w = new XdrWriter(256);
    const setMark = w.reserve32();
    encodeCallHeader(w, xid, label.prog, label.vers, label.proc, opts?.auth ?? this.opts.auth);
    if (encode) encode(w);
    setMark(recordMark(w.length - 4));
    const bufs = w.buffers();
    this.stats.calls++;

    return new Promise<T>((resolve, reject) => {
      const pc: PendingCall = {
        xid,
        label,
        bufs,
        bytes: w.length,
        decode,
        resolve: resolve as (v: unknown) => void,
        reject,
        timer: undefined,
        signal,
        onAbort: undefined,
        sent: false,
      };
      const timeout = opts?.timeout ?? this.opts.timeout;
      if (timeout > 0) {
        pc.timer = setTimeout(() => {
          this.stats.timeouts++;
          this.settle(pc, new RpcTimeoutError(`${label.name ?? 'RPC call'}: no reply from ${this.opts.host}:${this.opts.port} within ${timeout} ms`), true);
        }, timeout);
        pc.timer.unref?.();
      }
      if (signal) {
        pc.onAbort = () => this.settle(pc, new AbortError(undefined, { cause: signal.reason }), true);
        signal.addEventListener('abort', pc.onAbort, { once: true });
      }
      this.inflight.set(xid, pc);
      this.enqueue(pc);
    });
  }

  private nextXid(): number {
    // Skip xids still pending after a wrap (only possible with 2^32 calls outstanding... or a stuck one).
    do {
      this.xid = (this.xid + 1) >>> 0;
    } while (this.inflight.has(this.xid));
    return this.xid;
  }

  private enqueue(pc: PendingCall): void {
    const t = this.transport;
    if (t && !t.isClosed && t.writable && this.sentCount < this.opts.maxInFlight && this.queueHead === this.queue.length) {
      this.send(t, pc);
      return;
    }
    this.queue.push(pc);
    if (!t || t.isClosed) {
      this.ensureTransport().then(
        () => this.pump(),
        (err) => this.failAll(err),
      );
    }
  }

  /** Calls handed to the transport and not yet settled. */
  private sentCount = 0;

  private send(t: Transport, pc: PendingCall): void {
    pc.sent = true;
    this.sentCount++;
    t.write(pc.bufs, pc.bytes);
    // The payload is on its way; the call no longer needs to pin it.
    pc.bufs = [];
  }

  private pump(): void {
    const t = this.transport;
    if (!t || t.isClosed) return;
    while (this.queueHead < this.queue.length && t.writable && this.sentCount < this.opts.maxInFlight) {
      const pc = this.queue[this.queueHead++]!;
      if (!this.inflight.has(pc.xid) || this.inflight.get(pc.xid) !== pc) continue; // settled while queued
      this.send(t, pc);
    }
    if (this.queueHead === this.queue.length) {
      this.queue = [];
      this.queueHead = 0;
    } else if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
  }

  private ensureTransport(): Promise<Transport> {
    if (this.closed) return Promise.reject(new RpcClosedError());
    if (this.transport && !this.transport.isClosed) return Promise.resolve(this.transport);
    if (this.connecting) return this.connecting;
    const p = Transport.connect(
      {
        host: this.opts.host,
        port: this.opts.port,
        connectTimeout: this.opts.connectTimeout,
        maxRecordSize: this.opts.maxRecordSize,
        ...(this.opts.localPort !== undefined ? { localPort: this.opts.localPort } : {}),
      },
      {
        onRecord: (rec) => this.onRecord(rec),
        onClose: (err) => this.onTransportClose(t, err),
        onDrain: () => this.pump(),
      },
    );
    let t: Transport | undefined;
    this.connecting = p.then(
      (transport) => {
        t = transport;
        this.connecting = undefined;
        this.stats.connects++;
        if (this.closed) {
          transport.destroy();
          throw new RpcClosedError();
        }
        this.transport = transport;
        return transport;
      },
      (err) => {
        this.connecting = undefined;
        throw err;
      },
    );
    return this.connecting;
  }

  private onRecord(rec: Buffer): void {
    const r = new XdrReader(rec);
    let xid: number;
    let mtype: number;
    try {
      xid = r.u32('xid');
      mtype = r.u32('msg_type');
    } catch {
      this.stats.badReplies++;
      return;
    }
    const pc = this.inflight.get(xid);
    if (!pc || !pc.sent || mtype !== REPLY) {
      // Late replies to timed-out calls land here too; they are harmless.
      this.stats.unknownXids++;
      return;
    }
    this.stats.replies++;
    let value: unknown;
    try {
      decodeReplyHeader(r, pc.label);
      value = pc.decode(r);
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_XDR_DECODE') {
        this.stats.badReplies++;
        (err as Error).message = `${pc.label.name ?? 'RPC reply'}: ${(err as Error).message}`;
      }
      this.settle(pc, err, false);
      return;
    }
    this.settle(pc, undefined, false, value);
  }

  /**
   * The one place a call ends. Removes it from the map and clears its timer
   * and abort listener; `freeSlot` is false only when a reply is being handled
   * (the slot is freed there too, via pump below).
   */
  private settle(pc: PendingCall, err: unknown, _byTimer: boolean, value?: unknown): void {
    if (this.inflight.get(pc.xid) !== pc) return;
    this.inflight.delete(pc.xid);
    if (pc.timer) clearTimeout(pc.timer);
    if (pc.onAbort) pc.signal!.removeEventListener('abort', pc.onAbort);
    if (pc.sent) {
      this.sentCount--;
    }
    pc.bufs = [];
    if (err !== undefined) pc.reject(err);
    else pc.resolve(value);
    if (this.queueHead < this.queue.length) this.pump();
  }

  private onTransportClose(t: Transport | undefined, err: Error | undefined): void {
    if (t && this.transport !== t) return;
    this.transport = undefined;
    const sent = [...this.inflight.values()].filter((pc) => pc.sent);
    const reason = err ? `: ${err.message}` : '';
    for (const pc of sent) {
      const e = new RpcConnectionError(
        `${pc.label.name ?? 'RPC call'}: connection to ${this.opts.host}:${this.opts.port} lost with the call in flight${reason}`,
        err && (err as { code?: string }).code === 'ERR_RPC_RECORD' ? 'ERR_RPC_RECORD' : 'ECONNRESET',
        this.opts.host,
        this.opts.port,
        { cause: err },
      );
      this.settle(pc, e, false);
    }
    // Calls still queued were never sent: they go out on a fresh connection.
    if (!this.closed && this.queueHead < this.queue.length) {
      this.ensureTransport().then(
        () => this.pump(),
        (e) => this.failAll(e),
      );
    }
  }

  private failAll(err: unknown): void {
    for (const pc of [...this.inflight.values()]) this.settle(pc, err, false);
    this.queue = [];
    this.queueHead = 0;
  }

  /** Closes the connection; every pending call is rejected with RpcClosedError. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.failAll(new RpcClosedError('RPC client closed with the call pending'));
    const t = this.transport;
    this.transport = undefined;
    if (t) t.end();
    if (this.connecting) await this.connecting.catch(() => {});
  }
}
