// NLM v4 arguments and results, byte for byte against the XDR of RFC 1813
// appendix II (= XNFS chapter 10). Expected bytes are built by hand below,
// not with src/xdr, so a bug there cannot hide behind the same bug here.
import t from 'tap';
import { XdrReader, XdrWriter } from '../../src/xdr/index.js';
import type { RpcClient } from '../../src/rpc/client.js';
import type { CallLabel } from '../../src/rpc/message.js';
import { NfsStatusError } from '../../src/errors.js';
import * as C from '../../src/nlm/constants.js';
import {
  decodeNlm4Res,
  decodeNlm4TestRes,
  encodeNlm4Lock,
  nlm4Cancel,
  nlm4Lock,
  nlm4Null,
  nlm4Test,
  nlm4Unlock,
  type Nlm4Lock,
} from '../../src/nlm/procedures.js';
import { NLM4_ERRNO, nlm4Error, nlm4StatsErrno, nlm4StatsName } from '../../src/nlm/status.js';

// ---- hand-built XDR ---------------------------------------------------------

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}
function i32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}
function u64(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(n);
  return b;
}
/** opaque<> / string<>: length, bytes, zero padding to 4. */
function opaque(b: Buffer | string): Buffer {
  const d = typeof b === 'string' ? Buffer.from(b) : b;
  return Buffer.concat([u32(d.length), d, Buffer.alloc((4 - (d.length % 4)) % 4)]);
}
const bool = (v: boolean) => u32(v ? 1 : 0);

const cookie = Buffer.from('c00k1e');
const fh = Buffer.from([1, 2, 3, 4, 5]);
const oh = Buffer.from('owner-handle');
const alock: Nlm4Lock = { callerName: 'client.example', fh, oh, svid: 4242, offset: 2n ** 40n + 3n, length: 0 };
/** struct nlm4_lock { string caller_name<LM_MAXSTRLEN>; netobj fh; netobj oh; int32 svid; uint64 l_offset; uint64 l_len; } */
const alockBytes = Buffer.concat([opaque('client.example'), opaque(fh), opaque(oh), i32(4242), u64(2n ** 40n + 3n), u64(0n)]);

interface RecordedCall {
  label: CallLabel;
  args: Buffer;
}

/** Stands in for RpcClient: runs the encoder as call() does (a throw becomes a rejection) and records the bytes. */
function fakeRpc(): { rpc: RpcClient; calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  const fake = {
    call(label: CallLabel, encode: ((w: XdrWriter) => void) | null) {
      const w = new XdrWriter();
      try {
        if (encode) encode(w);
      } catch (err) {
        return Promise.reject(err);
      }
      calls.push({ label, args: w.toBuffer() });
      return new Promise(() => {});
    },
  };
  return { rpc: fake as unknown as RpcClient, calls };
}

// ---- constants and statuses ----------------------------------------------------

t.test('program, version, procedure and status numbers are the spec\'s', async (t) => {
  t.equal(C.NLM_PROG, 100021);
  t.equal(C.NLM4_VERS, 4);
  t.same(
    [C.NLMPROC4_NULL, C.NLMPROC4_TEST, C.NLMPROC4_LOCK, C.NLMPROC4_CANCEL, C.NLMPROC4_UNLOCK, C.NLMPROC4_GRANTED],
    [0, 1, 2, 3, 4, 5],
  );
  t.same([C.NLMPROC4_TEST_MSG, C.NLMPROC4_GRANTED_RES, C.NLMPROC4_SHARE, C.NLMPROC4_FREE_ALL], [6, 15, 20, 23]);
  t.same(C.nlm4_stats, {
    NLM4_GRANTED: 0,
    NLM4_DENIED: 1,
    NLM4_DENIED_NOLOCKS: 2,
    NLM4_BLOCKED: 3,
    NLM4_DENIED_GRACE_PERIOD: 4,
    NLM4_DEADLCK: 5,
    NLM4_ROFS: 6,
    NLM4_STALE_FH: 7,
    NLM4_FBIG: 8,
    NLM4_FAILED: 9,
  });
  t.equal(C.LM_MAXSTRLEN, 1024);
  t.equal(C.MAXNETOBJ_SZ, 1024);
});

