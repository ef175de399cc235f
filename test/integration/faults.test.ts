// Transport faults between mountless and the real NFS-Ganesha, made by
// test/fake/fault-proxy.ts: connections reset mid-transfer, a 2 s stall, a
// 200 ms delay, traffic split into tiny chunks. On a hard mount (the
// default) with a small timeo (0.5 s) every operation completes with the
// right data, files are on the server's disk byte for byte, the RPC stats
// show the recovery, and nothing is left pending. A soft mount against a
// blackhole fails with ETIMEDOUT. The server itself is never stopped (other
// test files share it).
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import t, { type Test } from 'tap';
import { connect, type NfsClient } from '../../src/index.js';
import type { RpcClient } from '../../src/rpc/client.js';
import { FaultProxy } from '../fake/fault-proxy.js';
import { Xorshift32 } from '../fake/prng.js';
import { NFS_URL, scratch, urlWith, type Scratch } from './_env.js';

const LOCAL = new URL(NFS_URL).hostname === '127.0.0.1' && !process.env.MOUNTLESS_TEST_URL;
const NFS_PORT = Number(process.env.MOUNTLESS_NFS_PORT ?? 2049);
const MOUNT_PORT = Number(process.env.MOUNTLESS_MOUNT_PORT ?? 20048);
const SEED = Number(process.env.MOUNTLESS_FUZZ_SEED ?? 0x5eed_2024);
const skip = !LOCAL && 'needs the local NFS-Ganesha';

const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function rpcOf(nfs: NfsClient): RpcClient {
  let b = nfs.backend as unknown as { inner?: unknown; rpc?: RpcClient };
  while (!b.rpc && b.inner) b = b.inner as typeof b;
  return b.rpc!;
}

/** A hard mount (default) through a fresh proxy; timeo 5 = 0.5 s. */
async function setup(t: Test, tag: string): Promise<{ proxy: FaultProxy; s: Scratch; rpc: RpcClient }> {
  const proxy = await FaultProxy.start({ port: NFS_PORT });
  // Registered first, so it runs after scratch's teardown (which still talks through it).
  t.teardown(() => proxy.close());
  const s = await scratch(t, tag, { nfsport: proxy.port, mountport: MOUNT_PORT, timeo: 5 });
  t.teardown(() => {
    proxy.pass('both');
  });
  return { proxy, s, rpc: rpcOf(s.nfs) };
}

interface Work {
  writes: { name: string; data: Buffer }[];
  reads: { name: string; data: Buffer }[];
}

/** Files to write over NFS, and files put on the server's disk directly to be read over NFS. */
async function prepare(s: Scratch, rng: Xorshift32, nw: number, nr: number, size: number): Promise<Work> {
  const mk = (p: string, i: number) => ({ name: `${p}${i}`, data: Buffer.concat([rng.bytes(64), randomBytes(size + i * 4099 - 64)]) });
  const w: Work = { writes: Array.from({ length: nw }, (_, i) => mk('w', i)), reads: Array.from({ length: nr }, (_, i) => mk('r', i)) };
  for (const f of w.reads) await writeFile(s.localAt(f.name), f.data);
  return w;
}

/** All writes and reads in parallel; resolves with the count of operations done, failing the test on a wrong read. */
async function run(t: Test, s: Scratch, w: Work): Promise<number> {
  const ops = [
    ...w.writes.map(async (f) => {
      await s.nfs.writeFile(s.at(f.name), f.data);
    }),
    ...w.reads.map(async (f) => {
      const back = (await s.nfs.readFile(s.at(f.name))) as Buffer;
      t.equal(sha(back), sha(f.data), `read of ${f.name} (${f.data.length} bytes) is intact`);
    }),
  ];
  await Promise.all(ops);
  return ops.length;
}

async function checkDisk(t: Test, s: Scratch, w: Work): Promise<void> {
  for (const f of w.writes) {
    const onDisk = await readFile(s.localAt(f.name));
    t.ok(onDisk.equals(f.data), `${f.name}: ${f.data.length} bytes on the server's disk byte for byte`);
  }
}

function stats(t: Test, what: string, proxy: FaultProxy, rpc: RpcClient): void {
  const { up, down } = proxy.stats;
  t.comment(`${what}: ${(up.bytesIn / MiB).toFixed(1)} MiB up in ${up.records} calls, ${(down.bytesIn / MiB).toFixed(1)} MiB down in ${down.records} replies, ${proxy.stats.connections} connections; rpc ${JSON.stringify(rpc.stats)}`);
}

