/**
 * What the rest of the mechanism needs from an encryption type (RFC 3961
 * section 3): string-to-key, encryption with integrity under a key usage
 * number, and the keyed checksum that goes with it.
 */
export interface Enctype {
  /** RFC 3961/8009 etype number (17, 18, 19, 20). */
  readonly etype: number;
  readonly name: string;
  readonly keyBytes: number;
  /** The checksum type this enctype's keys make (RFC 3961 section 4 "required checksum mechanism"). */
  readonly checksumType: number;
  readonly checksumBytes: number;
  /** Ciphertext overhead: confounder plus integrity tag. */
  readonly overhead: number;
  /** s2kparams when the KDC gives none (RFC 3962: 4096 iterations, RFC 8009: 32768). */
  readonly defaultS2kParams: Buffer;
  stringToKey(password: string, salt: string | Uint8Array, s2kparams?: Uint8Array): Buffer;
  /** confounder | plaintext, encrypted and followed by the truncated HMAC. The confounder is random unless given (tests). */
  encrypt(key: Uint8Array, usage: number, plain: Uint8Array, confounder?: Uint8Array): Buffer;
  /** Throws Krb5Error ERR_KRB5_INTEGRITY when the HMAC does not match. */
  decrypt(key: Uint8Array, usage: number, cipher: Uint8Array): Buffer;
  checksum(key: Uint8Array, usage: number, data: Uint8Array): Buffer;
  verifyChecksum(key: Uint8Array, usage: number, data: Uint8Array, checksum: Uint8Array): boolean;
  randomKey(): Buffer;
}

/** Key usage numbers (RFC 4120 section 7.5.1, RFC 4121 section 2). */
export const KeyUsage = {
  AS_REQ_PA_ENC_TIMESTAMP: 1,
  KDC_REP_TICKET: 2,
  AS_REP_ENCPART: 3,
  TGS_REQ_AD_SESSKEY: 4,
  TGS_REQ_AD_SUBKEY: 5,
  TGS_REQ_AUTH_CKSUM: 6,
  TGS_REQ_AUTH: 7,
  TGS_REP_ENCPART_SESSKEY: 8,
  TGS_REP_ENCPART_SUBKEY: 9,
  AP_REQ_AUTH_CKSUM: 10,
  AP_REQ_AUTH: 11,
  AP_REP_ENCPART: 12,
  KRB_PRIV_ENCPART: 13,
  KRB_CRED_ENCPART: 14,
  KRB_SAFE_CKSUM: 15,
  GSS_ACCEPTOR_SEAL: 22,
  GSS_ACCEPTOR_SIGN: 23,
  GSS_INITIATOR_SEAL: 24,
  GSS_INITIATOR_SIGN: 25,
} as const;

/** etype numbers by RFC name (RFC 3961 section 8, RFC 8009 section 7). */
export const EType = {
  AES128_CTS_HMAC_SHA1_96: 17,
  AES256_CTS_HMAC_SHA1_96: 18,
  AES128_CTS_HMAC_SHA256_128: 19,
  AES256_CTS_HMAC_SHA384_192: 20,
} as const;

/** Checksum type numbers. */
export const CksumType = {
  HMAC_SHA1_96_AES128: 15,
  HMAC_SHA1_96_AES256: 16,
  HMAC_SHA256_128_AES128: 19,
  HMAC_SHA384_192_AES256: 20,
} as const;
