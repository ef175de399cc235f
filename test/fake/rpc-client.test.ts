import t, { type Test } from 'tap';
import { createServer, type Socket } from 'node:net';
import { RpcClient, type RpcClientOptions } from '../../src/rpc/client.js';
import { authSys } from '../../src/rpc/auth.js';
import { RpcAcceptedError, RpcClosedError, RpcConnectionError, RpcDeniedError, RpcTimeoutError, RpcDeadlineError } from '../../src/rpc/errors.js';
import type { XdrReader } from '../../src/xdr/reader.js';
import { XdrDecodeError } from '../../src/xdr/errors.js';
import {
  FakeRpcServer,
  encodeAcceptedReply,
  frame,
  u32,
  GARBAGE_ARGS,
  PROC_UNAVAIL,
  PROG_MISMATCH,
  PROG_UNAVAIL,
  SUCCESS,
  SYSTEM_ERR,
  type FakeCall,
  type FakeHandler,
} from './fake-rpc-server.js';

const PROG = 400_123;
const VERS = 1;
/** Procedures of the test program, as the default handler serves them. */
const ECHO = 1; // returns its uint32 argument + 1
const HOLD = 2; // never answered by the default handler

const label = (proc: number) => ({ prog: PROG, vers: VERS, proc, name: `TEST_PROC_${proc}` });

/** Private state a few tests look at. */
interface Internals {
  transport: { writable: boolean; socket: Socket } | undefined;
  onWire: number;
  xid: number;
}
const internals = (c: RpcClient) => c as unknown as Internals;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `cond` until it holds; fails the test (rather than hanging) after a generous bound. */
async function until(t: Test, cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (cond()) return;
    await sleep(5);
  }
  t.fail(`gave up waiting for: ${what}`);
  throw new Error(`gave up waiting for: ${what}`);
}

const echoHandler: FakeHandler = (call) => {
  if (call.proc === ECHO) return u32(call.args.readUInt32BE(0) + 1);
  if (call.proc === HOLD) return undefined;
  call.replyAccepted(PROC_UNAVAIL);
};

async function setup(t: Test, handler: FakeHandler = echoHandler, opts: Partial<RpcClientOptions> = {}) {
  const server = await FakeRpcServer.start(handler);
  const client = new RpcClient({ host: server.host, port: server.port, timeout: 10_000, ...opts });
  t.teardown(async () => {
    await client.close();
    await server.close();
  });
  return { server, client };
}

function echo(client: RpcClient, v: number, opts?: Parameters<RpcClient['call']>[3]): Promise<number> {
  return client.call(
    label(ECHO),
    (w) => w.u32(v),
    (r: XdrReader) => {
      const out = r.u32('echo');
      r.done('echo reply');
      return out;
    },
    opts,
  );
}

function hold(client: RpcClient, opts?: Parameters<RpcClient['call']>[3]): Promise<void> {
  return client.call(label(HOLD), null, () => undefined, opts);
}

/** Deterministic shuffle. */
function shuffle<T>(xs: T[], seed: number): T[] {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 0x1_0000_0000);
  const a = xs.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

const CONN_ERROR = { name: 'RpcConnectionError' };

t.test('a simple call: header on the wire, arguments, decoded result', async (t) => {
  const { server, client } = await setup(t);
  t.equal(await echo(client, 41), 42);
  const call = server.calls[0]!;
  t.equal(call.rpcvers, 2);
  t.equal(call.prog, PROG);
  t.equal(call.vers, VERS);
  t.equal(call.proc, ECHO);
  t.same(call.cred, { flavor: 0, body: Buffer.alloc(0) }, 'AUTH_NONE by default');
  t.same(call.verf, { flavor: 0, body: Buffer.alloc(0) });
  t.same(call.args, u32(41));
  t.equal(client.pending, 0);
  t.equal(client.stats.calls, 1);
  t.equal(client.stats.replies, 1);
  t.equal(client.stats.connects, 1);

  // A per-call credential.
  const cred = authSys({ uid: 1000, gid: 1000, gids: [4], machineName: 'box', stamp: 1 });
  t.equal(await echo(client, 1, { auth: cred }), 2);
  t.equal(server.calls[1]!.cred.flavor, 1);
  t.same(server.calls[1]!.cred.body, cred.encoded.subarray(8));
  t.equal(client.stats.connects, 1, 'one connection for both calls');
});

