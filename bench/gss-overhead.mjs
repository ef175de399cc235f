// What krb5, krb5i and krb5p cost against sys on the same server: 4 KiB
// pread/pwrite (client CPU µs per op, ops/s) and 1 MiB (MiB/s, CPU µs per
// op), one file each, a few seconds per row. Runs inside scripts/krb5-nas's
// namespace (the Kerberos NAS and its AUTH_SYS export):
//
//   npm run build && eval "$(scripts/krb5-nas start)" &&
//   scripts/krb5-nas exec node bench/gss-overhead.mjs [--ops4k 2000] [--ops1m 64] [--version 4.1]
import { parseArgs } from 'node:util';
import { connect } from '../dist/index.js';

const { values } = parseArgs({
  options: {
    ops4k: { type: 'string', default: '2000' },
    ops1m: { type: 'string', default: '64' },
    version: { type: 'string', default: '4.1' },
    depth: { type: 'string', default: '8' },
  },
});
const env = process.env;
const krb5 = { keytab: env.MOUNTLESS_KDC_CLIENT_KEYTAB, principal: 'alice' };
const rows = [];

async function measure(fh, size, ops, write) {
  const buf = Buffer.alloc(size, 5);
  const depth = Number(values.depth);
  let next = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: depth }, async () => {
      while (next < ops) {
        const i = next++;
        const at = (i % 16) * size;
        if (write) await fh.write(buf, 0, size, at);
        else await fh.read(buf, 0, size, at);
      }
    }),
  );
  const s = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { opsPerSec: Math.round(ops / s), mibPerSec: +((ops * size) / 1048576 / s).toFixed(1), cpuUsPerOp: +((c.user + c.system) / ops).toFixed(1) };
}

for (const sec of ['sys', 'krb5', 'krb5i', 'krb5p']) {
  const url = `${sec === 'sys' ? env.MOUNTLESS_KRB5_NAS_SYS_URL : env.MOUNTLESS_KRB5_NAS_URL}?version=${values.version}&sec=${sec}`;
  const nfs = await connect(url, sec === 'sys' ? { uid: 0, gid: 0 } : { krb5 });
  const path = `/gss-bench-${process.pid}-${sec}`;
  const fh = await nfs.open(path, 'w+');
  try {
    await fh.write(Buffer.alloc(16 << 20, 1), 0, 16 << 20, 0);
    for (const [size, ops] of [[4096, Number(values.ops4k)], [1 << 20, Number(values.ops1m)]]) {
      for (const write of [true, false]) {
        await measure(fh, size, Math.min(ops, 50), write); // warm-up
        rows.push({ sec, op: `${write ? 'write' : 'read'} ${size === 4096 ? '4 KiB' : '1 MiB'}`, ...(await measure(fh, size, ops, write)) });
      }
    }
  } finally {
    await fh.close();
    await nfs.unlink(path).catch(() => {});
    await nfs.close();
  }
}
console.table(rows);
console.log(JSON.stringify(rows));
