import { AbortError } from '../rpc/errors.js';

/**
 * Time as the NFSv4 state machinery sees it. Injected so that lease
 * renewal and retry backoff can be driven by a fake clock in unit tests.
 * The real one unrefs its timers unless asked to keep the process alive
 * (`ref`): background renewal never holds a process open, a caller
 * awaiting a backoff (a lock wait, a DELAY retry) does.
 */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number, ref?: boolean): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: Clock = {
  now: () => performance.now(),
  setTimeout(fn, ms, ref = false) {
    const t = setTimeout(fn, Math.min(Math.max(0, ms), 0x7fffffff));
    if (!ref) t.unref();
    return t;
  },
  clearTimeout(h) {
    clearTimeout(h as NodeJS.Timeout);
  },
};

/** Waits `ms` on `clock`; rejects with AbortError when `signal` aborts first. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(new AbortError(undefined, { cause: signal.reason }));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clock.clearTimeout(h);
      reject(new AbortError(undefined, { cause: signal!.reason }));
    };
    const h = clock.setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      ms,
      true,
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
