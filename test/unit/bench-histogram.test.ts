import t from 'tap';
import { bucketIndex, bucketRange, Histogram, MAX_VALUE } from '../../src/bench/histogram.js';

/** Nearest-rank percentile of a sorted array: the sample of rank ceil(p/100 · n). */
function exact(sorted: number[], p: number): number {
  return sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1]!;
}

/** A seeded generator, so a failure reproduces. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const PCTS = [1, 10, 50, 90, 99, 99.9, 99.99, 100];

t.test('buckets: exact below 256, contiguous, and at most 1/128 wide above', async (t) => {
  for (let v = 0; v < 256; v++) t.equal(bucketIndex(v), v);
  let prevHi = -1;
  for (let i = 0; i < 4352; i++) {
    const [lo, hi] = bucketRange(i);
    if (lo !== prevHi + 1) t.fail(`bucket ${i} starts at ${lo}, previous ended at ${prevHi}`);
    if (bucketIndex(lo) !== i || bucketIndex(hi) !== i) t.fail(`bucket ${i} [${lo}, ${hi}] does not map back to itself`);
    if (lo >= 256 && (hi - lo + 1) / lo > 1 / 128 + 1e-12) t.fail(`bucket ${i} is too wide`);
    prevHi = hi;
  }
  t.equal(prevHi, MAX_VALUE, 'the last bucket ends at MAX_VALUE');
  t.equal(bucketIndex(MAX_VALUE * 10), bucketIndex(MAX_VALUE), 'larger values are clamped');
  t.equal(bucketIndex(-5), 0);
  t.equal(bucketIndex(2 ** 32), bucketIndex(2 ** 32 + 1), 'values above 32 bits');
  t.not(bucketIndex(2 ** 32 - 1), bucketIndex(2 ** 32));
});

t.test('percentiles match a sorted array to within 1% (log-normal latencies)', async (t) => {
  const rnd = lcg(42);
  const h = new Histogram();
  const xs: number[] = [];
  for (let i = 0; i < 100_000; i++) {
    // Box-Muller: log-normal around 500 µs, with a tail into tens of ms.
    const z = Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
    const v = Math.round(Math.exp(13.1 + 0.9 * z));
    xs.push(v);
    h.record(v);
  }
  xs.sort((a, b) => a - b);
  for (const p of PCTS) {
    const want = exact(xs, p);
    const got = h.percentile(p);
    t.ok(Math.abs(got - want) <= want * 0.01, `p${p}: ${got} vs exact ${want}`);
  }
  t.equal(h.count, xs.length);
  t.equal(h.min, xs[0]);
  t.equal(h.max, xs[xs.length - 1]);
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  t.ok(Math.abs(h.mean - mean) < 1e-6 * mean, 'mean is exact');
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
  t.ok(Math.abs(h.stddev - sd) < 1e-6 * sd, 'stddev is exact (population)');
});

t.test('percentiles of small and exact samples', async (t) => {
  const h = new Histogram();
  t.equal(h.percentile(50), 0, 'empty histogram reports 0');
  t.equal(h.mean, 0);
  t.equal(h.stddev, 0);
  for (const v of [5, 1, 3, 2, 4]) h.record(v);
  t.equal(h.percentile(20), 1);
  t.equal(h.percentile(50), 3);
  t.equal(h.percentile(60), 3);
  t.equal(h.percentile(61), 4);
  t.equal(h.percentile(100), 5);
  const one = new Histogram();
  one.record(1_234_567);
  for (const p of PCTS) t.equal(one.percentile(p), 1_234_567, `one sample: p${p} is that sample (clamped to min/max)`);
});

t.test('uniform and bimodal samples: every fio percentile within 1%', async (t) => {
  const rnd = lcg(7);
  for (const gen of [() => 1000 + rnd() * 1e6, () => (rnd() < 0.9 ? 50_000 + rnd() * 1000 : 5e9 + rnd() * 1e9)]) {
    const h = new Histogram();
    const xs: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      const v = Math.floor(gen());
      xs.push(v);
      h.record(v);
    }
    xs.sort((a, b) => a - b);
    for (const p of [1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 99.5, 99.9, 99.95, 99.99]) {
      const want = exact(xs, p);
      t.ok(Math.abs(h.percentile(p) - want) <= want * 0.01, `p${p}: ${h.percentile(p)} vs ${want}`);
    }
  }
});

t.test('merge equals recording everything in one; reset empties', async (t) => {
  const rnd = lcg(3);
  const a = new Histogram();
  const b = new Histogram();
  const all = new Histogram();
  for (let i = 0; i < 5000; i++) {
    const v = Math.floor(rnd() * 1e7);
    (i % 3 ? a : b).record(v);
    all.record(v);
  }
  a.merge(b);
  t.equal(a.count, all.count);
  t.equal(a.min, all.min);
  t.equal(a.max, all.max);
  t.ok(Math.abs(a.mean - all.mean) < 1e-6);
  for (const p of PCTS) t.equal(a.percentile(p), all.percentile(p), `p${p}`);
  a.reset();
  t.equal(a.count, 0);
  t.equal(a.percentile(99), 0);
});
