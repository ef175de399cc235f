// RPCSEC_GSS (src/rpc/gss) against an in-process fake server that speaks the
// server side of RFC 2203 with the krb5 acceptor: the happy path for every
// service, and hostile or unlucky replies (forged verifiers, tampered
// integrity, wrong seq_num, refused INIT, CTXPROBLEM, retransmission,
// seq_window). The fake decodes credentials with its own few lines.
import t, { type Test } from 'tap';
import { enctypeOf, KeyUsage } from '../../src/krb5/crypto/index.js';
import type { Credentials } from '../../src/krb5/credentials.js';
import type { KeytabEntry } from '../../src/krb5/files/keytab.js';
import { GssAcceptor } from '../../src/krb5/gss/acceptor.js';
import { GssInitiator } from '../../src/krb5/gss/initiator.js';
import { encEncTicketPart, encTicket, ticketFromDer } from '../../src/krb5/messages/ticket.js';
import { parsePrincipal } from '../../src/krb5/messages/types.js';
import { RpcClient } from '../../src/rpc/client.js';
import { GssSession, RpcGssError, type GssMechanism } from '../../src/rpc/gss/index.js';
import { FakeRpcServer, u32, type FakeCall } from './fake-rpc-server.js';

const PROG = 400123;
const VERS = 1;
const ECHO = 1;

function mint(): { creds: Credentials; keytab: KeytabEntry[] } {
  const e = enctypeOf(18);
  const serviceKey = e.randomKey();
  const now = new Date();
  const sessionKey = { keytype: 18, keyvalue: e.randomKey() };
  const alice = parsePrincipal('alice@R');
  const nfs = parsePrincipal('nfs/nas@R');
  const endtime = new Date(now.getTime() + 3600_000);
  const part = encEncTicketPart({ flags: 0, key: sessionKey, client: alice, authtime: now, endtime });
  const ticket = ticketFromDer(encTicket(nfs, { etype: 18, kvno: 1, cipher: e.encrypt(serviceKey, KeyUsage.KDC_REP_TICKET, part) }));
  return {
    creds: { client: alice, server: nfs, sessionKey, ticket, flags: 0, authtime: now, endtime },
    keytab: [{ principal: nfs, timestamp: 0, kvno: 1, key: { keytype: 18, keyvalue: serviceKey } }],
  };
}

function opaque(b: Buffer): Buffer {
  const pad = (4 - (b.length % 4)) % 4;
  return Buffer.concat([u32(b.length), b, Buffer.alloc(pad)]);
}

interface GssCred {
  vers: number;
  proc: number;
  seq: number;
  service: number;
  handle: Buffer;
}

function parseCred(body: Buffer): GssCred {
  const len = body.readUInt32BE(16);
  return { vers: body.readUInt32BE(0), proc: body.readUInt32BE(4), seq: body.readUInt32BE(8), service: body.readUInt32BE(12), handle: body.subarray(20, 20 + len) };
}

/** The header bytes the call verifier covers, rebuilt from what the fake parsed. */
function callHead(c: FakeCall): Buffer {
  return Buffer.concat([u32(c.xid, 0, 2, c.prog, c.vers, c.proc, c.cred.flavor, c.cred.body.length), c.cred.body]);
}

/** MSG_ACCEPTED SUCCESS with an RPCSEC_GSS verifier. */
function gssReply(c: FakeCall, verf: Buffer, results: Buffer): void {
  c.replyRaw(Buffer.concat([u32(c.xid, 1, 0, 6), opaque(verf), u32(0), results]));
}

interface Hooks {
  window?: number;
  /** Return false to leave the DATA call unanswered. */
  onData?(c: FakeCall, cred: GssCred, ctx: GssAcceptor, args: Buffer): boolean | void;
  /** Replace the verifier of DATA replies. */
  verf?(seq: number, ctx: GssAcceptor): Buffer;
  /** Replace the results of DATA replies (after wrapping). */
  results?(body: Buffer, seq: number, ctx: GssAcceptor, service: number): Buffer;
  initReply?(c: FakeCall, acc: GssAcceptor, handle: Buffer): boolean;
}

