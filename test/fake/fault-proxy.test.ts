// The fault proxy itself, in front of the in-process fake RPC server: each
// mode does what it says, records are counted and mutated whole, and cut()
// resets both sides. The integration tests trust it with the real server.
import t, { type Test } from 'tap';
import { RpcClient, type RpcClientOptions } from '../../src/rpc/client.js';
import { FakeRpcServer, u32 } from './fake-rpc-server.js';
import { FaultProxy } from './fault-proxy.js';

const ECHO = { prog: 400_200, vers: 1, proc: 1, name: 'TEST_ECHO' };
const echo = (c: RpcClient, v: number, timeout = 30_000) =>
  c.call(
    ECHO,
    (w) => w.u32(v),
    (r) => r.u32(),
    { timeout },
  );
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function setup(t: Test, opts: Partial<RpcClientOptions> = {}) {
  const server = await FakeRpcServer.start((call) => u32(call.args.readUInt32BE(0) + 1));
  const proxy = await FaultProxy.start({ port: server.port });
  const client = new RpcClient({ host: proxy.host, port: proxy.port, ...opts });
  t.teardown(async () => {
    await client.close();
    await proxy.close();
    await server.close();
  });
  return { server, proxy, client };
}

t.test('pass: bytes and records counted both ways', async (t) => {
  const { proxy, client } = await setup(t);
  const got = await Promise.all(Array.from({ length: 50 }, (_, i) => echo(client, i)));
  t.same(got, Array.from({ length: 50 }, (_, i) => i + 1));
  t.equal(proxy.stats.up.records, 50);
  t.equal(proxy.stats.down.records, 50);
  t.equal(proxy.stats.up.bytesIn, proxy.stats.up.bytesOut);
  t.equal(proxy.stats.down.bytesIn, proxy.stats.down.bytesOut);
  t.equal(proxy.stats.connections, 1);
});

t.test('split: tiny chunks, one per event-loop turn, reassembled by the client', async (t) => {
  const { server, proxy, client } = await setup(t);
  proxy.split('both', { seed: 7, maxChunk: 3 });
  const got = await Promise.all(Array.from({ length: 20 }, (_, i) => echo(client, i)));
  t.same(got, Array.from({ length: 20 }, (_, i) => i + 1));
  t.ok(server.dataEvents > 20, `the server read the calls in ${server.dataEvents} pieces`);
});

t.test('delay: order kept', async (t) => {
  const { proxy, client } = await setup(t);
  proxy.delay('both', 50);
  const got = await Promise.all(Array.from({ length: 10 }, (_, i) => echo(client, i)));
  t.same(got, Array.from({ length: 10 }, (_, i) => i + 1));
  t.equal(proxy.stats.down.bytesOut, proxy.stats.down.bytesIn);
});

t.test('drop: a blackhole; pass again: later calls work', async (t) => {
  const { proxy, client } = await setup(t);
  t.equal(await echo(client, 1), 2);
  proxy.drop('down');
  await t.rejects(echo(client, 2, 200), { code: 'ETIMEDOUT' });
  t.ok(proxy.stats.down.bytesDropped > 0);
  proxy.pass('down');
  t.equal(await echo(client, 3), 4);
});

t.test('stall then resume: nothing lost, nothing reordered', async (t) => {
  const { server, proxy, client } = await setup(t);
  t.equal(await echo(client, 0), 1);
  proxy.stall('both');
  const p = Promise.all(Array.from({ length: 10 }, (_, i) => echo(client, i)));
  await sleep(100);
  t.equal(server.calls.length, 1, 'stalled calls not yet forwarded');
  proxy.resume('both');
  t.same(await p, Array.from({ length: 10 }, (_, i) => i + 1));
});

t.test('cut: both sides reset; a retrying client re-sends on a new connection', async (t) => {
  const { server, proxy, client } = await setup(t, { retry: { timeo: 30_000, retrans: 2, hard: true } });
  t.equal(await echo(client, 0), 1);
  proxy.stall('down');
  const p = Promise.all(Array.from({ length: 5 }, (_, i) => echo(client, i)));
  await server.waitForCalls(6);
  t.equal(proxy.cut(), 1);
  proxy.pass('down');
  t.same(await p, [1, 2, 3, 4, 5]);
  t.equal(client.stats.reconnects, 1);
  t.equal(proxy.stats.connections, 2);
});

t.test('mutate: drop, duplicate, reorder and raw bytes, on whole records', async (t) => {
  const { proxy, client } = await setup(t, { timeout: 500 });
  let held: Buffer | undefined;
  proxy.mutate('down', (rec, info) => {
    switch (info.global) {
      case 0:
        return []; // dropped
      case 1:
        return [rec, rec]; // duplicated
      case 2:
        held = rec; // held back, sent after the next
        return [];
      case 3:
        return [rec, held!];
      case 4:
        return [{ raw: u32(0x7fff_ffff) }]; // a marker near 2 GiB
      default:
        return undefined;
    }
  });
  const r0 = await Promise.allSettled([echo(client, 0, 300)]);
  t.equal(r0[0]!.status, 'rejected', 'the dropped reply: a timeout');
  t.equal(await echo(client, 1), 2, 'duplicated: the copy is an unknown xid');
  t.equal(client.stats.unknownXids, 1);
  t.same(await Promise.all([echo(client, 2), echo(client, 3)]), [3, 4], 'swapped replies still matched');
  await t.rejects(echo(client, 4), { code: 'ERR_RPC_RECORD' }, 'a 2 GiB marker resets the connection');
  t.equal(await echo(client, 5), 6, 'a new connection, records passed again');
  t.equal(proxy.stats.down.recordsMutated, 5);
});
