// NFSv4.1 sessions and the 4.0 client id against an in-process fake server
// that checks slot sequenceids as RFC 8881 §2.10.6.1 says a server must.
// No sockets: the fake stands in for RpcClient.call.
import t from 'tap';
import { XdrReader, XdrWriter } from '../../src/xdr/index.js';
import { RpcConnectionError, RpcTimeoutError } from '../../src/rpc/errors.js';
import type { RpcClient } from '../../src/rpc/client.js';
import type { Decoder, Encoder } from '../../src/rpc/client.js';
import {
  ClientId40,
  FATTR4_TYPE,
  NF4DIR,
  bitmap4,
  bitmap4Bytes,
  newClientOwner,
  nfsstat4,
  opGetattr,
  opPutrootfh,
  opReclaimComplete,
  opRenew,
  Session,
  OP_CREATE_SESSION,
  OP_DESTROY_CLIENTID,
  OP_DESTROY_SESSION,
  OP_EXCHANGE_ID,
  OP_GETATTR,
  OP_PUTROOTFH,
  OP_RECLAIM_COMPLETE,
  OP_RENEW,
  OP_SEQUENCE,
  OP_SETCLIENTID,
  OP_SETCLIENTID_CONFIRM,
  type Clock,
} from '../../src/nfs4/index.js';

const TYPE_REQ = bitmap4Bytes(bitmap4(FATTR4_TYPE));

/** Backoff without waiting: timers fire on the next turn of the event loop. */
const instantClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn) => setImmediate(fn),
  clearTimeout: (h) => clearImmediate(h as NodeJS.Immediate),
};

const flush = () => new Promise<void>((r) => setImmediate(r));

interface Seq {
  sessionid: Buffer;
  seqid: number;
  slot: number;
  highest: number;
  cachethis: boolean;
}

interface Logged {
  ops: number[];
  seq?: Seq;
  minor: number;
}

/** What to do to the next request that `when` matches (once). */
type Fault =
  /** Run it, then lose the reply: the client times out. */
  | 'drop-after'
  /** Lose the request: the client times out, the server never saw it. */
  | 'drop-before'
  /** Run it, then drop the connection before the reply. */
  | 'lose-after'
  /** SEQUENCE answers NFS4ERR_DELAY without running anything. */
  | 'delay'
  /** The session vanishes (SEQUENCE gets BADSESSION until a new CREATE_SESSION). */
  | 'kill-session'
  /** The server restarts: session and client id are gone. */
  | 'restart';

interface Slot {
  seq: number;
  cached: Buffer | undefined;
}

/**
 * A small NFSv4.1 server: EXCHANGE_ID, CREATE_SESSION, SEQUENCE (with
 * sequenceid checks and a reply cache), RECLAIM_COMPLETE, PUTROOTFH,
 * GETATTR(type), DESTROY_SESSION/CLIENTID; and the 4.0 SETCLIENTID,
 * SETCLIENTID_CONFIRM and RENEW.
 */
class FakeServer {
  clientid = 0n;
  private nextClientid = 100n;
  sessionid: Buffer | undefined;
  private sessions = 0;
  /** csa_sequence CREATE_SESSION expects next. */
  csSeq = 0;
  slots: Slot[] = [];
  maxRequests = 4;
  log: Logged[] = [];
  faults: { when: (l: Logged) => boolean; what: Fault }[] = [];
  /** RECLAIM_COMPLETE executions (our stand-in for a non-idempotent op). */
  reclaimRuns = 0;
  misordered = 0;
  hold = false;
  private held: (() => void)[] = [];
  inFlight = 0;
  maxInFlight = 0;
  closed = false;

  rpc(): RpcClient {
    const call = async <T>(_l: unknown, encode: Encoder, decode: Decoder<T>): Promise<T> => {
      const w = new XdrWriter();
      encode!(w);
      const req = w.toBuffer();
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      try {
        if (this.hold) await new Promise<void>((r) => this.held.push(r));
        await flush();
        const { reply, fault } = this.handle(req);
        if (fault === 'drop-after' || fault === 'drop-before') throw new RpcTimeoutError('NFSv4 COMPOUND: no reply within 1 ms');
        if (fault === 'lose-after') throw new RpcConnectionError('NFSv4 COMPOUND: connection to fake:2049 lost with the call in flight', 'ECONNRESET', 'fake', 2049);
        return decode(new XdrReader(reply!));
      } finally {
        this.inFlight--;
      }
    };
    return { call, close: async () => void (this.closed = true) } as unknown as RpcClient;
  }

  releaseOne(): boolean {
    const r = this.held.shift();
    r?.();
    return r !== undefined;
  }

