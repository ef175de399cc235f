import t from 'tap';
import { XdrReader } from '../../src/xdr/reader.js';
import { XdrWriter } from '../../src/xdr/writer.js';
import { XdrDecodeError } from '../../src/xdr/errors.js';
import { authNone, authSys, AUTH_NONE, AUTH_SYS } from '../../src/rpc/auth.js';
import { decodeReplyHeader, encodeCallHeader, type CallLabel } from '../../src/rpc/message.js';
import { RpcAcceptedError, RpcDeniedError } from '../../src/rpc/errors.js';

function u32(...v: number[]): Buffer {
  const b = Buffer.alloc(v.length * 4);
  v.forEach((x, i) => b.writeUInt32BE(x >>> 0, i * 4));
  return b;
}

const CALL: CallLabel = { prog: 100003, vers: 3, proc: 1, name: 'NFSPROC3_GETATTR' };
const ANON: CallLabel = { prog: 100005, vers: 3, proc: 5 };

/** The reply body after xid and msg_type, as decodeReplyHeader expects. */
function accepted(stat: number, ...rest: number[]): Buffer {
  return u32(0 /* MSG_ACCEPTED */, 0, 0 /* AUTH_NONE verf */, stat, ...rest);
}

t.test('MSG_ACCEPTED / SUCCESS leaves the reader at the results', async (t) => {
  const r = new XdrReader(Buffer.concat([accepted(0), u32(0xabcdef)]));
  decodeReplyHeader(r, CALL);
  t.equal(r.u32(), 0xabcdef);
  r.done();
  // A verifier with a body (AUTH_SHORT-style) is skipped.
  const r2 = new XdrReader(Buffer.concat([u32(0, 2, 6), Buffer.from('abcdef\0\0'), u32(0, 77)]));
  decodeReplyHeader(r2, CALL);
  t.equal(r2.u32(), 77);
});

t.test('accept_stat errors surface typed, naming the call', async (t) => {
  const cases: [number, string, RegExp][] = [
    [1, 'ERR_RPC_PROG_UNAVAIL', /NFSPROC3_GETATTR: PROG_UNAVAIL \(program 100003 not served\)/],
    [3, 'ERR_RPC_PROC_UNAVAIL', /NFSPROC3_GETATTR: PROC_UNAVAIL/],
    [4, 'ERR_RPC_GARBAGE_ARGS', /GARBAGE_ARGS/],
    [5, 'ERR_RPC_SYSTEM_ERR', /SYSTEM_ERR/],
  ];
  for (const [stat, code, message] of cases) {
    const err = t.throws(() => decodeReplyHeader(new XdrReader(accepted(stat)), CALL), { name: 'RpcAcceptedError', code, message, acceptStat: stat });
    t.type(err, RpcAcceptedError);
  }
  t.throws(() => decodeReplyHeader(new XdrReader(accepted(3)), ANON), { message: /program 100005 v3 procedure 5: PROC_UNAVAIL/ }, 'unnamed calls are described by numbers');
});

t.test('PROG_MISMATCH carries low and high', async (t) => {
  const err = t.throws(() => decodeReplyHeader(new XdrReader(accepted(2, 2, 4)), CALL), {
    code: 'ERR_RPC_PROG_MISMATCH',
    acceptStat: 2,
    mismatch: { low: 2, high: 4 },
    message: /versions 2\.\.4, asked for 3/,
  });
  t.type(err, RpcAcceptedError);
  t.throws(() => decodeReplyHeader(new XdrReader(accepted(2, 2)), CALL), { code: 'ERR_XDR_DECODE' }, 'truncated mismatch_info');
});

t.test('an invalid accept_stat is a decode error', async (t) => {
  t.throws(() => decodeReplyHeader(new XdrReader(accepted(6)), CALL), { code: 'ERR_XDR_DECODE', what: 'accept_stat' });
});

t.test('MSG_DENIED / RPC_MISMATCH', async (t) => {
  const err = t.throws(() => decodeReplyHeader(new XdrReader(u32(1, 0, 2, 2)), CALL), {
    name: 'RpcDeniedError',
    code: 'ERR_RPC_MISMATCH',
    rejectStat: 0,
    mismatch: { low: 2, high: 2 },
  });
  t.type(err, RpcDeniedError);
});

t.test('MSG_DENIED / AUTH_ERROR names the auth_stat', async (t) => {
  const names: [number, string][] = [
    [1, 'AUTH_BADCRED'],
    [2, 'AUTH_REJECTEDCRED'],
    [5, 'AUTH_TOOWEAK'],
    [13, 'RPCSEC_GSS_CREDPROBLEM'],
  ];
  for (const [stat, name] of names) {
    const err = t.throws(() => decodeReplyHeader(new XdrReader(u32(1, 1, stat)), CALL), {
      name: 'RpcDeniedError',
      code: 'ERR_RPC_AUTH_ERROR',
      rejectStat: 1,
      authStat: stat,
      message: new RegExp(`NFSPROC3_GETATTR: AUTH_ERROR ${name}$`),
    });
    t.type(err, RpcDeniedError);
  }
  t.throws(() => decodeReplyHeader(new XdrReader(u32(1, 1, 99)), CALL), { code: 'ERR_RPC_AUTH_ERROR', message: /auth_stat 99/ });
});

