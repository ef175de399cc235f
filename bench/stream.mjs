// Streams a large file through createWriteStream and createReadStream and
// reports throughput and the process's peak RSS: readahead and write-behind
// must keep memory bounded however large the file is.
//
//   npm run build && node bench/stream.mjs [--url nfs://127.0.0.1/export] [--size 4g] [--keep]
//
// The file (/mountless-bench/stream.dat) is written once and kept with
// --keep, so a re-run only reads.
import { pipeline } from 'node:stream/promises';
import { Readable, Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { connect } from '../dist/index.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.NFS_URL || 'nfs://127.0.0.1/export' },
    size: { type: 'string', default: '4g' },
    keep: { type: 'boolean', default: false },
  },
});
const units = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 };
const m = /^(\d+)([kmg]?)$/i.exec(values.size);
if (!m) throw new Error(`--size: ${values.size}`);
const size = Number(m[1]) * (units[m[2].toLowerCase()] ?? 1);
const path = '/mountless-bench/stream.dat';

let peak = 0;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 50);
const mib = (n) => (n / 2 ** 20).toFixed(0);
const nfs = await connect(values.url);
await nfs.mkdir('/mountless-bench', { recursive: true });

const have = await nfs.stat(path).then((s) => s.size, () => -1);
if (have !== size) {
  peak = process.memoryUsage.rss();
  const chunk = Buffer.alloc(1 << 20, 0x5a);
  let left = size;
  const src = new Readable({
    read() {
      if (left <= 0) return this.push(null);
      const n = Math.min(left, chunk.length);
      left -= n;
      this.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    },
  });
  const t0 = performance.now();
  await pipeline(src, nfs.createWriteStream(path));
  const s = (performance.now() - t0) / 1000;
  console.log(`createWriteStream ${mib(size)} MiB: ${(size / 2 ** 20 / s).toFixed(0)} MiB/s, peak RSS ${mib(peak)} MiB`);
}

peak = process.memoryUsage.rss();
let got = 0;
const t0 = performance.now();
await pipeline(
  nfs.createReadStream(path),
  new Writable({
    write(c, _e, cb) {
      got += c.length;
      cb();
    },
  }),
);
const s = (performance.now() - t0) / 1000;
console.log(`createReadStream ${mib(got)} MiB: ${(got / 2 ** 20 / s).toFixed(0)} MiB/s, peak RSS ${mib(peak)} MiB`);
if (got !== size) console.log(`error: read ${got} bytes of ${size}`);
if (!values.keep) await nfs.unlink(path);
await nfs.close();
clearInterval(sampler);
process.exitCode = got === size ? 0 : 1;
