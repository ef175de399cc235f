/**
 * xorshift32 (Marsaglia 2003): a tiny seeded PRNG so that fuzz and fault
 * tests replay the same bytes on every run. Not for anything but tests.
 */
export class Xorshift32 {
  private s: number;

  constructor(seed: number) {
    // murmur3's finaliser spreads small seeds (1, 2, 3...) over the state;
    // the all-zero state is a fixed point, so it is replaced.
    let h = seed >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85eb_ca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2_ae35);
    h ^= h >>> 16;
    this.s = h >>> 0 || 0x9e37_79b9;
  }

  /** Next uint32. */
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    this.s = x;
    return x;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.next() / 0x1_0000_0000) * n);
  }

  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() / 0x1_0000_0000 < p;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.next() & 0xff;
    return b;
  }

  /** A new generator whose stream depends on this one's seed and `salt`, not on how far this one has run. */
  static derive(seed: number, salt: number): Xorshift32 {
    return new Xorshift32((seed ^ Math.imul(salt + 1, 0x9e37_79b9)) >>> 0);
  }
}
