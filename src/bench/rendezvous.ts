import { setTimeout as sleep } from 'node:timers/promises';
import { missing, type RunDir, type StartFile } from './run-dir.js';

/** How often a waiting worker looks at the run directory. */
const POLL_MS = 250;
/**
 * Worker 0 sets the start this far after it saw the last worker register:
 * long enough for every other worker's next look (POLL_MS) and a slow
 * READ of start.json. Workers' clocks are assumed NTP-close (as Kubernetes
 * nodes' are); the start is in wall-clock time.
 */
export const START_LEAD_MS = 2000;

/** A worker gave up waiting for the others; `missing` are those that never showed up. */
export class BarrierTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(
    message: string,
    readonly missing: number[],
  ) {
    super(message);
    this.name = 'BarrierTimeoutError';
  }
}

function names(ws: number[]): string {
  return ws.length === 1 ? `worker ${ws[0]}` : `workers ${ws.join(', ')}`;
}

async function poll<T>(look: () => Promise<T | undefined>, deadline: number, timedOut: () => Promise<Error>): Promise<T> {
  for (;;) {
    const v = await look();
    if (v !== undefined) return v;
    if (Date.now() >= deadline) throw await timedOut();
    await sleep(Math.min(POLL_MS, Math.max(0, deadline - Date.now())));
  }
}

/** Others wait for worker 0 to lay out the shared data file. */
export function awaitPrepared(rd: RunDir, deadline: number, seconds: number): Promise<unknown> {
  return poll(
    () => rd.get('prepared.json'),
    deadline,
    async () => new BarrierTimeoutError(`barrier timeout after ${seconds} s in ${rd.dir}: worker 0 never laid out the data file (missing: worker 0)`, [0]),
  );
}

/**
 * The barrier: returns once all `workers` registered under workers/, or
 * throws BarrierTimeoutError naming those that did not by `deadline`.
 */
export async function barrier(rd: RunDir, workers: number, deadline: number, seconds: number): Promise<void> {
  let present = new Set<number>();
  await poll(
    async () => {
      present = await rd.indices('workers', '.json');
      return missing(workers, present).length === 0 ? true : undefined;
    },
    deadline,
    async () => {
      const gone = missing(workers, present);
      return new BarrierTimeoutError(`barrier timeout after ${seconds} s in ${rd.dir}: ${names(gone)} of ${workers} never registered (missing: ${gone.join(', ')})`, gone);
    },
  );
}

/** The common start (epoch ms): worker 0 chooses and writes it, the others read it. */
export async function startTime(rd: RunDir, worker: number, workers: number, deadline: number, seconds: number): Promise<number> {
  if (worker === 0) {
    const start: StartFile = { startAt: Date.now() + START_LEAD_MS, chosenBy: 0, workers };
    await rd.put('start.json', start);
    return start.startAt;
  }
  const s = await poll(
    () => rd.get<StartFile>('start.json'),
    deadline,
    async () => new BarrierTimeoutError(`barrier timeout after ${seconds} s in ${rd.dir}: worker 0 never wrote the start time (missing: worker 0)`, [0]),
  );
  return s.startAt;
}

/** Resolves at `epochMs` (at once if it has passed); returns how late it was, in ms. */
export async function sleepUntil(epochMs: number): Promise<number> {
  const wait = epochMs - Date.now();
  if (wait > 0) await sleep(wait);
  return Math.max(0, Date.now() - epochMs);
}
