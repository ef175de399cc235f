import { XdrReader } from '../xdr/reader.js';
import { XdrWriter } from '../xdr/writer.js';
import { authNone, type Credential, type RpcSecurity } from './auth.js';
import { XdrDecodeError } from '../xdr/errors.js';
import { AbortError, RpcClosedError, RpcConnectionError, RpcDeadlineError, RpcDeniedError, RpcRecordError, RpcTimeoutError } from './errors.js';
import { callMessage, callRetransmit, callSettle, callStart, connectChannel, nextConnectionId, replyDropped, settleMessage } from './diagnostics.js';
import { decodeReplyHeader, encodeCallHeader, REPLY, type CallLabel } from './message.js';
import { recordMark, type Placement } from './record.js';
import { clampDelay, DIRECT_MIN, Transport, type TlsOptions } from './transport.js';
import { ReservedPort, type ResvPortMode } from './resvport.js';

export interface RpcClientOptions {
  host: string;
  port: number;
  /** ms to wait for TCP connect. Default 10 000. */
  connectTimeout?: number;
  /** ms a call may wait for its reply (queue time included). Default 60 000; 0 or Infinity disables; clamped to 2^31-1. */
  timeout?: number;
  /** Calls on the wire at once (an integer >= 1); further calls wait in a FIFO. Default 128. */
  maxInFlight?: number;
  /** Largest reply record accepted; larger ones reset the connection. Default 4 MiB + 64 KiB. */
  maxRecordSize?: number;
  /** Default credential for calls that don't name one. Default AUTH_NONE. */
  auth?: Credential;
  /** Bind to this local port (privileged ports for `secure` exports). */
  localPort?: number;
  /** Bind a privileged source port (src/rpc/resvport.ts); each client keeps its own across reconnects. */
  resvport?: ResvPortMode | undefined;
  /** TLS from the first byte, to a TLS-terminating proxy in front of the server. */
  tls?: TlsOptions | undefined;
  /** RPC-with-TLS (RFC 9289): a STARTTLS probe for this program, then TLS on the same connection. */
  starttls?: { prog: number; vers: number; tls: TlsOptions } | undefined;
  /**
   * Reconnect and retransmit, as the kernel's NFS client does. Without it a
   * lost connection fails the calls on the wire (fine for rpcbind and MOUNT,
   * which should fail fast); with it they are re-sent with the same xid (so
   * the server's duplicate request cache can recognise them).
   */
  retry?: RetryPolicy;
  /**
   * The client this connection works for, as diagnostics messages name it
   * (src/rpc/diagnostics.ts): connections of one mount share it. Default:
   * this connection's own id, so one made from another's `opts` joins it.
   */
  owner?: number;
}

export interface RetryPolicy {
  /** ms without a reply before a call is retransmitted; the n-th wait is n × timeo (linear, capped at 600 s). */
  timeo: number;
  /** Retransmissions before a major timeout. */
  retrans: number;
  /**
   * hard: never give up; every major timeout forces a new connection.
   * soft: fail with ETIMEDOUT at the major timeout.
   */
  hard: boolean;
  /** Asked before each reconnect for the port (rpcbind may have a new one after a server restart). */
  resolvePort?: () => Promise<number>;
}

export interface CallOptions {
  timeout?: number;
  signal?: AbortSignal | undefined;
  auth?: Credential;
  /** Set to true by the client when the call was sent more than once (after a timeout or reconnect). */
  info?: { retransmitted: boolean };
  /** Receive the reply's bulk payload straight into a caller's buffer. */
  into?: ReplyInto | undefined;
}

/**
 * A reply payload (READ data) received straight from the socket into the
 * caller's memory, instead of into a record buffer that is then copied: one
 * copy of the bytes instead of two, and no record-sized allocation.
 *
 * Only a reply that spans socket reads is placed (one that arrived whole is
 * already a cheap view); the procedure's decoder tells the two apart by
 * `placed`. Bytes may land in `dest` only while the call is pending: a call
 * that settles early (timeout, abort) stops the copy at once.
 */
export interface ReplyInto {
  dest: Uint8Array;
  destOffset: number;
  /** Most bytes `dest` may take from destOffset. */
  max: number;
  /**
   * Given the first bytes of the procedure's results (after the RPC reply
   * header), where the payload starts in them and how long it is, or
   * undefined when the reply is not one to place (an error status) or these
   * bytes do not tell. May throw; that too means "do not place".
   */
  locate(results: Buffer): { at: number; length: number } | undefined;
  /** Set before the results are decoded: payload bytes placed in dest, or undefined if the reply came whole. */
  placed?: number | undefined;
  /**
   * The decoder reads the payload with receivedOpaque() and keeps no other
   * view of the record: a reply that arrived whole may then be decoded
   * straight from the socket's read buffer, with no copy of the record and
   * no placement (the payload is copied into dest while decoding).
   */
  copies?: boolean;
  /** Set before the results are decoded: the record is the socket's read buffer, reused once decoding returns. */
  inPlace?: boolean;
}

