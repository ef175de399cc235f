// Operating the sidecar: /healthz, /readyz, /metrics, one JSON log line per
// request, draining on close, and `mountless serve` as a process that drains
// and exits 0 on SIGTERM (built CLI: run `npm run build` first).
import t from 'tap';
import { spawn } from 'node:child_process';
import { connect as netConnect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { connect, type NfsClient } from '../../src/index.js';
import type { RpcClient } from '../../src/rpc/client.js';
import { wireBackend } from '../../src/sidecar/metrics.js';
import { truncate, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { eventually, metrics, request, startSidecar } from './_sidecar.js';
import { scratch, urlWith } from './_env.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

t.test('healthz, readyz and metrics on the admin address', async (t) => {
  const r = await startSidecar(t, { 'admin-listen': '127.0.0.1:0' });
  const a = r.adminPort!;
  t.equal((await request(a, 'GET', '/healthz')).text, 'ok\n');
  const ready = await request(a, 'GET', '/readyz');
  t.equal(ready.status, 200);
  t.match(JSON.parse(ready.text), { ok: true, status: 'ok' });
  t.equal((await request(a, 'GET', '/nope')).status, 404);
  t.equal((await request(a, 'POST', '/healthz')).status, 405);
  t.equal((await request(r.port, 'GET', '/healthz')).status, 404, 'not on the data address');

  await request(r.port, 'PUT', '/m.bin', { body: Buffer.alloc(12345, 7) });
  await request(r.port, 'GET', '/m.bin');
  await request(r.port, 'GET', '/missing');
  const m = await metrics(a);
  t.match(m, /mountless_http_requests_total\{method="PUT",status="201"\} 1\n/);
  t.match(m, /mountless_http_requests_total\{method="GET",status="200"\} 1\n/);
  t.match(m, /mountless_http_requests_total\{method="GET",status="404"\} 2\n/, "/missing and /healthz on the data port");
  t.match(m, /mountless_http_request_duration_seconds_bucket\{method="GET",le="\+Inf"\} 3\n/);
  t.match(m, /mountless_http_request_bytes_total 12345\n/);
  const out = Number(/mountless_http_response_bytes_total (\d+)/.exec(m)?.[1]);
  t.ok(out >= 12345, `bytes out counted (${out})`);
  // Procedures by their RPC names: NFSPROC3_WRITE over v3, `NFSv4 COMPOUND write` over v4.
  t.match(m, /mountless_nfs_calls_total\{op="(?:NFSPROC3_WRITE|NFSv4 COMPOUND write)",result="ok"\} [1-9]/);
  t.match(m, /mountless_nfs_calls_total\{op="(?:NFSPROC3_READ|NFSv4 COMPOUND read)",result="ok"\} [1-9]/);
  t.match(m, /mountless_nfs_calls_total\{op="(?:NFSPROC3_LOOKUP|NFSv4 COMPOUND [a-z_]+)",result="ok"\} [1-9]/, 'the lookup of /missing: an NFS error is a reply');
  t.match(m, /mountless_nfs_call_duration_seconds_count\{op="(?:NFSPROC3_COMMIT|NFSv4 COMPOUND commit)"\} [1-9]/);
  t.match(m, /# TYPE mountless_nfs_rpc_total counter\n/);
  t.match(m, /mountless_nfs_rpc_total\{event="calls"\} [1-9]/);
  t.match(m, /mountless_nfs_rpc_total\{event="replies"\} [1-9]/);
  t.match(m, /mountless_nfs_rpc_total\{event="timeouts"\} 0\n/);
  t.match(m, /mountless_nfs_rpc_bytes_total\{direction="received"\} \d{5,}\n/, "the GET's READ replies");
  t.match(m, /mountless_nfs_reconnects_total 0\n/);
  t.match(m, /process_resident_memory_bytes \d+/);
  t.match(m, /mountless_dav_locks 0\n/);
});

t.test("under nconnect=4, /metrics counts the RPC calls of every connection, and no other client's", async (t) => {
  const r = await startSidecar(t, { 'admin-listen': '127.0.0.1:0' }, {}, 'nconnect=4');
  const conns = connectionsOf(r.nfs);
  t.equal(conns.length, 4, 'four connections');
  const before = totals(conns);
  // Another client in the same process: its calls must not show up.
  const other = await connect(urlWith(r.s.dir));
  t.teardown(() => other.close());
  const data = Buffer.alloc(3 * 1024 * 1024, 5);
  const names = Array.from({ length: 8 }, (_, k) => `/n${k}.bin`);
  // Concurrent transfers, so calls spread over the connections (the least busy one gets the next call).
  t.same(
    (await Promise.all(names.map((n) => request(r.port, 'PUT', n, { body: data })))).map((x) => x.status),
    names.map(() => 201),
  );
  const got = await Promise.all(names.map((n) => request(r.port, 'GET', n)));
  t.ok(
    got.every((g) => g.body.equals(data)),
    'read back',
  );
  await other.readdir("/");
  await other.writeFile("/other.txt", "x");
  // Read the metrics between two identical snapshots of the clients' own counters (nothing in flight).
  let m = '';
  let now: Record<string, number> = {};
  for (let k = 0; k < 50; k++) {
    now = totals(conns);
    m = await metrics(r.adminPort!);
    if (JSON.stringify(totals(conns)) === JSON.stringify(now) && conns.every((c) => c.pending === 0)) break;
  }
  const used = conns.filter((c, k) => c.stats.calls > before.perConn[k]!);
  t.ok(used.length > 1, `calls went over ${used.length} connections`);
  const metric = (event: string) => Number(new RegExp(`mountless_nfs_rpc_total\\{event="${event}"\\} (\\d+)\n`).exec(m)?.[1]);
  for (const event of ['calls', 'replies', 'retransmits', 'unknownXids', 'badReplies']) {
    t.equal(metric(event), now[event]! - before.sum[event]!, `${event}: the sum over the four connections since the sidecar started`);
  }
  t.ok(metric('calls') > 0);
  const byOp = [...m.matchAll(/^mountless_nfs_calls_total\{[^}]*\} (\d+)$/gm)].reduce((a, x) => a + Number(x[1]), 0);
  t.equal(byOp, metric('calls'), 'calls by procedure add up to the calls');
});

/** The RPC connections of a client's backend (test-only look inside: nfs3 `conns`, nfs4 `rpc` + `extraRpcs`). */
function connectionsOf(nfs: NfsClient): RpcClient[] {
  const w = wireBackend(nfs.backend) as { conns?: RpcClient[]; rpc: RpcClient; extraRpcs?: RpcClient[] };
  return w.conns ?? [w.rpc, ...(w.extraRpcs ?? [])];
}

function totals(conns: RpcClient[]): Record<string, number> & { sum: Record<string, number>; perConn: number[] } {
  const sum: Record<string, number> = {};
  for (const c of conns) for (const [k, v] of Object.entries(c.stats)) sum[k] = (sum[k] ?? 0) + v;
  return Object.assign({ ...sum }, { sum, perConn: conns.map((c) => c.stats.calls) });
}

t.test('a client that hangs up mid-download is a client abort (499), not a server error, in the log and in /metrics', async (t) => {
  const r = await startSidecar(t, { 'admin-listen': '127.0.0.1:0' });
  await writeFile(join(r.volLocal, 'big.bin'), Buffer.alloc(48 * 1024 * 1024, 1));
  const got = await new Promise<number>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: r.port, path: '/big.bin', agent: false }, (res) => {
      let n = 0;
      res.on('data', (c: Buffer) => {
        n += c.length;
        // Gone mid-body: the socket is destroyed with most of the file unsent.
        if (n >= 1024 * 1024) {
          req.destroy();
          resolve(n);
        }
      });
      res.on('error', () => {});
    });
    req.on('error', (e) => (e.message === 'socket hang up' ? undefined : reject(e)));
    req.end();
  });
  t.ok(got < 48 * 1024 * 1024, 'the client read only part of the body');
  await eventually(async () => r.logs.some((l) => l.msg === 'request' && l.path === '/big.bin'), 'the request is logged');
  // Let the handler see the hang-up and finish.
  await eventually(async () => r.sidecar.services.metrics.inflight.render().includes('in_flight 0'), 'the handler is done');
  const line = r.logs.find((l) => l.msg === 'request' && l.path === '/big.bin');
  t.match(line, { level: 'info', method: 'GET', status: 499, aborted: true, statusSent: 200 });
  t.same(
    r.logs.filter((l) => l.level === 'error'),
    [],
    'no error logged',
  );
  const m = await metrics(r.adminPort!);
  t.match(m, /mountless_http_requests_total\{method="GET",status="499"\} 1\n/);
  t.match(m, /mountless_http_requests_aborted_total\{method="GET"\} 1\n/);
  t.notMatch(m, /mountless_http_requests_total\{[^}]*status="5\d\d"\}/, 'no 5xx counted');
  t.notMatch(m, /mountless_http_requests_total\{method="GET",status="200"\}/, 'nor a 200 for a response that did not complete');
  t.equal((await request(r.port, 'GET', '/big.bin', { headers: { Range: 'bytes=0-3' } })).status, 206, 'the sidecar still serves');
});

