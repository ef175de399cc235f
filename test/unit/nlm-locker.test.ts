// NlmLocker's state machine with a scripted lock manager in place of the
// RPC client (no sockets): the paths NFS-Ganesha will not take on request,
// such as grace periods, BLOCKED answers to block=FALSE, replies lost in
// transit and close() racing a LOCK on the wire.
import t from 'tap';
import { XdrReader, XdrWriter } from '../../src/xdr/index.js';
import type { RpcClient } from '../../src/rpc/client.js';
import type { CallLabel } from '../../src/rpc/message.js';
import { authNone } from '../../src/rpc/auth.js';
import { RpcTimeoutError } from '../../src/rpc/errors.js';
import * as C from '../../src/nlm/constants.js';
import { NlmLocker, isLockDenied } from '../../src/nlm/locks.js';

/** One call as the lock manager saw it, decoded from the argument bytes. */
interface Seen {
  proc: number;
  cookie: Buffer;
  block?: boolean;
  exclusive?: boolean;
  callerName: string;
  fh: Buffer;
  oh: Buffer;
  svid: number;
  offset: bigint;
  length: bigint;
  reclaim?: boolean;
  state?: number;
}

type Holder = { exclusive: boolean; svid: number; oh: Buffer; offset: bigint; length: bigint };

function decodeArgs(proc: number, b: Buffer): Seen {
  const r = new XdrReader(b);
  const cookie = Buffer.from(r.opaque());
  const head: Partial<Seen> = {};
  if (proc === C.NLMPROC4_LOCK || proc === C.NLMPROC4_CANCEL) head.block = r.bool();
  if (proc !== C.NLMPROC4_UNLOCK) head.exclusive = r.bool();
  const lock = { callerName: r.string(), fh: Buffer.from(r.opaque()), oh: Buffer.from(r.opaque()), svid: r.i32(), offset: r.u64(), length: r.u64() };
  const tail: Partial<Seen> = {};
  if (proc === C.NLMPROC4_LOCK) {
    tail.reclaim = r.bool();
    tail.state = r.i32();
  }
  r.done();
  return { proc, cookie, ...head, ...lock, ...tail };
}

/** The reply body for a status: nlm4_res, or nlm4_testres with a holder when DENIED. */
function reply(seen: Seen, stat: number, holder?: Holder): Buffer {
  const w = new XdrWriter();
  w.opaque(seen.cookie);
  w.u32(stat);
  if (seen.proc === C.NLMPROC4_TEST && stat === C.NLM4_DENIED) {
    const h = holder ?? { exclusive: true, svid: 9, oh: Buffer.from('other'), offset: 0n, length: 0n };
    w.bool(h.exclusive).i32(h.svid).opaque(h.oh).u64(h.offset).u64(h.length);
  }
  return w.toBuffer();
}

type Answer = number | Error | Promise<number> | { stat: number; holder: Holder };

/**
 * A lock manager that answers each call from `script(seen, index)`: a
 * status, an error (the call failed in transit) or a promise of a status
 * (a reply still on its way).
 */
function scripted(script: (s: Seen, i: number) => Answer) {
  const log: Seen[] = [];
  const rpc = {
    call(label: CallLabel, encode: ((w: XdrWriter) => void) | null, decode: (r: XdrReader) => unknown) {
      const w = new XdrWriter();
      try {
        if (encode) encode(w);
      } catch (err) {
        return Promise.reject(err);
      }
      const seen = decodeArgs(label.proc, w.toBuffer());
      log.push(seen);
      const a = script(seen, log.length - 1);
      if (a instanceof Error) return Promise.reject(a);
      if (typeof a === 'object' && 'holder' in a) return Promise.resolve(decode(new XdrReader(reply(seen, a.stat, a.holder))));
      return Promise.resolve(a).then((stat) => decode(new XdrReader(reply(seen, stat))));
    },
  };
  const locker = new NlmLocker({ host: 'fake', auth: authNone(), client: rpc as unknown as RpcClient, machineName: 'unit-host', pollMinMs: 1, pollMaxMs: 4 });
  return { locker, log };
}

