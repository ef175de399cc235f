/**
 * Range requests (RFC 9110 §14). Byte ranges only; `a-b`, `a-` and the
 * suffix form `-n`, several per header. Overlapping or adjacent ranges are
 * coalesced (§14.2 allows it), so a multipart answer never sends a byte
 * twice; more than MAX_RANGES ranges, or a header that does not parse, is
 * ignored and the whole representation sent (also allowed by §14.2).
 */

export const MAX_RANGES = 32;

/** Inclusive byte positions, as Content-Range writes them. */
export interface ByteRange {
  start: number;
  end: number;
}

export type RangeResult =
  /** No usable Range header: send 200 with everything. */
  | { kind: 'none' }
  /** Syntactically fine but no range overlaps the representation: 416. */
  | { kind: 'unsatisfiable' }
  | { kind: 'ranges'; ranges: ByteRange[] };

export function parseRange(header: string | undefined, size: number): RangeResult {
  if (header === undefined) return { kind: 'none' };
  const m = /^\s*bytes\s*=\s*(.*)$/i.exec(header);
  if (!m) return { kind: 'none' };
  const specs = m[1]!.split(',').map((x) => x.trim()).filter((x) => x !== '');
  if (specs.length === 0 || specs.length > MAX_RANGES) return { kind: 'none' };
  const ranges: ByteRange[] = [];
  for (const spec of specs) {
    const r = /^(\d*)\s*-\s*(\d*)$/.exec(spec);
    if (!r || (r[1] === '' && r[2] === '')) return { kind: 'none' };
    if (r[1] === '') {
      const n = Number(r[2]);
      if (!Number.isSafeInteger(n)) return { kind: 'none' };
      if (n === 0 || size === 0) continue;
      ranges.push({ start: Math.max(0, size - n), end: size - 1 });
      continue;
    }
    const start = Number(r[1]);
    const last = r[2] === '' ? Infinity : Number(r[2]);
    if (!Number.isSafeInteger(start) || (last !== Infinity && !Number.isSafeInteger(last))) return { kind: 'none' };
    if (last < start) return { kind: 'none' };
    if (start >= size) continue;
    ranges.push({ start, end: Math.min(last, size - 1) });
  }
  if (ranges.length === 0) return { kind: 'unsatisfiable' };
  return { kind: 'ranges', ranges: coalesce(ranges) };
}

function coalesce(ranges: ByteRange[]): ByteRange[] {
  if (ranges.length === 1) return ranges;
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  const out: ByteRange[] = [{ ...sorted[0]! }];
  for (const r of sorted.slice(1)) {
    const last = out[out.length - 1]!;
    if (r.start <= last.end + 1) last.end = Math.max(last.end, r.end);
    else out.push({ ...r });
  }
  return out;
}

export function contentRange(r: ByteRange, size: number): string {
  return `bytes ${r.start}-${r.end}/${size}`;
}

/** The framing of a multipart/byteranges body: each part's header, and the closing delimiter. */
export function multipartFraming(ranges: readonly ByteRange[], size: number, type: string, boundary: string): { heads: string[]; tail: string; length: number } {
  const heads = ranges.map((r, k) => `${k === 0 ? '' : '\r\n'}--${boundary}\r\nContent-Type: ${type}\r\nContent-Range: ${contentRange(r, size)}\r\n\r\n`);
  const tail = `\r\n--${boundary}--\r\n`;
  let length = Buffer.byteLength(tail);
  for (let k = 0; k < ranges.length; k++) length += Buffer.byteLength(heads[k]!) + ranges[k]!.end - ranges[k]!.start + 1;
  return { heads, tail, length };
}
