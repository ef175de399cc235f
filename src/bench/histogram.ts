/**
 * A log-linear latency histogram, HdrHistogram-style, in nanoseconds.
 *
 * Values below 2·HALF are counted exactly, one bucket per value. Above that,
 * every power-of-two range [2^m, 2^(m+1)) is cut into HALF equal buckets, so a
 * bucket is never wider than 1/HALF of its lower bound: with HALF = 128 a
 * reported percentile is within 0.8% of the true sample (0.4% from the
 * bucket's middle, which is what `percentile` reports). Memory is fixed
 * (about 4 600 counters up to MAX_VALUE), whatever the number of samples.
 *
 *   index:  0 … 255        | 256 … 383          | 384 … 511          | …
 *   values: 0 … 255 exact  | 256 … 511, width 2 | 512 … 1023, width 4 | …
 *
 * bench/peers/libnfs-bench.c keeps the same layout, so both sides of a
 * comparison report with the same precision.
 */

/** Buckets per power of two above the exact range. */
const HALF = 128;
/** Values below this are counted exactly. */
const EXACT = 2 * HALF;
const LOG2_HALF = 7;
/** Larger values (≈ 18 minutes in ns) are counted as this. */
export const MAX_VALUE = 2 ** 40 - 1;
const BUCKETS = EXACT + (40 - LOG2_HALF - 1) * HALF;

/** The percentiles fio prints by default (its `percentile_list`). */
export const FIO_PERCENTILES = [1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 99.5, 99.9, 99.95, 99.99] as const;

const POW2 = Float64Array.from({ length: 64 }, (_, k) => 2 ** k);

export function bucketIndex(value: number): number {
  let v = Math.floor(value);
  if (!(v > 0)) return 0;
  if (v < EXACT) return v;
  if (v > MAX_VALUE) v = MAX_VALUE;
  // floor(log2 v) without floating-point error: split above 32 bits.
  const m = v < 2 ** 32 ? 31 - Math.clz32(v) : 63 - Math.clz32(Math.floor(v / 2 ** 32));
  const shift = m - LOG2_HALF;
  // A table, not `2 ** shift`: a variable exponent is a call to pow(), which showed in the 4 KiB profile (three samples per operation).
  const top = Math.floor(v / POW2[shift]!);
  return EXACT + (shift - 1) * HALF + (top - HALF);
}

/** [lowest, highest] value counted in bucket `index`. */
export function bucketRange(index: number): [number, number] {
  if (index < EXACT) return [index, index];
  const shift = Math.floor((index - EXACT) / HALF) + 1;
  const top = HALF + ((index - EXACT) % HALF);
  const low = top * 2 ** shift;
  return [low, low + 2 ** shift - 1];
}

/**
 * A histogram as JSON (worker threads, result files on the export): the
 * non-empty buckets as [index, count] pairs, and the exact moments. Merging
 * two of these bucket by bucket loses nothing, so percentiles of a merged
 * run are those of all its samples, to the bucket's width.
 */
export interface HistogramData {
  /** Bucket layout: HALF buckets per power of two (a reader with another layout refuses the data). */
  half: number;
  buckets: Array<[index: number, count: number]>;
  count: number;
  min: number;
  max: number;
  sum: number;
  sumSq: number;
}

export class Histogram {
  /** counts[i] = samples that fell in bucket i (see bucketIndex). */
  private readonly counts = new Float64Array(BUCKETS);
  /** Exact, not bucketed: */
  count = 0;
  min = Infinity;
  max = 0;
  private sum = 0;
  private sumSq = 0;

  record(value: number): void {
    this.counts[bucketIndex(value)]!++;
    this.count++;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    this.sum += value;
    this.sumSq += value * value;
  }

  /** Adds every sample of `other` to this one. */
  merge(other: Histogram): this {
    for (let i = 0; i < BUCKETS; i++) this.counts[i]! += other.counts[i]!;
    this.count += other.count;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
    this.sum += other.sum;
    this.sumSq += other.sumSq;
    return this;
  }

  toJSON(): HistogramData {
    const buckets: Array<[number, number]> = [];
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i]! > 0) buckets.push([i, this.counts[i]!]);
    return { half: HALF, buckets, count: this.count, min: this.count ? this.min : 0, max: this.max, sum: this.sum, sumSq: this.sumSq };
  }

  static fromJSON(d: HistogramData): Histogram {
    if (d.half !== HALF) throw new Error(`histogram with ${d.half} buckets per power of two; this build uses ${HALF}`);
    const h = new Histogram();
    let total = 0;
    for (const [i, n] of d.buckets) {
      if (!Number.isInteger(i) || i < 0 || i >= BUCKETS || !(n >= 0)) throw new Error(`histogram bucket [${i}, ${n}] out of range`);
      h.counts[i]! += n;
      total += n;
    }
    if (total !== d.count) throw new Error(`histogram counts add up to ${total}, not its count ${d.count}`);
    h.count = d.count;
    h.min = d.count ? d.min : Infinity;
    h.max = d.max;
    h.sum = d.sum;
    h.sumSq = d.sumSq;
    return h;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.min = Infinity;
    this.max = 0;
    this.sum = 0;
    this.sumSq = 0;
  }

  get mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  get stddev(): number {
    if (this.count < 2) return 0;
    const m = this.mean;
    return Math.sqrt(Math.max(0, this.sumSq / this.count - m * m));
  }

  /**
   * The value at percentile p (0 < p ≤ 100), nearest-rank: the sample with
   * rank ceil(p/100 · count) in sorted order, to within the bucket's width.
   * Returns the bucket's middle, clamped to the recorded min and max.
   */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) {
        const [lo, hi] = bucketRange(i);
        const mid = lo === hi ? lo : Math.floor((lo + hi) / 2);
        return Math.min(this.max, Math.max(this.min, mid));
      }
    }
    return this.max;
  }
}