t.test('a response the sidecar cuts short itself (the file shrank mid-download) keeps its error status in the log and in /metrics', async (t) => {
  const r = await startSidecar(t, { 'admin-listen': '127.0.0.1:0' });
  const local = join(r.volLocal, 'shrinks.bin');
  await writeFile(local, Buffer.alloc(48 * 1024 * 1024, 2));
  const received = await new Promise<number>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: r.port, path: '/shrinks.bin', agent: false }, (res) => {
      let n = 0;
      let truncated = false;
      res.on('data', (c: Buffer) => {
        n += c.length;
        if (!truncated && n >= 1024 * 1024) {
          truncated = true;
          // Hold the download while another client cuts the file to 2 MiB, then read on.
          res.pause();
          void truncate(local, 2 * 1024 * 1024).then(() => res.resume(), reject);
        }
      });
      res.on('error', () => resolve(n));
      res.on('close', () => resolve(n));
    });
    req.on('error', () => undefined);
    req.end();
  });
  t.ok(received < 48 * 1024 * 1024, 'the body was cut short');
  await eventually(async () => r.logs.some((l) => l.msg === 'request' && l.path === '/shrinks.bin'), 'the request is logged');
  t.match(
    r.logs.find((l) => l.msg === 'request' && l.path === '/shrinks.bin'),
    { method: 'GET', status: 500, cut: true },
  );
  t.notOk(r.logs.find((l) => l.msg === 'request' && l.path === '/shrinks.bin')!.aborted, 'not a client abort');
  t.ok(
    r.logs.some((l) => l.level === 'warn' && /shrank/.test(String(l.msg))),
    'the reason is logged',
  );
  const m = await metrics(r.adminPort!);
  t.match(m, /mountless_http_requests_total\{method="GET",status="500"\} 1\n/);
  t.notMatch(m, /mountless_http_requests_aborted_total\{/, 'no client abort counted');
});