t.test('invalid reply_stat / reject_stat and truncation are decode errors', async (t) => {
  for (const body of [u32(2), u32(0xffffffff), u32(1, 2), u32(1, 1), u32(1, 0, 2), u32(0, 0), u32(0, 0, 8), u32(0, 0, 0), u32()]) {
    const err = t.throws(() => decodeReplyHeader(new XdrReader(body), CALL), { code: 'ERR_XDR_DECODE' }, `body ${body.toString('hex')}`);
    t.type(err, XdrDecodeError);
  }
  t.throws(() => decodeReplyHeader(new XdrReader(u32(7)), CALL), { what: 'reply_stat', message: /invalid reply_stat 7 in reply to NFSPROC3_GETATTR/ });
  t.throws(() => decodeReplyHeader(new XdrReader(u32(0, 0, 401)), CALL), { code: 'ERR_XDR_DECODE' }, 'verifier over 400 bytes');
});

t.test('AUTH_SYS credential matches RFC 5531 layout', async (t) => {
  const cred = authSys({ uid: 1000, gid: 100, gids: [4, 24, 0xfffffffe], machineName: 'héte', stamp: 0x01020304 });
  t.equal(cred.flavor, AUTH_SYS);
  const b = cred.encoded;
  const machine = Buffer.from('héte'); // 5 bytes -> padded to 8
  const bodyLen = 4 + (4 + 8) + 4 + 4 + 4 + 3 * 4;
  t.equal(b.length, 8 + bodyLen);
  const expected = Buffer.concat([
    u32(1 /* AUTH_SYS */, bodyLen, 0x01020304 /* stamp */, machine.length),
    machine,
    Buffer.alloc(3),
    u32(1000 /* uid */, 100 /* gid */, 3 /* gids count */, 4, 24, 0xfffffffe),
  ]);
  t.same([...b], [...expected], 'byte for byte');

  // Decoded back with the generic reader.
  const r = new XdrReader(b);
  t.equal(r.u32(), AUTH_SYS);
  const body = new XdrReader(r.opaque(400));
  t.equal(body.u32(), 0x01020304);
  t.equal(body.string(255), 'héte');
  t.equal(body.u32(), 1000);
  t.equal(body.u32(), 100);
  t.same(body.array(16, 4, (x) => x.u32()), [4, 24, 0xfffffffe]);
  body.done();
  r.done();
});

t.test('AUTH_SYS limits and defaults', async (t) => {
  const sixteen = Array.from({ length: 16 }, (_, i) => i);
  t.doesNotThrow(() => authSys({ uid: 0, gid: 0, gids: sixteen, machineName: 'm' }));
  t.throws(() => authSys({ uid: 0, gid: 0, gids: [...sixteen, 16], machineName: 'm' }), { name: 'RangeError', message: /at most 16/ });
  t.throws(() => authSys({ uid: -1, gid: 0 }), RangeError);
  t.throws(() => authSys({ uid: 0, gid: 2 ** 32 }), RangeError);
  t.throws(() => authSys({ uid: 0, gid: 0, gids: [1.5] }), RangeError);
  t.throws(() => authSys({ uid: 0, gid: 0, machineName: 'x'.repeat(256) }), RangeError);
  t.doesNotThrow(() => authSys({ uid: 0, gid: 0, machineName: 'x'.repeat(255) }));
  // Defaults: hostname and a current stamp; no gids.
  const cred = authSys({ uid: 5, gid: 6 });
  const body = new XdrReader(new XdrReader(cred.encoded, 4).opaque(400));
  body.u32();
  t.ok(body.string().length > 0, 'machine name defaults to the hostname');
  t.equal(body.u32(), 5);
  t.equal(body.u32(), 6);
  t.equal(body.u32(), 0, 'no supplementary gids');
  body.done();
});

t.test('AUTH_NONE is flavor 0 with an empty body', async (t) => {
  const c = authNone();
  t.equal(c.flavor, AUTH_NONE);
  t.same([...c.encoded], [0, 0, 0, 0, 0, 0, 0, 0]);
});

t.test('encodeCallHeader layout', async (t) => {
  const cred = authSys({ uid: 1, gid: 2, machineName: 'ab', stamp: 9 });
  const w = new XdrWriter();
  encodeCallHeader(w, 0xfeedface, 100003, 3, 6, cred);
  w.u32(0x11111111); // first argument word
  const b = w.toBuffer();
  const r = new XdrReader(b);
  t.equal(r.u32(), 0xfeedface, 'xid');
  t.equal(r.u32(), 0, 'msg_type CALL');
  t.equal(r.u32(), 2, 'rpcvers 2');
  t.equal(r.u32(), 100003, 'prog');
  t.equal(r.u32(), 3, 'vers');
  t.equal(r.u32(), 6, 'proc');
  t.equal(r.u32(), 1, 'cred flavor AUTH_SYS');
  const credBody = r.opaque(400);
  t.same(credBody, cred.encoded.subarray(8), 'credential body as encoded once');
  t.equal(r.u32(), 0, 'verf flavor AUTH_NONE');
  t.equal(r.u32(), 0, 'verf length 0');
  t.equal(r.u32(), 0x11111111, 'arguments follow');
  r.done();
  t.same(b.subarray(0, 24), u32(0xfeedface, 0, 2, 100003, 3, 6));
});
