// locateRead4data: where a READ's data starts in a COMPOUND4res, so that the
// RPC layer can receive it straight into the caller's buffer; and the READ
// op's decoder reading a reply whose data was cut out that way.
import t from 'tap';
import { XdrReader } from '../../src/xdr/reader.js';
import { ANONYMOUS_STATEID, locateRead4data, opRead } from '../../src/nfs4/ops.js';
import { OP_GETATTR, OP_PUTFH, OP_READ, OP_SEQUENCE } from '../../src/nfs4/constants.js';
import type { ReplyInto } from '../../src/rpc/client.js';

const u32 = (...v: number[]) => {
  const b = Buffer.alloc(v.length * 4);
  v.forEach((x, i) => b.writeUInt32BE(x >>> 0, i * 4));
  return b;
};
const pad = (n: number) => Buffer.alloc((4 - (n % 4)) % 4);
const opaque = (b: Buffer) => Buffer.concat([u32(b.length), b, pad(b.length)]);

function reply(opts: { tag?: string; sequence?: boolean; readStatus?: number; extra?: Buffer; data: Buffer }): Buffer {
  const parts: Buffer[] = [];
  const n = (opts.sequence ? 1 : 0) + 2 + (opts.extra ? 1 : 0);
  parts.push(u32(0), opaque(Buffer.from(opts.tag ?? 'read')), u32(n));
  if (opts.sequence) parts.push(u32(OP_SEQUENCE, 0), Buffer.alloc(16, 7), u32(1, 0, 63, 63, 0));
  parts.push(u32(OP_PUTFH, 0));
  const st = opts.readStatus ?? 0;
  parts.push(u32(OP_READ, st));
  if (st === 0) parts.push(u32(1), opaque(opts.data));
  if (opts.extra) parts.push(opts.extra);
  return Buffer.concat(parts);
}

t.test('finds the data after SEQUENCE and PUTFH, with tags of every padding', async (t) => {
  const data = Buffer.from('0123456789a');
  for (const tag of ['', 'r', 'rea', 'read', 'reads']) {
    for (const sequence of [false, true]) {
      const res = reply({ tag, sequence, data });
      const loc = locateRead4data(res);
      t.ok(loc, `tag '${tag}', SEQUENCE ${sequence}`);
      t.same(res.subarray(loc!.at, loc!.at + loc!.length), data);
    }
  }
});

t.test('nothing to place: a failed READ, a failed COMPOUND, a truncated head, other ops', async (t) => {
  const data = Buffer.alloc(10);
  t.equal(locateRead4data(reply({ data, readStatus: 10008 })), undefined, 'READ failed');
  const failed = reply({ data });
  failed.writeUInt32BE(10006, 0);
  t.equal(locateRead4data(failed), undefined, 'COMPOUND status');
  const full = reply({ data, sequence: true });
  for (const cut of [0, 3, 8, 20, 40, 60]) t.equal(locateRead4data(full.subarray(0, cut)), undefined, `only ${cut} bytes`);
  const other = Buffer.concat([u32(0), opaque(Buffer.from('x')), u32(2, OP_PUTFH, 0, OP_GETATTR, 0)]);
  t.equal(locateRead4data(other), undefined, 'GETATTR is not skipped over');
  t.equal(locateRead4data(reply({ data, extra: u32(OP_GETATTR, 0) })), undefined, 'READ must be the last op');
});

t.test('the READ decoder reads placed data from the destination', async (t) => {
  const data = Buffer.from('hello, placed world');
  const dest = Buffer.alloc(40);
  data.copy(dest, 5);
  const into: ReplyInto = { dest, destOffset: 5, max: 100, locate: locateRead4data, placed: data.length };
  // What the record holds once the data was cut out: eof, length, padding.
  const body = Buffer.concat([u32(1, data.length), pad(data.length)]);
  const r = opRead(ANONYMOUS_STATEID, 0, 100, into).decode(new XdrReader(body));
  t.equal(r.eof, true);
  t.same(r.data, data);
  t.equal(r.data.buffer, dest.buffer);
  const wrong: ReplyInto = { ...into, placed: 3 };
  t.throws(() => opRead(ANONYMOUS_STATEID, 0, 100, wrong).decode(new XdrReader(body)), { code: 'ERR_XDR_DECODE' }, 'a length that differs from what was placed');
});

t.test('decoded in the read buffer (copies): the data is copied into the destination before the buffer is reused', async (t) => {
  const data = Buffer.from('whole in one read');
  const body = Buffer.concat([u32(1), opaque(data)]);
  const dest = Buffer.alloc(40, 0xee);
  const into: ReplyInto = { dest, destOffset: 4, max: 100, locate: locateRead4data, copies: true, inPlace: true };
  const r = opRead(ANONYMOUS_STATEID, 0, 100, into).decode(new XdrReader(body));
  body.fill(0); // the socket's buffer, read into again
  t.same(r.data, data, 'intact after the record buffer was overwritten');
  t.equal(r.data.buffer, dest.buffer, 'a view of the destination');
  t.same(dest.subarray(4, 4 + data.length), data);
  t.equal(dest[4 + data.length], 0xee, 'nothing past the data');
  const short = opRead(ANONYMOUS_STATEID, 0, 5, { ...into, dest: Buffer.alloc(40) });
  t.throws(() => short.decode(new XdrReader(Buffer.concat([u32(1), opaque(data)]))), { code: 'ERR_XDR_DECODE' }, 'more data than the READ asked for is refused, as before');
});
