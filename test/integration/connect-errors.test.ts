// connect() failures over the real network (loopback only): refused ports,
// silent servers, unreachable backlogs, missing exports, bad options, and
// the URL/options merge checked against the real NFS-Ganesha. Every failure
// must be a typed error naming where it went wrong, and nothing may be left
// running (tap must exit on its own).
import t from 'tap';
import { spawn } from 'node:child_process';
import { createServer, connect as netConnect, type AddressInfo, type Server, type Socket } from 'node:net';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from '../../src/connect.js';
import { InvalidArgError, MountError, RpcConnectionError, RpcTimeoutError } from '../../src/errors.js';
import { RpcClient } from '../../src/rpc/client.js';
import { pmapGetport, PMAP_PORT } from '../../src/portmap/portmap.js';
import { MOUNT_PROGRAM, MOUNT_V3 } from '../../src/mount/mount.js';
import { NFS_PROGRAM, NFS_V3 } from '../../src/nfs3/index.js';
import type { ConnectOptions } from '../../src/options.js';
import { EXPORT_DIR, NFS_URL, uniqueName, urlWith } from './_env.js';

const host = new URL(NFS_URL).hostname.replace(/^\[|\]$/g, '');
const hostPort = (port: number) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

// ---- helpers: ports and servers on loopback ----

function listen(s: Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.listen(port, host, () => resolve((s.address() as AddressInfo).port));
  });
}

