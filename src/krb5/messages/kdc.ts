import { app, application, bit, ctx, type DerNode, Fields, flags, int, parseDer, readFlags, readInt, readOctets, readSeqOf, readString, readTime, readUInt32, seq, seqOf, str, time, octets } from '../der.js';
import { Krb5Error } from '../errors.js';
import { decTicket, type Ticket } from './ticket.js';
import {
  decEncryptedData,
  decEncryptionKey,
  decPaData,
  decPrincipalName,
  encEncryptedData,
  encEncryptionKey,
  encPaData,
  encPrincipalName,
  type EncryptedData,
  type EncryptionKey,
  type PaData,
  type Principal,
} from './types.js';

/** Message types (RFC 4120 section 7.5.7). */
export const MsgType = {
  KRB_AS_REQ: 10,
  KRB_AS_REP: 11,
  KRB_TGS_REQ: 12,
  KRB_TGS_REP: 13,
  KRB_AP_REQ: 14,
  KRB_AP_REP: 15,
  KRB_ERROR: 30,
} as const;

/** Pre-authentication data types (RFC 4120 section 7.5.2, RFC 6113). */
export const PaType = {
  PA_TGS_REQ: 1,
  PA_ENC_TIMESTAMP: 2,
  PA_PW_SALT: 3,
  PA_ETYPE_INFO: 11,
  PA_ETYPE_INFO2: 19,
  PA_PAC_REQUEST: 128,
  PA_FX_FAST: 136,
} as const;

/** KDCOptions bits (RFC 4120 section 5.4.1). */
export const KdcOptions = {
  forwardable: bit(1),
  proxiable: bit(3),
  renewable: bit(8),
  canonicalize: bit(15),
  renewable_ok: bit(27),
} as const;

/** TicketFlags bits (RFC 4120 section 5.3). */
export const TicketFlags = {
  forwardable: bit(1),
  forwarded: bit(2),
  proxiable: bit(3),
  proxy: bit(4),
  may_postdate: bit(5),
  postdated: bit(6),
  invalid: bit(7),
  renewable: bit(8),
  initial: bit(9),
  pre_authent: bit(10),
  hw_authent: bit(11),
  transited_policy_checked: bit(12),
  ok_as_delegate: bit(13),
} as const;

export interface KdcReqBody {
  options: number;
  cname?: Principal['name'];
  realm: string;
  sname: Principal['name'];
  till: Date;
  rtime?: Date;
  nonce: number;
  etypes: readonly number[];
}

export function encKdcReqBody(b: KdcReqBody): Buffer {
  return seq(
    ctx(0, flags(b.options)),
    ctx(1, b.cname ? encPrincipalName(b.cname) : undefined),
    ctx(2, str(b.realm)),
    ctx(3, encPrincipalName(b.sname)),
    ctx(5, time(b.till)),
    ctx(6, b.rtime ? time(b.rtime) : undefined),
    ctx(7, int(b.nonce)),
    ctx(8, seqOf(b.etypes.map(int))),
  );
}

/** AS-REQ ([APPLICATION 10]) or TGS-REQ ([APPLICATION 12]) around an already encoded body (the TGS-REQ checksum covers those bytes). */
export function encKdcReq(msgType: 10 | 12, padata: PaData[], bodyDer: Buffer): Buffer {
  return app(msgType, seq(ctx(1, int(5)), ctx(2, int(msgType)), ctx(3, padata.length ? seqOf(padata.map(encPaData)) : undefined), ctx(4, bodyDer)));
}

export interface KdcRep {
  msgType: number;
  padata: PaData[];
  crealm: string;
  cname: Principal['name'];
  ticket: Ticket;
  encPart: EncryptedData;
}

