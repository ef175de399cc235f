// Sidecar configuration (flags over environment, sizes, durations, the
// loopback rule), token auth, and the Prometheus rendering.
import t from 'tap';
import { presentedSecret, TokenAuth } from '../../src/sidecar/auth.js';
import { ConfigError, isLoopback, parseDuration, parseHostPort, parseSize, resolveConfig } from '../../src/sidecar/config.js';
import { channel } from 'node:diagnostics_channel';
import { RPC_CHANNELS } from '../../src/rpc/diagnostics.js';
import { Counter, Histogram, Registry, rpcOwnerOf, wireBackend } from '../../src/sidecar/metrics.js';
import { SidecarMetrics } from '../../src/sidecar/sidecar-metrics.js';

const noFile = async () => {
  throw new Error('ENOENT: no such file');
};

t.test('token auth: Bearer, Basic password, anything else refused', async (t) => {
  const a = new TokenAuth('s3cret');
  t.ok(a.check('Bearer s3cret'));
  t.ok(a.check('bearer s3cret'), 'scheme is case-insensitive');
  t.ok(a.check('Basic ' + Buffer.from('anyone:s3cret').toString('base64')));
  t.ok(a.check('Basic ' + Buffer.from(':s3cret').toString('base64')), 'empty user name');
  t.notOk(a.check(undefined));
  t.notOk(a.check(''));
  t.notOk(a.check('Bearer s3cre'));
  t.notOk(a.check('Bearer s3cret2'), 'a longer token is not a match');
  t.notOk(a.check('Bearer S3CRET'));
  t.notOk(a.check('Basic ' + Buffer.from('s3cret:wrong').toString('base64')), 'the token is the password, not the user');
  t.notOk(a.check('Basic ' + Buffer.from('s3cret').toString('base64')), 'no colon, no password');
  t.notOk(a.check('Digest s3cret'));
  t.notOk(a.check('s3cret'));
  t.notOk(a.check('Bearer s3cret extra'));
  t.equal(presentedSecret('Basic ' + Buffer.from('u:p:with:colons').toString('base64')), 'p:with:colons');
  t.throws(() => new TokenAuth(''));
});

t.test('sizes, durations, addresses', async (t) => {
  t.equal(parseSize('1024', 'x'), 1024);
  t.equal(parseSize('64k', 'x'), 65536);
  t.equal(parseSize('10M', 'x'), 10 * 1024 ** 2);
  t.equal(parseSize('1GiB', 'x'), 1024 ** 3);
  t.equal(parseSize('1.5g', 'x'), 1.5 * 1024 ** 3);
  t.throws(() => parseSize('lots', 'x'), ConfigError);
  t.equal(parseDuration('500ms', 'x'), 500);
  t.equal(parseDuration('30s', 'x'), 30_000);
  t.equal(parseDuration('2m', 'x'), 120_000);
  t.equal(parseDuration('10', 'x'), 10_000, 'bare numbers are seconds');
  t.throws(() => parseDuration('soon', 'x'), ConfigError);
  t.same(parseHostPort('127.0.0.1:8080', 'x'), { host: '127.0.0.1', port: 8080 });
  t.same(parseHostPort('[::1]:9090', 'x'), { host: '::1', port: 9090 });
  t.same(parseHostPort(':81', 'x'), { host: '127.0.0.1', port: 81 });
  t.same(parseHostPort('8081', 'x'), { host: '127.0.0.1', port: 8081 });
  t.throws(() => parseHostPort('host', 'x'), ConfigError);
  t.throws(() => parseHostPort('h:99999', 'x'), ConfigError);
  for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '::ffff:127.0.0.1']) t.ok(isLoopback(h), h);
  for (const h of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '128.0.0.1']) t.notOk(isLoopback(h), h);
});

