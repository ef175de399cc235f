import { randomInt } from 'node:crypto';
import { enctypeOf, hasEnctype, KeyUsage, SUPPORTED_ETYPES } from './crypto/index.js';
import type { Credentials } from './credentials.js';
import { parseDer, TagClass } from './der.js';
import { Krb5Error } from './errors.js';
import { encApReq, encAuthenticator } from './messages/ap.js';
import {
  decEncKdcRepPart,
  decEtypeInfo2,
  decKdcRep,
  decMethodData,
  encKdcReq,
  encKdcReqBody,
  encPaEncTimestamp,
  encPaEncTsEnc,
  type EncKdcRepPart,
  type EtypeInfo2Entry,
  type KdcRep,
  MsgType,
  PaType,
} from './messages/kdc.js';
import { decKrbError, KrbErrorCode, krbErrorName, krbErrorToError, type KrbError } from './messages/krb-error.js';
import { principalToString, samePrincipal, tgsPrincipal, type EncryptionKey, type PaData, type Principal } from './messages/types.js';
import type { KeytabEntry } from './files/keytab.js';

/** How to reach a realm's KDCs: a function so tests can point it anywhere. */
export type KdcSender = (realm: string, message: Buffer) => Promise<Buffer>;

export interface ExchangeOptions {
  send: KdcSender;
  /** Our clock; tests shift it to provoke KRB_AP_ERR_SKEW. */
  now?: () => Date;
  /** Requested ticket lifetime in seconds (the KDC may shorten it). */
  lifetimeSec?: number;
  /** Enctypes to ask for, most preferred first. */
  etypes?: readonly number[];
}

/** The client's long-term key source: a password (salted as the KDC says) or keytab entries. */
export type ClientSecret = { password: string } | { keytab: KeytabEntry[] };

const DEFAULT_LIFETIME = 24 * 3600;

function nonce(): number {
  return randomInt(1, 0x7fffffff);
}

function splitNow(now: Date): { d: Date; usec: number } {
  const ms = now.getTime();
  return { d: new Date(Math.floor(ms / 1000) * 1000), usec: (ms % 1000) * 1000 };
}

/** The reply as a KDC-REP of `msgType` or a KRB-ERROR; anything else is a decode error. */
function parseReply(reply: Buffer, msgType: 11 | 13): KdcRep | KrbError {
  const node = parseDer(reply, msgType === 11 ? 'AS-REP' : 'TGS-REP');
  if (node.cls === TagClass.Application && node.tag === MsgType.KRB_ERROR) return decKrbError(node);
  return decKdcRep(node, msgType);
}

function isKrbError(r: KdcRep | KrbError): r is KrbError {
  return (r as KrbError).errorCode !== undefined;
}

/** The default salt (RFC 4120 section 4): realm followed by the name components. */
export function defaultSalt(p: Principal): string {
  return p.realm + p.name.nameString.join('');
}

function etypeInfo(padata: PaData[]): EtypeInfo2Entry[] {
  const pa = padata.find((p) => p.padataType === PaType.PA_ETYPE_INFO2);
  return pa ? decEtypeInfo2(pa.padataValue) : [];
}

function keyFromSecret(secret: ClientSecret, client: Principal, etype: number, info: EtypeInfo2Entry | undefined): EncryptionKey {
  if ('password' in secret) {
    const e = enctypeOf(etype);
    return { keytype: etype, keyvalue: e.stringToKey(secret.password, info?.salt ?? defaultSalt(client), info?.s2kparams) };
  }
  const entry = secret.keytab.find((k) => k.key.keytype === etype);
  if (!entry) throw new Krb5Error('ERR_KRB5_NO_CREDENTIALS', `krb5: the keytab has no ${enctypeOf(etype).name} key for ${principalToString(client)}`);
  return entry.key;
}

/**
 * The AS exchange (RFC 4120 section 3.1): ask for a TGT, answer the KDC's
 * PREAUTH_REQUIRED with PA-ENC-TIMESTAMP in the key ETYPE-INFO2 says
 * (salt, s2kparams), and decrypt the reply with that key.
 */
