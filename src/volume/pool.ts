import { AbortError } from '../errors.js';

export type Task = () => Promise<void>;

export interface PoolOptions {
  /** Tasks waiting to start before push() makes its caller wait. Default 4 × concurrency. */
  highWater?: number;
  /** Aborting drops the queued tasks; idle() then rejects with an AbortError once the running ones settle. */
  signal?: AbortSignal | undefined;
}

/**
 * A bounded-concurrency task pool: the part of p-queue that bulk tree work
 * needs. At most `concurrency` tasks run at once, started in FIFO order.
 * Tasks may add more tasks. A task that throws stops the pool: queued tasks
 * are dropped and idle() rejects with that first error (tasks that want to
 * carry on after a failure catch it themselves).
 *
 * Backpressure: push() resolves once the queue is below `highWater`, so a
 * producer listing a directory of millions of files holds at most that many
 * closures. A producer must not run *inside* the pool and wait in push()
 * for tasks that can only start when it returns: run producers outside it.
 */
export class Pool {
  /** Waiting tasks are queue[head..]; the consumed prefix is cut off when it outgrows the rest. */
  private queue: Task[] = [];
  private head = 0;
  private running = 0;
  private failure: { error: unknown } | undefined;
  private idleWaiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private roomWaiters: (() => void)[] = [];
  private readonly highWater: number;
  private readonly onAbort: (() => void) | undefined;
  /** Most tasks seen running at once (for tests and reports). */
  maxRunning = 0;

  constructor(
    /** Tasks run at once. */
    readonly concurrency: number,
    private readonly opts: PoolOptions = {},
  ) {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
    this.highWater = opts.highWater ?? 4 * concurrency;
    const signal = opts.signal;
    if (signal) {
      this.onAbort = () => this.fail(new AbortError(undefined, { cause: signal.reason }));
      if (signal.aborted) this.onAbort();
      else signal.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  /** Tasks waiting to start. */
  get queued(): number {
    return this.queue.length - this.head;
  }

  /** Tasks running now. */
  get active(): number {
    return this.running;
  }

  /** Whether a task failed or the signal aborted: nothing more will start. */
  get stopped(): boolean {
    return this.failure !== undefined;
  }

  /** Stops listening to the signal (a long-lived signal shared by many pools would otherwise collect listeners). */
  close(): void {
    if (this.onAbort) this.opts.signal?.removeEventListener('abort', this.onAbort);
  }

  /** Queues a task. After the pool stopped, the task is dropped. */
  add(task: Task): void {
    if (this.failure) return;
    this.queue.push(task);
    this.pump();
  }

  /** Queues a task once the queue has room; rejects with the pool's error if it stopped. */
  async push(task: Task): Promise<void> {
    while (!this.failure && this.queued >= this.highWater) {
      await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
    }
    if (this.failure) throw this.failure.error;
    this.add(task);
  }

  /** Resolves when nothing is queued or running; rejects with the first failure once the running tasks settled. */
  idle(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.idleWaiters.push({ resolve, reject });
      this.settleIdle();
    });
  }

  private pump(): void {
    while (!this.failure && this.running < this.concurrency && this.head < this.queue.length) {
      const task = this.queue[this.head]!;
      this.queue[this.head++] = undefined as unknown as Task;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      this.running++;
      if (this.running > this.maxRunning) this.maxRunning = this.running;
      let p: Promise<void>;
      try {
        p = task();
      } catch (err) {
        p = Promise.reject(err);
      }
      p.then(
        () => this.done(),
        (err: unknown) => {
          this.fail(err);
          this.done();
        },
      );
    }
    if (this.queued < this.highWater && this.roomWaiters.length > 0) {
      const w = this.roomWaiters;
      this.roomWaiters = [];
      for (const r of w) r();
    }
  }

  private done(): void {
    this.running--;
    this.pump();
    this.settleIdle();
  }

  private fail(error: unknown): void {
    if (this.failure) return;
    this.failure = { error };
    this.queue = [];
    this.head = 0;
    if (this.onAbort) this.opts.signal?.removeEventListener('abort', this.onAbort);
    const w = this.roomWaiters;
    this.roomWaiters = [];
    for (const r of w) r();
    this.settleIdle();
  }

  private settleIdle(): void {
    if (this.running > 0 || (this.queued > 0 && !this.failure)) return;
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const x of w) {
      if (this.failure) x.reject(this.failure.error);
      else x.resolve();
    }
  }
}

/**
 * Runs `fn` over `items` with at most `concurrency` calls in flight, started
 * in order of the items: the list-shaped use of Pool (the CLI's `cp -j`).
 * Every item is attempted: failures are collected, not thrown, so one bad
 * file does not stop a bulk copy.
 */
export async function runPool<T>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<void>): Promise<Array<{ item: T; error: unknown }>> {
  const failures: Array<{ item: T; error: unknown }> = [];
  const pool = new Pool(Math.max(1, Math.min(Math.trunc(concurrency) || 1, items.length || 1)), { highWater: Infinity });
  items.forEach((item, i) =>
    pool.add(async () => {
      try {
        await fn(item, i);
      } catch (error) {
        failures.push({ item, error });
      }
    }),
  );
  await pool.idle();
  pool.close();
  return failures;
}
