import t from 'tap';
import { RecordDecoder, recordMark } from '../../src/rpc/record.js';
import { RpcRecordError } from '../../src/rpc/errors.js';

const LAST = 0x80000000;

function hdr(len: number, last: boolean): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(((last ? LAST : 0) | len) >>> 0);
  return b;
}

/** A record as wire bytes: fragments of the given sizes (default: one). */
function wire(body: Buffer, sizes: number[] = [body.length]): Buffer {
  const out: Buffer[] = [];
  let off = 0;
  sizes.forEach((n, i) => {
    out.push(hdr(n, i === sizes.length - 1), body.subarray(off, off + n));
    off += n;
  });
  return Buffer.concat(out);
}

function body(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (seed * 31 + i * 7) & 0xff;
  return b;
}

function collect(max = 1 << 20): { d: RecordDecoder; records: Buffer[] } {
  const records: Buffer[] = [];
  // Copy: a record may be a view of the chunk, which the test may reuse.
  const d = new RecordDecoder(max, (r) => records.push(Buffer.from(r)));
  return { d, records };
}

const RECORD_ERROR = { name: 'RpcRecordError', code: 'ERR_RPC_RECORD' };

// A stream of several records: single-fragment, multi-fragment, with an
// empty middle fragment, an empty record, and one with fragments of 1 byte.
const bodies = [body(12, 1), body(40, 2), body(9, 3), Buffer.alloc(0), body(5, 4), body(3, 5)];
const stream = Buffer.concat([
  wire(bodies[0]!),
  wire(bodies[1]!, [10, 0, 17, 13]),
  wire(bodies[2]!, [4, 5]),
  wire(bodies[3]!),
  wire(bodies[4]!, [1, 1, 1, 1, 1]),
  wire(bodies[5]!, [0, 3]),
]);

t.test('recordMark sets the last-fragment bit', async (t) => {
  t.equal(recordMark(0), 0x80000000);
  t.equal(recordMark(0x1234), 0x80001234);
  t.equal(recordMark(0x7fffffff), 0xffffffff);
  t.throws(() => recordMark(0x80000000), RangeError);
  t.throws(() => recordMark(-1), RangeError);
});

t.test('one record in one chunk is a zero-copy view', async (t) => {
  const chunk = wire(body(100, 9));
  const seen: Buffer[] = [];
  const d = new RecordDecoder(1000, (r) => seen.push(r));
  d.push(chunk);
  t.equal(seen.length, 1);
  t.same(seen[0], body(100, 9));
  t.equal(seen[0]!.buffer, chunk.buffer, 'shares the chunk memory');
  t.equal(d.buffered, 0);
});

t.test('the whole stream in one chunk', async (t) => {
  const { d, records } = collect();
  d.push(stream);
  t.same(records, bodies);
  t.equal(d.buffered, 0);
});

t.test('byte by byte', async (t) => {
  const { d, records } = collect();
  for (let i = 0; i < stream.length; i++) d.push(stream.subarray(i, i + 1));
  t.same(records, bodies);
  t.equal(d.buffered, 0);
});

t.test('split at every byte boundary, and at every pair of boundaries', async (t) => {
  for (let i = 0; i <= stream.length; i++) {
    const { d, records } = collect();
    d.push(stream.subarray(0, i));
    d.push(stream.subarray(i));
    if (!t.same(records, bodies, `split at ${i}`)) return;
  }
  let failures = 0;
  for (let i = 0; i <= stream.length; i++) {
    for (let j = i; j <= stream.length; j++) {
      const { d, records } = collect();
      // Copies, so no record can be a view of a chunk we reuse.
      d.push(Buffer.from(stream.subarray(0, i)));
      d.push(Buffer.from(stream.subarray(i, j)));
      d.push(Buffer.from(stream.subarray(j)));
      if (records.length !== bodies.length || records.some((r, k) => !r.equals(bodies[k]!))) failures++;
    }
  }
  t.equal(failures, 0, 'every three-way split decodes the same records');
});