export function decKdcRep(node: DerNode, msgType: 11 | 13): KdcRep {
  const what = msgType === 11 ? 'AS-REP' : 'TGS-REP';
  const f = new Fields(application(node, msgType, what), what);
  const pvno = readInt(f.req(0, 'pvno'), `${what}.pvno`);
  const mt = readInt(f.req(1, 'msg-type'), `${what}.msg-type`);
  if (pvno !== 5 || mt !== msgType) throw new Krb5Error('ERR_KRB5_DECODE', `krb5: cannot decode ${what}: pvno ${pvno}, msg-type ${mt}`);
  const pa = f.opt(2);
  return {
    msgType: mt,
    padata: pa ? readSeqOf(pa, `${what}.padata`, decPaData) : [],
    crealm: readString(f.req(3, 'crealm'), `${what}.crealm`),
    cname: decPrincipalName(f.req(4, 'cname'), `${what}.cname`),
    ticket: decTicket(f.req(5, 'ticket'), `${what}.ticket`),
    encPart: decEncryptedData(f.req(6, 'enc-part'), `${what}.enc-part`),
  };
}

/** EncASRepPart [APPLICATION 25] / EncTGSRepPart [APPLICATION 26]: what the client decrypts from a KDC-REP. */
export interface EncKdcRepPart {
  key: EncryptionKey;
  nonce: number;
  keyExpiration?: Date;
  flags: number;
  authtime: Date;
  starttime?: Date;
  endtime: Date;
  renewTill?: Date;
  srealm: string;
  sname: Principal['name'];
}

export function decEncKdcRepPart(der: Uint8Array): EncKdcRepPart {
  const what = 'EncKDCRepPart';
  const outer = parseDer(der, what);
  // MIT's KDC, like others, uses tag 25 for TGS replies too; RFC 4120 section 5.4.2 tells clients to accept either.
  const inner = outer.tag === 26 ? application(outer, 26, what) : application(outer, 25, what);
  const f = new Fields(inner, what);
  const out: EncKdcRepPart = {
    key: decEncryptionKey(f.req(0, 'key'), `${what}.key`),
    nonce: readUInt32(f.req(2, 'nonce'), `${what}.nonce`),
    flags: readFlags(f.req(4, 'flags'), `${what}.flags`),
    authtime: readTime(f.req(5, 'authtime'), `${what}.authtime`),
    endtime: readTime(f.req(7, 'endtime'), `${what}.endtime`),
    srealm: readString(f.req(9, 'srealm'), `${what}.srealm`),
    sname: decPrincipalName(f.req(10, 'sname'), `${what}.sname`),
  };
  const ke = f.opt(3);
  if (ke) out.keyExpiration = readTime(ke, `${what}.key-expiration`);
  const st = f.opt(6);
  if (st) out.starttime = readTime(st, `${what}.starttime`);
  const rt = f.opt(8);
  if (rt) out.renewTill = readTime(rt, `${what}.renew-till`);
  return out;
}

/** PA-ENC-TS-ENC ::= SEQUENCE { patimestamp [0] KerberosTime, pausec [1] Microseconds OPTIONAL }. */
export function encPaEncTsEnc(now: Date, usec: number): Buffer {
  return seq(ctx(0, time(now)), ctx(1, int(usec)));
}

export function encPaEncTimestamp(ed: EncryptedData): PaData {
  return { padataType: PaType.PA_ENC_TIMESTAMP, padataValue: encEncryptedData(ed) };
}

/** PA-PAC-REQUEST ::= SEQUENCE { include-pac [0] BOOLEAN }: asks an AD KDC to leave out the PAC we cannot use. */
export function paPacRequest(include: boolean): PaData {
  return { padataType: PaType.PA_PAC_REQUEST, padataValue: seq(ctx(0, Buffer.from([0x01, 0x01, include ? 0xff : 0x00]))) };
}

/** ETYPE-INFO2-ENTRY: how the KDC wants the password turned into a key for one etype. */
export interface EtypeInfo2Entry {
  etype: number;
  salt?: string;
  s2kparams?: Buffer;
}

