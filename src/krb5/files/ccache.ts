import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Krb5Error } from '../errors.js';
import { principalToString, samePrincipal, type EncryptionKey, type Principal } from '../messages/types.js';
import { ByteReader, ByteWriter } from './bytes.js';

/**
 * MIT credential cache, FILE type, format version 4 (0x0504, what kinit has
 * written since krb5 1.3): big-endian throughout, a tagged header (tag 1 is
 * the KDC time offset), the default principal, then credentials to the end
 * of the file. MIT also keeps configuration entries there, credentials whose
 * server realm is "X-CACHECONF:"; they are read and written back untouched
 * but never returned as tickets.
 */
export interface Credential {
  client: Principal;
  server: Principal;
  key: EncryptionKey;
  /** Seconds since the epoch, as the file stores them. */
  authtime: number;
  starttime: number;
  endtime: number;
  renewTill: number;
  isSkey: boolean;
  flags: number;
  addresses: { type: number; data: Buffer }[];
  authdata: { type: number; data: Buffer }[];
  ticket: Buffer;
  secondTicket: Buffer;
}

export interface CCache {
  /** Seconds and microseconds to add to our clock to get the KDC's (header tag 1), when known. */
  timeOffset?: { sec: number; usec: number };
  principal: Principal;
  credentials: Credential[];
}

export const CONF_REALM = 'X-CACHECONF:';

export function isConfigEntry(c: Credential): boolean {
  return c.server.realm === CONF_REALM;
}

function readPrincipal(r: ByteReader, field: string): Principal {
  const nameType = r.u32(`${field} name type`);
  const count = r.u32(`${field} component count`);
  // Each component needs at least its 4-byte length: a bogus count cannot make us loop past the data.
  if (count > r.remaining() / 4) throw new Krb5Error('ERR_KRB5_DECODE', `krb5: cannot read ${r.what}: ${field} claims ${count} components`);
  const realm = r.data32(`${field} realm`).toString('utf8');
  const comps: string[] = [];
  for (let i = 0; i < count; i++) comps.push(r.data32(`${field} component`).toString('utf8'));
  return { realm, name: { nameType, nameString: comps } };
}

function writePrincipal(w: ByteWriter, p: Principal): void {
  w.u32(p.name.nameType).u32(p.name.nameString.length).data32(Buffer.from(p.realm, 'utf8'));
  for (const c of p.name.nameString) w.data32(Buffer.from(c, 'utf8'));
}

function readList(r: ByteReader, field: string): { type: number; data: Buffer }[] {
  const n = r.u32(`${field} count`);
  if (n > r.remaining() / 6) throw new Krb5Error('ERR_KRB5_DECODE', `krb5: cannot read ${r.what}: ${field} claims ${n} entries`);
  const out: { type: number; data: Buffer }[] = [];
  for (let i = 0; i < n; i++) out.push({ type: r.u16(`${field} type`), data: Buffer.from(r.data32(field)) });
  return out;
}

export function parseCCache(buf: Buffer, what = 'credential cache'): CCache {
  const r = new ByteReader(buf, what);
  const version = r.u16('version');
  if (version !== 0x0504 && version !== 0x0503) {
    throw new Krb5Error('ERR_KRB5_UNSUPPORTED', `krb5: ${what}: credential cache version 0x${version.toString(16)} is not supported (only 0x0503 and 0x0504)`);
  }
  const cc: Partial<CCache> = {};
  if (version === 0x0504) {
    const hlen = r.u16('header length');
    const h = new ByteReader(r.bytes(hlen, 'header'), `${what} header`);
    while (h.remaining() > 0) {
      const tag = h.u16('header tag');
      const data = new ByteReader(h.data16('header field'), `${what} header tag ${tag}`);
      if (tag === 1) cc.timeOffset = { sec: data.i32('time offset seconds'), usec: data.i32('time offset microseconds') };
    }
  }
  const principal = readPrincipal(r, 'default principal');
  const credentials: Credential[] = [];
  while (r.remaining() > 0) {
    const n = credentials.length + 1;
    const f = (s: string): string => `credential ${n} ${s}`;
    const client = readPrincipal(r, f('client'));
    const server = readPrincipal(r, f('server'));
    const keytype = r.u16(f('key type'));
    const keyvalue = Buffer.from(r.data32(f('key')));
    credentials.push({
      client,
      server,
      key: { keytype, keyvalue },
      authtime: r.u32(f('authtime')),
      starttime: r.u32(f('starttime')),
      endtime: r.u32(f('endtime')),
      renewTill: r.u32(f('renew-till')),
      isSkey: r.u8(f('is_skey')) !== 0,
      flags: r.u32(f('flags')),
      addresses: readList(r, f('addresses')),
      authdata: readList(r, f('authdata')),
      ticket: Buffer.from(r.data32(f('ticket'))),
      secondTicket: Buffer.from(r.data32(f('second ticket'))),
    });
  }
  return { ...cc, principal, credentials };
}