t.test('one JSON log line per request', async (t) => {
  const r = await startSidecar(t);
  await request(r.port, 'PUT', '/l.txt', { body: 'abc', headers: { 'X-Request-Id': 'req-42' } });
  await request(r.port, 'GET', '/l.txt');
  const lines = r.logs.filter((l) => l.msg === 'request');
  t.equal(lines.length, 2);
  t.match(lines[0], { level: 'info', id: 'req-42', method: 'PUT', path: '/l.txt', status: 201, bytesIn: 3 });
  t.match(lines[1], { method: 'GET', status: 200, bytesOut: 3, remote: '127.0.0.1' });
  t.type(lines[1]!.ms, 'number');
  t.match(r.logs[0], { msg: 'listening', auth: 'none' });
});

t.test('close() drains: the request in flight finishes, new ones are refused', async (t) => {
  const r = await startSidecar(t, { 'admin-listen': '127.0.0.1:0' });
  const sock = netConnect(r.port, '127.0.0.1');
  await new Promise((res) => sock.once('connect', res));
  sock.write('PUT /drain.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nabc');
  let reply = '';
  sock.on('data', (d) => (reply += d));
  for (let k = 0; k < 100 && !/in_flight 1/.test(await metrics(r.adminPort!)); k++) await new Promise((res) => setTimeout(res, 20));
  const closing = r.sidecar.close();
  let closed = false;
  void closing.then(() => (closed = true));
  const ready = await request(r.adminPort!, 'GET', '/readyz');
  t.equal(ready.status, 503, 'not ready while draining');
  t.match(JSON.parse(ready.text), { status: 'draining' });
  await t.rejects(request(r.port, 'GET', '/'), { code: 'ECONNREFUSED' }, 'no new connections');
  t.notOk(closed, 'close() waits for the request in flight');
  const sockClosed = new Promise((res) => sock.once('close', res));
  sock.write('def');
  await closing;
  await sockClosed;
  t.match(reply, /^HTTP\/1.1 201 Created\r\n/, 'the in-flight upload completed');
  t.match(reply, /Connection: close/i, 'and its connection was closed');
  t.equal(await r.nfs.readFile('/drain.txt', 'utf8'), 'abcdef');
  t.same(
    r.logs.map((l) => l.msg),
    ['listening', 'draining', 'request', 'stopped'],
  );
});

