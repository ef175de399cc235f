import { createCipheriv, createDecipheriv } from 'node:crypto';

/**
 * AES in CBC mode with ciphertext stealing as RFC 3962 section 5 uses it
 * (the "CS3" variant: the last two blocks are always swapped), zero IV
 * unless one is given. Input of exactly one block is plain AES-CBC; less
 * than one block is not allowed (Kerberos always prepends a 16-byte confounder).
 */
const BLOCK = 16;

function algo(key: Uint8Array, mode: 'cbc' | 'ecb'): string {
  return `aes-${key.length * 8}-${mode}`;
}

function cbc(encrypt: boolean, key: Uint8Array, iv: Uint8Array, data: Uint8Array): Buffer {
  const c = encrypt ? createCipheriv(algo(key, 'cbc'), key, iv) : createDecipheriv(algo(key, 'cbc'), key, iv);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]);
}

function ecbDecryptBlock(key: Uint8Array, block: Uint8Array): Buffer {
  const c = createDecipheriv(algo(key, 'ecb'), key, null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(block), c.final()]);
}

export function ctsEncrypt(key: Uint8Array, plain: Uint8Array, iv: Uint8Array = Buffer.alloc(BLOCK)): Buffer {
  const n = plain.length;
  if (n < BLOCK) throw new RangeError(`AES-CTS needs at least ${BLOCK} bytes, got ${n}`);
  if (n === BLOCK) return cbc(true, key, iv, plain);
  const blocks = Math.ceil(n / BLOCK);
  const tail = n - (blocks - 1) * BLOCK; // bytes in the last, possibly partial, block
  const padded = Buffer.alloc(blocks * BLOCK);
  padded.set(plain);
  const c = cbc(true, key, iv, padded);
  const head = c.subarray(0, (blocks - 2) * BLOCK);
  const prev = c.subarray((blocks - 2) * BLOCK, (blocks - 1) * BLOCK);
  const last = c.subarray((blocks - 1) * BLOCK);
  return Buffer.concat([head, last, prev.subarray(0, tail)]);
}

export function ctsDecrypt(key: Uint8Array, cipher: Uint8Array, iv: Uint8Array = Buffer.alloc(BLOCK)): Buffer {
  const n = cipher.length;
  if (n < BLOCK) throw new RangeError(`AES-CTS needs at least ${BLOCK} bytes, got ${n}`);
  if (n === BLOCK) return cbc(false, key, iv, cipher);
  const blocks = Math.ceil(n / BLOCK);
  const tail = n - (blocks - 1) * BLOCK;
  const head = cipher.subarray(0, (blocks - 2) * BLOCK);
  const swapped = cipher.subarray((blocks - 2) * BLOCK, (blocks - 1) * BLOCK); // encryption of the padded last block
  const partial = cipher.subarray((blocks - 1) * BLOCK); // first `tail` bytes of the next-to-last ciphertext block
  // Decrypting the swapped block gives (last plaintext, zero padded) XOR (next-to-last ciphertext block);
  // the bytes beyond `tail` are therefore the stolen end of that ciphertext block.
  const d = ecbDecryptBlock(key, swapped);
  const prev = Buffer.concat([partial, d.subarray(tail)]);
  const lastPlain = Buffer.alloc(tail);
  for (let i = 0; i < tail; i++) lastPlain[i] = d[i]! ^ partial[i]!;
  const front = cbc(false, key, iv, Buffer.concat([head, prev]));
  return Buffer.concat([front, lastPlain]);
}
