// Regression: with a retry policy, calls waiting in the client's own queue
// for a free slot (maxInFlight) counted timeouts as if they were on the
// wire. A soft call could fail with ETIMEDOUT without ever being sent, and a
// hard one reset a healthy connection, re-sending everything in flight.
// The retry clock now starts when a call first goes out; a call waiting for
// a connection that does not come still times out (soft).
import t from 'tap';
import { RpcClient } from '../../src/rpc/client.js';
import { FakeRpcServer, u32 } from './fake-rpc-server.js';

const label = { prog: 400_125, vers: 1, proc: 1, name: 'TEST_SLOW' };
const call = (c: RpcClient) => c.call(label, null, (r) => r.u32());

for (const hard of [false, true]) {
  t.test(`${hard ? 'hard' : 'soft'}: 200 calls through 2 slots, each answered well within timeo: all succeed, no timeout, no reconnect`, async (t) => {
    // Each call is answered 10 ms after it arrives, 30 times faster than
    // timeo; the last ones wait about 200 / 2 × 10 ms = 1 s in the queue,
    // more than the 300 ms a major timeout takes with retrans 0.
    const server = await FakeRpcServer.start((c) => {
      setTimeout(() => c.reply(u32(1)), 10);
    });
    const client = new RpcClient({ host: server.host, port: server.port, maxInFlight: 2, retry: { timeo: 300, retrans: 0, hard } });
    t.teardown(async () => {
      await client.close();
      await server.close();
    });
    const rs = await Promise.allSettled(Array.from({ length: 200 }, () => call(client)));
    t.equal(rs.filter((r) => r.status === 'fulfilled').length, 200, 'every call succeeded');
    t.equal(client.stats.timeouts, 0, 'no major timeout');
    t.equal(client.stats.reconnects, 0, 'no reconnect');
    t.equal(server.calls.length, 200, 'each sent once');
    t.equal(client.pending, 0);
  });
}

t.test('soft: a call waiting for a connection that never comes still ends with ETIMEDOUT', async (t) => {
  const server = await FakeRpcServer.start(() => u32(1));
  const port = server.port;
  const client = new RpcClient({ host: server.host, port, retry: { timeo: 50, retrans: 1, hard: false } });
  t.teardown(() => client.close());
  t.equal(await call(client), 1);
  await server.close(); // refused from now on: the call is never sent
  await t.rejects(call(client), { code: 'ETIMEDOUT' });
  t.equal(client.pending, 0);
});