t.test('replies in reverse order are matched by xid', async (t) => {
  const n = 50;
  const { server, client } = await setup(t, () => undefined);
  const results = Promise.all(Array.from({ length: n }, (_, i) => echo(client, i * 10)));
  await server.waitForCalls(n);
  for (const call of server.calls.slice().reverse()) call.reply(u32(call.args.readUInt32BE(0) + 1));
  t.same(await results, Array.from({ length: n }, (_, i) => i * 10 + 1));
  t.equal(client.stats.unknownXids, 0);
});

t.test('replies in random order are matched by xid', async (t) => {
  const n = 200;
  const { server, client } = await setup(t, () => undefined, { maxInFlight: n });
  const results = Promise.all(Array.from({ length: n }, (_, i) => echo(client, i)));
  await server.waitForCalls(n);
  // Half of them split into several fragments, all in one write.
  const order = shuffle(server.calls, 7);
  const conn = order[0]!.conn;
  conn.send(
    Buffer.concat(
      order.map((c, k) => {
        const body = encodeAcceptedReply(c.xid, SUCCESS, u32(c.args.readUInt32BE(0) + 1));
        return k % 2 ? frame(body, [3, 0, body.length - 3]) : frame(body);
      }),
    ),
  );
  order.forEach((c) => c.drop());
  t.same(await results, Array.from({ length: n }, (_, i) => i + 1));
  const xids = new Set(server.calls.map((c) => c.xid));
  t.equal(xids.size, n, 'every call had its own xid');
});

t.test('1 000 calls with maxInFlight=64: never more than 64 outstanding, all resolve with their own values', async (t) => {
  const total = 1000;
  const window = 64;
  let held: FakeCall[] = [];
  let received = 0;
  let batch = 0;
  const { server, client } = await setup(
    t,
    (call) => {
      held.push(call);
      received++;
      // Answer a full window (or the tail) in a shuffled order, a tick later.
      if (held.length === window || received === total) {
        const now = shuffle(held, ++batch);
        held = [];
        setImmediate(() => now.forEach((c) => c.reply(u32(c.args.readUInt32BE(0) * 3))));
      }
    },
    { maxInFlight: window },
  );
  const results = await Promise.all(Array.from({ length: total }, (_, i) => echo(client, i)));
  t.ok(results.every((v, i) => v === i * 3), 'each call got its own result');
  t.ok(server.maxOutstanding <= window, `server saw at most ${window} outstanding (saw ${server.maxOutstanding})`);
  t.equal(server.maxOutstanding, window, 'the window was used in full');
  t.equal(server.calls.length, total);
  t.equal(client.pending, 0);
  t.equal(internals(client).onWire, 0);
});

t.test('a burst of 100 small calls is coalesced into few writes', async (t) => {
  const { server, client } = await setup(t);
  await client.connect();
  const socket = internals(client).transport!.socket as Socket & {
    _write: (...a: unknown[]) => unknown;
    _writev?: (...a: unknown[]) => unknown;
  };
  let writes = 0;
  const w1 = socket._write;
  socket._write = function (this: unknown, ...a: unknown[]) {
    writes++;
    return w1.apply(this, a);
  };
  const wv = socket._writev;
  if (wv) {
    socket._writev = function (this: unknown, ...a: unknown[]) {
      writes++;
      return wv.apply(this, a);
    };
  }
  const dataBefore = server.dataEvents;
  const results = await Promise.all(Array.from({ length: 100 }, (_, i) => echo(client, i)));
  t.same(results, Array.from({ length: 100 }, (_, i) => i + 1));
  t.ok(writes >= 1 && writes < 10, `100 calls left in ${writes} socket writes`);
  t.ok(server.dataEvents - dataBefore < 100, `server read them in ${server.dataEvents - dataBefore} chunks`);
});

