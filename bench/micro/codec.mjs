// Codec micro-benchmarks: node bench/micro/codec.mjs (after npm run build).
// Measures the XDR writer/reader and record framing on the shapes of hot NFSv3 messages.
import { Bench } from 'tinybench';
import { XdrReader } from '../../dist/xdr/reader.js';
import { XdrWriter } from '../../dist/xdr/writer.js';
import { RecordDecoder, recordMark } from '../../dist/rpc/record.js';
import { decodeGetattr3res, decodeRead3res, decodeReaddirplus3res } from '../../dist/nfs3/procedures.js';

const fh = Buffer.alloc(28, 1);
const payload = Buffer.alloc(1 << 20, 2);

function fattr(w) {
  w.u32(1).u32(0o644).u32(1).u32(0).u32(0).u64(4096).u64(4096).u32(0).u32(0).u64(1n).u64(1234n);
  for (let i = 0; i < 3; i++) w.u32(1700000000).u32(5);
}
const getattrReply = (() => { const w = new XdrWriter(); w.u32(0); fattr(w); return w.toBuffer(); })();
const readReply = (() => { const w = new XdrWriter(); w.u32(0).u32(1); fattr(w); w.u32(payload.length).bool(true).opaque(payload); return w.toBuffer(); })();
const rdpReply = (() => {
  const w = new XdrWriter(); w.u32(0).u32(1); fattr(w); w.fixed(Buffer.alloc(8));
  for (let i = 0; i < 100; i++) { w.bool(true).u64(BigInt(i + 10)).string(`file-${i}.dat`).u64(BigInt(i + 1)).u32(1); fattr(w); w.u32(1).opaque(fh); }
  w.bool(false).bool(true);
  return w.toBuffer();
})();
const framed = (() => { const w = new XdrWriter(); const set = w.reserve32(); w.fixed(getattrReply); set(recordMark(getattrReply.length)); return w.toBuffer(); })();
const many = Buffer.concat(Array.from({ length: 64 }, () => framed));

const bench = new Bench({ time: 500 });
bench
  .add('encode WRITE3args 1 MiB (gather, no copy)', () => { const w = new XdrWriter(); w.opaque(fh).u64(0).u32(payload.length).u32(0).opaque(payload); w.buffers(); })
  .add('encode GETATTR3args', () => { const w = new XdrWriter(); w.opaque(fh); w.buffers(); })
  .add('decode GETATTR3res', () => decodeGetattr3res(new XdrReader(getattrReply)))
  .add('decode READ3res 1 MiB (zero-copy view)', () => decodeRead3res(new XdrReader(readReply)))
  .add('decode READDIRPLUS3res 100 entries', () => decodeReaddirplus3res(new XdrReader(rdpReply)))
  .add('frame 64 records from one chunk', () => { let n = 0; const d = new RecordDecoder(1 << 22, () => n++); d.push(many); });
await bench.run();
console.table(bench.table());
