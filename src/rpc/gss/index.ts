// RPCSEC_GSS (RFC 2203) over the RPC client's security hook (RpcSecurity in ../auth.ts).
export { GssSession, type GssSessionOptions } from './session.js';
export { krb5Mechanism, type GssMechanism, type GssMechContext } from './mechanism.js';
export { RpcGssError, WrongSecurityError } from './errors.js';
export * from './cred.js';
