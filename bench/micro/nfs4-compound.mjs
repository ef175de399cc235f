// NFSv4.1 COMPOUND micro-benchmarks: node bench/micro/nfs4-compound.mjs (after npm run build).
// Measures, without a socket: encode of SEQUENCE+PUTFH+READ, decode of its reply, fattr4 decode
// of a stat, and whole round trips through a Session over a stub RPC client that answers at once
// (the v4 layer's own cost per call: slots, SEQUENCE, ops, COMPOUND encode/decode, promises).
// `loop stat N` runs NfsClient.stat of a 4-component path (noac) through Nfs4Backend over the
// same stub: the fs layer and the v4 layer together, as an uncached stat runs them.
import { Bench } from 'tinybench';
import { XdrReader } from '../../dist/xdr/reader.js';
import { XdrWriter } from '../../dist/xdr/writer.js';
import { decodeCompound, encodeCompound } from '../../dist/nfs4/compound.js';
import { opGetattr, opPutfh, opRead, opSequence, opWrite, ANONYMOUS_STATEID } from '../../dist/nfs4/ops.js';
import { bitmap4Bytes, decodeFattr4, fattr4ToAttrs, STAT_ATTRS } from '../../dist/nfs4/attrs.js';
import { Session } from '../../dist/nfs4/session.js';
import { Nfs4Backend } from '../../dist/nfs4/backend.js';
import { NfsClient } from '../../dist/fs/client.js';
import { resolveOptions } from '../../dist/options.js';
import * as C from '../../dist/nfs4/constants.js';

const fh = Buffer.alloc(40, 7);
const sessionid = Buffer.alloc(16, 9);
const data4k = Buffer.alloc(4096, 3);
const stateid = { seqid: 0, other: Buffer.alloc(12, 5) };
const STAT_REQUEST = bitmap4Bytes(STAT_ATTRS);

/** fattr4 with STAT_ATTRS as Ganesha sends it. */
function statFattr(w, type = C.NF4REG) {
  w.u32(STAT_ATTRS.length);
  for (const x of STAT_ATTRS) w.u32(x);
  const v = new XdrWriter(256);
  v.u32(type).u64(4096).u64(0x1234).u64(0).u64(123456789).u32(0o644).u32(1).string('1000').string('1000').u32(0).u32(0).u64(4096);
  for (let i = 0; i < 3; i++) v.i64(1700000000).u32(5);
  w.opaque(v.toBuffer());
}
const fattrBytes = (() => { const w = new XdrWriter(); statFattr(w); return w.toBuffer(); })();

function sequenceRes(w, seq, slot) {
  w.u32(C.OP_SEQUENCE).u32(0).fixed(sessionid).u32(seq).u32(slot).u32(63).u32(63).u32(0);
}

/** Results after SEQUENCE, by COMPOUND tag. */
const BODIES = {
  read: (w) => { w.u32(C.OP_PUTFH).u32(0).u32(C.OP_READ).u32(0).bool(false).opaque(data4k); return 2; },
  write: (w) => { w.u32(C.OP_PUTFH).u32(0).u32(C.OP_WRITE).u32(0).u32(4096).u32(C.FILE_SYNC4).fixed(Buffer.alloc(8, 1)); return 2; },
  getattr: (w) => { w.u32(C.OP_PUTFH).u32(0).u32(C.OP_GETATTR).u32(0); statFattr(w); return 2; },
  reclaim_complete: (w) => { w.u32(C.OP_RECLAIM_COMPLETE).u32(0); return 1; },
};

/** PUTFH/PUTROOTFH + LOOKUP x (ops - 3) + GETFH + GETATTR, all NFS4_OK: a directory at mount (no LOOKUP), else a file. */
function resolveBody(w, ops) {
  w.u32(C.OP_PUTFH).u32(0);
  for (let i = 0; i < ops - 3; i++) w.u32(C.OP_LOOKUP).u32(0);
  w.u32(C.OP_GETFH).u32(0).opaque(fh);
  w.u32(C.OP_GETATTR).u32(0);
  statFattr(w, ops === 3 ? C.NF4DIR : C.NF4REG);
  return ops;
}

function compoundReply(tag, body) {
  const w = new XdrWriter(8192);
  w.u32(0).string(tag);
  const n = w.reserve32();
  n(body(w));
  return w.toBuffer();
}

/**
 * An RpcClient stand-in: encodes the call as the real one does (one XdrWriter), answers with the
 * reply to the COMPOUND's tag, SEQUENCE's slot and sequenceid echoed, decoded in the same tick.
 */
