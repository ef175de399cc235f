import { Krb5Error } from '../errors.js';
import { aes128CtsHmacSha196, aes256CtsHmacSha196 } from './aes-sha1.js';
import { aes128CtsHmacSha256128, aes256CtsHmacSha384192 } from './aes-sha2.js';
import type { Enctype } from './enctype.js';

export type { Enctype } from './enctype.js';
export { KeyUsage, EType, CksumType } from './enctype.js';

const BY_ETYPE = new Map<number, Enctype>([aes256CtsHmacSha196, aes128CtsHmacSha196, aes256CtsHmacSha384192, aes128CtsHmacSha256128].map((e) => [e.etype, e]));
const BY_CKSUM = new Map<number, Enctype>([...BY_ETYPE.values()].map((e) => [e.checksumType, e]));

/** The etypes we ask a KDC for, in order of preference (MIT's default order among the AES ones). */
export const SUPPORTED_ETYPES: readonly number[] = [18, 17, 20, 19];

export function enctypeOf(etype: number): Enctype {
  const e = BY_ETYPE.get(etype);
  if (!e) throw new Krb5Error('ERR_KRB5_UNSUPPORTED', `krb5: encryption type ${etype} is not supported (only the AES ones: ${SUPPORTED_ETYPES.join(', ')})`);
  return e;
}

export function hasEnctype(etype: number): boolean {
  return BY_ETYPE.has(etype);
}

/** The enctype whose keys make checksum type `cksumtype`. */
export function enctypeOfChecksum(cksumtype: number): Enctype {
  const e = BY_CKSUM.get(cksumtype);
  if (!e) throw new Krb5Error('ERR_KRB5_UNSUPPORTED', `krb5: checksum type ${cksumtype} is not supported`);
  return e;
}
