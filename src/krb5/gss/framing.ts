import { Krb5Error } from '../errors.js';

/**
 * The framing of context tokens (RFC 2743 section 3.1, RFC 1964 section
 * 1.1): [APPLICATION 0] { mech OID, then the mechanism's bytes }, where the
 * krb5 mechanism's bytes are a 2-byte TOK_ID and a Kerberos message.
 */
export const KRB5_MECH_OID = '1.2.840.113554.1.2.2';
const OID_DER = Buffer.from([0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02]);

/** TOK_ID values of context tokens (RFC 4121 section 4.1). */
export const TokId = {
  KRB_AP_REQ: 0x0100,
  KRB_AP_REP: 0x0200,
  KRB_ERROR: 0x0300,
} as const;

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  if (n < 0x100) return Buffer.from([0x81, n]);
  if (n < 0x10000) return Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.from([0x83, n >> 16, (n >> 8) & 0xff, n & 0xff]);
}

export function frameContextToken(tokId: number, message: Buffer): Buffer {
  const body = Buffer.concat([OID_DER, Buffer.from([tokId >> 8, tokId & 0xff]), message]);
  return Buffer.concat([Buffer.from([0x60]), derLength(body.length), body]);
}

function gssError(detail: string): Krb5Error {
  return new Krb5Error('ERR_KRB5_GSS', `krb5 GSS: bad context token: ${detail}`);
}

/** The TOK_ID and Kerberos message of a framed context token; the OID must be krb5's. */
export function unframeContextToken(token: Uint8Array): { tokId: number; message: Buffer } {
  const b = Buffer.from(token.buffer, token.byteOffset, token.byteLength);
  if (b.length < 2 || b[0] !== 0x60) throw gssError('not an [APPLICATION 0] token');
  let pos = 1;
  let len = b[pos++]!;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 3 || pos + n > b.length) throw gssError('bad length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[pos++]!;
  }
  if (len !== b.length - pos) throw gssError(`length ${len} does not match the ${b.length - pos} bytes present`);
  if (!b.subarray(pos, pos + OID_DER.length).equals(OID_DER)) throw gssError(`mechanism is not krb5 (${KRB5_MECH_OID})`);
  pos += OID_DER.length;
  if (pos + 2 > b.length) throw gssError('no TOK_ID');
  return { tokId: b.readUInt16BE(pos), message: b.subarray(pos + 2) };
}