/** A server side of RFC 2203 over the krb5 acceptor; ECHO returns its arguments. */
async function gssServer(keytab: KeytabEntry[], hooks: Hooks = {}) {
  const contexts = new Map<string, GssAcceptor>();
  const seen: { cred: GssCred; rawArgs: Buffer; xid: number }[] = [];
  let nextHandle = 1;
  const server = await FakeRpcServer.start((c) => {
    if (c.cred.flavor !== 6) return c.replyAuthError(2);
    const cred = parseCred(c.cred.body);
    seen.push({ cred, rawArgs: c.args, xid: c.xid });
    if (cred.proc === 1) {
      const token = c.args.subarray(4, 4 + c.args.readUInt32BE(0));
      const acc = GssAcceptor.accept(token, keytab);
      const handle = u32(nextHandle++);
      contexts.set(handle.toString('hex'), acc);
      if (hooks.initReply?.(c, acc, handle)) return;
      const window = hooks.window ?? 64;
      gssReply(c, acc.getMic(u32(window)), Buffer.concat([opaque(handle), u32(0, 0, window), opaque(acc.replyToken ?? Buffer.alloc(0))]));
      return;
    }
    const acc = contexts.get(cred.handle.toString('hex'));
    if (!acc) return c.replyAuthError(14);
    acc.verifyMic(callHead(c), c.verf.body);
    if (cred.proc === 3) {
      contexts.delete(cred.handle.toString('hex'));
      gssReply(c, acc.getMic(u32(cred.seq)), Buffer.alloc(0));
      return;
    }
    let args = c.args;
    if (cred.service === 2) {
      const body = c.args.subarray(4, 4 + c.args.readUInt32BE(0));
      const at = 4 + body.length + ((4 - (body.length % 4)) % 4);
      acc.verifyMic(body, c.args.subarray(at + 4, at + 4 + c.args.readUInt32BE(at)));
      args = body.subarray(4);
    } else if (cred.service === 3) {
      args = acc.unwrap(c.args.subarray(4, 4 + c.args.readUInt32BE(0))).message.subarray(4);
    }
    if (hooks.onData?.(c, cred, acc, args) === false) return;
    const body = Buffer.concat([u32(cred.seq), args]);
    let results = cred.service === 1 ? args : cred.service === 2 ? Buffer.concat([opaque(body), opaque(acc.getMic(body))]) : opaque(acc.wrap(body, true));
    if (hooks.results) results = hooks.results(body, cred.seq, acc, cred.service);
    gssReply(c, hooks.verf ? hooks.verf(cred.seq, acc) : acc.getMic(u32(cred.seq)), results);
  });
  return { server, seen, contexts };
}

function mechanism(creds: Credentials): GssMechanism & { starts: number } {
  const m = {
    name: 'krb5',
    starts: 0,
    async start() {
      m.starts++;
      const context = new GssInitiator(creds);
      return { token: context.initialToken(), context, expiresAt: creds.endtime.getTime() };
    },
  };
  return m;
}

function echo(rpc: RpcClient, payload: Buffer): Promise<Buffer> {
  return rpc.call({ prog: PROG, vers: VERS, proc: ECHO, name: 'ECHO' }, (w) => w.opaque(payload), (r) => Buffer.from(r.opaque()));
}

async function setup(t: Test, service: 1 | 2 | 3, hooks?: Hooks, rpcOpts: Partial<ConstructorParameters<typeof RpcClient>[0]> = {}) {
  const { creds, keytab } = mint();
  const s = await gssServer(keytab, hooks);
  const mech = mechanism(creds);
  const session = new GssSession({ mechanism: mech, service, prog: PROG, vers: VERS, timeout: 5000 });
  const rpc = new RpcClient({ host: s.server.host, port: s.server.port, auth: session.credential, timeout: 5000, ...rpcOpts });
  t.teardown(async () => {
    await rpc.close();
    await s.server.close();
  });
  return { ...s, rpc, session, mech };
}

