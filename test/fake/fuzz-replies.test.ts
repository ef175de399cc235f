// The reply path fuzzed through an in-process fake server. For every NFSv3
// procedure, real replies recorded from NFS-Ganesha (test/fixtures/
// nfs3-replies.json, made by test/fixtures/record-nfs3-replies.ts) are
// mutated (bit flips, truncation at every length, 0xFFFFFFF0 and boundary
// values at every 4-byte offset, random bodies, trailing garbage, duplicates,
// refragmentation, another procedure's results) and fed to an RpcClient with
// the procedure's own decoder. Every call must settle, with a value or a
// typed error (XdrDecodeError or an RpcError subclass): never a TypeError or
// RangeError from inside a decoder, never an unhandled rejection, never a
// hang. Then the framing layer (record markers near 2 GiB, desynchronised
// streams), unknown xids, crosstalk, and the READDIR cookie loop through the
// fs layer. Deterministic: MOUNTLESS_FUZZ_SEED picks another seed.
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import t, { type Test } from 'tap';
import { RpcClient, type RpcClientOptions } from '../../src/rpc/client.js';
import { RpcError } from '../../src/rpc/errors.js';
import { XdrDecodeError } from '../../src/xdr/errors.js';
import { XdrReader } from '../../src/xdr/reader.js';
import { XdrWriter } from '../../src/xdr/writer.js';
import * as P from '../../src/nfs3/procedures.js';
import { NFS_PROGRAM, NFS_V3 } from '../../src/nfs3/constants.js';
import { Nfs3Backend } from '../../src/nfs3/backend.js';
import { NfsClient } from '../../src/fs/client.js';
import type { Decoder } from '../../src/rpc/client.js';
import { FakeRpcServer, type FakeCall, type FakeHandler } from './fake-rpc-server.js';
import { foreign, matchable, mutationsFor, u32, wireBytes, type Mutation } from './mutations.js';
import { Xorshift32 } from './prng.js';

const SEED = Number(process.env.MOUNTLESS_FUZZ_SEED ?? 0x5eed_2024);
t.comment(`seed 0x${SEED.toString(16)} (MOUNTLESS_FUZZ_SEED to change)`);

const DECODERS: Decoder<unknown>[] = [
  P.decodeNull3res,
  P.decodeGetattr3res,
  P.decodeSetattr3res,
  P.decodeLookup3res,
  P.decodeAccess3res,
  P.decodeReadlink3res,
  P.decodeRead3res,
  P.decodeWrite3res,
  P.decodeCreate3res,
  P.decodeMkdir3res,
  P.decodeSymlink3res,
  P.decodeMknod3res,
  P.decodeRemove3res,
  P.decodeRmdir3res,
  P.decodeRename3res,
  P.decodeLink3res,
  P.decodeReaddir3res,
  P.decodeReaddirplus3res,
  P.decodeFsstat3res,
  P.decodeFsinfo3res,
  P.decodePathconf3res,
  P.decodeCommit3res,
];

interface Fixture {
  proc: number;
  name: string;
  scenario: string;
  status: number;
  results: Buffer;
}

const FIXTURES: Fixture[] = (
  JSON.parse(readFileSync(new URL('../fixtures/nfs3-replies.json', import.meta.url), 'utf8')) as { entries: (Omit<Fixture, 'results'> & { results: string })[] }
).entries.map((e) => ({ ...e, results: Buffer.from(e.results, 'hex') }));

/** xid, REPLY, MSG_ACCEPTED, AUTH_NONE verifier (flavor, length 0), SUCCESS: what precedes the results. */
const HEADER_LENGTH = 24;
const replyRecord = (xid: number, results: Buffer) => Buffer.concat([u32(xid, 1, 0, 0, 0, 0), results]);

const labels = DECODERS.map((_, proc) => Object.freeze({ prog: NFS_PROGRAM, vers: NFS_V3, proc, name: FIXTURES.find((f) => f.proc === proc)?.name ?? `proc ${proc}` }));

const gc: () => void = (() => {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
})();

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---- outcome bookkeeping -----------------------------------------------------

