/**
 * A small in-process ONC RPC server over TCP (127.0.0.1, ephemeral port) for
 * tests that need a server to misbehave: answer late, never, out of order,
 * with raw or truncated bytes, or hang up mid-reply.
 *
 * It frames and parses calls with its own few lines of code rather than
 * src/rpc and src/xdr, so a bug there cannot hide behind the same bug here.
 *
 *   const server = await FakeRpcServer.start((call) => {
 *     if (call.proc === 0) return Buffer.alloc(0);           // reply SUCCESS now
 *     setTimeout(() => call.reply(u32(42)), 10);             // or later
 *     // or never: return nothing and don't call reply()
 *   });
 *   const client = new RpcClient({ host: server.host, port: server.port });
 *   ...
 *   await server.close();
 *
 * Every reply helper is a no-op once the call has been answered or its
 * connection is gone, so a test can fire them without bookkeeping; use
 * `conn.send()` / `conn.sendRecord()` to put any bytes on the wire regardless.
 */
import { createServer, type Server, type Socket } from 'node:net';

export const MSG_ACCEPTED = 0;
export const MSG_DENIED = 1;
export const SUCCESS = 0;
export const PROG_UNAVAIL = 1;
export const PROG_MISMATCH = 2;
export const PROC_UNAVAIL = 3;
export const GARBAGE_ARGS = 4;
export const SYSTEM_ERR = 5;
export const RPC_MISMATCH = 0;
export const AUTH_ERROR = 1;

export interface OpaqueAuth {
  flavor: number;
  body: Buffer;
}

/**
 * What the handler sees. `args` is a copy of the call's argument bytes (the
 * record after the verifier), safe to keep.
 */
export interface FakeCall {
  readonly xid: number;
  readonly rpcvers: number;
  readonly prog: number;
  readonly vers: number;
  readonly proc: number;
  readonly cred: OpaqueAuth;
  readonly verf: OpaqueAuth;
  readonly args: Buffer;
  /** The connection the call came in on. */
  readonly conn: FakeConnection;
  /** True once any reply helper has answered it. */
  readonly replied: boolean;
  /** MSG_ACCEPTED / SUCCESS followed by `results` (already XDR-encoded). */
  reply(results?: Buffer): void;
  /** MSG_ACCEPTED with a non-SUCCESS accept_stat; PROG_MISMATCH takes {low, high}. */
  replyAccepted(acceptStat: number, mismatch?: { low: number; high: number }): void;
  /** MSG_DENIED / RPC_MISMATCH with the versions the server speaks. */
  replyRpcMismatch(low: number, high: number): void;
  /** MSG_DENIED / AUTH_ERROR with an auth_stat. */
  replyAuthError(authStat: number): void;
  /**
   * Any record body (it should start with the xid if the client is to match
   * it), framed as one fragment or split into fragments of the given sizes.
   */
  replyRaw(body: Buffer, fragmentSizes?: number[]): void;
  /** Marks the call answered without sending anything (to stop counting it as outstanding). */
  drop(): void;
}

/**
 * Return a Buffer to reply SUCCESS with those result bytes right away;
 * return nothing to reply later through the call, or never. A throw (or a
 * rejected promise) answers SYSTEM_ERR and is recorded in `server.errors`.
 */
export type FakeHandler = (call: FakeCall) => Buffer | void | Promise<Buffer | void>;

export interface FakeRpcServerOptions {
  /**
   * Keep our side open after the client's FIN (node's `allowHalfOpen`): a
   * server that never hangs up. Default false: close when the client does.
   */
  allowHalfOpen?: boolean;
  /** Listen on this port (a restarted server coming back where it was). Default: a free one. */
  port?: number;
}

export class FakeConnection {
  /** 'data' events received: one per read, so a coalesced burst shows as few. */
  dataEvents = 0;
  bytesReceived = 0;
  /** Calls received on this connection, in arrival order. */
  readonly calls: FakeCall[] = [];
  closed = false;
  private buf: Buffer = Buffer.alloc(0);
  private parts: Buffer[] = [];

  constructor(
    readonly socket: Socket,
    private readonly server: FakeRpcServer,
  ) {
    socket.on('data', (chunk: Buffer) => {
      this.dataEvents++;
      this.bytesReceived += chunk.length;
      this.server.dataEvents++;
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
      this.parse();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.server.connectionClosed(this);
    });
  }

  /** Raw bytes, exactly as given (no record mark). */
  send(bytes: Buffer): void {
    if (!this.closed && !this.socket.destroyed) this.socket.write(bytes);
  }

  /** A record: one last fragment, or fragments of the given sizes (their sum must be body.length). */
  sendRecord(body: Buffer, fragmentSizes?: number[]): void {
    this.send(frame(body, fragmentSizes));
  }

