import t from 'tap';
import { XdrReader } from '../../src/xdr/reader.js';
import { XdrWriter } from '../../src/xdr/writer.js';
import { XdrDecodeError } from '../../src/xdr/errors.js';

function enc(fn: (w: XdrWriter) => void): Buffer {
  const w = new XdrWriter(16);
  fn(w);
  return w.toBuffer();
}

/** tap error pattern: an XdrDecodeError, optionally with a message matching `message`. */
function decodeError(message?: RegExp): { name: string; code: string; message?: RegExp } {
  return message ? { name: 'XdrDecodeError', code: 'ERR_XDR_DECODE', message } : { name: 'XdrDecodeError', code: 'ERR_XDR_DECODE' };
}

t.test('uint32 / int32 round trip, big-endian on the wire', async (t) => {
  for (const v of [0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff]) {
    const b = enc((w) => w.u32(v));
    t.equal(b.length, 4);
    t.equal(b.readUInt32BE(0), v);
    t.equal(new XdrReader(b).u32(), v, `u32 ${v}`);
  }
  for (const v of [0, 1, -1, 0x7fffffff, -0x80000000, -12345]) {
    const b = enc((w) => w.i32(v));
    t.equal(new XdrReader(b).i32(), v, `i32 ${v}`);
  }
  t.same([...enc((w) => w.u32(0x01020304))], [1, 2, 3, 4]);
});

t.test('uint64 / int64 round trip, including beyond 2^53', async (t) => {
  const big = [0n, 1n, 0xffffffffn, 0x1_0000_0000n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 0x8000_0000_0000_0000n, 2n ** 64n - 1n];
  for (const v of big) {
    const b = enc((w) => w.u64(v));
    t.equal(b.length, 8);
    t.equal(b.readBigUInt64BE(0), v);
    t.equal(new XdrReader(b).u64(), v, `u64 ${v}`);
  }
  // u64 from a number: exact up to 2^53.
  for (const v of [0, 1, 0xffffffff, 0x1_0000_0000, 2 ** 40 + 7, Number.MAX_SAFE_INTEGER]) {
    const b = enc((w) => w.u64(v));
    t.equal(new XdrReader(b).u64(), BigInt(v), `u64(number) ${v}`);
    t.equal(new XdrReader(b).u64n(), v, `u64n ${v}`);
  }
  t.throws(() => new XdrWriter().u64(-1), RangeError);
  t.throws(() => new XdrWriter().u64(2 ** 53), RangeError);
  t.throws(() => new XdrWriter().u64(1.5), RangeError);

  for (const v of [0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n), -(2n ** 53n) - 3n]) {
    const b = enc((w) => w.i64(v));
    t.equal(new XdrReader(b).i64(), v, `i64 ${v}`);
  }
  t.equal(new XdrReader(enc((w) => w.i64(-5))).i64(), -5n, 'i64 from a number');
  t.equal(new XdrReader(enc((w) => w.u64(2n ** 53n + 1n))).u64n(), 2 ** 53, 'u64n beyond 2^53 is the nearest double');
});

t.test('bool round trip; a value other than 0 or 1 is refused', async (t) => {
  t.equal(new XdrReader(enc((w) => w.bool(true))).bool(), true);
  t.equal(new XdrReader(enc((w) => w.bool(false))).bool(), false);
  t.same([...enc((w) => w.bool(true))], [0, 0, 0, 1]);
  for (const v of [2, 0xffffffff, 0x100]) {
    const r = new XdrReader(enc((w) => w.u32(v)));
    t.throws(() => r.bool('attributes_follow'), { ...decodeError(), what: 'attributes_follow' }, `bool ${v}`);
  }
});

t.test('enumOf accepts only listed values', async (t) => {
  const allowed = new Set([0, 1, 2]);
  t.equal(new XdrReader(enc((w) => w.i32(2))).enumOf(allowed, 'ftype'), 2);
  t.throws(() => new XdrReader(enc((w) => w.i32(3))).enumOf(allowed, 'ftype'), decodeError(/ftype/));
});

