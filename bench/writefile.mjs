// writeFile of one large buffer, three times: throughput and the process's
// CPU time per call.
//
//   npm run build && node bench/writefile.mjs [--url nfs://127.0.0.1/export] [--mib 256]
import { parseArgs } from 'node:util';
import { connect } from '../dist/index.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.NFS_URL || 'nfs://127.0.0.1/export' },
    mib: { type: 'string', default: '256' },
  },
});
const mib = Number(values.mib);
if (!(mib > 0)) throw new Error(`--mib: ${values.mib}`);
const nfs = await connect(values.url);
const buf = Buffer.alloc(mib * 1024 * 1024, 7);
const path = `/mountless-bench-writefile-${process.pid}.bin`;
try {
  for (let i = 0; i < 3; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await nfs.writeFile(path, buf);
    const s = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    console.log(`writeFile ${mib} MiB: ${(mib / s).toFixed(0)} MiB/s, CPU ${((c.user + c.system) / 1000).toFixed(0)} ms`);
  }
} finally {
  await nfs.unlink(path).catch(() => {});
  await nfs.close();
}