  get heldCount(): number {
    return this.held.length;
  }

  restart(): void {
    this.clientid = 0n;
    this.sessionid = undefined;
  }

  private handle(req: Buffer): { reply?: Buffer; fault?: Fault } {
    const r = new XdrReader(req);
    const tag = r.string();
    const minor = r.u32();
    const n = r.u32();
    const entry: Logged = { ops: [], minor };
    const args: (() => void)[] = [];
    // Parse everything first, so faults can match on the whole request.
    const parsed: { op: number; a: Record<string, unknown> }[] = [];
    for (let i = 0; i < n; i++) {
      const op = r.u32();
      entry.ops.push(op);
      const a: Record<string, unknown> = {};
      switch (op) {
        case OP_EXCHANGE_ID:
          r.fixed(8);
          r.opaque();
          r.u32();
          r.u32();
          r.u32();
          break;
        case OP_CREATE_SESSION:
          a.clientid = r.u64();
          a.seq = r.u32();
          r.u32();
          for (let c = 0; c < 2; c++) {
            for (let k = 0; k < 6; k++) a[`ca${c}${k}`] = r.u32();
            r.u32();
          }
          r.u32();
          for (let k = r.u32(); k > 0; k--) r.u32();
          break;
        case OP_SEQUENCE:
          entry.seq = { sessionid: Buffer.from(r.fixed(16)), seqid: r.u32(), slot: r.u32(), highest: r.u32(), cachethis: r.bool() };
          break;
        case OP_RECLAIM_COMPLETE:
          r.bool();
          break;
        case OP_PUTROOTFH:
          break;
        case OP_GETATTR:
          for (let k = r.u32(); k > 0; k--) r.u32();
          break;
        case OP_DESTROY_SESSION:
          r.fixed(16);
          break;
        case OP_DESTROY_CLIENTID:
        case OP_RENEW:
          a.clientid = r.u64();
          break;
        case OP_SETCLIENTID:
          r.fixed(8);
          r.opaque();
          r.u32();
          r.string();
          r.string();
          r.u32();
          break;
        case OP_SETCLIENTID_CONFIRM:
          a.clientid = r.u64();
          r.fixed(8);
          break;
        default:
          throw new Error(`fake server: op ${op} not supported`);
      }
      parsed.push({ op, a });
    }
    r.done();
    void args;
    this.log.push(entry);
    const fi = this.faults.findIndex((f) => f.when(entry));
    const fault = fi >= 0 ? this.faults.splice(fi, 1)[0]!.what : undefined;
    if (fault === 'drop-before') return { fault };
    if (fault === 'kill-session') this.sessionid = undefined;
    if (fault === 'restart') this.restart();

    const w = new XdrWriter();
    const results: ((w: XdrWriter) => void)[] = [];
    let status = 0;
    let slot: Slot | undefined;
    let cacheIt = false;
    const res = (op: number, st: number, body?: (w: XdrWriter) => void) => {
      results.push((x) => {
        x.u32(op).u32(st);
        body?.(x);
      });
      status = st;
      return st === 0;
    };
    run: for (const { op, a } of parsed) {
      switch (op) {
        case OP_EXCHANGE_ID: {
          if (this.clientid === 0n) {
            this.clientid = this.nextClientid++;
            this.csSeq = 1;
          }
          res(op, 0, (x) => x.u64(this.clientid).u32(this.csSeq).u32(0).u32(0).u64(0n).opaque(Buffer.from('fake')).opaque(Buffer.from('scope')).u32(0));
          break;
        }
        case OP_CREATE_SESSION: {
          if (a.clientid !== this.clientid || this.clientid === 0n) {
            res(op, nfsstat4.NFS4ERR_STALE_CLIENTID);
            break run;
          }
          if (a.seq !== this.csSeq) {
            res(op, nfsstat4.NFS4ERR_SEQ_MISORDERED);
            break run;
          }
          this.csSeq++;
          this.sessions++;
          this.sessionid = Buffer.alloc(16, this.sessions);
          const nslots = Math.min(this.maxRequests, a.ca05 as number);
          this.slots = Array.from({ length: nslots }, () => ({ seq: 0, cached: undefined }));
          const sid = this.sessionid;
          res(op, 0, (x) => {
            x.fixed(sid).u32(a.seq as number).u32(0);
            x.u32(0).u32(1 << 20).u32(1 << 20).u32(4096).u32(16).u32(nslots).u32(0);
            x.u32(0).u32(4096).u32(4096).u32(0).u32(2).u32(1).u32(0);
          });
          break;
        }
        case OP_SEQUENCE: {
          const s = entry.seq!;
          if (!this.sessionid || !s.sessionid.equals(this.sessionid)) {
            res(op, nfsstat4.NFS4ERR_BADSESSION);
            break run;
          }
          if (fault === 'delay') {
            res(op, nfsstat4.NFS4ERR_DELAY);
            break run;
          }
          slot = this.slots[s.slot];
          if (!slot) {
            res(op, nfsstat4.NFS4ERR_BADSLOT);
            break run;
          }
          if (s.seqid === slot.seq) {
            // A retry: the cached reply, or RETRY_UNCACHED_REP.
            if (slot.cached) return { reply: slot.cached, ...(fault ? { fault } : {}) };
            res(op, nfsstat4.NFS4ERR_RETRY_UNCACHED_REP);
            slot = undefined;
            break run;
          }
          if (s.seqid !== ((slot.seq + 1) >>> 0)) {
            this.misordered++;
            res(op, nfsstat4.NFS4ERR_SEQ_MISORDERED);
            slot = undefined;
            break run;
          }
          slot.seq = s.seqid;
          cacheIt = s.cachethis;
          res(op, 0, (x) => x.fixed(s.sessionid).u32(s.seqid).u32(s.slot).u32(this.slots.length - 1).u32(this.slots.length - 1).u32(0));
          break;
        }
        case OP_RECLAIM_COMPLETE:
          this.reclaimRuns++;
          res(op, 0);
          break;
        case OP_PUTROOTFH:
          res(op, 0);
          break;
        case OP_GETATTR:
          res(op, 0, (x) => x.u32(1).u32(1 << FATTR4_TYPE).opaque(new XdrWriter().u32(NF4DIR).toBuffer()));
          break;
        case OP_DESTROY_SESSION:
          this.sessionid = undefined;
          res(op, 0);
          break;
        case OP_DESTROY_CLIENTID:
          this.clientid = 0n;
          res(op, 0);
          break;
        case OP_SETCLIENTID:
          if (this.clientid === 0n) this.clientid = this.nextClientid++;
          res(op, 0, (x) => x.u64(this.clientid).fixed(Buffer.alloc(8, 3)));
          break;
        case OP_SETCLIENTID_CONFIRM:
          res(op, a.clientid === this.clientid ? 0 : nfsstat4.NFS4ERR_STALE_CLIENTID);
          break;
        case OP_RENEW:
          if (!res(op, a.clientid === this.clientid ? 0 : nfsstat4.NFS4ERR_STALE_CLIENTID)) break run;
          break;
      }
      if (status !== 0) break;
    }
    w.u32(status).string(tag).u32(results.length);
    for (const put of results) put(w);
    const reply = w.toBuffer();
    if (slot) slot.cached = cacheIt ? reply : undefined;
    return { reply, ...(fault ? { fault } : {}) };
  }

