/**
 * A TCP proxy for fault-injection tests: listens on 127.0.0.1 (a free port)
 * and forwards each accepted connection to `target`, with faults switchable
 * at runtime, per direction:
 *
 *   up   = client → server (calls)       down = server → client (replies)
 *
 *   pass    forward as it comes
 *   drop    blackhole: bytes are read and thrown away
 *   stall   stop forwarding (bytes queue, then reading stops); `pass` resumes
 *   delay   forward each chunk `ms` later, order kept
 *   split   forward in random chunks of 1..maxChunk bytes, one per event-loop
 *           turn, from a seeded RNG (so the peer really reads small pieces)
 *   mutate  a callback sees every whole RPC record (record marking parsed
 *           here, fragments joined) and may pass it, replace it, drop it,
 *           duplicate it, hold it back to reorder, or put raw bytes on the
 *           wire (a record marker of 0x7FFFFFFF, garbage, half a record)
 *
 * and `cut()`: reset both sides of every open connection (RST, no FIN).
 * Modes apply to open connections and to later ones. Mutation happens
 * before the transport mode, so `mutate` + `split` delivers mutated records
 * in small pieces.
 *
 *   const proxy = await FaultProxy.start({ port: 2049 });
 *   proxy.mutate('down', (rec, info) => info.index % 10 === 3 ? [flip(rec)] : undefined);
 *   proxy.set('both', 'stall'); ...; proxy.set('both', 'pass');
 *   proxy.cut();
 *   await proxy.close();
 *
 * Byte and record counts are kept per direction in `stats`. Like
 * fake-rpc-server.ts it frames records with its own few lines, not src/rpc.
 */
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import { Xorshift32 } from './prng.js';

export type Direction = 'up' | 'down';
export type Which = Direction | 'both';

export type Mode =
  | { kind: 'pass' }
  | { kind: 'drop' }
  | { kind: 'stall' }
  | { kind: 'delay'; ms: number }
  | { kind: 'split'; seed: number; maxChunk: number };

/** A record body to send framed as one last fragment, or bytes to send exactly as given. */
export type Piece = Buffer | { raw: Buffer };

export interface RecordInfo {
  direction: Direction;
  /** Serial number of the connection (0 for the first accepted). */
  conn: number;
  /** Index of this record on its connection in its direction. */
  index: number;
  /** Index of this record across all connections in its direction. */
  global: number;
}

/**
 * Return undefined to forward the record unchanged, or the pieces to send in
 * its place ([] drops it). A mutator that keeps a record to send later (to
 * reorder) returns it among the pieces of a later call.
 */
export type Mutator = (record: Buffer, info: RecordInfo) => Piece[] | undefined | void;

export interface DirectionStats {
  /** Bytes read from the sender. */
  bytesIn: number;
  /** Bytes written to the receiver. */
  bytesOut: number;
  /** Bytes thrown away by `drop`. */
  bytesDropped: number;
  /** Whole records seen from the sender. */
  records: number;
  /** Records a mutator replaced (returned something other than undefined for). */
  recordsMutated: number;
}

export interface ProxyStats {
  connections: number;
  /** Connections reset by cut(). */
  cuts: number;
  up: DirectionStats;
  down: DirectionStats;
}

export interface FaultProxyOptions {
  /** Target host; default 127.0.0.1. */
  host?: string;
  port: number;
}

/** A fragment header above this while mutating means the stream is not RPC: stop parsing and pass bytes through. */
const MAX_PARSED_RECORD = 64 * 1024 * 1024;
/** Queued bytes above which the sender is no longer read (TCP backpressure); reading resumes below LOW_WATER. */
const HIGH_WATER = 4 * 1024 * 1024;
const LOW_WATER = 1024 * 1024;

const dirStats = (): DirectionStats => ({ bytesIn: 0, bytesOut: 0, bytesDropped: 0, records: 0, recordsMutated: 0 });

export function frameRecord(body: Buffer): Buffer {
  const hdr = Buffer.allocUnsafe(4);
  hdr.writeUInt32BE((0x8000_0000 | body.length) >>> 0, 0);
  return Buffer.concat([hdr, body]);
}

