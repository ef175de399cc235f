/**
 * Errors of the Kerberos layer, each with a stable string code. A KDC's or
 * acceptor's KRB-ERROR keeps its RFC 4120 name in `krbError`
 * (KDC_ERR_PREAUTH_FAILED) and number in `krbErrorCode`; `code` says what it
 * means for the caller (ERR_KRB5_BAD_PASSWORD), so a caller checks one field.
 */
export type Krb5ErrorCode =
  | 'ERR_KRB5_DECODE' // malformed DER, token or file from outside
  | 'ERR_KRB5_INTEGRITY' // a checksum or HMAC did not verify: wrong key or tampering
  | 'ERR_KRB5_UNSUPPORTED' // an enctype, checksum type or file version we do not implement
  | 'ERR_KRB5_NO_CREDENTIALS' // no password, keytab entry or cached ticket for the principal
  | 'ERR_KRB5_CLOCK_SKEW' // KRB_AP_ERR_SKEW: our clock and the KDC's/server's differ too much
  | 'ERR_KRB5_PRINCIPAL_UNKNOWN' // the client or service principal is not in the KDC's database
  | 'ERR_KRB5_BAD_PASSWORD' // pre-authentication failed: wrong password or stale keytab
  | 'ERR_KRB5_KDC_UNREACHABLE' // no KDC of the realm answered
  | 'ERR_KRB5_KDC_ERROR' // any other KRB-ERROR from a KDC
  | 'ERR_KRB5_AP_ERROR' // a KRB-ERROR from the acceptor or a failed mutual authentication
  | 'ERR_KRB5_CONFIG' // krb5.conf or the environment does not say what we need (realm, KDC)
  | 'ERR_KRB5_GSS'; // a GSS token that is not acceptable (bad sequence, wrong direction, ...)

/**
 * A failure getting or using Kerberos credentials (`sec=krb5*`): no credentials, a wrong password,
 * clock skew, an unreachable KDC, a token that does not verify. `code` says which ({@link Krb5ErrorCode}).
 */
export class Krb5Error extends Error {
  /** What failed, as a caller acts on it (`ERR_KRB5_BAD_PASSWORD`, `ERR_KRB5_CLOCK_SKEW`, …). */
  readonly code: Krb5ErrorCode;
  /** The RFC 4120 error name when a KRB-ERROR caused this (KDC_ERR_C_PRINCIPAL_UNKNOWN). */
  readonly krbError?: string;
  /** The RFC 4120 error number of that KRB-ERROR. */
  readonly krbErrorCode?: number;
  constructor(code: Krb5ErrorCode, message: string, extra?: { krbError?: string; krbErrorCode?: number; cause?: unknown }) {
    super(message, extra?.cause !== undefined ? { cause: extra.cause } : undefined);
    this.name = 'Krb5Error';
    this.code = code;
    if (extra?.krbError !== undefined) this.krbError = extra.krbError;
    if (extra?.krbErrorCode !== undefined) this.krbErrorCode = extra.krbErrorCode;
  }
}

/**
 * Whether `err` is a {@link Krb5Error}, and with `code` whether it has that code.
 *
 * @example
 * ```ts
 * try {
 *   await connect('nfs://nas/export?sec=krb5p');
 * } catch (err) {
 *   if (isKrb5Error(err, 'ERR_KRB5_CLOCK_SKEW')) console.error('fix the clock (NTP)');
 *   else throw err;
 * }
 * ```
 */
export function isKrb5Error(err: unknown, code?: Krb5ErrorCode): err is Krb5Error {
  return err instanceof Krb5Error && (code === undefined || err.code === code);
}