  /** SEQUENCE-bearing requests as [slot, seqid, ops after SEQUENCE]. */
  sequenced(): [number, number, number[]][] {
    return this.log.filter((l) => l.seq).map((l) => [l.seq!.slot, l.seq!.seqid, l.ops.slice(1)]);
  }
}

async function session(server: FakeServer, slots = 4, clock: Clock = instantClock): Promise<Session> {
  return Session.establish(server.rpc(), {
    minorVersion: 1,
    owner: newClientOwner(),
    slots,
    maxRequestSize: 1 << 20,
    maxResponseSize: 1 << 20,
    timeout: 10_000,
    clock,
  });
}

const getattr = () => [opPutrootfh(), opGetattr(TYPE_REQ)] as const;

t.test('establish: EXCHANGE_ID, CREATE_SESSION, then RECLAIM_COMPLETE behind SEQUENCE', async (t) => {
  const server = new FakeServer();
  const s = await session(server);
  t.same(
    server.log.map((l) => l.ops),
    [[OP_EXCHANGE_ID], [OP_CREATE_SESSION], [OP_SEQUENCE, OP_RECLAIM_COMPLETE]],
  );
  t.same(server.log.map((l) => l.minor), [1, 1, 1]);
  t.same(server.sequenced(), [[0, 1, [OP_RECLAIM_COMPLETE]]], 'first request on slot 0 carries sequenceid 1');
  t.equal(s.clientid, server.clientid);
  t.equal(s.slots.size, 4);
  t.equal(s.maxOps, 15, 'ca_maxoperations less the SEQUENCE');
});