export class FaultProxy {
  readonly host = '127.0.0.1';
  port = 0;
  readonly stats: ProxyStats = { connections: 0, cuts: 0, up: dirStats(), down: dirStats() };
  /** @internal */
  readonly modes: Record<Direction, Mode> = { up: { kind: 'pass' }, down: { kind: 'pass' } };
  /** @internal */
  readonly mutators: Record<Direction, Mutator | undefined> = { up: undefined, down: undefined };
  private readonly links = new Set<Link>();
  private readonly server: Server;
  private byteWaiters: { dir: Direction; n: number; resolve: () => void }[] = [];
  /** @internal */
  globalIndex: Record<Direction, number> = { up: 0, down: 0 };

  private constructor(readonly target: { host: string; port: number }) {
    this.server = createServer({ allowHalfOpen: true }, (client) => {
      const link = new Link(this, client, this.stats.connections++);
      this.links.add(link);
      link.onGone = () => this.links.delete(link);
    });
  }

  static async start(opts: FaultProxyOptions): Promise<FaultProxy> {
    const p = new FaultProxy({ host: opts.host ?? '127.0.0.1', port: opts.port });
    await new Promise<void>((resolve, reject) => {
      p.server.once('error', reject);
      p.server.listen(0, '127.0.0.1', () => {
        p.server.off('error', reject);
        resolve();
      });
    });
    const addr = p.server.address();
    if (addr === null || typeof addr === 'string') throw new Error('fault proxy: no TCP address');
    p.port = addr.port;
    return p;
  }

  /** Connections currently open. */
  get open(): number {
    return this.links.size;
  }

  /** Switches the transport mode of one or both directions, for open and future connections. */
  set(which: Which, mode: Mode | 'pass' | 'drop' | 'stall'): this {
    const m: Mode = typeof mode === 'string' ? { kind: mode } : mode;
    for (const d of dirs(which)) this.modes[d] = m;
    for (const l of this.links) l.modeChanged();
    return this;
  }

  pass(which: Which = 'both'): this {
    return this.set(which, 'pass');
  }

  drop(which: Which = 'both'): this {
    return this.set(which, 'drop');
  }

  stall(which: Which = 'both'): this {
    return this.set(which, 'stall');
  }

  /** Leaves stall (or any mode) for pass: everything queued goes out in order. */
  resume(which: Which = 'both'): this {
    return this.pass(which);
  }

  delay(which: Which, ms: number): this {
    return this.set(which, { kind: 'delay', ms });
  }

  split(which: Which, opts: { seed: number; maxChunk?: number }): this {
    return this.set(which, { kind: 'split', seed: opts.seed, maxChunk: opts.maxChunk ?? 16 });
  }

  /** Installs (or with undefined removes) the record mutator of a direction; it applies from the next record boundary. */
  mutate(which: Which, fn: Mutator | undefined): this {
    for (const d of dirs(which)) this.mutators[d] = fn;
    return this;
  }

  /** Resets both sides of every open connection; returns how many were cut. */
  cut(): number {
    const n = this.links.size;
    for (const l of [...this.links]) l.cut();
    this.stats.cuts += n;
    return n;
  }

  /** Resolves once at least `n` bytes in total have been read in direction `dir`. */
  whenBytes(dir: Direction, n: number): Promise<void> {
    if (this.stats[dir].bytesIn >= n) return Promise.resolve();
    return new Promise((resolve) => this.byteWaiters.push({ dir, n, resolve }));
  }

  /** @internal */
  counted(): void {
    if (this.byteWaiters.length === 0) return;
    this.byteWaiters = this.byteWaiters.filter((w) => {
      if (this.stats[w.dir].bytesIn < w.n) return true;
      w.resolve();
      return false;
    });
  }

