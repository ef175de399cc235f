/**
 * RFC 3961 section 5.1 n-fold: stretch or fold `input` to `outBytes` bytes.
 * The input is repeated, each copy rotated right by 13 bits more than the
 * one before, until the length is the least common multiple of both sizes;
 * the result is that sequence added up in outBytes-sized pieces with
 * end-around carry (ones' complement addition).
 */
export function nfold(input: Uint8Array, outBytes: number): Buffer {
  const inBytes = input.length;
  const lcm = (inBytes * outBytes) / gcd(inBytes, outBytes);
  const inBits = inBytes * 8;
  const out = new Uint8Array(outBytes);
  let carry = 0;
  // Walk from the least significant byte of the whole lcm-long sequence, so
  // the carry runs the way ones' complement addition wants it.
  for (let i = lcm - 1; i >= 0; i--) {
    const copy = Math.floor(i / inBytes);
    // Bit offset into the original input of byte i of this rotated copy.
    const rot = 13 * copy;
    const bitPos = ((((i % inBytes) * 8 - rot) % inBits) + inBits) % inBits;
    const b = byteAtBit(input, bitPos, inBits);
    const o = i % outBytes;
    carry += out[o]! + b;
    out[o] = carry & 0xff;
    carry >>>= 8;
  }
  // The end-around carry may ripple through more than one byte.
  while (carry !== 0) {
    for (let o = outBytes - 1; o >= 0 && carry !== 0; o--) {
      carry += out[o]!;
      out[o] = carry & 0xff;
      carry >>>= 8;
    }
  }
  return Buffer.from(out);
}

/** The 8 bits starting at bit `pos` (0 = most significant bit of byte 0), wrapping around. */
function byteAtBit(input: Uint8Array, pos: number, bits: number): number {
  let v = 0;
  for (let k = 0; k < 8; k++) {
    const p = (pos + k) % bits;
    v = (v << 1) | ((input[p >> 3]! >> (7 - (p & 7))) & 1);
  }
  return v;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