/**
 * The class of a settled call: 'value' (a decoded result; 'value:status' for a
 * decoded failure arm), the class name of a typed error, or 'UNTYPED ...' for
 * anything else, which fails the test.
 */
function classify(r: PromiseSettledResult<unknown>): string {
  if (r.status === 'fulfilled') {
    const v = r.value as { ok?: boolean } | undefined;
    return v === undefined || v.ok !== false ? 'value' : 'value:status';
  }
  const e = r.reason as Error | undefined;
  if (e instanceof XdrDecodeError) return 'XdrDecodeError';
  if (e instanceof RpcError) return e.constructor.name;
  return `UNTYPED ${e?.constructor?.name ?? typeof e}: ${e?.message ?? String(e)}`;
}

const isTyped = (cls: string) => !cls.startsWith('UNTYPED');

/** A decoded value as comparable text (bigints and Buffers included). */
function canon(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => {
    if (typeof x === 'bigint') return `${x}n`;
    if (x && typeof x === 'object' && (x as { type?: string }).type === 'Buffer' && Array.isArray((x as { data?: unknown }).data)) {
      return `hex:${Buffer.from((x as { data: number[] }).data).toString('hex')}`;
    }
    return x;
  });
}

class Tally {
  readonly byClass = new Map<string, number>();
  readonly byKind = new Map<string, Map<string, number>>();
  readonly untyped: string[] = [];
  total = 0;

  add(kind: string, cls: string, where: string): void {
    this.total++;
    this.byClass.set(cls, (this.byClass.get(cls) ?? 0) + 1);
    let k = this.byKind.get(kind);
    if (!k) this.byKind.set(kind, (k = new Map()));
    k.set(cls, (k.get(cls) ?? 0) + 1);
    if (!isTyped(cls) && this.untyped.length < 20) this.untyped.push(`${where}: ${cls}`);
  }

