// The KDC client against an in-process fake KDC: the AS exchange as the
// RFC has it (salt and s2kparams from ETYPE-INFO2), and replies no real KDC
// sends: wrong nonce, a ticket for someone else, broken framing, silence.
import t, { type Test } from 'tap';
import { asExchange } from '../../src/krb5/kdc-exchange.js';
import { sendToKdcs } from '../../src/krb5/kdc-transport.js';
import { parsePrincipal, principalToString } from '../../src/krb5/messages/types.js';
import { asService, FakeKdc, framed, type AsRealm, type KdcAction } from './fake-kdc.js';

const client = parsePrincipal('bob@FAKE.TEST');
const realm: AsRealm = { client, password: 'pw', etype: 18, salt: 'FAKE.TESTsaltier', s2kparams: Buffer.from([0, 0, 0x03, 0xe8]) };

async function kdc(t: Test, handle: (req: Buffer) => KdcAction): Promise<FakeKdc> {
  const k = await FakeKdc.start(handle);
  t.teardown(() => k.close());
  return k;
}

const exchange = (kdcs: string[], timeoutMs = 2000) => ({ send: (r: string, m: Buffer) => sendToKdcs(r, kdcs, m, { timeoutMs }) });

t.test('AS exchange uses the salt and iteration count ETYPE-INFO2 gives, for every enctype', async (t) => {
  for (const etype of [17, 18, 19, 20]) {
    const k = await kdc(t, asService({ ...realm, etype }));
    const creds = await asExchange(client, { password: 'pw' }, exchange([k.address]));
    t.equal(principalToString(creds.client), 'bob@FAKE.TEST');
    t.equal(creds.sessionKey.keytype, etype);
    t.equal(k.requests.length, 2, 'one request without pre-authentication, one with');
    await t.rejects(asExchange(client, { password: 'wrong' }, exchange([k.address])), { code: 'ERR_KRB5_BAD_PASSWORD', krbError: 'KDC_ERR_PREAUTH_FAILED' });
  }
});

t.test('hostile AS-REPs are refused', async (t) => {
  const k1 = await kdc(t, asService({ ...realm, tamper: { nonce: (n) => n ^ 1 } }));
  await t.rejects(asExchange(client, { password: 'pw' }, exchange([k1.address])), { code: 'ERR_KRB5_KDC_ERROR', message: /nonce/ });
  const k2 = await kdc(t, asService({ ...realm, tamper: { sname: parsePrincipal('krbtgt/EVIL@EVIL') } }));
  await t.rejects(asExchange(client, { password: 'pw' }, exchange([k2.address])), { code: 'ERR_KRB5_KDC_ERROR', message: /krbtgt\/EVIL@EVIL/ });
  const k3 = await kdc(t, () => framed(Buffer.from('3003020101', 'hex')));
  await t.rejects(asExchange(client, { password: 'pw' }, exchange([k3.address])), { code: 'ERR_KRB5_DECODE' });
});

t.test('framing: a reply split byte by byte is read whole', async (t) => {
  const service = asService(realm);
  const k = await kdc(t, (req) => {
    const whole = service(req) as Buffer;
    return { chunks: [...whole].map((b) => Buffer.from([b])) };
  });
  t.equal((await asExchange(client, { password: 'pw' }, exchange([k.address]))).sessionKey.keytype, 18);
});

t.test('KDCs that fail are skipped; when all fail the error says why for each', async (t) => {
  const good = await kdc(t, asService(realm));
  const closing = await kdc(t, () => 'close');
  const creds = await asExchange(client, { password: 'pw' }, exchange(['127.0.0.1:1', closing.address, good.address]));
  t.equal(creds.sessionKey.keytype, 18, 'refused, then closed, then answered');
  const highBit = await kdc(t, () => Buffer.from([0x80, 0, 0, 1, 0]));
  const huge = await kdc(t, () => Buffer.from([0x7f, 0xff, 0xff, 0xff]));
  const silent = await kdc(t, () => 'hang');
  const err = await sendToKdcs('FAKE.TEST', [highBit.address, huge.address, silent.address, closing.address], Buffer.from('x'), { timeoutMs: 300 }).catch((e: unknown) => e);
  t.match(err, { code: 'ERR_KRB5_KDC_UNREACHABLE' });
  t.match((err as Error).message, /reserved high bit/);
  t.match((err as Error).message, /exceeds the 1048576-byte limit/);
  t.match((err as Error).message, /no reply within 300 ms/);
  t.match((err as Error).message, /connection closed before a reply/);
  await t.rejects(sendToKdcs('FAKE.TEST', [], Buffer.from('x')), { code: 'ERR_KRB5_CONFIG', message: /no KDC known for realm FAKE\.TEST/ });
});
