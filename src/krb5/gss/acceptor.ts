import { randomInt } from 'node:crypto';
import { enctypeOf, KeyUsage } from '../crypto/index.js';
import { Krb5Error } from '../errors.js';
import type { KeytabEntry } from '../files/keytab.js';
import { ApOptions, decApReq, decAuthenticator, encApRep, encEncApRepPart } from '../messages/ap.js';
import { decEncTicketPart } from '../messages/ticket.js';
import { encKrbError, KrbErrorCode } from '../messages/krb-error.js';
import { principalToString, samePrincipal, type EncryptionKey, type Principal } from '../messages/types.js';
import { GssContext } from './context.js';
import { frameContextToken, TokId, unframeContextToken } from './framing.js';
import { GSS_CHECKSUM_TYPE } from './initiator.js';

export interface AcceptorOptions {
  now?: () => Date;
  /** Allowed clock difference in seconds (default 300, krb5.conf's clockskew). */
  clockskew?: number;
  /** Send an acceptor subkey in the AP-REP (default true, as MIT does). */
  acceptorSubkey?: boolean;
}

/**
 * The acceptor (server) side of a krb5 GSS context, from the service's
 * keytab. An NFS server is the acceptor in production; here it lets tests
 * and fake servers run a full context without one.
 */
export class GssAcceptor extends GssContext {
  protected readonly isAcceptor = true;
  readonly peer: Principal;
  /** The AP-REP token to send back, when the initiator asked for mutual authentication. */
  readonly replyToken?: Buffer;

  private constructor(peer: Principal, flags: number, keys: { key: EncryptionKey; acceptorSubkey: boolean }, peerSeq: number, replyToken: Buffer | undefined, mySeq?: bigint) {
    super();
    this.peer = peer;
    this.flags = flags;
    if (mySeq !== undefined) this.sendSeq = mySeq;
    this.setKeys(keys, peerSeq);
    if (replyToken) this.replyToken = replyToken;
  }

  static accept(token: Uint8Array, keytab: KeytabEntry[], opts: AcceptorOptions = {}): GssAcceptor {
    const { tokId, message } = unframeContextToken(token);
    if (tokId !== TokId.KRB_AP_REQ) throw new Krb5Error('ERR_KRB5_GSS', `krb5 GSS: expected an AP-REQ token, got TOK_ID ${tokId.toString(16)}`);
    const apReq = decApReq(message);
    const sname = apReq.ticket.sname;
    const etype = apReq.ticket.encPart.etype;
    const entry = keytab.find((k) => samePrincipal(k.principal, sname) && k.key.keytype === etype && (apReq.ticket.encPart.kvno === undefined || k.kvno === apReq.ticket.encPart.kvno));
    if (!entry) throw new Krb5Error('ERR_KRB5_AP_ERROR', `krb5: no key for ${principalToString(sname)} etype ${etype} kvno ${apReq.ticket.encPart.kvno} in the keytab (KRB_AP_ERR_NOKEY)`, { krbError: 'KRB_AP_ERR_NOKEY', krbErrorCode: KrbErrorCode.KRB_AP_ERR_NOKEY });
    const te = enctypeOf(etype);
    const tkt = decEncTicketPart(te.decrypt(entry.key.keyvalue, KeyUsage.KDC_REP_TICKET, apReq.ticket.encPart.cipher));
    const se = enctypeOf(tkt.key.keytype);
    if (apReq.authenticator.etype !== se.etype) throw new Krb5Error('ERR_KRB5_AP_ERROR', 'krb5: authenticator etype differs from the session key (KRB_AP_ERR_BAD_INTEGRITY)');
    const auth = decAuthenticator(se.decrypt(tkt.key.keyvalue, KeyUsage.AP_REQ_AUTH, apReq.authenticator.cipher));
    if (!samePrincipal(auth.client, tkt.client)) throw new Krb5Error('ERR_KRB5_AP_ERROR', 'krb5: authenticator client differs from the ticket (KRB_AP_ERR_BADMATCH)', { krbError: 'KRB_AP_ERR_BADMATCH', krbErrorCode: KrbErrorCode.KRB_AP_ERR_BADMATCH });
    const now = opts.now?.() ?? new Date();
    const skew = (opts.clockskew ?? 300) * 1000;
    if (Math.abs(now.getTime() - auth.ctime.getTime()) > skew) {
      throw new Krb5Error('ERR_KRB5_CLOCK_SKEW', `krb5: authenticator time ${auth.ctime.toISOString()} is more than ${skew / 1000} s from ours (KRB_AP_ERR_SKEW)`, { krbError: 'KRB_AP_ERR_SKEW', krbErrorCode: KrbErrorCode.KRB_AP_ERR_SKEW });
    }
    const start = tkt.starttime ?? tkt.authtime;
    if (start.getTime() > now.getTime() + skew) throw new Krb5Error('ERR_KRB5_AP_ERROR', 'krb5: ticket not yet valid (KRB_AP_ERR_TKT_NYV)', { krbError: 'KRB_AP_ERR_TKT_NYV', krbErrorCode: KrbErrorCode.KRB_AP_ERR_TKT_NYV });
    if (tkt.endtime.getTime() < now.getTime() - skew) throw new Krb5Error('ERR_KRB5_AP_ERROR', 'krb5: ticket expired (KRB_AP_ERR_TKT_EXPIRED)', { krbError: 'KRB_AP_ERR_TKT_EXPIRED', krbErrorCode: KrbErrorCode.KRB_AP_ERR_TKT_EXPIRED });
    if (!auth.cksum || auth.cksum.cksumtype !== GSS_CHECKSUM_TYPE || auth.cksum.checksum.length < 24) throw new Krb5Error('ERR_KRB5_GSS', 'krb5 GSS: authenticator lacks the 0x8003 GSS checksum');
    const flags = auth.cksum.checksum.readUInt32LE(20);
    const initiatorKey = auth.subkey ?? tkt.key;
    const peerSeq = auth.seqNumber ?? 0;
    if (!(apReq.apOptions & ApOptions.mutual_required)) {
      return new GssAcceptor(tkt.client, flags, { key: initiatorKey, acceptorSubkey: false }, peerSeq, undefined, BigInt(peerSeq));
    }
    const mine = opts.acceptorSubkey === false ? undefined : { keytype: initiatorKey.keytype, keyvalue: enctypeOf(initiatorKey.keytype).randomKey() };
    const keys = mine ? { key: mine, acceptorSubkey: true } : { key: initiatorKey, acceptorSubkey: false };
    const mySeq = randomInt(0, 0x3fffffff);
    const part = encEncApRepPart({ ctime: auth.ctime, cusec: auth.cusec, ...(mine ? { subkey: mine } : {}), seqNumber: mySeq });
    const reply = frameContextToken(TokId.KRB_AP_REP, encApRep({ etype: se.etype, cipher: se.encrypt(tkt.key.keyvalue, KeyUsage.AP_REP_ENCPART, part) }));
    return new GssAcceptor(tkt.client, flags, keys, peerSeq, reply, BigInt(mySeq));
  }

  /** A KRB-ERROR context token, as an acceptor sends when it refuses an AP-REQ (tests use it for the initiator's error path). */
  static errorToken(errorCode: number, service: Principal, now = new Date()): Buffer {
    return frameContextToken(TokId.KRB_ERROR, encKrbError({ stime: new Date(Math.floor(now.getTime() / 1000) * 1000), susec: 0, errorCode, realm: service.realm, sname: service.name }));
  }
}

