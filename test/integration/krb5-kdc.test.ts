// The Kerberos client against a real MIT KDC (scripts/local-kdc): AS exchange
// with a password and a keytab, TGS for nfs/<host>, both enctype families,
// credential caches shared with MIT kinit/klist, and the named errors.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getInitialCredentials, getServiceTicket, krb5Context } from '../../src/krb5/acquire.js';
import { readCCache, writeCCache } from '../../src/krb5/files/ccache.js';
import { toCCacheCredential } from '../../src/krb5/credentials.js';
import { readKeytab } from '../../src/krb5/files/keytab.js';
import { enctypeOf, KeyUsage } from '../../src/krb5/crypto/index.js';
import { decEncTicketPart } from '../../src/krb5/messages/ticket.js';
import { parsePrincipal, principalToString, samePrincipal } from '../../src/krb5/messages/types.js';
import { TicketFlags } from '../../src/krb5/messages/kdc.js';
import { startKdc, toolEnv } from './_kdc.js';

const kdc = startKdc();
const dir = mkdtempSync(join(tmpdir(), 'mountless-krb5-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const env = toolEnv(kdc, { KRB5CCNAME: `FILE:${join(dir, 'none.cc')}` });
const service = `nfs/${kdc.MOUNTLESS_KDC_SERVICE_HOST}`;

/** The service's view of a ticket: decrypt it with the service keytab, as an NFS server would. */
async function openTicket(ticket: { encPart: { etype: number; cipher: Buffer } }): Promise<ReturnType<typeof decEncTicketPart>> {
  const entries = await readKeytab(kdc.MOUNTLESS_KDC_SERVICE_KEYTAB);
  const key = entries.find((e) => e.key.keytype === ticket.encPart.etype)!.key;
  return decEncTicketPart(enctypeOf(ticket.encPart.etype).decrypt(key.keyvalue, KeyUsage.KDC_REP_TICKET, ticket.encPart.cipher));
}

t.test('AS exchange with a password (PA-ENC-TIMESTAMP, ETYPE-INFO2 salt), then TGS for nfs/<host>', async (t) => {
  const opts = { env, principal: kdc.MOUNTLESS_KDC_CLIENT, password: kdc.MOUNTLESS_KDC_CLIENT_PASSWORD };
  const tgt = await getInitialCredentials(opts);
  t.equal(principalToString(tgt.client), kdc.MOUNTLESS_KDC_CLIENT);
  t.equal(principalToString(tgt.server), `krbtgt/${kdc.MOUNTLESS_KDC_REALM}@${kdc.MOUNTLESS_KDC_REALM}`);
  t.ok(tgt.flags & TicketFlags.pre_authent, 'the KDC saw our pre-authentication');
  t.ok(tgt.flags & TicketFlags.initial);
  t.ok(tgt.endtime.getTime() > Date.now());
  const st = await getServiceTicket(service, opts);
  t.equal(principalToString(st.server), kdc.MOUNTLESS_KDC_SERVICE);
  t.equal(st.sessionKey.keytype, 18, 'aes256-cts-hmac-sha1-96 by default');
  const inside = await openTicket(st.ticket);
  t.ok(samePrincipal(inside.client, parsePrincipal(kdc.MOUNTLESS_KDC_CLIENT)), 'the ticket names alice');
  t.same(inside.key, st.sessionKey, 'client and service hold the same session key');
});

t.test('AS exchange from a keytab (KRB5_CLIENT_KTNAME), principal from the keytab', async (t) => {
  const st = await getServiceTicket(service, { env: { ...env, KRB5_CLIENT_KTNAME: `FILE:${kdc.MOUNTLESS_KDC_CLIENT_KEYTAB}` } });
  t.equal(principalToString(st.client), kdc.MOUNTLESS_KDC_CLIENT);
  t.equal(principalToString(st.server), kdc.MOUNTLESS_KDC_SERVICE);
  t.same((await openTicket(st.ticket)).key, st.sessionKey);
});

t.test('aes-sha2: a principal with only RFC 8009 keys, and sha2 session keys when asked', async (t) => {
  const tgt = await getInitialCredentials({ env, principal: kdc.MOUNTLESS_KDC_SHA2_CLIENT, password: kdc.MOUNTLESS_KDC_SHA2_CLIENT_PASSWORD });
  t.equal(principalToString(tgt.client), kdc.MOUNTLESS_KDC_SHA2_CLIENT);
  const fromKeytab = await getInitialCredentials({ env, keytab: kdc.MOUNTLESS_KDC_SHA2_CLIENT_KEYTAB });
  t.equal(principalToString(fromKeytab.client), kdc.MOUNTLESS_KDC_SHA2_CLIENT);
  for (const etype of [20, 19]) {
    const st = await getServiceTicket(service, { env, keytab: kdc.MOUNTLESS_KDC_SHA2_CLIENT_KEYTAB, etypes: [etype] });
    t.equal(st.sessionKey.keytype, etype, `session key ${enctypeOf(etype).name}`);
    t.same((await openTicket(st.ticket)).key, st.sessionKey);
  }
});

t.test('UDP to the KDC when the address says udp/', async (t) => {
  const tgt = await getInitialCredentials({ env, principal: kdc.MOUNTLESS_KDC_CLIENT, password: kdc.MOUNTLESS_KDC_CLIENT_PASSWORD, kdc: `udp/127.0.0.1:${kdc.MOUNTLESS_KDC_PORT}` });
  t.equal(principalToString(tgt.client), kdc.MOUNTLESS_KDC_CLIENT);
});

t.test('a ccache written by MIT kinit is read by us; the one we write is read by MIT klist', async (t) => {
  const kinitCc = join(dir, 'kinit.cc');
  execFileSync('kinit', ['-c', `FILE:${kinitCc}`, kdc.MOUNTLESS_KDC_CLIENT], { env, input: `${kdc.MOUNTLESS_KDC_CLIENT_PASSWORD}\n`, stdio: ['pipe', 'ignore', 'pipe'] });
  const cc = await readCCache(kinitCc);
  t.equal(principalToString(cc.principal), kdc.MOUNTLESS_KDC_CLIENT);
  // With no user given, the cache's principal is used and its TGT buys the service ticket, which is stored back.
  const st = await getServiceTicket(service, { env: { ...env, KRB5CCNAME: `FILE:${kinitCc}` } });
  t.equal(principalToString(st.client), kdc.MOUNTLESS_KDC_CLIENT);
  const klist = execFileSync('klist', ['-c', `FILE:${kinitCc}`], { env, encoding: 'utf8' });
  t.match(klist, kdc.MOUNTLESS_KDC_SERVICE, 'MIT klist lists the service ticket we added to kinit\'s cache');
  const again = await getServiceTicket(service, { env: { ...env, KRB5CCNAME: `FILE:${kinitCc}` }, kdc: '127.0.0.1:1' });
  t.same(again.sessionKey, st.sessionKey, 'the cached service ticket is used without asking a KDC');

  const ourCc = join(dir, 'ours.cc');
  const tgt = await getInitialCredentials({ env, principal: kdc.MOUNTLESS_KDC_CLIENT, password: kdc.MOUNTLESS_KDC_CLIENT_PASSWORD });
  await writeCCache(`FILE:${ourCc}`, { principal: tgt.client, credentials: [toCCacheCredential(tgt)] });
  const out = execFileSync('klist', ['-e', '-c', `FILE:${ourCc}`], { env, encoding: 'utf8' });
  t.match(out, `Default principal: ${kdc.MOUNTLESS_KDC_CLIENT}`);
  t.match(out, `krbtgt/${kdc.MOUNTLESS_KDC_REALM}@${kdc.MOUNTLESS_KDC_REALM}`);
  t.match(out, /aes256-cts-hmac-sha1-96/);
  // MIT kvno uses our TGT to get a service ticket: the cache is usable, not only listable.
  execFileSync('kvno', ['-c', `FILE:${ourCc}`, kdc.MOUNTLESS_KDC_SERVICE], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  t.match(execFileSync('klist', ['-c', `FILE:${ourCc}`], { env, encoding: 'utf8' }), kdc.MOUNTLESS_KDC_SERVICE);
});

t.test('a ticket near its end is not used: a fresh one comes from the client keytab; tickets from a keytab can be cached', async (t) => {
  const cc = join(dir, 'renew.cc');
  execFileSync('kinit', ['-c', `FILE:${cc}`, kdc.MOUNTLESS_KDC_CLIENT], { env, input: `${kdc.MOUNTLESS_KDC_CLIENT_PASSWORD}\n`, stdio: ['pipe', 'ignore', 'pipe'] });
  const kinitTgt = (await readCCache(cc)).credentials.find((c) => c.server.name.nameString[0] === 'krbtgt')!;
  const envWithKeytab = { ...env, KRB5CCNAME: `FILE:${cc}`, KRB5_CLIENT_KTNAME: kdc.MOUNTLESS_KDC_CLIENT_KEYTAB };
  const first = await getServiceTicket(service, { env: envWithKeytab });
  t.equal(first.endtime.getTime() / 1000, kinitTgt.endtime, 'bought with the cached TGT, so it ends with it');
  const remaining = kinitTgt.endtime - Math.floor(Date.now() / 1000);
  const fresh = await getServiceTicket(service, { env: envWithKeytab, renewBeforeSec: remaining + 10, lifetimeSec: 3 * 3600 });
  t.not(fresh.sessionKey.keyvalue.toString('hex'), first.sessionKey.keyvalue.toString('hex'), 'the cached tickets were too close to their end');
  t.ok(fresh.endtime.getTime() / 1000 < kinitTgt.endtime, 'a new TGT with the shorter lifetime asked for');

  const stored = join(dir, 'stored.cc');
  await getServiceTicket(service, { env, keytab: kdc.MOUNTLESS_KDC_CLIENT_KEYTAB, ccache: `FILE:${stored}`, storeInCCache: true });
  const out = execFileSync('klist', ['-c', `FILE:${stored}`], { env, encoding: 'utf8' });
  t.match(out, `krbtgt/${kdc.MOUNTLESS_KDC_REALM}@${kdc.MOUNTLESS_KDC_REALM}`);
  t.match(out, kdc.MOUNTLESS_KDC_SERVICE);
});

t.test('named errors', async (t) => {
  await t.rejects(getInitialCredentials({ env, principal: kdc.MOUNTLESS_KDC_CLIENT, password: 'wrong' }), { code: 'ERR_KRB5_BAD_PASSWORD', krbError: 'KDC_ERR_PREAUTH_FAILED' });
  await t.rejects(getInitialCredentials({ env, principal: `nobody@${kdc.MOUNTLESS_KDC_REALM}`, password: 'x' }), { code: 'ERR_KRB5_PRINCIPAL_UNKNOWN', krbError: 'KDC_ERR_C_PRINCIPAL_UNKNOWN' });
  await t.rejects(getServiceTicket('nfs/no-such-host', { env, principal: kdc.MOUNTLESS_KDC_CLIENT, password: kdc.MOUNTLESS_KDC_CLIENT_PASSWORD }), { code: 'ERR_KRB5_PRINCIPAL_UNKNOWN', krbError: 'KDC_ERR_S_PRINCIPAL_UNKNOWN' });
  // Our clock an hour fast: the KDC refuses the encrypted timestamp.
  await t.rejects(getInitialCredentials({ env, principal: kdc.MOUNTLESS_KDC_CLIENT, password: kdc.MOUNTLESS_KDC_CLIENT_PASSWORD, now: () => new Date(Date.now() + 3600_000) }), { code: 'ERR_KRB5_CLOCK_SKEW', krbError: 'KRB_AP_ERR_SKEW' });
  await t.rejects(getInitialCredentials({ env, principal: kdc.MOUNTLESS_KDC_CLIENT, password: 'x', kdc: '127.0.0.1:1', timeoutMs: 2000 }), { code: 'ERR_KRB5_KDC_UNREACHABLE', message: /127\.0\.0\.1:1: ECONNREFUSED/ });
  await t.rejects(getServiceTicket(service, { env }), { code: 'ERR_KRB5_NO_CREDENTIALS', message: /none\.cc/ });
  // A keytab holding another password's keys: the KDC's PREAUTH_FAILED is reported as such.
  const bad = join(dir, 'stale.keytab');
  const entries = await readKeytab(kdc.MOUNTLESS_KDC_CLIENT_KEYTAB);
  const { writeKeytab } = await import('../../src/krb5/files/keytab.js');
  await writeKeytab(bad, entries.map((e) => ({ ...e, key: { ...e.key, keyvalue: Buffer.alloc(e.key.keyvalue.length, 1) } })));
  await t.rejects(getInitialCredentials({ env, keytab: bad }), { code: 'ERR_KRB5_BAD_PASSWORD' });
  t.ok(krb5Context({ env }).realm === kdc.MOUNTLESS_KDC_REALM, 'default_realm from KRB5_CONFIG');
});