const fh = Buffer.from('0123456789abcdef');
const procs = (log: Seen[]) => log.map((s) => s.proc);

function deferred<T>(): { promise: Promise<T>; resolve(v: T): void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

t.test('identity: oh is 8 random bytes + pid; svids are unique; every call names the owner', async (t) => {
  const { locker: a, log } = scripted(() => C.NLM4_GRANTED);
  const { locker: b } = scripted(() => C.NLM4_GRANTED);
  t.equal(a.oh.length, 12);
  t.equal(a.oh.readUInt32BE(8), process.pid);
  t.not(a.oh.toString('hex'), b.oh.toString('hex'));
  const o = a.newOwner();
  t.equal(new Set([a.svid, b.svid, o.svid]).size, 3);
  t.ok(a.svid > 0 && a.svid <= 0x7fffffff, 'a positive int32');

  await a.lock(fh, 10, 20, { exclusive: true });
  await o.lock(fh, 0, Infinity, { exclusive: false });
  t.match(log[0], { proc: C.NLMPROC4_LOCK, block: false, exclusive: true, reclaim: false, state: 0, callerName: 'unit-host', svid: a.svid, offset: 10n, length: 20n });
  t.same(log[0]!.oh, a.oh);
  t.same(log[0]!.fh, fh);
  t.match(log[1], { exclusive: false, svid: o.svid, offset: 0n, length: 0n }, 'Infinity is sent as l_len 0');
  t.not(log[0]!.cookie.toString('hex'), log[1]!.cookie.toString('hex'), 'a fresh cookie per call');
});

t.test('without wait, DENIED fails at once with EAGAIN', async (t) => {
  const { locker, log } = scripted(() => C.NLM4_DENIED);
  const err = await locker.lock(fh, 0, 1, { exclusive: true }).catch((e: unknown) => e);
  t.match(err, { name: 'NfsStatusError', status: 'NLM4_DENIED', errnoCode: 'EAGAIN', op: 'NLMPROC4_LOCK' });
  t.ok(isLockDenied(err));
  t.same(procs(log), [C.NLMPROC4_LOCK]);
  t.same(locker.owner.lockedFiles, [], 'a denied lock is not recorded');
});

t.test('wait polls with block=FALSE until granted', async (t) => {
  const { locker, log } = scripted((_s, i) => (i < 4 ? C.NLM4_DENIED : C.NLM4_GRANTED));
  await locker.lock(fh, 0, 1, { exclusive: true, wait: true });
  t.same(procs(log), [2, 2, 2, 2, 2]);
  t.ok(log.every((s) => s.block === false), 'never block=TRUE: no GRANTED callback is expected');
  t.same(locker.owner.lockedFiles, [fh]);
});

t.test('a grace period is waited out, with or without wait; UNLOCK in grace counts as released', async (t) => {
  const { locker, log } = scripted((s, i) => (s.proc === C.NLMPROC4_UNLOCK ? C.NLM4_DENIED_GRACE_PERIOD : i < 3 ? C.NLM4_DENIED_GRACE_PERIOD : C.NLM4_GRANTED));
  await locker.lock(fh, 0, 0, { exclusive: false });
  t.same(procs(log), [2, 2, 2, 2]);
  await locker.unlock(fh, 0, 0);
  t.same(locker.owner.lockedFiles, [], 'whole-file unlock forgets the file');

  const { locker: l2, log: log2 } = scripted((_s, i) => (i < 2 ? C.NLM4_DENIED_GRACE_PERIOD : C.NLM4_DENIED));
  const holder = await l2.test(fh, 0, 1, true);
  t.same(procs(log2), [1, 1, 1], 'TEST is retried through the grace period too');
  t.match(holder, { exclusive: true, svid: 9, start: 0, length: 0 });
  t.same(holder?.oh, Buffer.from('other'));

  const ac = new AbortController();
  const { locker: l3 } = scripted(() => {
    ac.abort();
    return C.NLM4_DENIED_GRACE_PERIOD;
  });
  await t.rejects(l3.lock(fh, 0, 1, { exclusive: true, signal: ac.signal }), { name: 'AbortError' }, 'the grace wait is abortable');
});

t.test('BLOCKED (not asked for) is withdrawn with CANCEL and treated as DENIED', async (t) => {
  const { locker, log } = scripted((s) => (s.proc === C.NLMPROC4_LOCK ? C.NLM4_BLOCKED : C.NLM4_GRANTED));
  await t.rejects(locker.lock(fh, 5, 6, { exclusive: true }), { name: 'NfsStatusError', status: 'NLM4_DENIED', errnoCode: 'EAGAIN' });
  t.same(procs(log), [C.NLMPROC4_LOCK, C.NLMPROC4_CANCEL]);
  t.match(log[1], { block: false, exclusive: true, svid: locker.svid, offset: 5n, length: 6n }, 'CANCEL names the same lock');
});

t.test('other refusals surface with status, errno and procedure', async (t) => {
  const cases: Array<[number, string, string]> = [
    [C.NLM4_DENIED_NOLOCKS, 'NLM4_DENIED_NOLOCKS', 'ENOLCK'],
    [C.NLM4_DEADLCK, 'NLM4_DEADLCK', 'EDEADLK'],
    [C.NLM4_ROFS, 'NLM4_ROFS', 'EROFS'],
    [C.NLM4_STALE_FH, 'NLM4_STALE_FH', 'ESTALE'],
    [C.NLM4_FBIG, 'NLM4_FBIG', 'EFBIG'],
    [C.NLM4_FAILED, 'NLM4_FAILED', 'EIO'],
    [77, 'NLM4_UNKNOWN_77', 'EIO'],
  ];
  for (const [stat, status, errnoCode] of cases) {
    const { locker, log } = scripted(() => stat);
    await t.rejects(locker.lock(fh, 0, 1, { exclusive: true, wait: true }), { name: 'NfsStatusError', status, errnoCode, op: 'NLMPROC4_LOCK' }, status);
    t.equal(log.length, 1, `${status} is not retried`);
    await t.rejects(locker.unlock(fh, 0, 1), { name: 'NfsStatusError', status, op: 'NLMPROC4_UNLOCK' });
    await t.rejects(locker.test(fh, 0, 1, false), { name: 'NfsStatusError', status, op: 'NLMPROC4_TEST' });
  }
});

t.test('a LOCK whose reply is lost is recorded, so close() still unlocks the file', async (t) => {
  const { locker, log } = scripted((s) => (s.proc === C.NLMPROC4_LOCK ? new RpcTimeoutError('lost') : C.NLM4_GRANTED));
  await t.rejects(locker.lock(fh, 100, 1, { exclusive: true }), { code: 'ETIMEDOUT' });
  t.same(locker.owner.lockedFiles, [fh], 'the outcome is unknown: the file may be locked');
  await locker.close();
  t.same(procs(log), [C.NLMPROC4_LOCK, C.NLMPROC4_UNLOCK]);
  t.match(log[1], { svid: locker.svid, offset: 0n, length: 0n }, 'the whole file, for the same owner');
});

t.test('close() waits for a LOCK on the wire and unlocks it if it was granted', async (t) => {
  const pending = deferred<number>();
  const { locker, log } = scripted((s) => (s.proc === C.NLMPROC4_LOCK ? pending.promise : C.NLM4_GRANTED));
  const locking = locker.lock(fh, 0, 10, { exclusive: true }).then(
    () => 'granted',
    (e: { code?: string }) => e.code,
  );
  const closing = locker.close();
  await new Promise((r) => setImmediate(r));
  t.same(procs(log), [C.NLMPROC4_LOCK], 'no UNLOCK before the LOCK has answered');
  pending.resolve(C.NLM4_GRANTED);
  await closing;
  t.equal(await locking, 'ERR_RPC_CLOSED', 'the lock() reports the close');
  t.same(procs(log), [C.NLMPROC4_LOCK, C.NLMPROC4_UNLOCK], 'the late grant was released');
  await t.rejects(locker.test(fh, 0, 1, true), { code: 'ERR_RPC_CLOSED' });
  t.same(procs(log), [2, 4], 'nothing is sent after close');
});

t.test('abort: between polls it stops at once; a LOCK already on the wire finishes and its grant stands', async (t) => {
  const ac = new AbortController();
  const { locker, log } = scripted((_s, i) => {
    if (i === 2) ac.abort();
    return C.NLM4_DENIED;
  });
  await t.rejects(locker.lock(fh, 0, 1, { exclusive: true, wait: true, signal: ac.signal }), { name: 'AbortError', code: 'ABORT_ERR' });
  t.equal(log.length, 3, 'no LOCK after the abort');
  t.same(locker.owner.lockedFiles, []);

  const ac2 = new AbortController();
  const pending = deferred<number>();
  const { locker: l2, log: log2 } = scripted(() => pending.promise);
  const p = l2.lock(fh, 0, 1, { exclusive: true, wait: true, signal: ac2.signal });
  ac2.abort();
  pending.resolve(C.NLM4_GRANTED);
  await p;
  t.pass('resolved: the server granted it, so the caller holds it and must unlock');
  t.same(l2.owner.lockedFiles, [fh]);
  t.equal(log2.length, 1);
});

t.test('an owner closes on its own; its locker keeps working', async (t) => {
  const { locker, log } = scripted(() => C.NLM4_GRANTED);
  const o = locker.newOwner();
  await o.lock(fh, 0, 1, { exclusive: true });
  await o.lock(Buffer.from('other-file'), 0, 1, { exclusive: true });
  await o.unlock(fh, 0, 1);
  t.equal(o.lockedFiles.length, 2, 'a partial unlock keeps the file on the list');
  await o.close();
  t.same(
    log.slice(3).map((s) => [s.proc, s.svid, s.fh.toString(), s.offset, s.length]),
    [
      [C.NLMPROC4_UNLOCK, o.svid, fh.toString(), 0n, 0n],
      [C.NLMPROC4_UNLOCK, o.svid, 'other-file', 0n, 0n],
    ],
  );
  t.equal(o.closed, true);
  await locker.lock(fh, 0, 1, { exclusive: true });
  await locker.close();
  t.equal(log.at(-1)!.svid, locker.svid, "the locker's close unlocks only its remaining owner's file");
  t.equal(log.filter((s) => s.proc === C.NLMPROC4_UNLOCK).length, 4);
});

t.test('TEST converts the holder to an fcntl-style range', async (t) => {
  const oh = Buffer.from('peer-owner');
  const holders: Holder[] = [
    { exclusive: false, svid: 3, oh, offset: 100n, length: 50n },
    { exclusive: true, svid: -2, oh, offset: 7n, length: 0n },
    { exclusive: true, svid: 4, oh, offset: 10n, length: 2n ** 63n },
  ];
  const { locker } = scripted((_s, i) => ({ stat: C.NLM4_DENIED, holder: holders[i]! }));
  t.same(await locker.test(fh, 0, 0, true), { exclusive: false, start: 100, length: 50, svid: 3, oh });
  t.same(await locker.test(fh, 0, 0, true), { exclusive: true, start: 7, length: 0, svid: -2, oh }, 'l_len 0: to EOF');
  t.same(await locker.test(fh, 0, 0, true), { exclusive: true, start: 10, length: 0, svid: 4, oh }, 'a range past 2^53 is to EOF');
  const { locker: free } = scripted(() => C.NLM4_GRANTED);
  t.equal(await free.test(fh, 0, 0, false), undefined);
});