t.test('records delivered while later ones are partial are intact', async (t) => {
  // A view handed out for a whole record must not be disturbed by the bytes
  // of the next, partial record in the same chunk.
  const seen: Buffer[] = [];
  const d = new RecordDecoder(1000, (r) => seen.push(r));
  const a = wire(body(8, 1));
  const b = wire(body(30, 2), [10, 20]);
  const chunk = Buffer.concat([a, b.subarray(0, 20)]);
  d.push(chunk);
  t.equal(seen.length, 1);
  d.push(b.subarray(20));
  t.equal(seen.length, 2);
  t.same(seen[0], body(8, 1));
  t.same(seen[1], body(30, 2));
});

t.test('many records in one chunk', async (t) => {
  const many = Array.from({ length: 500 }, (_, i) => body(i % 37, i));
  const { d, records } = collect();
  d.push(Buffer.concat(many.map((b) => wire(b))));
  t.equal(records.length, 500);
  t.same(records, many);
});

t.test('zero-length fragments and records', async (t) => {
  const { d, records } = collect();
  d.push(Buffer.concat([hdr(0, true), hdr(0, false), hdr(0, false), hdr(0, true)]));
  t.equal(records.length, 2);
  t.equal(records[0]!.length, 0);
  t.equal(records[1]!.length, 0);
  // Many empty non-last fragments buffer nothing.
  const d2 = new RecordDecoder(16, () => {});
  d2.push(Buffer.concat(Array.from({ length: 10_000 }, () => hdr(0, false))));
  t.equal(d2.buffered, 0);
});

t.test('a record of exactly maxRecordSize is accepted', async (t) => {
  const { d, records } = collect(64);
  d.push(wire(body(64, 1), [20, 44]));
  t.same(records, [body(64, 1)]);
});

t.test('oversize record is refused at its header, before the body is buffered', async (t) => {
  let calls = 0;
  const d = new RecordDecoder(1024, () => calls++);
  const e = t.throws(() => d.push(hdr(1025, true)), RECORD_ERROR);
  t.type(e, RpcRecordError);
  t.equal(d.buffered, 0, 'nothing buffered');
  t.equal(calls, 0);
  t.throws(() => d.push(Buffer.alloc(10)), RECORD_ERROR, 'the stream stays failed');
});

t.test('a record mark claiming ~2 GiB is refused without allocating', async (t) => {
  for (const split of [false, true]) {
    const d = new RecordDecoder(4 << 20, () => t.fail('no record'));
    const h = hdr(0x7fffffff, true);
    const before = process.memoryUsage().arrayBuffers;
    if (split) {
      d.push(h.subarray(0, 3));
      t.throws(() => d.push(Buffer.concat([h.subarray(3), Buffer.alloc(100)])), { ...RECORD_ERROR, message: /2147483647 bytes exceeds the maximum of 4194304/ });
    } else {
      t.throws(() => d.push(Buffer.concat([h, Buffer.alloc(100)])), RECORD_ERROR);
    }
    t.equal(d.buffered, 0);
    t.ok(process.memoryUsage().arrayBuffers - before < 1 << 20, 'no large allocation');
  }
  // Same for a non-last fragment.
  const d = new RecordDecoder(4 << 20, () => {});
  t.throws(() => d.push(hdr(0x7fffffff, false)), RECORD_ERROR);
});

t.test('fragments summing over the max are refused at the fragment that crosses it', async (t) => {
  const d = new RecordDecoder(100, () => t.fail('no record'));
  d.push(hdr(60, false));
  d.push(body(60, 1));
  t.equal(d.buffered, 60);
  t.throws(() => d.push(hdr(41, true)), { ...RECORD_ERROR, message: /at least 101 bytes/ });
  t.equal(d.buffered, 60, 'the crossing fragment was not buffered');

  // Many small fragments add up too.
  const d2 = new RecordDecoder(100, () => t.fail('no record'));
  const frags = Buffer.concat(Array.from({ length: 30 }, (_, i) => Buffer.concat([hdr(4, false), body(4, i)])));
  t.throws(() => d2.push(frags), RECORD_ERROR);
  t.ok(d2.buffered <= 100, 'never more than the max buffered');
});

