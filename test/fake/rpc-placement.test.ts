// ReplyInto: a reply's payload received straight into the caller's buffer,
// against a fake server that controls how the reply is cut into TCP writes.
import t, { type Test } from 'tap';
import { placedOpaque, receivedOpaque, RpcClient, type ReplyInto } from '../../src/rpc/client.js';
import { AbortError } from '../../src/rpc/errors.js';
import type { XdrReader } from '../../src/xdr/reader.js';
import { encodeAcceptedReply, FakeRpcServer, frame, u32, SUCCESS, type FakeCall } from './fake-rpc-server.js';

const PROG = 400_124;
const label = { prog: PROG, vers: 1, proc: 1, name: 'TEST_READ' };
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Results as a READ-like procedure sends them: status, then opaque data (padded), then a trailing word. */
function results(status: number, data: Buffer): Buffer {
  const pad = Buffer.alloc((4 - (data.length % 4)) % 4);
  return Buffer.concat([u32(status, data.length), data, pad, u32(0xabcdef)]);
}

function payload(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 13 + seed) & 0xff;
  return b;
}

const locate = (r: Buffer) => (r.readUInt32BE(0) === 0 ? { at: 8, length: r.readUInt32BE(4) } : undefined);

function read(client: RpcClient, into: ReplyInto, signal?: AbortSignal): Promise<{ status: number; data: Buffer; trailer: number }> {
  return client.call(
    label,
    null,
    (r: XdrReader) => {
      const status = r.u32('status');
      const data = into.placed !== undefined ? placedOpaque(r, into, 'data') : r.opaque(0xffffffff, 'data');
      const trailer = r.u32('trailer');
      r.done('reply');
      return { status, data, trailer };
    },
    { into, signal },
  );
}

async function setup(t: Test, onCall: (c: FakeCall) => void) {
  const server = await FakeRpcServer.start((c) => {
    onCall(c);
  });
  const client = new RpcClient({ host: server.host, port: server.port, timeout: 10_000 });
  t.teardown(async () => {
    await client.close();
    await server.close();
  });
  return { server, client };
}

/** Sends a reply record in pieces with pauses between them, so the client sees separate reads. */
async function sendSlowly(c: FakeCall, body: Buffer, pieces: number[]): Promise<void> {
  const bytes = frame(body);
  let off = 0;
  for (const n of [...pieces, bytes.length]) {
    const end = Math.min(bytes.length, off + n);
    c.conn.send(bytes.subarray(off, end));
    off = end;
    if (off >= bytes.length) break;
    await sleep(20);
  }
  c.drop();
}

t.test('a reply spanning reads lands in dest; the decoder gets a view of it', async (t) => {
  const data = payload(300_001, 3);
  const { client } = await setup(t, (c) => void sendSlowly(c, encodeAcceptedReply(c.xid, SUCCESS, results(0, data)), [1000, 100_000]));
  const dest = Buffer.alloc(300_010, 0xee);
  const into: ReplyInto = { dest, destOffset: 5, max: 300_001, locate };
  const r = await read(client, into);
  t.equal(into.placed, 300_001, 'placed');
  t.equal(r.trailer, 0xabcdef, 'bytes after the payload (padding, trailer) decode');
  t.equal(r.data.buffer, dest.buffer, 'data is a view of dest');
  t.equal(r.data.byteOffset, dest.byteOffset + 5);
  t.same(dest.subarray(5, 300_006), data);
  t.equal(dest[4], 0xee);
  t.equal(dest[300_006], 0xee);
  // The pieces after the first arrive after a pause: the kernel reads them straight into dest.
  t.ok(client.stats.directBytes > 0 && client.stats.directBytes <= 300_001, `payload read into dest with no copy (${client.stats.directBytes} bytes)`);
});

t.test('a reply whole in one read is placed too (the socket buffer is reused); an error status is not', async (t) => {
  let n = 0;
  const { client } = await setup(t, (c) => {
    n++;
    c.reply(n === 1 ? results(0, payload(10, 1)) : results(5, Buffer.alloc(0)));
  });
  const dest = Buffer.alloc(64, 0xee);
  const a: ReplyInto = { dest, destOffset: 3, max: 61, locate };
  const r = await read(client, a);
  t.equal(a.placed, 10, 'placed');
  t.same(r.data, payload(10, 1));
  t.equal(r.data.buffer, dest.buffer, 'a view of dest');
  t.same(dest.subarray(3, 13), payload(10, 1));
  t.equal(r.trailer, 0xabcdef);
  const dest2 = Buffer.alloc(64, 0xee);
  const b: ReplyInto = { dest: dest2, destOffset: 0, max: 64, locate };
  const e = await read(client, b);
  t.equal(e.status, 5);
  t.equal(b.placed, undefined, 'an error reply is not placed');
  t.ok(dest2.every((x) => x === 0xee), 'dest untouched');
});

