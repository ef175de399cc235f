// Runs inside scripts/krb5-nas's namespace (spawned by krb5-nas.test.ts
// through `scripts/krb5-nas exec`): mounts the Kerberos NAS as asked, does
// the work named by `job`, and prints one JSON line with what it saw. The
// parent makes the assertions; a failure here is reported, not thrown.
import { subscribe } from 'node:diagnostics_channel';
import { createServer, connect as netConnect, type Socket } from 'node:net';
import { connect } from '../../src/index.js';
import { RPC_CHANNELS } from '../../src/rpc/diagnostics.js';

interface Job {
  kind: 'fs' | 'relay' | 'expiry';
  url: string;
  options: Record<string, unknown>;
  dir: string;
  marker?: string;
  /** expiry: keep calling for this many ms. */
  runMs?: number;
}

// One job or several, run one after the other (a child costs seconds to start).
const jobs = ([] as Job[]).concat(JSON.parse(process.argv[2]!) as Job | Job[]);
let job!: Job;
const inits: string[] = [];
/** COMPOUNDs that asked for flavors (SECINFO_NO_NAME, SECINFO). */
const secinfos: string[] = [];
subscribe(RPC_CHANNELS.callStart, (m) => {
  const name = (m as { name: string }).name;
  if (name === 'RPCSEC_GSS_INIT') inits.push(name);
  if (name === 'NFSv4 COMPOUND secinfo') secinfos.push(name);
});

function errorInfo(e: unknown): Record<string, unknown> {
  const err = e as { code?: unknown; message?: unknown; name?: unknown; wanted?: unknown };
  return { code: err.code, name: err.name, message: String(err.message), wanted: err.wanted };
}

/** A TCP relay on the server's own address (so the URL keeps the host name the principal is named after) that records what crosses it. */
async function relay(host: string, port: number): Promise<{ port: number; up: Buffer[]; down: Buffer[]; close(): void }> {
  const up: Buffer[] = [];
  const down: Buffer[] = [];
  const socks = new Set<Socket>();
  const server = createServer((c) => {
    const s = netConnect({ host, port });
    socks.add(c).add(s);
    c.on('data', (b: Buffer) => {
      up.push(Buffer.from(b));
      s.write(b);
    });
    s.on('data', (b: Buffer) => {
      down.push(Buffer.from(b));
      c.write(b);
    });
    const end = () => {
      c.destroy();
      s.destroy();
    };
    c.on('close', end).on('error', end);
    s.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const addr = server.address() as { port: number };
  return {
    port: addr.port,
    up,
    down,
    close() {
      for (const s of socks) s.destroy();
      server.close();
    },
  };
}

async function fsJob(url: string): Promise<Record<string, unknown>> {
  const nfs = await connect(url, job.options);
  try {
    const d = job.dir;
    await nfs.mkdir(d);
    await nfs.writeFile(`${d}/a.txt`, 'first');
    await nfs.appendFile(`${d}/a.txt`, '+more');
    const big = Buffer.alloc(300 * 1024, 7);
    big.write(job.marker ?? 'marker', 12345);
    await nfs.writeFile(`${d}/big.bin`, big);
    const bigBack = await nfs.readFile(`${d}/big.bin`);
    await nfs.rename(`${d}/a.txt`, `${d}/b.txt`);
    const text = await nfs.readFile(`${d}/b.txt`, 'utf8');
    const st = await nfs.stat(`${d}/b.txt`);
    const names = (await nfs.readdir(d)).sort();
    // Calls in flight together: with nconnect they spread over the connections.
    await Promise.all(Array.from({ length: 6 }, (_, i) => nfs.writeFile(`${d}/p${i}`, `p${i}`)));
    await Promise.all(Array.from({ length: 6 }, (_, i) => nfs.unlink(`${d}/p${i}`)));
    await nfs.writeFile(`${d}/gone.txt`, 'x');
    await nfs.unlink(`${d}/gone.txt`);
    let missing: unknown;
    try {
      await nfs.stat(`${d}/gone.txt`);
    } catch (e) {
      missing = (e as { code?: unknown }).code;
    }
    return { text, size: st.size, names, bigEqual: bigBack.equals(big), missing };
  } finally {
    await nfs.close();
  }
}

async function main(): Promise<Record<string, unknown>> {
  if (job.kind === 'fs') return { ok: true, ...(await fsJob(job.url)), inits: inits.length, secinfos: secinfos.length };
  if (job.kind === 'relay') {
    const u = new URL(job.url);
    const r = await relay('10.255.255.1', 2049);
    try {
      const out = await fsJob(`${job.url}${u.search ? '&' : '?'}nfsport=${r.port}`);
      const wire = Buffer.concat([...r.up, ...r.down]);
      return { ok: true, ...out, markerOnWire: wire.includes(job.marker!), bytesUp: r.up.reduce((n, b) => n + b.length, 0) };
    } finally {
      r.close();
    }
  }
  // expiry: calls without pause for longer than the ticket lives.
  const nfs = await connect(job.url, job.options);
  let calls = 0;
  const failures: Record<string, unknown>[] = [];
  try {
    await nfs.mkdir(job.dir);
    const end = Date.now() + job.runMs!;
    let i = 0;
    while (Date.now() < end) {
      const name = `${job.dir}/f${i++ % 4}`;
      // Several calls in flight at once, so some are on the wire when the context is replaced.
      const ops = [nfs.writeFile(name, `n${i}`), nfs.stat(job.dir), nfs.readdir(job.dir)];
      for (const r of await Promise.allSettled(ops)) {
        calls++;
        if (r.status === 'rejected') failures.push(errorInfo(r.reason));
      }
    }
  } finally {
    await nfs.close();
  }
  return { ok: true, calls, failures, inits: inits.length };
}

const results: Record<string, unknown>[] = [];
for (const j of jobs) {
  job = j;
  inits.length = 0;
  secinfos.length = 0;
  results.push(await main().catch((e: unknown) => ({ ok: false, error: errorInfo(e), inits: inits.length })));
}
console.log(JSON.stringify(results));