t.test('per-call timeout; a late reply is counted and dropped', async (t) => {
  const { server, client } = await setup(t);
  // The server must hold the call before its deadline fires (a call whose
  // deadline fires while queued is never sent): 250 ms leaves room for a busy
  // machine, where 30 ms once expired before the write.
  const call = hold(client, { timeout: 250 });
  await server.waitForCalls(1);
  const err = await t.rejects(call, { name: 'RpcDeadlineError', code: 'ETIMEDOUT', deadlineMs: 250, message: /TEST_PROC_2: no reply from 127\.0\.0\.1:\d+ within 250 ms/ });
  t.type(err, RpcDeadlineError, 'a deadline, not a major timeout');
  t.type(err, RpcTimeoutError, 'still a timeout for callers that test for one');
  t.equal(client.pending, 0, 'the xid was removed');
  t.equal(client.stats.timeouts, 1);
  t.equal(internals(client).onWire, 0, 'its slot was given back');
  server.calls[0]!.reply(u32(1));
  await until(t, () => client.stats.unknownXids === 1, 'late reply counted');
  t.equal(await echo(client, 5), 6, 'the connection still works');
  t.equal(client.stats.connects, 1);
});

t.test('a call that times out while queued leaves no trace and is never sent', async (t) => {
  const { server, client } = await setup(t, echoHandler, { maxInFlight: 1 });
  const first = hold(client);
  await server.waitForCalls(1);
  const queued = echo(client, 1, { timeout: 20 });
  await t.rejects(queued, { code: 'ETIMEDOUT' });
  t.equal(client.pending, 1, 'only the held call is pending');
  server.calls[0]!.reply();
  await first;
  t.equal(client.pending, 0);
  t.equal(await echo(client, 2), 3, 'the window is free again');
  t.same(
    server.calls.map((c) => c.proc),
    [HOLD, ECHO],
    'the timed-out call never reached the server',
  );
  t.same(server.calls[1]!.args, u32(2));
});

t.test('timeouts beyond 2^31-1 ms or Infinity do not fire at once', async (t) => {
  const { server, client } = await setup(t, () => undefined);
  const calls = [echo(client, 1, { timeout: 2 ** 32 }), echo(client, 2, { timeout: Infinity }), echo(client, 3, { timeout: 0 })];
  await server.waitForCalls(3);
  await sleep(30); // well past the 1 ms node would use for an overflowing delay
  for (const c of server.calls) c.reply(u32(9));
  t.same(await Promise.all(calls), [9, 9, 9]);
  t.equal(client.stats.timeouts, 0);
});

t.test('AbortSignal aborts a pending call, on the wire or queued', async (t) => {
  const { server, client } = await setup(t, echoHandler, { maxInFlight: 1 });
  const ac = new AbortController();
  const p = hold(client, { signal: ac.signal });
  await server.waitForCalls(1);
  const ac2 = new AbortController();
  const queued = echo(client, 1, { signal: ac2.signal });
  ac2.abort();
  await t.rejects(queued, { name: 'AbortError', code: 'ABORT_ERR' });
  ac.abort(new Error('user gave up'));
  await t.rejects(p, { name: 'AbortError', cause: { message: 'user gave up' } });
  t.equal(client.pending, 0);
  await t.rejects(echo(client, 1, { signal: AbortSignal.abort() }), { name: 'AbortError' }, 'already aborted');
  t.equal(await echo(client, 7), 8);
  t.same(
    server.calls.map((c) => c.proc),
    [HOLD, ECHO],
    'the aborted queued call and the pre-aborted call were never sent',
  );
  server.calls[0]!.reply();
  await until(t, () => client.stats.unknownXids === 1, 'reply to the aborted call dropped');
});