t.test('every service: context over NULL, DATA echoed, arguments sealed only under privacy', async (t) => {
  for (const service of [1, 2, 3] as const) {
    const { rpc, seen, session } = await setup(t, service);
    const payload = Buffer.from(`SECRET-MARKER-${service}`.repeat(20));
    t.same(await echo(rpc, payload), payload, `service ${service}: echoed`);
    t.same(await echo(rpc, Buffer.alloc(0)), Buffer.alloc(0), `service ${service}: empty`);
    t.equal(session.window, 64);
    t.equal(seen[0]!.cred.proc, 1, 'first an RPCSEC_GSS_INIT');
    const data = seen.filter((s) => s.cred.proc === 0);
    t.equal(data.length, 2);
    t.ok(data[1]!.cred.seq > data[0]!.cred.seq, 'seq_num grows');
    t.equal(data[0]!.rawArgs.includes(Buffer.from('SECRET-MARKER')), service !== 3, `service ${service}: marker ${service === 3 ? 'not ' : ''}in clear`);
  }
});

t.test('a reply verifier that is not the MIC of our seq_num is a typed error', async (t) => {
  const { rpc } = await setup(t, 1, { verf: (seq, acc) => acc.getMic(u32(seq + 1)) });
  await t.rejects(echo(rpc, Buffer.from('x')), { code: 'ERR_RPC_GSS_VERIFIER', name: 'RpcGssError' });
});

t.test('a reply verifier from another key is refused too', async (t) => {
  const { rpc } = await setup(t, 3, { verf: () => Buffer.alloc(28, 1) });
  await t.rejects(echo(rpc, Buffer.from('x')), { code: 'ERR_RPC_GSS_VERIFIER' });
});

t.test('integrity: a tampered body or a seq_num we never sent is refused', async (t) => {
  const tampered = await setup(t, 2, {
    results: (body, _seq, acc) => {
      const mic = acc.getMic(body);
      const bad = Buffer.from(body);
      bad[bad.length - 1]! ^= 1;
      return Buffer.concat([opaque(bad), opaque(mic)]);
    },
  });
  await t.rejects(echo(tampered.rpc, Buffer.from('abcd')), { code: 'ERR_RPC_GSS_INTEGRITY' });
  const wrongSeq = await setup(t, 2, {
    results: (body, seq, acc) => {
      const b = Buffer.concat([u32(seq + 7), body.subarray(4)]);
      return Buffer.concat([opaque(b), opaque(acc.getMic(b))]);
    },
  });
  await t.rejects(echo(wrongSeq.rpc, Buffer.from('abcd')), { code: 'ERR_RPC_GSS_INTEGRITY', message: /seq_num/ });
});

t.test('privacy: results that do not unwrap, or come without confidentiality, are refused', async (t) => {
  const garbage = await setup(t, 3, { results: () => opaque(Buffer.alloc(64, 9)) });
  await t.rejects(echo(garbage.rpc, Buffer.from('abcd')), { code: 'ERR_RPC_GSS_PRIVACY' });
  const clear = await setup(t, 3, { results: (body, _s, acc) => opaque(acc.wrap(body, false)) });
  await t.rejects(echo(clear.rpc, Buffer.from('abcd')), { code: 'ERR_RPC_GSS_PRIVACY', message: /confidentiality/ });
});

