import t from 'tap';
import { enctypeOf, KeyUsage } from '../../src/krb5/crypto/index.js';
import type { Credentials } from '../../src/krb5/credentials.js';
import type { KeytabEntry } from '../../src/krb5/files/keytab.js';
import { GssAcceptor } from '../../src/krb5/gss/acceptor.js';
import { GssFlags } from '../../src/krb5/gss/context.js';
import { frameContextToken, unframeContextToken } from '../../src/krb5/gss/framing.js';
import { GssInitiator } from '../../src/krb5/gss/initiator.js';
import { KrbErrorCode } from '../../src/krb5/messages/krb-error.js';
import { encEncTicketPart, encTicket, ticketFromDer } from '../../src/krb5/messages/ticket.js';
import { parsePrincipal } from '../../src/krb5/messages/types.js';

const alice = parsePrincipal('alice@R');
const nfs = parsePrincipal('nfs/nas@R');

/** What a KDC would hand out: a service ticket sealed in the service key, and that key as a keytab. */
function mint(etype: number, now = new Date()): { creds: Credentials; keytab: KeytabEntry[] } {
  const e = enctypeOf(etype);
  const serviceKey = e.randomKey();
  const sessionKey = { keytype: etype, keyvalue: e.randomKey() };
  const endtime = new Date(now.getTime() + 3600_000);
  const part = encEncTicketPart({ flags: 0, key: sessionKey, client: alice, authtime: now, endtime });
  const ticket = ticketFromDer(encTicket(nfs, { etype, kvno: 3, cipher: e.encrypt(serviceKey, KeyUsage.KDC_REP_TICKET, part) }));
  return {
    creds: { client: alice, server: nfs, sessionKey, ticket, flags: 0, authtime: now, endtime },
    keytab: [{ principal: nfs, timestamp: 0, kvno: 3, key: { keytype: etype, keyvalue: serviceKey } }],
  };
}

function establish(etype: number, flags?: number, acceptorSubkey = true): { ini: GssInitiator; acc: GssAcceptor } {
  const { creds, keytab } = mint(etype);
  const ini = new GssInitiator(creds, flags === undefined ? {} : { flags });
  const acc = GssAcceptor.accept(ini.initialToken(), keytab, { acceptorSubkey });
  if (acc.replyToken) ini.step(acc.replyToken);
  return { ini, acc };
}

t.test('context, MIC and Wrap both ways for every enctype', async (t) => {
  for (const etype of [17, 18, 19, 20]) {
    const { ini, acc } = establish(etype);
    t.ok(ini.established && acc.established);
    t.same(ini.sessionKey, acc.sessionKey, 'both sides use the acceptor subkey');
    t.same(acc.peer, alice);
    for (const conf of [true, false]) {
      for (const len of [0, 1, 16, 1000]) {
        const m = Buffer.alloc(len, 0x5a);
        const w = ini.wrap(m, conf);
        t.match(acc.unwrap(w), { message: m, conf }, `${etype} initiator->acceptor conf=${conf} len=${len}`);
        t.same(ini.unwrap(acc.wrap(m, conf)).message, m, `${etype} acceptor->initiator conf=${conf} len=${len}`);
        if (conf && len >= 16) t.notOk(w.includes(m), 'sealed tokens do not carry the plaintext');
        if (!conf && len > 0) t.ok(w.includes(m), 'integrity-only tokens carry the plaintext');
      }
    }
    const m = Buffer.from('verifier');
    t.ok(acc.verifyMic(m, ini.getMic(m)) >= 0n);
    t.ok(ini.verifyMic(m, acc.getMic(m)) >= 0n);
  }
});