/** A port nothing listens on: bound once by us, then released. */
async function closedPort(): Promise<number> {
  const s = createServer();
  const port = await listen(s);
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Accepts connections, reads what it is sent, never answers. Counts connections. */
async function silentServer(t: { teardown(fn: () => unknown): void }) {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((c) => {
    connections++;
    sockets.add(c);
    c.on('close', () => sockets.delete(c));
    c.on('error', () => {});
    c.resume();
  });
  const port = await listen(server);
  t.teardown(async () => {
    for (const c of sockets) c.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return {
    port,
    get connections() {
      return connections;
    },
    /** Connections still open from the client side (a leak if > 0 once connect() has settled). */
    get open() {
      return sockets.size;
    },
  };
}

/** Settles a promise into its rejection, failing the test if it resolved. */
async function failure(p: Promise<{ close(): Promise<void> }>): Promise<unknown> {
  try {
    const c = await p;
    await c.close();
  } catch (err) {
    return err;
  }
  throw new Error('connect() resolved; expected it to fail');
}

/** Lets closed sockets release their handles before counting them. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

const openSockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TCPWRAP').length;

// The server may be (re)starting when this file begins: wait for rpcbind to list it.
const pmap = new RpcClient({ host, port: PMAP_PORT, timeout: 10_000 });
let mountPort = 0;
let nfsPort = 0;
for (let i = 0; i < 60 && (mountPort === 0 || nfsPort === 0); i++) {
  if (i > 0) await new Promise((r) => setTimeout(r, 500));
  mountPort = await pmapGetport(pmap, MOUNT_PROGRAM, MOUNT_V3);
  nfsPort = await pmapGetport(pmap, NFS_PROGRAM, NFS_V3);
}
await pmap.close();

// ---- nothing listening ----

t.test('ECONNREFUSED from rpcbind names host:port', async (t) => {
  const port = await closedPort();
  const err = await failure(connect(NFS_URL, { portmapPort: port }));
  t.ok(err instanceof RpcConnectionError, `RpcConnectionError: ${(err as Error).message}`);
  t.match(err, { code: 'ECONNREFUSED', address: host, port });
  t.ok((err as Error).message.includes(hostPort(port)), (err as Error).message);
});

t.test('ECONNREFUSED from the MOUNT port names host:port', async (t) => {
  const port = await closedPort();
  const err = await failure(connect(urlWith('', `mountport=${port}`)));
  t.ok(err instanceof RpcConnectionError);
  t.match(err, { code: 'ECONNREFUSED', address: host, port });
  t.ok((err as Error).message.includes(hostPort(port)), (err as Error).message);
});

t.test('ECONNREFUSED from the NFS port names host:port (after a successful MNT)', async (t) => {
  const port = await closedPort();
  const err = await failure(connect(urlWith('', `nfsport=${port}&mountport=${mountPort}`)));
  t.ok(err instanceof RpcConnectionError);
  t.match(err, { code: 'ECONNREFUSED', address: host, port });
  t.ok((err as Error).message.includes(hostPort(port)), (err as Error).message);
});

t.test('the URL port is the NFS port; options.nfsport overrides it', async (t) => {
  const port = await closedPort();
  const u = new URL(urlWith(''));
  u.port = String(port);
  const err = await failure(connect(u.href));
  t.match(err, { code: 'ECONNREFUSED', port }, 'the URL port was used for NFS');
  const c = await connect(u.href, { nfsport: nfsPort });
  t.teardown(() => c.close());
  t.equal(c.version, '3');
});

// ---- a server that accepts and never answers ----

t.test('a silent rpcbind: per-call timeout (timeo=2&retrans=0) is ETIMEDOUT naming host:port', async (t) => {
  const silent = await silentServer(t);
  const err = await failure(connect(urlWith('', 'timeo=2&retrans=0'), { portmapPort: silent.port }));
  t.ok(err instanceof RpcTimeoutError, `RpcTimeoutError: ${(err as Error).message}`);
  t.match(err, { code: 'ETIMEDOUT', name: 'RpcDeadlineError' });
  t.ok((err as Error).message.includes(hostPort(silent.port)), (err as Error).message);
  t.match((err as Error).message, /PMAPPROC_GETPORT/, 'names the call that timed out');
  t.equal(silent.connections, 1);
  await settle();
  t.equal(silent.open, 0, 'the connection to the silent server was closed');
});

t.test('a silent MOUNT service: ETIMEDOUT naming host:port, nothing left open', async (t) => {
  const silent = await silentServer(t);
  const err = await failure(connect(urlWith('', `timeo=2&retrans=0&mountport=${silent.port}&nfsport=${nfsPort}`)));
  t.ok(err instanceof RpcTimeoutError);
  t.match(err, { code: 'ETIMEDOUT' });
  t.ok((err as Error).message.includes(hostPort(silent.port)), (err as Error).message);
  await settle();
  t.equal(silent.open, 0);
});

t.test('connect timeout: a listener whose backlog is full never completes the handshake', async (t) => {
  // Node accepts every connection it is offered, so the listener that never
  // accepts is a python3 one-liner with listen(0): once one connection sits in
  // its accept queue, Linux drops further SYNs and connect() hangs.
  const py = spawn('python3', ['-c', "import socket,sys\ns=socket.socket()\ns.bind((sys.argv[1],0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\nsys.stdin.read()", host], {
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  const port = await new Promise<number | undefined>((resolve) => {
    py.once('error', () => resolve(undefined));
    py.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
    py.once('exit', () => resolve(undefined));
  });
  t.teardown(() => {
    py.stdin?.end();
    if (py.exitCode === null) py.kill();
  });
  if (!port) {
    t.skip('python3 is not available to hold a full backlog', () => {});
    return;
  }
  // Fill the backlog until a connection stays pending.
  const fillers: Socket[] = [];
  t.teardown(() => fillers.forEach((s) => s.destroy()));
  let full = false;
  for (let i = 0; i < 8 && !full; i++) {
    const s = netConnect({ host, port });
    s.on('error', () => {});
    fillers.push(s);
    full = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(true), 300);
      s.once('connect', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
  }
  t.ok(full, 'the backlog filled up');
  if (!full) return;
  const err = await failure(connect(NFS_URL, { portmapPort: port, connectTimeout: 300 }));
  t.ok(err instanceof RpcConnectionError, `RpcConnectionError: ${(err as Error).message}`);
  t.match(err, { code: 'ETIMEDOUT', address: host, port });
  t.ok((err as Error).message.includes(hostPort(port)), (err as Error).message);
  t.match((err as Error).message, /within 300 ms/);
});

// ---- exports and paths that are not there ----

t.test('an export that does not exist is a MountError naming the path', async (t) => {
  const u = new URL(NFS_URL);
  u.pathname = '/no-such-export-xyz';
  u.search = '';
  const err = await failure(connect(u.href));
  t.ok(err instanceof MountError, `MountError: ${(err as Error).message}`);
  if (!(err instanceof MountError)) return;
  // Ganesha answers MNT3ERR_ACCES for an unknown export; others MNT3ERR_NOENT.
  t.match(err.status, /^MNT3ERR_(NOENT|ACCES|PERM)$/);
  t.equal(err.code, { MNT3ERR_NOENT: 'ENOENT', MNT3ERR_ACCES: 'EACCES', MNT3ERR_PERM: 'EPERM' }[err.status]);
  t.equal(err.path, '/no-such-export-xyz');
  t.match(err.message, /'\/no-such-export-xyz'/);
});

t.test('a directory below the export that does not exist is ENOENT naming the path', async (t) => {
  const sub = 'no-such-dir-' + uniqueName('x');
  const err = await failure(connect(urlWith(sub)));
  const path = new URL(urlWith(sub)).pathname;
  t.match(err, { code: 'ENOENT', errno: -2, syscall: 'mount', path, nfsStatus: 'NFS3ERR_NOENT' });
  t.equal((err as Error).message, `ENOENT: no such file or directory, mount '${path}'`);
});

t.test('a file below the export is ENOTDIR naming the path', async (t) => {
  const name = uniqueName('connect-notdir');
  try {
    await writeFile(join(EXPORT_DIR, name), 'x');
  } catch (err) {
    t.skip(`cannot write into ${EXPORT_DIR} here: ${(err as Error).message}`, () => {});
    return;
  }
  t.teardown(() => rm(join(EXPORT_DIR, name), { force: true }));
  const err = await failure(connect(urlWith(name)));
  t.match(err, { code: 'ENOTDIR', syscall: 'mount', path: new URL(urlWith(name)).pathname });
});

t.test('a mount path below the export works and is the client root', async (t) => {
  const name = uniqueName('connect-subdir');
  try {
    await mkdir(join(EXPORT_DIR, name, 'inner'), { recursive: true });
  } catch (err) {
    t.skip(`cannot write into ${EXPORT_DIR} here: ${(err as Error).message}`, () => {});
    return;
  }
  t.teardown(() => rm(join(EXPORT_DIR, name), { recursive: true, force: true }));
  const c = await connect(urlWith(name));
  t.teardown(() => c.close());
  const root = await c.backend.getattr(c.backend.rootFh);
  t.equal(root.kind, 'directory');
  const inner = await c.backend.lookup(c.backend.rootFh, 'inner');
  t.ok(inner.fh.length > 0, 'a name inside the subdirectory is found from the client root');
});

// ---- options: checked before anything is sent ----

t.test('bad options are refused before any connection', async (t) => {
  const rpcbind = await silentServer(t);
  const bad: [ConnectOptions | Record<string, unknown>, string, RegExp][] = [
    [{ uid: 'x' }, 'ERR_INVALID_ARG_TYPE', /The "options.uid" property must be an integer. Received type string \('x'\)/],
    [{ gid: 1.5 }, 'ERR_INVALID_ARG_TYPE', /options.gid/],
    [{ timeo: '10' }, 'ERR_INVALID_ARG_TYPE', /options.timeo/],
    [{ gids: 'wheel' }, 'ERR_INVALID_ARG_TYPE', /options.gids/],
    [{ gids: [1, 'x'] }, 'ERR_INVALID_ARG_TYPE', /options.gids\[1\]/],
    [{ gids: Array.from({ length: 65537 }, (_, i) => i) }, 'ERR_OUT_OF_RANGE', /options.gids" is out of range. It must be <= 65536/],
    [{ machineName: 5 }, 'ERR_INVALID_ARG_TYPE', /options.machineName/],
    [{ readonly: 'yes' }, 'ERR_INVALID_ARG_TYPE', /options.readonly/],
    [{ version: 3 }, 'ERR_INVALID_ARG_TYPE', /options.version/],
    [{ version: '5' }, 'ERR_INVALID_ARG_VALUE', /options.version' must be one of/],
    [{ uid: -1 }, 'ERR_OUT_OF_RANGE', /options.uid" is out of range/],
    [{ nfsport: 70000 }, 'ERR_OUT_OF_RANGE', /options.nfsport" is out of range. It must be >= 1 && <= 65535/],
    [{ mountport: 0 }, 'ERR_OUT_OF_RANGE', /options.mountport/],
    [{ maxInFlight: 0 }, 'ERR_OUT_OF_RANGE', /options.maxInFlight" is out of range. It must be >= 1/],
    [{ umask: 0o1000 }, 'ERR_OUT_OF_RANGE', /options.umask/],
    [{ uid: 1, bogus: true }, 'ERR_INVALID_ARG_VALUE', /Unknown option 'bogus'/],
    [{ rsize: 1, Rsize: 2 }, 'ERR_INVALID_ARG_VALUE', /Unknown option 'Rsize'/],
  ];
  for (const [options, code, message] of bad) {
    const err = await failure(connect(NFS_URL, { ...(options as ConnectOptions), portmapPort: rpcbind.port }));
    t.ok(err instanceof InvalidArgError, `${JSON.stringify(options)}: InvalidArgError`);
    t.match(err, { code, message }, JSON.stringify(options));
  }
  for (const options of [null, 'uid=1', 5]) {
    const err = await failure(connect(NFS_URL, options as unknown as ConnectOptions));
    t.match(err, { code: 'ERR_INVALID_ARG_TYPE', message: /The "options" argument must be of type object/ }, String(options));
  }
  t.equal(rpcbind.connections, 0, 'nothing was sent');
});

t.test('maxInFlight: 0 does not leave the MOUNT connection open', async (t) => {
  // Regression: the check used to happen in RpcClient's constructor, after
  // MNT had opened the MOUNT connection, which then kept the process alive.
  const before = openSockets();
  const err = await failure(connect(NFS_URL, { maxInFlight: 0 }));
  t.match(err, { code: 'ERR_OUT_OF_RANGE' });
  await settle();
  t.equal(openSockets(), before, 'no socket left behind');
});

t.test('a bad URL is refused before any connection', async (t) => {
  for (const [u, re] of [
    ['http://127.0.0.1/export', /scheme must be nfs:/],
    ['nfs:///export', /no host/],
    ['nfs://127.0.0.1/export?rsize=big', /rsize must be an integer/],
    ['nfs://127.0.0.1/export?bogus=1', /unknown argument 'bogus'/],
    ['nfs://127.0.0.1/export?version=5', /version must be one of/],
  ] as const) {
    const err = await failure(connect(u));
    t.match(err, { code: 'ERR_INVALID_URL', message: re }, u);
  }
});

t.test('NFSv4 versions mount without rpcbind or MOUNT; version=4 picks the highest the server accepts', async (t) => {
  const rpcbind = await silentServer(t);
  for (const v of ['4', '4.0', '4.1', '4.2'] as const) {
    const viaUrl = await connect(urlWith('', `version=${v}`), { portmapPort: rpcbind.port });
    t.equal(viaUrl.version, v === '4' ? '4.2' : v, `URL version=${v}`);
    await viaUrl.close();
    const viaOptions = await connect(NFS_URL, { version: v, portmapPort: rpcbind.port });
    t.equal(viaOptions.version, v === '4' ? '4.2' : v, `options.version ${v}`);
    await viaOptions.close();
  }
  t.equal(rpcbind.connections, 0, 'rpcbind was never asked');
  const refused = await failure(connect(NFS_URL, { version: '4.1', nfsport: (await silentServer(t)).port, connectTimeout: 2000, timeo: 5, retrans: 0, soft: true }));
  t.match(refused, { name: /RpcTimeoutError|RpcDeadlineError|RpcConnectionError/ }, 'a v4 server that never answers is a typed error, not a hang');
});

// ---- options in code override the URL (checked on the real server) ----

t.test('options override URL arguments', async (t) => {
  const c = await connect(urlWith('', 'rsize=65536'), { rsize: 131072 });
  t.teardown(() => c.close());
  t.equal(c.backend.limits.rsize, 131072, 'options.rsize wins over the URL');

  const small = await connect(urlWith('', 'rsize=4096&wsize=8192'), { rsize: 16384 });
  t.teardown(() => small.close());
  t.equal(small.backend.limits.rsize, 16384, 'the option');
  t.equal(small.backend.limits.wsize, 8192, 'the URL argument the options left alone');

  const undef = await connect(urlWith('', 'rsize=65536'), { rsize: undefined });
  t.teardown(() => undef.close());
  t.equal(undef.backend.limits.rsize, 65536, 'an option set to undefined does not erase the URL value');
});

t.test('options override a bad URL-given port', async (t) => {
  const closed = await closedPort();
  const c = await connect(urlWith('', `mountport=${closed}`), { mountport: mountPort });
  t.teardown(() => c.close());
  t.equal(c.version, '3');
});

t.test('nothing is left running', async (t) => {
  await settle();
  // Our own silent servers are closed by their tests' teardowns; what is left
  // must not include a client socket.
  t.equal(openSockets(), 0, JSON.stringify(process.getActiveResourcesInfo()));
});