export function serializeCCache(cc: CCache): Buffer {
  const w = new ByteWriter().u16(0x0504);
  if (cc.timeOffset) w.u16(12).u16(1).u16(8).i32(cc.timeOffset.sec).i32(cc.timeOffset.usec);
  else w.u16(0);
  writePrincipal(w, cc.principal);
  for (const c of cc.credentials) {
    writePrincipal(w, c.client);
    writePrincipal(w, c.server);
    w.u16(c.key.keytype).data32(c.key.keyvalue);
    w.u32(c.authtime).u32(c.starttime).u32(c.endtime).u32(c.renewTill).u8(c.isSkey ? 1 : 0).u32(c.flags);
    w.u32(c.addresses.length);
    for (const a of c.addresses) w.u16(a.type).data32(a.data);
    w.u32(c.authdata.length);
    for (const a of c.authdata) w.u16(a.type).data32(a.data);
    w.data32(c.ticket).data32(c.secondTicket);
  }
  return w.toBuffer();
}

/** `FILE:/path` or a bare path. DIR:, KEYRING:, KCM: and MEMORY: caches live elsewhere than in one file and are not supported. */
export function ccachePath(name: string): string {
  const m = /^([A-Za-z]+):(.*)$/.exec(name);
  if (!m || m[1]!.length === 1) return name;
  if (m[1] === 'FILE') return m[2]!;
  throw new Krb5Error('ERR_KRB5_UNSUPPORTED', `krb5: credential cache type ${m[1]} (${name}) is not supported, only FILE:`);
}

export async function readCCache(name: string): Promise<CCache> {
  const path = ccachePath(name);
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (cause) {
    throw new Krb5Error('ERR_KRB5_NO_CREDENTIALS', `krb5: no credential cache at ${path} (${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}); run kinit or give a keytab or password`, { cause });
  }
  return parseCCache(buf, `credential cache ${path}`);
}

/** Write the whole cache through a temporary file and rename, so a reader (klist) never sees half of it. */
export async function writeCCache(name: string, cc: CCache): Promise<void> {
  const path = ccachePath(name);
  const tmp = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
  await writeFile(tmp, serializeCCache(cc), { mode: 0o600 });
  await rename(tmp, path);
}

/** A cached, unexpired ticket for `server` (and `client`), newest first; config entries never match. */
export function findCredential(cc: CCache, server: Principal, nowSec = Math.floor(Date.now() / 1000), client: Principal = cc.principal): Credential | undefined {
  return cc.credentials
    .filter((c) => !isConfigEntry(c) && samePrincipal(c.server, server) && samePrincipal(c.client, client) && c.endtime > nowSec)
    .sort((a, b) => b.endtime - a.endtime)[0];
}

/** Replace any credential for the same client and server, then append. */
export function storeCredential(cc: CCache, cred: Credential): CCache {
  const credentials = cc.credentials.filter((c) => !(samePrincipal(c.server, cred.server) && samePrincipal(c.client, cred.client)));
  credentials.push(cred);
  return { ...cc, credentials };
}

export function describeCredential(c: Credential): string {
  return `${principalToString(c.client)} -> ${principalToString(c.server)} until ${new Date(c.endtime * 1000).toISOString()}`;
}
