// The Kerberos v5 mechanism's surface for the RPCSEC_GSS layer: getting a
// service ticket the way MIT tools would (environment, ccache, keytab,
// password), and a GSS context over it. src/rpc/gss/mechanism.ts uses these
// for sec=krb5, krb5i and krb5p.
export { Krb5Error, isKrb5Error, type Krb5ErrorCode } from './errors.js';
export { getServiceTicket, getInitialCredentials, krb5Context, type Krb5Options, type Krb5Context } from './acquire.js';
export type { Credentials } from './credentials.js';
export { GssInitiator, type InitiatorOptions } from './gss/initiator.js';
export { GssAcceptor, type AcceptorOptions } from './gss/acceptor.js';
export { GssFlags, GssContext } from './gss/context.js';
export { KRB5_MECH_OID } from './gss/framing.js';
export { parsePrincipal, principalToString, type Principal } from './messages/types.js';
export { KrbErrorCode, krbErrorName } from './messages/krb-error.js';
export { readKeytab, type KeytabEntry } from './files/keytab.js';
export { readCCache, writeCCache, type CCache } from './files/ccache.js';
export { resolveEnvironment, type Krb5Environment } from './files/env.js';
