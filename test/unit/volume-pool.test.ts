// The bounded-concurrency pool used for bulk tree work (delete fan-out,
// restore): its limit, order, backpressure, failure and abort behaviour.
import t from 'tap';
import { Pool } from '../../src/volume/pool.js';

/** A promise and the functions that settle it. */
function gate(): { promise: Promise<void>; open: () => void; fail: (e: unknown) => void } {
  let open!: () => void;
  let fail!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    open = res;
    fail = rej;
  });
  return { promise, open, fail };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

t.test('never runs more than `concurrency` tasks, starts them in FIFO order', async (t) => {
  const pool = new Pool(3);
  const started: number[] = [];
  const gates = Array.from({ length: 10 }, gate);
  let running = 0;
  let most = 0;
  gates.forEach((g, i) =>
    pool.add(async () => {
      started.push(i);
      running++;
      most = Math.max(most, running);
      await g.promise;
      running--;
    }),
  );
  await tick();
  t.same(started, [0, 1, 2], 'only three started');
  t.equal(pool.active, 3);
  t.equal(pool.queued, 7);
  gates[1]!.open();
  await tick();
  t.same(started, [0, 1, 2, 3], 'one finished, the next in line started');
  for (const g of gates) g.open();
  await pool.idle();
  t.same(started, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  t.equal(most, 3);
  t.equal(pool.maxRunning, 3);
});

t.test('tasks may add tasks; idle() waits for all of them', async (t) => {
  const pool = new Pool(2);
  let done = 0;
  const spawn = (depth: number): void =>
    pool.add(async () => {
      await tick();
      done++;
      if (depth < 4) {
        spawn(depth + 1);
        spawn(depth + 1);
      }
    });
  spawn(0);
  await pool.idle();
  t.equal(done, 31, 'a binary tree of depth 4');
  t.ok(pool.maxRunning <= 2);
});

t.test('idle() on an empty pool resolves at once, and a pool is reusable', async (t) => {
  const pool = new Pool(1);
  await pool.idle();
  let n = 0;
  pool.add(async () => void n++);
  await pool.idle();
  pool.add(async () => void n++);
  await pool.idle();
  t.equal(n, 2);
});

t.test('push() waits while the queue is at highWater', async (t) => {
  const pool = new Pool(1, { highWater: 2 });
  const g = gate();
  pool.add(() => g.promise); // running
  await pool.push(async () => {}); // queued: 1
  await pool.push(async () => {}); // queued: 2
  let third = false;
  const p = pool.push(async () => {}).then(() => (third = true));
  await tick();
  t.equal(third, false, 'the producer waits while the queue is full');
  g.open();
  await p;
  t.equal(third, true, 'and continues once a task started');
  await pool.idle();
});

t.test('a failing task stops the pool: queued tasks dropped, idle() rejects with the first error', async (t) => {
  const pool = new Pool(2);
  const ran: number[] = [];
  const g = gate();
  pool.add(async () => {
    await g.promise;
    ran.push(0);
  });
  pool.add(async () => {
    throw new Error('first');
  });
  for (let i = 2; i < 6; i++) pool.add(async () => void ran.push(i));
  pool.add(async () => {
    throw new Error('second');
  });
  const idle = pool.idle();
  await tick();
  t.equal(pool.stopped, true);
  t.equal(pool.queued, 0, 'queue dropped');
  g.open();
  await t.rejects(idle, { message: 'first' });
  t.same(ran, [0], 'the running task finished; none of the queued ones ran');
  pool.add(async () => void ran.push(99));
  await t.rejects(pool.push(async () => {}), { message: 'first' }, 'push() after a failure rejects');
  t.same(ran, [0], 'nothing starts after a failure');
});

t.test('a task that throws synchronously counts as a failure', async (t) => {
  const pool = new Pool(1);
  pool.add((() => {
    throw new Error('sync');
  }) as unknown as () => Promise<void>);
  await t.rejects(pool.idle(), { message: 'sync' });
});

t.test('abort: queued tasks dropped, running ones finish, idle() rejects with AbortError', async (t) => {
  const ac = new AbortController();
  const pool = new Pool(1, { signal: ac.signal });
  const g = gate();
  let finished = false;
  let queuedRan = false;
  pool.add(async () => {
    await g.promise;
    finished = true;
  });
  pool.add(async () => void (queuedRan = true));
  const idle = pool.idle();
  ac.abort(new Error('stop'));
  let settled = false;
  idle.catch(() => {}).finally(() => (settled = true));
  await tick();
  t.equal(settled, false, 'idle() waits for the running task');
  g.open();
  await t.rejects(idle, { name: 'AbortError', code: 'ABORT_ERR' });
  t.equal(finished, true);
  t.equal(queuedRan, false);
});

t.test('a pool made with an already aborted signal runs nothing', async (t) => {
  const pool = new Pool(4, { signal: AbortSignal.abort() });
  let ran = false;
  pool.add(async () => void (ran = true));
  await t.rejects(pool.idle(), { name: 'AbortError' });
  t.equal(ran, false);
});

t.test('concurrency must be a positive integer', async (t) => {
  t.throws(() => new Pool(0), RangeError);
  t.throws(() => new Pool(1.5), RangeError);
});

t.test('100 000 tasks: the queue stays compact and every task runs once', async (t) => {
  const pool = new Pool(8);
  const seen = new Uint8Array(100_000);
  for (let i = 0; i < seen.length; i++) pool.add(async () => void seen[i]!++);
  await pool.idle();
  t.equal(seen.every((v) => v === 1), true);
});

t.test('close() stops listening: many pools on one long-lived signal leave no listeners', async (t) => {
  const ac = new AbortController();
  let added = 0;
  let removed = 0;
  const add = ac.signal.addEventListener.bind(ac.signal);
  const rem = ac.signal.removeEventListener.bind(ac.signal);
  ac.signal.addEventListener = ((...a: Parameters<typeof add>) => (added++, add(...a))) as typeof add;
  ac.signal.removeEventListener = ((...a: Parameters<typeof rem>) => (removed++, rem(...a))) as typeof rem;
  for (let i = 0; i < 50; i++) {
    const pool = new Pool(2, { signal: ac.signal });
    pool.add(async () => {});
    await pool.idle();
    pool.close();
  }
  t.equal(added, 50);
  t.equal(removed, 50);
});
