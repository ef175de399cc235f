import { quickBench } from '../bench/quick.js';
import type { NfsClient } from '../fs/client.js';
import { UsageError } from './args.js';
import type { Command } from './command.js';

/**
 * The README's main job: write, list, read back and stat a few files, time
 * a simple stat loop, printing each step; then (`mountless demo` without
 * --no-bench) a short benchmark.
 */
export async function demo(nfs: NfsClient, url: string, log: (s: string) => void): Promise<void> {
  const dir = `/mountless-demo-${process.pid}`;
  const t0 = performance.now();
  const ms = () => `${(performance.now() - t0).toFixed(1)} ms`;
  log(`connected to ${url} (NFSv${nfs.version}, rsize ${nfs.backend.limits.rsize}, wsize ${nfs.backend.limits.wsize})`);
  await nfs.mkdir(`${dir}/sub`, { recursive: true });
  log(`mkdir -p ${dir}/sub                      ${ms()}`);
  await nfs.writeFile(`${dir}/hello.txt`, 'Hello from mountless: NFS without a kernel mount.\n');
  log(`writeFile ${dir}/hello.txt              ${ms()}`);
  const big = Buffer.alloc(16 * 1024 * 1024);
  for (let i = 0; i < big.length; i += 4) big.writeUInt32LE(i, i);
  let t = performance.now();
  await nfs.writeFile(`${dir}/sub/16MiB.bin`, big);
  const wms = performance.now() - t;
  log(`writeFile ${dir}/sub/16MiB.bin          ${wms.toFixed(1)} ms (${(16 / (wms / 1000)).toFixed(0)} MiB/s)`);
  await nfs.symlink('hello.txt', `${dir}/link-to-hello`);
  log(`symlink ${dir}/link-to-hello -> hello.txt`);
  const names = await nfs.readdir(dir, { withFileTypes: true });
  log(`readdir ${dir}:`);
  for (const d of names.sort((a, b) => a.name.localeCompare(b.name))) {
    const kind = d.isDirectory() ? 'dir ' : d.isSymbolicLink() ? 'link' : 'file';
    log(`  ${kind}  ${d.name}`);
  }
  const text = await nfs.readFile(`${dir}/link-to-hello`, 'utf8');
  log(`readFile ${dir}/link-to-hello: ${JSON.stringify(text)}`);
  t = performance.now();
  const back = (await nfs.readFile(`${dir}/sub/16MiB.bin`)) as Buffer;
  const rms = performance.now() - t;
  log(`readFile ${dir}/sub/16MiB.bin: ${back.equals(big) ? 'identical' : 'DIFFERENT'} (${rms.toFixed(1)} ms, ${(16 / (rms / 1000)).toFixed(0)} MiB/s)`);
  if (!back.equals(big)) throw new Error('read-back mismatch');
  const st = await nfs.stat(`${dir}/hello.txt`);
  log(`stat ${dir}/hello.txt: size ${st.size}, mode ${(st.mode & 0o7777).toString(8)}, ino ${st.ino}, mtime ${st.mtime.toISOString()}`);
  const n = 2000;
  t = performance.now();
  for (let i = 0; i < n; i++) await nfs.stat(`${dir}/hello.txt`);
  const seq = n / ((performance.now() - t) / 1000);
  t = performance.now();
  await Promise.all(Array.from({ length: n }, () => nfs.stat(`${dir}/hello.txt`)));
  const par = n / ((performance.now() - t) / 1000);
  log(`stat loop: ${seq.toFixed(0)} stat/s one at a time, ${par.toFixed(0)} stat/s with ${n} in parallel (attribute and name caches on)`);
  await nfs.rm(dir, { recursive: true });
  log(`rm -r ${dir}                            ${ms()}`);
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'write, list, read back and stat files on the volume; time a stat loop',
  help: `usage: mountless demo [--url nfs://host/export] [--bench-seconds N] [--no-bench]

Makes a scratch directory on the volume, writes, lists, reads back and stats
files in it, times a stat loop, then removes it. Then a short benchmark
(4 KiB random read/write at depth 32, 1 MiB read/write at depth 8, uncached
stat), N seconds each (default 3), side by side with libnfs where
libnfs-dev and gcc are installed; --no-bench skips it.`,
  options: [
    { name: 'url', value: true },
    { name: 'bench-seconds', value: true },
    { name: 'no-bench' },
    { name: 'help', short: 'h' },
  ],
  async run({ io, remotes, args }) {
    const nfs = await remotes.base();
    const log = (s: string) => io.stdout.write(s + '\n');
    await demo(nfs, remotes.baseUrl!, log);
    if (args.flags.has('no-bench')) return 0;
    const given = args.flags.get('bench-seconds');
    const seconds = given === undefined ? 3 : Number(given);
    if (!(Number.isInteger(seconds) && seconds >= 1 && seconds <= 600)) throw new UsageError(`--bench-seconds: expected an integer 1..600, got ${String(given)}`);
    await quickBench({ url: remotes.baseUrl!, seconds, dir: `/mountless-demo-bench-${process.pid}`, log });
    return 0;
  },
};