function stubRpc() {
  const replies = new Map();
  return {
    pending: 0,
    close: () => Promise.resolve(),
    call(label, encode, decode) {
      const w = new XdrWriter(256);
      encode(w);
      const req = w.toBuffer();
      const r = new XdrReader(req);
      const tag = r.string();
      r.u32();
      const n = r.u32();
      let reply;
      if (tag === 'exchange_id') {
        const x = new XdrWriter();
        x.u32(0).string(tag).u32(1).u32(C.OP_EXCHANGE_ID).u32(0).u64(42n).u32(1).u32(0).u32(C.SP4_NONE).u64(0n).opaque(Buffer.from('srv')).opaque(Buffer.from('scope')).u32(0);
        reply = x.toBuffer();
      } else if (tag === 'create_session') {
        const x = new XdrWriter();
        x.u32(0).string(tag).u32(1).u32(C.OP_CREATE_SESSION).u32(0).fixed(sessionid).u32(1).u32(0);
        for (let i = 0; i < 2; i++) x.u32(0).u32(1 << 21).u32(1 << 21).u32(16384).u32(16).u32(64).u32(0);
        reply = x.toBuffer();
      } else {
        r.u32(); // OP_SEQUENCE
        r.fixed(16);
        const seq = r.u32();
        const slot = r.u32();
        // A path walk (PUTROOTFH or PUTFH + LOOKUP... + GETFH + GETATTR) is answered for its length.
        const key = tag === 'resolve' ? `resolve/${n}` : tag;
        let base = replies.get(key);
        if (!base) replies.set(key, (base = compoundReply(tag, (x) => { sequenceRes(x, 0, 0); return 1 + (tag === 'resolve' ? resolveBody(x, n - 1) : BODIES[tag](x)); })));
        // Decoded before call() returns, so one reply buffer per tag serves every call.
        reply = base;
        const at = 4 + 4 + ((tag.length + 3) & ~3) + 4 + 8 + 16;
        reply.writeUInt32BE(seq, at);
        reply.writeUInt32BE(slot, at + 4);
        // The walk's first op: PUTROOTFH at mount, PUTFH after.
        if (tag === 'resolve') {
          r.u32(); // sa_highest_slotid
          r.u32(); // sa_cachethis
          reply.writeUInt32BE(r.u32() === C.OP_PUTROOTFH ? C.OP_PUTROOTFH : C.OP_PUTFH, at + 20);
        }
      }
      try {
        return Promise.resolve(decode(new XdrReader(reply)));
      } catch (e) {
        return Promise.reject(e);
      }
    },
  };
}

const session = await Session.establish(stubRpc(), {
  minorVersion: 1,
  owner: { verifier: Buffer.alloc(8, 1), ownerid: Buffer.from('bench') },
  slots: 64,
  maxRequestSize: 1 << 21,
  maxResponseSize: 1 << 21,
  timeout: 0,
});

const readOps = () => [opSequence({ sessionid, sequenceid: 5, slotid: 3, highestSlotid: 31, cachethis: false }), opPutfh(fh), opRead(stateid, 8192, 4096)];
const readReply = compoundReply('read', (x) => { sequenceRes(x, 5, 3); return 1 + BODIES.read(x); });

const ROUND_TRIPS = {
  read: () => session.run('read', [opPutfh(fh), opRead(ANONYMOUS_STATEID, 0, 4096)]),
  write: () => session.run('write', [opPutfh(fh), opWrite(ANONYMOUS_STATEID, 0, C.FILE_SYNC4, data4k)]),
  getattr: () => session.run('getattr', [opPutfh(fh), opGetattr(STAT_REQUEST)]),
};

// `loop KIND N`: N round trips, 32 in flight, CPU µs per call printed (for --cpu-prof and quick A/B).
if (process.argv[2] === 'loop') {
  if (process.argv[3] === 'stat') {
    // The mount's own walk and session go through the same stub (MOUNT_ATTRS answered with the stat ones).
    const backend = await Nfs4Backend.mount({ host: 'stub', path: '/', rpc: stubRpc(), auth: undefined }, resolveOptions({ version: '4.1', noac: true }));
    const nfs = new NfsClient(backend, { umask: 0o22, readonly: false });
    const paths = Array.from({ length: 1000 }, (_, i) => `/bench/tree/j0/f${i}`);
    let k = 0;
    ROUND_TRIPS.stat = () => nfs.stat(paths[k++ % 1000]);
  }
  const fn = ROUND_TRIPS[process.argv[3] ?? 'read'];
  const n = Number(process.argv[4] ?? 200000);
  const run = async (count) => {
    let left = count;
    const worker = async () => { while (left-- > 0) await fn(); };
    await Promise.all(Array.from({ length: 32 }, worker));
  };
  await run(20000);
  const c0 = process.cpuUsage();
  await run(n);
  const c = process.cpuUsage(c0);
  console.log(`${process.argv[3] ?? 'read'}: ${((c.user + c.system) / n).toFixed(2)} µs CPU per round trip`);
  process.exit(0);
}

const bench = new Bench({ time: 500 });
bench
  .add('encode SEQUENCE+PUTFH+READ (ops built too)', () => { const w = new XdrWriter(256); encodeCompound(w, 'read', 1, readOps()); w.buffers(); })
  .add('decode SEQUENCE+PUTFH+READ 4 KiB reply', () => decodeCompound(new XdrReader(readReply), readOps()))
  .add('decode fattr4 (stat attributes)', () => decodeFattr4(new XdrReader(fattrBytes)))
  .add('decode fattr4 + fattr4ToAttrs', () => fattr4ToAttrs(decodeFattr4(new XdrReader(fattrBytes))))
  .add('Session round trip PUTFH+READ 4 KiB', ROUND_TRIPS.read)
  .add('Session round trip PUTFH+WRITE 4 KiB', ROUND_TRIPS.write)
  .add('Session round trip PUTFH+GETATTR', ROUND_TRIPS.getattr);
await bench.run();
console.table(bench.table());