export function decEtypeInfo2(der: Uint8Array): EtypeInfo2Entry[] {
  return readSeqOf(parseDer(der, 'ETYPE-INFO2'), 'ETYPE-INFO2', (n, what) => {
    const f = new Fields(n, what);
    const e: EtypeInfo2Entry = { etype: readInt(f.req(0, 'etype'), `${what}.etype`) };
    const salt = f.opt(1);
    if (salt) e.salt = readString(salt, `${what}.salt`);
    const p = f.opt(2);
    if (p) e.s2kparams = Buffer.from(readOctets(p, `${what}.s2kparams`));
    return e;
  });
}

export function encEtypeInfo2(entries: EtypeInfo2Entry[]): Buffer {
  return seqOf(entries.map((e) => seq(ctx(0, int(e.etype)), ctx(1, e.salt === undefined ? undefined : str(e.salt)), ctx(2, e.s2kparams ? octets(e.s2kparams) : undefined))));
}

/** METHOD-DATA ::= SEQUENCE OF PA-DATA: the e-data of KDC_ERR_PREAUTH_REQUIRED. */
export function decMethodData(der: Uint8Array): PaData[] {
  return readSeqOf(parseDer(der, 'METHOD-DATA'), 'METHOD-DATA', decPaData);
}


/** KDC side, for fake KDCs in tests: a KDC-REP around an already sealed enc-part. */
export function encKdcRep(msgType: 11 | 13, r: { padata?: PaData[]; crealm: string; cname: Principal['name']; ticketDer: Buffer; encPart: EncryptedData }): Buffer {
  return app(
    msgType,
    seq(
      ctx(0, int(5)),
      ctx(1, int(msgType)),
      ctx(2, r.padata?.length ? seqOf(r.padata.map(encPaData)) : undefined),
      ctx(3, str(r.crealm)),
      ctx(4, encPrincipalName(r.cname)),
      ctx(5, r.ticketDer),
      ctx(6, encEncryptedData(r.encPart)),
    ),
  );
}

export function encEncKdcRepPart(p: EncKdcRepPart, tag: 25 | 26 = 25): Buffer {
  return app(
    tag,
    seq(
      ctx(0, encEncryptionKey(p.key)),
      ctx(1, seqOf([])),
      ctx(2, int(p.nonce)),
      ctx(3, p.keyExpiration ? time(p.keyExpiration) : undefined),
      ctx(4, flags(p.flags)),
      ctx(5, time(p.authtime)),
      ctx(6, p.starttime ? time(p.starttime) : undefined),
      ctx(7, time(p.endtime)),
      ctx(8, p.renewTill ? time(p.renewTill) : undefined),
      ctx(9, str(p.srealm)),
      ctx(10, encPrincipalName(p.sname)),
    ),
  );
}

/** The parts of a KDC-REQ a fake KDC needs. */
export function decKdcReq(der: Uint8Array): { msgType: number; padata: PaData[]; nonce: number; etypes: number[]; cname?: Principal['name']; realm: string; sname?: Principal['name'] } {
  const outer = parseDer(der, 'KDC-REQ');
  const what = outer.tag === 12 ? 'TGS-REQ' : 'AS-REQ';
  const f = new Fields(application(outer, outer.tag === 12 ? 12 : 10, what), what);
  const pa = f.opt(3);
  const b = new Fields(f.req(4, 'req-body'), `${what}.req-body`);
  const cname = b.opt(1);
  const sname = b.opt(3);
  return {
    msgType: readInt(f.req(2, 'msg-type'), `${what}.msg-type`),
    padata: pa ? readSeqOf(pa, `${what}.padata`, decPaData) : [],
    nonce: readUInt32(b.req(7, 'nonce'), `${what}.nonce`),
    etypes: readSeqOf(b.req(8, 'etype'), `${what}.etype`, readInt),
    realm: readString(b.req(2, 'realm'), `${what}.realm`),
    ...(cname ? { cname: decPrincipalName(cname, `${what}.cname`) } : {}),
    ...(sname ? { sname: decPrincipalName(sname, `${what}.sname`) } : {}),
  };
}
