// The RPC client's diagnostics_channel messages (src/rpc/diagnostics.ts),
// over an in-process fake server: one start and one settle per call with
// the call's facts and outcome, retransmits, connects and dropped replies,
// and an owner shared by connections made from one another's options.
import t, { type Test } from 'tap';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { RpcClient, type RpcClientOptions } from '../../src/rpc/client.js';
import {
  RPC_CHANNELS,
  type RpcCallMessage,
  type RpcCallSettleMessage,
  type RpcConnectMessage,
  type RpcReplyDroppedMessage,
  type RpcRetransmitMessage,
} from '../../src/rpc/diagnostics.js';
import type { XdrReader } from '../../src/xdr/reader.js';
import { encodeAcceptedReply, FakeRpcServer, PROC_UNAVAIL, SUCCESS, u32, type FakeCall, type FakeHandler } from './fake-rpc-server.js';

const PROG = 400_321;
const VERS = 3;
const ECHO = 1;
const HOLD = 2;
const label = (proc: number) => ({ prog: PROG, vers: VERS, proc, name: `TEST_PROC_${proc}` });

/** RPC call header with AUTH_NONE credential and verifier: xid, mtype, rpcvers, prog, vers, proc, 2 × (flavor, length). */
const CALL_HEADER = 40;
/** Accepted reply header with an AUTH_NONE verifier: xid, mtype, reply_stat, flavor, length, accept_stat. */
const REPLY_HEADER = 24;

interface Seen {
  start: RpcCallMessage[];
  settle: RpcCallSettleMessage[];
  retransmit: RpcRetransmitMessage[];
  connect: RpcConnectMessage[];
  dropped: RpcReplyDroppedMessage[];
}

/** Subscribes to every RPC channel for the test's duration. */
function listen(t: Test): Seen {
  const seen: Seen = { start: [], settle: [], retransmit: [], connect: [], dropped: [] };
  const subs: Array<[string, (m: unknown) => void]> = [
    [RPC_CHANNELS.callStart, (m) => seen.start.push(m as RpcCallMessage)],
    [RPC_CHANNELS.callSettle, (m) => seen.settle.push(m as RpcCallSettleMessage)],
    [RPC_CHANNELS.callRetransmit, (m) => seen.retransmit.push(m as RpcRetransmitMessage)],
    [RPC_CHANNELS.connect, (m) => seen.connect.push(m as RpcConnectMessage)],
    [RPC_CHANNELS.replyDropped, (m) => seen.dropped.push(m as RpcReplyDroppedMessage)],
  ];
  for (const [n, f] of subs) subscribe(n, f);
  t.teardown(() => {
    for (const [n, f] of subs) unsubscribe(n, f);
  });
  return seen;
}

const defaultHandler: FakeHandler = (call) => {
  if (call.proc === ECHO) return u32(call.args.readUInt32BE(0) + 1);
  if (call.proc === HOLD) return undefined;
  call.replyAccepted(PROC_UNAVAIL);
};

async function setup(t: Test, handler: FakeHandler = defaultHandler, opts: Partial<RpcClientOptions> = {}) {
  const calls: FakeCall[] = [];
  const server = await FakeRpcServer.start((c) => {
    calls.push(c);
    return handler(c);
  });
  const client = new RpcClient({ host: server.host, port: server.port, timeout: 10_000, ...opts });
  t.teardown(async () => {
    await client.close();
    await server.close();
  });
  return { server, client, calls };
}

function echo(client: RpcClient, v: number, opts?: Parameters<RpcClient['call']>[3]): Promise<number> {
  return client.call(label(ECHO), (w) => w.u32(v), (r: XdrReader) => r.u32('echo'), opts);
}

function call(client: RpcClient, proc: number, opts?: Parameters<RpcClient['call']>[3]): Promise<unknown> {
  return client.call(label(proc), null, () => undefined, opts);
}

t.test('one start and one settle per call, with the call, the connection and the outcome', async (t) => {
  const seen = listen(t);
  const { client, calls } = await setup(t);
  t.equal(await echo(client, 41), 42);
  await t.rejects(call(client, 9), { code: 'ERR_RPC_PROC_UNAVAIL' });
  await t.rejects(call(client, HOLD, { timeout: 30 }), { code: 'ETIMEDOUT' });
  const ac = new AbortController();
  const aborted = call(client, HOLD, { signal: ac.signal });
  ac.abort();
  await t.rejects(aborted, { name: 'AbortError' });
  const mine = (m: { connection: number }) => m.connection === client.id;
  const starts = seen.start.filter(mine);
  const settles = seen.settle.filter(mine);
  t.equal(starts.length, 4, 'four starts');
  t.equal(settles.length, 4, 'four settles');
  t.same(
    starts.map((m) => m.xid),
    settles.map((m) => m.xid),
    'each call settles once, in this order',
  );
  t.match(starts[0], { owner: client.id, connection: client.id, prog: PROG, vers: VERS, proc: ECHO, name: 'TEST_PROC_1', bytes: CALL_HEADER + calls[0]!.args.length });
  t.equal(starts[0]!.xid, calls[0]!.xid, 'the xid on the wire');
  t.same(
    settles.map((m) => m.outcome),
    ['ok', 'error', 'timeout', 'aborted'],
  );
  t.equal(settles[0]!.replyBytes, REPLY_HEADER + 4, 'the reply record: header and one uint32');
  t.equal(settles[0]!.error, undefined);
  t.equal(settles[1]!.replyBytes, REPLY_HEADER, 'PROC_UNAVAIL came as a reply');
  t.match(settles[1]!.error, { code: 'ERR_RPC_PROC_UNAVAIL' });
  t.equal(settles[2]!.replyBytes, undefined, 'no reply to the timed-out call');
  t.match(settles[2]!.error, { code: 'ETIMEDOUT' });
  for (const m of settles) {
    t.type(m.duration, 'number');
    t.ok(m.duration! >= 0);
    t.equal(m.retransmits, 0);
  }
  t.same(
    seen.connect.filter(mine).map((m) => ({ reconnect: m.reconnect, port: m.port })),
    [{ reconnect: false, port: client.opts.port }],
    'one connect',
  );
  t.equal(client.stats.calls, starts.length, 'as many starts as the client counted calls');
  t.equal(client.stats.replies, settles.filter((m) => m.replyBytes !== undefined).length, 'as many replies');
});