t.test('connection closed mid-reply: every call in flight rejects, queued calls go out on a new connection', async (t) => {
  let firstConnection = true;
  const { server, client } = await setup(
    t,
    (call) => {
      if (!firstConnection) return u32(call.args.readUInt32BE(0) + 1);
      if (server.calls.length === 3) {
        firstConnection = false;
        const reply = frame(encodeAcceptedReply(server.calls[0]!.xid, SUCCESS, u32(1)));
        call.conn.send(reply.subarray(0, 10)); // half a record
        setImmediate(() => call.conn.destroy());
      }
      return undefined;
    },
    { maxInFlight: 3 },
  );
  const inFlight = [echo(client, 1), echo(client, 2), echo(client, 3)];
  const queued = [echo(client, 4), echo(client, 5)];
  const settled = await Promise.allSettled(inFlight);
  for (const s of settled) {
    t.equal(s.status, 'rejected');
    if (s.status === 'rejected') {
      t.type(s.reason, RpcConnectionError);
      t.match(s.reason, { code: 'ECONNRESET', address: '127.0.0.1', port: server.port, message: /TEST_PROC_1: connection to 127\.0\.0\.1:\d+ lost with the call in flight/ });
    }
  }
  t.same(await Promise.all(queued), [5, 6], 'queued calls were sent on a fresh connection');
  t.equal(await echo(client, 10), 11, 'a later call succeeds');
  t.equal(server.connectionCount, 2);
  t.equal(client.stats.connects, 2);
  t.equal(client.pending, 0);
  t.equal(internals(client).onWire, 0);
});

t.test('the server closing an idle connection: the next call reconnects', async (t) => {
  const { server, client } = await setup(t);
  t.equal(await echo(client, 1), 2);
  server.dropConnections();
  await until(t, () => internals(client).transport === undefined, 'client saw the close');
  t.equal(await echo(client, 2), 3);
  t.equal(server.connectionCount, 2);
});

t.test('an oversize reply record resets the connection; calls reject with a typed error', async (t) => {
  const { server, client } = await setup(
    t,
    (call) => {
      if (call.proc !== ECHO) return undefined;
      if (call.args.readUInt32BE(0) === 666) {
        call.replyRaw(encodeAcceptedReply(call.xid, SUCCESS, Buffer.alloc(4096)));
        return undefined;
      }
      return u32(call.args.readUInt32BE(0) + 1);
    },
    { maxRecordSize: 1024 },
  );
  const other = hold(client);
  const big = echo(client, 666);
  for (const p of [big, other] as Promise<unknown>[]) {
    const err = await t.rejects(p, { ...CONN_ERROR, code: 'ERR_RPC_RECORD', cause: { name: 'RpcRecordError', message: /4120 bytes exceeds the maximum of 1024/ } });
    t.type(err, RpcConnectionError);
  }
  t.equal(await echo(client, 1), 2, 'reconnected');
  t.equal(server.connectionCount, 2);
});

t.test('a reply record mark claiming 2 GiB resets the connection', async (t) => {
  const { server, client } = await setup(t, (call) => {
    call.conn.send(u32(0xffffffff));
    call.drop();
  });
  await t.rejects(echo(client, 1), { ...CONN_ERROR, code: 'ERR_RPC_RECORD' });
  t.equal(server.calls.length, 1);
});

t.test('replies with unknown xids, or that are not replies, are dropped and counted', async (t) => {
  const { server, client } = await setup(t, (call) => {
    call.conn.sendRecord(encodeAcceptedReply((call.xid + 12345) >>> 0, SUCCESS, u32(0)));
    call.conn.sendRecord(u32(call.xid, 0 /* CALL, not REPLY */, 0, 0, 0, 0));
    call.conn.sendRecord(Buffer.from([1, 2, 3])); // too short for xid + msg_type
    call.reply(u32(77));
  });
  t.equal(await echo(client, 1), 77);
  t.equal(client.stats.unknownXids, 2);
  t.equal(client.stats.badReplies, 1);
  t.equal(client.stats.replies, 1);
});

