import { bucketRange, type Histogram } from './histogram.js';

/**
 * fio's latency histogram layout ("plat", stat.h), for json+'s `bins` and the
 * histogram log. Values below 2·PLAT_VAL ns have one bucket each; above that,
 * every power of two [2^m, 2^(m+1)) is cut into PLAT_VAL equal buckets, up to
 * PLAT_GROUP_NR groups; larger values go to the last bucket.
 *
 *   index:  0 … 127        | 128 … 191          | 192 … 255          | …  1855
 *   values: 0 … 127 exact  | 128 … 255, width 2 | 256 … 511, width 4 | …
 *
 * A bucket is named in json+ by its middle value (fio's plat_idx_to_val), so
 * `fio_jsonplus_clat2csv` and other readers map a key back to its bucket.
 *
 * mountless's own histogram (histogram.ts) is twice as fine and on the same
 * powers of two: each fio bucket is exactly one or two of ours (or, below
 * 256 ns, one to two exact values), so converting loses nothing. Only values
 * past fio's last bucket (2^34 ns, about 17 s) are lumped together, as fio
 * lumps them.
 */
export const PLAT_BITS = 6;
export const PLAT_VAL = 1 << PLAT_BITS;
export const PLAT_GROUP_NR = 29;
export const PLAT_NR = PLAT_GROUP_NR * PLAT_VAL;

/** The fio bucket of a latency in ns. */
export function platIndex(ns: number): number {
  const v = Math.max(0, Math.floor(ns));
  if (v < 2 * PLAT_VAL) return v;
  const msb = Math.floor(Math.log2(v));
  // log2 of a float can land one off just below a power of two: correct it exactly.
  const m = 2 ** msb > v ? msb - 1 : 2 ** (msb + 1) <= v ? msb + 1 : msb;
  const errorBits = m - PLAT_BITS;
  const idx = ((errorBits + 1) << PLAT_BITS) + (Math.floor(v / 2 ** errorBits) & (PLAT_VAL - 1));
  return Math.min(idx, PLAT_NR - 1);
}

/** The value fio names bucket `idx` by: the value itself, or the bucket's middle, truncated. */
export function platValue(idx: number): number {
  if (idx < 2 * PLAT_VAL) return idx;
  const errorBits = (idx >> PLAT_BITS) - 1;
  const base = 2 ** (errorBits + PLAT_BITS);
  return Math.floor(base + ((idx % PLAT_VAL) + 0.5) * 2 ** errorBits);
}

/** [lowest, highest] ns fio counts in bucket `idx` (the last one is open-ended). */
export function platRange(idx: number): [number, number] {
  if (idx < 2 * PLAT_VAL) return [idx, idx];
  const errorBits = (idx >> PLAT_BITS) - 1;
  const low = 2 ** (errorBits + PLAT_BITS) + (idx % PLAT_VAL) * 2 ** errorBits;
  return [low, idx === PLAT_NR - 1 ? Infinity : low + 2 ** errorBits - 1];
}

/** A histogram's counts in fio's buckets: index → count, non-empty buckets only. */
export function platCounts(h: Histogram): Map<number, number> {
  const out = new Map<number, number>();
  for (const [i, n] of h.toJSON().buckets) {
    const idx = platIndex(bucketRange(i)[0]);
    out.set(idx, (out.get(idx) ?? 0) + n);
  }
  return out;
}

/** json+'s `bins`: fio's bucket value (ns, as a string key) → count, in increasing order. */
export function fioBins(h: Histogram): Record<string, number> {
  const counts = [...platCounts(h)].sort((a, b) => a[0] - b[0]);
  const bins: Record<string, number> = {};
  for (const [idx, n] of counts) bins[String(platValue(idx))] = n;
  return bins;
}
