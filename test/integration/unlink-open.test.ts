// Unlinking a file that is still open (issue 11, defect 4): node keeps the
// open handle usable until its last close. Same steps on node:fs in a local
// directory (the oracle) and over NFS; NFSv3 gets it by "silly rename" (the
// file moves to a hidden .nfs… name until the last close), NFSv4 by its OPEN
// state. Afterwards nothing is left, not even a hidden name.
import { mkdtemp, open as localOpen, readdir as localReaddir, rm, unlink as localUnlink, rename as localRename, writeFile as localWriteFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { scratch } from './_env.js';
import { readdir } from 'node:fs/promises';

interface Fs {
  open(p: string, flags: string): Promise<{ write(b: Buffer, o: number, l: number, p: number): Promise<unknown>; read(b: Buffer, o: number, l: number, p: number): Promise<{ bytesRead: number }>; close(): Promise<void>; stat(): Promise<{ size: number }> }>;
  unlink(p: string): Promise<void>;
  rename(a: string, b: string): Promise<void>;
  writeFile(p: string, d: string): Promise<void>;
  readdir(p: string): Promise<string[]>;
}

/** open, write, unlink, read back, write more, close: what each step returned. */
async function unlinkWhileOpen(fs: Fs, dir: string): Promise<unknown[]> {
  const out: unknown[] = [];
  const h = await fs.open(`${dir}/f`, 'w+');
  await h.write(Buffer.from('before unlink;'), 0, 14, 0);
  await fs.unlink(`${dir}/f`);
  out.push(['listing after unlink', (await fs.readdir(dir)).filter((n) => !n.startsWith('.nfs'))]);
  const b = Buffer.alloc(64);
  out.push(['read after unlink', b.subarray(0, (await h.read(b, 0, 64, 0)).bytesRead).toString()]);
  await h.write(Buffer.from(' and after'), 0, 10, 14);
  out.push(['size', (await h.stat()).size]);
  const b2 = Buffer.alloc(64);
  out.push(['read back', b2.subarray(0, (await h.read(b2, 0, 64, 0)).bytesRead).toString()]);
  await h.close();
  return out;
}

/** rename over a file that is open: the open handle keeps reading the old file. */
async function renameOverOpen(fs: Fs, dir: string): Promise<unknown[]> {
  const out: unknown[] = [];
  await fs.writeFile(`${dir}/target`, 'old contents');
  const h = await fs.open(`${dir}/target`, 'r');
  await fs.writeFile(`${dir}/tmp`, 'new');
  await fs.rename(`${dir}/tmp`, `${dir}/target`);
  const b = Buffer.alloc(64);
  out.push(['open handle still reads the old file', b.subarray(0, (await h.read(b, 0, 64, 0)).bytesRead).toString()]);
  await h.close();
  out.push(['listing', (await fs.readdir(dir)).filter((n) => !n.startsWith('.nfs')).sort()]);
  return out;
}

const local: Fs = {
  open: (p, f) => localOpen(p, f),
  unlink: localUnlink,
  rename: localRename,
  writeFile: (p, d) => localWriteFile(p, d),
  readdir: (p) => localReaddir(p),
};

for (const version of ['3', '4.1']) {
  t.test(`NFSv${version}: unlink and rename-over of an open file, as node:fs`, async (t) => {
    const s = await scratch(t, `unlink-open-v${version.replace('.', '')}`, { version: version as '3' | '4.1' });
    const ldir = await mkdtemp(join(tmpdir(), 'oracle-'));
    t.teardown(() => rm(ldir, { recursive: true, force: true }));
    const nfs = s.nfs as unknown as Fs;
    t.same(await unlinkWhileOpen(nfs, s.dir), await unlinkWhileOpen(local, ldir), 'unlink while open');
    t.same(await renameOverOpen(nfs, s.dir), await renameOverOpen(local, ldir), 'rename over an open file');
    const left = (await readdir(s.local)).filter((n) => n.startsWith('.nfs'));
    t.same(left, [], 'no hidden .nfs name left after the last close (on the server disk)');
    t.same((await s.nfs.readdir(s.dir)).sort(), ['target'], 'only the real names');
  });
}
