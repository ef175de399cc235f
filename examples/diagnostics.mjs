// Watching the RPC traffic: node examples/diagnostics.mjs [nfs://host/export]
// Run `npm run build` first; in your own project, `import { connect } from 'mountless'`.
//
// Every RPC call is published on node:diagnostics_channel (README,
// "Observability"); with no subscriber nothing is built. This counts the
// calls a few fs operations make, per procedure, with their total time.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { connect } from '../dist/index.js';

const url = process.argv[2] ?? process.env.NFS_URL ?? 'nfs://127.0.0.1/export';

/** procedure name → { ok, failed, ms } */
const calls = new Map();
const onSettle = (m) => {
  const c = calls.get(m.name) ?? { ok: 0, failed: 0, ms: 0 };
  // outcome 'ok' means a reply came back, even one carrying an NFS error status.
  if (m.outcome === 'ok') c.ok++;
  else c.failed++;
  c.ms += m.duration;
  calls.set(m.name, c);
};
subscribe('mountless:rpc:call:settle', onSettle);

const nfs = await connect(url);
try {
  await nfs.mkdir('/diagnostics-example', { recursive: true });
  await nfs.writeFile('/diagnostics-example/data.bin', Buffer.alloc(64 * 1024, 7));
  const back = await nfs.readFile('/diagnostics-example/data.bin');
  console.log('read back', back.length, 'bytes');
  await nfs.stat('/diagnostics-example/missing').catch((err) => console.log('stat of a missing file:', err.code));
  await nfs.rm('/diagnostics-example', { recursive: true });
} finally {
  await nfs.close();
  unsubscribe('mountless:rpc:call:settle', onSettle);
}

for (const [name, c] of [...calls].sort(([a], [b]) => a.localeCompare(b))) {
  console.log(`${name}: ${c.ok} ok, ${c.failed} failed, ${c.ms.toFixed(1)} ms`);
}
