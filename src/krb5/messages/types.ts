import { Krb5Error } from '../errors.js';
import { ctx, type DerNode, Fields, int, octets, readInt, readOctets, readSeqOf, readString, readUInt32, seq, seqOf, str } from '../der.js';

/** Name types (RFC 4120 section 6.2). */
export const NameType = {
  NT_UNKNOWN: 0,
  NT_PRINCIPAL: 1,
  NT_SRV_INST: 2,
  NT_SRV_HST: 3,
  NT_ENTERPRISE: 10,
} as const;

export interface PrincipalName {
  nameType: number;
  nameString: string[];
}

/** A principal with its realm: what users write as `nfs/host@REALM`. */
export interface Principal {
  realm: string;
  name: PrincipalName;
}

export interface EncryptionKey {
  keytype: number;
  keyvalue: Buffer;
}

export interface EncryptedData {
  etype: number;
  kvno?: number;
  cipher: Buffer;
}

export interface Checksum {
  cksumtype: number;
  checksum: Buffer;
}

export interface PaData {
  padataType: number;
  padataValue: Buffer;
}

/**
 * Parse `user@REALM`, `nfs/host@REALM` or (with `defaultRealm`) `user`. The
 * name type is NT_PRINCIPAL unless given, as with MIT's krb5_parse_name (it
 * is a hint a KDC does not need); backslash escapes are honoured as there.
 */
export function parsePrincipal(text: string, defaultRealm?: string, nameType?: number): Principal {
  const comps: string[] = [''];
  let realm: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\\' && i + 1 < text.length) {
      const next = text[++i]!;
      const esc = next === 'n' ? '\n' : next === 't' ? '\t' : next === '0' ? '\0' : next;
      if (realm !== undefined) realm += esc;
      else comps[comps.length - 1] += esc;
    } else if (realm !== undefined) {
      realm += ch;
    } else if (ch === '@') {
      realm = '';
    } else if (ch === '/') {
      comps.push('');
    } else {
      comps[comps.length - 1] += ch;
    }
  }
  realm ??= defaultRealm;
  if (!realm) throw new Krb5Error('ERR_KRB5_CONFIG', `krb5: principal ${JSON.stringify(text)} has no realm and no default realm is configured`);
  if (comps.some((c) => c === '')) throw new Krb5Error('ERR_KRB5_CONFIG', `krb5: principal ${JSON.stringify(text)} has an empty component`);
  return { realm, name: { nameType: nameType ?? NameType.NT_PRINCIPAL, nameString: comps } };
}

export function principalToString(p: Principal): string {
  const esc = (s: string): string => s.replace(/[\\/@]/g, (c) => `\\${c}`);
  return `${p.name.nameString.map(esc).join('/')}@${p.realm.replace(/[\\@]/g, (c) => `\\${c}`)}`;
}

/** Same principal? Name type is not compared (RFC 4120 section 6.2: it is a hint). */
export function samePrincipal(a: Principal, b: Principal): boolean {
  return a.realm === b.realm && a.name.nameString.length === b.name.nameString.length && a.name.nameString.every((c, i) => c === b.name.nameString[i]);
}

export function tgsPrincipal(realm: string, serviceRealm = realm): Principal {
  return { realm, name: { nameType: NameType.NT_SRV_INST, nameString: ['krbtgt', serviceRealm] } };
}

// ---- DER ----

export function encPrincipalName(p: PrincipalName): Buffer {
  return seq(ctx(0, int(p.nameType)), ctx(1, seqOf(p.nameString.map(str))));
}

export function decPrincipalName(node: DerNode, what: string): PrincipalName {
  const f = new Fields(node, what);
  return {
    nameType: readInt(f.req(0, 'name-type'), `${what}.name-type`),
    nameString: readSeqOf(f.req(1, 'name-string'), `${what}.name-string`, readString),
  };
}

export function encEncryptionKey(k: EncryptionKey): Buffer {
  return seq(ctx(0, int(k.keytype)), ctx(1, octets(k.keyvalue)));
}

export function decEncryptionKey(node: DerNode, what: string): EncryptionKey {
  const f = new Fields(node, what);
  return { keytype: readInt(f.req(0, 'keytype'), `${what}.keytype`), keyvalue: Buffer.from(readOctets(f.req(1, 'keyvalue'), `${what}.keyvalue`)) };
}

export function encEncryptedData(e: EncryptedData): Buffer {
  return seq(ctx(0, int(e.etype)), ctx(1, e.kvno === undefined ? undefined : int(e.kvno)), ctx(2, octets(e.cipher)));
}

export function decEncryptedData(node: DerNode, what: string): EncryptedData {
  const f = new Fields(node, what);
  const kvno = f.opt(1);
  const out: EncryptedData = { etype: readInt(f.req(0, 'etype'), `${what}.etype`), cipher: readOctets(f.req(2, 'cipher'), `${what}.cipher`) };
  if (kvno) out.kvno = readUInt32(kvno, `${what}.kvno`);
  return out;
}

export function encChecksum(c: Checksum): Buffer {
  return seq(ctx(0, int(c.cksumtype)), ctx(1, octets(c.checksum)));
}

export function decChecksum(node: DerNode, what: string): Checksum {
  const f = new Fields(node, what);
  return { cksumtype: readInt(f.req(0, 'cksumtype'), `${what}.cksumtype`), checksum: readOctets(f.req(1, 'checksum'), `${what}.checksum`) };
}

export function encPaData(p: PaData): Buffer {
  return seq(ctx(1, int(p.padataType)), ctx(2, octets(p.padataValue)));
}

export function decPaData(node: DerNode, what: string): PaData {
  const f = new Fields(node, what);
  return { padataType: readInt(f.req(1, 'padata-type'), `${what}.padata-type`), padataValue: readOctets(f.req(2, 'padata-value'), `${what}.padata-value`) };
}
