// A man in the middle (test/fake/fault-proxy.ts) in front of the real
// NFS-Ganesha mutates a fraction of its reply records while mountless runs
// real fs operations (writeFile, readFile, readdir, stat) in parallel on a
// soft mount (timeo 0.5 s, retrans 1, so damaged calls fail fast). Every
// operation must settle with a value or a typed error, none may hang, no RPC
// call may be left pending, and every file whose writeFile resolved must be
// on the server's disk byte for byte. Seeded: MOUNTLESS_FUZZ_SEED.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import type { NfsClient } from '../../src/index.js';
import type { RpcClient } from '../../src/rpc/client.js';
import { RpcError } from '../../src/rpc/errors.js';
import { XdrDecodeError } from '../../src/xdr/errors.js';
import { FaultProxy, type Piece } from '../fake/fault-proxy.js';
import { BOUNDARY_WORDS, HUGE_LENGTH, u32 } from '../fake/mutations.js';
import { Xorshift32 } from '../fake/prng.js';
import { EXPORT_DIR, NFS_URL, scratch } from './_env.js';

const LOCAL = new URL(NFS_URL).hostname === '127.0.0.1' && !process.env.MOUNTLESS_TEST_URL;
const NFS_PORT = Number(process.env.MOUNTLESS_NFS_PORT ?? 2049);
const MOUNT_PORT = Number(process.env.MOUNTLESS_MOUNT_PORT ?? 20048);
const SEED = Number(process.env.MOUNTLESS_FUZZ_SEED ?? 0x5eed_2024);
/** Fraction of reply records mutated. */
const RATE = 0.12;
const ROUNDS = 50;
/** An fs operation not settled after this long counts as a hang (the soft budget is 1.5 s per RPC). */
const HANG_MS = 90_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The NFSv3 backend's RPC client, under the cache decorator if there is one. */
function rpcOf(nfs: NfsClient): RpcClient {
  let b = nfs.backend as unknown as { inner?: unknown; rpc?: RpcClient };
  while (!b.rpc && b.inner) b = b.inner as typeof b;
  return b.rpc!;
}

const NFSPROC3_READ = 6;

/**
 * Where in-record damage may fall: the first 256 bytes (the RPC header and the
 * results' fixed fields), and for a READ reply only the bytes before its data.
 * A bit flip inside READ data is undetectable by any NFS client (there is no
 * checksum above TCP's): that would test the absence of integrity, not us.
 */
function damageable(rec: Buffer, proc: number | undefined): number {
  let head = Math.min(rec.length, 256);
  // xid, REPLY, MSG_ACCEPTED, verifier (AUTH_NONE, empty), SUCCESS; nfsstat3; post_op_attr; count, eof, data length.
  if (proc === NFSPROC3_READ && rec.length >= 32 && rec.readUInt32BE(16) === 0 && rec.readUInt32BE(24) === 0) {
    head = Math.min(head, 32 + (rec.readUInt32BE(28) === 1 ? 84 : 0) + 12);
  }
  return head;
}

