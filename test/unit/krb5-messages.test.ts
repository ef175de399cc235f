import t from 'tap';
import { parseDer } from '../../src/krb5/der.js';
import { ApOptions, decApRep, decApReq, decAuthenticator, decEncApRepPart, encApRep, encApReq, encAuthenticator, encEncApRepPart } from '../../src/krb5/messages/ap.js';
import { decEtypeInfo2, decMethodData, encEtypeInfo2 } from '../../src/krb5/messages/kdc.js';
import { decKrbError, encKrbError, KrbErrorCode, krbErrorToError } from '../../src/krb5/messages/krb-error.js';
import { encTicket, ticketFromDer } from '../../src/krb5/messages/ticket.js';
import { encPaData, parsePrincipal, principalToString } from '../../src/krb5/messages/types.js';
import { seqOf } from '../../src/krb5/der.js';

t.test('principal names parse and print as MIT writes them', async (t) => {
  const p = parsePrincipal('nfs/nas.example@EXAMPLE.ORG');
  t.same(p, { realm: 'EXAMPLE.ORG', name: { nameType: 1, nameString: ['nfs', 'nas.example'] } });
  t.equal(parsePrincipal('nfs/nas@R', undefined, 3).name.nameType, 3);
  t.equal(principalToString(p), 'nfs/nas.example@EXAMPLE.ORG');
  t.same(parsePrincipal('alice', 'R').name, { nameType: 1, nameString: ['alice'] });
  t.same(parsePrincipal('krbtgt/R@R').name.nameType, 1);
  t.equal(principalToString(parsePrincipal('a\\/b@R')), 'a\\/b@R');
  t.throws(() => parsePrincipal('alice'), { code: 'ERR_KRB5_CONFIG' });
  t.throws(() => parsePrincipal('a//b@R'), { code: 'ERR_KRB5_CONFIG' });
});

t.test('Ticket, AP-REQ, Authenticator, AP-REP round trip', async (t) => {
  const sname = parsePrincipal('nfs/nas@R');
  const tkt = encTicket(sname, { etype: 18, kvno: 2, cipher: Buffer.from('sealed') });
  const ticket = ticketFromDer(tkt);
  t.same(ticket.sname, sname);
  t.same(ticket.encPart, { etype: 18, kvno: 2, cipher: Buffer.from('sealed') });
  t.same(ticket.der, tkt, 'the ticket keeps its encoding byte for byte');

  const apReq = encApReq(ApOptions.mutual_required, ticket.der, { etype: 18, cipher: Buffer.from('auth') });
  const back = decApReq(apReq);
  t.equal(back.apOptions, ApOptions.mutual_required);
  t.same(back.ticket.der, tkt);
  t.same(back.authenticator, { etype: 18, cipher: Buffer.from('auth') });

  const now = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
  const auth = { client: parsePrincipal('alice@R'), cksum: { cksumtype: 0x8003, checksum: Buffer.alloc(24) }, cusec: 123456, ctime: now, subkey: { keytype: 18, keyvalue: Buffer.alloc(32, 9) }, seqNumber: 0xfffffff0 };
  t.same(decAuthenticator(encAuthenticator(auth)), auth);

  const rep = { ctime: now, cusec: 123456, subkey: { keytype: 17, keyvalue: Buffer.alloc(16, 1) }, seqNumber: 42 };
  t.same(decEncApRepPart(encEncApRepPart(rep)), rep);
  t.same(decApRep(encApRep({ etype: 17, cipher: Buffer.from('x') })), { etype: 17, cipher: Buffer.from('x') });
  t.throws(() => decApRep(apReq), { code: 'ERR_KRB5_DECODE', message: /AP-REP/ });
});

t.test('ETYPE-INFO2 and METHOD-DATA', async (t) => {
  const entries = [{ etype: 18, salt: 'R.TESTalice', s2kparams: Buffer.from([0, 0, 0x10, 0]) }, { etype: 17 }];
  t.same(decEtypeInfo2(encEtypeInfo2(entries)), entries);
  const md = seqOf([encPaData({ padataType: 19, padataValue: encEtypeInfo2(entries) }), encPaData({ padataType: 2, padataValue: Buffer.alloc(0) })]);
  t.same(decMethodData(md).map((p) => p.padataType), [19, 2]);
});

t.test('KRB-ERROR decodes and maps to a named error', async (t) => {
  const base = { stime: new Date(Date.UTC(2026, 0, 1)), susec: 0, realm: 'R', sname: { nameType: 2, nameString: ['krbtgt', 'R'] } };
  const cases: [number, string, string][] = [
    [KrbErrorCode.KDC_ERR_C_PRINCIPAL_UNKNOWN, 'ERR_KRB5_PRINCIPAL_UNKNOWN', 'KDC_ERR_C_PRINCIPAL_UNKNOWN'],
    [KrbErrorCode.KDC_ERR_S_PRINCIPAL_UNKNOWN, 'ERR_KRB5_PRINCIPAL_UNKNOWN', 'KDC_ERR_S_PRINCIPAL_UNKNOWN'],
    [KrbErrorCode.KDC_ERR_PREAUTH_FAILED, 'ERR_KRB5_BAD_PASSWORD', 'KDC_ERR_PREAUTH_FAILED'],
    [KrbErrorCode.KRB_AP_ERR_SKEW, 'ERR_KRB5_CLOCK_SKEW', 'KRB_AP_ERR_SKEW'],
    [KrbErrorCode.KDC_ERR_ETYPE_NOSUPP, 'ERR_KRB5_KDC_ERROR', 'KDC_ERR_ETYPE_NOSUPP'],
    [999, 'ERR_KRB5_KDC_ERROR', 'KRB_ERROR_999'],
  ];
  for (const [n, code, name] of cases) {
    const e = decKrbError(parseDer(encKrbError({ ...base, errorCode: n, eText: 'why' }), 'KRB-ERROR'));
    t.equal(e.errorCode, n);
    t.equal(e.eText, 'why');
    const err = krbErrorToError(e, 'AS exchange for alice@R');
    t.match(err, { name: 'Krb5Error', code, krbError: name, krbErrorCode: n, message: new RegExp(`AS exchange for alice@R: ${name}.*why`) });
  }
});