t.test('fixed and variable opaque: padding bytes are zero and skipped', async (t) => {
  for (let n = 0; n <= 9; n++) {
    const data = Buffer.from(Array.from({ length: n }, (_, i) => 0xa0 + i));
    const fixed = enc((w) => w.fixed(data).u32(0xdeadbeef));
    const pad = (4 - (n % 4)) % 4;
    t.equal(fixed.length, n + pad + 4, `fixed[${n}] length`);
    t.ok(fixed.subarray(n, n + pad).every((b) => b === 0), `fixed[${n}] padding is zero`);
    const rf = new XdrReader(fixed);
    t.same(rf.fixed(n), data);
    t.equal(rf.u32(), 0xdeadbeef, `cursor after fixed[${n}]`);
    rf.done();

    const opaque = enc((w) => w.opaque(data).u32(0xcafef00d));
    t.equal(opaque.length, 4 + n + pad + 4, `opaque<${n}> length`);
    t.equal(opaque.readUInt32BE(0), n);
    const ro = new XdrReader(opaque);
    t.same(ro.opaque(), data);
    t.equal(ro.u32(), 0xcafef00d, `cursor after opaque<${n}>`);
  }
  // Writer padding is zero even over reused memory.
  const w = new XdrWriter(8);
  w.fixed(Buffer.from([1]));
  t.same([...w.toBuffer()], [1, 0, 0, 0]);
});

t.test('opaque larger than its maximum is refused', async (t) => {
  const b = enc((w) => w.opaque(Buffer.alloc(65)));
  t.throws(() => new XdrReader(b).opaque(64, 'nfs_fh3'), decodeError(/nfs_fh3/));
  t.throws(() => new XdrReader(enc((w) => w.string('abcdef'))).string(5), decodeError());
});

t.test('string round trip with multi-byte UTF-8', async (t) => {
  for (const s of ['', 'a', 'abc', 'abcd', 'héllo', '日本語のファイル名', 'emoji 🚀🧪', 'z\u0000z']) {
    const b = enc((w) => w.string(s).u32(7));
    const bytes = Buffer.byteLength(s);
    t.equal(b.readUInt32BE(0), bytes, `length prefix counts UTF-8 bytes for ${JSON.stringify(s)}`);
    t.equal(b.length % 4, 0);
    const r = new XdrReader(b);
    t.equal(r.string(), s);
    t.equal(r.u32(), 7);
    r.done();
  }
});

t.test('truncated input at every byte position raises XdrDecodeError', async (t) => {
  const full = enc((w) => {
    w.u32(1).i32(-2).u64(3n).i64(-4n).bool(true).fixed(Buffer.from([9, 9, 9])).opaque(Buffer.from('opaque!')).string('näme');
    w.u32(2).u32(10).u32(20); // array<2> of u32
    w.bool(true).u32(30).bool(true).u32(40).bool(false); // list
  });
  const readAll = (r: XdrReader) => {
    r.u32();
    r.i32();
    r.u64();
    r.i64();
    r.bool();
    r.fixed(3);
    r.opaque();
    r.string();
    r.array(10, 4, (x) => x.u32());
    r.list(10, (x) => x.u32());
    r.done();
  };
  readAll(new XdrReader(full));
  t.pass('the whole buffer decodes');
  for (let cut = 0; cut < full.length; cut++) {
    t.throws(() => readAll(new XdrReader(full.subarray(0, cut))), decodeError(), `cut at ${cut}`);
  }
  // Same through a window over a larger buffer: the window's end is the limit, not the buffer's.
  const big = Buffer.concat([full, Buffer.alloc(64, 0xff)]);
  for (let cut = 0; cut < full.length; cut++) {
    t.throws(() => readAll(new XdrReader(big, 0, cut)), decodeError(), `window cut at ${cut}`);
  }
});

t.test('decode errors are XdrDecodeError instances naming the field', async (t) => {
  const err = t.throws(() => new XdrReader(Buffer.alloc(2)).u32('fattr3.mode'));
  t.type(err, XdrDecodeError);
  t.equal((err as XdrDecodeError).what, 'fattr3.mode');
  t.match((err as Error).message, /fattr3\.mode.*need 4 bytes at offset 0, 2 left/);
});

