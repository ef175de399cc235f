// NLM v4 byte-range locks against the real NFS-Ganesha (and its rpc.statd)
// started by scripts/local-nas. Two NlmLockers are two lock owners: every
// contention below is between them, as between two clients.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { RpcClient } from '../../src/rpc/client.js';
import { authSys } from '../../src/rpc/auth.js';
import { NfsStatusError } from '../../src/errors.js';
import { pmapGetport, PMAP_PORT } from '../../src/portmap/portmap.js';
import { mnt, MOUNT_PROGRAM, MOUNT_V3 } from '../../src/mount/mount.js';
import { NFS_PROGRAM, NFS_V3, nfs3Create, nfs3Lookup, nfs3Remove, nfsstat3Name, type Nfs3Fh } from '../../src/nfs3/index.js';
import { NLM4_DENIED, NLM4_VERS, NLM_PROG } from '../../src/nlm/constants.js';
import { nlm4Null, type Nlm4Res } from '../../src/nlm/procedures.js';
import { NlmLocker, type NlmLockerOptions } from '../../src/nlm/locks.js';

const url = new URL(process.env.NFS_URL ?? 'nfs://127.0.0.1/export');
const host = url.hostname;
const exportPath = decodeURIComponent(url.pathname) || '/';

const pmap = new RpcClient({ host, port: PMAP_PORT, timeout: 10_000 });
const mountPort = await pmapGetport(pmap, MOUNT_PROGRAM, MOUNT_V3);
const nfsPort = await pmapGetport(pmap, NFS_PROGRAM, NFS_V3);
const nlmPort = await pmapGetport(pmap, NLM_PROG, NLM4_VERS);
await pmap.close();
if (!mountPort || !nfsPort) throw new Error(`MOUNT v3 or NFS v3 not registered with rpcbind on ${host}`);
if (!nlmPort) throw new Error(`NLM v4 (nlockmgr) not registered with rpcbind on ${host}: is Enable_NLM set in Ganesha's config?`);

const auth = authSys({ uid: 0, gid: 0 });
const mountRpc = new RpcClient({ host, port: mountPort, auth, timeout: 10_000 });
const { fhandle: root } = await mnt(mountRpc, exportPath);
await mountRpc.close();

const rpc = new RpcClient({ host, port: nfsPort, auth, timeout: 30_000 });
const created: string[] = [];
t.teardown(async () => {
  for (const name of created) await nfs3Remove(rpc, root, name).catch(() => {});
  await rpc.close();
});