t.test('a record split into a million tiny fragments costs its bytes, not an object per piece', async (t) => {
  const n = 1_000_000;
  const chunk = Buffer.alloc(n * 5);
  for (let i = 0; i < n; i++) {
    chunk.writeUInt32BE(i === n - 1 ? (LAST | 1) >>> 0 : 1, i * 5);
    chunk[i * 5 + 4] = i & 0xff;
  }
  let got: Buffer | undefined;
  const d = new RecordDecoder(4 << 20, (r) => (got = r));
  const before = process.memoryUsage().heapUsed;
  d.push(chunk.subarray(0, chunk.length - 5));
  const grown = process.memoryUsage().heapUsed - before;
  t.equal(d.buffered, n - 1);
  // One Buffer view per fragment would be ~100 MB of heap here.
  t.ok(grown < 32 << 20, `heap grew by ${(grown / 1e6).toFixed(1)} MB while buffering`);
  d.push(chunk.subarray(chunk.length - 5));
  t.equal(got?.length, n);
  t.equal(got![n - 1], (n - 1) & 0xff);
  t.equal(got![12345], 12345 & 0xff);
});

t.test('a large record arriving in many chunks is assembled exactly', async (t) => {
  const big = body(1 << 20, 3);
  const w = wire(big);
  for (const size of [1000, 65536, 7]) {
    if (size === 7) {
      const { d, records } = collect(2 << 20);
      // Byte-sized chunks for the first 1000 bytes only, then the rest at once.
      for (let i = 0; i < 1000; i += size) d.push(w.subarray(i, Math.min(i + size, 1000)));
      d.push(w.subarray(1000));
      t.ok(records.length === 1 && records[0]!.equals(big), 'tiny chunks then one big one');
      continue;
    }
    const { d, records } = collect(2 << 20);
    for (let i = 0; i < w.length; i += size) d.push(w.subarray(i, i + size));
    t.equal(records.length, 1);
    t.ok(records[0]!.equals(big), `chunks of ${size}`);
  }
  // Multi-fragment with growth.
  const { d, records } = collect(2 << 20);
  const sizes = [1, 10, 100, 1000, 10_000, 100_000, (1 << 20) - 111_111];
  const mw = wire(big, sizes);
  for (let i = 0; i < mw.length; i += 4093) d.push(mw.subarray(i, i + 4093));
  t.equal(records.length, 1);
  t.ok(records[0]!.equals(big), 'multi-fragment record grown across chunks');
});

t.test('an exception from onRecord propagates out of push', async (t) => {
  const d = new RecordDecoder(100, () => {
    throw new Error('consumer failed');
  });
  t.throws(() => d.push(wire(body(4, 1))), { message: 'consumer failed' });
});

// Payload placement: a READ reply's data received straight into a caller's buffer.
t.test('placement: the payload lands in dest, the record keeps head and tail', async (t) => {
  const head = body(30, 11);
  const payload = body(1001, 12);
  const tail = body(7, 13);
  const rec = Buffer.concat([head, payload, tail]);
  const bytes = wire(rec);
  // Every chunk size from tiny to larger than the record, header split included.
  for (const size of [1, 3, 5, 31, 64, 500, 1037, 4096]) {
    const dest = Buffer.alloc(1010, 0xee);
    const seen: { record: Buffer; placed: boolean }[] = [];
    let asked = 0;
    const d = new RecordDecoder(
      1 << 20,
      (r, p) => seen.push({ record: Buffer.from(r), placed: p !== undefined }),
      false,
      (h, n) => {
        asked++;
        t.equal(n, rec.length, 'told the record length');
        t.same(h, rec.subarray(0, h.length), 'head is the start of the record');
        return { at: 30, length: 1001, dest, destOffset: 4 };
      },
    );
    for (let i = 0; i < bytes.length; i += size) d.push(bytes.subarray(i, i + size));
    t.equal(seen.length, 1, `chunks of ${size}: one record`);
    if (size >= bytes.length) {
      t.equal(asked, 0, 'a record whole in one chunk is not placed');
      t.same(seen[0]!.record, rec);
      t.notOk(seen[0]!.placed);
      continue;
    }
    t.equal(asked, 1, 'asked once per record');
    t.ok(seen[0]!.placed);
    t.same(seen[0]!.record, Buffer.concat([head, tail]), 'payload cut out of the record');
    t.same(dest.subarray(4, 1005), payload, 'payload in dest at destOffset');
    t.equal(dest[3], 0xee, 'nothing before destOffset');
    t.equal(dest[1005], 0xee, 'nothing after the payload');
  }
});