  /** Hang up now (FIN; bytes already written still go out first). */
  end(): void {
    this.socket.end();
  }

  /** Hang up now, dropping anything not yet written. */
  destroy(): void {
    this.socket.destroy();
  }

  private parse(): void {
    let off = 0;
    for (;;) {
      if (this.buf.length - off < 4) break;
      const hdr = this.buf.readUInt32BE(off);
      const len = hdr & 0x7fffffff;
      if (this.buf.length - off - 4 < len) break;
      this.parts.push(this.buf.subarray(off + 4, off + 4 + len));
      off += 4 + len;
      if (hdr & 0x80000000) {
        const record = Buffer.concat(this.parts);
        this.parts = [];
        this.server.received(this, record);
      }
    }
    this.buf = Buffer.from(this.buf.subarray(off));
  }
}

export class FakeRpcServer {
  readonly host = '127.0.0.1';
  port = 0;
  /** Replaceable at any time; applies to calls that arrive afterwards. */
  handler: FakeHandler;
  /** Every call received, in arrival order, across connections. */
  readonly calls: FakeCall[] = [];
  /** Connections currently open. */
  readonly connections = new Set<FakeConnection>();
  /** Connections ever accepted. */
  connectionCount = 0;
  /** 'data' events across all connections. */
  dataEvents = 0;
  /** Calls received and not yet answered on connections still open. */
  outstanding = 0;
  /** The highest `outstanding` ever reached. */
  maxOutstanding = 0;
  /** Records that did not parse as a call (shorter than a call header, or msg_type not CALL). */
  badRecords = 0;
  /** Errors thrown by the handler. */
  readonly errors: unknown[] = [];
  /**
   * Called for each accepted connection before any of its bytes are read:
   * e.g. `conn.socket.pause()` to stop reading (backpressure tests), or
   * `conn.destroy()` to refuse service after accepting.
   */
  onConnection: ((conn: FakeConnection) => void) | undefined;

  private readonly server: Server;
  private waiters: { n: number; resolve: () => void }[] = [];
  private connWaiters: { n: number; resolve: () => void }[] = [];

  private constructor(handler: FakeHandler, opts: FakeRpcServerOptions) {
    this.handler = handler;
    this.server = createServer({ allowHalfOpen: opts.allowHalfOpen ?? false }, (socket) => {
      socket.setNoDelay(true);
      const conn = new FakeConnection(socket, this);
      this.connections.add(conn);
      this.connectionCount++;
      this.onConnection?.(conn);
      this.wake();
    });
  }

  /** Listens on 127.0.0.1 on a free port. The default handler replies SUCCESS with no results. */
  static async start(handler: FakeHandler = () => Buffer.alloc(0), opts: FakeRpcServerOptions = {}): Promise<FakeRpcServer> {
    const s = new FakeRpcServer(handler, opts);
    await new Promise<void>((resolve, reject) => {
      s.server.once('error', reject);
      s.server.listen(opts.port ?? 0, '127.0.0.1', () => {
        s.server.off('error', reject);
        resolve();
      });
    });
    const addr = s.server.address();
    if (addr === null || typeof addr === 'string') throw new Error('fake RPC server: no TCP address');
    s.port = addr.port;
    return s;
  }