t.test('INIT: a refused context names gss_major; a forged seq_window verifier is refused', async (t) => {
  const refused = await setup(t, 1, {
    initReply: (c) => {
      gssReply(c, Buffer.alloc(0), Buffer.concat([opaque(Buffer.alloc(0)), u32(13 << 16, 5, 0), opaque(Buffer.alloc(0))]));
      return true;
    },
  });
  const err = await echo(refused.rpc, Buffer.from('x')).catch((e: unknown) => e);
  t.type(err, RpcGssError);
  t.match(err, { code: 'ERR_RPC_GSS_INIT', gssMajor: 13 << 16, message: /GSS_S_FAILURE/ });
  const forged = await setup(t, 1, {
    initReply: (c, acc, handle) => {
      gssReply(c, acc.getMic(u32(99)), Buffer.concat([opaque(handle), u32(0, 0, 64), opaque(acc.replyToken!)]));
      return true;
    },
  });
  await t.rejects(echo(forged.rpc, Buffer.from('x')), { code: 'ERR_RPC_GSS_VERIFIER', message: /seq_window/ });
});

t.test('RPCSEC_GSS_CTXPROBLEM and CREDPROBLEM: a new context, the call re-sent and answered', async (t) => {
  for (const stat of [13, 14]) {
    let refused = 0;
    const { rpc, mech, seen } = await setup(t, 2, {
      onData: (c) => {
        if (refused++ === 0) {
          c.replyAuthError(stat);
          return false;
        }
        return true;
      },
    });
    t.same(await echo(rpc, Buffer.from('again')), Buffer.from('again'), `auth_stat ${stat}: answered`);
    t.equal(mech.starts, 2, 'a second context was made');
    const data = seen.filter((s) => s.cred.proc === 0);
    t.equal(data.length, 2);
    t.equal(data[0]!.xid, data[1]!.xid, 're-sent with the same xid');
    t.not(data[0]!.cred.handle.toString('hex'), data[1]!.cred.handle.toString('hex'), 'under the new context');
  }
});

t.test('calls in flight when the context is refused all recover, with one new context', async (t) => {
  let refusing = true;
  const held: FakeCall[] = [];
  const { rpc, mech } = await setup(t, 1, {
    onData: (c) => {
      if (!refusing) return true;
      held.push(c);
      if (held.length === 5) {
        refusing = false;
        for (const h of held) h.replyAuthError(14);
      }
      return false;
    },
  });
  const out = await Promise.all(Array.from({ length: 5 }, (_, i) => echo(rpc, Buffer.from(`c${i}`))));
  t.same(out.map(String), ['c0', 'c1', 'c2', 'c3', 'c4']);
  t.equal(mech.starts, 2, 'one new context for all of them');
});

t.test('a retransmission carries a fresh seq_num (same xid); a reply to either transmission is accepted', async (t) => {
  for (const answer of ['first', 'second'] as const) {
    const seqs: number[] = [];
    const { rpc, seen } = await setup(
      t,
      2,
      {
        onData: (c, cred, acc, args) => {
          seqs.push(cred.seq);
          if (seqs.length < 2) return false; // the first transmission goes unanswered
          if (answer === 'second') return true;
          // Answered as the first transmission: its seq_num in the verifier and the body.
          const body = Buffer.concat([u32(seqs[0]!), args]);
          gssReply(c, acc.getMic(u32(seqs[0]!)), Buffer.concat([opaque(body), opaque(acc.getMic(body))]));
          return false;
        },
      },
      { retry: { timeo: 50, retrans: 5, hard: true } },
    );
    t.same(await echo(rpc, Buffer.from('retry-me')), Buffer.from('retry-me'), `reply to the ${answer} transmission accepted`);
    const data = seen.filter((s) => s.cred.proc === 0);
    t.ok(data.length >= 2, 'sent more than once');
    t.equal(data[0]!.xid, data[1]!.xid, 'same xid');
    t.not(data[0]!.cred.seq, data[1]!.cred.seq, 'fresh seq_num');
    t.ok(rpc.stats.retransmits >= 1);
  }
});