t.test('`mountless serve` drains and exits 0 on SIGTERM', async (t) => {
  const s = await scratch(t, 'serve');
  const child = spawn(process.execPath, [CLI, 'serve', '--url', urlWith(s.dir), '--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => child.kill('SIGKILL'));
  let err = '';
  const lines: Array<Record<string, unknown>> = [];
  const listening = new Promise<Record<string, unknown>>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      err += d;
      const parts = err.split('\n');
      err = parts.pop()!;
      for (const p of parts) {
        const j = JSON.parse(p) as Record<string, unknown>;
        lines.push(j);
        if (j.msg === 'listening') resolve(j);
      }
    });
    child.on('exit', (code) => reject(new Error(`serve exited early with ${code}: ${err}`)));
  });
  const l = await listening;
  const port = Number(String(l.address).split(':').pop());
  const adminPort = Number(String(l.admin).split(':').pop());
  t.equal((await request(port, 'PUT', '/via-cli.txt', { body: 'hi' })).status, 201);
  t.equal((await request(adminPort, 'GET', '/readyz')).status, 200);
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  t.equal(await exit, 0, 'exit status 0');
  t.same(
    lines.map((x) => x.msg),
    ['listening', 'request', 'signal', 'draining', 'stopped'],
    'admin requests are not logged',
  );
  t.match(lines.find((x) => x.msg === 'request'), { method: 'PUT', path: '/via-cli.txt', status: 201 });
  t.equal(await s.nfs.readFile(s.at('via-cli.txt'), 'utf8'), 'hi');
});

t.test('`mountless serve` refuses a public address without a token, and bad flags', async (t) => {
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    new Promise<{ code: number | null; err: string }>((resolve) => {
      const c = spawn(process.execPath, [CLI, 'serve', ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      c.stderr.on('data', (d) => (err += d));
      c.on('exit', (code) => resolve({ code, err }));
    });
  const pub = await run(['--url', 'nfs://127.0.0.1/export', '--listen', '0.0.0.0:0']);
  t.equal(pub.code, 2);
  t.match(pub.err, /refusing to listen on 0\.0\.0\.0 without a token/);
  const nourl = await run([]);
  t.equal(nourl.code, 2);
  t.match(nourl.err, /no volume URL/);
  const bad = await run(['--url', 'nfs://127.0.0.1/export', '--max-body', 'huge']);
  t.equal(bad.code, 2);
  const unknown = await run(['--frobnicate']);
  t.equal(unknown.code, 2);
  t.match(unknown.err, /unknown option --frobnicate/);
  const nomount = await run(['--url', 'nfs://127.0.0.1/no-such-export-here', '--listen', '127.0.0.1:0']);
  t.equal(nomount.code, 1);
  t.match(nomount.err, /cannot mount nfs:\/\/127\.0\.0\.1\/no-such-export-here/);
});