/** One reply record's fate, drawn from `rng`; in-record damage stays within damageable() and off the xid. */
function mutateReply(rec: Buffer, head: number, rng: Xorshift32, held: { rec: Buffer | undefined }, counts: Map<string, number>): Piece[] | undefined {
  const out: Piece[] = [];
  if (held.rec) {
    out.push(held.rec);
    held.rec = undefined;
  }
  if (!rng.chance(RATE) || rec.length < 12) return out.length ? [rec, ...out] : undefined;
  const off4 = () => 8 + 4 * rng.int(Math.max(1, Math.floor((head - 8) / 4)));
  const kinds = ['bitflip', 'bitflip', 'bitflip', 'truncate', 'huge-length', 'boundary-word', 'random-tail', 'trailing-garbage', 'duplicate', 'fragments', 'reorder', 'drop', 'xid', 'marker'] as const;
  let kind: (typeof kinds)[number] = rng.pick(kinds);
  if (kind === 'marker' && !rng.chance(0.25)) kind = 'bitflip'; // resets are costly: rarer than the rest
  counts.set(kind, (counts.get(kind) ?? 0) + 1);
  const c = Buffer.from(rec);
  switch (kind) {
    case 'bitflip': {
      const byte = 4 + rng.int(head - 4);
      c[byte]! ^= 1 << rng.int(8);
      return [c, ...out];
    }
    case 'truncate':
      return [rec.subarray(0, 8 + rng.int(rec.length - 8)), ...out];
    case 'huge-length':
    case 'boundary-word': {
      const at = off4();
      if (at + 4 <= c.length) c.writeUInt32BE(kind === 'huge-length' ? HUGE_LENGTH : rng.pick(BOUNDARY_WORDS), at);
      return [c, ...out];
    }
    case 'random-tail': {
      const keep = 8 + rng.int(head - 8);
      return [Buffer.concat([rec.subarray(0, keep), rng.bytes(rng.range(1, 64))]), ...out];
    }
    case 'trailing-garbage':
      return [Buffer.concat([rec, rng.bytes(rng.range(1, 64))]), ...out];
    case 'duplicate':
      return [rec, rec, ...out];
    case 'fragments': {
      const cut = 1 + rng.int(rec.length - 1);
      return [{ raw: Buffer.concat([u32(cut), rec.subarray(0, cut), u32((0x8000_0000 | (rec.length - cut)) >>> 0), rec.subarray(cut)]) }, ...out];
    }
    case 'reorder':
      held.rec = rec; // goes out after the next reply (or the retransmission's)
      return out;
    case 'drop':
      return out;
    case 'xid':
      c.writeUInt32BE(rng.next(), 0);
      return [c, ...out];
    case 'marker':
      return [{ raw: u32(0x7fff_ffff) }, ...out];
  }
}

/** A settled operation's class: 'value', or the error's class and code; 'UNTYPED ...' fails the test. */
function classify(r: PromiseSettledResult<unknown>): string {
  if (r.status === 'fulfilled') return 'value';
  const e = r.reason as (Error & { code?: unknown }) | undefined;
  if (e instanceof XdrDecodeError) return 'XdrDecodeError';
  if (e instanceof RpcError) return `${e.constructor.name} ${e.code}`;
  if (e instanceof Error && typeof e.code === 'string' && e.code !== '') return `${e.name} ${e.code}`;
  return `UNTYPED ${e?.constructor?.name ?? typeof e}: ${e?.message ?? String(e)}`;
}