t.test('every COMPOUND carries SEQUENCE; the slot sequenceid advances, through op errors too', async (t) => {
  const server = new FakeServer();
  const s = await session(server);
  await s.run('a', getattr());
  const bad = await s.send('b', [opRenew(() => 0n)]); // RENEW is not a 4.1 op for the fake: it fails
  t.equal(bad.failure?.op, 'OP_RENEW');
  await s.run('c', getattr());
  t.same(
    server.sequenced().map(([slot, seq]) => [slot, seq]),
    [
      [0, 1],
      [0, 2],
      [0, 3],
      [0, 4],
    ],
  );
  t.equal(server.misordered, 0);
  t.equal(bad.failure?.index, 0, 'failure indexes count the caller\'s ops, not SEQUENCE');
});

t.test('the slots are the in-flight window', async (t) => {
  const server = new FakeServer();
  server.maxRequests = 2;
  const s = await session(server, 8);
  t.equal(s.slots.size, 2, 'the server granted two slots');
  server.hold = true;
  server.maxInFlight = 0;
  const calls = Array.from({ length: 6 }, (_, i) => s.run(`c${i}`, getattr()));
  await flush();
  await flush();
  t.equal(server.heldCount, 2, 'two requests reach the server');
  t.equal(s.slots.waiting, 4, 'the rest wait for a slot');
  while (server.heldCount > 0 || s.slots.waiting > 0) {
    server.releaseOne();
    await flush();
    await flush();
  }
  await Promise.all(calls);
  t.equal(server.maxInFlight, 2);
  t.equal(server.misordered, 0);
  const perSlot = new Map<number, number[]>();
  for (const [slot, seq] of server.sequenced()) perSlot.set(slot, [...(perSlot.get(slot) ?? []), seq]);
  t.same([...perSlot.keys()].sort(), [0, 1], 'only the two granted slots were used');
  for (const [slot, seqs] of perSlot) t.same(seqs, seqs.map((_, i) => i + 1), `slot ${slot} counts up by one from 1`);
});

t.test('NFS4ERR_DELAY on SEQUENCE: the same sequenceid is sent again', async (t) => {
  const server = new FakeServer();
  const s = await session(server);
  server.faults.push({ when: (l) => l.ops.includes(OP_GETATTR), what: 'delay' });
  await s.run('g', getattr());
  t.same(server.sequenced().slice(1).map(([slot, seq]) => [slot, seq]), [
    [0, 2],
    [0, 2],
  ]);
  t.equal(server.misordered, 0);
});

t.test('BADSESSION: a new session for the same client id, then the call is re-driven', async (t) => {
  const server = new FakeServer();
  const s = await session(server);
  const cid = s.clientid;
  server.faults.push({ when: (l) => l.ops.includes(OP_GETATTR), what: 'kill-session' });
  const [, attrs] = await s.run('g', getattr());
  t.equal(attrs.type, NF4DIR);
  t.equal(s.stats.recoveries, 1);
  t.equal(s.clientid, cid, 'same client id');
  t.equal(s.stateEpoch, 0, 'state survives a new session');
  const creates = server.log.filter((l) => l.ops[0] === OP_CREATE_SESSION).length;
  t.equal(creates, 2);
  t.same(server.sequenced().at(-1)!.slice(0, 2), [0, 1], 'the new session starts its slots over');
});

t.test('server restart: new client id and session, RECLAIM_COMPLETE, state epoch bumped', async (t) => {
  const server = new FakeServer();
  const s = await session(server);
  const cid = s.clientid;
  server.faults.push({ when: (l) => l.ops.includes(OP_GETATTR), what: 'restart' });
  await s.run('g', getattr());
  t.not(s.clientid, cid);
  t.equal(s.stateEpoch, 1);
  const ops = server.log.slice(-5).map((l) => l.ops[0] === OP_SEQUENCE ? l.ops[1] : l.ops[0]);
  t.same(ops, [OP_CREATE_SESSION, OP_EXCHANGE_ID, OP_CREATE_SESSION, OP_RECLAIM_COMPLETE, OP_PUTROOTFH]);
});

t.test('a request that got no reply: the slot is probed before it is used again', async (t) => {
  for (const what of ['drop-after', 'drop-before'] as const) {
    const server = new FakeServer();
    const s = await session(server);
    server.faults.push({ when: (l) => l.ops.includes(OP_GETATTR), what });
    await t.rejects(s.run('g', getattr()), { name: 'RpcTimeoutError' }, what);
    await s.run('g2', getattr());
    const seq = server.sequenced().slice(1);
    t.same(seq, [
      [0, 2, [OP_PUTROOTFH, OP_GETATTR]],
      [0, 2, []],
      [0, 3, [OP_PUTROOTFH, OP_GETATTR]],
    ], `${what}: probe with the lost sequenceid, then carry on`);
    t.equal(server.misordered, 0, `${what}: never misordered`);
  }
});