t.test('a reply its decoder cannot read rejects that call only', async (t) => {
  const { server, client } = await setup(t, () => undefined);
  const good = echo(client, 1);
  const bad = echo(client, 2);
  const weird = client.call(label(ECHO), (w) => w.u32(3), () => {
    throw undefined; // eslint-disable-line no-throw-literal
  });
  const nullish = client.call(label(ECHO), (w) => w.u32(4), () => {
    throw null; // eslint-disable-line no-throw-literal
  });
  await server.waitForCalls(4);
  const [g, b, w, n] = server.calls;
  b!.reply(Buffer.from([0, 0])); // 2 bytes where a uint32 belongs
  w!.reply(u32(0));
  n!.reply(u32(0));
  g!.reply(u32(41));
  const err = await t.rejects(bad, { name: 'XdrDecodeError', code: 'ERR_XDR_DECODE', message: /^TEST_PROC_1: XDR: truncated reading echo/ });
  t.type(err, XdrDecodeError);
  const outcome = (p: Promise<unknown>) => p.then((v) => ({ resolved: v }), (e: unknown) => ({ rejected: e }));
  t.same(await outcome(weird), { rejected: undefined }, 'a decoder throwing undefined rejects, it does not resolve');
  t.same(await outcome(nullish), { rejected: null });
  t.equal(await good, 41, 'the other call on the same connection is unaffected');
  t.equal(client.stats.badReplies, 1);
  t.equal(client.stats.connects, 1, 'no reconnect');

  // Trailing bytes after the results are caught by the decoder's done().
  const trailing = echo(client, 5);
  await server.waitForCalls(5);
  server.calls[4]!.reply(u32(1, 2));
  await t.rejects(trailing, { code: 'ERR_XDR_DECODE', message: /trailing bytes after echo reply/ });
});

t.test('RPC-level errors surface typed', async (t) => {
  const outcome = new Map<number, (c: FakeCall) => void>([
    [10, (c) => c.replyAccepted(PROG_UNAVAIL)],
    [11, (c) => c.replyAccepted(PROG_MISMATCH, { low: 2, high: 3 })],
    [12, (c) => c.replyAccepted(PROC_UNAVAIL)],
    [13, (c) => c.replyAccepted(GARBAGE_ARGS)],
    [14, (c) => c.replyAccepted(SYSTEM_ERR)],
    [15, (c) => c.replyRpcMismatch(2, 2)],
    [16, (c) => c.replyAuthError(2)],
  ]);
  const { client } = await setup(t, (c) => outcome.get(c.proc)!(c));
  const run = (proc: number) => client.call(label(proc), null, () => 'never');
  await t.rejects(run(10), { name: 'RpcAcceptedError', code: 'ERR_RPC_PROG_UNAVAIL', message: /TEST_PROC_10: PROG_UNAVAIL/ });
  const mm = await t.rejects(run(11), { code: 'ERR_RPC_PROG_MISMATCH', mismatch: { low: 2, high: 3 } });
  t.type(mm, RpcAcceptedError);
  await t.rejects(run(12), { code: 'ERR_RPC_PROC_UNAVAIL' });
  await t.rejects(run(13), { code: 'ERR_RPC_GARBAGE_ARGS' });
  await t.rejects(run(14), { code: 'ERR_RPC_SYSTEM_ERR' });
  await t.rejects(run(15), { name: 'RpcDeniedError', code: 'ERR_RPC_MISMATCH', mismatch: { low: 2, high: 2 } });
  const auth = await t.rejects(run(16), { code: 'ERR_RPC_AUTH_ERROR', authStat: 2, message: /AUTH_ERROR AUTH_REJECTEDCRED/ });
  t.type(auth, RpcDeniedError);
  t.equal(client.stats.connects, 1, 'RPC errors do not cost the connection');
  t.equal(client.pending, 0);
});

