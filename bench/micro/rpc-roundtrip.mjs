// Call round trip over loopback against a canned server in a child process:
//   node bench/micro/rpc-roundtrip.mjs [read4k|write4k|read1m|getattr] [ops] [depth]
// (after npm run build). Prints the client process's CPU µs per call (user + system):
// the RPC core's and NFSv3 codec's cost per operation, without a real server.
// The child answers every call with one precomputed reply (its xid patched in).
// READ and WRITE go as the fs layer sends them without an attribute cache: into the caller's buffer,
// decoded in the read buffer (copies), post-op attributes and wcc_data skipped.
import { fork } from 'node:child_process';
import { createServer } from 'node:net';
import { RpcClient } from '../../dist/rpc/client.js';
import { XdrWriter } from '../../dist/xdr/writer.js';
import { recordMark } from '../../dist/rpc/record.js';
import { nfs3Getattr, nfs3Read, nfs3Write, locateRead3data } from '../../dist/nfs3/procedures.js';

const kind = process.argv[2] ?? 'read4k';
const size = kind === 'read1m' || kind === 'write1m' ? 1 << 20 : 4096;

function fattr(w) {
  w.u32(1).u32(0o644).u32(1).u32(0).u32(0).u64(size).u64(size).u32(0).u32(0).u64(1n).u64(1234n);
  for (let i = 0; i < 3; i++) w.u32(1700000000).u32(5);
}

function reply() {
  const w = new XdrWriter();
  const set = w.reserve32();
  w.u32(0).u32(1).u32(0).u32(0).u32(0).u32(0); // xid, REPLY, MSG_ACCEPTED, AUTH_NONE verf, SUCCESS
  if (kind.startsWith('read')) {
    w.u32(0).u32(1);
    fattr(w);
    w.u32(size).bool(false).opaque(Buffer.alloc(size, 7));
  } else if (kind.startsWith('write')) {
    w.u32(0).u32(1).u64(0).u32(1).u32(2).u32(3).u32(4).u32(1); // status, pre_op (size, mtime, ctime)
    fattr(w);
    w.u32(size).u32(0).fixed(Buffer.alloc(8, 9));
  } else {
    w.u32(0);
    fattr(w);
  }
  set(recordMark(w.length - 4));
  return w.toBuffer();
}


if (process.env.RPC_RT_SERVE) {
  const canned = reply();
  const srv = createServer((s) => {
    let acc = Buffer.alloc(0);
    s.setNoDelay(true);
    s.on('data', (c) => {
      acc = acc.length ? Buffer.concat([acc, c]) : c;
      const out = [];
      while (acc.length >= 4) {
        const n = acc.readUInt32BE(0) & 0x7fffffff;
        if (acc.length < 4 + n) break;
        const r = Buffer.from(canned);
        r.writeUInt32BE(acc.readUInt32BE(4), 4);
        out.push(r);
        acc = acc.subarray(4 + n);
      }
      if (out.length) s.write(Buffer.concat(out));
    });
    s.on('error', () => {});
  });
  srv.listen(0, '127.0.0.1', () => process.send(srv.address().port));
} else {
  const ops = Number(process.argv[3] ?? (size > 4096 ? 5000 : 100000));
  const depth = Number(process.argv[4] ?? (size > 4096 ? 8 : 32));
  const child = fork(new URL(import.meta.url).pathname, [kind], { env: { ...process.env, RPC_RT_SERVE: '1' } });
  const port = await new Promise((r) => child.once('message', r));
  const rpc = new RpcClient({ host: '127.0.0.1', port, retry: { timeo: 60000, retrans: 3, hard: true } });
  await rpc.connect();
  const fh = Buffer.alloc(28, 1);
  const data = Buffer.alloc(size, 3);
  const dests = Array.from({ length: depth }, () => Buffer.alloc(size));
  const one = (slot) => {
    if (kind.startsWith('read')) return nfs3Read(rpc, fh, 0, size, { into: { dest: dests[slot], destOffset: 0, max: size, locate: locateRead3data, copies: true } }, false);
    if (kind.startsWith('write')) return nfs3Write(rpc, fh, 0, data, 0, undefined, false);
    return nfs3Getattr(rpc, fh);
  };
  const run = async (n) => {
    let issued = 0;
    await Promise.all(Array.from({ length: depth }, async (_, slot) => {
      while (issued < n) {
        issued++;
        await one(slot);
      }
    }));
  };
  await run(Math.min(ops, 20000)); // warm up
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await run(ops);
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  console.log(JSON.stringify({ kind, ops, depth, userUsPerOp: +(c.user / ops).toFixed(2), sysUsPerOp: +(c.system / ops).toFixed(2), cpuUsPerOp: +((c.user + c.system) / ops).toFixed(2), opsPerSec: Math.round(ops / (wall / 1000)), ...(rpc.stats.directBytes !== undefined ? { directMiB: Math.round(rpc.stats.directBytes / 1048576) } : {}) }));
  await rpc.close();
  child.kill();
}
