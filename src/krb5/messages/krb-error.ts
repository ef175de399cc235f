import { app, application, ctx, type DerNode, Fields, int, octets, readInt, readOctets, readString, readTime, seq, str, time } from '../der.js';
import { Krb5Error, type Krb5ErrorCode } from '../errors.js';
import { decPrincipalName, encPrincipalName, type Principal } from './types.js';

/** Error codes (RFC 4120 section 7.5.9), by name. */
export const KrbErrorCode = {
  KDC_ERR_NONE: 0,
  KDC_ERR_NAME_EXP: 1,
  KDC_ERR_SERVICE_EXP: 2,
  KDC_ERR_BAD_PVNO: 3,
  KDC_ERR_C_OLD_MAST_KVNO: 4,
  KDC_ERR_S_OLD_MAST_KVNO: 5,
  KDC_ERR_C_PRINCIPAL_UNKNOWN: 6,
  KDC_ERR_S_PRINCIPAL_UNKNOWN: 7,
  KDC_ERR_PRINCIPAL_NOT_UNIQUE: 8,
  KDC_ERR_NULL_KEY: 9,
  KDC_ERR_CANNOT_POSTDATE: 10,
  KDC_ERR_NEVER_VALID: 11,
  KDC_ERR_POLICY: 12,
  KDC_ERR_BADOPTION: 13,
  KDC_ERR_ETYPE_NOSUPP: 14,
  KDC_ERR_SUMTYPE_NOSUPP: 15,
  KDC_ERR_PADATA_TYPE_NOSUPP: 16,
  KDC_ERR_TRTYPE_NOSUPP: 17,
  KDC_ERR_CLIENT_REVOKED: 18,
  KDC_ERR_SERVICE_REVOKED: 19,
  KDC_ERR_TGT_REVOKED: 20,
  KDC_ERR_CLIENT_NOTYET: 21,
  KDC_ERR_SERVICE_NOTYET: 22,
  KDC_ERR_KEY_EXPIRED: 23,
  KDC_ERR_PREAUTH_FAILED: 24,
  KDC_ERR_PREAUTH_REQUIRED: 25,
  KDC_ERR_SERVER_NOMATCH: 26,
  KDC_ERR_MUST_USE_USER2USER: 27,
  KDC_ERR_PATH_NOT_ACCEPTED: 28,
  KDC_ERR_SVC_UNAVAILABLE: 29,
  KRB_AP_ERR_BAD_INTEGRITY: 31,
  KRB_AP_ERR_TKT_EXPIRED: 32,
  KRB_AP_ERR_TKT_NYV: 33,
  KRB_AP_ERR_REPEAT: 34,
  KRB_AP_ERR_NOT_US: 35,
  KRB_AP_ERR_BADMATCH: 36,
  KRB_AP_ERR_SKEW: 37,
  KRB_AP_ERR_BADADDR: 38,
  KRB_AP_ERR_BADVERSION: 39,
  KRB_AP_ERR_MSG_TYPE: 40,
  KRB_AP_ERR_MODIFIED: 41,
  KRB_AP_ERR_BADORDER: 42,
  KRB_AP_ERR_BADKEYVER: 44,
  KRB_AP_ERR_NOKEY: 45,
  KRB_AP_ERR_MUT_FAIL: 46,
  KRB_AP_ERR_BADDIRECTION: 47,
  KRB_AP_ERR_METHOD: 48,
  KRB_AP_ERR_BADSEQ: 49,
  KRB_AP_ERR_INAPP_CKSUM: 50,
  KRB_AP_PATH_NOT_ACCEPTED: 51,
  KRB_ERR_RESPONSE_TOO_BIG: 52,
  KRB_ERR_GENERIC: 60,
  KRB_ERR_FIELD_TOOLONG: 61,
  KDC_ERROR_CLIENT_NOT_TRUSTED: 62,
  KDC_ERR_WRONG_REALM: 68,
} as const;

const NAMES = new Map<number, string>(Object.entries(KrbErrorCode).map(([k, v]) => [v, k]));

export function krbErrorName(code: number): string {
  return NAMES.get(code) ?? `KRB_ERROR_${code}`;
}