/** As read(), with a decoder that copies what it keeps (ReplyInto.copies): replies may be decoded in the read buffer. */
function readCopying(client: RpcClient, into: ReplyInto): Promise<{ status: number; data: Buffer; trailer: number }> {
  return client.call(
    label,
    null,
    (r: XdrReader) => {
      const status = r.u32('status');
      const data = receivedOpaque(r, into, 'data');
      const trailer = r.u32('trailer');
      r.done('reply');
      return { status, data, trailer };
    },
    { into },
  );
}

t.test('copies: replies whole in one read are decoded there, each payload copied into its dest before the buffer is read into again', async (t) => {
  const held: FakeCall[] = [];
  const sizes = [12, 7, 20];
  const { client } = await setup(t, (c) => {
    held.push(c);
    if (held.length === 3) {
      // All three in one TCP write: one read, three whole records in the reused buffer.
      c.conn.send(Buffer.concat(held.map((h, i) => frame(encodeAcceptedReply(h.xid, SUCCESS, results(0, payload(sizes[i]!, i + 1)))))));
    } else if (held.length > 3) {
      // A later reply read into the same buffer, over the first three.
      c.reply(results(0, payload(60, 99)));
    }
  });
  const dests = sizes.map(() => Buffer.alloc(32, 0xee));
  // The third asks for fewer bytes than it gets: handed on as a copy, dest untouched.
  const intos: ReplyInto[] = dests.map((dest, i) => ({ dest, destOffset: 2, max: i === 2 ? 10 : 30, locate, copies: true }));
  const rs = await Promise.all(intos.map((into) => readCopying(client, into)));
  await readCopying(client, { dest: Buffer.alloc(64), destOffset: 0, max: 64, locate, copies: true });
  for (let i = 0; i < 3; i++) {
    t.equal(intos[i]!.placed, undefined, `reply ${i} was not placed`);
    t.equal(intos[i]!.inPlace, true, `reply ${i} was decoded in the read buffer`);
    t.same(rs[i]!.data, payload(sizes[i]!, i + 1), `reply ${i}'s data intact after the buffer was reused`);
    t.equal(rs[i]!.trailer, 0xabcdef);
  }
  for (const i of [0, 1]) {
    t.equal(rs[i]!.data.buffer, dests[i]!.buffer, `reply ${i}: a view of its dest`);
    t.same(dests[i]!.subarray(2, 2 + sizes[i]!), payload(sizes[i]!, i + 1));
    t.equal(dests[i]![2 + sizes[i]!], 0xee, 'nothing past the payload');
  }
  t.not(rs[2]!.data.buffer, dests[2]!.buffer, 'more than max: its own copy');
  t.ok(dests[2]!.every((x) => x === 0xee), 'more than max: dest untouched');
});

t.test('a payload larger than max is not placed', async (t) => {
  const data = payload(200_000, 9);
  const { client } = await setup(t, (c) => void sendSlowly(c, encodeAcceptedReply(c.xid, SUCCESS, results(0, data)), [500]));
  const dest = Buffer.alloc(100_000, 0xee);
  const into: ReplyInto = { dest, destOffset: 0, max: 100_000, locate };
  const r = await read(client, into);
  t.equal(into.placed, undefined);
  t.same(r.data, data);
  t.ok(dest.every((x) => x === 0xee), 'dest untouched');
});

t.test('an aborted call stops writing into dest at once; the connection stays in step', async (t) => {
  const data = payload(400_000, 7);
  let first = true;
  let midway!: () => void;
  const reached = new Promise<void>((r) => (midway = r));
  const { client } = await setup(t, (c) => {
    if (!first) {
      c.reply(results(0, payload(8, 2)));
      return;
    }
    first = false;
    void (async () => {
      const bytes = frame(encodeAcceptedReply(c.xid, SUCCESS, results(0, data)));
      c.conn.send(bytes.subarray(0, 150_000));
      await sleep(50);
      midway();
      await sleep(50);
      c.conn.send(bytes.subarray(150_000));
      c.drop();
    })();
  });
  const dest = Buffer.alloc(400_000, 0xee);
  const ac = new AbortController();
  const p = read(client, { dest, destOffset: 0, max: 400_000, locate }, ac.signal);
  await reached;
  const landed = dest.findIndex((x, i) => x === 0xee && i > 0);
  t.ok(landed > 0 && landed < 150_000, `part of the payload landed before the abort (${landed} bytes)`);
  ac.abort();
  await t.rejects(p, AbortError);
  await sleep(150);
  t.ok(dest.subarray(150_000).every((x) => x === 0xee), 'nothing written after the abort, though a read was aimed at dest');
  t.ok(client.stats.directBytes === 0 || client.stats.directBytes < 150_000, 'no direct read completed after the abort');
  const next = await read(client, { dest: Buffer.alloc(8), destOffset: 0, max: 8, locate });
  t.same(next.data, payload(8, 2), 'the next reply decodes: the stream stayed in step');
});