t.test('u64n and u64 need 8 bytes', async (t) => {
  t.throws(() => new XdrReader(Buffer.alloc(7)).u64n(), decodeError());
  t.throws(() => new XdrReader(Buffer.alloc(7)).u64(), decodeError());
  t.throws(() => new XdrReader(Buffer.alloc(7)).i64(), decodeError());
});

t.test('a length of 0xFFFFFFFF on a 12-byte buffer throws without allocating', async (t) => {
  const hostile = Buffer.alloc(12);
  hostile.writeUInt32BE(0xffffffff, 0);
  const r1 = new XdrReader(hostile);
  t.throws(() => r1.opaque(), decodeError(), 'opaque');
  t.throws(() => new XdrReader(hostile).string(), decodeError(), 'string');
  t.throws(() => new XdrReader(hostile).count(0xffffffff, 4), decodeError(), 'count');
  t.throws(() => new XdrReader(hostile).count(0xffffffff, 1), decodeError(), 'count, 1-byte elements');
  let elems = 0;
  t.throws(
    () =>
      new XdrReader(hostile).array(0xffffffff, 4, (r) => {
        elems++;
        return r.u32();
      }),
    decodeError(),
    'array',
  );
  t.equal(elems, 0, 'no element decoded');
  // Lengths whose 4-byte padding overflows a 32-bit int must not slip past the check.
  for (const n of [0x7ffffffd, 0x7ffffffe, 0x7fffffff, 0x80000000, 0xfffffffd, 0xfffffffe]) {
    const b = Buffer.alloc(12);
    b.writeUInt32BE(n, 0);
    const r = new XdrReader(b);
    t.throws(() => r.opaque(), decodeError(), `opaque length ${n.toString(16)}`);
    t.ok(r.pos >= 0 && r.pos <= r.end, 'cursor stays inside the window');
  }
  t.throws(() => new XdrReader(hostile).skip(0xffffffff), decodeError(), 'skip');
  t.throws(() => new XdrReader(hostile).fixed(0xfffffffd), decodeError(), 'fixed');
  t.throws(() => new XdrReader(hostile).fixed(-1), RangeError, 'negative fixed length is a programming error');
});

t.test('count refuses more elements than the record can hold and more than max', async (t) => {
  const b = enc((w) => w.u32(3).u32(1).u32(2).u32(3));
  t.equal(new XdrReader(b).count(3, 4), 3);
  t.throws(() => new XdrReader(b).count(2, 4), decodeError(/exceeds maximum/));
  t.throws(() => new XdrReader(b).count(3, 8), decodeError(/does not fit/));
  t.same(new XdrReader(b).array(3, 4, (r) => r.u32()), [1, 2, 3]);
});

t.test('opaque views share memory with the input (zero-copy)', async (t) => {
  const src = enc((w) => w.opaque(Buffer.from('hello world')).fixed(Buffer.from('abcd')));
  const r = new XdrReader(src);
  const view = r.opaque();
  const fixed = r.fixed(4);
  t.equal(view.buffer, src.buffer, 'same ArrayBuffer');
  t.equal(view.toString(), 'hello world');
  src[4] = 'J'.charCodeAt(0);
  t.equal(view.toString(), 'Jello world', 'mutating the source changes the view');
  src[src.length - 4] = 'X'.charCodeAt(0);
  t.equal(fixed.toString(), 'Xbcd');
});

t.test('writer gathers payloads >= 2 KiB without copying', async (t) => {
  const payload = Buffer.alloc(4096, 7);
  const w = new XdrWriter(64);
  w.u32(1);
  w.opaque(payload);
  w.u32(2);
  const bufs = w.buffers();
  t.ok(
    bufs.some((b) => b === payload),
    'the payload Buffer itself is one of the iovecs',
  );
  t.equal(w.length, 4 + 4 + 4096 + 4);
  const whole = w.toBuffer();
  const r = new XdrReader(whole);
  t.equal(r.u32(), 1);
  t.same(r.opaque(), payload);
  t.equal(r.u32(), 2);
  r.done();

  // A Uint8Array (not a Buffer) is wrapped over the same memory.
  const u8 = new Uint8Array(3001).fill(5);
  const w2 = new XdrWriter();
  w2.opaque(u8);
  const piece = w2.buffers().find((b) => b.length === 3001);
  t.ok(piece, 'payload piece present');
  t.equal(piece!.buffer, u8.buffer, 'same ArrayBuffer as the Uint8Array');
  const bytes = w2.toBuffer();
  t.equal(bytes.length, 4 + 3004, 'padded to a multiple of 4');
  t.same([...bytes.subarray(4 + 3001)], [0, 0, 0], 'zero padding after a gathered payload');

  // Just below the threshold: copied.
  const small = Buffer.alloc(2047, 1);
  const w3 = new XdrWriter();
  w3.opaque(small);
  t.notOk(
    w3.buffers().some((b) => b.buffer === small.buffer),
    'payloads under 2 KiB are copied into the writer',
  );
});