t.test("the server's seq_window caps the calls on the wire", async (t) => {
  const held: FakeCall[] = [];
  let holding = false;
  const { rpc, session } = await setup(t, 1, {
    window: 4,
    onData: (c) => {
      if (!holding) return true;
      held.push(c);
      return false;
    },
  });
  await echo(rpc, Buffer.alloc(0));
  holding = true;
  const done = Promise.allSettled(Array.from({ length: 12 }, (_, i) => echo(rpc, Buffer.from([i]))));
  await new Promise((r) => setTimeout(r, 200));
  t.equal(session.window, 4);
  t.equal(held.length, 4, 'only seq_window calls went out');
  t.equal(rpc.pending, 12, 'the rest wait their turn');
  await rpc.close();
  t.ok((await done).every((r) => r.status === 'rejected'), 'closing fails the held calls');
});

t.test('close() destroys the context (RPCSEC_GSS_DESTROY with its handle)', async (t) => {
  const { creds, keytab } = mint();
  const s = await gssServer(keytab);
  t.teardown(() => s.server.close());
  const session = new GssSession({ mechanism: mechanism(creds), service: 3, prog: PROG, vers: VERS, timeout: 5000 });
  const rpc = new RpcClient({ host: s.server.host, port: s.server.port, auth: session.credential });
  await echo(rpc, Buffer.from('x'));
  t.equal(s.contexts.size, 1);
  await rpc.close();
  const destroy = s.seen.find((x) => x.cred.proc === 3);
  t.ok(destroy, 'RPCSEC_GSS_DESTROY sent');
  t.equal(s.contexts.size, 0, 'the server dropped the context');
});

t.test('near the end of its ticket the context is replaced in the background; calls on the old one still verify', async (t) => {
  const { creds, keytab } = mint();
  let now = Date.now();
  let held: FakeCall | undefined;
  let holdNext = false;
  const s = await gssServer(keytab, {
    onData: (c) => {
      if (!holdNext) return true;
      holdNext = false;
      held = c;
      return false;
    },
  });
  t.teardown(() => s.server.close());
  const mech = mechanism({ ...creds, endtime: new Date(now + 100_000) });
  const session = new GssSession({ mechanism: mech, service: 2, prog: PROG, vers: VERS, timeout: 5000, now: () => now });
  const rpc = new RpcClient({ host: s.server.host, port: s.server.port, auth: session.credential });
  t.teardown(() => rpc.close());
  t.same(await echo(rpc, Buffer.from('one')), Buffer.from('one'));
  const first = session.epoch;
  // A call on the wire under the first context, answered only after it was replaced.
  holdNext = true;
  const slow = echo(rpc, Buffer.from('slow'));
  await new Promise((r) => setTimeout(r, 50));
  t.ok(held, 'the slow call is on the wire');
  now += 95_000; // 5 s before the end: within the renewal margin
  t.same(await echo(rpc, Buffer.from('two')), Buffer.from('two'), 'a call made while renewing goes on');
  for (let i = 0; i < 50 && session.epoch === first; i++) await new Promise((r) => setTimeout(r, 10));
  t.equal(mech.starts, 2, 'a new context was made');
  t.not(session.epoch, first, 'and is in use');
  // Answer the held call under the first context: its reply must still verify.
  const heldCred = parseCred(held!.cred.body);
  const acc = s.contexts.get(heldCred.handle.toString('hex'))!;
  const args = held!.args.subarray(4, 4 + held!.args.readUInt32BE(0)).subarray(4);
  const body = Buffer.concat([u32(heldCred.seq), args]);
  gssReply(held!, acc.getMic(u32(heldCred.seq)), Buffer.concat([opaque(body), opaque(acc.getMic(body))]));
  t.same(await slow, Buffer.from('slow'), 'the reply to a call under the old context verified');
  t.same(await echo(rpc, Buffer.from('three')), Buffer.from('three'));
  const handles = new Set(s.seen.filter((x) => x.cred.proc === 0).map((x) => x.cred.handle.toString('hex')));
  t.equal(handles.size, 2, 'DATA calls went out under both contexts');
});
