import type { XdrReader } from '../../xdr/reader.js';
import { XdrWriter } from '../../xdr/writer.js';
import { CALL, RPC_VERSION } from '../message.js';

// RFC 2203 section 5, names verbatim.
export const RPCSEC_GSS = 6;
export const RPCSEC_GSS_VERS_1 = 1;

export const RPCSEC_GSS_DATA = 0;
export const RPCSEC_GSS_INIT = 1;
export const RPCSEC_GSS_CONTINUE_INIT = 2;
export const RPCSEC_GSS_DESTROY = 3;

export const rpc_gss_svc_none = 1;
export const rpc_gss_svc_integrity = 2;
export const rpc_gss_svc_privacy = 3;
export type RpcGssService = typeof rpc_gss_svc_none | typeof rpc_gss_svc_integrity | typeof rpc_gss_svc_privacy;

/** Sequence numbers stay below this; a context that reaches it is replaced. */
export const MAXSEQ = 0x80000000;

export const GSS_S_COMPLETE = 0;
export const GSS_S_CONTINUE_NEEDED = 1;

/** The routine errors of gss_major (RFC 2744 section 3.9.1), for messages. */
const GSS_ROUTINE_ERRORS: Record<number, string> = {
  1: 'GSS_S_BAD_MECH',
  2: 'GSS_S_BAD_NAME',
  3: 'GSS_S_BAD_NAMETYPE',
  4: 'GSS_S_BAD_BINDINGS',
  5: 'GSS_S_BAD_STATUS',
  6: 'GSS_S_BAD_SIG',
  7: 'GSS_S_NO_CRED',
  8: 'GSS_S_NO_CONTEXT',
  9: 'GSS_S_DEFECTIVE_TOKEN',
  10: 'GSS_S_DEFECTIVE_CREDENTIAL',
  11: 'GSS_S_CREDENTIALS_EXPIRED',
  12: 'GSS_S_CONTEXT_EXPIRED',
  13: 'GSS_S_FAILURE',
  14: 'GSS_S_BAD_QOP',
  15: 'GSS_S_UNAUTHORIZED',
  16: 'GSS_S_UNAVAILABLE',
  17: 'GSS_S_DUPLICATE_ELEMENT',
  18: 'GSS_S_NAME_NOT_MN',
};

export function gssMajorName(major: number): string {
  const routine = (major >>> 16) & 0xff;
  return GSS_ROUTINE_ERRORS[routine] ?? `gss_major 0x${major.toString(16)}`;
}

/** Pseudo-flavors for krb5 (RFC 2623 section 2.2), as MOUNT's auth_flavors and SECINFO list them. */
export const RPC_AUTH_GSS_KRB5 = 390003;
export const RPC_AUTH_GSS_KRB5I = 390004;
export const RPC_AUTH_GSS_KRB5P = 390005;

/** sec= names and what each is on the wire. */
export type SecName = 'sys' | 'krb5' | 'krb5i' | 'krb5p';
export const SEC_FLAVORS: Record<SecName, { pseudoFlavor: number; service: RpcGssService | undefined }> = {
  sys: { pseudoFlavor: 1, service: undefined },
  krb5: { pseudoFlavor: RPC_AUTH_GSS_KRB5, service: rpc_gss_svc_none },
  krb5i: { pseudoFlavor: RPC_AUTH_GSS_KRB5I, service: rpc_gss_svc_integrity },
  krb5p: { pseudoFlavor: RPC_AUTH_GSS_KRB5P, service: rpc_gss_svc_privacy },
};

/** The sec= name of a flavor a server lists (MOUNT, SECINFO), or a description of one we do not speak. */
export function secNameOf(flavor: number): string {
  for (const [name, f] of Object.entries(SEC_FLAVORS)) if (f.pseudoFlavor === flavor) return name;
  if (flavor === 0) return 'none';
  return `flavor ${flavor}`;
}

/**
 * The call header from xid through the credential (rpc_gss_cred_t), the
 * bytes the call verifier's MIC covers (RFC 2203 section 5.3.1).
 */
export function encodeGssCallHead(xid: number, prog: number, vers: number, proc: number, gssProc: number, seq: number, service: number, handle: Buffer): Buffer {
  const pad = (4 - (handle.length % 4)) % 4;
  const credLen = 20 + handle.length + pad;
  const w = new XdrWriter(32 + credLen);
  w.u32(xid).u32(CALL).u32(RPC_VERSION).u32(prog).u32(vers).u32(proc);
  w.u32(RPCSEC_GSS).u32(credLen);
  w.u32(RPCSEC_GSS_VERS_1).u32(gssProc).u32(seq).u32(service).opaque(handle);
  return w.toBuffer();
}

export interface RpcGssInitRes {
  handle: Buffer;
  gssMajor: number;
  gssMinor: number;
  seqWindow: number;
  gssToken: Buffer;
}

export function decodeInitRes(r: XdrReader): RpcGssInitRes {
  return {
    handle: Buffer.from(r.opaque(1024, 'rpc_gss_init_res.handle')),
    gssMajor: r.u32('rpc_gss_init_res.gss_major'),
    gssMinor: r.u32('rpc_gss_init_res.gss_minor'),
    seqWindow: r.u32('rpc_gss_init_res.seq_window'),
    gssToken: Buffer.from(r.opaque(65536, 'rpc_gss_init_res.gss_token')),
  };
}

export function u32be(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}
