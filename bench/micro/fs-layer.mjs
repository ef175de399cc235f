// The fs layer's own cost per FileHandle.read/write, without RPC or server:
//   node bench/micro/fs-layer.mjs [read4k|write4k] [ops] [depth]   (after npm run build)
// A stub Backend answers every READ/WRITE with an already-resolved promise, so what is measured
// is FileHandle's argument handling, call bookkeeping, readInto/writeFrom, retention of unstable
// writes and the promises between them: the part above the RPC core (bench/micro/rpc-roundtrip.mjs
// measures that one). Prints process CPU µs per call (user + system).
import { FileHandle } from '../../dist/fs/file-handle.js';
import { parseFlags } from '../../dist/fs/flags.js';
import { constants } from 'node:fs';

const kind = process.argv[2] ?? 'read4k';
const ops = Number(process.argv[3] ?? 1_000_000);
const depth = Number(process.argv[4] ?? 32);
const bs = 4096;
const verf = Buffer.alloc(8, 1);
const readReply = { data: Buffer.alloc(bs), eof: false, attrs: undefined };

const backend = {
  version: 'stub',
  limits: { rsize: 1 << 20, wsize: 1 << 20 },
  read(_fh, _off, len, _o, _state, dest) {
    // As a placed reply: the bytes are already in the caller's buffer.
    const data = dest ? Buffer.from(dest.buf.buffer, dest.buf.byteOffset + dest.offset, len) : readReply.data;
    return Promise.resolve({ data, eof: false, attrs: undefined });
  },
  write(_fh, _off, data) {
    return Promise.resolve({ count: data.length, committed: 'unstable', verf });
  },
  commit() {
    return Promise.resolve(verf);
  },
  getattr() {
    return Promise.reject(new Error('not in this benchmark'));
  },
};

const write = kind.startsWith('write');
// O_DIRECT as bench --direct=1: no readahead.
const fh = new FileHandle(backend, Buffer.alloc(32), parseFlags((write ? constants.O_RDWR : constants.O_RDONLY) | constants.O_DIRECT), '/bench', 4096);

async function worker(n, buf) {
  for (let i = 0; i < n; i++) {
    const at = ((i * 7919) % 65536) * bs;
    if (write) await fh.write(buf, 0, bs, at);
    else await fh.read(buf, 0, bs, at);
  }
}

async function run(n) {
  const per = Math.ceil(n / depth);
  const ws = [];
  for (let d = 0; d < depth; d++) ws.push(worker(per, Buffer.alloc(bs, d)));
  await Promise.all(ws);
  return per * depth;
}

await run(Math.min(ops, 100_000)); // warm up
const t0 = process.cpuUsage();
const w0 = performance.now();
const done = await run(ops);
const cpu = process.cpuUsage(t0);
const wall = performance.now() - w0;
console.log(`${kind}: ${done} calls, depth ${depth}: ${((cpu.user + cpu.system) / done).toFixed(2)} µs/op CPU (user ${(cpu.user / done).toFixed(2)}, sys ${(cpu.system / done).toFixed(2)}), ${(wall * 1000 / done).toFixed(2)} µs/op wall`);
await fh.close();
