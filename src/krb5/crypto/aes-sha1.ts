import { createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { Krb5Error } from '../errors.js';
import { ctsDecrypt, ctsEncrypt } from './aes-cts.js';
import { deriveKeyDk, usageConstant } from './dk.js';
import { cachedDerive } from './key-cache.js';
import type { Enctype } from './enctype.js';

/** RFC 3962: aes128-cts-hmac-sha1-96 (17) and aes256-cts-hmac-sha1-96 (18). */
function dk(key: Uint8Array, usage: number, kind: 0x99 | 0xaa | 0x55): Buffer {
  return cachedDerive(key, `${usage}:${kind}`, () => deriveKeyDk(key, usageConstant(usage, kind)));
}

class AesSha1 implements Enctype {
  readonly checksumBytes = 12;
  readonly overhead = 16 + 12;
  readonly defaultS2kParams = Buffer.from([0, 0, 0x10, 0]); // 4096 iterations
  constructor(
    readonly etype: number,
    readonly name: string,
    readonly keyBytes: number,
    readonly checksumType: number,
  ) {}

  stringToKey(password: string, salt: string | Uint8Array, s2kparams?: Uint8Array): Buffer {
    const iterations = iterationCount(s2kparams ?? this.defaultS2kParams);
    const tkey = pbkdf2Sync(Buffer.from(password, 'utf8'), typeof salt === 'string' ? Buffer.from(salt, 'utf8') : salt, iterations, this.keyBytes, 'sha1');
    return deriveKeyDk(tkey, Buffer.from('kerberos', 'ascii'));
  }

  encrypt(key: Uint8Array, usage: number, plain: Uint8Array, confounder: Uint8Array = randomBytes(16)): Buffer {
    const ke = dk(key, usage, 0xaa);
    const ki = dk(key, usage, 0x55);
    const data = Buffer.concat([confounder, plain]);
    const mac = createHmac('sha1', ki).update(data).digest().subarray(0, this.checksumBytes);
    return Buffer.concat([ctsEncrypt(ke, data), mac]);
  }

  decrypt(key: Uint8Array, usage: number, cipher: Uint8Array): Buffer {
    if (cipher.length < this.overhead) throw new Krb5Error('ERR_KRB5_DECODE', `krb5: ${this.name} ciphertext of ${cipher.length} bytes is shorter than its ${this.overhead}-byte overhead`);
    const ke = dk(key, usage, 0xaa);
    const ki = dk(key, usage, 0x55);
    const body = cipher.subarray(0, cipher.length - this.checksumBytes);
    const data = ctsDecrypt(ke, body);
    const mac = createHmac('sha1', ki).update(data).digest().subarray(0, this.checksumBytes);
    if (!timingSafeEqual(mac, cipher.subarray(cipher.length - this.checksumBytes))) {
      throw new Krb5Error('ERR_KRB5_INTEGRITY', `krb5: ${this.name} decryption failed the integrity check (wrong key, or data altered) for key usage ${usage}`);
    }
    return data.subarray(16);
  }

  checksum(key: Uint8Array, usage: number, data: Uint8Array): Buffer {
    const kc = dk(key, usage, 0x99);
    return createHmac('sha1', kc).update(data).digest().subarray(0, this.checksumBytes);
  }

  verifyChecksum(key: Uint8Array, usage: number, data: Uint8Array, checksum: Uint8Array): boolean {
    return checksum.length === this.checksumBytes && timingSafeEqual(this.checksum(key, usage, data), checksum);
  }

  randomKey(): Buffer {
    return randomBytes(this.keyBytes);
  }
}

export function iterationCount(s2kparams: Uint8Array): number {
  if (s2kparams.length !== 4) throw new Krb5Error('ERR_KRB5_UNSUPPORTED', `krb5: s2kparams of ${s2kparams.length} bytes (expected a 4-byte iteration count)`);
  const n = Buffer.from(s2kparams).readUInt32BE(0);
  // MIT refuses counts this large as a denial of service; 0 would mean 2^32 in RFC 3962.
  if (n === 0 || n > 16_777_216) throw new Krb5Error('ERR_KRB5_UNSUPPORTED', `krb5: string-to-key iteration count ${n} is out of range`);
  return n;
}

export const aes128CtsHmacSha196: Enctype = new AesSha1(17, 'aes128-cts-hmac-sha1-96', 16, 15);
export const aes256CtsHmacSha196: Enctype = new AesSha1(18, 'aes256-cts-hmac-sha1-96', 32, 16);