t.test('an encoder that throws rejects the call and sends nothing', async (t) => {
  const { server, client } = await setup(t);
  const p = client.call(label(ECHO), () => {
    throw new RangeError('bad argument');
  }, () => 0);
  t.type(p, Promise, 'returns a promise, does not throw');
  await t.rejects(p, { name: 'RangeError', message: 'bad argument' });
  t.equal(client.pending, 0);
  t.equal(await echo(client, 1), 2);
  t.equal(server.calls.length, 1);
});

t.test('connect to a closed port: RpcConnectionError ECONNREFUSED naming host:port', async (t) => {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const client = new RpcClient({ host: '127.0.0.1', port });
  t.teardown(() => client.close());
  const calls = [echo(client, 1), echo(client, 2)];
  for (const p of calls) {
    const err = await t.rejects(p, { ...CONN_ERROR, code: 'ECONNREFUSED', address: '127.0.0.1', port, message: new RegExp(`127\\.0\\.0\\.1:${port}`) });
    t.type(err, RpcConnectionError);
  }
  await t.rejects(client.connect(), { code: 'ECONNREFUSED' });
  t.equal(client.pending, 0);
});

t.test('connect timeout to a non-routable address', async (t) => {
  const client = new RpcClient({ host: '10.255.255.1', port: 2049, connectTimeout: 200 });
  t.teardown(() => client.close());
  const err = await t.rejects(echo(client, 1));
  t.type(err, RpcConnectionError, 'a connection error, whatever the sandbox network does');
  t.match(err, { address: '10.255.255.1', port: 2049, message: /10\.255\.255\.1:2049/ });
  if ((err as RpcConnectionError).code === 'ETIMEDOUT') t.match(err, { message: /no answer within 200 ms/ });
  t.equal(client.pending, 0);
});

t.test('close() rejects everything pending, sends nothing queued, releases its socket', async (t) => {
  const { server, client } = await setup(t, echoHandler, { maxInFlight: 2 });
  const calls = [hold(client), hold(client), echo(client, 1), echo(client, 2), echo(client, 3)];
  await server.waitForCalls(2);
  const settled = Promise.allSettled(calls);
  const closing = client.close();
  t.equal(client.close(), closing, 'close is idempotent');
  await closing;
  for (const s of await settled) {
    t.equal(s.status, 'rejected');
    if (s.status === 'rejected') {
      t.type(s.reason, RpcClosedError);
      t.equal(s.reason.code, 'ERR_RPC_CLOSED');
    }
  }
  t.equal(client.pending, 0);
  await until(t, () => server.connections.size === 0, 'the server saw the connection close');
  t.equal(server.calls.length, 2, 'calls still queued at close() never reached the server');
  await t.rejects(echo(client, 9), { name: 'RpcClosedError' }, 'calls after close() reject');
  await t.rejects(client.connect(), { name: 'RpcClosedError' });
});

t.test('close() while connecting abandons the attempt', async (t) => {
  // A listener with a backlog that never accepts would still complete the TCP
  // handshake, so race close() against a connect in the same tick instead.
  const server = await FakeRpcServer.start();
  t.teardown(() => server.close());
  const client = new RpcClient({ host: server.host, port: server.port });
  const p = echo(client, 1);
  const c = client.connect();
  await client.close();
  await t.rejects(p, { name: 'RpcClosedError' });
  await t.rejects(c, { name: 'RpcClosedError' });
  t.equal(server.calls.length, 0);
  t.equal(client.stats.connects, 0, 'the attempt never became a connection');

  const slow = new RpcClient({ host: '10.255.255.1', port: 2049, connectTimeout: 60_000 });
  const q = echo(slow, 1);
  await slow.close(); // must not wait out the 60 s connect timeout
  await t.rejects(q, { name: 'RpcClosedError' });
});

