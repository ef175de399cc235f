import { readFile, writeFile } from 'node:fs/promises';
import { Krb5Error } from '../errors.js';
import { samePrincipal, type EncryptionKey, type Principal } from '../messages/types.js';
import { ByteReader, ByteWriter } from './bytes.js';

/**
 * MIT keytab files, format version 0x502 (the only one written since krb5
 * 1.0): a 2-byte version, then records each prefixed by a signed 32-bit size.
 * A negative size is a hole left by a deleted entry and is skipped. Inside a
 * record: component count, realm, components, name type, timestamp, 8-bit
 * kvno, key (type and bytes), and, when the record has room, a 32-bit kvno
 * that replaces the 8-bit one.
 */
export interface KeytabEntry {
  principal: Principal;
  timestamp: number;
  kvno: number;
  key: EncryptionKey;
}

export function parseKeytab(buf: Buffer, what = 'keytab'): KeytabEntry[] {
  const r = new ByteReader(buf, what);
  const version = r.u16('version');
  if (version !== 0x0502) {
    throw new Krb5Error(version === 0x0501 ? 'ERR_KRB5_UNSUPPORTED' : 'ERR_KRB5_DECODE', `krb5: ${what}: keytab version 0x${version.toString(16)} is not 0x502`);
  }
  const entries: KeytabEntry[] = [];
  while (r.remaining() > 0) {
    // A short tail (fewer than 4 bytes) is what an interrupted append leaves; MIT stops there too.
    if (r.remaining() < 4) break;
    const size = r.i32('record size');
    if (size === 0) break;
    if (size < 0) {
      r.bytes(-size, 'deleted record');
      continue;
    }
    const rec = new ByteReader(r.bytes(size, 'record'), `${what} record ${entries.length + 1}`);
    const count = rec.u16('component count');
    const realm = rec.data16('realm').toString('utf8');
    const comps: string[] = [];
    for (let i = 0; i < count; i++) comps.push(rec.data16('component').toString('utf8'));
    const nameType = rec.u32('name type');
    const timestamp = rec.u32('timestamp');
    let kvno = rec.u8('kvno');
    const keytype = rec.u16('key type');
    const keyvalue = Buffer.from(rec.data16('key'));
    if (rec.remaining() >= 4) {
      const kvno32 = rec.u32('kvno32');
      if (kvno32 !== 0) kvno = kvno32;
    }
    entries.push({ principal: { realm, name: { nameType, nameString: comps } }, timestamp, kvno, key: { keytype, keyvalue } });
  }
  return entries;
}

export function serializeKeytab(entries: KeytabEntry[]): Buffer {
  const w = new ByteWriter().u16(0x0502);
  for (const e of entries) {
    const rec = new ByteWriter().u16(e.principal.name.nameString.length).data16(Buffer.from(e.principal.realm, 'utf8'));
    for (const c of e.principal.name.nameString) rec.data16(Buffer.from(c, 'utf8'));
    rec.u32(e.principal.name.nameType).u32(e.timestamp).u8(e.kvno & 0xff).u16(e.key.keytype).data16(e.key.keyvalue).u32(e.kvno);
    const body = rec.toBuffer();
    w.i32(body.length).bytes(body);
  }
  return w.toBuffer();
}

/** `FILE:/path`, `WRFILE:/path` or a bare path; other keytab types are not files we can read. */
export function keytabPath(name: string): string {
  const m = /^([A-Za-z]+):(.*)$/.exec(name);
  if (!m || m[1]!.length === 1) return name;
  if (m[1] === 'FILE' || m[1] === 'WRFILE') return m[2]!;
  throw new Krb5Error('ERR_KRB5_UNSUPPORTED', `krb5: keytab type ${m[1]} (${name}) is not supported, only FILE:`);
}

export async function readKeytab(name: string): Promise<KeytabEntry[]> {
  const path = keytabPath(name);
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (cause) {
    throw new Krb5Error('ERR_KRB5_NO_CREDENTIALS', `krb5: cannot read keytab ${path}: ${(cause as Error).message}`, { cause });
  }
  return parseKeytab(buf, `keytab ${path}`);
}

export async function writeKeytab(name: string, entries: KeytabEntry[]): Promise<void> {
  await writeFile(keytabPath(name), serializeKeytab(entries), { mode: 0o600 });
}

/**
 * The keys of `principal` with the highest kvno (or kvno `kvno`), one per
 * enctype: what a keytab holds for the current password.
 */
export function keysFor(entries: KeytabEntry[], principal: Principal, kvno?: number): KeytabEntry[] {
  const mine = entries.filter((e) => samePrincipal(e.principal, principal));
  if (mine.length === 0) return [];
  const want = kvno ?? Math.max(...mine.map((e) => e.kvno));
  return mine.filter((e) => e.kvno === want);
}