t.test('tampering, wrong direction, wrong key are refused', async (t) => {
  const { ini, acc } = establish(18);
  const w = ini.wrap(Buffer.from('payload'), true);
  const bad = Buffer.from(w);
  bad[bad.length - 3]! ^= 1;
  t.throws(() => acc.unwrap(bad), { code: 'ERR_KRB5_INTEGRITY' });
  const hdr = Buffer.from(ini.wrap(Buffer.from('payload'), true));
  hdr[15]! ^= 1; // SND_SEQ in clear differs from the encrypted copy
  t.throws(() => acc.unwrap(hdr), { code: 'ERR_KRB5_INTEGRITY', message: /header copy/ });
  const mic = Buffer.from(ini.getMic(Buffer.from('x')));
  t.throws(() => acc.verifyMic(Buffer.from('y'), mic), { code: 'ERR_KRB5_INTEGRITY' });
  t.throws(() => ini.unwrap(ini.wrap(Buffer.from('reflected'))), { code: 'ERR_KRB5_GSS', message: /direction/ }, 'our own token reflected back');
  const other = establish(18);
  t.throws(() => other.acc.unwrap(ini.wrap(Buffer.from('x'))), { code: 'ERR_KRB5_INTEGRITY' }, 'another context\'s key');
  t.throws(() => acc.unwrap(mic), { code: 'ERR_KRB5_GSS', message: /not a Wrap/ });
  t.throws(() => acc.unwrap(Buffer.alloc(10)), { code: 'ERR_KRB5_GSS' });
});

t.test('RRC: a rotated sealed token (as Windows sends) unwraps', async (t) => {
  const { ini, acc } = establish(18);
  const w = ini.wrap(Buffer.from('rotated payload'), true);
  const body = w.subarray(16);
  const rrc = 28;
  const rotated = Buffer.concat([w.subarray(0, 16), body.subarray(body.length - rrc), body.subarray(0, body.length - rrc)]);
  rotated.writeUInt16BE(rrc, 6);
  t.equal(acc.unwrap(rotated).message.toString(), 'rotated payload');
});

t.test('sequence numbers: replay and order checks only when the flags ask', async (t) => {
  const plain = establish(18);
  const w = plain.ini.wrap(Buffer.from('a'));
  plain.acc.unwrap(w);
  t.doesNotThrow(() => plain.acc.unwrap(w), 'RPCSEC_GSS-style context: no replay check');
  const replay = establish(18, GssFlags.MUTUAL | GssFlags.REPLAY);
  const w1 = replay.ini.wrap(Buffer.from('1'));
  const w2 = replay.ini.wrap(Buffer.from('2'));
  replay.acc.unwrap(w2);
  replay.acc.unwrap(w1);
  t.throws(() => replay.acc.unwrap(w1), { code: 'ERR_KRB5_GSS', message: /GSS_S_DUPLICATE_TOKEN/ });
  const seq = establish(18, GssFlags.MUTUAL | GssFlags.SEQUENCE);
  const s1 = seq.ini.getMic(Buffer.from('1'));
  const s2 = seq.ini.getMic(Buffer.from('2'));
  t.throws(() => seq.acc.verifyMic(Buffer.from('2'), s2), { code: 'ERR_KRB5_GSS', message: /GSS_S_GAP_TOKEN/ });
  t.doesNotThrow(() => seq.acc.verifyMic(Buffer.from('1'), s1));
});

t.test('without mutual authentication, and without an acceptor subkey', async (t) => {
  const { creds, keytab } = mint(17);
  const ini = new GssInitiator(creds, { flags: GssFlags.INTEG | GssFlags.CONF });
  const acc = GssAcceptor.accept(ini.initialToken(), keytab);
  t.equal(acc.replyToken, undefined);
  t.ok(ini.established, 'ready after the first token');
  t.equal(acc.unwrap(ini.wrap(Buffer.from('x'))).message.toString(), 'x');
  t.equal(ini.unwrap(acc.wrap(Buffer.from('y'))).message.toString(), 'y');
  const noSub = establish(20, undefined, false);
  t.equal(noSub.acc.unwrap(noSub.ini.wrap(Buffer.from('z'))).message.toString(), 'z');
  t.equal(noSub.ini.wrap(Buffer.from('z'))[2]! & 0x04, 0, 'AcceptorSubkey flag clear');
});

