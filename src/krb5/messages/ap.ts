import { app, application, bit, ctx, Fields, flags, int, parseDer, readFlags, readInt, readString, readTime, readUInt32, seq, str, time } from '../der.js';
import { Krb5Error } from '../errors.js';
import { decTicket, type Ticket } from './ticket.js';
import {
  type Checksum,
  decChecksum,
  decEncryptedData,
  decEncryptionKey,
  decPrincipalName,
  encChecksum,
  encEncryptedData,
  encEncryptionKey,
  encPrincipalName,
  type EncryptedData,
  type EncryptionKey,
  type Principal,
} from './types.js';

/** APOptions bits (RFC 4120 section 5.5.1). */
export const ApOptions = {
  use_session_key: bit(1),
  mutual_required: bit(2),
} as const;

/** AP-REQ ::= [APPLICATION 14] SEQUENCE { pvno [0], msg-type [1], ap-options [2], ticket [3], authenticator [4] }. */
export function encApReq(apOptions: number, ticketDer: Buffer, authenticator: EncryptedData): Buffer {
  return app(14, seq(ctx(0, int(5)), ctx(1, int(14)), ctx(2, flags(apOptions)), ctx(3, ticketDer), ctx(4, encEncryptedData(authenticator))));
}

export interface ApReq {
  apOptions: number;
  ticket: Ticket;
  authenticator: EncryptedData;
}

export function decApReq(der: Uint8Array): ApReq {
  const what = 'AP-REQ';
  const f = new Fields(application(parseDer(der, what), 14, what), what);
  checkHeader(f, 14, what);
  return {
    apOptions: readFlags(f.req(2, 'ap-options'), `${what}.ap-options`),
    ticket: decTicket(f.req(3, 'ticket'), `${what}.ticket`),
    authenticator: decEncryptedData(f.req(4, 'authenticator'), `${what}.authenticator`),
  };
}

function checkHeader(f: Fields, msgType: number, what: string): void {
  const pvno = readInt(f.req(0, 'pvno'), `${what}.pvno`);
  const mt = readInt(f.req(1, 'msg-type'), `${what}.msg-type`);
  if (pvno !== 5 || mt !== msgType) throw new Krb5Error('ERR_KRB5_DECODE', `krb5: cannot decode ${what}: pvno ${pvno}, msg-type ${mt}`);
}

/** Authenticator ::= [APPLICATION 2] SEQUENCE { authenticator-vno [0], crealm [1], cname [2], cksum [3] OPT, cusec [4], ctime [5], subkey [6] OPT, seq-number [7] OPT, ... }. */
export interface Authenticator {
  client: Principal;
  cksum?: Checksum;
  cusec: number;
  ctime: Date;
  subkey?: EncryptionKey;
  seqNumber?: number;
}

export function encAuthenticator(a: Authenticator): Buffer {
  return app(
    2,
    seq(
      ctx(0, int(5)),
      ctx(1, str(a.client.realm)),
      ctx(2, encPrincipalName(a.client.name)),
      ctx(3, a.cksum ? encChecksum(a.cksum) : undefined),
      ctx(4, int(a.cusec)),
      ctx(5, time(a.ctime)),
      ctx(6, a.subkey ? encEncryptionKey(a.subkey) : undefined),
      ctx(7, a.seqNumber === undefined ? undefined : int(a.seqNumber)),
    ),
  );
}

export function decAuthenticator(der: Uint8Array): Authenticator {
  const what = 'Authenticator';
  const f = new Fields(application(parseDer(der, what), 2, what), what);
  const out: Authenticator = {
    client: { realm: readString(f.req(1, 'crealm'), `${what}.crealm`), name: decPrincipalName(f.req(2, 'cname'), `${what}.cname`) },
    cusec: readInt(f.req(4, 'cusec'), `${what}.cusec`),
    ctime: readTime(f.req(5, 'ctime'), `${what}.ctime`),
  };
  const ck = f.opt(3);
  if (ck) out.cksum = decChecksum(ck, `${what}.cksum`);
  const sk = f.opt(6);
  if (sk) out.subkey = decEncryptionKey(sk, `${what}.subkey`);
  const sn = f.opt(7);
  if (sn) out.seqNumber = readUInt32(sn, `${what}.seq-number`);
  return out;
}

/** AP-REP ::= [APPLICATION 15] SEQUENCE { pvno [0], msg-type [1], enc-part [2] }. */
export function encApRep(encPart: EncryptedData): Buffer {
  return app(15, seq(ctx(0, int(5)), ctx(1, int(15)), ctx(2, encEncryptedData(encPart))));
}

export function decApRep(der: Uint8Array): EncryptedData {
  const what = 'AP-REP';
  const f = new Fields(application(parseDer(der, what), 15, what), what);
  checkHeader(f, 15, what);
  return decEncryptedData(f.req(2, 'enc-part'), `${what}.enc-part`);
}

/** EncAPRepPart ::= [APPLICATION 27] SEQUENCE { ctime [0], cusec [1], subkey [2] OPT, seq-number [3] OPT }. */
export interface EncApRepPart {
  ctime: Date;
  cusec: number;
  subkey?: EncryptionKey;
  seqNumber?: number;
}

export function encEncApRepPart(p: EncApRepPart): Buffer {
  return app(27, seq(ctx(0, time(p.ctime)), ctx(1, int(p.cusec)), ctx(2, p.subkey ? encEncryptionKey(p.subkey) : undefined), ctx(3, p.seqNumber === undefined ? undefined : int(p.seqNumber))));
}

export function decEncApRepPart(der: Uint8Array): EncApRepPart {
  const what = 'EncAPRepPart';
  const f = new Fields(application(parseDer(der, what), 27, what), what);
  const out: EncApRepPart = { ctime: readTime(f.req(0, 'ctime'), `${what}.ctime`), cusec: readInt(f.req(1, 'cusec'), `${what}.cusec`) };
  const sk = f.opt(2);
  if (sk) out.subkey = decEncryptionKey(sk, `${what}.subkey`);
  const sn = f.opt(3);
  if (sn) out.seqNumber = readUInt32(sn, `${what}.seq-number`);
  return out;
}