t.test('defaults, flags over environment', async (t) => {
  const c = await resolveConfig(new Map(), { NFS_URL: 'nfs://h/export' }, noFile);
  t.match(c, { url: 'nfs://h/export', listen: { host: '127.0.0.1', port: 8080 }, adminListen: undefined, token: undefined, readOnly: false, maxBody: 1024 ** 3, maxConcurrent: 256, log: 'json' });
  const env = { MOUNTLESS_URL: 'nfs://env/x', MOUNTLESS_LISTEN: '127.0.0.1:1', MOUNTLESS_READ_ONLY: 'true', MOUNTLESS_MAX_BODY: '5M', MOUNTLESS_IDLE_TIMEOUT: '2m', NFS_URL: 'nfs://ignored/x' };
  const e = await resolveConfig(new Map(), env, noFile);
  t.match(e, { url: 'nfs://env/x', listen: { port: 1 }, readOnly: true, maxBody: 5 * 1024 ** 2, idleTimeout: 120_000 });
  const f = await resolveConfig(
    new Map<string, string | true>([
      ['url', 'nfs://flag/x'],
      ['listen', '127.0.0.1:2'],
      ['read-only', true],
      ['admin-listen', '0.0.0.0:9090'],
    ]),
    { ...env, MOUNTLESS_READ_ONLY: 'false' },
    noFile,
  );
  t.match(f, { url: 'nfs://flag/x', listen: { port: 2 }, readOnly: true, adminListen: { host: '0.0.0.0', port: 9090 } });
  await t.rejects(resolveConfig(new Map(), {}, noFile), ConfigError, 'no URL');
  await t.rejects(resolveConfig(new Map([['log', 'xml']]), { NFS_URL: 'nfs://h/x' }, noFile), ConfigError);
  await t.rejects(resolveConfig(new Map([['max-concurrent', '0']]), { NFS_URL: 'nfs://h/x' }, noFile), ConfigError);
});

t.test('a non-loopback listen address needs a token', async (t) => {
  const base = { NFS_URL: 'nfs://h/x' };
  await t.rejects(resolveConfig(new Map([['listen', '0.0.0.0:8080']]), base, noFile), { name: 'ConfigError', message: /without a token/ });
  await t.rejects(resolveConfig(new Map([['listen', '10.1.2.3:8080']]), { ...base, MOUNTLESS_TOKEN: '   ' }, noFile), ConfigError, 'a blank token is no token');
  const c = await resolveConfig(new Map([['listen', '0.0.0.0:8080']]), { ...base, MOUNTLESS_TOKEN: 'tok\n' }, noFile);
  t.equal(c.token, 'tok');
  const fromFile = await resolveConfig(new Map([['listen', '0.0.0.0:8080'], ['token-file', '/run/secrets/t']]), base, async (p) => (p === '/run/secrets/t' ? 'filetok\n' : ''));
  t.equal(fromFile.token, 'filetok', 'the file wins, trailing newline dropped');
  await t.rejects(resolveConfig(new Map([['token-file', '/x']]), base, async () => '\n'), { message: /empty/ });
  await t.rejects(resolveConfig(new Map([['token-file', '/x']]), base, noFile), { message: /--token-file \/x/ });
});

t.test('Prometheus text format', async (t) => {
  const r = new Registry();
  const c = r.add(new Counter('x_total', 'Things.'));
  c.inc({ method: 'GET', status: '200' });
  c.inc({ method: 'GET', status: '200' }, 2);
  c.inc({ path: 'a"b\\c\nd' });
  const h = r.add(new Histogram('lat_seconds', 'Latency.', [0.1, 1]));
  h.observe(0.05, { op: 'read' });
  h.observe(0.5, { op: 'read' });
  h.observe(5, { op: 'read' });
  const text = r.render();
  t.match(text, '# HELP x_total Things.\n# TYPE x_total counter\n');
  t.match(text, 'x_total{method="GET",status="200"} 3\n');
  t.match(text, 'x_total{path="a\\"b\\\\c\\nd"} 1\n', 'label values escaped');
  t.match(text, '# TYPE lat_seconds histogram\n');
  t.match(text, 'lat_seconds_bucket{op="read",le="0.1"} 1\nlat_seconds_bucket{op="read",le="1"} 2\nlat_seconds_bucket{op="read",le="+Inf"} 3\n');
  t.match(text, 'lat_seconds_sum{op="read"} 5.55\nlat_seconds_count{op="read"} 3\n');
  t.match(new Counter('empty_total', 'None yet.').render(), 'empty_total 0\n');
});