t.test('nlm4_stats → errno by name', async (t) => {
  const expect: Record<string, string> = {
    NLM4_DENIED: 'EAGAIN',
    NLM4_DENIED_NOLOCKS: 'ENOLCK',
    NLM4_BLOCKED: 'ENOLCK',
    NLM4_DENIED_GRACE_PERIOD: 'ENOLCK',
    NLM4_DEADLCK: 'EDEADLK',
    NLM4_ROFS: 'EROFS',
    NLM4_STALE_FH: 'ESTALE',
    NLM4_FBIG: 'EFBIG',
    NLM4_FAILED: 'EIO',
  };
  t.same(NLM4_ERRNO, expect, 'every failure status has an errno; GRANTED has none');
  for (const [name, n] of Object.entries(C.nlm4_stats)) {
    t.equal(nlm4StatsName(n), name);
    if (n !== 0) t.equal(nlm4StatsErrno(n), expect[name], name);
  }
  t.equal(nlm4StatsName(42), 'NLM4_UNKNOWN_42');
  t.equal(nlm4StatsErrno(42), 'EIO');

  const e = nlm4Error(C.NLM4_DENIED, 'NLMPROC4_LOCK');
  t.ok(e instanceof NfsStatusError);
  t.match(e, { status: 'NLM4_DENIED', errnoCode: 'EAGAIN', op: 'NLMPROC4_LOCK', message: 'NLMPROC4_LOCK failed: NLM4_DENIED' });
});

// ---- arguments ------------------------------------------------------------------

t.test('nlm4_lock layout', async (t) => {
  const w = new XdrWriter();
  encodeNlm4Lock(w, alock);
  t.same(w.toBuffer(), alockBytes);

  const w2 = new XdrWriter();
  encodeNlm4Lock(w2, { ...alock, svid: -1, offset: 7, length: 2n ** 64n - 1n });
  const tail = w2.toBuffer().subarray(alockBytes.length - 20);
  t.same(tail, Buffer.concat([i32(-1), u64(7n), u64(2n ** 64n - 1n)]), 'svid is int32; offsets take numbers and bigints');
});

t.test('procedure stubs: labels and argument layout', async (t) => {
  const { rpc, calls } = fakeRpc();
  void nlm4Test(rpc, { cookie, exclusive: true, alock });
  void nlm4Lock(rpc, { cookie, block: false, exclusive: true, alock, reclaim: false, state: 3 });
  void nlm4Lock(rpc, { cookie, block: true, exclusive: false, alock, reclaim: true, state: -5 });
  void nlm4Cancel(rpc, { cookie, block: true, exclusive: false, alock });
  void nlm4Unlock(rpc, { cookie, alock });
  void nlm4Null(rpc);
  t.equal(calls.length, 6);

  t.match(calls.map((c) => c.label), [
    { prog: 100021, vers: 4, proc: 1, name: 'NLMPROC4_TEST' },
    { prog: 100021, vers: 4, proc: 2, name: 'NLMPROC4_LOCK' },
    { prog: 100021, vers: 4, proc: 2, name: 'NLMPROC4_LOCK' },
    { prog: 100021, vers: 4, proc: 3, name: 'NLMPROC4_CANCEL' },
    { prog: 100021, vers: 4, proc: 4, name: 'NLMPROC4_UNLOCK' },
    { prog: 100021, vers: 4, proc: 0, name: 'NLMPROC4_NULL' },
  ]);
  t.equal(calls[1]!.label, calls[2]!.label, 'one label object per procedure');

  // struct nlm4_testargs { netobj cookie; bool exclusive; nlm4_lock alock; }
  t.same(calls[0]!.args, Buffer.concat([opaque(cookie), bool(true), alockBytes]));
  // struct nlm4_lockargs { netobj cookie; bool block; bool exclusive; nlm4_lock alock; bool reclaim; int32 state; }
  t.same(calls[1]!.args, Buffer.concat([opaque(cookie), bool(false), bool(true), alockBytes, bool(false), i32(3)]));
  t.same(calls[2]!.args, Buffer.concat([opaque(cookie), bool(true), bool(false), alockBytes, bool(true), i32(-5)]));
  // struct nlm4_cancargs { netobj cookie; bool block; bool exclusive; nlm4_lock alock; }
  t.same(calls[3]!.args, Buffer.concat([opaque(cookie), bool(true), bool(false), alockBytes]));
  // struct nlm4_unlockargs { netobj cookie; nlm4_lock alock; }
  t.same(calls[4]!.args, Buffer.concat([opaque(cookie), alockBytes]));
  t.same(calls[5]!.args, Buffer.alloc(0), 'NULL has no arguments');
});

