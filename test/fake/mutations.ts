/**
 * Mutations of one RPC reply record, for the fuzz tests (fuzz-replies, and
 * mitm-fuzz through fault-proxy.ts). Each mutation is a pure function of the
 * record it is given: every random choice is drawn when the mutation is
 * made, from a seeded Xorshift32, so a run replays exactly.
 *
 * A mutation returns what to put on the wire instead of the record: record
 * bodies (framed as one last fragment each) and raw bytes (framing done by
 * the mutation itself, e.g. a valid record split into odd fragments).
 */
import type { Piece } from './fault-proxy.js';
import { Xorshift32 } from './prng.js';

export type MutationKind =
  | 'bitflip'
  | 'truncate'
  | 'huge-length'
  | 'boundary-word'
  | 'random-bytes'
  | 'random-tail'
  | 'trailing-garbage'
  | 'duplicate'
  | 'fragments'
  | 'foreign';

export interface Mutation {
  kind: MutationKind;
  detail: string;
  apply(record: Buffer): Piece[];
}

/** Values that sit on the edges of what a uint32 field may hold. */
export const BOUNDARY_WORDS = [0, 1, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff] as const;
export const HUGE_LENGTH = 0xffff_fff0;

export function bitflip(byte: number, bit: number): Mutation {
  return {
    kind: 'bitflip',
    detail: `byte ${byte} bit ${bit}`,
    apply: (r) => {
      if (byte >= r.length) return [r];
      const c = Buffer.from(r);
      c[byte]! ^= 1 << bit;
      return [c];
    },
  };
}

export function truncate(length: number): Mutation {
  return { kind: 'truncate', detail: `to ${length} bytes`, apply: (r) => [r.subarray(0, Math.min(length, r.length))] };
}

export function word(offset: number, value: number, kind: 'huge-length' | 'boundary-word' = 'boundary-word'): Mutation {
  return {
    kind,
    detail: `0x${value.toString(16)} at ${offset}`,
    apply: (r) => {
      if (offset + 4 > r.length) return [r];
      const c = Buffer.from(r);
      c.writeUInt32BE(value >>> 0, offset);
      return [c];
    },
  };
}

/** The first `keep` bytes of the record, then `random` (so xid and msg_type can be kept). */
export function randomAfter(keep: number, random: Buffer, kind: 'random-bytes' | 'random-tail'): Mutation {
  return { kind, detail: `${keep} kept + ${random.length} random`, apply: (r) => [Buffer.concat([r.subarray(0, keep), random])] };
}

export function trailing(garbage: Buffer): Mutation {
  return { kind: 'trailing-garbage', detail: `+${garbage.length} bytes`, apply: (r) => [Buffer.concat([r, garbage])] };
}

/** The record twice; with `flipAt`, the copy has that byte inverted. */
export function duplicate(flipAt?: number): Mutation {
  return {
    kind: 'duplicate',
    detail: flipAt === undefined ? 'exact copy' : `copy with byte ${flipAt} inverted`,
    apply: (r) => {
      if (flipAt === undefined || flipAt >= r.length) return [r, r];
      const c = Buffer.from(r);
      c[flipAt]! ^= 0xff;
      return [r, c];
    },
  };
}

/**
 * The same record as several fragments (RFC 5531 §11), some of them empty:
 * still a valid record. `cuts` are fractions in [0, 1) of the record length.
 */
export function fragments(cuts: number[], emptyEvery = 0): Mutation {
  return {
    kind: 'fragments',
    detail: `${cuts.length + 1} fragments${emptyEvery ? ', with empty ones' : ''}`,
    apply: (r) => {
      const at = [...new Set(cuts.map((f) => Math.floor(f * r.length)))].sort((a, b) => a - b);
      const bounds = [0, ...at.filter((x) => x > 0 && x < r.length), r.length];
      const out: Buffer[] = [];
      for (let i = 0; i + 1 < bounds.length; i++) {
        const last = i + 2 === bounds.length;
        if (emptyEvery && i % emptyEvery === 0) out.push(u32(0)); // an empty non-last fragment
        out.push(u32((last ? 0x8000_0000 : 0) | (bounds[i + 1]! - bounds[i]!)), r.subarray(bounds[i]!, bounds[i + 1]!));
      }
      return [{ raw: Buffer.concat(out) }];
    },
  };
}

