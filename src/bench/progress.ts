import type { Live } from './engine.js';

const TICK_MS = 500;

export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(s: string): unknown;
}

/**
 * The live line on a terminal: `[label] 12.3k IOPS, 48.1 MiB/s, 7s left`,
 * rewritten in place with \r every half second. Writes nothing at all when
 * the stream is not a TTY, so logs and pipes stay clean.
 */
export class Progress {
  readonly live: Live = { ios: 0, bytes: 0, measureStart: 0n, endsAt: undefined, ramping: false };
  private timer: NodeJS.Timeout | undefined;
  private shown = false;

  constructor(private readonly out: ProgressStream) {}

  get enabled(): boolean {
    return this.out.isTTY === true;
  }

  /**
   * Starts the ticker. With `external`, the run is another process's (the
   * libnfs driver): no counters, only the time left when it is known.
   */
  start(label: string, external?: { seconds: number | undefined }): void {
    if (!this.enabled) return;
    this.stop();
    const until = external?.seconds !== undefined ? process.hrtime.bigint() + BigInt(Math.round(external.seconds * 1e9)) : undefined;
    this.timer = setInterval(() => this.draw(label, external !== undefined, until), TICK_MS);
    this.timer.unref();
  }

  private draw(label: string, external: boolean, until: bigint | undefined): void {
    const l = this.live;
    const now = process.hrtime.bigint();
    let text: string;
    if (external) text = `[${label}] running${until !== undefined ? `, ${Math.max(0, Math.ceil(Number(until - now) / 1e9))}s left` : ''}`;
    else if (l.ramping) text = `[${label}] ramping up…`;
    else {
      const s = Number(now - l.measureStart) / 1e9;
      const iops = s > 0 ? l.ios / s : 0;
      const mibs = s > 0 ? l.bytes / 2 ** 20 / s : 0;
      const left = l.endsAt !== undefined ? `, ${Math.max(0, Math.ceil(Number(l.endsAt - now) / 1e9))}s left` : '';
      text = `[${label}] ${formatCount(iops)} IOPS, ${mibs.toFixed(1)} MiB/s${left}`;
    }
    const width = Math.max(20, (this.out.columns || 80) - 1);
    this.out.write('\r' + text.slice(0, width).padEnd(width));
    this.shown = true;
  }

  /** Stops the ticker and erases the line. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.shown) this.out.write('\r' + ' '.repeat(Math.max(20, (this.out.columns || 80) - 1)) + '\r');
    this.shown = false;
  }
}

/** 950, 12.3k, 1.25M: fio's way of printing IOPS. */
export function formatCount(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(2)}k`;
  return n.toFixed(0);
}