/**
 * The decoder's side of a placed payload: reads an opaque's length where the
 * payload was cut out of the record and returns a view of where it went.
 */
export function placedOpaque(r: XdrReader, into: ReplyInto, what: string): Buffer {
  const n = r.u32(what);
  if (n !== into.placed) throw new XdrDecodeError(`XDR: ${what} length ${n} differs from the ${into.placed} bytes placed`, what);
  // Only the padding is left in the record.
  const pad = (4 - (n % 4)) % 4;
  if (pad > r.remaining) throw new XdrDecodeError(`XDR: truncated reading ${what} padding`, what);
  r.pos += pad;
  return Buffer.from(into.dest.buffer, into.dest.byteOffset + into.destOffset, n);
}

/**
 * The payload of a call that asked for one (ReplyInto with `copies`): where
 * it was placed, or copied into dest now from a record decoded in place (the
 * read buffer is reused after this), or, otherwise, a view of the record.
 */
export function receivedOpaque(r: XdrReader, into: ReplyInto, what: string, max = 0xffff_ffff): Buffer {
  if (into.placed !== undefined) return placedOpaque(r, into, what);
  const v = r.opaque(max, what);
  if (!into.inPlace) return v;
  // More than was asked for: handed on as received (a copy), for the caller to cut as it always has.
  if (v.length > into.max) return Buffer.from(v);
  into.dest.set(v, into.destOffset);
  return Buffer.from(into.dest.buffer, into.dest.byteOffset + into.destOffset, v.length);
}

export type Encoder = ((w: XdrWriter) => void) | null;
export type Decoder<T> = (r: XdrReader) => T;

/**
 * One outstanding call, queued or on the wire. Settles exactly once: `settle`
 * removes the xid from the map, clears the timer, detaches the abort listener
 * and gives back its wire slot.
 */
interface PendingCall {
  xid: number;
  label: CallLabel;
  /** The encoded call, unless it lies whole in `arena`. */
  bufs: Buffer[];
  /** The send arena holding the whole call at [arenaAt, arenaAt + bytes), if it does. */
  arena: Buffer | undefined;
  arenaAt: number;
  bytes: number;
  decode: Decoder<unknown>;
  resolve(v: unknown): void;
  reject(e: unknown): void;
  timer: NodeJS.Timeout | undefined;
  /** With a retry policy: when (Date.now() ms) the next minor timeout is due; checked by scan(). */
  due: number | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** True once the call's bytes were handed to the current transport. */
  sent: boolean;
  /** Times sent so far (retransmissions + 1), for the retry policy. */
  attempts: number;
  /** Minor timeouts so far. */
  minors: number;
  /** stats.replies when the call last went out on a connection: none since means that connection answered nothing. */
  repliesAtSend: number;
  info: { retransmitted: boolean } | undefined;
  into: ReplyInto | undefined;
  /** The placement under way for this call's reply; its dest is cleared when the call settles. */
  placement: Placement | undefined;
  /** Counted in `largeInto` (its reply's payload may be read straight into the caller's buffer). */
  largeInto: boolean;
  /** performance.now() at call() when the settle channel had subscribers, else -1 (no clock read for nobody). */
  started: number;
  retransmits: number;
  /**
   * A flavor that encodes each transmission itself (RPCSEC_GSS), else
   * undefined and the fields below are unused: `bufs` then holds the call
   * encoded once.
   */
  sec: RpcSecurity | undefined;
  /** The procedure's arguments alone (XDR pieces, bytes not copied), wrapped anew per transmission. */
  args: Buffer[] | undefined;
  argsLength: number;
  /** What each transmission's reply may be checked against (its seq_num), newest last, at most SEC_SENT_KEPT. */
  secSent: number[] | undefined;
  /** sec.epoch at the last transmission. */
  secEpoch: number;
  /** Times the call was re-sent after the flavor recovered from AUTH_ERROR. */
  secRecoveries: number;
}

/** Transmissions of one call whose replies are still accepted (older ones fell out of the server's window long ago). */
const SEC_SENT_KEPT = 16;
/** Re-sends of one call after a context re-creation before its AUTH_ERROR is final. */
const SEC_RECOVERIES = 3;

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
  /** Calls sent again after a minor timeout or a reconnect. */
  retransmits: number;
  /** New connections made after a loss (connects minus the first). */
  reconnects: number;
  /** Payload bytes the kernel read straight into callers' buffers (ReplyInto), with no copy after. */
  directBytes: number;
}

/** The send arena (see RpcClient.arena): about 400 small calls each. */
const ARENA_SIZE = 64 * 1024;
/** Room below which a call starts a new arena rather than begin at the end of this one. */
const ARENA_MIN = 1024;

const DEFAULTS = {
  connectTimeout: 10_000,
  timeout: 60_000,
  maxInFlight: 128,
  maxRecordSize: 4 * 1024 * 1024 + 64 * 1024,
};

