import type { Credential } from './files/ccache.js';
import { ticketFromDer, type Ticket } from './messages/ticket.js';
import type { EncryptionKey, Principal } from './messages/types.js';

/**
 * A ticket and what the client knows about it: the result of an AS or TGS
 * exchange, or a credential cache entry.
 */
export interface Credentials {
  client: Principal;
  server: Principal;
  sessionKey: EncryptionKey;
  ticket: Ticket;
  flags: number;
  authtime: Date;
  starttime?: Date;
  endtime: Date;
  renewTill?: Date;
}

const sec = (d: Date | undefined): number => (d ? Math.floor(d.getTime() / 1000) : 0);
const date = (s: number): Date | undefined => (s ? new Date(s * 1000) : undefined);

export function toCCacheCredential(c: Credentials): Credential {
  return {
    client: c.client,
    server: c.server,
    key: c.sessionKey,
    authtime: sec(c.authtime),
    starttime: sec(c.starttime ?? c.authtime),
    endtime: sec(c.endtime),
    renewTill: sec(c.renewTill),
    isSkey: false,
    flags: c.flags,
    addresses: [],
    authdata: [],
    ticket: c.ticket.der,
    secondTicket: Buffer.alloc(0),
  };
}

export function fromCCacheCredential(c: Credential): Credentials {
  const out: Credentials = {
    client: c.client,
    server: c.server,
    sessionKey: c.key,
    ticket: ticketFromDer(c.ticket),
    flags: c.flags,
    authtime: new Date(c.authtime * 1000),
    endtime: new Date(c.endtime * 1000),
  };
  const st = date(c.starttime);
  if (st) out.starttime = st;
  const rt = date(c.renewTill);
  if (rt) out.renewTill = rt;
  return out;
}
