import t from 'tap';
import { keysFor, parseKeytab, serializeKeytab, keytabPath, type KeytabEntry } from '../../src/krb5/files/keytab.js';
import { findCredential, parseCCache, serializeCCache, storeCredential, ccachePath, type CCache, type Credential } from '../../src/krb5/files/ccache.js';
import { configFromProfile, parseKdcAddress, parseProfile } from '../../src/krb5/files/config.js';
import { resolveEnvironment } from '../../src/krb5/files/env.js';
import { parsePrincipal } from '../../src/krb5/messages/types.js';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const alice = parsePrincipal('alice@R');
const entry = (kvno: number, keytype: number, fill: number): KeytabEntry => ({ principal: alice, timestamp: 1700000000, kvno, key: { keytype, keyvalue: Buffer.alloc(keytype === 17 ? 16 : 32, fill) } });

t.test('keytab round trip, holes, kvno32, newest keys', async (t) => {
  const entries = [entry(1, 18, 1), entry(2, 18, 2), entry(2, 17, 3), entry(300, 18, 4)];
  const buf = serializeKeytab(entries);
  t.same(parseKeytab(buf), entries);
  // A deleted record (negative size) between two entries is skipped.
  const one = serializeKeytab([entry(1, 18, 1)]).subarray(2);
  const hole = Buffer.alloc(4 + 20);
  hole.writeInt32BE(-20, 0);
  t.same(parseKeytab(Buffer.concat([Buffer.from([5, 2]), one, hole, one])).length, 2);
  t.same(keysFor(entries, alice).map((e) => e.kvno), [300]);
  t.same(keysFor(entries, alice, 2).map((e) => e.key.keytype), [18, 17]);
  t.same(keysFor(entries, parsePrincipal('bob@R')), []);
  t.throws(() => parseKeytab(Buffer.from([5, 1])), { code: 'ERR_KRB5_UNSUPPORTED' });
  for (let i = 7; i < buf.length; i += 5) {
    if (i === buf.length) continue;
    const cut = buf.subarray(0, i);
    try {
      parseKeytab(cut);
    } catch (err) {
      t.match(err, { code: 'ERR_KRB5_DECODE' }, `cut at ${i}`);
    }
  }
  t.equal(keytabPath('FILE:/a/b'), '/a/b');
  t.equal(keytabPath('/a/b'), '/a/b');
  t.throws(() => keytabPath('MEMORY:x'), { code: 'ERR_KRB5_UNSUPPORTED' });
});

t.test('ccache v4 round trip and lookups', async (t) => {
  const tgs = parsePrincipal('krbtgt/R@R');
  const nfs = parsePrincipal('nfs/nas@R');
  const cred = (server: typeof tgs, endtime: number): Credential => ({
    client: alice, server, key: { keytype: 18, keyvalue: Buffer.alloc(32, 5) }, authtime: 100, starttime: 100, endtime, renewTill: 0,
    isSkey: false, flags: 0x40e10000, addresses: [], authdata: [{ type: 1, data: Buffer.from('ad') }], ticket: Buffer.from('ticket'), secondTicket: Buffer.alloc(0),
  });
  const conf: Credential = { ...cred(parsePrincipal('krb5_ccache_conf_data/pa_type/krbtgt\\/R\\@R@X-CACHECONF:'), 0), ticket: Buffer.from('2') };
  const cc: CCache = { timeOffset: { sec: -3, usec: 5 }, principal: alice, credentials: [conf, cred(tgs, 2000)] };
  const buf = serializeCCache(cc);
  t.same(parseCCache(buf), cc);
  t.equal(findCredential(cc, tgs, 1000)?.endtime, 2000);
  t.equal(findCredential(cc, tgs, 3000), undefined, 'expired tickets are not found');
  const more = storeCredential(storeCredential(cc, cred(nfs, 5000)), cred(nfs, 6000));
  t.equal(more.credentials.length, 3);
  t.equal(findCredential(more, nfs, 1000)?.endtime, 6000);
  t.same(parseCCache(serializeCCache({ principal: alice, credentials: [] })), { principal: alice, credentials: [] });
  // A cut either fails to decode or, at a credential boundary, is a shorter valid cache.
  let boundaries = 0;
  for (let i = 1; i < buf.length; i++) {
    try {
      t.ok(parseCCache(buf.subarray(0, i)).credentials.length < cc.credentials.length);
      boundaries++;
    } catch (err) {
      t.match(err, { code: 'ERR_KRB5_DECODE' });
    }
  }
  t.equal(boundaries, 2, 'after the default principal and after the first credential');
  const bogus = Buffer.from(buf);
  bogus.writeUInt32BE(0x7fffffff, 2 + 2 + 12 + 4); // component count of the default principal
  t.throws(() => parseCCache(bogus), { code: 'ERR_KRB5_DECODE', message: /components/ });
  t.throws(() => parseCCache(Buffer.from([5, 1, 0, 0])), { code: 'ERR_KRB5_UNSUPPORTED' });
  t.equal(ccachePath('FILE:/tmp/x'), '/tmp/x');
  t.throws(() => ccachePath('KEYRING:persistent:0'), { code: 'ERR_KRB5_UNSUPPORTED', message: /KEYRING/ });
});

