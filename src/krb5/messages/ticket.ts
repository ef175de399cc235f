import { app, application, ctx, type DerNode, Fields, int, parseDer, readInt, readString, seq, str } from '../der.js';
import { Krb5Error } from '../errors.js';
import { decEncryptedData, decPrincipalName, encEncryptedData, encPrincipalName, type EncryptedData, type Principal } from './types.js';

/**
 * Ticket ::= [APPLICATION 1] SEQUENCE { tkt-vno [0], realm [1], sname [2], enc-part [3] }.
 * A client never decrypts a ticket; it keeps the encoding it received
 * (`der`) so it goes out byte for byte as the KDC made it.
 */
export interface Ticket {
  sname: Principal;
  encPart: EncryptedData;
  der: Buffer;
}

export function decTicket(node: DerNode, what: string): Ticket {
  const f = new Fields(application(node, 1, what), what);
  const vno = readInt(f.req(0, 'tkt-vno'), `${what}.tkt-vno`);
  if (vno !== 5) throw new Krb5Error('ERR_KRB5_DECODE', `krb5: cannot decode ${what}: tkt-vno ${vno} is not 5`);
  return {
    sname: { realm: readString(f.req(1, 'realm'), `${what}.realm`), name: decPrincipalName(f.req(2, 'sname'), `${what}.sname`) },
    encPart: decEncryptedData(f.req(3, 'enc-part'), `${what}.enc-part`),
    der: Buffer.from(node.raw),
  };
}

export function ticketFromDer(der: Uint8Array): Ticket {
  return decTicket(parseDer(der, 'Ticket'), 'Ticket');
}

export function encTicket(sname: Principal, encPart: EncryptedData): Buffer {
  return app(1, seq(ctx(0, int(5)), ctx(1, str(sname.realm)), ctx(2, encPrincipalName(sname.name)), ctx(3, encEncryptedData(encPart))));
}

export { decEncTicketPart, encEncTicketPart, type EncTicketPart } from './enc-ticket-part.js';
