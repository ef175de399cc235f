/** Bytes with binary units, for progress lines, summaries and listings: "12.3 MiB". */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}

const SHIFT: Record<string, number> = { '': 0, k: 10, m: 20, g: 30, t: 40, p: 50 };

/**
 * A byte count as written on a command line or in a config: `512`, `4k`,
 * `10M`, `1.5G`, `2T`, `1P`. Every suffix is binary, as in fio: K/M/G/T/P are
 * 2^10, 2^20, 2^30, 2^40, 2^50 whatever the case, and `KB`, `KiB` and
 * Kubernetes' `Ki` mean the same (so `500M` and `500Mi` are both 500 MiB).
 * The result must be a whole, safe integer number of bytes.
 * Throws a RangeError whose message names the text; callers add their context.
 */
export function parseBytes(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(?:([kmgtp])i?b?|b?)$/i.exec(s.trim());
  if (!m) throw new RangeError(`not a size: '${s}' (use e.g. 4k, 500M, 10G, 1048576; K/M/G are 1024-based)`);
  const n = Number(m[1]) * 2 ** SHIFT[(m[2] ?? '').toLowerCase()]!;
  if (!Number.isSafeInteger(n)) throw new RangeError(`not a whole number of bytes: '${s}'`);
  return n;
}
