// Process warnings emitted while a piece of work runs (close() and connect()
// report through process.emitWarning).

export async function warningsDuring<T>(fn: () => Promise<T>): Promise<{ value: T; warnings: (Error & { code?: string })[] }> {
  const warnings: (Error & { code?: string })[] = [];
  const on = (w: Error) => warnings.push(w);
  process.on('warning', on);
  try {
    const value = await fn();
    // emitWarning delivers on the next tick.
    await new Promise((r) => setImmediate(r));
    return { value, warnings };
  } finally {
    process.off('warning', on);
  }
}