export async function asExchange(client: Principal, secret: ClientSecret, opts: ExchangeOptions, server: Principal = tgsPrincipal(client.realm)): Promise<Credentials> {
  const clock = opts.now ?? ((): Date => new Date());
  const who = `AS exchange for ${principalToString(client)}`;
  let etypes = (opts.etypes ?? SUPPORTED_ETYPES).filter(hasEnctype);
  if ('keytab' in secret) {
    const have = new Set(secret.keytab.map((k) => k.key.keytype));
    etypes = etypes.filter((e) => have.has(e));
    if (etypes.length === 0) throw new Krb5Error('ERR_KRB5_NO_CREDENTIALS', `krb5: ${who}: the keytab has no key of a supported enctype (${SUPPORTED_ETYPES.join(', ')})`);
  }
  let padata: PaData[] = [];
  let preauthKey: EncryptionKey | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    const now = clock();
    const n = nonce();
    const body = encKdcReqBody({ options: 0, cname: client.name, realm: client.realm, sname: server.name, till: new Date(now.getTime() + (opts.lifetimeSec ?? DEFAULT_LIFETIME) * 1000), nonce: n, etypes });
    const reply = parseReply(await opts.send(client.realm, encKdcReq(MsgType.KRB_AS_REQ, padata, body)), 11);
    if (isKrbError(reply)) {
      if (reply.errorCode === KrbErrorCode.KDC_ERR_PREAUTH_REQUIRED && padata.length === 0) {
        const methods = reply.eData ? decMethodData(reply.eData) : [];
        if (!methods.some((m) => m.padataType === PaType.PA_ENC_TIMESTAMP)) {
          throw new Krb5Error('ERR_KRB5_KDC_ERROR', `krb5: ${who}: the KDC wants pre-authentication but not PA-ENC-TIMESTAMP (offered: ${methods.map((m) => m.padataType).join(', ')})`, { krbError: krbErrorName(reply.errorCode), krbErrorCode: reply.errorCode });
        }
        const info = etypeInfo(methods).find((i) => etypes.includes(i.etype));
        const etype = info?.etype ?? etypes[0]!;
        preauthKey = keyFromSecret(secret, client, etype, info);
        const ts = splitNow(clock());
        const enc = enctypeOf(etype).encrypt(preauthKey.keyvalue, KeyUsage.AS_REQ_PA_ENC_TIMESTAMP, encPaEncTsEnc(ts.d, ts.usec));
        padata = [encPaEncTimestamp({ etype, cipher: enc })];
        continue;
      }
      throw krbErrorToError(reply, who);
    }
    const etype = reply.encPart.etype;
    let key: EncryptionKey;
    if (preauthKey && preauthKey.keytype === etype) key = preauthKey;
    else key = keyFromSecret(secret, client, etype, etypeInfo(reply.padata).find((i) => i.etype === etype));
    let part: EncKdcRepPart;
    try {
      part = decEncKdcRepPart(enctypeOf(etype).decrypt(key.keyvalue, KeyUsage.AS_REP_ENCPART, reply.encPart.cipher));
    } catch (err) {
      if ((err as Krb5Error).code === 'ERR_KRB5_INTEGRITY') {
        throw new Krb5Error('ERR_KRB5_BAD_PASSWORD', `krb5: ${who}: the reply does not decrypt with our key: wrong password, or a keytab whose key is not the current one`, { cause: err });
      }
      throw err;
    }
    return finishReply(reply, part, n, { realm: reply.crealm, name: reply.cname }, server, who);
  }
  throw new Krb5Error('ERR_KRB5_KDC_ERROR', `krb5: ${who}: the KDC kept asking for pre-authentication`);
}

function finishReply(reply: KdcRep, part: EncKdcRepPart, n: number, client: Principal, server: Principal, who: string): Credentials {
  // The nonce ties this reply to our request: without the check an attacker could replay an old reply.
  if (part.nonce !== n) throw new Krb5Error('ERR_KRB5_KDC_ERROR', `krb5: ${who}: reply nonce ${part.nonce} does not match the request's ${n}`);
  const gotServer = { realm: part.srealm, name: part.sname };
  if (!samePrincipal(gotServer, server)) throw new Krb5Error('ERR_KRB5_KDC_ERROR', `krb5: ${who}: the KDC issued a ticket for ${principalToString(gotServer)}, not ${principalToString(server)}`);
  const out: Credentials = { client, server: gotServer, sessionKey: part.key, ticket: reply.ticket, flags: part.flags, authtime: part.authtime, endtime: part.endtime };
  if (part.starttime) out.starttime = part.starttime;
  if (part.renewTill) out.renewTill = part.renewTill;
  return out;
}

/**
 * The TGS exchange (RFC 4120 section 3.3): a service ticket for `server`
 * with the TGT, authenticated by an AP-REQ in PA-TGS-REQ whose authenticator
 * checksums the request body.
 */
export async function tgsExchange(tgt: Credentials, server: Principal, opts: ExchangeOptions): Promise<Credentials> {
  const clock = opts.now ?? ((): Date => new Date());
  const who = `TGS exchange for ${principalToString(server)}`;
  const now = clock();
  const n = nonce();
  const etypes = (opts.etypes ?? SUPPORTED_ETYPES).filter(hasEnctype);
  const bodyDer = encKdcReqBody({ options: 0, realm: server.realm, sname: server.name, till: new Date(now.getTime() + (opts.lifetimeSec ?? DEFAULT_LIFETIME) * 1000), nonce: n, etypes });
  const sk = enctypeOf(tgt.sessionKey.keytype);
  const ts = splitNow(now);
  const authenticator = encAuthenticator({
    client: tgt.client,
    cksum: { cksumtype: sk.checksumType, checksum: sk.checksum(tgt.sessionKey.keyvalue, KeyUsage.TGS_REQ_AUTH_CKSUM, bodyDer) },
    cusec: ts.usec,
    ctime: ts.d,
  });
  const apReq = encApReq(0, tgt.ticket.der, { etype: sk.etype, cipher: sk.encrypt(tgt.sessionKey.keyvalue, KeyUsage.TGS_REQ_AUTH, authenticator) });
  // A TGT krbtgt/X@Y is honoured by realm X's KDC.
  const kdcRealm = tgt.server.name.nameString[1] ?? server.realm;
  const reply = parseReply(await opts.send(kdcRealm, encKdcReq(MsgType.KRB_TGS_REQ, [{ padataType: PaType.PA_TGS_REQ, padataValue: apReq }], bodyDer)), 13);
  if (isKrbError(reply)) throw krbErrorToError(reply, who);
  if (reply.encPart.etype !== tgt.sessionKey.keytype) throw new Krb5Error('ERR_KRB5_KDC_ERROR', `krb5: ${who}: reply encrypted with etype ${reply.encPart.etype}, not the TGT session key's ${tgt.sessionKey.keytype}`);
  const part = decEncKdcRepPart(sk.decrypt(tgt.sessionKey.keyvalue, KeyUsage.TGS_REP_ENCPART_SESSKEY, reply.encPart.cipher));
  return finishReply(reply, part, n, { realm: reply.crealm, name: reply.cname }, server, who);
}

