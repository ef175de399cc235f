import t from 'tap';
import { ctx, Fields, flags, int, octets, parseDer, readFlags, readInt, readOctets, readString, readTime, seq, str, time, tlv, TagClass } from '../../src/krb5/der.js';

const decodeError = (message: RegExp): { code: string; message: RegExp } => ({ code: 'ERR_KRB5_DECODE', message });

t.test('INTEGER round trip, minimal two\'s complement', async (t) => {
  const cases: [number, string][] = [
    [0, '020100'],
    [127, '02017f'],
    [128, '02020080'],
    [-1, '0201ff'],
    [-128, '020180'],
    [-129, '0202ff7f'],
    [0xffffffff, '020500ffffffff'],
    [-0x80000000, '020480000000'],
  ];
  for (const [n, want] of cases) {
    t.equal(int(n).toString('hex'), want, `encode ${n}`);
    t.equal(readInt(parseDer(int(n), 'x'), 'x'), n, `decode ${n}`);
  }
});

t.test('long lengths, strings, times, flags', async (t) => {
  const big = Buffer.alloc(300, 7);
  const enc = seq(ctx(0, octets(big)), ctx(1, str('MOUNTLESS.TEST')), ctx(2, time(new Date(Date.UTC(2026, 11, 4, 17, 5, 9)))), ctx(3, flags(0x40810000)));
  const f = new Fields(parseDer(enc, 'T'), 'T');
  t.same(readOctets(f.req(0, 'a'), 'a'), big);
  t.equal(readString(f.req(1, 'b'), 'b'), 'MOUNTLESS.TEST');
  t.equal(readTime(f.req(2, 'c'), 'c').toISOString(), '2026-12-04T17:05:09.000Z');
  t.equal(readFlags(f.req(3, 'd'), 'd'), 0x40810000);
  t.equal(f.opt(4), undefined);
  t.throws(() => f.req(4, 'missing'), decodeError(/T\.missing: required field \[4\] is missing/));
});

t.test('hostile input: truncation, overlong lengths, trailing bytes, indefinite lengths', async (t) => {
  const good = seq(ctx(0, int(5)), ctx(1, str('x')));
  for (let i = 0; i < good.length; i++) t.throws(() => parseDer(good.subarray(0, i), 'AS-REP'), { code: 'ERR_KRB5_DECODE', message: /AS-REP/ }, `cut at ${i}`);
  t.throws(() => parseDer(Buffer.concat([good, Buffer.from([0])]), 'X'), decodeError(/after the end/));
  t.throws(() => parseDer(Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), 'X'), decodeError(/runs past the end/));
  t.throws(() => parseDer(Buffer.from([0x30, 0x85, 1, 1, 1, 1, 1]), 'X'), decodeError(/too long/));
  t.throws(() => parseDer(Buffer.from([0x30, 0x80, 0, 0]), 'X'), decodeError(/indefinite/));
  t.throws(() => parseDer(Buffer.from([0x1f, 0x81, 0x01, 0]), 'X'), decodeError(/multi-byte tag/));
  t.throws(() => readInt(parseDer(Buffer.from('0207000000000000ff', 'hex'), 'I'), 'nonce'), decodeError(/nonce/));
  t.throws(() => readTime(parseDer(tlv(TagClass.Universal, false, 24, Buffer.from('2026')), 'T'), 'authtime'), decodeError(/authtime.*YYYYMMDDHHMMSSZ/));
  t.throws(() => new Fields(parseDer(seq(ctx(1, int(1)), ctx(0, int(0))), 'S'), 'S'), decodeError(/out of order/));
});

t.test('nesting is depth-limited, not unbounded recursion', async (t) => {
  // 100000 nested SEQUENCEs: a naive recursive parser would overflow the stack.
  let b: Buffer = Buffer.alloc(0);
  const depth = 100_000;
  const parts: Buffer[] = [];
  for (let i = 0; i < depth; i++) parts.push(Buffer.from([0x30, 0x84, 0, 0, 0, 0]));
  b = Buffer.concat(parts);
  for (let i = 0; i < depth; i++) b.writeUInt32BE(b.length - (i + 1) * 6, i * 6 + 2);
  t.throws(() => parseDer(b, 'deep'), decodeError(/deeper than 32/));
  let ok = int(1);
  for (let i = 0; i < 30; i++) ok = seq(ok);
  t.equal(parseDer(ok, 'ok').children.length, 1);
});
