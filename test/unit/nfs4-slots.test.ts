// The 4.1 slot table, the lease renewer (fake clock) and 4.0 owner seqid rules: no sockets.
import t from 'tap';
import { LeaseRenewer, lockRange, toConflict, READ_LT, WRITE_LT, nfsstat4, NFS4_UINT64_MAX, OpenOwnerPool, SlotTable, StateOwner, type Clock } from '../../src/nfs4/index.js';

/** A clock whose time moves only when the test says so. */
class ManualClock implements Clock {
  t = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private next = 1;
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.timers.delete(h as number);
  }
  get pending(): number {
    return this.timers.size;
  }
  /** Moves time forward, firing due timers in order. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      let first: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= end && (!first || e[1].at < first[1].at)) first = e;
      if (!first) break;
      this.timers.delete(first[0]);
      this.t = first[1].at;
      first[1].fn();
      await flush();
    }
    this.t = end;
    await flush();
  }
}

const flush = () => new Promise<void>((r) => setImmediate(r));

t.test('slot table: lowest free slot, sequenceid 1 first, highest slot in use', async (t) => {
  const s = new SlotTable(3);
  const a = s.tryAcquire()!;
  const b = s.tryAcquire()!;
  t.same([a.slotid, a.sequenceid, a.highestSlotid], [0, 1, 0]);
  t.same([b.slotid, b.sequenceid, b.highestSlotid], [1, 1, 1]);
  s.release(a, 'processed');
  const c = s.tryAcquire()!;
  t.same([c.slotid, c.sequenceid, c.highestSlotid], [0, 2, 1], 'slot 0 again, next sequenceid, slot 1 still held');
  t.equal(s.inUse, 2);
});

t.test('sequenceids advance only when the server processed the request', async (t) => {
  const s = new SlotTable(1);
  let l = s.tryAcquire()!;
  s.release(l, 'processed');
  l = s.tryAcquire()!;
  t.equal(l.sequenceid, 2);
  s.release(l, 'not-processed');
  l = s.tryAcquire()!;
  t.equal(l.sequenceid, 2, 'reused after a SEQUENCE error');
  t.notOk(l.uncertain);
  s.release(l, 'unknown');
  l = s.tryAcquire()!;
  t.equal(l.sequenceid, 2, 'the lost request\'s sequenceid, to probe with');
  t.ok(l.uncertain, 'flagged for a probe');
  s.release(l, 'processed');
  l = s.tryAcquire()!;
  t.equal(l.sequenceid, 3);
  t.notOk(l.uncertain, 'settled by the probe');
  t.equal(s.lastSequenceid(0), 2);
});

t.test('slots are the in-flight window: callers wait FIFO for a free slot', async (t) => {
  const s = new SlotTable(2);
  const held = [await s.acquire(), await s.acquire()];
  const order: number[] = [];
  const w1 = s.acquire().then((l) => (order.push(1), l));
  const w2 = s.acquire().then((l) => (order.push(2), l));
  await flush();
  t.same(order, [], 'nobody gets a third slot');
  t.equal(s.waiting, 2);
  s.release(held[1]!, 'processed');
  const l1 = await w1;
  t.equal(l1.slotid, 1);
  t.equal(l1.sequenceid, 2);
  s.release(held[0]!, 'processed');
  const l2 = await w2;
  t.equal(l2.slotid, 0);
  t.same(order, [1, 2]);
  t.equal(s.inUse, 2);
});

t.test('an aborted wait leaves the queue and takes no slot', async (t) => {
  const s = new SlotTable(1);
  const held = s.tryAcquire()!;
  const ac = new AbortController();
  const w = s.acquire(ac.signal);
  const later = s.acquire();
  ac.abort();
  await t.rejects(w, { name: 'AbortError' });
  s.release(held, 'processed');
  const l = await later;
  t.equal(l.slotid, 0, 'the next waiter got the slot');
  await t.rejects(s.acquire(AbortSignal.abort()), { name: 'AbortError' });
});

t.test('the server\'s target highest slot limits the slots used', async (t) => {
  const s = new SlotTable(4);
  s.setTarget(0);
  t.equal(s.usable, 1);
  const a = s.tryAcquire()!;
  t.equal(s.tryAcquire(), undefined);
  const w = s.acquire();
  s.setTarget(3);
  const b = await w;
  t.equal(b.slotid, 1, 'growing the target wakes waiters');
  s.setTarget(100);
  t.equal(s.usable, 4, 'never above the negotiated size');
  s.setTarget(-5);
  t.equal(s.usable, 1, 'never below one');
  s.release(a, 'processed');
  s.release(b, 'processed');
});

t.test('reset starts a new generation; old leases no longer touch the table', async (t) => {
  const s = new SlotTable(2);
  const old = s.tryAcquire()!;
  const gen = s.generation;
  s.reset(3);
  t.equal(s.generation, gen + 1);
  t.equal(s.size, 3);
  t.equal(s.inUse, 0);
  const fresh = s.tryAcquire()!;
  t.same([fresh.slotid, fresh.sequenceid], [0, 1]);
  s.release(old, 'processed');
  t.equal(s.inUse, 1, 'the old lease\'s release is inert');
  t.equal(s.lastSequenceid(0), 0);
  s.release(fresh, 'processed');
  t.throws(() => s.reset(0), RangeError);
});

t.test('failWaiters rejects everyone queued', async (t) => {
  const s = new SlotTable(1);
  s.tryAcquire();
  const w = s.acquire();
  s.failWaiters(new Error('closed'));
  await t.rejects(w, /closed/);
});

t.test('lease renewer: renews when idle for a third of the lease, not when busy', async (t) => {
  const clock = new ManualClock();
  let renewals = 0;
  const r = new LeaseRenewer({ leaseMs: 3000, clock, renew: async () => void renewals++ });
  r.start();
  t.equal(r.intervalMs, 1000);
  await clock.advance(999);
  t.equal(renewals, 0);
  await clock.advance(1);
  t.equal(renewals, 1, 'idle for 1 s: renewed');
  // Busy: something renews the lease before each tick.
  for (let i = 0; i < 5; i++) {
    await clock.advance(500);
    r.renewed(clock.now());
    await clock.advance(500);
  }
  t.equal(renewals, 1, 'no renewal while other requests renew the lease');
  await clock.advance(1000);
  t.equal(renewals, 2, 'idle again: renewed');
  r.stop();
  t.equal(clock.pending, 0, 'stop clears the timer');
  await clock.advance(10_000);
  t.equal(renewals, 2);
});

t.test('lease renewer: one renewal in flight at a time; failures are retried next tick', async (t) => {
  const clock = new ManualClock();
  let calls = 0;
  let finish!: () => void;
  const errors: unknown[] = [];
  const r = new LeaseRenewer({
    leaseMs: 300,
    clock,
    renew: () => {
      calls++;
      if (calls === 2) return Promise.reject(new Error('ETIMEDOUT'));
      return new Promise<void>((res) => (finish = res));
    },
    onError: (e) => errors.push(e),
  });
  r.start();
  await clock.advance(100);
  t.equal(calls, 1);
  await clock.advance(300);
  t.equal(calls, 1, 'still in flight: no second renewal');
  finish();
  await flush();
  await clock.advance(100);
  t.equal(calls, 2, 'the next idle tick renews again');
  t.equal(errors.length, 1);
  t.equal(r.failures, 1);
  await clock.advance(100);
  t.equal(calls, 3, 'a failed renewal is retried at the next tick');
  r.stop();
});

t.test('4.0 seqids: advanced per RFC 7530 §9.1.7, kept on the listed errors', async (t) => {
  const o = StateOwner.create({ clientid: 1n }, 'open', true, 0);
  t.equal(o.seqid(), 0);
  o.settle(0);
  t.equal(o.seqid(), 1);
  o.settle(nfsstat4.NFS4ERR_DENIED);
  o.settle(nfsstat4.NFS4ERR_NOENT);
  t.equal(o.seqid(), 3, 'ordinary errors consume a seqid');
  for (const s of [
    nfsstat4.NFS4ERR_STALE_CLIENTID,
    nfsstat4.NFS4ERR_STALE_STATEID,
    nfsstat4.NFS4ERR_BAD_STATEID,
    nfsstat4.NFS4ERR_BADXDR,
    nfsstat4.NFS4ERR_RESOURCE,
    nfsstat4.NFS4ERR_NOFILEHANDLE,
    nfsstat4.NFS4ERR_MOVED,
  ]) {
    o.settle(s);
  }
  t.equal(o.seqid(), 3, 'these do not');
  t.notOk(o.broken);
  o.settle(undefined as unknown as number);
  t.ok(o.broken, 'a lost reply leaves the seqid unknown');
  const b = StateOwner.create({ clientid: 1n }, 'open', true, 0);
  b.settle(nfsstat4.NFS4ERR_BAD_SEQID);
  t.ok(b.broken);
  t.equal(b.seqid(), 0);
});

t.test('4.1 owners send seqid 0 and never serialize', async (t) => {
  const o = StateOwner.create({ clientid: 1n }, 'open', false, 0);
  o.settle(0);
  t.equal(o.seqid(), 0);
  let inside = 0;
  let most = 0;
  await Promise.all(
    [1, 2, 3].map(() =>
      o.exclusive(async () => {
        most = Math.max(most, ++inside);
        await flush();
        inside--;
      }),
    ),
  );
  t.equal(most, 3);
});

t.test('4.0 owners run one seqid-carrying request at a time, in order', async (t) => {
  const o = StateOwner.create({ clientid: 1n }, 'open', true, 0);
  const log: string[] = [];
  const job = (n: number) =>
    o.exclusive(async () => {
      log.push(`start ${n}`);
      await flush();
      log.push(`end ${n}`);
      if (n === 2) throw new Error('boom');
    });
  const results = await Promise.allSettled([job(1), job(2), job(3)]);
  t.same(log, ['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
  t.equal(results[1]!.status, 'rejected', 'a failure does not wedge the queue');
  t.notOk(o.busy);
});

t.test('open-owner pool: one owner on 4.1; idle confirmed owners first on 4.0', async (t) => {
  const ch = { clientid: 9n, stateEpoch: 0 };
  const p41 = new OpenOwnerPool(ch, false);
  t.equal(p41.pick(), p41.pick());
  const p40 = new OpenOwnerPool(ch, true);
  const a = p40.pick();
  a.confirmed = true;
  t.equal(p40.pick(), a, 'idle and confirmed');
  let release!: () => void;
  const busy = a.exclusive(() => new Promise<void>((r) => (release = r)));
  const b = p40.pick();
  t.not(b, a, 'a busy owner is not shared while others can be made');
  await flush();
  release();
  await busy;
  a.broken = true;
  t.not(p40.pick(), a, 'a broken owner is retired');
  ch.stateEpoch = 1;
  const c = p40.pick();
  t.equal(c.epoch, 1, 'owners of an old client id are dropped');
});

t.test('fcntl ranges: length 0 or Infinity means to end of file', async (t) => {
  t.same(lockRange(10, 0), { offset: 10n, length: NFS4_UINT64_MAX });
  t.same(lockRange(0, Infinity), { offset: 0n, length: NFS4_UINT64_MAX });
  t.same(lockRange(5, 7), { offset: 5n, length: 7n });
  t.throws(() => lockRange(-1, 1), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => lockRange(0, -1), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => lockRange(0.5, 1), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => lockRange(Number.MAX_SAFE_INTEGER, 10), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => lockRange('1' as unknown as number, 1), { code: 'ERR_INVALID_ARG_TYPE' });
});

t.test('LOCK4denied becomes the conflict shape NLM uses', async (t) => {
  t.same(toConflict({ offset: 10n, length: NFS4_UINT64_MAX, locktype: WRITE_LT, owner: { clientid: 3n, owner: Buffer.from('o') } }), {
    exclusive: true,
    start: 10,
    length: 0,
    owner: Buffer.from('o'),
    clientid: 3n,
  });
  t.same(toConflict({ offset: 0n, length: 5n, locktype: READ_LT, owner: { clientid: 1n, owner: Buffer.alloc(0) } }).length, 5);
  t.equal(toConflict({ offset: 0n, length: 5n, locktype: READ_LT, owner: { clientid: 1n, owner: Buffer.alloc(0) } }).exclusive, false);
});
