import { getServiceTicket, GssInitiator, type Krb5Options } from '../../krb5/index.js';

/** What RPCSEC_GSS needs of an established GSS context: per-message tokens. */
export interface GssMechContext {
  readonly established: boolean;
  /** Processes the acceptor's reply token; throws when it is not acceptable. */
  step(token: Uint8Array): void;
  getMic(message: Uint8Array): Buffer;
  /** Throws unless `token` is the peer's MIC of `message`. */
  verifyMic(message: Uint8Array, token: Uint8Array): unknown;
  wrap(message: Uint8Array, conf: boolean): Buffer;
  unwrap(token: Uint8Array): { message: Buffer; conf: boolean };
}

/** A GSS mechanism's initiator: a fresh context and its first token, with when its credentials end. */
export interface GssMechanism {
  readonly name: string;
  start(): Promise<{ token: Buffer; context: GssMechContext; expiresAt: number }>;
}

/**
 * Kerberos v5 (RFC 4121) for the service principal `service` (nfs/<host>):
 * each new context gets a service ticket as MIT tools would (ccache, keytab,
 * password; see Krb5Options) and a fresh AP-REQ with mutual authentication.
 */
export function krb5Mechanism(service: string, opts: Krb5Options = {}): GssMechanism {
  return {
    name: 'krb5',
    async start() {
      const creds = await getServiceTicket(service, opts);
      const context = new GssInitiator(creds, opts.now ? { now: opts.now } : {});
      return { token: context.initialToken(), context, expiresAt: creds.endtime.getTime() };
    },
  };
}
