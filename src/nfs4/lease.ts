import type { Clock } from './clock.js';

export interface LeaseRenewerOptions {
  /** The server's lease_time, in ms. */
  leaseMs: number;
  /** Sends one renewing request (4.1: a SEQUENCE-only COMPOUND; 4.0: RENEW). */
  renew: () => Promise<void>;
  clock: Clock;
  /** Told about a renewal that failed; the next tick tries again. */
  onError?: (err: unknown) => void;
}

/**
 * Keeps the client's lease alive while it is idle.
 *
 * Every request that renews the lease reports the time it was SENT through
 * renewed() (the server's lease runs from when it processed the request,
 * which is no earlier). A timer ticks every third of the lease; on a tick,
 * if nothing renewed the lease during the last third, renew() is sent. So
 * the gap between renewals never exceeds two thirds of the lease plus one
 * round trip. At most one renewal is in flight at a time. Timers come from
 * the clock, which unrefs them: renewal never keeps the process alive.
 */
export class LeaseRenewer {
  /** When the last renewing request was sent (clock time). */
  private last: number;
  private timer: unknown;
  private inFlight = false;
  private stopped = true;
  /** Renewals sent by this renewer, and failed ones. For tests and diagnostics. */
  renewals = 0;
  failures = 0;
  lastError: unknown;

  constructor(private readonly o: LeaseRenewerOptions) {
    if (!(o.leaseMs > 0)) throw new RangeError(`LeaseRenewer: leaseMs must be > 0, got ${o.leaseMs}`);
    this.last = o.clock.now();
  }

  get intervalMs(): number {
    return Math.max(1, Math.floor(this.o.leaseMs / 3));
  }

  /** A request that renews the lease was sent at `at`. */
  renewed(at: number = this.o.clock.now()): void {
    if (at > this.last) this.last = at;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    if (this.stopped) return;
    this.timer = this.o.clock.setTimeout(() => this.tick(), this.intervalMs);
  }

  private tick(): void {
    this.timer = undefined;
    if (this.stopped) return;
    const now = this.o.clock.now();
    if (!this.inFlight && now - this.last >= this.intervalMs) {
      this.inFlight = true;
      this.renewals++;
      const sentAt = now;
      this.o.renew().then(
        () => {
          this.inFlight = false;
          this.renewed(sentAt);
        },
        (err: unknown) => {
          this.inFlight = false;
          this.failures++;
          this.lastError = err;
          this.o.onError?.(err);
        },
      );
    }
    this.arm();
  }
}
