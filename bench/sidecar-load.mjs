#!/usr/bin/env node
// Load on the sidecar: N concurrent HTTP clients, each uploading (PUT,
// streamed, chunked) and downloading (GET, streamed, checksummed) its own
// file in a loop, through `mountless serve` running as its own process.
// Samples the sidecar's RSS and heap from its /metrics every second and
// reports whether memory stays flat, plus throughput, latency and errors.
//
//   npm run build && node bench/sidecar-load.mjs [options]
//
//   --url URL        the volume (default $NFS_URL or nfs://127.0.0.1/export);
//                    a scratch directory is made in it and removed after
//   --clients N      concurrent clients (default 200)
//   --size SIZE      bytes per file (default 1M; k/M suffixes)
//   --duration SECS  how long to run (default 60)
//   --json           print the results as JSON
//
// Exit status 0 when every request succeeded and every download matched
// what was uploaded, 1 otherwise.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

function parseArgs(argv) {
  const o = { url: process.env.NFS_URL || 'nfs://127.0.0.1/export', clients: 200, size: 1024 * 1024, duration: 60, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => argv[++i];
    if (a === '--url') o.url = v();
    else if (a === '--clients') o.clients = Number(v());
    else if (a === '--size') o.size = size(v());
    else if (a === '--duration') o.duration = Number(v());
    else if (a === '--json') o.json = true;
    else if (a === '--help' || a === '-h') {
      console.log('usage: node bench/sidecar-load.mjs [--url URL] [--clients N] [--size SIZE] [--duration SECS] [--json]');
      process.exit(0);
    } else {
      console.error(`unknown argument ${a}`);
      process.exit(2);
    }
  }
  return o;
}

