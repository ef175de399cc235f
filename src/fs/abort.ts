import { AbortError } from '../errors.js';
import { argType } from './args.js';

/** As node: an aborted signal fails the call with AbortError (code ABORT_ERR, the reason as `cause`), not with the bare reason. */
export function checkAborted(signal: AbortSignal | null | undefined): void {
  if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
}

/**
 * `work` unless `signal` aborts first: then AbortError at once, whatever
 * the calls underneath are still waiting for (a hard mount may wait
 * forever). What `work` settles to later is dropped; the calls it made
 * were given the same signal where they take one, so they stop too.
 */
export function abortable<T>(signal: AbortSignal | null | undefined, work: () => Promise<T>): Promise<T> {
  checkAborted(signal);
  if (!signal) return work();
  return new Promise<T>((resolve, reject) => {
    // Listening before `work` starts: it may abort the signal synchronously (a hook, a callback).
    const onAbort = () => reject(new AbortError(undefined, { cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
    const done = () => signal.removeEventListener('abort', onAbort);
    let p: Promise<T>;
    try {
      p = work();
    } catch (err) {
      done();
      reject(err);
      return;
    }
    p.then(
      (v) => {
        done();
        resolve(v);
      },
      (e: unknown) => {
        done();
        reject(e);
      },
    );
  });
}

/** `opts.signal`, checked to be an AbortSignal as node checks it. */
export function signalOf(opts: unknown): AbortSignal | undefined {
  if (opts === null || typeof opts !== 'object') return undefined;
  const s = (opts as { signal?: unknown }).signal;
  if (s === undefined) return undefined;
  if (!(s instanceof AbortSignal)) {
    throw argType('options.signal', 'an instance of AbortSignal', s);
  }
  return s;
}