t.test('mutated replies from the real server: every fs call settles typed, written files are intact', { skip: !LOCAL && 'needs the local NFS-Ganesha' }, async (t) => {
  const proxy = await FaultProxy.start({ port: NFS_PORT });
  t.teardown(() => proxy.close());
  const s = await scratch(t, 'mitm', { nfsport: proxy.port, mountport: MOUNT_PORT, soft: true, timeo: 5, retrans: 1 });
  const rpc = rpcOf(s.nfs);
  const rng = new Xorshift32(SEED);
  const data = new Xorshift32(SEED ^ 0xda7a);
  const kinds = new Map<string, number>();
  const held: { rec: Buffer | undefined } = { rec: undefined };
  const outcomes = new Map<string, Map<string, number>>();
  const untyped: string[] = [];
  const written: { path: string; data: Buffer }[] = [];
  let readsDiffering = 0;
  let hangs = 0;
  const SIZES = [0, 1, 100, 4096, 65_536 + 7, 300_000];

  const run = async (op: string, what: string, fn: () => Promise<unknown>) => {
    let timer: NodeJS.Timeout | undefined;
    const hang = new Promise<'hang'>((r) => (timer = setTimeout(() => r('hang'), HANG_MS)));
    const r = await Promise.race([Promise.allSettled([fn()]).then((x) => x[0]!), hang]);
    clearTimeout(timer);
    if (r === 'hang') {
      hangs++;
      return undefined;
    }
    const cls = classify(r);
    let m = outcomes.get(op);
    if (!m) outcomes.set(op, (m = new Map()));
    m.set(cls, (m.get(cls) ?? 0) + 1);
    if (cls.startsWith('UNTYPED') && untyped.length < 20) untyped.push(`${op} ${what}: ${cls}`);
    return r;
  };

  // Calls pass unchanged; their procedure numbers tell which replies are READs.
  const procOf = new Map<number, number>();
  proxy.mutate('up', (rec) => {
    if (rec.length >= 24) procOf.set(rec.readUInt32BE(0), rec.readUInt32BE(20));
    return undefined;
  });
  proxy.mutate('down', (rec) => {
    const xid = rec.length >= 4 ? rec.readUInt32BE(0) : -1;
    const proc = procOf.get(xid);
    return mutateReply(rec, damageable(rec, proc), rng, held, kinds);
  });
  for (let round = 0; round < ROUNDS; round++) {
    const dir = s.at(`r${round}`);
    await run('mkdir', dir, () => s.nfs.mkdir(dir));
    const ops: Promise<unknown>[] = [];
    for (let i = 0; i < 6; i++) {
      const path = `${dir}/w${i}`;
      const bytes = data.bytes(SIZES[data.int(SIZES.length)]!);
      ops.push(
        run('writeFile', path, () => s.nfs.writeFile(path, bytes)).then((r) => {
          if (r?.status === 'fulfilled') written.push({ path, data: bytes });
        }),
      );
    }
    const earlier = written.slice(-24);
    for (let i = 0; i < 4 && earlier.length > 0; i++) {
      const f = earlier[rng.int(earlier.length)]!;
      ops.push(
        run('readFile', f.path, () => s.nfs.readFile(f.path)).then((r) => {
          if (r?.status === 'fulfilled' && !(r.value as Buffer).equals(f.data)) {
            readsDiffering++;
            const v = r.value as Buffer;
            let k = 0;
            while (k < v.length && v[k] === f.data[k]) k++;
            t.comment(`${f.path}: read ${v.length} bytes of ${f.data.length}, first difference at ${k}`);
          }
        }),
      );
      ops.push(run('stat', f.path, () => s.nfs.stat(f.path)));
    }
    if (round > 0) {
      ops.push(run('readdir', `r${round - 1}`, () => s.nfs.readdir(s.at(`r${round - 1}`))));
      ops.push(run('readdir', `r${round - 1} withFileTypes`, () => s.nfs.readdir(s.at(`r${round - 1}`), { withFileTypes: true })));
    }
    ops.push(run('readdir', '/', () => s.nfs.readdir(s.dir)));
    await Promise.all(ops);
  }
  proxy.mutate('both', undefined);
  if (held.rec) held.rec = undefined;

  // Calls of operations that failed early (one READ of several) may still be retransmitting.
  for (let i = 0; i < 200 && rpc.pending > 0; i++) await sleep(50);

  const total = [...outcomes.values()].reduce((a, m) => a + [...m.values()].reduce((x, y) => x + y, 0), 0);
  const values = [...outcomes.values()].reduce((a, m) => a + (m.get('value') ?? 0), 0);
  t.comment(`${proxy.stats.down.records} reply records, ${proxy.stats.down.recordsMutated} mutated: ${[...kinds].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')}`);
  t.comment(`${total} fs operations: ${values} values, ${total - values} typed errors, ${hangs} hangs`);
  for (const [op, m] of [...outcomes].sort()) t.comment(`  ${op.padEnd(9)} ${[...m].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${n}`).join(', ')}`);
  t.comment(`rpc stats: ${JSON.stringify(rpc.stats)}`);
  t.comment(`${written.length} files written and acknowledged`);

  t.same(untyped, [], 'every operation settled with a value or a typed error');
  t.equal(hangs, 0, 'no operation hung');
  t.equal(rpc.pending, 0, 'no RPC call left pending');
  t.ok(proxy.stats.down.recordsMutated > 100, `replies were mutated (${proxy.stats.down.recordsMutated})`);
  t.ok(written.length > 0, 'some writes succeeded');
  t.equal(readsDiffering, 0, 'a readFile that resolved returned the bytes written (READ data itself is never mutated)');

  let intact = 0;
  for (const f of written) {
    const onDisk = await readFile(join(EXPORT_DIR, f.path));
    if (onDisk.equals(f.data)) intact++;
    else t.fail(`${f.path}: ${onDisk.length} bytes on disk, ${f.data.length} written`);
  }
  t.equal(intact, written.length, `every acknowledged file is intact on the server's disk (${intact})`);

  // With the mutations gone, the same client works normally again (a few
  // tries: the soft budget is 1.5 s and the server is shared with other tests).
  const last = s.at('after');
  const bytes = data.bytes(200_000);
  let back: Buffer | undefined;
  for (let i = 0; i < 5 && !back; i++) {
    back = await s.nfs.writeFile(last, bytes).then(() => s.nfs.readFile(last) as Promise<Buffer>).catch(() => undefined);
    if (!back) await sleep(1000);
  }
  t.ok(back?.equals(bytes), 'the client works normally once the replies are clean');
  t.ok((await readFile(s.localAt('after'))).equals(bytes));
});
