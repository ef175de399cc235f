// Sparse files through snapshot → restore: over NFSv4.2 the holes are found
// with SEEK, over NFSv3 by reading and finding zero blocks; either way the
// archive stores only the data (GNU sparse 1.0), GNU tar extracts it right,
// and the restored files have their holes again on the server's disk
// (st_blocks far below the size), with the same sha256, size, mode, owner
// and mtime. A file of written zeros (allocated, not sparse) stays dense.
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { chown, link, mkdtemp, open, readFile, rm, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { openVolumes, MARKER } from '../../src/volume/index.js';
import { scratch } from './_env.js';
import { comparable, diskTree, linkGroups, sha256File } from './_volume-tree.js';

const MiB = 2 ** 20;

function pattern(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i + 4 <= n; i += 4) b.writeUInt32LE(((i + seed) * 2654435761) >>> 0, i);
  for (let i = n - (n % 4); i < n; i++) b[i] = 0x5a;
  return b;
}

/** Writes `regions` of pattern data into a file of `size` bytes, everything else left as holes. */
async function sparseFile(path: string, size: number, regions: [number, number][]): Promise<number> {
  await writeFile(path, '');
  await truncate(path, size);
  const fh = await open(path, 'r+');
  let data = 0;
  for (const [off, len] of regions) {
    await fh.write(pattern(len, off), 0, len, off);
    data += len;
  }
  await fh.close();
  return data;
}

/** The sparse files of the volume: name → [size, data bytes]. */
const SPARSE: Record<string, { size: number; regions: [number, number][] }> = {
  'holes.bin': { size: 64 * MiB, regions: [[0, 64 * 1024], [32 * MiB, MiB], [48 * MiB + 4096, 4096]] },
  'dir/tail-data.bin': { size: 16 * MiB + 100, regions: [[15 * MiB, MiB + 100]] },
  'all-hole.bin': { size: 20 * MiB, regions: [] },
};

async function populate(root: string): Promise<void> {
  await import('node:fs/promises').then((f) => f.mkdir(join(root, 'dir')));
  for (const [name, { size, regions }] of Object.entries(SPARSE)) await sparseFile(join(root, name), size, regions);
  await writeFile(join(root, 'dense-zeros.bin'), Buffer.alloc(2 * MiB));
  await writeFile(join(root, 'small.txt'), 'small\n');
  await link(join(root, 'holes.bin'), join(root, 'dir/holes-link'));
  await chown(join(root, 'dir/tail-data.bin'), 1234, 5678);
  await utimes(join(root, 'holes.bin'), 1_500_000_000, 1_500_000_000.5);
  await utimes(join(root, 'all-hole.bin'), 1_400_000_000, 1_400_000_000.25);
}

async function blocksOf(path: string): Promise<number> {
  return (await stat(path)).blocks * 512;
}