t.test('arguments that cannot be valid are refused before anything is sent', async (t) => {
  const { rpc, calls } = fakeRpc();
  const lock = (over: Partial<Nlm4Lock>) => nlm4Lock(rpc, { cookie, block: false, exclusive: true, alock: { ...alock, ...over }, reclaim: false, state: 0 });
  await t.rejects(lock({ fh: Buffer.alloc(0) }), RangeError, 'empty fh');
  await t.rejects(lock({ fh: Buffer.alloc(65) }), RangeError, 'fh longer than NFS3_FHSIZE');
  await t.rejects(lock({ fh: 'x' as unknown as Buffer }), TypeError);
  await t.rejects(lock({ oh: Buffer.alloc(1025) }), RangeError, 'oh longer than MAXNETOBJ_SZ');
  await t.rejects(lock({ callerName: 'h'.repeat(1025) }), RangeError, 'caller_name longer than LM_MAXSTRLEN');
  await t.rejects(lock({ callerName: 'é'.repeat(513) }), RangeError, 'the limit is in bytes');
  await t.rejects(lock({ svid: 2 ** 31 }), RangeError, 'svid beyond int32');
  await t.rejects(lock({ svid: 1.5 }), RangeError);
  await t.rejects(lock({ offset: -1 }), RangeError);
  await t.rejects(lock({ offset: 2 ** 53 }), RangeError, 'unsafe integer as a number');
  await t.rejects(lock({ length: 2n ** 64n }), RangeError);
  await t.rejects(nlm4Lock(rpc, { cookie, block: false, exclusive: true, alock, reclaim: false, state: 2 ** 31 }), RangeError, 'state beyond int32');
  await t.rejects(nlm4Unlock(rpc, { cookie: Buffer.alloc(1025), alock }), RangeError, 'cookie longer than MAXNETOBJ_SZ');
  t.equal(calls.length, 0);
  void lock({ callerName: 'h'.repeat(1024), oh: Buffer.alloc(1024), fh: Buffer.alloc(64), svid: -(2 ** 31), length: 2n ** 64n - 1n });
  t.equal(calls.length, 1, 'limits themselves are accepted');
});

// ---- results --------------------------------------------------------------------

t.test('nlm4_res: cookie and every status', async (t) => {
  for (const n of Object.values(C.nlm4_stats)) {
    const res = decodeNlm4Res(new XdrReader(Buffer.concat([opaque(cookie), u32(n)])));
    t.same(res, { cookie, stat: n });
  }
  const empty = decodeNlm4Res(new XdrReader(Buffer.concat([opaque(Buffer.alloc(0)), u32(0)])));
  t.same(empty, { cookie: Buffer.alloc(0), stat: 0 }, 'an empty cookie (HP-UX) is accepted');
  t.equal(decodeNlm4Res(new XdrReader(Buffer.concat([opaque(cookie), u32(77)]))).stat, 77, 'an unknown status is a value, not a decode error');

  const rec = Buffer.concat([opaque(cookie), u32(0)]);
  const res = decodeNlm4Res(new XdrReader(rec));
  rec.fill(0xee);
  t.same(res.cookie, cookie, 'the cookie is a copy, not a view of the record');

  t.throws(() => decodeNlm4Res(new XdrReader(opaque(cookie))), { code: 'ERR_XDR_DECODE' }, 'status missing');
  t.throws(() => decodeNlm4Res(new XdrReader(Buffer.concat([opaque(cookie), u32(0), u32(0)]))), { code: 'ERR_XDR_DECODE' }, 'trailing bytes');
  t.throws(() => decodeNlm4Res(new XdrReader(Buffer.concat([u32(1025), Buffer.alloc(1028), u32(0)]))), { code: 'ERR_XDR_DECODE' }, 'cookie over MAXNETOBJ_SZ');
  t.throws(() => decodeNlm4Res(new XdrReader(u32(0xffff_fff0))), { code: 'ERR_XDR_DECODE' }, 'hostile length');
});