t.test('connections reset mid-transfer during parallel writes and reads of several MB', { skip }, async (t) => {
  const { proxy, s, rpc } = await setup(t, 'faults-cut');
  const w = await prepare(s, new Xorshift32(SEED), 6, 4, 1.5 * MiB);
  const base = proxy.stats.up.bytesIn;
  const work = run(t, s, w);
  // Two resets: the first 3 MiB into the writes, the second 1 MiB of replies into the next connection.
  await Promise.race([proxy.whenBytes('up', base + 3 * MiB), work]);
  const cut1 = proxy.cut();
  await Promise.race([proxy.whenBytes('down', proxy.stats.down.bytesIn + 1 * MiB), work]);
  const cut2 = proxy.cut();
  t.equal(await work, 10, 'every operation completed');
  t.equal(cut1, 1, 'the connection was cut mid-transfer');
  t.comment(`a second cut reset ${cut2} connection(s)`);
  stats(t, 'cut', proxy, rpc);
  t.ok(rpc.stats.reconnects >= 1, `the client reconnected (${rpc.stats.reconnects})`);
  t.ok(rpc.stats.retransmits >= 1, `calls in flight were re-sent (${rpc.stats.retransmits})`);
  t.equal(rpc.pending, 0, 'nothing pending');
  await checkDisk(t, s, w);
});

t.test('a 2 s stall, then resume: everything completes, calls were retransmitted', { skip }, async (t) => {
  const { proxy, s, rpc } = await setup(t, 'faults-stall');
  const w = await prepare(s, new Xorshift32(SEED + 1), 4, 4, 1 * MiB);
  const before = rpc.stats.retransmits;
  const base = proxy.stats.up.bytesIn;
  const work = run(t, s, w);
  await Promise.race([proxy.whenBytes('up', base + 1 * MiB), work]);
  proxy.stall('both');
  // Something is surely in flight during the stall: a call sent after it began.
  const late = s.nfs.stat(s.at('r0'));
  await sleep(2000);
  proxy.resume('both');
  t.equal(await work, 8, 'every operation completed');
  t.equal((await late).size, w.reads[0]!.data.length, 'the call sent into the stall completed');
  stats(t, 'stall', proxy, rpc);
  t.ok(rpc.stats.retransmits > before, `calls were retransmitted during the stall (${rpc.stats.retransmits - before})`);
  t.equal(rpc.pending, 0, 'nothing pending');
  await checkDisk(t, s, w);
});

t.test('200 ms of delay each way', { skip }, async (t) => {
  const { proxy, s, rpc } = await setup(t, 'faults-delay');
  const w = await prepare(s, new Xorshift32(SEED + 2), 4, 4, 1 * MiB);
  proxy.delay('both', 200);
  t.equal(await run(t, s, w), 8, 'every operation completed');
  t.same((await s.nfs.readdir(s.dir)).sort(), [...w.reads, ...w.writes].map((f) => f.name).sort(), 'readdir through the delay');
  stats(t, 'delay', proxy, rpc);
  t.equal(rpc.pending, 0, 'nothing pending');
  await checkDisk(t, s, w);
});

t.test('traffic split into tiny chunks', { skip }, async (t) => {
  const { proxy, s, rpc } = await setup(t, 'faults-split');
  const w = await prepare(s, new Xorshift32(SEED + 3), 3, 3, 200 * 1024);
  proxy.split('both', { seed: SEED, maxChunk: 61 });
  t.equal(await run(t, s, w), 6, 'every operation completed');
  t.same((await s.nfs.readdir(s.dir)).sort(), [...w.reads, ...w.writes].map((f) => f.name).sort(), 'readdir through the splitter');
  stats(t, 'split', proxy, rpc);
  t.equal(rpc.pending, 0, 'nothing pending');
  await checkDisk(t, s, w);
});

t.test('soft mount against a blackhole: ETIMEDOUT, nothing pending, and it works again once traffic flows', { skip }, async (t) => {
  const proxy = await FaultProxy.start({ port: NFS_PORT });
  t.teardown(() => proxy.close());
  const s = await scratch(t, 'faults-soft', {});
  await s.nfs.writeFile(s.at('x'), 'x');
  const soft = await connect(urlWith(s.dir.slice(1)), { nfsport: proxy.port, mountport: MOUNT_PORT, soft: true, timeo: 5, retrans: 1, noac: true });
  t.teardown(() => soft.close());
  t.equal((await soft.stat('/x')).size, 1);
  proxy.drop('both');
  await t.rejects(soft.stat('/x'), { code: 'ETIMEDOUT' }, 'stat: ETIMEDOUT');
  await t.rejects(soft.writeFile('/y', 'yy'), { code: 'ETIMEDOUT' }, 'writeFile: ETIMEDOUT');
  const rpc = rpcOf(soft);
  t.equal(rpc.pending, 0, 'nothing pending');
  t.ok(proxy.stats.up.bytesDropped > 0 || proxy.stats.down.bytesDropped > 0, 'the proxy swallowed the calls');
  proxy.pass('both');
  // A few tries: the server is shared with other test files, and the soft budget is short.
  let size: number | undefined;
  for (let i = 0; i < 5 && size === undefined; i++) {
    size = await soft.stat('/x').then((st) => st.size, () => undefined);
    if (size === undefined) await sleep(1000);
  }
  t.equal(size, 1, 'once traffic flows again, calls work');
});