t.test('placement: records after a placed one decode as usual', async (t) => {
  const a = body(600, 1);
  const b = body(50, 2);
  const dest = Buffer.alloc(500);
  const seen: Buffer[] = [];
  const d = new RecordDecoder(1 << 20, (r) => seen.push(Buffer.from(r)), false, (_h, n) => (n === 600 ? { at: 50, length: 500, dest, destOffset: 0 } : undefined));
  const bytes = Buffer.concat([wire(a), wire(b), wire(a)]);
  for (let i = 0; i < bytes.length; i += 100) d.push(bytes.subarray(i, i + 100));
  t.equal(seen.length, 3);
  t.same(seen[0], Buffer.concat([a.subarray(0, 50), a.subarray(550)]));
  t.same(seen[1], b, 'the next record is untouched');
  t.same(seen[2], Buffer.concat([a.subarray(0, 50), a.subarray(550)]));
  t.same(dest, a.subarray(50, 550));
});

t.test('placement: clearing dest mid-record drops the rest of the payload', async (t) => {
  const rec = body(2000, 5);
  const dest = Buffer.alloc(1800, 0xee);
  let placement: { at: number; length: number; dest: Uint8Array | undefined; destOffset: number } | undefined;
  const seen: Buffer[] = [];
  const d = new RecordDecoder(1 << 20, (r) => seen.push(Buffer.from(r)), false, () => (placement = { at: 100, length: 1800, dest, destOffset: 0 }));
  const bytes = wire(rec);
  d.push(bytes.subarray(0, 504)); // header + 500 record bytes: 400 payload bytes placed
  t.same(dest.subarray(0, 400), rec.subarray(100, 500));
  placement!.dest = undefined; // the call gave up
  d.push(bytes.subarray(504));
  t.ok(dest.subarray(400).every((x) => x === 0xee), 'no byte written after dest was cleared');
  t.same(seen[0], Buffer.concat([rec.subarray(0, 100), rec.subarray(1900)]), 'the record still ends in step');
});

t.test('placement: a multi-fragment record or an impossible placement is assembled whole', async (t) => {
  const rec = body(300, 8);
  let asked = 0;
  const seen: Buffer[] = [];
  const d = new RecordDecoder(1 << 20, (r) => seen.push(Buffer.from(r)), false, () => {
    asked++;
    return { at: 10, length: 1000, dest: Buffer.alloc(1000), destOffset: 0 }; // longer than the record
  });
  const bytes = Buffer.concat([wire(rec, [100, 200]), wire(rec)]);
  for (let i = 0; i < bytes.length; i += 50) d.push(bytes.subarray(i, i + 50));
  t.equal(asked, 1, 'not asked for the multi-fragment record');
  t.same(seen, [rec, rec]);
});

t.test('placement: with reused chunks, a whole record is placed too, and the chunk may change afterwards', async (t) => {
  const rec = body(200, 21);
  const chunk = Buffer.concat([wire(rec), wire(body(8, 22))]);
  const dest = Buffer.alloc(150, 0xee);
  const seen: Array<{ r: Buffer; placed: boolean }> = [];
  const d = new RecordDecoder(1 << 20, (r, p) => seen.push({ r, placed: p !== undefined }), true, (_h, n) => (n === 200 ? { at: 20, length: 100, dest, destOffset: 50 } : undefined));
  d.push(chunk);
  chunk.fill(0); // the socket reuses its buffer
  t.equal(seen.length, 2);
  t.ok(seen[0]!.placed);
  t.same(seen[0]!.r, Buffer.concat([rec.subarray(0, 20), rec.subarray(120)]), 'head and tail, copied out of the chunk');
  t.same(dest.subarray(50, 150), rec.subarray(20, 120));
  t.notOk(seen[1]!.placed);
  t.same(seen[1]!.r, body(8, 22), 'an unplaced record is a copy');
});