t.test('krb5.conf: libdefaults, realms with several KDCs, comments, errors', async (t) => {
  const text = `
# comment
[libdefaults]
  default_realm = MOUNTLESS.TEST
  clockskew = 120
  ; another comment
[realms]
  MOUNTLESS.TEST = {
    kdc = 127.0.0.1:8888
    kdc = tcp/kdc2.example
    admin_server = 127.0.0.1:8749
    auth_to_local = {
      x = y
    }
  }
  OTHER.TEST = {
    kdc = [::1]:99
  }*
[domain_realm]
  .example = MOUNTLESS.TEST
`;
  const cfg = configFromProfile(parseProfile(text));
  t.equal(cfg.defaultRealm, 'MOUNTLESS.TEST');
  t.equal(cfg.clockskew, 120);
  t.same(cfg.realms.get('MOUNTLESS.TEST')?.kdc, ['127.0.0.1:8888', 'tcp/kdc2.example']);
  t.same(cfg.realms.get('OTHER.TEST')?.kdc, ['[::1]:99']);
  t.same(parseKdcAddress('127.0.0.1:8888'), { host: '127.0.0.1', port: 8888 });
  t.same(parseKdcAddress('tcp/kdc2.example'), { host: 'kdc2.example', port: 88, transport: 'tcp' });
  t.same(parseKdcAddress('[::1]:99'), { host: '::1', port: 99 });
  t.throws(() => parseProfile('[a]\nx = {\n'), { code: 'ERR_KRB5_CONFIG', message: /never closed/ });
  t.throws(() => parseProfile('x = 1'), { code: 'ERR_KRB5_CONFIG', message: /krb5\.conf:1/ });
  t.throws(() => parseProfile('[a]\n}\n'), { code: 'ERR_KRB5_CONFIG' });
  t.equal(configFromProfile(parseProfile('')).clockskew, 300);
});

t.test('environment as MIT tools read it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'krb5-env-'));
  writeFileSync(join(dir, 'a.conf'), '[libdefaults]\n default_realm = A.TEST\n default_client_keytab_name = FILE:/k/%{uid}.keytab\n');
  const e1 = resolveEnvironment({ KRB5_CONFIG: `${join(dir, 'missing.conf')}:${join(dir, 'a.conf')}` }, 1234);
  t.equal(e1.config.defaultRealm, 'A.TEST');
  t.equal(e1.ccache, 'FILE:/tmp/krb5cc_1234');
  t.equal(e1.clientKeytab, 'FILE:/k/1234.keytab');
  const e2 = resolveEnvironment({ KRB5_CONFIG: join(dir, 'a.conf'), KRB5CCNAME: 'FILE:/x/cc', KRB5_CLIENT_KTNAME: '/x/kt' }, 1);
  t.equal(e2.ccache, 'FILE:/x/cc');
  t.equal(e2.clientKeytab, '/x/kt');
});

t.test('include and includedir are followed as MIT does', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'krb5-inc-'));
  const d = join(dir, 'krb5.conf.d');
  mkdirSync(d);
  writeFileSync(join(dir, 'main.conf'), `includedir ${d}\ninclude ${join(dir, 'extra')}\n[libdefaults]\n default_realm = MAIN.TEST\n`);
  writeFileSync(join(d, 'realm.conf'), '[realms]\n MAIN.TEST = {\n  kdc = a:1\n }\n');
  writeFileSync(join(d, 'backup.conf~'), '[realms]\n MAIN.TEST = {\n  kdc = skipped:1\n }\n');
  writeFileSync(join(dir, 'extra'), `[realms]\n MAIN.TEST = {\n  kdc = b:2\n }\ninclude ${join(dir, 'main.conf')}\n`);
  const cfg = resolveEnvironment({ KRB5_CONFIG: join(dir, 'main.conf') }, 0).config;
  t.equal(cfg.defaultRealm, 'MAIN.TEST');
  t.same(cfg.realms.get('MAIN.TEST')?.kdc, ['a:1', 'b:2'], 'editor backups skipped, an include cycle read once');
  writeFileSync(join(dir, 'bad.conf'), 'include relative.conf\n');
  t.throws(() => resolveEnvironment({ KRB5_CONFIG: join(dir, 'bad.conf') }, 0), { code: 'ERR_KRB5_CONFIG', message: /not absolute/ });
  writeFileSync(join(dir, 'missing.conf'), `include ${join(dir, 'nope')}\n`);
  t.throws(() => resolveEnvironment({ KRB5_CONFIG: join(dir, 'missing.conf') }, 0), { code: 'ERR_KRB5_CONFIG', message: /nope/ });
});