t.test('reserve32 patches a length after the fact, across chunk boundaries', async (t) => {
  const w = new XdrWriter(8);
  const patch = w.reserve32();
  w.u32(0xaaaaaaaa);
  w.opaque(Buffer.alloc(5000, 3)); // forces gathered chunks
  for (let i = 0; i < 300; i++) w.u32(i); // forces growth of the current chunk
  patch(w.length - 4);
  const b = w.toBuffer();
  t.equal(b.length, w.length);
  t.equal(b.readUInt32BE(0), w.length - 4);
  t.equal(b.readUInt32BE(4), 0xaaaaaaaa);

  const w2 = new XdrWriter();
  w2.u32(1);
  const p2 = w2.reserve32();
  w2.u32(3);
  p2(0x80000010);
  t.same([...w2.toBuffer()], [0, 0, 0, 1, 0x80, 0, 0, 0x10, 0, 0, 0, 3]);
});

t.test('writer grows across many small fields', async (t) => {
  const w = new XdrWriter(4);
  for (let i = 0; i < 10_000; i++) w.u32(i);
  w.string('x'.repeat(3000));
  const r = new XdrReader(w.toBuffer());
  for (let i = 0; i < 10_000; i++) {
    if (r.u32() !== i) {
      t.fail(`value ${i}`);
      return;
    }
  }
  t.equal(r.string(), 'x'.repeat(3000));
  r.done();
  t.equal(new XdrWriter().toBuffer().length, 0, 'an empty writer gives an empty buffer');
});

t.test('list() over 200 000 items is iterative and respects max', async (t) => {
  const n = 200_000;
  const w = new XdrWriter(n * 8 + 8);
  for (let i = 0; i < n; i++) w.bool(true).u32(i);
  w.bool(false);
  const b = w.toBuffer();
  const out = new XdrReader(b).list(n, (r) => r.u32());
  t.equal(out.length, n);
  t.equal(out[0], 0);
  t.equal(out[n - 1], n - 1);
  t.throws(() => new XdrReader(b).list(n - 1, (r) => r.u32(), 'entry3'), decodeError(/entry3/));
  // Missing terminator: runs off the end, as a decode error.
  t.throws(() => new XdrReader(b.subarray(0, b.length - 4)).list(n, (r) => r.u32()), decodeError());
  t.same(new XdrReader(enc((w) => w.bool(false))).list(0, (r) => r.u32()), [], 'empty list with max 0');
});

t.test('done() detects trailing bytes', async (t) => {
  const b = enc((w) => w.u32(1).u32(2));
  const r = new XdrReader(b);
  r.u32();
  t.throws(() => r.done('GETATTR3res'), decodeError(/4 trailing bytes after GETATTR3res/));
  r.u32();
  t.doesNotThrow(() => r.done());
  t.equal(r.remaining, 0);
});

t.test('reader window checks', async (t) => {
  const b = Buffer.alloc(8);
  t.throws(() => new XdrReader(b, 4, 2), RangeError);
  t.throws(() => new XdrReader(b, 0, 9), RangeError);
  t.throws(() => new XdrReader(b, -1), RangeError);
  const r = new XdrReader(b, 4);
  t.equal(r.remaining, 4);
  r.skip(3);
  t.equal(r.remaining, 0, 'skip pads to 4');
  t.throws(() => r.u32(), decodeError());
});