t.test('connection lost in flight: resent on the same slot; the reply cache answers', async (t) => {
  const server = new FakeServer();
  const s = await session(server);
  // Non-idempotent (cachethis): the server runs it once and replays the reply.
  const before = server.reclaimRuns;
  server.faults.push({ when: (l) => l.ops.includes(OP_RECLAIM_COMPLETE), what: 'lose-after' });
  await s.run('rc', [opReclaimComplete(false)]);
  t.equal(server.reclaimRuns - before, 1, 'ran exactly once');
  const last = server.log.slice(-2);
  t.same(last.map((l) => [l.seq!.seqid, l.seq!.cachethis]), [
    [2, true],
    [2, true],
  ]);
  // Idempotent (no cachethis): RETRY_UNCACHED_REP, then sent again as a new request.
  server.faults.push({ when: (l) => l.ops.includes(OP_GETATTR), what: 'lose-after' });
  await s.run('g', getattr());
  t.same(server.sequenced().slice(-3).map(([slot, seq]) => [slot, seq]), [
    [0, 3],
    [0, 3],
    [0, 4],
  ]);
  t.equal(server.misordered, 0);
});

t.test('lease renewal: SEQUENCE alone when idle, nothing while busy (fake clock)', async (t) => {
  const server = new FakeServer();
  let now = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  let id = 0;
  const clock: Clock = {
    now: () => now,
    setTimeout: (fn, ms) => (timers.set(++id, { at: now + ms, fn }), id),
    clearTimeout: (h) => void timers.delete(h as number),
  };
  const advance = async (ms: number) => {
    const end = now + ms;
    for (;;) {
      const due = [...timers].filter(([, v]) => v.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      timers.delete(due[0]);
      now = due[1].at;
      due[1].fn();
      for (let i = 0; i < 5; i++) await flush();
    }
    now = end;
  };
  const s = await session(server, 4, clock);
  s.startRenewal(3);
  const renewals = () => server.log.filter((l) => l.ops.length === 1 && l.ops[0] === OP_SEQUENCE).length;
  await advance(1000);
  t.equal(renewals(), 1, 'idle a third of the lease: renewed');
  for (let i = 0; i < 4; i++) {
    await advance(500);
    await s.run('busy', getattr());
    await advance(500);
  }
  t.equal(renewals(), 1, 'other COMPOUNDs keep the lease: no renewal');
  await advance(1000);
  t.equal(renewals(), 2);
  t.equal(s.renewals.sent, 2);
  await s.close();
  t.equal(timers.size, 0, 'close stops the timer');
});

t.test('close: DESTROY_SESSION and DESTROY_CLIENTID, then calls fail', async (t) => {
  const server = new FakeServer();
  const s = await session(server);
  await s.close();
  t.same(server.log.slice(-2).map((l) => l.ops), [[OP_DESTROY_SESSION], [OP_DESTROY_CLIENTID]]);
  t.equal(server.clientid, 0n);
  await t.rejects(s.run('g', getattr()), { name: 'RpcClosedError' });
});

t.test('4.0: SETCLIENTID + CONFIRM, RENEW when idle, a new client id after STALE_CLIENTID', async (t) => {
  const server = new FakeServer();
  let now = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  let id = 0;
  const clock: Clock = {
    now: () => now,
    setTimeout: (fn, ms) => (timers.set(++id, { at: now + ms, fn }), id),
    clearTimeout: (h) => void timers.delete(h as number),
  };
  const c = await ClientId40.establish(server.rpc(), { owner: newClientOwner(), timeout: 10_000, clock });
  t.same(server.log.map((l) => l.ops), [[OP_SETCLIENTID], [OP_SETCLIENTID_CONFIRM]]);
  t.same(server.log.map((l) => l.minor), [0, 0]);
  t.equal(c.clientid, server.clientid);
  c.startRenewal(3);
  now = 1000;
  const tick = [...timers.values()][0]!;
  timers.clear();
  tick.fn();
  for (let i = 0; i < 5; i++) await flush();
  t.same(server.log.at(-1)!.ops, [OP_RENEW], 'RENEW when idle');
  server.restart();
  const old = c.clientid;
  await c.run('renew', [opRenew(() => c.clientid)]);
  t.not(c.clientid, old, 'new client id');
  t.equal(c.stateEpoch, 1);
  t.same(server.log.slice(-4).map((l) => l.ops[0]), [OP_RENEW, OP_SETCLIENTID, OP_SETCLIENTID_CONFIRM, OP_RENEW]);
  await c.close();
});