t.test("RPC metrics: the backend's owner is found through its layers, and only its messages count", async (t) => {
  class Inner {
    rpc = { opts: { owner: 17 } };
  }
  class Outer {
    constructor(readonly inner: Inner) {}
  }
  const inner = new Inner();
  t.equal(wireBackend(new Outer(inner)), inner);
  t.equal(rpcOwnerOf(new Outer(inner)), 17);
  t.equal(rpcOwnerOf({}), undefined, 'no RPC client: nothing to watch');

  const m = new SidecarMetrics(() => 0);
  t.teardown(() => m.stop());
  m.watchBackend(new Outer(inner));
  const call = { xid: 1, prog: 100003, vers: 3, proc: 6, name: 'NFSPROC3_READ', bytes: 100 };
  for (const owner of [17, 18]) {
    channel(RPC_CHANNELS.callStart).publish({ owner, connection: owner + 100, ...call });
    channel(RPC_CHANNELS.callSettle).publish({ owner, connection: owner + 100, ...call, outcome: 'ok', error: undefined, duration: 2, replyBytes: 4100, retransmits: 0 });
  }
  channel(RPC_CHANNELS.callSettle).publish({ owner: 17, connection: 117, ...call, outcome: 'timeout', error: new Error('t'), duration: 9, replyBytes: undefined, retransmits: 2 });
  channel(RPC_CHANNELS.callRetransmit).publish({ owner: 17, connection: 117, ...call, retransmits: 1 });
  channel(RPC_CHANNELS.connect).publish({ owner: 17, connection: 118, host: 'h', port: 2049, reconnect: true });
  channel(RPC_CHANNELS.replyDropped).publish({ owner: 17, connection: 118, reason: 'unknown-xid', bytes: 28 });
  channel(RPC_CHANNELS.replyDropped).publish({ owner: 18, connection: 118, reason: 'unknown-xid', bytes: 28 });
  const text = m.render();
  t.match(text, 'mountless_nfs_rpc_total{event="calls"} 1\n');
  t.match(text, 'mountless_nfs_rpc_total{event="replies"} 1\n');
  t.match(text, 'mountless_nfs_rpc_total{event="timeouts"} 1\n');
  t.match(text, 'mountless_nfs_rpc_total{event="retransmits"} 1\n');
  t.match(text, 'mountless_nfs_rpc_total{event="reconnects"} 1\n');
  t.match(text, 'mountless_nfs_rpc_total{event="unknownXids"} 1\n');
  t.match(text, 'mountless_nfs_rpc_total{event="badReplies"} 0\n');
  t.match(text, 'mountless_nfs_reconnects_total 1\n');
  t.match(text, 'mountless_nfs_calls_total{op="NFSPROC3_READ",result="ok"} 1\n');
  t.match(text, 'mountless_nfs_calls_total{op="NFSPROC3_READ",result="timeout"} 1\n');
  t.match(text, 'mountless_nfs_call_duration_seconds_count{op="NFSPROC3_READ"} 2\n');
  t.match(text, 'mountless_nfs_rpc_bytes_total{direction="sent"} 100\n');
  t.match(text, 'mountless_nfs_rpc_bytes_total{direction="received"} 4100\n');
  m.stop();
  channel(RPC_CHANNELS.callStart).publish({ owner: 17, connection: 117, ...call });
  t.match(m.render(), 'mountless_nfs_rpc_total{event="calls"} 1\n', 'nothing counted after stop()');
});