t.test('context establishment errors are named', async (t) => {
  const { creds, keytab } = mint(18);
  const ini = new GssInitiator(creds);
  const tok = ini.initialToken();
  t.throws(() => GssAcceptor.accept(tok, keytab, { now: () => new Date(Date.now() + 3600_000) }), { code: 'ERR_KRB5_CLOCK_SKEW', krbError: 'KRB_AP_ERR_SKEW' });
  t.throws(() => GssAcceptor.accept(tok, mint(18).keytab), { code: 'ERR_KRB5_INTEGRITY' }, 'a keytab with another key for the service');
  const late = mint(18, new Date(Date.now() - 7200_000));
  t.throws(() => GssAcceptor.accept(new GssInitiator(late.creds).initialToken(), late.keytab), { code: 'ERR_KRB5_AP_ERROR', krbError: 'KRB_AP_ERR_TKT_EXPIRED' });
  const early = mint(18, new Date(Date.now() + 7200_000));
  t.throws(() => GssAcceptor.accept(new GssInitiator(early.creds).initialToken(), early.keytab), { code: 'ERR_KRB5_AP_ERROR', krbError: 'KRB_AP_ERR_TKT_NYV' });
  t.throws(() => GssAcceptor.accept(tok, []), { code: 'ERR_KRB5_AP_ERROR', krbError: 'KRB_AP_ERR_NOKEY' });
  t.throws(() => ini.step(GssAcceptor.errorToken(KrbErrorCode.KRB_AP_ERR_SKEW, nfs)), { code: 'ERR_KRB5_CLOCK_SKEW', krbError: 'KRB_AP_ERR_SKEW' });
  t.throws(() => ini.step(GssAcceptor.errorToken(KrbErrorCode.KRB_AP_ERR_MODIFIED, nfs)), { code: 'ERR_KRB5_AP_ERROR', krbError: 'KRB_AP_ERR_MODIFIED' });
  // An AP-REP under another session key is not from the service we asked for.
  const a = mint(18);
  const b = mint(18);
  const iniA = new GssInitiator(a.creds);
  iniA.initialToken();
  const repB = GssAcceptor.accept(new GssInitiator(b.creds).initialToken(), b.keytab).replyToken!;
  t.throws(() => iniA.step(repB), { code: 'ERR_KRB5_AP_ERROR', krbError: 'KRB_AP_ERR_MUT_FAIL' });
  // A replayed AP-REP of an earlier context with the same ticket does not echo this authenticator's time.
  const first = new GssInitiator(a.creds, { now: () => new Date(Date.now() - 5000) });
  const oldRep = GssAcceptor.accept(first.initialToken(), a.keytab).replyToken!;
  const second = new GssInitiator(a.creds);
  second.initialToken();
  t.throws(() => second.step(oldRep), { code: 'ERR_KRB5_AP_ERROR', message: /echo/ });
  t.throws(() => new GssInitiator(a.creds).step(oldRep), { code: 'ERR_KRB5_GSS', message: /before initialToken/ });
});

t.test('context token framing', async (t) => {
  const tok = frameContextToken(0x0100, Buffer.alloc(300, 1));
  t.same(unframeContextToken(tok), { tokId: 0x0100, message: Buffer.alloc(300, 1) });
  const wrongOid = Buffer.from(tok);
  wrongOid[10] = 0x03;
  t.throws(() => unframeContextToken(wrongOid), { code: 'ERR_KRB5_GSS', message: /not krb5/ });
  t.throws(() => unframeContextToken(tok.subarray(0, tok.length - 1)), { code: 'ERR_KRB5_GSS', message: /length/ });
  t.throws(() => unframeContextToken(Buffer.from([0x30, 0])), { code: 'ERR_KRB5_GSS' });
});
