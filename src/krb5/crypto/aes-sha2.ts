import { createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { Krb5Error } from '../errors.js';
import { ctsDecrypt, ctsEncrypt } from './aes-cts.js';
import { iterationCount } from './aes-sha1.js';
import { usageConstant } from './dk.js';
import { cachedDerive } from './key-cache.js';
import type { Enctype } from './enctype.js';

/**
 * RFC 8009 KDF-HMAC-SHA2 (SP 800-108 counter mode with a single iteration):
 * the first `bits` bits of HMAC(key, 00000001 | label | 00 | bits as 32-bit BE).
 */
export function kdfHmacSha2(hash: 'sha256' | 'sha384', key: Uint8Array, label: Uint8Array, bits: number): Buffer {
  const tail = Buffer.alloc(4);
  tail.writeUInt32BE(bits, 0);
  return createHmac(hash, key).update(Buffer.from([0, 0, 0, 1])).update(label).update(Buffer.from([0])).update(tail).digest().subarray(0, bits / 8);
}

/** RFC 8009: aes128-cts-hmac-sha256-128 (19) and aes256-cts-hmac-sha384-192 (20). */
class AesSha2 implements Enctype {
  readonly overhead: number;
  readonly defaultS2kParams = Buffer.from([0, 0, 0x80, 0]); // 32768 iterations
  constructor(
    readonly etype: number,
    readonly name: string,
    readonly keyBytes: number,
    readonly checksumType: number,
    readonly checksumBytes: number,
    private readonly hash: 'sha256' | 'sha384',
  ) {
    this.overhead = 16 + checksumBytes;
  }

  stringToKey(password: string, salt: string | Uint8Array, s2kparams?: Uint8Array): Buffer {
    const iterations = iterationCount(s2kparams ?? this.defaultS2kParams);
    const saltp = Buffer.concat([Buffer.from(this.name, 'ascii'), Buffer.from([0]), typeof salt === 'string' ? Buffer.from(salt, 'utf8') : salt]);
    const tkey = pbkdf2Sync(Buffer.from(password, 'utf8'), saltp, iterations, this.keyBytes, this.hash);
    return kdfHmacSha2(this.hash, tkey, Buffer.from('kerberos', 'ascii'), this.keyBytes * 8);
  }

  private keys(key: Uint8Array, usage: number): { ke: Buffer; ki: Buffer } {
    return {
      ke: cachedDerive(key, `${usage}:aa`, () => kdfHmacSha2(this.hash, key, usageConstant(usage, 0xaa), this.keyBytes * 8)),
      ki: cachedDerive(key, `${usage}:55`, () => kdfHmacSha2(this.hash, key, usageConstant(usage, 0x55), this.checksumBytes * 8)),
    };
  }

  encrypt(key: Uint8Array, usage: number, plain: Uint8Array, confounder: Uint8Array = randomBytes(16)): Buffer {
    const { ke, ki } = this.keys(key, usage);
    const c = ctsEncrypt(ke, Buffer.concat([confounder, plain]));
    // The HMAC covers the (zero) IV and the ciphertext: encrypt-then-MAC.
    const h = createHmac(this.hash, ki).update(Buffer.alloc(16)).update(c).digest().subarray(0, this.checksumBytes);
    return Buffer.concat([c, h]);
  }

  decrypt(key: Uint8Array, usage: number, cipher: Uint8Array): Buffer {
    if (cipher.length < this.overhead) throw new Krb5Error('ERR_KRB5_DECODE', `krb5: ${this.name} ciphertext of ${cipher.length} bytes is shorter than its ${this.overhead}-byte overhead`);
    const { ke, ki } = this.keys(key, usage);
    const c = cipher.subarray(0, cipher.length - this.checksumBytes);
    const h = createHmac(this.hash, ki).update(Buffer.alloc(16)).update(c).digest().subarray(0, this.checksumBytes);
    if (!timingSafeEqual(h, cipher.subarray(cipher.length - this.checksumBytes))) {
      throw new Krb5Error('ERR_KRB5_INTEGRITY', `krb5: ${this.name} decryption failed the integrity check (wrong key, or data altered) for key usage ${usage}`);
    }
    return ctsDecrypt(ke, c).subarray(16);
  }

  checksum(key: Uint8Array, usage: number, data: Uint8Array): Buffer {
    const kc = cachedDerive(key, `${usage}:99`, () => kdfHmacSha2(this.hash, key, usageConstant(usage, 0x99), this.checksumBytes * 8));
    return createHmac(this.hash, kc).update(data).digest().subarray(0, this.checksumBytes);
  }

  verifyChecksum(key: Uint8Array, usage: number, data: Uint8Array, checksum: Uint8Array): boolean {
    return checksum.length === this.checksumBytes && timingSafeEqual(this.checksum(key, usage, data), checksum);
  }

  randomKey(): Buffer {
    return randomBytes(this.keyBytes);
  }
}

export const aes128CtsHmacSha256128: Enctype = new AesSha2(19, 'aes128-cts-hmac-sha256-128', 16, 19, 16, 'sha256');
export const aes256CtsHmacSha384192: Enctype = new AesSha2(20, 'aes256-cts-hmac-sha384-192', 32, 20, 24, 'sha384');