  /** Resolves once at least `n` calls have arrived (in total). */
  waitForCalls(n: number): Promise<void> {
    if (this.calls.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  /** Resolves once at least `n` connections have been accepted (in total). */
  waitForConnections(n: number): Promise<void> {
    if (this.connectionCount >= n) return Promise.resolve();
    return new Promise((resolve) => this.connWaiters.push({ n, resolve }));
  }

  /** Destroys every open connection; the server keeps listening. */
  dropConnections(): void {
    for (const c of this.connections) c.destroy();
  }

  /** Destroys every connection and stops listening. */
  async close(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** @internal */
  received(conn: FakeConnection, record: Buffer): void {
    const call = parseCall(conn, record, this);
    if (call === undefined) {
      this.badRecords++;
      return;
    }
    conn.calls.push(call);
    this.calls.push(call);
    this.outstanding++;
    if (this.outstanding > this.maxOutstanding) this.maxOutstanding = this.outstanding;
    this.wake();
    const fail = (err: unknown) => {
      this.errors.push(err);
      call.replyAccepted(SYSTEM_ERR);
    };
    try {
      const out = this.handler(call);
      if (out instanceof Promise) {
        out.then((b) => {
          if (b) call.reply(b);
        }, fail);
      } else if (out) {
        call.reply(out);
      }
    } catch (err) {
      fail(err);
    }
  }

  /** @internal a call on this connection got its (first) reply */
  answered(): void {
    this.outstanding--;
  }

  /** @internal */
  connectionClosed(conn: FakeConnection): void {
    if (!this.connections.delete(conn)) return;
    for (const c of conn.calls) if (!c.replied) (c as CallImpl).forget();
  }

  private wake(): void {
    this.waiters = this.waiters.filter((w) => {
      if (this.calls.length < w.n) return true;
      w.resolve();
      return false;
    });
    this.connWaiters = this.connWaiters.filter((w) => {
      if (this.connectionCount < w.n) return true;
      w.resolve();
      return false;
    });
  }
}

class CallImpl implements FakeCall {
  replied = false;
  constructor(
    readonly xid: number,
    readonly rpcvers: number,
    readonly prog: number,
    readonly vers: number,
    readonly proc: number,
    readonly cred: OpaqueAuth,
    readonly verf: OpaqueAuth,
    readonly args: Buffer,
    readonly conn: FakeConnection,
    private readonly server: FakeRpcServer,
  ) {}

  private answer(body: Buffer, fragmentSizes?: number[]): void {
    if (this.replied) return;
    this.replied = true;
    this.server.answered();
    this.conn.sendRecord(body, fragmentSizes);
  }

  /** The connection went away with this call unanswered. */
  forget(): void {
    if (this.replied) return;
    this.replied = true;
    this.server.answered();
  }

  reply(results: Buffer = Buffer.alloc(0)): void {
    this.answer(encodeAcceptedReply(this.xid, SUCCESS, results));
  }

  replyAccepted(acceptStat: number, mismatch?: { low: number; high: number }): void {
    const extra = mismatch ? u32(mismatch.low, mismatch.high) : Buffer.alloc(0);
    this.answer(encodeAcceptedReply(this.xid, acceptStat, extra));
  }

  replyRpcMismatch(low: number, high: number): void {
    this.answer(u32(this.xid, 1, MSG_DENIED, RPC_MISMATCH, low, high));
  }

  replyAuthError(authStat: number): void {
    this.answer(u32(this.xid, 1, MSG_DENIED, AUTH_ERROR, authStat));
  }

  replyRaw(body: Buffer, fragmentSizes?: number[]): void {
    this.answer(body, fragmentSizes);
  }

  drop(): void {
    this.forget();
  }
}

function parseCall(conn: FakeConnection, rec: Buffer, server: FakeRpcServer): CallImpl | undefined {
  // xid, msg_type, rpcvers, prog, vers, proc, cred (flavor, len), verf (flavor, len)
  if (rec.length < 40) return undefined;
  const xid = rec.readUInt32BE(0);
  if (rec.readUInt32BE(4) !== 0) return undefined;
  let off = 24;
  const auth = (): OpaqueAuth | undefined => {
    if (rec.length - off < 8) return undefined;
    const flavor = rec.readUInt32BE(off);
    const len = rec.readUInt32BE(off + 4);
    const padded = len + ((4 - (len % 4)) % 4);
    if (rec.length - off - 8 < padded) return undefined;
    const body = Buffer.from(rec.subarray(off + 8, off + 8 + len));
    off += 8 + padded;
    return { flavor, body };
  };
  const cred = auth();
  const verf = auth();
  if (!cred || !verf) return undefined;
  return new CallImpl(
    xid,
    rec.readUInt32BE(8),
    rec.readUInt32BE(12),
    rec.readUInt32BE(16),
    rec.readUInt32BE(20),
    cred,
    verf,
    Buffer.from(rec.subarray(off)),
    conn,
    server,
  );
}

/** XDR uint32s, concatenated. */
export function u32(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, i * 4));
  return b;
}

/** A reply body: xid, REPLY, MSG_ACCEPTED, AUTH_NONE verifier, accept_stat, then `rest`. */
export function encodeAcceptedReply(xid: number, acceptStat: number, rest: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([u32(xid, 1, MSG_ACCEPTED, 0, 0, acceptStat), rest]);
}

/** Record-marks `body`: one last fragment, or fragments of the given sizes (must sum to body.length). */
export function frame(body: Buffer, fragmentSizes: number[] = [body.length]): Buffer {
  const sum = fragmentSizes.reduce((a, b) => a + b, 0);
  if (sum !== body.length) throw new RangeError(`frame: fragment sizes sum to ${sum}, body is ${body.length}`);
  const out: Buffer[] = [];
  let off = 0;
  fragmentSizes.forEach((n, i) => {
    const last = i === fragmentSizes.length - 1;
    out.push(u32((last ? 0x80000000 : 0) | n), body.subarray(off, off + n));
    off += n;
  });
  return Buffer.concat(out);
}
