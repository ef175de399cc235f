/**
 * Bounded release of server state at close(). A server that is gone must not
 * hold close() hostage (on a hard mount its calls would wait forever), and a
 * failure to release is no reason to fail close(): the connections close
 * either way and the server forgets us at lease expiry. What could not be
 * released is said once, as a process warning naming each thing.
 */
export interface Release {
  /** What is released, for the warning: 'NFSv4 open state (CLOSE)'. */
  what: string;
  run(signal: AbortSignal): Promise<unknown>;
}

/** Code of the warning close() emits when it gave up on releasing something. */
export const CLOSE_WARNING = 'MOUNTLESS_CLOSE_UNRELEASED';

/**
 * Runs every release at once and waits at most `ms` for all of them; the
 * signal passed to each aborts at the deadline so its calls stop too.
 * Resolves with the things not released (also emitted as one warning).
 */
export async function releaseWithin(ms: number, releases: readonly Release[]): Promise<string[]> {
  if (releases.length === 0) return [];
  const ac = new AbortController();
  const failed: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      ac.abort(new Error(`close: gave up after ${ms} ms`));
      resolve();
    }, ms);
  });
  const pending = new Set(releases);
  const all = Promise.all(
    releases.map((r) =>
      Promise.resolve()
        .then(() => r.run(ac.signal))
        .then(
          () => void pending.delete(r),
          (err: unknown) => {
            pending.delete(r);
            failed.push(`${r.what}: ${(err as Error)?.message ?? String(err)}`);
          },
        ),
    ),
  );
  await Promise.race([all, deadline]);
  clearTimeout(timer);
  for (const r of pending) failed.push(`${r.what}: no answer within ${ms} ms`);
  if (failed.length > 0) process.emitWarning(`close() could not release: ${failed.join('; ')}`, { code: CLOSE_WARNING });
  return failed;
}