  /** Stops listening and destroys every connection. */
  async close(): Promise<void> {
    for (const l of [...this.links]) l.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function dirs(which: Which): Direction[] {
  return which === 'both' ? ['up', 'down'] : [which];
}

/** One proxied connection: the accepted client socket and our socket to the target. */
class Link {
  readonly upstream: Socket;
  readonly pipes: Record<Direction, Pipe>;
  onGone: () => void = () => {};
  private gone = false;

  constructor(
    readonly proxy: FaultProxy,
    readonly client: Socket,
    readonly serial: number,
  ) {
    this.upstream = netConnect({ host: proxy.target.host, port: proxy.target.port, allowHalfOpen: true });
    client.setNoDelay(true);
    this.upstream.setNoDelay(true);
    this.pipes = {
      up: new Pipe(this, 'up', client, this.upstream),
      down: new Pipe(this, 'down', this.upstream, client),
    };
    for (const s of [client, this.upstream]) {
      s.on('error', () => this.destroy());
      s.on('close', () => this.destroy());
    }
  }

  modeChanged(): void {
    this.pipes.up.pump();
    this.pipes.down.pump();
  }

  cut(): void {
    if (this.gone) return;
    for (const s of [this.client, this.upstream]) {
      if (!s.destroyed) {
        // RST rather than FIN where the socket is connected; destroy otherwise.
        if (s.readyState === 'open' || s.readyState === 'readOnly' || s.readyState === 'writeOnly') s.resetAndDestroy();
        else s.destroy();
      }
    }
    this.destroy();
  }

  destroy(): void {
    if (this.gone) return;
    this.gone = true;
    this.pipes.up.stop();
    this.pipes.down.stop();
    this.client.destroy();
    this.upstream.destroy();
    this.onGone();
  }
}

/**
 * One direction of a link: parses record marking on what it reads (to count
 * records and hand whole ones to a mutator) and forwards through a queue
 * that the transport mode drains.
 *
 * Parser state: `hdrHave` bytes of the current fragment header are in `hdr`;
 * once complete, `fragLeft` body bytes of the fragment remain. `assembling`
 * is decided at each record's first byte (a mutator is installed or not) and
 * holds for the whole record; while assembling, the record's bytes are kept
 * in `parts` instead of being forwarded.
 */
class Pipe {
  private hdr = 0;
  private hdrHave = 0;
  private fragLeft = 0;
  private inBody = false;
  private lastFrag = false;
  private atRecordStart = true;
  private assembling = false;
  private parts: Buffer[] = [];
  private partsLen = 0;
  /** The stream stopped looking like RPC (a giant or corrupt header while assembling): pass bytes through unparsed. */
  private unframed = false;
  private index = 0;

  /** Output queue in wire order; `due` is when a delayed chunk may leave (ms, Date.now()). */
  private q: { buf: Buffer; due: number }[] = [];
  private qBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private splitRng: Xorshift32 | undefined;
  private splitSeed: number | undefined;
  private splitScheduled = false;
  private waitingDrain = false;
  private srcPaused = false;
  private srcEnded = false;
  private stopped = false;

  constructor(
    private readonly link: Link,
    readonly dir: Direction,
    private readonly src: Socket,
    private readonly dst: Socket,
  ) {
    src.on('data', (chunk: Buffer) => this.onData(chunk));
    src.on('end', () => {
      this.srcEnded = true;
      this.pump();
    });
    dst.on('drain', () => {
      this.waitingDrain = false;
      this.pump();
    });
  }

  private get stats(): DirectionStats {
    return this.link.proxy.stats[this.dir];
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.q = [];
    this.qBytes = 0;
    this.parts = [];
  }

  private onData(chunk: Buffer): void {
    if (this.stopped) return;
    this.stats.bytesIn += chunk.length;
    this.link.proxy.counted();
    if (this.unframed) {
      this.enqueue(chunk);
      return;
    }
    const len = chunk.length;
    let pos = 0;
    /** Start of the bytes of this chunk being passed through unchanged, or -1 while assembling. */
    let passFrom = !this.atRecordStart && !this.assembling ? 0 : -1;
    while (pos < len) {
      if (this.atRecordStart) {
        this.atRecordStart = false;
        const assemble = this.link.proxy.mutators[this.dir] !== undefined;
        if (assemble && passFrom >= 0) {
          this.enqueue(chunk.subarray(passFrom, pos));
          passFrom = -1;
        } else if (!assemble && passFrom < 0) {
          passFrom = pos;
        }
        this.assembling = assemble;
      }
      if (!this.inBody) {
        this.hdr = ((this.hdr << 8) | chunk[pos++]!) >>> 0;
        if (++this.hdrHave < 4) continue;
        this.hdrHave = 0;
        this.lastFrag = (this.hdr & 0x8000_0000) !== 0;
        this.fragLeft = this.hdr & 0x7fff_ffff;
        this.hdr = 0;
        this.inBody = true;
        if (this.assembling && this.partsLen + this.fragLeft > MAX_PARSED_RECORD) {
          // Not an RPC stream we can hold in memory: forward what we have and stop parsing.
          this.unframed = true;
          const held = Buffer.concat(this.parts);
          this.parts = [];
          this.enqueue(held);
          this.enqueue(chunk.subarray(pos - 4));
          return;
        }
      } else {
        const take = Math.min(this.fragLeft, len - pos);
        if (this.assembling) {
          this.parts.push(chunk.subarray(pos, pos + take));
          this.partsLen += take;
        }
        pos += take;
        this.fragLeft -= take;
      }
      if (this.inBody && this.fragLeft === 0) {
        this.inBody = false;
        if (this.lastFrag) {
          this.atRecordStart = true;
          this.stats.records++;
          if (this.assembling) {
            const body = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.partsLen);
            this.parts = [];
            this.partsLen = 0;
            this.emit(body);
          }
        }
      }
    }
    if (passFrom >= 0) this.enqueue(chunk.subarray(passFrom));
  }

  private emit(body: Buffer): void {
    const proxy = this.link.proxy;
    const fn = proxy.mutators[this.dir];
    const info: RecordInfo = { direction: this.dir, conn: this.link.serial, index: this.index++, global: proxy.globalIndex[this.dir]++ };
    const out = fn ? fn(body, info) : undefined;
    if (out === undefined || out === null) {
      this.enqueue(frameRecord(body));
      return;
    }
    this.stats.recordsMutated++;
    for (const p of out) this.enqueue(Buffer.isBuffer(p) ? frameRecord(p) : p.raw);
  }

  private enqueue(buf: Buffer): void {
    if (buf.length === 0 || this.stopped) return;
    const m = this.link.proxy.modes[this.dir];
    if (m.kind === 'drop') {
      this.stats.bytesDropped += buf.length;
      return;
    }
    this.q.push({ buf, due: m.kind === 'delay' ? Date.now() + m.ms : 0 });
    this.qBytes += buf.length;
    if (this.qBytes > HIGH_WATER && !this.srcPaused) {
      this.srcPaused = true;
      this.src.pause();
    }
    this.pump();
  }

  pump(): void {
    if (this.stopped || this.dst.destroyed) return;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const m = this.link.proxy.modes[this.dir];
    if (m.kind === 'drop') {
      for (const e of this.q) this.stats.bytesDropped += e.buf.length;
      this.q = [];
      this.qBytes = 0;
    }
    while (this.q.length > 0 && !this.waitingDrain) {
      if (m.kind === 'stall') return;
      const head = this.q[0]!;
      if (m.kind === 'delay') {
        const wait = head.due - Date.now();
        if (wait > 0) {
          this.timer = setTimeout(() => this.pump(), wait);
          return;
        }
      }
      let piece: Buffer;
      if (m.kind === 'split') {
        if (this.splitScheduled) return;
        if (this.splitSeed !== m.seed || !this.splitRng) {
          this.splitSeed = m.seed;
          this.splitRng = Xorshift32.derive(m.seed, this.link.serial * 2 + (this.dir === 'up' ? 0 : 1));
        }
        const n = 1 + this.splitRng.int(Math.max(1, m.maxChunk));
        piece = head.buf.subarray(0, n);
        head.buf = head.buf.subarray(piece.length);
        if (head.buf.length === 0) this.q.shift();
      } else {
        piece = head.buf;
        this.q.shift();
      }
      this.qBytes -= piece.length;
      this.stats.bytesOut += piece.length;
      const ok = this.dst.write(piece);
      if (!ok) this.waitingDrain = true;
      if (m.kind === 'split') {
        // One small piece per turn of the event loop, so the peer reads them apart.
        this.splitScheduled = true;
        setImmediate(() => {
          this.splitScheduled = false;
          this.pump();
        });
        break;
      }
    }
    if (this.srcPaused && this.qBytes < LOW_WATER) {
      this.srcPaused = false;
      this.src.resume();
    }
    if (this.q.length === 0 && this.srcEnded && !this.dst.writableEnded) this.dst.end();
  }
}
