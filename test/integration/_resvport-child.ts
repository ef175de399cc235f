// Runs inside scripts/secure-nas's namespace (spawned by resvport.test.ts
// through `scripts/secure-nas exec`): mounts each URL, writes and reads a
// file, and prints one JSON line with what each saw. The parent asserts.
import { connect } from '../../src/index.js';

const jobs = JSON.parse(process.argv[2]!) as { url: string; file: string }[];
const results: Record<string, unknown>[] = [];
for (const j of jobs) {
  try {
    const nfs = await connect(j.url);
    try {
      await nfs.writeFile(j.file, 'secure');
      results.push({ text: await nfs.readFile(j.file, 'utf8') });
      await nfs.unlink(j.file);
    } finally {
      await nfs.close();
    }
  } catch (e) {
    const err = e as { code?: unknown; name?: unknown; message?: unknown };
    results.push({ error: { code: err.code, name: err.name, message: String(err.message) } });
  }
}
console.log(JSON.stringify(results));