t.test('nlm4_testres: the DENIED arm carries nlm4_holder, every other arm is void', async (t) => {
  const granted = decodeNlm4TestRes(new XdrReader(Buffer.concat([opaque(cookie), u32(C.NLM4_GRANTED)])));
  t.same(granted, { cookie, stat: 0 });
  t.equal(granted.holder, undefined);
  for (const n of [C.NLM4_DENIED_NOLOCKS, C.NLM4_DENIED_GRACE_PERIOD, C.NLM4_STALE_FH, C.NLM4_FAILED, 99]) {
    const r = decodeNlm4TestRes(new XdrReader(Buffer.concat([opaque(cookie), u32(n)])));
    t.same(r, { cookie, stat: n }, `${nlm4StatsName(n)}: void arm`);
  }

  // struct nlm4_holder { bool exclusive; int32 svid; netobj oh; uint64 l_offset; uint64 l_len; }
  const holderOh = Buffer.from('12345@peer');
  const holder = Buffer.concat([bool(true), i32(-7), opaque(holderOh), u64(2n ** 63n + 1n), u64(0n)]);
  const rec = Buffer.concat([opaque(cookie), u32(C.NLM4_DENIED), holder]);
  const denied = decodeNlm4TestRes(new XdrReader(rec));
  t.same(denied, { cookie, stat: 1, holder: { exclusive: true, svid: -7, oh: holderOh, offset: 2n ** 63n + 1n, length: 0n } });
  rec.fill(0);
  t.same(denied.holder?.oh, holderOh, "the holder's oh is a copy");

  const shared = decodeNlm4TestRes(new XdrReader(Buffer.concat([opaque(Buffer.alloc(0)), u32(1), bool(false), i32(1), opaque(Buffer.alloc(0)), u64(10n), u64(5n)])));
  t.match(shared.holder, { exclusive: false, svid: 1, offset: 10n, length: 5n });

  t.throws(() => decodeNlm4TestRes(new XdrReader(Buffer.concat([opaque(cookie), u32(1)]))), { code: 'ERR_XDR_DECODE' }, 'DENIED without its holder');
  t.throws(() => decodeNlm4TestRes(new XdrReader(Buffer.concat([opaque(cookie), u32(1), holder.subarray(0, holder.length - 4)]))), { code: 'ERR_XDR_DECODE' }, 'holder truncated');
  t.throws(() => decodeNlm4TestRes(new XdrReader(Buffer.concat([opaque(cookie), u32(0), holder]))), { code: 'ERR_XDR_DECODE' }, 'GRANTED with a holder is trailing garbage');
  t.throws(
    () => decodeNlm4TestRes(new XdrReader(Buffer.concat([opaque(cookie), u32(1), bool(true), i32(0), u32(1025), Buffer.alloc(1028), u64(0n), u64(0n)]))),
    { code: 'ERR_XDR_DECODE' },
    'holder oh over MAXNETOBJ_SZ',
  );
  t.throws(() => decodeNlm4TestRes(new XdrReader(Buffer.concat([opaque(cookie), u32(1), u32(2), i32(0), opaque(''), u64(0n), u64(0n)]))), { code: 'ERR_XDR_DECODE' }, 'exclusive is a bool: 2 is invalid');
});
