// resvport: connections from a privileged source port, the same one again
// after a reconnect (the server's duplicate request cache is keyed by it),
// another when it is taken, and what happens when none is free.
import t from 'tap';
import { createServer, type Server } from 'node:net';
import { RpcClient } from '../../src/rpc/client.js';
import { ReservedPort, RESVPORT_ERROR, RESVPORT_MAX, RESVPORT_MIN, RESVPORT_WARNING } from '../../src/rpc/resvport.js';
import { FakeRpcServer, u32 } from './fake-rpc-server.js';

const label = { prog: 400_124, vers: 1, proc: 1, name: 'TEST_ECHO' };
const call = (c: RpcClient) => c.call(label, (w) => void w.u32(1), (r) => r.u32());
const retry = { timeo: 10_000, retrans: 2, hard: true };

const taken = (code: string) => Object.assign(new Error(`connect ${code}`), { code });

t.test('ReservedPort: the last port first, then each other privileged port; taken ports are skipped', async (t) => {
  const rp = new ReservedPort('required');
  const tried: (number | undefined)[] = [];
  const first = await rp.dial(async (p) => {
    tried.push(p);
    if (tried.length < 3) throw taken(tried.length === 1 ? 'EADDRINUSE' : 'EADDRNOTAVAIL');
    return p;
  }, 'h', 1);
  t.equal(tried.length, 3, 'two taken ports skipped');
  t.ok(tried.every((p) => p !== undefined && p >= RESVPORT_MIN && p <= RESVPORT_MAX), 'only privileged ports');
  t.equal(new Set(tried).size, 3, 'each port tried once');
  t.equal(rp.last, first);
  const again: (number | undefined)[] = [];
  await rp.dial(async (p) => (again.push(p), p), 'h', 1);
  t.same(again, [first], 'a reconnect tries the same port first');
});

t.test('ReservedPort: a server error is not a taken port; it ends the search', async (t) => {
  const rp = new ReservedPort('required');
  let n = 0;
  await t.rejects(rp.dial(async () => { n++; throw taken('ECONNREFUSED'); }, 'h', 1), { code: 'ECONNREFUSED' });
  t.equal(n, 1);
});

t.test('ReservedPort: none free, required: a named error; preferred: an ordinary port and one warning', async (t) => {
  let n = 0;
  await t.rejects(new ReservedPort('required').dial(async () => { n++; throw taken('EADDRNOTAVAIL'); }, 'nas', 2049), { code: RESVPORT_ERROR, message: /no privileged source port.*512 to 1023/ });
  t.equal(n, RESVPORT_MAX - RESVPORT_MIN + 1, 'every privileged port tried once');
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on('warning', onWarning);
  t.teardown(() => void process.off('warning', onWarning));
  const used = await new ReservedPort('preferred').dial(async (p) => {
    if (p !== undefined) throw taken('EADDRINUSE');
    return 'ephemeral';
  }, 'nas', 2049);
  t.equal(used, 'ephemeral');
  await new Promise((r) => setImmediate(r));
  t.equal(warnings.filter((w) => (w as { code?: string }).code === RESVPORT_WARNING).length, 1, 'says so');
});

t.test('ReservedPort: EACCES (not root) stops at once', async (t) => {
  let n = 0;
  await t.rejects(new ReservedPort('required').dial(async () => { n++; throw taken('EACCES'); }, 'nas', 2049), { code: RESVPORT_ERROR, message: /needs root or CAP_NET_BIND_SERVICE/ });
  t.equal(n, 1);
});

const root = process.getuid?.() === 0;

t.test('a real connection comes from a port below 1024, and a reconnect from the same port', { skip: !root && 'binding ports below 1024 needs root' }, async (t) => {
  const ports: number[] = [];
  const server = await FakeRpcServer.start((c) => {
    ports.push(c.conn.socket.remotePort!);
    return u32(7);
  });
  const client = new RpcClient({ host: server.host, port: server.port, resvport: 'required', retry });
  t.teardown(async () => {
    await client.close();
    await server.close();
  });
  t.equal(await call(client), 7);
  // The server hangs up: its side of the pair waits in TIME_WAIT, ours is free again.
  server.dropConnections();
  await new Promise((r) => setTimeout(r, 50));
  t.equal(await call(client), 7);
  t.equal(client.stats.reconnects, 1);
  t.equal(ports.length, 2);
  t.ok(ports[0]! < 1024, `source port ${ports[0]} is privileged`);
  t.equal(ports[1], ports[0], 'the reconnect reused the source port');
});

t.test('a reconnect whose port is taken meanwhile gets another privileged one', { skip: !root && 'binding ports below 1024 needs root' }, async (t) => {
  const ports: number[] = [];
  const server = await FakeRpcServer.start((c) => {
    ports.push(c.conn.socket.remotePort!);
    return u32(7);
  });
  const client = new RpcClient({ host: server.host, port: server.port, resvport: 'required', retry });
  let squatter: Server | undefined;
  t.teardown(async () => {
    await client.close();
    await server.close();
    await new Promise((r) => (squatter ? squatter.close(r) : r(undefined)));
  });
  await call(client);
  server.dropConnections();
  await new Promise((r) => setTimeout(r, 50));
  // A listener on the same port: bind refuses it even with SO_REUSEADDR.
  squatter = createServer();
  await new Promise<void>((resolve, reject) => squatter!.once('error', reject).listen(ports[0], '0.0.0.0', resolve));
  await call(client);
  t.ok(ports[1]! < 1024, 'still privileged');
  t.not(ports[1], ports[0], 'another port');
});

t.test('without resvport the source port is an ordinary one', async (t) => {
  const ports: number[] = [];
  const server = await FakeRpcServer.start((c) => {
    ports.push(c.conn.socket.remotePort!);
    return u32(7);
  });
  const client = new RpcClient({ host: server.host, port: server.port });
  t.teardown(async () => {
    await client.close();
    await server.close();
  });
  await call(client);
  t.ok(ports[0]! >= 1024);
});