/** KRB-ERROR ::= [APPLICATION 30] SEQUENCE { pvno [0], msg-type [1], ctime [2] OPT, cusec [3] OPT, stime [4], susec [5], error-code [6], crealm [7] OPT, cname [8] OPT, realm [9], sname [10], e-text [11] OPT, e-data [12] OPT }. */
export interface KrbError {
  stime: Date;
  susec: number;
  errorCode: number;
  crealm?: string;
  cname?: Principal['name'];
  realm: string;
  sname: Principal['name'];
  eText?: string;
  eData?: Buffer;
}

export function decKrbError(node: DerNode): KrbError {
  const what = 'KRB-ERROR';
  const f = new Fields(application(node, 30, what), what);
  const out: KrbError = {
    stime: readTime(f.req(4, 'stime'), `${what}.stime`),
    susec: readInt(f.req(5, 'susec'), `${what}.susec`),
    errorCode: readInt(f.req(6, 'error-code'), `${what}.error-code`),
    realm: readString(f.req(9, 'realm'), `${what}.realm`),
    sname: decPrincipalName(f.req(10, 'sname'), `${what}.sname`),
  };
  const cr = f.opt(7);
  if (cr) out.crealm = readString(cr, `${what}.crealm`);
  const cn = f.opt(8);
  if (cn) out.cname = decPrincipalName(cn, `${what}.cname`);
  const et = f.opt(11);
  if (et) out.eText = readString(et, `${what}.e-text`);
  const ed = f.opt(12);
  if (ed) out.eData = Buffer.from(readOctets(ed, `${what}.e-data`));
  return out;
}

export function encKrbError(e: KrbError): Buffer {
  return app(
    30,
    seq(
      ctx(0, int(5)),
      ctx(1, int(30)),
      ctx(4, time(e.stime)),
      ctx(5, int(e.susec)),
      ctx(6, int(e.errorCode)),
      ctx(7, e.crealm === undefined ? undefined : str(e.crealm)),
      ctx(8, e.cname ? encPrincipalName(e.cname) : undefined),
      ctx(9, str(e.realm)),
      ctx(10, encPrincipalName(e.sname)),
      ctx(11, e.eText === undefined ? undefined : str(e.eText)),
      ctx(12, e.eData ? octets(e.eData) : undefined),
    ),
  );
}

/**
 * The Krb5Error a caller sees for a KRB-ERROR: the meaning in `code`, the
 * RFC name in `krbError`, and in the message who refused what.
 */
export function krbErrorToError(e: KrbError, context: string): Krb5Error {
  const name = krbErrorName(e.errorCode);
  let code: Krb5ErrorCode = 'ERR_KRB5_KDC_ERROR';
  let hint = '';
  switch (e.errorCode) {
    case KrbErrorCode.KDC_ERR_C_PRINCIPAL_UNKNOWN:
    case KrbErrorCode.KDC_ERR_S_PRINCIPAL_UNKNOWN:
      code = 'ERR_KRB5_PRINCIPAL_UNKNOWN';
      hint = e.errorCode === KrbErrorCode.KDC_ERR_C_PRINCIPAL_UNKNOWN ? ': the client principal is not in the KDC database' : ': the service principal is not in the KDC database';
      break;
    case KrbErrorCode.KDC_ERR_PREAUTH_FAILED:
    case KrbErrorCode.KRB_AP_ERR_BAD_INTEGRITY:
      code = 'ERR_KRB5_BAD_PASSWORD';
      hint = ': wrong password, or a keytab whose key is not the current one';
      break;
    case KrbErrorCode.KRB_AP_ERR_SKEW:
      code = 'ERR_KRB5_CLOCK_SKEW';
      hint = `: this machine's clock (${new Date().toISOString()}) and the server's (${e.stime.toISOString()}) differ by more than the allowed skew`;
      break;
    default:
      if (e.errorCode >= 31 && e.errorCode <= 51) code = 'ERR_KRB5_AP_ERROR';
  }
  const text = e.eText ? ` (${e.eText})` : '';
  return new Krb5Error(code, `krb5: ${context}: ${name}${hint}${text}`, { krbError: name, krbErrorCode: e.errorCode });
}