/**
 * ONC RPC client over one TCP connection (RFC 5531).
 *
 * Replies are matched to calls by xid through `byXid`; servers may answer in
 * any order. At most `maxInFlight` calls are on the wire; the rest wait in
 * `queue` and are sent as replies free slots or as the socket drains.
 *
 * Connecting is lazy after a loss: the next call opens a new connection. Calls
 * on the wire when a connection drops are rejected with RpcConnectionError
 * (reconnect-and-resend belongs to the retry policy above this layer); calls
 * still queued were never sent and go out on the new connection.
 */
export class RpcClient {
  readonly opts: Required<Omit<RpcClientOptions, 'localPort' | 'resvport' | 'retry' | 'tls' | 'starttls'>> & { localPort?: number; resvport?: ResvPortMode; retry?: RetryPolicy; tls?: TlsOptions; starttls?: RpcClientOptions['starttls'] };
  /** This connection's privileged source port, kept across reconnects; undefined without resvport. */
  private readonly reservedPort: ReservedPort | undefined;
  /** This connection, in diagnostics messages. */
  readonly id = nextConnectionId();
  readonly stats: RpcStats = { calls: 0, replies: 0, unknownXids: 0, badReplies: 0, timeouts: 0, connects: 0, retransmits: 0, reconnects: 0, directBytes: 0 };

