// Library use: node examples/basic.mjs [nfs://host/export]
// Run `npm run build` first; in your own project, `import { connect } from 'mountless'`.
import { connect } from '../dist/index.js';

const url = process.argv[2] ?? process.env.NFS_URL ?? 'nfs://127.0.0.1/export';
const nfs = await connect(url);
try {
  await nfs.mkdir('/examples', { recursive: true });
  await nfs.writeFile('/examples/greeting.txt', 'hello over NFS\n');
  await nfs.appendFile('/examples/greeting.txt', 'no kernel mount needed\n');
  console.log(await nfs.readFile('/examples/greeting.txt', 'utf8'));

  // FileHandle: positional reads and writes, as node:fs/promises.
  const fh = await nfs.open('/examples/greeting.txt', 'r+');
  try {
    await fh.write('HELLO', 0);
    const { bytesRead, buffer } = await fh.read(Buffer.alloc(5), 0, 5, 0);
    console.log(bytesRead, buffer.toString());
  } finally {
    await fh.close(); // COMMITs unstable writes
  }

  for (const d of await nfs.readdir('/examples', { withFileTypes: true })) {
    const st = await nfs.stat(`/examples/${d.name}`);
    console.log(d.isDirectory() ? 'dir ' : 'file', d.name, st.size, 'bytes');
  }

  try {
    await nfs.readFile('/examples/missing');
  } catch (err) {
    console.log('as node reports it:', err.code, err.message);
  }
  await nfs.rm('/examples', { recursive: true });
} finally {
  await nfs.close();
}
