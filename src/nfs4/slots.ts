import { AbortError } from '../rpc/errors.js';

/** A slot held by one request, from acquire() until release(). */
export interface SlotLease {
  readonly slotid: number;
  /** The sa_sequenceid to send on this slot. */
  readonly sequenceid: number;
  /** sa_highest_slotid: the highest slot with a request outstanding, this one included. */
  readonly highestSlotid: number;
  /**
   * The last request on this slot got no reply, so whether the server
   * processed it is unknown. Before anything else is sent on the slot, a
   * SEQUENCE-only probe with this same sequenceid settles it (session.ts).
   */
  readonly uncertain: boolean;
  /** Table generation the lease belongs to; a reset() makes older leases inert. */
  readonly generation: number;
}

/**
 * How a request on a slot ended, for the slot's sequence id:
 * - processed: the server executed SEQUENCE with our sequenceid (it
 *   answered with SEQUENCE NFS4_OK, or said the request was a retry), so
 *   the slot's next request uses sequenceid + 1;
 * - not-processed: the server answered without executing it (SEQUENCE
 *   failed, or nothing reached the wire): the sequenceid is reused;
 * - unknown: no reply (timeout, lost connection, abort after sending).
 */
export type SlotOutcome = 'processed' | 'not-processed' | 'unknown';

interface Waiter {
  resolve(l: SlotLease): void;
  reject(e: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  done: boolean;
}

/**
 * The fore channel's slot table of an NFSv4.1 session (RFC 8881 §2.10.6.1).
 * The slots ARE the in-flight window: a request holds a slot from before it
 * is encoded until its reply is handled; with every slot held, callers wait
 * here, FIFO.
 *
 * Per-slot invariant: `seq[i]` is the last sequenceid the server is known
 * to have processed on slot i (0 for a fresh session, whose first request
 * on each slot carries 1). A lease therefore always offers seq[i] + 1.
 * `busy[i]` is set exactly while a lease for slot i of the current
 * generation is out. `limit` (1..size) is how many slots may be used: the
 * server's sr_target_highest_slotid + 1, capped by the negotiated size.
 */
export class SlotTable {
  private seq: number[] = [];
  private busy: boolean[] = [];
  private unsure: boolean[] = [];
  private used = 0;
  private limit = 0;
  private gen = 0;
  private waiters: Waiter[] = [];
  private waitHead = 0;

  constructor(size: number) {
    this.reset(size);
  }

  /** Slots the session negotiated (ca_maxrequests, capped by the client). */
  get size(): number {
    return this.seq.length;
  }

  /** Slots that may be in use at once now. */
  get usable(): number {
    return this.limit;
  }

  get inUse(): number {
    return this.used;
  }

  get generation(): number {
    return this.gen;
  }

  get waiting(): number {
    let n = 0;
    for (let i = this.waitHead; i < this.waiters.length; i++) if (!this.waiters[i]!.done) n++;
    return n;
  }

  /** The sequenceid last processed on a slot (for tests and diagnostics). */
  lastSequenceid(slotid: number): number {
    return this.seq[slotid] ?? 0;
  }

  /**
   * A new session (or the first): every slot starts over at sequenceid 0
   * and nothing is held. Leases of the old generation stay valid for the
   * requests that hold them, but their release() no longer touches the table.
   */
  reset(size: number): void {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`SlotTable: size must be an integer >= 1, got ${size}`);
    this.gen++;
    this.seq = new Array<number>(size).fill(0);
    this.busy = new Array<boolean>(size).fill(false);
    this.unsure = new Array<boolean>(size).fill(false);
    this.used = 0;
    this.limit = size;
    this.pump();
  }

  /**
   * The server's sr_target_highest_slotid (or the slot it refused with
   * NFS4ERR_BADSLOT, minus one): use slots 0..target only. Requests already
   * on higher slots finish normally.
   */
  setTarget(targetHighestSlotid: number): void {
    const next = Math.max(1, Math.min(this.seq.length, targetHighestSlotid + 1));
    const grew = next > this.limit;
    this.limit = next;
    if (grew) this.pump();
  }

  /** A lease now, or undefined when every usable slot is held. */
  tryAcquire(): SlotLease | undefined {
    if (this.used >= this.limit) return undefined;
    for (let i = 0; i < this.limit; i++) {
      if (!this.busy[i]) return this.lease(i);
    }
    return undefined;
  }

  /** A lease now if one is free and nobody is queued ahead (the fast path of acquire). */
  tryAcquireInTurn(): SlotLease | undefined {
    return this.waitHead === this.waiters.length ? this.tryAcquire() : undefined;
  }

  /** Waits for a slot (FIFO); rejects with AbortError if `signal` aborts first. */
  acquire(signal?: AbortSignal): Promise<SlotLease> {
    if (signal?.aborted) return Promise.reject(new AbortError(undefined, { cause: signal.reason }));
    if (this.waitHead === this.waiters.length) {
      const l = this.tryAcquire();
      if (l) return Promise.resolve(l);
    }
    return new Promise<SlotLease>((resolve, reject) => {
      const w: Waiter = { resolve, reject, signal, onAbort: undefined, done: false };
      if (signal) {
        w.onAbort = () => {
          if (w.done) return;
          w.done = true;
          reject(new AbortError(undefined, { cause: signal.reason }));
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.waiters.push(w);
      this.pump();
    });
  }

  /** Gives the slot back, recording what became of its sequenceid. */
  release(l: SlotLease, outcome: SlotOutcome): void {
    if (l.generation !== this.gen || !this.busy[l.slotid]) return;
    if (outcome === 'processed') {
      this.seq[l.slotid] = l.sequenceid;
      this.unsure[l.slotid] = false;
    } else if (outcome === 'unknown') {
      this.unsure[l.slotid] = true;
    }
    this.busy[l.slotid] = false;
    this.used--;
    this.pump();
  }

  /** Rejects every waiter (the session is closing). */
  failWaiters(err: unknown): void {
    const ws = this.waiters.slice(this.waitHead);
    this.waiters = [];
    this.waitHead = 0;
    for (const w of ws) this.settleWaiter(w, undefined, err);
  }

  private lease(i: number): SlotLease {
    this.busy[i] = true;
    this.used++;
    let highest = i;
    for (let j = this.seq.length - 1; j > i; j--) {
      if (this.busy[j]) {
        highest = j;
        break;
      }
    }
    return { slotid: i, sequenceid: (this.seq[i]! + 1) >>> 0, highestSlotid: highest, uncertain: this.unsure[i]!, generation: this.gen };
  }

  private pump(): void {
    while (this.waitHead < this.waiters.length) {
      const w = this.waiters[this.waitHead]!;
      if (w.done) {
        this.waitHead++;
        continue;
      }
      const l = this.tryAcquire();
      if (!l) break;
      this.waitHead++;
      this.settleWaiter(w, l, undefined);
    }
    if (this.waitHead === this.waiters.length) {
      this.waiters = [];
      this.waitHead = 0;
    } else if (this.waitHead > 1024 && this.waitHead * 2 > this.waiters.length) {
      this.waiters = this.waiters.slice(this.waitHead);
      this.waitHead = 0;
    }
  }

  private settleWaiter(w: Waiter, l: SlotLease | undefined, err: unknown): void {
    if (w.done) {
      if (l) this.release(l, 'not-processed');
      return;
    }
    w.done = true;
    if (w.onAbort) w.signal!.removeEventListener('abort', w.onAbort);
    if (l) w.resolve(l);
    else w.reject(err);
  }
}
