import { app, application, ctx, Fields, flags, int, octets, parseDer, readFlags, readString, readTime, seq, str, time } from '../der.js';
import { decEncryptionKey, decPrincipalName, encEncryptionKey, encPrincipalName, type EncryptionKey, type Principal } from './types.js';

/**
 * EncTicketPart, which only a service (or a test's acceptor built from the
 * service keytab) decrypts: [APPLICATION 3] SEQUENCE { flags [0], key [1],
 * crealm [2], cname [3], transited [4], authtime [5], starttime [6] OPT,
 * endtime [7], renew-till [8] OPT, caddr [9] OPT, authorization-data [10] OPT }.
 */
export interface EncTicketPart {
  flags: number;
  key: EncryptionKey;
  client: Principal;
  authtime: Date;
  starttime?: Date;
  endtime: Date;
  renewTill?: Date;
}

export function decEncTicketPart(der: Uint8Array): EncTicketPart {
  const what = 'EncTicketPart';
  const f = new Fields(application(parseDer(der, what), 3, what), what);
  const out: EncTicketPart = {
    flags: readFlags(f.req(0, 'flags'), `${what}.flags`),
    key: decEncryptionKey(f.req(1, 'key'), `${what}.key`),
    client: { realm: readString(f.req(2, 'crealm'), `${what}.crealm`), name: decPrincipalName(f.req(3, 'cname'), `${what}.cname`) },
    authtime: readTime(f.req(5, 'authtime'), `${what}.authtime`),
    endtime: readTime(f.req(7, 'endtime'), `${what}.endtime`),
  };
  const st = f.opt(6);
  if (st) out.starttime = readTime(st, `${what}.starttime`);
  const rt = f.opt(8);
  if (rt) out.renewTill = readTime(rt, `${what}.renew-till`);
  return out;
}

/** Encoding for tests and fake KDCs: what a KDC seals into a ticket (transited empty, no addresses). */
export function encEncTicketPart(p: EncTicketPart): Buffer {
  return app(
    3,
    seq(
      ctx(0, flags(p.flags)),
      ctx(1, encEncryptionKey(p.key)),
      ctx(2, str(p.client.realm)),
      ctx(3, encPrincipalName(p.client.name)),
      ctx(4, seq(ctx(0, int(1)), ctx(1, octets(Buffer.alloc(0))))),
      ctx(5, time(p.authtime)),
      ctx(6, p.starttime ? time(p.starttime) : undefined),
      ctx(7, time(p.endtime)),
      ctx(8, p.renewTill ? time(p.renewTill) : undefined),
    ),
  );
}