for (const version of ['4.2', '3'] as const) {
  t.test(`NFSv${version}: sparse files snapshot to a tar with holes, GNU tar extracts them, restore brings the holes back`, async (t: Test) => {
    const s = await scratch(t, `vol-sparse-v${version.replace('.', '')}`, { version });
    const vols = await openVolumes(s.nfs, { base: s.dir });
    await vols.create('sp');
    const src = s.localAt('sp');
    await populate(src);
    for (const name of Object.keys(SPARSE)) t.ok((await blocksOf(join(src, name))) < (await stat(join(src, name))).size / 4, `fixture ${name} is sparse on the server's disk`);

    const tmp = await mkdtemp(join(tmpdir(), 'mountless-sparse-'));
    t.teardown(() => rm(tmp, { recursive: true, force: true }));
    const file = join(tmp, 'sp.tar');
    const manifest: string[] = [];
    const snap = await vols.snapshot('sp', {
      to: createWriteStream(file),
      manifest: new Writable({
        write: (c: Buffer, _e, cb) => {
          manifest.push(c.toString());
          cb();
        },
      }),
    });
    const dataBytes = Object.values(SPARSE).reduce((n, f) => n + f.regions.reduce((m, [, l]) => m + l, 0), 0);
    const holeBytes = Object.values(SPARSE).reduce((n, f) => n + f.size, 0) - dataBytes;
    t.equal(snap.sparse.files, 3, 'the three sparse files archived sparse, the dense file of zeros not');
    if (version === '4.2') t.same({ seek: snap.sparse.bySeek, zeros: snap.sparse.byZeros }, { seek: 3, zeros: 0 }, 'holes found with SEEK');
    else t.same({ seek: snap.sparse.bySeek, zeros: snap.sparse.byZeros }, { seek: 0, zeros: 3 }, 'no SEEK over NFSv3: holes found as zero blocks');
    t.ok(snap.sparse.holeBytes >= holeBytes - 3 * 4096 && snap.sparse.holeBytes <= holeBytes, `hole bytes not stored: ${snap.sparse.holeBytes} (the fixture has ${holeBytes})`);
    const tarSize = (await stat(file)).size;
    t.ok(tarSize < dataBytes + 2 * MiB + 64 * 1024, `the archive holds the data, not the holes: ${tarSize} bytes for ${(100 * MiB).toLocaleString()}+ bytes of files`);

    // The manifest's sha256 is that of the whole file, holes as zeros.
    const man = new Map(
      manifest
        .join('')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { path: string; sha256?: string; holes?: number })
        .map((m) => [m.path.replace(/^\.\//, ''), m]),
    );
    // holes.bin has a second name: whichever the walk met first is the file, the other a link to it.
    const entryOf = (name: string) => (name === 'holes.bin' ? (man.get(name)?.sha256 ? man.get(name) : man.get('dir/holes-link')) : man.get(name));
    for (const name of [...Object.keys(SPARSE), 'dense-zeros.bin']) {
      t.equal(entryOf(name)?.sha256, await sha256File(join(src, name)), `manifest sha256 of ${name}`);
    }
    t.ok((entryOf('holes.bin')?.holes ?? 0) > 60 * MiB, 'manifest: holes of holes.bin');

    // GNU tar: real names and sizes, right content, holes kept.
    const listing = execFileSync('tar', ['-tvf', file, '--numeric-owner'], { encoding: 'utf8' });
    t.notMatch(listing, /GNUSparseFile/, 'GNU tar lists the real names');
    const x = join(tmp, 'x');
    await import('node:fs/promises').then((f) => f.mkdir(x));
    execFileSync('tar', ['-xf', file, '-C', x, '--numeric-owner']);
    for (const name of [...Object.keys(SPARSE), 'dense-zeros.bin', 'small.txt']) {
      t.equal(await sha256File(join(x, name)), await sha256File(join(src, name)), `GNU tar extracted ${name} right`);
    }
    t.ok((await blocksOf(join(x, 'holes.bin'))) < 4 * MiB, 'and sparse');

    // Restore: identical, and sparse on the server's disk.
    const r = await vols.restore(createReadStream(file), 'sp-restored');
    t.equal(r.sparseFiles, 3, 'three files restored sparse');
    const dst = s.localAt('sp-restored');
    const noMarker = (rel: string) => rel === MARKER;
    const a = await diskTree(src, noMarker);
    const b = await diskTree(dst, noMarker);
    t.same(comparable(b), comparable(a), 'restored tree identical: sha256, size, owners, modes, mtimes');
    t.same(linkGroups(b), linkGroups(a), 'the hard link to the sparse file kept');
    for (const [name, { size, regions }] of Object.entries(SPARSE)) {
      const used = await blocksOf(join(dst, name));
      const data = regions.reduce((n, [, l]) => n + l, 0);
      t.ok(used <= data + 256 * 1024, `${name}: ${used} bytes allocated for ${data} bytes of data in ${size} (holes kept)`);
    }
    t.ok((await blocksOf(join(dst, 'dense-zeros.bin'))) >= 2 * MiB, 'the dense file of zeros stays allocated');
    t.equal((await readFile(join(dst, 'small.txt'), 'utf8')), 'small\n');
  });
}
