/**
 * Runs `fn` over `items` with at most `concurrency` calls in flight, in
 * order of the items. Every item is attempted; failures are collected, not
 * thrown, so one bad file does not stop a bulk copy. (A tiny stand-in for
 * p-queue: a fixed set of workers pulling from a shared index.)
 */
export async function runPool<T>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<void>): Promise<Array<{ item: T; error: unknown }>> {
  const failures: Array<{ item: T; error: unknown }> = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const k = next++;
      try {
        await fn(items[k]!, k);
      } catch (error) {
        failures.push({ item: items[k]!, error });
      }
    }
  };
  const n = Math.max(1, Math.min(concurrency, items.length));
  await Promise.all(Array.from({ length: n }, worker));
  return failures;
}
