import { bytes } from './io.js';

export interface ProgressSink {
  write(s: string): unknown;
  columns?: number;
}

/**
 * A one-line progress bar on a terminal: percentage, bar, bytes done of
 * total, rate, ETA and files, redrawn at most 10 times a second with '\r'.
 * The rate is a moving average over the last few seconds, so the ETA
 * settles instead of jumping. `done()` clears the line.
 */
export class Progress {
  private doneBytes = 0;
  private doneFiles = 0;
  private readonly t0: number;
  private lastDraw = 0;
  /** (time ms, bytes) samples for the rate, newest last, spanning up to RATE_WINDOW ms. */
  private samples: Array<[number, number]> = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: ProgressSink,
    private totalBytes: number,
    private totalFiles: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.t0 = now();
    this.samples.push([this.t0, 0]);
    // Redraw while nothing completes (a big file), so rate and ETA stay live.
    this.timer = setInterval(() => this.draw(), 500);
    this.timer.unref();
  }

  setTotals(totalBytes: number, totalFiles: number): void {
    this.totalBytes = totalBytes;
    this.totalFiles = totalFiles;
  }

  add(n: number): void {
    this.doneBytes += n;
    this.maybeDraw();
  }

  fileDone(): void {
    this.doneFiles++;
    this.maybeDraw();
  }

  private maybeDraw(): void {
    if (this.now() - this.lastDraw >= 100) this.draw();
  }

  /** Bytes per second over the recent window. */
  rate(): number {
    const t = this.now();
    this.samples.push([t, this.doneBytes]);
    while (this.samples.length > 2 && t - this.samples[1]![0] > RATE_WINDOW) this.samples.shift();
    const [t1, b1] = this.samples[0]!;
    const dt = (t - t1) / 1000;
    return dt > 0 ? (this.doneBytes - b1) / dt : 0;
  }

  line(): string {
    const rate = this.rate();
    const pct = this.totalBytes > 0 ? Math.min(100, Math.floor((this.doneBytes / this.totalBytes) * 100)) : this.doneFiles >= this.totalFiles ? 100 : 0;
    const left = this.totalBytes - this.doneBytes;
    const eta = rate > 0 && left > 0 ? formatEta(left / rate) : '--:--';
    const stats = `${bytes(this.doneBytes)} / ${bytes(this.totalBytes)}  ${bytes(Math.round(rate))}/s  ETA ${eta}  ${this.doneFiles}/${this.totalFiles} files`;
    const width = Math.max(10, Math.min(40, (this.out.columns ?? 80) - stats.length - 10));
    const fill = Math.round((pct / 100) * width);
    return `${String(pct).padStart(3)}% [${'#'.repeat(fill)}${' '.repeat(width - fill)}] ${stats}`;
  }

  draw(): void {
    this.lastDraw = this.now();
    const l = this.line();
    const cols = this.out.columns ?? 80;
    this.out.write(`\r${l.slice(0, cols - 1).padEnd(Math.min(cols - 1, l.length))}\x1b[K`);
  }

  /** Stops redrawing and clears the line; returns elapsed seconds. */
  done(): number {
    clearInterval(this.timer);
    // The final state once, however fast the copy was; then the line is cleared for the summary.
    this.draw();
    this.out.write('\r\x1b[K');
    return (this.now() - this.t0) / 1000;
  }
}

const RATE_WINDOW = 5_000;

export function formatEta(secs: number): string {
  const s = Math.ceil(secs);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(r).padStart(2, '0')}` : `${m}:${String(r).padStart(2, '0')}`;
}