/** A fresh empty file in the export root, removed when the file's tests end. */
async function newFile(tag: string): Promise<Nfs3Fh> {
  const name = `nlm-${tag}-${process.pid}-${randomBytes(4).toString('hex')}`;
  const res = await nfs3Create(rpc, root, name, { mode: 'GUARDED', attributes: { mode: 0o644 } });
  if (!res.ok) throw new Error(`CREATE ${name}: ${nfsstat3Name(res.status)}`);
  created.push(name);
  if (res.obj) return res.obj;
  const l = await nfs3Lookup(rpc, root, name);
  if (!l.ok) throw new Error(`LOOKUP ${name}: ${nfsstat3Name(l.status)}`);
  return l.object;
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** A locker closed when the test ends. Without `port`, it asks rpcbind. */
function locker(t: Teardown, over: Partial<NlmLockerOptions> = {}): NlmLocker {
  const l = new NlmLocker({ host, auth, port: nlmPort, timeout: 10_000, ...over });
  t.teardown(() => l.close());
  return l;
}

/**
 * Resolves the first time one of `l`'s LOCK calls comes back NLM4_DENIED:
 * proof that a waiting lock really met the conflict and is polling, without
 * guessing how long that takes.
 */
function firstDenial(l: NlmLocker): Promise<void> {
  return new Promise((resolve) => {
    const orig = l.call.bind(l);
    l.call = (<T>(...args: Parameters<NlmLocker['call']>) =>
      (orig(...args) as Promise<T>).then((r) => {
        if ((r as Partial<Nlm4Res> | undefined)?.stat === NLM4_DENIED) resolve();
        return r;
      })) as NlmLocker['call'];
  });
}

/** Tracks whether a promise settled yet, without changing its outcome. */
function watch<T>(p: Promise<T>): { p: Promise<T>; settled: () => boolean } {
  let done = false;
  const mark = () => {
    done = true;
  };
  p.then(mark, mark);
  return { p, settled: () => done };
}

const denied = { name: 'NfsStatusError', status: 'NLM4_DENIED', errnoCode: 'EAGAIN', op: 'NLMPROC4_LOCK' };

t.test('NLMPROC4_NULL answers; a first lock is granted (rpc.statd reachable)', async (t) => {
  const raw = new RpcClient({ host, port: nlmPort, auth, timeout: 10_000 });
  t.teardown(() => raw.close());
  t.equal(await nlm4Null(raw), undefined);

  const fh = await newFile('first');
  const a = locker(t, { port: undefined }); // through rpcbind GETPORT
  try {
    await a.lock(fh, 0, 1, { exclusive: true });
  } catch (err) {
    if (err instanceof NfsStatusError && err.status === 'NLM4_DENIED_NOLOCKS') {
      t.fail('Ganesha answered NLM4_DENIED_NOLOCKS: its SM_MON to rpc.statd failed. Is rpc.statd running (pgrep rpc.statd)? scripts/local-nas starts it.');
      return;
    }
    throw err;
  }
  t.pass('granted');
  await a.unlock(fh, 0, 1);
});

t.test('two lockers contend: denial, disjoint ranges, TEST names the holder, waiting, release', async (t) => {
  const fh = await newFile('contend');
  const a = locker(t, { port: undefined });
  const b = locker(t, { pollMinMs: 10, pollMaxMs: 100 });
  t.not(a.oh.toString('hex'), b.oh.toString('hex'), 'each locker has its own owner handle');
  t.not(a.svid, b.svid);

  await a.lock(fh, 0, 100, { exclusive: true });
  await t.rejects(b.lock(fh, 50, 10, { exclusive: true }), denied, "B's [50,60) overlaps A's [0,100)");
  await t.rejects(b.lock(fh, 99, 1, { exclusive: false }), denied, 'a shared lock conflicts with an exclusive one');
  await b.lock(fh, 100, 100, { exclusive: true });
  t.pass('[100,200) does not overlap [0,100): granted');

  const holder = await b.test(fh, 0, 10, true);
  t.ok(holder, 'TEST reports a conflict');
  t.match(holder, { exclusive: true, start: 0, length: 100, svid: a.svid });
  t.same(holder?.oh, a.oh, "the holder's oh is A's");
  t.equal(await a.test(fh, 0, 100, true), undefined, "A's own lock never conflicts with A");
  const bHolder = await a.test(fh, 150, 0, false);
  t.match(bHolder, { exclusive: true, start: 100, length: 100, svid: b.svid }, "TEST from A to EOF finds B's [100,200)");

  const denial = firstDenial(b);
  const events: string[] = [];
  const waiting = watch(
    b.lock(fh, 0, 10, { exclusive: true, wait: true }).then(() => {
      events.push('B granted');
    }),
  );
  await Promise.race([denial, waiting.p]);
  t.equal(waiting.settled(), false, 'B was refused while A holds the range, and keeps waiting');
  events.push('A unlock sent');
  await a.unlock(fh, 0, 100);
  events.push('A unlock resolved');
  await waiting.p;
  // B's grant can only follow A's UNLOCK reaching the server. Whether B's
  // reply or A's reaches this process first is up to the sockets, so the
  // order asserted is against A's UNLOCK being sent.
  t.equal(events[0], 'A unlock sent');
  t.ok(events.indexOf('B granted') > 0, `B was granted after A's unlock was sent: ${events.join(', ')}`);
  t.same(events.slice().sort(), ['A unlock resolved', 'A unlock sent', 'B granted'].sort());

  const now = await a.test(fh, 0, 10, true);
  t.match(now, { svid: b.svid, start: 0, length: 10 }, 'B now holds [0,10)');
  await t.rejects(a.lock(fh, 5, 1, { exclusive: false }), denied);
});

t.test('shared locks coexist; an exclusive one is refused while they are held', async (t) => {
  const fh = await newFile('shared');
  const a = locker(t);
  const b = locker(t);
  const c = locker(t);
  await a.lock(fh, 0, 100, { exclusive: false });
  await b.lock(fh, 0, 100, { exclusive: false });
  await c.lock(fh, 50, 0, { exclusive: false });
  t.pass('three shared locks over overlapping ranges');
  t.equal(await b.test(fh, 0, 100, false), undefined, 'another shared lock would be granted');
  const h = await c.test(fh, 0, 10, true);
  t.match(h, { exclusive: false }, 'an exclusive TEST meets a shared holder');
  t.ok(h && (h.svid === a.svid || h.svid === b.svid), 'the holder is A or B');
  await t.rejects(c.lock(fh, 0, 10, { exclusive: true }), denied);
  await a.unlock(fh, 0, 0);
  await t.rejects(c.lock(fh, 0, 10, { exclusive: true }), denied, "B's shared lock still stands");
  await b.unlock(fh, 0, 0);
  await c.lock(fh, 0, 10, { exclusive: true });
  t.pass('granted once A and B released');
});

t.test("an owner's own locks merge and split; unlocking part of a range frees only that part", async (t) => {
  const fh = await newFile('split');
  const a = locker(t);
  const b = locker(t);
  await a.lock(fh, 0, 100, { exclusive: true });
  await a.lock(fh, 50, 100, { exclusive: true });
  t.pass('A re-locks over its own range: no self-conflict');
  await a.unlock(fh, 40, 20);
  await b.lock(fh, 45, 10, { exclusive: true });
  t.pass('[40,60) was released');
  await t.rejects(b.lock(fh, 0, 10, { exclusive: true }), denied, '[0,40) is still held');
  await t.rejects(b.lock(fh, 140, 5, { exclusive: true }), denied, '[60,150) is still held');
  await b.lock(fh, 150, 10, { exclusive: true });
  t.pass('[150,160) was never held');
});

t.test('owners of one locker contend with each other', async (t) => {
  const fh = await newFile('owners');
  const a = locker(t);
  const o1 = a.newOwner();
  t.same(o1.oh, a.oh, 'same owner handle');
  t.not(o1.svid, a.svid, 'different svid');
  await o1.lock(fh, 0, 10, { exclusive: true });
  await t.rejects(a.lock(fh, 5, 1, { exclusive: true }), denied);
  t.match(await a.test(fh, 0, 0, true), { svid: o1.svid });
  await o1.close();
  await a.lock(fh, 5, 1, { exclusive: true });
  t.pass("o1.close() released o1's lock");
  await t.rejects(o1.lock(fh, 0, 1, { exclusive: true }), { code: 'ERR_RPC_CLOSED' }, 'a closed owner refuses new locks');
});

t.test('an AbortSignal aborts a waiting lock, which leaves nothing held', async (t) => {
  const fh = await newFile('abort');
  const a = locker(t);
  const b = locker(t, { pollMinMs: 10, pollMaxMs: 40 });
  await a.lock(fh, 0, 100, { exclusive: true });

  const pre = new AbortController();
  pre.abort();
  await t.rejects(b.lock(fh, 0, 10, { exclusive: true, wait: true, signal: pre.signal }), { name: 'AbortError', code: 'ABORT_ERR' }, 'an aborted signal refuses at once');

  const ac = new AbortController();
  const denial = firstDenial(b);
  const waiting = watch(b.lock(fh, 0, 10, { exclusive: true, wait: true, signal: ac.signal }));
  await Promise.race([denial, waiting.p.catch(() => {})]);
  t.equal(waiting.settled(), false, 'B is waiting');
  ac.abort(new Error('changed my mind'));
  await t.rejects(waiting.p, { name: 'AbortError' });

  await a.unlock(fh, 0, 0);
  // Were B still polling, it would take [0,10) within one poll (40 ms) of
  // this unlock; give it several before asking the server.
  await new Promise((r) => setTimeout(r, 300));
  t.equal(await a.test(fh, 0, 0, true), undefined, 'B holds nothing on the file');
  t.same(b.owner.lockedFiles, [], 'B records no lock either');
});

t.test('close() releases every lock of every owner, on every file, and wakes waiters', async (t) => {
  const f1 = await newFile('close1');
  const f2 = await newFile('close2');
  const a = new NlmLocker({ host, auth, port: nlmPort, timeout: 10_000 });
  const b = locker(t, { pollMinMs: 10, pollMaxMs: 50 });
  const a2 = a.newOwner();
  await a.lock(f1, 0, 100, { exclusive: true });
  await a.lock(f1, 200, 100, { exclusive: false });
  await a2.lock(f2, 0, 0, { exclusive: true });
  t.equal(a.owner.lockedFiles.length, 1);
  await t.rejects(b.lock(f1, 250, 1, { exclusive: true }), denied);
  await t.rejects(b.lock(f2, 1000, 1, { exclusive: false }), denied);

  // A waiter on A's own locker is woken by close() rather than left polling.
  const a3 = a.newOwner();
  const stuck = watch(a3.lock(f2, 0, 1, { exclusive: true, wait: true }));

  await a.close();
  await t.rejects(stuck.p, { code: 'ERR_RPC_CLOSED' }, 'a waiting lock rejects when its locker closes');
  await b.lock(f1, 0, 0, { exclusive: true });
  await b.lock(f2, 0, 0, { exclusive: true });
  t.pass("B locks both whole files: nothing of A's is left");
  await t.rejects(a.lock(f1, 0, 1, { exclusive: true }), { code: 'ERR_RPC_CLOSED' });
  t.throws(() => a.newOwner(), { code: 'ERR_RPC_CLOSED' });
  await a.close();
  t.pass('close() is idempotent');
});

t.test('server refusals carry their NLM4_* status and errno', async (t) => {
  const a = locker(t);
  const bogus = Buffer.alloc(32, 0x5a);
  const err = await a.lock(bogus, 0, 1, { exclusive: true }).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(err instanceof NfsStatusError, `an NfsStatusError: ${String(err)}`);
  t.match(err, { status: 'NLM4_STALE_FH', errnoCode: 'ESTALE', op: 'NLMPROC4_LOCK' });
});

t.test('arguments are checked before anything is sent', async (t) => {
  const fh = await newFile('args');
  const a = locker(t);
  await t.rejects(a.lock(fh, -1, 1, { exclusive: true }), { code: 'ERR_OUT_OF_RANGE' });
  await t.rejects(a.lock(fh, 0.5, 1, { exclusive: true }), { code: 'ERR_OUT_OF_RANGE' });
  await t.rejects(a.lock(fh, 0, -2, { exclusive: true }), { code: 'ERR_OUT_OF_RANGE' });
  await t.rejects(a.lock(fh, 0, 1, {} as never), { code: 'ERR_INVALID_ARG_TYPE' });
  await t.rejects(a.lock(Buffer.alloc(0), 0, 1, { exclusive: true }), { code: 'ERR_INVALID_ARG_VALUE' });
  await t.rejects(a.lock('fh' as unknown as Buffer, 0, 1, { exclusive: true }), { code: 'ERR_INVALID_ARG_TYPE' });
  t.same(a.owner.lockedFiles, []);
  // Infinity means "to EOF", as 0 does.
  await a.lock(fh, 10, Infinity, { exclusive: true });
  const b = locker(t);
  t.match(await b.test(fh, 1e12, 1, true), { start: 10, length: 0 });
});