  report(t: Test, title: string): void {
    const fmt = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${n}`).join(', ');
    const values = (this.byClass.get('value') ?? 0) + (this.byClass.get('value:status') ?? 0);
    t.comment(`${title}: ${this.total} mutated replies -> ${values} values, ${this.total - values} typed errors (${fmt(this.byClass)})`);
    for (const [kind, m] of [...this.byKind].sort()) t.comment(`  ${kind.padEnd(16)} ${fmt(m)}`);
  }
}

let unhandled = 0;
process.on('unhandledRejection', (err) => {
  unhandled++;
  // tap reports it as well; the count is asserted at the end.
  console.error('unhandled rejection', err);
});

/** Runs fn(0..n-1) with at most `window` calls outstanding. */
async function windowed(n: number, window: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(window, n) }, worker));
}

async function fakeNfs(t: Test, handler: FakeHandler, opts: Partial<RpcClientOptions> = {}) {
  const server = await FakeRpcServer.start(handler);
  const client = new RpcClient({ host: server.host, port: server.port, maxInFlight: 256, ...opts });
  t.teardown(async () => {
    await client.close();
    await server.close();
  });
  return { server, client };
}

/** Sends raw wire bytes for a call and marks it answered. */
function answerRaw(call: FakeCall, bytes: Buffer): void {
  call.conn.send(bytes);
  call.drop();
}

// ---- the recorded replies themselves ---------------------------------------

/** The decoded value of every fixture, as text, for comparing reframed/duplicated/reordered replies. */
const control = new Map<number, string>();

t.test('every recorded reply decodes through the client to its recorded status (the fuzz starts from valid input)', async (t) => {
  t.equal(new Set(FIXTURES.map((f) => f.proc)).size, 22, 'all 22 procedures have a recorded reply');
  const { client } = await fakeNfs(t, (call) => answerRaw(call, wireBytes([replyRecord(call.xid, FIXTURES[call.args.readUInt32BE(0)]!.results)])));
  for (const [i, f] of FIXTURES.entries()) {
    const v = (await client.call(labels[f.proc]!, (w) => w.u32(i), DECODERS[f.proc]!, { timeout: 30_000 })) as { ok?: boolean; status?: number } | undefined;
    if (f.proc === 0) t.equal(v, undefined, f.name);
    else t.equal(v?.status, f.status, `${f.name}: ${f.scenario}`);
    control.set(i, canon(v));
  }
  t.equal(client.pending, 0);
});

// ---- the mutation fuzz -------------------------------------------------------

interface Case {
  fixture: number;
  mutation: Mutation;
  /** The reply can still be matched to its call (xid and msg_type intact): it must settle the call, not a timeout. */
  matchable: boolean;
}

/** Calls whose reply cannot be matched wait this long; matched ones get LONG, which they must never reach. */
const SHORT = 250;
const LONG = 60_000;

t.test('mutated replies of all 22 procedures: every call settles with a value or a typed error', async (t) => {
  const rng = new Xorshift32(SEED);
  const cases: Case[] = [];
  for (const [i, f] of FIXTURES.entries()) {
    const sample = replyRecord(0x1234_5678, f.results);
    const ms = mutationsFor(sample.length, rng, { maxBitFlips: f.results.length > 400 ? 640 : 320, randomCases: 12 });
    for (const [j, g] of FIXTURES.entries()) if (j !== i) ms.push(foreign(HEADER_LENGTH, g.results, g.name));
    for (const m of ms) cases.push({ fixture: i, mutation: m, matchable: matchable(sample, m.apply(sample)) });
  }

  const { client } = await fakeNfs(t, (call) => {
    const c = cases[call.args.readUInt32BE(0)]!;
    answerRaw(call, wireBytes(c.mutation.apply(replyRecord(call.xid, FIXTURES[c.fixture]!.results))));
  });
  await client.connect();
  gc();
  const heapBefore = process.memoryUsage().heapUsed;

  const tally = new Tally();
  let matchedTimeouts = 0;
  let unmatchedSettled = 0;
  let reframedDiffer = 0;
  const expectedUnknown = cases.filter((c) => !c.matchable && c.mutation.kind !== 'truncate').length + cases.filter((c) => c.mutation.kind === 'duplicate').length;
  const unknownBefore = client.stats.unknownXids;

  await windowed(cases.length, 128, async (i) => {
    const c = cases[i]!;
    const f = FIXTURES[c.fixture]!;
    const [r] = await Promise.allSettled([client.call(labels[f.proc]!, (w) => w.u32(i), DECODERS[f.proc]!, { timeout: c.matchable ? LONG : SHORT })]);
    const cls = classify(r!);
    tally.add(c.mutation.kind, cls, `${f.name} (${f.scenario}) ${c.mutation.kind} ${c.mutation.detail}`);
    if (c.matchable && (cls === 'RpcTimeoutError' || cls === 'RpcDeadlineError')) matchedTimeouts++;
    if (!c.matchable && cls !== 'RpcTimeoutError' && cls !== 'RpcDeadlineError') unmatchedSettled++;
    // A valid record reframed, or sent twice, must decode to exactly what the original did.
    if ((c.mutation.kind === 'fragments' || c.mutation.detail === 'exact copy') && (r!.status !== 'fulfilled' || canon(r!.value) !== control.get(c.fixture))) reframedDiffer++;
  });

  tally.report(t, `${FIXTURES.length} recorded replies of 22 procedures`);
  t.comment(`client stats: ${JSON.stringify(client.stats)}`);
  t.same(tally.untyped, [], 'no call settled with an untyped error (TypeError, RangeError, ...)');
  t.equal(tally.total, cases.length, 'every call settled');
  t.equal(matchedTimeouts, 0, 'every reply the client could match settled its call (none waited for a timeout)');
  t.equal(unmatchedSettled, 0, 'replies with a damaged xid or msg_type were dropped (their calls timed out)');
  t.equal(reframedDiffer, 0, 'refragmented and duplicated valid replies decode exactly as the original');
  t.equal(client.stats.unknownXids - unknownBefore, expectedUnknown, 'every unmatched reply and every duplicate counted in stats.unknownXids');
  t.ok(tally.total > 10_000, `thousands of mutations (${tally.total})`);
  t.equal(client.pending, 0, 'nothing pending');

  gc();
  const heapAfter = process.memoryUsage().heapUsed;
  t.comment(`heapUsed ${(heapBefore / 2 ** 20).toFixed(1)} MiB before, ${(heapAfter / 2 ** 20).toFixed(1)} MiB after`);
  t.ok(heapAfter < heapBefore * 3 + 32 * 2 ** 20, 'heap stays bounded');
});

t.test('replies out of order, in pairs: each call gets its own result', async (t) => {
  const rng = new Xorshift32(SEED ^ 0x0ddba11);
  const pairs = Array.from({ length: 300 }, () => [rng.int(FIXTURES.length), rng.int(FIXTURES.length)] as const);
  const held = new Map<number, Buffer>();
  const { client } = await fakeNfs(t, (call) => {
    const id = call.args.readUInt32BE(0);
    const [a, b] = pairs[id >> 1]!;
    const bytes = wireBytes([replyRecord(call.xid, FIXTURES[id & 1 ? b : a]!.results)]);
    if ((id & 1) === 0) {
      held.set(id >> 1, bytes); // the first of the pair waits for the second
      call.drop();
      return;
    }
    answerRaw(call, Buffer.concat([bytes, held.get(id >> 1)!]));
    held.delete(id >> 1);
  });
  let wrong = 0;
  await windowed(pairs.length, 32, async (k) => {
    const [a, b] = pairs[k]!;
    const fa = FIXTURES[a]!;
    const fb = FIXTURES[b]!;
    const [va, vb] = await Promise.all([
      client.call(labels[fa.proc]!, (w) => w.u32(2 * k), DECODERS[fa.proc]!, { timeout: LONG }),
      client.call(labels[fb.proc]!, (w) => w.u32(2 * k + 1), DECODERS[fb.proc]!, { timeout: LONG }),
    ]);
    if (canon(va) !== control.get(a) || canon(vb) !== control.get(b)) wrong++;
  });
  t.equal(wrong, 0, `${pairs.length} reversed pairs each matched by xid`);
  t.equal(client.pending, 0);
});

t.test('crosstalk: a reply carrying another pending call\'s xid is decoded by that call\'s decoder, typed either way', async (t) => {
  const rng = new Xorshift32(SEED ^ 0xc0ffee);
  const n = 400;
  const plan = Array.from({ length: n }, () => ({ a: rng.int(FIXTURES.length), b: rng.int(FIXTURES.length) }));
  // Call 2k+1 (b) is answered with a's results under b's xid, at the moment a's call arrives; a itself gets nothing.
  const waiting = new Map<number, FakeCall>();
  const { client } = await fakeNfs(t, (call) => {
    const id = call.args.readUInt32BE(0);
    const k = id >> 1;
    if (id & 1) {
      waiting.set(k, call);
      return;
    }
    const b = waiting.get(k);
    if (b) {
      answerRaw(b, wireBytes([replyRecord(b.xid, FIXTURES[plan[k]!.a]!.results)]));
      waiting.delete(k);
    }
    call.drop();
  });
  const tally = new Tally();
  await windowed(n, 32, async (k) => {
    const { a, b } = plan[k]!;
    const fa = FIXTURES[a]!;
    const fb = FIXTURES[b]!;
    // b goes first so that it is pending when a's call arrives.
    const pb = client.call(labels[fb.proc]!, (w) => w.u32(2 * k + 1), DECODERS[fb.proc]!, { timeout: LONG });
    const pa = client.call(labels[fa.proc]!, (w) => w.u32(2 * k), DECODERS[fa.proc]!, { timeout: SHORT });
    const [rb, ra] = await Promise.allSettled([pb, pa]);
    tally.add('crosstalk', classify(rb!), `${fa.name} results to ${fb.name}`);
    tally.add('lost', classify(ra!), `${fa.name}`);
  });
  tally.report(t, 'crosstalk');
  t.same(tally.untyped, []);
  t.equal(tally.byKind.get('lost')?.get('RpcDeadlineError'), n, 'the calls whose reply went elsewhere reach their deadline');
  t.equal(client.pending, 0);
});

// ---- framing ----------------------------------------------------------------

const ECHO = Object.freeze({ prog: NFS_PROGRAM, vers: NFS_V3, proc: 0, name: 'NFSPROC3_NULL' });
const nullCall = (client: RpcClient, timeout = LONG) => client.call(ECHO, null, P.decodeNull3res, { timeout });

t.test('a record marker near 2 GiB resets the connection; calls on the wire fail typed, the next call reconnects', async (t) => {
  const markers = [0x7fff_ffff, 0xffff_ffff, 0xffff_fff0, 0x8000_0000 | (4 * 1024 * 1024 + 64 * 1024 + 1)];
  for (const marker of markers) {
    let bad = true;
    const { server, client } = await fakeNfs(t, (call) => {
      if (!bad) return Buffer.alloc(0);
      // Hold the first five, then answer with the marker and a little of its "body".
      if (call.conn.calls.length === 5) {
        bad = false;
        call.conn.send(Buffer.concat([u32(marker), Buffer.alloc(64, 0xab)]));
      }
    });
    const rs = await Promise.allSettled(Array.from({ length: 5 }, () => nullCall(client)));
    t.same(
      rs.map((r) => (r.status === 'rejected' ? `${(r.reason as Error).name} ${(r.reason as { code?: string }).code}` : 'value')),
      Array(5).fill('RpcConnectionError ERR_RPC_RECORD'),
      `marker 0x${marker.toString(16)}: every call in flight fails with ERR_RPC_RECORD`,
    );
    t.equal(await nullCall(client), undefined, 'the next call goes out on a new connection');
    t.equal(server.connectionCount, 2);
    t.equal(client.pending, 0);
  }
});

t.test('fragments adding up to more than the maximum are refused before they are buffered', async (t) => {
  const max = 64 * 1024;
  const { client } = await fakeNfs(
    t,
    (call) => {
      // Three non-last fragments of 30 KiB: the third header takes the record past 64 KiB.
      const frag = Buffer.concat([u32(30 * 1024), Buffer.alloc(30 * 1024)]);
      call.conn.send(Buffer.concat([frag, frag, frag]));
      call.drop();
    },
    { maxRecordSize: max },
  );
  await t.rejects(nullCall(client), { name: 'RpcConnectionError', code: 'ERR_RPC_RECORD' });
  t.equal(client.pending, 0);
});

t.test('empty fragments before a reply are legal and cost nothing', async (t) => {
  const { client } = await fakeNfs(t, (call) => answerRaw(call, Buffer.concat([Buffer.alloc(4 * 50_000), wireBytes([replyRecord(call.xid, Buffer.alloc(0))])])));
  t.equal(await nullCall(client), undefined);
});

t.test('hard retry policy: calls lost to an oversize marker are re-sent with the same xid and succeed', async (t) => {
  const seen = new Map<number, number>();
  let bad = true;
  const { client } = await fakeNfs(
    t,
    (call) => {
      seen.set(call.xid, (seen.get(call.xid) ?? 0) + 1);
      if (!bad) return Buffer.alloc(0);
      if (call.conn.calls.length === 5) {
        bad = false;
        call.conn.send(u32(0x7fff_ffff));
      }
    },
    { retry: { timeo: 30_000, retrans: 2, hard: true } },
  );
  const rs = await Promise.all(Array.from({ length: 5 }, () => nullCall(client)));
  t.same(rs, Array(5).fill(undefined), 'all five succeed');
  t.same([...seen.values()], Array(5).fill(2), 'each xid sent twice');
  t.equal(client.stats.reconnects, 1);
  t.equal(client.pending, 0);
});

t.test('soft retry policy against a server that always sends a 2 GiB marker: ETIMEDOUT, and no reconnect storm', async (t) => {
  const { server, client } = await fakeNfs(
    t,
    (call) => {
      call.conn.send(u32(0x7fff_ffff));
      call.drop();
    },
    { retry: { timeo: 100, retrans: 2, hard: false } },
  );
  await t.rejects(nullCall(client), { name: 'RpcTimeoutError', code: 'ETIMEDOUT' });
  t.equal(client.pending, 0);
  t.comment(`${server.connectionCount} connections in the soft budget (timeo 100 ms, retrans 2)`);
  // Reconnecting without a pause would open one connection per round trip: thousands in 600 ms.
  t.ok(server.connectionCount <= 12, `reconnects back off (${server.connectionCount} connections)`);
});

t.test('a stream desynchronised by a bogus fragment header recovers at the next major timeout', async (t) => {
  for (const hard of [false, true]) {
    let first = true;
    const { client } = await fakeNfs(
      t,
      (call) => {
        if (first) {
          first = false;
          // A header announcing 4 KiB of a record that never comes: every later reply on this connection is swallowed by it.
          call.conn.send(u32(4096));
          call.drop();
          return;
        }
        return Buffer.alloc(0);
      },
      // timeo 250 ms: the calls after the reset have 750 ms to be answered, even on a loaded machine.
      { retry: { timeo: 250, retrans: 1, hard } },
    );
    const r1 = await Promise.allSettled([nullCall(client)]);
    const outcomes = [classify(r1[0]!)];
    // A soft call fails once; the calls after it must not inherit the broken stream.
    for (let i = 0; i < 3; i++) outcomes.push(classify((await Promise.allSettled([nullCall(client)]))[0]!));
    t.same(outcomes, hard ? ['value', 'value', 'value', 'value'] : ['RpcTimeoutError', 'value', 'value', 'value'], `${hard ? 'hard' : 'soft'}: ${outcomes.join(', ')}`);
    t.equal(client.pending, 0);
  }
});

t.test('unknown xids and non-replies are counted and dropped; the real reply still settles its call', async (t) => {
  const { client } = await fakeNfs(t, (call) => {
    const junk: Buffer[] = [];
    for (let i = 1; i <= 40; i++) junk.push(replyRecord((call.xid + 0x100_0000 * i) >>> 0, Buffer.alloc(0)));
    junk.push(Buffer.concat([u32(call.xid, 0), Buffer.alloc(32)])); // its own xid, but a CALL
    junk.push(replyRecord(call.xid, Buffer.alloc(0)));
    answerRaw(call, wireBytes(junk));
  });
  const before = client.stats.unknownXids;
  t.equal(await nullCall(client), undefined);
  t.equal(client.stats.unknownXids - before, 41, '40 unknown xids + 1 CALL counted');
  t.equal(client.pending, 0);
});

// ---- the READDIR cookie loop through the fs layer -----------------------------

/** fattr3 of a directory (or a file) with the given fileid. */
function fattr3(w: XdrWriter, fileid: number, dir = true): void {
  w.u32(dir ? 2 : 1).u32(dir ? 0o755 : 0o644).u32(2).u32(0).u32(0).u64(4096).u64(4096).u32(0).u32(0).u64(1).u64(fileid);
  for (let i = 0; i < 3; i++) w.u32(1_700_000_000).u32(0);
}

type Page = { entries: { name: string; cookie: bigint; fileid?: number }[]; eof: boolean };

/**
 * Directories of a fake NFSv3 server, by name under the root: each a function
 * from the cookie asked for to the page answered. `pages` counts READDIR(PLUS)
 * calls (the test resets it); past 2 000 the server answers NFS3ERR_IO, so
 * that a client that loops fails this test instead of hanging it.
 */
function dirServer(dirs: Record<string, (cookie: bigint) => Page>) {
  const state = { pages: 0 };
  const handler: FakeHandler = (call) => {
    const r = new XdrReader(call.args);
    const fh = r.opaque(64).toString();
    const w = new XdrWriter();
    switch (call.proc) {
      case 1: // GETATTR
        w.u32(0);
        fattr3(w, 1);
        break;
      case 3: {
        // LOOKUP
        const name = r.string(255);
        if (fh !== 'root' || !(name in dirs)) {
          w.u32(2).u32(0); // NOENT, no dir attributes
          break;
        }
        // 'emptyfh' is found with a zero-length handle, which no call could carry.
        w.u32(0).opaque(Buffer.from(name === 'emptyfh' ? '' : name)).u32(1);
        fattr3(w, 100 + Object.keys(dirs).indexOf(name));
        w.u32(0);
        break;
      }
      case 16:
      case 17: {
        const cookie = r.u64();
        if (++state.pages > 2000 || !(fh in dirs)) {
          w.u32(5).u32(0); // NFS3ERR_IO
          break;
        }
        const page = dirs[fh]!(cookie);
        w.u32(0).u32(0).fixed(Buffer.alloc(8));
        for (const e of page.entries) {
          w.bool(true).u64(BigInt(e.fileid ?? 1000)).string(e.name).u64(e.cookie);
          if (call.proc === 17) {
            w.u32(1);
            fattr3(w, e.fileid ?? 1000, false);
            w.u32(1).opaque(Buffer.from(`${fh}/${e.name}`));
          }
        }
        w.bool(false).bool(page.eof);
        break;
      }
      default:
        call.replyAccepted(3); // PROC_UNAVAIL
        return;
    }
    return w.toBuffer();
  };
  return { state, handler };
}

t.test('READDIR through the fs layer: a listing that loops or never ends is cut off with EIO', async (t) => {
  const names = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `f${from + i}`);
  const { state, handler } = dirServer({
    // Three pages, then eof: the control.
    good: (c) => ({ entries: names(3, Number(c)).map((name, i) => ({ name, cookie: c + BigInt(i + 1), fileid: 1000 + Number(c) + i })), eof: c >= 6n }),
    // The same page whatever cookie is asked: the cookie never advances.
    stuck: () => ({ entries: [{ name: 'a', cookie: 1n }, { name: 'b', cookie: 2n }], eof: false }),
    // Fresh cookies, the same entries again and again.
    repeating: (c) => ({ entries: [{ name: 'a', cookie: c + 1n, fileid: 7 }, { name: 'b', cookie: c + 2n, fileid: 8 }], eof: false }),
    // Nothing, and never eof.
    empty: () => ({ entries: [], eof: false }),
    // Cookie 0 for every entry.
    zero: () => ({ entries: [{ name: 'x', cookie: 0n }], eof: false }),
    // A name no directory can hold.
    slash: () => ({ entries: [{ name: '../../etc/passwd', cookie: 1n }], eof: true }),
    // Listed fine, but LOOKUP hands out an empty file handle for it.
    emptyfh: () => ({ entries: [], eof: true }),
  });
  const { client: rpc } = await fakeNfs(t, handler);
  const nfs = new NfsClient(Nfs3Backend.fromRpc(rpc, Buffer.from('root'), { rsize: 65536, wsize: 65536, dtpref: 8192, maxFileSize: 2 ** 53 }), { umask: 0o022, readonly: false });

  t.same(await nfs.readdir('/good'), names(9), 'a well-behaved listing of three pages');
  t.same((await nfs.readdir('/good', { withFileTypes: true })).map((d) => d.name), names(9), 'the same with READDIRPLUS');

  for (const dir of ['stuck', 'repeating', 'empty', 'zero', 'slash']) {
    for (const how of ['readdir', 'readdir withFileTypes', 'opendir'] as const) {
      state.pages = 0;
      const p =
        how === 'opendir'
          ? (async () => {
              const out: string[] = [];
              for await (const d of await nfs.opendir(`/${dir}`)) out.push(d.name);
              return out;
            })()
          : nfs.readdir(`/${dir}`, { withFileTypes: how !== 'readdir' });
      await t.rejects(p, { code: 'EIO', syscall: 'scandir', path: `/${dir}` }, `${dir}, ${how}: EIO`);
      t.ok(state.pages <= 3, `${dir}, ${how}: cut off after ${state.pages} pages`);
    }
  }
  await t.rejects(nfs.readdir('/emptyfh'), { name: 'XdrDecodeError', code: 'ERR_XDR_DECODE', syscall: 'scandir' }, 'an empty file handle in a reply is a decode error, not a RangeError at the next call');
  t.equal(rpc.pending, 0);
  await nfs.close();
});

t.test('no unhandled rejections', async (t) => {
  await sleep(10);
  t.equal(unhandled, 0);
});
