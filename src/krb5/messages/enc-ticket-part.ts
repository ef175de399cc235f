import { application, Fields, parseDer, readFlags, readString, readTime } from '../der.js';
import { decEncryptionKey, decPrincipalName, type EncryptionKey, type Principal } from './types.js';

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
