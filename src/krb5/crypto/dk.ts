import { createCipheriv } from 'node:crypto';
import { nfold } from './nfold.js';

/**
 * RFC 3961 section 5.1 DR/DK for the AES enctypes of RFC 3962: the constant is
 * n-folded to the block size and encrypted again and again (each output the
 * next input, which is what CBC-CTS of a single block with zero IV amounts to)
 * until there are enough bytes; AES's random-to-key is the identity.
 */
export function deriveKeyDk(key: Uint8Array, constant: Uint8Array): Buffer {
  const out: Buffer[] = [];
  let block = nfold(constant, 16);
  let have = 0;
  while (have < key.length) {
    const c = createCipheriv(`aes-${key.length * 8}-ecb`, key, null);
    c.setAutoPadding(false);
    block = Buffer.concat([c.update(block), c.final()]);
    out.push(block);
    have += block.length;
  }
  return Buffer.concat(out).subarray(0, key.length);
}

/** The 5-byte usage constant of RFC 3961 section 5.3: usage number (big-endian) then 0x99 (Kc), 0xAA (Ke) or 0x55 (Ki). */
export function usageConstant(usage: number, kind: 0x99 | 0xaa | 0x55): Buffer {
  const b = Buffer.alloc(5);
  b.writeUInt32BE(usage >>> 0, 0);
  b[4] = kind;
  return b;
}