/** The record's RPC header with another procedure's results after it. */
export function foreign(headerLength: number, results: Buffer, from: string): Mutation {
  return { kind: 'foreign', detail: `results of ${from}`, apply: (r) => [Buffer.concat([r.subarray(0, headerLength), results])] };
}

export interface MutationPlan {
  /** Bit flips at most; with fewer bits in the record every bit is flipped once. */
  maxBitFlips: number;
  /** Random bodies and random tails (each), and half as many trailing-garbage cases. */
  randomCases: number;
}

/**
 * The mutations of one record of `length` bytes:
 *   every truncation; 0xFFFFFFF0 and each boundary value at every 4-byte
 *   offset; bit flips (all of them, or `maxBitFlips` drawn at random);
 *   random bodies and random tails after the kept xid + msg_type; trailing
 *   garbage; duplicates; valid fragmentations.
 *
 * Bit flips in the xid are limited to its high 16 bits: a flipped low bit
 * can turn a reply into the reply of another call in flight, a case of its
 * own (crosstalk) that would make the per-class counts depend on timing.
 */
export function mutationsFor(length: number, rng: Xorshift32, plan: MutationPlan): Mutation[] {
  const out: Mutation[] = [];
  for (let n = 0; n < length; n++) out.push(truncate(n));
  for (let off = 0; off + 4 <= length; off += 4) {
    out.push(word(off, HUGE_LENGTH, 'huge-length'));
    if (off >= 8) for (const v of BOUNDARY_WORDS) out.push(word(off, v));
  }
  const bits: [number, number][] = [];
  for (let byte = 0; byte < length; byte++) {
    if (byte === 2 || byte === 3) continue; // the xid's low 16 bits
    for (let bit = 0; bit < 8; bit++) bits.push([byte, bit]);
  }
  if (bits.length <= plan.maxBitFlips) {
    for (const [byte, bit] of bits) out.push(bitflip(byte, bit));
  } else {
    for (let i = 0; i < plan.maxBitFlips; i++) {
      const k = i + rng.int(bits.length - i);
      [bits[i], bits[k]] = [bits[k]!, bits[i]!];
      out.push(bitflip(bits[i]![0], bits[i]![1]));
    }
  }
  for (let i = 0; i < plan.randomCases; i++) {
    out.push(randomAfter(8, rng.bytes(rng.int(length * 2 + 1)), 'random-bytes'));
    out.push(randomAfter(8 + rng.int(Math.max(1, length - 8)), rng.bytes(rng.range(1, 64)), 'random-tail'));
  }
  for (let i = 0; i < Math.max(2, plan.randomCases >> 1); i++) out.push(trailing(rng.bytes(rng.range(1, 64))));
  out.push(duplicate(), duplicate(8 + rng.int(Math.max(1, length - 8))));
  for (let i = 0; i < 4; i++) {
    out.push(fragments(Array.from({ length: rng.range(1, 6) }, () => rng.next() / 0x1_0000_0000), i % 2));
  }
  return out;
}

export function u32(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, i * 4));
  return b;
}

/** Pieces as bytes on the wire: records framed as one last fragment, raw bytes as they are. */
export function wireBytes(pieces: Piece[]): Buffer {
  return Buffer.concat(pieces.map((p) => (Buffer.isBuffer(p) ? Buffer.concat([u32((0x8000_0000 | p.length) >>> 0), p]) : p.raw)));
}

/**
 * Whether the client can still match the first record of `pieces` to its
 * call: a whole record whose xid and msg_type (the first 8 bytes) are those
 * of `original`. Unmatched replies are dropped and their call times out.
 */
export function matchable(original: Buffer, pieces: Piece[]): boolean {
  const first = pieces[0];
  if (first === undefined) return false;
  if (!Buffer.isBuffer(first)) return true; // fragments(): the same record, reframed
  return first.length >= 8 && first.subarray(0, 8).equals(original.subarray(0, 8));
}