  /** The live connection; undefined while (re)connecting, after a loss and after close(). */
  private transport: Transport | undefined;
  private connecting: Promise<Transport> | undefined;
  /** Aborts the attempt in `connecting`; set exactly while `connecting` is. */
  private connectAbort: AbortController | undefined;
  /**
   * Every unsettled call, queued or on the wire, by xid. A call is in here
   * from call() until settle(); nothing else removes entries.
   */
  private readonly byXid = new Map<number, PendingCall>();
  /**
   * Calls waiting for a wire slot, FIFO, consumed from `queueHead` (no O(n)
   * shifts). Entries before `queueHead` are done with; entries after it may be
   * tombstones (calls that timed out or were aborted while queued: no longer
   * the map's entry for their xid), which pump() skips.
   */
  private queue: PendingCall[] = [];
  private queueHead = 0;
  /** Calls with `sent` set and not yet settled; never above maxInFlight. */
  private onWire = 0;
  /** Unsettled calls with `largeInto` set: while any, the transport reads record heads short (see HEAD_READ). */
  private largeInto = 0;
  private xid: number;
  /**
   * Calls are encoded one after another into this arena (a fresh one when
   * less than ARENA_MIN is left), through the one reused writer: no buffer,
   * writer or closure per call, and the calls of one tick lie side by side,
   * so the transport sends them as one view without copying them together.
   * Bytes once written are never written again (a retransmission resends
   * the call's own view), so the arena lives until its last call is done.
   */
  private arena = Buffer.allocUnsafeSlow(ARENA_SIZE);
  private arenaOff = 0;
  private readonly writer = new XdrWriter(0);
  private closed = false;
  private closing: Promise<void> | undefined;
  /** A connection succeeded once: later connect failures are outages to wait out (with a retry policy), not bad addresses. */
  private everConnected = false;
  /**
   * Consecutive reconnects that brought nothing, for the backoff: failed
   * attempts, and connections lost before a single reply was matched on them
   * (a server that resets or garbles every connection must not be redialled
   * in a tight loop). Cleared by the first reply on a connection.
   */
  private reconnectFailures = 0;
  /** A reply was matched on the current connection; a loss after one reconnects at once. */
  private progressed = false;
  private reconnectTimer: NodeJS.Timeout | undefined;

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
      ...(opts.resvport !== undefined ? { resvport: opts.resvport } : {}),
      ...(opts.retry !== undefined ? { retry: opts.retry } : {}),
      ...(opts.tls !== undefined ? { tls: opts.tls } : {}),
      ...(opts.starttls !== undefined ? { starttls: opts.starttls } : {}),
      owner: opts.owner ?? this.id,
    };
    this.reservedPort = opts.resvport ? new ReservedPort(opts.resvport) : undefined;
    if (!Number.isInteger(this.opts.maxInFlight) || this.opts.maxInFlight < 1) {
      throw new RangeError(`RpcClient: maxInFlight must be an integer >= 1, got ${this.opts.maxInFlight}`);
    }
    // Random start so a restarted client's xids don't collide with its
    // predecessor's entries in the server's duplicate request cache.
    this.xid = (Math.random() * 0x1_0000_0000) >>> 0;
  }

  /** Opens the connection now (calls would open it lazily); rejects with a named connect error. */
  async connect(): Promise<void> {
    await this.ensureTransport();
  }

  /**
   * Lowers the calls on the wire at once to `n` (never raises it): an
   * RPCSEC_GSS server drops calls whose seq_num fell behind its window.
   */
  limitInFlight(n: number): void {
    if (Number.isInteger(n) && n >= 1 && n < this.opts.maxInFlight) (this.opts as { maxInFlight: number }).maxInFlight = n;
  }

  /** Calls not yet settled: waiting for a reply plus waiting for a slot. */
  get pending(): number {
    return this.byXid.size;
  }

  /**
   * Sends one call. `encode` writes the procedure's arguments and runs now, so
   * a bad argument rejects the returned promise before anything is sent;
   * `decode` reads the results and runs when the reply arrives.
   */
  call<T>(label: CallLabel, encode: Encoder, decode: Decoder<T>, opts?: CallOptions): Promise<T> {
    if (this.closed) return Promise.reject(new RpcClosedError());
    const signal = opts?.signal;
    if (signal?.aborted) return Promise.reject(new AbortError(undefined, { cause: signal.reason }));

    const auth = opts?.auth ?? this.opts.auth;
    const sec = auth.security;
    if (sec) {
      const ready = sec.prepare(this);
      if (ready) return ready.then(() => this.call(label, encode, decode, opts));
    }
    const xid = this.nextXid();
    let w: XdrWriter;
    let args: Buffer[] | undefined;
    let bufs: Buffer[];
    let inArena = -1;
    try {
      if (sec) {
        // Only the arguments now; header, credential and verifier go on per transmission (send()).
        w = new XdrWriter(256);
        if (encode) encode(w);
        args = w.buffers();
        bufs = [];
      } else {
        w = this.writer;
        if (ARENA_SIZE - this.arenaOff < ARENA_MIN) {
          this.arena = Buffer.allocUnsafeSlow(ARENA_SIZE);
          this.arenaOff = 0;
        }
        const start = this.arenaOff;
        w.restart(this.arena, start);
        w.u32(0); // the record mark, once the length is known
        encodeCallHeader(w, xid, label.prog, label.vers, label.proc, auth);
        if (encode) encode(w);
        this.arena.writeUInt32BE(recordMark(w.length - 4), start);
        if (w.whole) {
          bufs = NO_BUFS;
          inArena = start;
        } else {
          bufs = w.buffers();
        }
        const end = w.arenaEnd();
        this.arenaOff = end < 0 ? ARENA_SIZE : end;
      }
    } catch (err) {
      return Promise.reject(err);
    }
    this.stats.calls++;

    return new Promise<T>((resolve, reject) => {
      const pc: PendingCall = {
        xid,
        label,
        bufs,
        arena: inArena < 0 ? undefined : this.arena,
        arenaAt: inArena,
        bytes: sec ? 0 : w.length,
        decode,
        resolve: resolve as (v: unknown) => void,
        reject,
        timer: undefined,
        due: undefined,
        signal,
        onAbort: undefined,
        sent: false,
        attempts: 0,
        minors: 0,
        repliesAtSend: 0,
        info: opts?.info,
        // A payload wrapped by the flavor can only be read after it is unwrapped.
        into: sec?.wrapsResults ? undefined : opts?.into,
        placement: undefined,
        largeInto: false,
        started: callSettle.hasSubscribers ? performance.now() : -1,
        retransmits: 0,
        sec,
        args,
        argsLength: sec ? w.length : 0,
        secSent: undefined,
        secEpoch: 0,
        secRecoveries: 0,
      };
      if (callStart.hasSubscribers) callStart.publish(callMessage(this, pc));
      // The deadline: a call given one gives up then, whatever the retry
      // policy (hard mounts included); without a policy the client's own
      // timeout is every call's deadline. Retransmission is the policy's.
      const timeout = opts?.timeout ?? (this.opts.retry ? undefined : this.opts.timeout);
      const ms = timeout === undefined ? undefined : clampDelay(timeout);
      if (ms !== undefined) {
        pc.timer = setTimeout(() => {
          this.stats.timeouts++;
          this.settle(pc, true, new RpcDeadlineError(`${label.name ?? 'RPC call'}: no reply from ${this.opts.host}:${this.opts.port} within ${timeout} ms`, timeout!));
        }, ms);
        pc.timer.unref?.();
      }
      if (signal) {
        pc.onAbort = () => this.settle(pc, true, new AbortError(undefined, { cause: signal.reason }));
        signal.addEventListener('abort', pc.onAbort, { once: true });
      }
      if (pc.into && pc.into.max >= DIRECT_MIN) {
        pc.largeInto = true;
        this.largeInto++;
      }
      this.byXid.set(xid, pc);
      this.enqueue(pc);
      // Sent at once: send() armed it. Queued: armed now, so that a call
      // waiting for a connection that never comes still ends (soft).
      if (this.opts.retry && pc.due === undefined) this.armRetry(pc);
    });
  }

  private nextXid(): number {
    // After a wrap, skip xids still pending (a call stuck for 2^32 calls).
    do {
      this.xid = (this.xid + 1) >>> 0;
    } while (this.byXid.has(this.xid));
    return this.xid;
  }

  private enqueue(pc: PendingCall): void {
    const t = this.transport;
    if (t && !t.isClosed && t.writable && this.onWire < this.opts.maxInFlight && this.queueHead === this.queue.length) {
      this.send(t, pc);
      return;
    }
    this.queue.push(pc);
    // A live transport drains the queue on its own (settle, 'drain'); without
    // one, the connection's success calls pump() and its failure fails all.
    // While a reconnect backs off, its timer connects.
    if ((!t || t.isClosed) && !this.reconnectTimer) this.ensureTransport().catch(noop);
  }

  private send(t: Transport, pc: PendingCall): void {
    pc.sent = true;
    pc.repliesAtSend = this.stats.replies;
    this.onWire++;
    // The retry clock starts when the call first goes out, not when it was queued.
    if (this.opts.retry && pc.attempts === 0) this.armRetry(pc);
    if (pc.attempts++ > 0) this.noteRetransmit(pc);
    if (pc.sec && !this.encodeSecured(pc)) return;
    transmit(t, pc);
    // The payload is on its way; without a retry policy the call no longer needs to pin it.
    if (!this.opts.retry) {
      pc.bufs = NO_BUFS;
      pc.arena = undefined;
    }
  }

  /**
   * Encodes one transmission of a call under its security flavor: every
   * transmission gets its own sequence number (RFC 2203 section 5.3.3.1),
   * so a retransmission is never a byte copy. False when the flavor could
   * not encode it; the call has failed then.
   */
  private encodeSecured(pc: PendingCall): boolean {
    const sec = pc.sec!;
    const w = new XdrWriter(256);
    let bytes: number;
    try {
      const setMark = w.reserve32();
      const token = sec.encodeCall(w, pc.xid, pc.label, pc.args!, pc.argsLength);
      bytes = w.length + (sec.wrapsArgs ? 0 : pc.argsLength);
      setMark(recordMark(bytes - 4));
      const sent = (pc.secSent ??= []);
      sent.push(token);
      if (sent.length > SEC_SENT_KEPT) sent.shift();
      pc.secEpoch = sec.epoch;
    } catch (err) {
      this.settle(pc, true, err);
      return false;
    }
    // Unwrapped arguments follow as the caller encoded them: no copy of a WRITE's data.
    pc.bufs = sec.wrapsArgs ? w.buffers() : w.buffers().concat(pc.args!);
    pc.bytes = bytes;
    return true;
  }

  /**
   * The server refused the call's credential (RPCSEC_GSS_CREDPROBLEM,
   * CTXPROBLEM): once the flavor has a new context the call goes out again,
   * same xid, instead of failing. True when it will.
   */
  private recoverSecured(pc: PendingCall, err: unknown): boolean {
    if (!(err instanceof RpcDeniedError) || err.authStat === undefined || pc.secRecoveries >= SEC_RECOVERIES) return false;
    const ready = pc.sec!.recover(err.authStat, pc.secEpoch);
    if (!ready) return false;
    pc.secRecoveries++;
    pc.sent = false;
    this.onWire--;
    ready.then(
      () => {
        if (this.byXid.get(pc.xid) === pc && !this.closed) this.enqueue(pc);
      },
      (e: unknown) => this.settle(pc, true, e),
    );
    if (this.queueHead < this.queue.length) this.pump();
    return true;
  }

  private noteRetransmit(pc: PendingCall): void {
    this.stats.retransmits++;
    pc.retransmits++;
    if (pc.info) pc.info.retransmitted = true;
    if (callRetransmit.hasSubscribers) callRetransmit.publish({ ...callMessage(this, pc), retransmits: pc.retransmits });
  }

  /**
   * The retry policy's timer: the n-th minor timeout comes n × timeo after the
   * previous one. At each, a call on the wire is sent again (same xid); at a
   * major timeout (every retrans + 1 minors) a soft call fails with ETIMEDOUT
   * and a hard one forces a new connection, whose loss re-sends it.
   */
  private armRetry(pc: PendingCall): void {
    const r = this.opts.retry!;
    pc.due = Date.now() + Math.min(r.timeo * (pc.minors + 1), 600_000);
    this.startScan();
  }

  /**
   * One coarse timer for every call's retry clock instead of a setTimeout
   * per call (arming and clearing one per call showed in the 4 KiB I/O
   * profile). It ticks every timeo/4 (5 ms..1 s) while calls are pending,
   * so a minor timeout fires at most a quarter of timeo late.
   */
  private startScan(): void {
    if (this.scanTimer) return;
    const tick = Math.max(5, Math.min(1000, Math.floor(this.opts.retry!.timeo / 4)));
    this.scanTimer = setInterval(() => this.scan(), tick);
    this.scanTimer.unref?.();
  }

  private scanTimer: NodeJS.Timeout | undefined;

  private scan(): void {
    if (this.byXid.size === 0 || this.closed) {
      clearInterval(this.scanTimer);
      this.scanTimer = undefined;
      return;
    }
    const now = Date.now();
    const due: PendingCall[] = [];
    for (const pc of this.byXid.values()) if (pc.due !== undefined && pc.due <= now) due.push(pc);
    for (const pc of due) this.minorTimeout(pc);
  }

  private minorTimeout(pc: PendingCall): void {
    const r = this.opts.retry!;
    if (this.byXid.get(pc.xid) !== pc) return;
    const live = this.transport;
    if (!pc.sent && live && !live.isClosed) {
      // Waiting for a slot on a live connection: the server is answering
      // the calls ahead of this one, which has not been sent; no timeout
      // counts until it is (the kernel's clock, too, starts at transmission).
      this.armRetry(pc);
      return;
    }
    pc.minors++;
    const major = pc.minors % (r.retrans + 1) === 0;
    if (major) {
      this.stats.timeouts++;
      if (!r.hard) {
        this.settle(pc, true, new RpcTimeoutError(`${pc.label.name ?? 'RPC call'}: no reply from ${this.opts.host}:${this.opts.port} after ${pc.minors} timeouts (soft: timeo ${r.timeo} ms, retrans ${r.retrans})`));
        // Nothing at all came back since the call went out: the connection
        // may be dead, or desynchronised (a bogus record header swallowing
        // every reply). Start afresh, as a hard call does; calls still on
        // it are re-sent on the next one.
        if (pc.sent && this.stats.replies === pc.repliesAtSend) {
          this.transport?.destroy(new RpcConnectionError(`no reply within the major timeout`, 'ETIMEDOUT', this.opts.host, this.opts.port));
        }
        return;
      }
      this.armRetry(pc);
      // A connection that answers nothing may be half-dead: start afresh.
      this.transport?.destroy(new RpcConnectionError(`no reply within the major timeout`, 'ETIMEDOUT', this.opts.host, this.opts.port));
      return;
    }
    this.armRetry(pc);
    const t = this.transport;
    if (pc.sent && t && !t.isClosed) {
      this.noteRetransmit(pc);
      if (pc.sec && !this.encodeSecured(pc)) return;
      transmit(t, pc);
    }
  }

  /**
   * Sends queued calls while there is a live, writable transport and a free
   * slot. Tombstones at the head are dropped even when nothing can be sent.
   */
  private pump(): void {
    const t = this.transport;
    const q = this.queue;
    let i = this.queueHead;
    while (i < q.length) {
      const pc = q[i]!;
      if (this.byXid.get(pc.xid) !== pc) {
        i++; // settled while queued
        continue;
      }
      if (!t || t.isClosed || !t.writable || this.onWire >= this.opts.maxInFlight) break;
      i++;
      this.send(t, pc);
    }
    if (i === q.length) {
      this.queue = [];
      this.queueHead = 0;
    } else if (i > 1024 && i * 2 > q.length) {
      this.queue = q.slice(i);
      this.queueHead = 0;
    } else {
      this.queueHead = i;
    }
  }

  /**
   * The live transport, or the one connection attempt in progress, or a new
   * attempt. The attempt itself sends the queue on success and fails every
   * pending call on failure (none can be on the wire while there is no
   * transport), so callers that only want the side effect may ignore the result.
   */
  private ensureTransport(): Promise<Transport> {
    if (this.closed) return Promise.reject(new RpcClosedError());
    const live = this.transport;
    if (live && !live.isClosed) return Promise.resolve(live);
    if (this.connecting) return this.connecting;
    const abort = new AbortController();
    let transport: Transport | undefined;
    const resolvePort = this.everConnected ? this.opts.retry?.resolvePort : undefined;
    const portP = resolvePort ? resolvePort().catch(() => this.opts.port) : Promise.resolve(this.opts.port);
    const attempt = portP
      .then((port) => {
        (this.opts as { port: number }).port = port || this.opts.port;
        return Transport.connect(
          {
            host: this.opts.host,
            port: this.opts.port,
            connectTimeout: this.opts.connectTimeout,
            maxRecordSize: this.opts.maxRecordSize,
            ...(this.opts.localPort !== undefined ? { localPort: this.opts.localPort } : {}),
            ...(this.reservedPort ? { resvport: this.reservedPort } : {}),
            ...(this.opts.tls !== undefined ? { tls: this.opts.tls } : {}),
            ...(this.opts.starttls !== undefined ? { starttls: this.opts.starttls } : {}),
          },
          {
            onRecord: (rec, placement) => this.onRecord(rec, placement),
            place: (head) => this.place(head),
            inPlace: (rec) => this.decodeInPlace(rec),
            onClose: (err) => this.onTransportClose(transport, err),
            onDrain: () => this.pump(),
            onDirect: (n) => void (this.stats.directBytes += n),
            awaitsPayload: () => this.largeInto > 0,
          },
          abort.signal,
        );
      })
      .then(
      (t) => {
        transport = t;
        this.connecting = undefined;
        this.connectAbort = undefined;
        this.stats.connects++;
        if (this.everConnected) this.stats.reconnects++;
        if (connectChannel.hasSubscribers) connectChannel.publish({ owner: this.opts.owner, connection: this.id, host: this.opts.host, port: this.opts.port, reconnect: this.everConnected });
        this.everConnected = true;
        this.progressed = false;
        if (this.closed) {
          t.destroy();
          throw new RpcClosedError();
        }
        this.transport = t;
        this.pump();
        return t;
      },
      (err: unknown) => {
        this.connecting = undefined;
        this.connectAbort = undefined;
        if (this.closed) throw new RpcClosedError();
        if (this.opts.retry && this.everConnected) {
          // An outage (server restarting): keep the calls, try again later. Soft calls end by their own timers.
          this.scheduleReconnect();
        } else {
          this.failAll(err);
        }
        throw err;
      },
    );
    this.connecting = attempt;
    this.connectAbort = abort;
    return attempt;
  }

  /** Where the payload of the reply that starts with `head` goes: into its call's buffer if the call asked (ReplyInto). */
  private place(head: Buffer): Placement | undefined {
    if (head.length < 8) return undefined;
    const pc = this.byXid.get(head.readUInt32BE(0));
    const into = pc?.into;
    if (!pc || !into || !pc.sent || head.readUInt32BE(4) !== REPLY) return undefined;
    let loc: { at: number; length: number } | undefined;
    let base: number;
    try {
      const r = new XdrReader(head, 8);
      decodeReplyHeader(r, pc.label);
      base = r.pos;
      loc = into.locate(head.subarray(base));
    } catch {
      // Not a successful reply, or too little of it here: assembled and decoded as usual.
      return undefined;
    }
    if (!loc || loc.length > into.max || loc.at < 0) return undefined;
    const p: Placement = { at: base + loc.at, length: loc.length, dest: into.dest, destOffset: into.destOffset };
    pc.placement = p;
    return p;
  }

  /**
   * A whole record in the socket's read buffer: decoded right there when its
   * call's decoder copies what it keeps (ReplyInto.copies), which saves the
   * placement and the record's copy. False: the record is the transport's to copy.
   */
  private decodeInPlace(rec: Buffer): boolean {
    if (rec.length < 8) return false;
    const pc = this.byXid.get(rec.readUInt32BE(0));
    if (pc === undefined || pc.into?.copies !== true || pc.sec !== undefined || !pc.sent) return false;
    this.onRecord(rec, undefined, pc);
    return true;
  }

  /** `inPlace`: the call decodeInPlace found for this record, which lies in the socket's read buffer. */
  private onRecord(rec: Buffer, placement?: Placement, inPlace?: PendingCall): void {
    const r = new XdrReader(rec);
    let xid: number;
    let mtype: number;
    try {
      xid = r.u32('xid');
      mtype = r.u32('msg_type');
    } catch {
      this.stats.badReplies++;
      if (replyDropped.hasSubscribers) replyDropped.publish({ owner: this.opts.owner, connection: this.id, reason: 'bad-header', bytes: rec.length });
      return;
    }
    const pc = inPlace ?? this.byXid.get(xid);
    if (!pc || !pc.sent || mtype !== REPLY) {
      // Late replies to timed-out calls land here too; they are harmless.
      this.stats.unknownXids++;
      if (replyDropped.hasSubscribers) replyDropped.publish({ owner: this.opts.owner, connection: this.id, reason: 'unknown-xid', bytes: rec.length });
      return;
    }
    this.stats.replies++;
    this.progressed = true;
    this.reconnectFailures = 0;
    let value: unknown;
    try {
      if (pc.into) {
        // A placement made for an earlier transmission on a lost connection
        // is no evidence for this record: only this record's own counts.
        if (placement && (pc.placement !== placement || placement.dest === undefined)) {
          throw new XdrDecodeError('reply payload was placed for another call', 'payload');
        }
        pc.into.placed = placement?.length;
        pc.into.inPlace = inPlace !== undefined;
      } else if (placement) {
        throw new XdrDecodeError('reply payload was placed for a call that asked for none', 'payload');
      }
      const verf = decodeReplyHeader(r, pc.label);
      value = pc.decode(pc.sec ? pc.sec.openReply(r, verf, pc.label, pc.secSent!, pc.secEpoch) : r);
    } catch (err) {
      if (pc.sec && this.recoverSecured(pc, err)) return;
      if (err instanceof XdrDecodeError) {
        this.stats.badReplies++;
        (err as Error).message = `${pc.label.name ?? 'RPC reply'}: ${(err as Error).message}`;
      }
      this.settle(pc, true, err, rec.length + (placement?.length ?? 0));
      return;
    }
    this.settle(pc, false, value, rec.length + (placement?.length ?? 0));
  }

  /**
   * The one place a call ends: rejects with `result` when `failed`, else
   * resolves with it. A call already settled is left alone, so timer, abort,
   * reply and connection loss may race freely.
   */
  private settle(pc: PendingCall, failed: boolean, result: unknown, replyBytes?: number): void {
    if (this.byXid.get(pc.xid) !== pc) return;
    this.byXid.delete(pc.xid);
    if (pc.timer) clearTimeout(pc.timer);
    if (pc.onAbort) pc.signal!.removeEventListener('abort', pc.onAbort);
    if (pc.placement) {
      pc.placement.dest = undefined;
      this.transport?.release(pc.placement);
    }
    if (pc.sent) this.onWire--;
    if (pc.largeInto) this.largeInto--;
    pc.bufs = NO_BUFS;
    pc.arena = undefined;
    if (callSettle.hasSubscribers) callSettle.publish(settleMessage(this, pc, failed, result, replyBytes));
    if (failed) pc.reject(result);
    else pc.resolve(result);
    if (this.queueHead < this.queue.length) this.pump();
  }

  /** Capped exponential backoff between reconnect attempts: 100 ms, 200 ms, ... 5 s. */
  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer || this.byXid.size === 0) return;
    const delay = Math.min(100 * 2 ** this.reconnectFailures++, 5000);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.byXid.size > 0) this.ensureTransport().catch(noop);
    }, delay);
  }

  private onTransportClose(t: Transport | undefined, err: Error | undefined): void {
    if (t === undefined || this.transport !== t) return;
    this.transport = undefined;
    const lost: PendingCall[] = [];
    for (const pc of this.byXid.values()) if (pc.sent) lost.push(pc);
    if (this.opts.retry && !this.closed) {
      // Re-send everything that was on the wire, first, on the next connection.
      for (const pc of lost) {
        pc.sent = false;
        this.onWire--;
      }
      this.queue = lost.concat(this.queue.slice(this.queueHead));
      this.queueHead = 0;
      if (this.byXid.size === 0) return;
      if (this.progressed) this.ensureTransport().catch(noop);
      else this.scheduleReconnect();
      return;
    }
    const reason = err ? `: ${err.message}` : '';
    const code = err instanceof RpcRecordError ? 'ERR_RPC_RECORD' : 'ECONNRESET';
    for (const pc of lost) {
      const e = new RpcConnectionError(
        `${pc.label.name ?? 'RPC call'}: connection to ${this.opts.host}:${this.opts.port} lost with the call in flight${reason}`,
        code,
        this.opts.host,
        this.opts.port,
        { cause: err },
      );
      this.settle(pc, true, e);
    }
    // Calls still queued were never sent: they go out on a fresh connection.
    this.pump();
    if (!this.closed && this.queueHead < this.queue.length) this.ensureTransport().catch(noop);
  }

  /** Fails every pending call, each with an error of its own (see errorFor). */
  private failAll(err: unknown): void {
    const all = [...this.byXid.values()];
    this.queue = [];
    this.queueHead = 0;
    for (const pc of all) this.settle(pc, true, errorFor(err, pc.label));
  }

  /**
   * Closes the connection (or abandons the attempt to open one); every pending
   * call is rejected with RpcClosedError, nothing still queued is sent. Resolves
   * once the socket is released. Idempotent.
   */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    // A flavor holding server state for this connection (an RPCSEC_GSS
    // context) releases it first, over the connection still open; release()
    // has its own deadline and never rejects.
    const release = this.transport && !this.transport.isClosed ? this.opts.auth.security?.release?.(this) : undefined;
    if (release) {
      this.closing = release.then(() => this.shutdown());
      return this.closing;
    }
    this.closing = this.shutdown();
    return this.closing;
  }

  private shutdown(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.scanTimer) clearInterval(this.scanTimer);
    const t = this.transport;
    this.transport = undefined;
    const connecting = this.connecting;
    this.connectAbort?.abort(new RpcClosedError());
    this.failAll(new RpcClosedError('RPC client closed with the call pending'));
    return (async () => {
      if (t) {
        t.destroy();
        await t.whenClosed;
      }
      if (connecting) await connecting.catch(noop);
    })();
  }
}