function size(s) {
  const m = /^(\d+)([kKmMgG]?)$/.exec(s);
  if (!m) throw new Error(`bad size ${s}`);
  return Number(m[1]) * { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase()];
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** The bytes of a client's file for one iteration, made on the fly: no file is held in memory. */
function* content(client, iter, total) {
  const chunk = 64 * 1024;
  const block = Buffer.alloc(chunk);
  for (let off = 0; off < total; off += chunk) {
    const n = Math.min(chunk, total - off);
    block.fill((client * 31 + iter * 7 + off / chunk) & 0xff, 0, n);
    block.writeUInt32LE(client, 0);
    block.writeUInt32LE(iter, 4);
    yield n === chunk ? Buffer.from(block) : Buffer.from(block.subarray(0, n));
  }
}

function digestOf(client, iter, total) {
  const h = createHash('sha1');
  for (const c of content(client, iter, total)) h.update(c);
  return h.digest('hex');
}

function http(agent, port, method, path, { body, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent, headers }, (res) => {
      const h = createHash('sha1');
      let n = 0;
      res.on('data', (d) => {
        h.update(d);
        n += d.length;
      });
      res.on('end', () => resolve({ status: res.statusCode, digest: h.digest('hex'), bytes: n }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (!body) return req.end();
    // Stream the body with backpressure, chunked.
    const it = body[Symbol.iterator]();
    let sent = 0;
    const pump = () => {
      for (;;) {
        const { value, done } = it.next();
        if (done) return req.end();
        sent += value.length;
        if (!req.write(value)) return req.once('drain', pump);
      }
    };
    pump();
    req.sentBytes = () => sent;
  });
}

function quantile(sorted, q) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const scratch = `sidecar-load-${process.pid}`;
  const volume = `${o.url.replace(/\/+$/, '')}/${scratch}`;
  // The scratch directory, made with the CLI (the sidecar serves inside it).
  await run([CLI, 'mkdir', '--url', o.url, `/${scratch}`]);
  const [port, admin] = [await freePort(), await freePort()];
  const sidecar = spawn(process.execPath, [CLI, 'serve', '--url', volume, '--listen', `127.0.0.1:${port}`, '--admin-listen', `127.0.0.1:${admin}`, '--log', 'off', '--max-concurrent', String(Math.max(256, o.clients + 16))], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise((resolve) => sidecar.on('exit', (code, signal) => resolve({ code, signal })));
  const agent = new Agent({ keepAlive: true, maxSockets: o.clients + 8 });
  try {
    await waitReady(admin);
    const results = await load(o, port, admin, agent);
    // Clean up through the sidecar itself.
    await http(agent, port, 'DELETE', '/load/');
    agent.destroy();
    sidecar.kill('SIGTERM');
    const ex = await exited;
    results.sidecarExit = ex.code;
    report(o, results);
    await run([CLI, 'rm', '-r', '--url', o.url, `/${scratch}`]);
    process.exitCode = results.errors.total === 0 && results.mismatches === 0 && ex.code === 0 ? 0 : 1;
  } catch (err) {
    sidecar.kill('SIGKILL');
    await run([CLI, 'rm', '-r', '-f', '--url', o.url, `/${scratch}`]).catch(() => {});
    throw err;
  }
}

function run(args) {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${args.slice(1).join(' ')} exited ${code}`))));
  });
}

async function waitReady(admin) {
  for (let k = 0; k < 200; k++) {
    try {
      const r = await http(undefined, admin, 'GET', '/readyz');
      if (r.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the sidecar did not become ready');
}

async function sample(admin) {
  const text = await new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port: admin, path: '/metrics' }, (res) => {
      let s = '';
      res.on('data', (d) => (s += d));
      res.on('end', () => resolve(s));
    })
      .on('error', reject)
      .end();
  });
  const num = (name) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { rss: num('process_resident_memory_bytes'), heap: num('nodejs_heap_used_bytes'), inflight: num('mountless_http_requests_in_flight') };
}

async function load(o, port, admin, agent) {
  await http(agent, port, 'MKCOL', '/load');
  const stats = { puts: 0, gets: 0, up: 0, down: 0, putMs: [], getMs: [], mismatches: 0, errors: { total: 0, kinds: {} } };
  const samples = [];
  const t0 = performance.now();
  const deadline = t0 + o.duration * 1000;
  const err = (kind) => {
    stats.errors.total++;
    stats.errors.kinds[kind] = (stats.errors.kinds[kind] ?? 0) + 1;
  };
  const sampler = setInterval(async () => {
    try {
      samples.push({ t: (performance.now() - t0) / 1000, ...(await sample(admin)) });
    } catch {
      err('metrics');
    }
  }, 1000);
  samples.push({ t: 0, ...(await sample(admin)) });
  const client = async (id) => {
    for (let iter = 0; performance.now() < deadline; iter++) {
      const path = `/load/c${id}.bin`;
      try {
        let t = performance.now();
        const put = await http(agent, port, 'PUT', path, { body: content(id, iter, o.size), headers: { 'Content-Type': 'application/octet-stream' } });
        stats.putMs.push(performance.now() - t);
        if (put.status !== 201 && put.status !== 204) {
          err(`PUT ${put.status}`);
          continue;
        }
        stats.puts++;
        stats.up += o.size;
        t = performance.now();
        const get = await http(agent, port, 'GET', path);
        stats.getMs.push(performance.now() - t);
        if (get.status !== 200) {
          err(`GET ${get.status}`);
          continue;
        }
        stats.gets++;
        stats.down += get.bytes;
        if (get.digest !== digestOf(id, iter, o.size)) stats.mismatches++;
      } catch (e) {
        err(e.code ?? e.message);
      }
    }
  };
  await Promise.all(Array.from({ length: o.clients }, (_, k) => client(k)));
  clearInterval(sampler);
  const secs = (performance.now() - t0) / 1000;
  samples.push({ t: secs, ...(await sample(admin)) });
  return { ...stats, secs, samples };
}

function report(o, r) {
  const mib = (b) => b / 1024 / 1024;
  const putMs = [...r.putMs].sort((a, b) => a - b);
  const getMs = [...r.getMs].sort((a, b) => a - b);
  const rss = r.samples.map((s) => s.rss).filter((x) => !Number.isNaN(x));
  // Steady state: after the first quarter (connections opened, caches warm).
  const steady = r.samples.filter((s) => s.t >= r.secs / 4 && !Number.isNaN(s.rss));
  const half = Math.floor(steady.length / 2);
  const avg = (xs) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const firstHalf = avg(steady.slice(0, half).map((s) => s.rss));
  const secondHalf = avg(steady.slice(half).map((s) => s.rss));
  const out = {
    clients: o.clients,
    fileBytes: o.size,
    seconds: Math.round(r.secs * 10) / 10,
    uploads: r.puts,
    downloads: r.gets,
    uploadMiBps: Math.round((mib(r.up) / r.secs) * 10) / 10,
    downloadMiBps: Math.round((mib(r.down) / r.secs) * 10) / 10,
    putMs: { p50: Math.round(quantile(putMs, 0.5)), p99: Math.round(quantile(putMs, 0.99)), max: Math.round(putMs[putMs.length - 1] ?? 0) },
    getMs: { p50: Math.round(quantile(getMs, 0.5)), p99: Math.round(quantile(getMs, 0.99)), max: Math.round(getMs[getMs.length - 1] ?? 0) },
    errors: r.errors,
    mismatches: r.mismatches,
    rssMiB: {
      start: Math.round(mib(rss[0] ?? NaN)),
      min: Math.round(mib(Math.min(...rss))),
      max: Math.round(mib(Math.max(...rss))),
      steadyFirstHalfAvg: Math.round(mib(firstHalf)),
      steadySecondHalfAvg: Math.round(mib(secondHalf)),
      end: Math.round(mib(rss[rss.length - 1] ?? NaN)),
    },
    heapMiBMax: Math.round(mib(Math.max(...r.samples.map((s) => s.heap).filter((x) => !Number.isNaN(x))))),
    rssSamplesMiB: r.samples.map((s) => Math.round(mib(s.rss))),
    sidecarExit: r.sidecarExit,
  };
  if (o.json) {
    console.log(JSON.stringify(out, null, 2));
    return;
  }
  console.log(`sidecar load: ${o.clients} clients, ${mib(o.size).toFixed(1)} MiB files, ${out.seconds} s`);
  console.log(`  uploads   ${out.uploads}  (${out.uploadMiBps} MiB/s)  PUT ms p50 ${out.putMs.p50} p99 ${out.putMs.p99} max ${out.putMs.max}`);
  console.log(`  downloads ${out.downloads}  (${out.downloadMiBps} MiB/s)  GET ms p50 ${out.getMs.p50} p99 ${out.getMs.p99} max ${out.getMs.max}`);
  console.log(`  errors ${out.errors.total}${out.errors.total ? ' ' + JSON.stringify(out.errors.kinds) : ''}, checksum mismatches ${out.mismatches}`);
  console.log(
    `  sidecar RSS MiB: start ${out.rssMiB.start}, min ${out.rssMiB.min}, max ${out.rssMiB.max}; steady state avg ${out.rssMiB.steadyFirstHalfAvg} (first half) vs ${out.rssMiB.steadySecondHalfAvg} (second half); end ${out.rssMiB.end}; heap max ${out.heapMiBMax}`,
  );
  console.log(`  RSS samples (MiB, 1/s): ${out.rssSamplesMiB.join(' ')}`);
  console.log(`  sidecar exit status after SIGTERM: ${out.sidecarExit}`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
