/**
 * Readahead for FileHandle.read loops: a program reading a file sequentially
 * in small pieces (`read(buf, 0, 4096, null)` over and over) would otherwise
 * wait one round trip per piece. After READAHEAD_AFTER sequential reads, the
 * handle fetches windows ahead of the reader (each one readInto, i.e.
 * parallel READs of rsize), starting at MIN_WINDOW and doubling up to
 * MAX_WINDOW, and the next window is requested as soon as the reader is
 * half way through the current one, as the kernel's readahead does.
 *
 * Only reads of at most MAX_REQUEST bytes take part (larger ones are already
 * split into parallel READs). Windows are dropped on any change made through
 * the handle (write, truncate, lock), on a non-sequential read, and when they
 * are older than MAX_AGE_MS, so data from another client is never served
 * from here longer than that after it was fetched.
 */

/** Fetches [at, at + want) into buf from offset 0; resolves with the bytes read (fewer only at end of file). */
export type Fetch = (buf: Buffer, at: number, want: number) => Promise<number>;

const READAHEAD_AFTER = 2;
const MAX_REQUEST = 256 * 1024;
const MIN_WINDOW = 256 * 1024;
const MAX_WINDOW = 4 * 1024 * 1024;
const MAX_AGE_MS = 1000;

interface Window {
  at: number;
  want: number;
  buf: Buffer;
  got: number;
  eof: boolean;
  failed: boolean;
  ready: Promise<void>;
  born: number;
}

export class Readahead {
  /** Where the last read ended; a read starting there is sequential. */
  private expect = -1;
  private sequential = 0;
  private size = MIN_WINDOW;
  private cur: Window | undefined;
  private next: Window | undefined;
  /** Windows fetched (for tests and metrics). */
  windows = 0;

  constructor(
    private readonly fetch: Fetch,
    /** Called with every window's promise, so that close() can wait for fetches in flight. */
    private readonly track: (p: Promise<unknown>) => void,
  ) {}

  /** Forget everything fetched: the file changed, or the reader moved. */
  drop(): void {
    this.cur = undefined;
    this.next = undefined;
    this.size = MIN_WINDOW;
  }

  /**
   * Reads [at, at + length) into target from targetOffset, through the
   * windows, when the reads so far are sequential; undefined when they are
   * not (the caller reads directly).
   */
  read(target: Uint8Array, targetOffset: number, length: number, at: number): Promise<number> | undefined {
    if (length === 0 || length > MAX_REQUEST) {
      this.expect = -1;
      this.sequential = 0;
      return undefined;
    }
    if (at === this.expect) this.sequential++;
    else {
      this.sequential = 0;
      this.drop();
    }
    this.expect = at + length;
    if (this.sequential < READAHEAD_AFTER) return undefined;
    return this.serve(target, targetOffset, length, at);
  }

  private async serve(target: Uint8Array, targetOffset: number, length: number, at: number): Promise<number> {
    let done = 0;
    for (;;) {
      const w = this.windowFor(at + done);
      await w.ready;
      if (w.failed) {
        // Let a direct read of the caller's own range report the error.
        if (this.cur === w) this.drop();
        const n = await this.fetch(Buffer.from(target.buffer, target.byteOffset + targetOffset + done, length - done), at + done, length - done);
        return done + n;
      }
      const from = at + done - w.at;
      const avail = w.got - from;
      if (avail <= 0) return done; // end of file inside this window
      const n = Math.min(avail, length - done);
      target.set(w.buf.subarray(from, from + n), targetOffset + done);
      done += n;
      // Past half of the current window: ask for the next one now.
      if (!w.eof && this.cur === w && !this.next && from + n >= w.want / 2) {
        this.size = Math.min(this.size * 2, MAX_WINDOW);
        this.next = this.start(w.at + w.want, this.size);
      }
      if (done === length || (w.eof && from + n >= w.got)) return done;
    }
  }

  /** The window holding `pos`, starting one if none does. */
  private windowFor(pos: number): Window {
    const now = Date.now();
    if (this.cur && now - this.cur.born > MAX_AGE_MS) this.drop();
    const c = this.cur;
    if (c && pos >= c.at && pos < c.at + c.want) return c;
    const n = this.next;
    if (n && pos >= n.at && pos < n.at + n.want && now - n.born <= MAX_AGE_MS) {
      this.cur = n;
      this.next = undefined;
      return n;
    }
    this.next = undefined;
    this.cur = this.start(pos, this.size);
    return this.cur;
  }

  private start(at: number, want: number): Window {
    this.windows++;
    const w: Window = { at, want, buf: Buffer.allocUnsafe(want), got: 0, eof: false, failed: false, ready: Promise.resolve(), born: Date.now() };
    w.ready = this.fetch(w.buf, at, want).then(
      (n) => {
        w.got = n;
        w.eof = n < want;
      },
      () => {
        w.failed = true;
      },
    );
    this.track(w.ready);
    return w;
  }
}
