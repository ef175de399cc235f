// IPv6: rpcbind v4/v3 GETADDR (universal addresses, 'tcp6') against the
// machine's real rpcbind over ::1, and NFSv4.1 over an IPv6 connection to
// the real NFS-Ganesha. Ganesha here listens on 127.0.0.1 only, so the
// NFS connection goes through a byte relay listening on [::1].
import { createServer, connect as netConnect, type Server } from 'node:net';
import t from 'tap';
import { connect } from '../../src/index.js';
import { lookupTcpPort, rpcbGetaddr, uaddrPort, pmapGetport } from '../../src/portmap/portmap.js';
import { RpcClient } from '../../src/rpc/client.js';
import { NFS_URL, scratch, uniqueName } from './_env.js';

const LOCAL = new URL(NFS_URL).hostname === '127.0.0.1' && !process.env.MOUNTLESS_TEST_URL;
const NFS_PORT = Number(process.env.MOUNTLESS_NFS_PORT ?? 2049);
const MOUNT_PORT = Number(process.env.MOUNTLESS_MOUNT_PORT ?? 20048);

/** Is ::1 usable here (some containers have IPv6 off)? */
async function ipv6Loopback(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(0, '::1', () => s.close(() => resolve(true)));
  });
}

/** A relay: [::1]:port → 127.0.0.1:target. */
async function relay(target: number): Promise<{ port: number; server: Server }> {
  const server = createServer((c) => {
    const up = netConnect(target, '127.0.0.1');
    c.pipe(up).pipe(c);
    c.on('error', () => up.destroy());
    up.on('error', () => c.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '::1', r));
  return { port: (server.address() as { port: number }).port, server };
}

const skip = !LOCAL ? 'needs the local NFS-Ganesha and rpcbind' : !(await ipv6Loopback()) ? 'no IPv6 loopback here' : false;

t.test('rpcbind over IPv6: GETADDR gives the tcp6 registrations as universal addresses', { skip }, async (t) => {
  const pm = new RpcClient({ host: '::1', port: 111, timeout: 5000 });
  t.teardown(() => pm.close());
  const nfs = await rpcbGetaddr(pm, 100003, 3, 'tcp6');
  t.match(nfs, /^[0-9a-f:.]+\.\d+\.\d+$/, `a universal address (${nfs})`);
  t.equal(uaddrPort(nfs), NFS_PORT, 'its port is the NFS port');
  t.equal(uaddrPort(await rpcbGetaddr(pm, 100005, 3, 'tcp6', 3)), MOUNT_PORT, 'rpcbind v3 too');
  t.equal(await rpcbGetaddr(pm, 399_999, 1, 'tcp6'), '', 'an unregistered program is an empty address');
  t.equal(await lookupTcpPort(pm, true, 100003, 3), NFS_PORT, 'lookupTcpPort over IPv6 asks GETADDR');
  t.equal(await lookupTcpPort(pm, true, 399_999, 1), 0);
  t.equal(await pmapGetport(pm, 100003, 3), NFS_PORT, 'v2 GETPORT answers over IPv6 too (IPv4 registrations)');
});

t.test('universal addresses are parsed strictly', async (t) => {
  t.equal(uaddrPort('::1.8.1'), 2049);
  t.equal(uaddrPort('127.0.0.1.78.80'), 20048);
  t.equal(uaddrPort('::ffff:127.0.0.1.8.1'), 2049);
  for (const bad of ['', '::1', '::1.8', '1.2.3.4.256.1', '::1.0.0', 'x.y.z']) t.throws(() => uaddrPort(bad), RangeError, JSON.stringify(bad));
});

t.test('NFSv4.1 over an IPv6 connection: nfs://[::1]:port/export', { skip }, async (t) => {
  const r = await relay(NFS_PORT);
  t.teardown(() => new Promise<void>((res) => r.server.close(() => res())));
  const s = await scratch(t, uniqueName('v6'));
  const path = new URL(NFS_URL).pathname;
  const nfs = await connect(`nfs://[::1]:${r.port}${path}?version=4.1`);
  t.teardown(() => nfs.close());
  await nfs.writeFile(`${s.dir}/over-v6`, 'hello over IPv6');
  t.equal(await nfs.readFile(`${s.dir}/over-v6`, 'utf8'), 'hello over IPv6');
  t.same(await s.nfs.readdir(s.dir), ['over-v6'], 'the other (IPv4) client sees it');
});

t.test('NFSv3 over IPv6 with the ports given (MOUNT and NFS through relays)', { skip }, async (t) => {
  const n = await relay(NFS_PORT);
  const m = await relay(MOUNT_PORT);
  t.teardown(() => Promise.all([n, m].map((x) => new Promise<void>((res) => x.server.close(() => res())))));
  const path = new URL(NFS_URL).pathname;
  const nfs = await connect(`nfs://[::1]${path}?version=3&nfsport=${n.port}&mountport=${m.port}`);
  t.teardown(() => nfs.close());
  t.ok((await nfs.stat('/')).isDirectory());
});