function noop(): void {}

const NO_BUFS: Buffer[] = [];

/** Hands one transmission of a call to the transport: its arena range, or its own buffers. */
function transmit(t: Transport, pc: PendingCall): void {
  if (pc.arena !== undefined) t.writeIn(pc.arena, pc.arenaAt, pc.arenaAt + pc.bytes);
  else t.write(pc.bufs, pc.bytes);
}

/**
 * A fresh error for one call out of a cause shared by many (a failed
 * connect, close()): callers may add context to their own error without
 * another call's error changing, and each names its procedure.
 */
function errorFor(err: unknown, label: CallLabel): unknown {
  const what = label.name ?? 'RPC call';
  if (err instanceof RpcClosedError) return new RpcClosedError(`${what}: ${err.message}`);
  if (err instanceof RpcConnectionError) return new RpcConnectionError(`${what}: ${err.message}`, err.code, err.address, err.port, { cause: err });
  if (err instanceof Error) {
    const e = Object.create(Object.getPrototypeOf(err) as object) as Error;
    for (const k of Reflect.ownKeys(err)) if (k !== 'stack') Object.defineProperty(e, k, Object.getOwnPropertyDescriptor(err, k)!);
    Object.defineProperty(e, 'cause', { value: err, writable: true, configurable: true });
    Error.captureStackTrace(e, errorFor);
    return e;
  }
  return err;
}