t.test('lost and closed: outcomes disconnected and closed; a new connection is a reconnect', async (t) => {
  const seen = listen(t);
  const { server, client } = await setup(t);
  await echo(client, 1);
  const lost = call(client, HOLD);
  await server.waitForCalls(2);
  server.dropConnections();
  await t.rejects(lost, { code: 'ECONNRESET' });
  await echo(client, 2);
  const pending = call(client, HOLD);
  await server.waitForCalls(4);
  const refused = t.rejects(pending, { code: 'ERR_RPC_CLOSED' });
  await client.close();
  await refused;
  const mine = (m: { connection: number }) => m.connection === client.id;
  t.same(
    seen.settle.filter(mine).map((m) => m.outcome),
    ['ok', 'disconnected', 'ok', 'closed'],
  );
  t.same(
    seen.connect.filter(mine).map((m) => m.reconnect),
    [false, true],
  );
});

t.test('retransmits are published as they happen and counted at settle', async (t) => {
  const seen = listen(t);
  let first = true;
  const { client } = await setup(
    t,
    (c) => {
      // The first transmission goes unanswered; the retransmission (same xid) is answered.
      if (first) {
        first = false;
        return undefined;
      }
      return u32(c.args.readUInt32BE(0));
    },
    { retry: { timeo: 40, retrans: 5, hard: false } },
  );
  t.equal(await echo(client, 7), 7);
  const mine = (m: { connection: number }) => m.connection === client.id;
  const rt = seen.retransmit.filter(mine);
  t.ok(rt.length >= 1, 'at least one retransmit');
  t.same(
    rt.map((m) => m.retransmits),
    rt.map((_, i) => i + 1),
    'numbered per call',
  );
  const settle = seen.settle.filter(mine);
  t.equal(settle.length, 1);
  t.equal(settle[0]!.retransmits, client.stats.retransmits, 'the settle counts them as the client does');
  t.equal(settle[0]!.xid, rt[0]!.xid);
});

t.test('replies that match no call are published as dropped', async (t) => {
  const seen = listen(t);
  const { server, client } = await setup(t);
  await echo(client, 1);
  const conn = [...server.connections][0]!;
  conn.sendRecord(encodeAcceptedReply(0xdeadbeef, SUCCESS));
  conn.sendRecord(Buffer.from([1, 2]));
  await echo(client, 2);
  const mine = seen.dropped.filter((m) => m.connection === client.id);
  t.same(
    mine.map((m) => m.reason),
    ['unknown-xid', 'bad-header'],
  );
  t.equal(mine[1]!.bytes, 2);
  t.equal(client.stats.unknownXids, 1);
  t.equal(client.stats.badReplies, 1);
});

t.test('connections made from one another\'s options share an owner; others do not', async (t) => {
  const seen = listen(t);
  const { server, client } = await setup(t);
  const sibling = new RpcClient(client.opts);
  const stranger = new RpcClient({ host: server.host, port: server.port });
  const joined = new RpcClient({ host: server.host, port: server.port, owner: client.opts.owner });
  t.teardown(() => Promise.all([sibling.close(), stranger.close(), joined.close()]));
  await Promise.all([echo(client, 1), echo(sibling, 2), echo(stranger, 3), echo(joined, 4)]);
  const ids = new Set([client.id, sibling.id, stranger.id, joined.id]);
  t.equal(ids.size, 4, 'four connection ids');
  const owners = new Map(seen.start.filter((m) => ids.has(m.connection)).map((m) => [m.connection, m.owner]));
  t.equal(owners.get(client.id), client.id, 'the first connection owns itself');
  t.equal(owners.get(sibling.id), client.id);
  t.equal(owners.get(joined.id), client.id);
  t.equal(owners.get(stranger.id), stranger.id);
});

t.test('no subscriber: the client reads no clock for the settle message', async (t) => {
  const { client } = await setup(t);
  const started: number[] = [];
  const inner = client as unknown as { byXid: Map<number, { started: number }> };
  const p = call(client, HOLD, { timeout: 20 });
  for (const pc of inner.byXid.values()) started.push(pc.started);
  await t.rejects(p);
  t.same(started, [-1]);
});