/**
 * Drives a decoder as the transport does with reads it aims (DirectTarget):
 * after each delivery, the next read goes into the window directTarget()
 * gives, if any, for at most `size` bytes of the stream, else through push().
 */
function feedDirect(d: RecordDecoder, bytes: Buffer, size: number, min: number): number {
  let direct = 0;
  let i = 0;
  while (i < bytes.length) {
    const target = d.directTarget(min);
    if (target) {
      const n = Math.min(size, target.view.length, bytes.length - i);
      target.view.set(bytes.subarray(i, i + n));
      d.pushDirect(n);
      direct += n;
      i += n;
    } else {
      d.push(bytes.subarray(i, i + size));
      i += size;
    }
  }
  return direct;
}

t.test('direct reads: the payload is read into dest, never past it, the record keeps head and tail', async (t) => {
  const head = body(30, 21);
  const payload = body(1001, 22);
  const tail = body(7, 23);
  const rec = Buffer.concat([head, payload, tail]);
  const next = body(40, 24);
  const bytes = Buffer.concat([wire(rec), wire(next)]);
  for (const size of [1, 3, 5, 31, 64, 500, 1037]) {
    for (const min of [1, 200]) {
      const dest = Buffer.alloc(1010, 0xee);
      const seen: { record: Buffer; placed: boolean }[] = [];
      const d = new RecordDecoder(
        1 << 20,
        (r, p) => seen.push({ record: Buffer.from(r), placed: p !== undefined }),
        false,
        (_h, n) => (n === rec.length ? { at: 30, length: 1001, dest, destOffset: 4 } : undefined),
      );
      const direct = feedDirect(d, bytes, size, min);
      // Payload bytes still to come after a delivery are read directly; a chunk that brings them all leaves none.
      t.ok(size > 500 || direct > 0, `chunks of ${size}, min ${min}: payload read directly (${direct} bytes)`);
      t.ok(direct <= 1001, 'never more than the payload');
      t.equal(seen.length, 2, 'both records');
      t.ok(seen[0]!.placed);
      t.same(seen[0]!.record, Buffer.concat([head, tail]), 'payload cut out of the record');
      t.same(dest.subarray(4, 1005), payload, 'payload in dest at destOffset');
      t.equal(dest[3], 0xee, 'nothing before destOffset');
      t.equal(dest[1005], 0xee, 'nothing after the payload');
      t.same(seen[1]!.record, next, 'the next record is untouched');
    }
  }
});

t.test('direct reads: none once dest is cleared, none outside a payload, none under the minimum', async (t) => {
  const rec = body(600, 31);
  const dest = Buffer.alloc(500, 0xee);
  const p = { at: 50, length: 500, dest: dest as Uint8Array | undefined, destOffset: 0 };
  const d = new RecordDecoder(1 << 20, () => {}, false, () => p);
  const bytes = wire(rec);
  t.equal(d.directTarget(1), undefined, 'nothing before a record starts');
  t.notOk(d.assembling, 'between records');
  d.push(bytes.subarray(0, 20));
  t.equal(d.directTarget(1), undefined, 'not in the head');
  t.notOk(d.assembling, 'a placed record is not assembled in bulk');
  d.push(bytes.subarray(20, 54));
  const w = d.directTarget(1);
  t.equal(w?.view.length, 500, 'the whole payload, not a byte more');
  t.equal(d.directTarget(501), undefined, 'under the minimum');
  t.throws(() => d.pushDirect(501), RpcRecordError, 'more bytes than the payload has is refused');
  p.dest = undefined;
  t.equal(d.directTarget(1), undefined, 'a cleared dest is not read into');
});

t.test('assembling: true inside a record that is not placed, so the transport reads its rest in bulk', async (t) => {
  const d = new RecordDecoder(1 << 20, () => {}, false, () => undefined);
  const bytes = wire(body(300, 41));
  t.notOk(d.assembling, 'between records');
  d.push(bytes.subarray(0, 100));
  t.ok(d.assembling, 'inside an unplaced record');
  d.push(bytes.subarray(100));
  t.notOk(d.assembling, 'after it');
});