t.test('no handles leak after close', async (t) => {
  const count = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TCPServerWrap').length;
  const before = count();
  const server = await FakeRpcServer.start(echoHandler);
  const client = new RpcClient({ host: server.host, port: server.port, timeout: 60_000 });
  t.equal(await echo(client, 1), 2);
  const socket = internals(client).transport!.socket as Socket & { _handle: unknown };
  const pending = hold(client).catch((e: unknown) => e);
  await server.waitForCalls(2);
  await client.close();
  t.type(await pending, RpcClosedError);
  t.ok(socket.destroyed, 'client socket destroyed');
  t.equal(socket._handle, null, 'and its handle released by the time close() resolves');
  await server.close();
  // Earlier tests' sockets may still be closing, so "no more than before".
  await until(t, () => count() <= before, 'sockets released');
  t.ok(count() <= before, 'no TCP handles left behind');
});

t.test('a server that never closes its side does not keep the client alive', async (t) => {
  const server = await FakeRpcServer.start(echoHandler, { allowHalfOpen: true });
  t.teardown(() => server.close());
  const client = new RpcClient({ host: server.host, port: server.port });
  t.equal(await echo(client, 1), 2);
  const socket = internals(client).transport!.socket;
  await client.close();
  t.ok(socket.destroyed, 'the client socket is gone although the server kept its side open');
  t.equal(internals(client).transport, undefined);
});

t.test('xids wrap past 2^32-1 and skip ones still pending', async (t) => {
  const { server, client } = await setup(t);
  internals(client).xid = 0xfffffffd;
  t.same(await Promise.all([echo(client, 1), echo(client, 2), echo(client, 3), echo(client, 4)]), [2, 3, 4, 5]);
  t.same(
    server.calls.map((c) => c.xid),
    [0xfffffffe, 0xffffffff, 0, 1],
  );
  // A call stuck on xid 2; after a wrap back to it, the next call must skip it.
  const stuck = hold(client);
  await server.waitForCalls(5);
  t.equal(server.calls[4]!.xid, 2);
  internals(client).xid = 1;
  t.equal(await echo(client, 10), 11);
  t.equal(server.calls[5]!.xid, 3, 'xid 2 is still pending, so it was skipped');
  server.calls[4]!.reply();
  await stuck;
});

t.test('backpressure: a server that stops reading holds calls in the queue, then all complete', async (t) => {
  const n = 32;
  const size = 1 << 20;
  const { server, client } = await setup(t, (call) => u32(call.args.readUInt32BE(0), call.args.length));
  let conn: { socket: Socket } | undefined;
  server.onConnection = (c) => {
    conn = c;
    c.socket.pause();
  };
  const payload = Buffer.alloc(size, 0xab);
  const calls = Array.from({ length: n }, (_, i) =>
    client.call(
      label(ECHO),
      (w) => w.u32(i).opaque(payload),
      (r) => [r.u32(), r.u32()],
    ),
  );
  await until(t, () => conn !== undefined, 'connected');
  // Let the kernel buffers fill and the socket report backpressure.
  let stable = 0;
  let last = -1;
  await until(
    t,
    () => {
      const now = internals(client).onWire;
      stable = now === last && internals(client).transport?.writable === false ? stable + 1 : 0;
      last = now;
      return stable >= 10;
    },
    'client stalled on a full socket',
  );
  t.ok(internals(client).onWire < n, `only ${internals(client).onWire} of ${n} calls handed to the socket while it is full`);
  t.equal(client.pending, n);
  conn!.socket.resume();
  const results = await Promise.all(calls);
  t.ok(
    results.every(([i, len], k) => i === k && len === 8 + size),
    'every call arrived whole and in order',
  );
  t.equal(server.calls.length, n);
});

t.test('maxInFlight must be a positive integer', async (t) => {
  t.throws(() => new RpcClient({ host: '127.0.0.1', port: 1, maxInFlight: 0 }), RangeError);
  t.throws(() => new RpcClient({ host: '127.0.0.1', port: 1, maxInFlight: 1.5 }), RangeError);
});
