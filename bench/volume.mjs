#!/usr/bin/env node
// Volume delete and migrate throughput, beside what the server's own disk
// takes for the same tree (`cp -a`, `rm -rf`): the numbers the README's
// Volumes section quotes. Needs the local server (scripts/local-nas), its
// export directories on this machine, and root (the tree has owners).
//
//   npm run build && node bench/volume.mjs [options]
//
//   --files N        small files in the tree (default 20000), 100 per directory
//   --file-size B    bytes per small file (default 1024)
//   --big MIB        one extra file of this many MiB (default 256; 0 for none)
//   --concurrency N  files copied at once by migrate (default 16)
//   --json           print the results as JSON
//
// What runs, each on a fresh copy of the tree made on the server's disk:
//   migrate  /export/<tmp>/src → /export2/<tmp>/dst-src (scan, copy, verify),
//            the small files, then the big file alone; each beside `cp -a`
//            of the same on the server's disk;
//   delete   `mountless volume delete` (library call) of a volume holding
//            the tree, then `rm -rf` of the same tree on the server's disk.
// The environment variables of `scripts/local-nas env` pick the exports.
import { execFileSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from '../dist/index.js';
import { migrate, openVolumes } from '../dist/volume/index.js';

const URL1 = process.env.NFS_URL || 'nfs://127.0.0.1/export';
const URL2 = process.env.NFS_URL2 || 'nfs://127.0.0.1/export2';
const DIR1 = process.env.MOUNTLESS_NAS_EXPORT_DIR || '/var/tmp/mountless-nas/export';
const DIR2 = process.env.MOUNTLESS_NAS_EXPORT2_DIR || '/var/tmp/mountless-nas/export2';

function parseArgs(argv) {
  const o = { files: 20000, fileSize: 1024, big: 256, concurrency: 16, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) throw new Error(`${a} needs a whole number`);
      return v;
    };
    if (a === '--files') o.files = num();
    else if (a === '--file-size') o.fileSize = num();
    else if (a === '--big') o.big = num();
    else if (a === '--concurrency') o.concurrency = Math.max(1, num());
    else if (a === '--json') o.json = true;
    else if (a === '--help' || a === '-h') {
      console.log('usage: node bench/volume.mjs [--files N] [--file-size B] [--big MIB] [--concurrency N] [--json]');
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  return o;
}

/** The tree: directories of 100 files each, 100 directories per parent; the big file in a directory of its own. */
async function makeTree(root, bigDir, o) {
  const body = Buffer.alloc(o.fileSize, 'x');
  const jobs = [];
  for (let i = 0; i < o.files; i++) {
    const d = join(root, `p${Math.floor(i / 10000)}`, `d${Math.floor(i / 100) % 100}`);
    if (i % 100 === 0) await mkdir(d, { recursive: true });
    jobs.push(join(d, `f${i}`));
  }
  for (let i = 0; i < jobs.length; i += 256) await Promise.all(jobs.slice(i, i + 256).map((p) => writeFile(p, body)));
  if (o.big > 0) {
    const chunk = Buffer.alloc(1024 * 1024);
    for (let i = 0; i + 4 <= chunk.length; i += 4) chunk.writeUInt32LE((i * 2654435761) >>> 0, i);
    const fh = await import('node:fs/promises').then((f) => f.open(join(bigDir, 'big.bin'), 'w'));
    for (let i = 0; i < o.big; i++) await fh.write(chunk);
    await fh.close();
  }
  execFileSync('sync');
}

const time = (fn) => async () => {
  const t0 = performance.now();
  const r = await fn();
  return { secs: (performance.now() - t0) / 1000, r };
};

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const tag = `bench-volume-${process.pid}`;
  const src1 = join(DIR1, tag);
  const dst2 = join(DIR2, tag);
  const bytes = o.files * o.fileSize + o.big * 2 ** 20;
  const entries = o.files + Math.ceil(o.files / 100) + Math.ceil(o.files / 10000) + (o.big > 0 ? 1 : 0) + 1;
  const out = { tree: { files: o.files + (o.big > 0 ? 1 : 0), fileSize: o.fileSize, bigMiB: o.big, bytes, entries } };
  try {
    await mkdir(join(src1, 'src'), { recursive: true });
    await mkdir(join(src1, 'big'), { recursive: true });
    await mkdir(join(dst2, 'dst-src'), { recursive: true });
    await mkdir(join(dst2, 'dst-big'), { recursive: true });
    await makeTree(join(src1, 'src'), join(src1, 'big'), o);

    // migrate: the small files, then the big file alone (files/s and MB/s are different limits).
    const runMigrate = async (sub) => {
      const marks = {};
      const t0 = performance.now();
      const m = await migrate(`${URL1}/${tag}/${sub}`, `${URL2}/${tag}/dst-${sub}`, {
        concurrency: o.concurrency,
        onProgress: (p) => (marks[p.phase] ??= performance.now()),
      });
      const end = performance.now();
      if (m.verify?.differences.length) throw new Error(`migrate: ${m.verify.differences.length} differences`);
      const copySecs = ((marks.verify ?? end) - marks.copy) / 1000;
      return { files: m.copied.files, bytes: m.copied.bytes, totalSecs: (end - t0) / 1000, scanSecs: (marks.copy - t0) / 1000, copySecs, verifySecs: (end - (marks.verify ?? end)) / 1000 };
    };
    const cpA = async (sub) => {
      const t0 = performance.now();
      execFileSync('cp', ['-a', join(src1, sub), join(dst2, `cp-${sub}`)]);
      execFileSync('sync');
      return (performance.now() - t0) / 1000;
    };
    const small = await runMigrate('src');
    out.migrate = { small: { ...small, filesPerSec: small.files / small.copySecs } };
    const smallCp = await cpA('src');
    out.cpA = { small: { secs: smallCp, filesPerSec: o.files / smallCp } };
    if (o.big > 0) {
      const big = await runMigrate('big');
      out.migrate.big = { ...big, mbPerSec: big.bytes / 1e6 / big.copySecs };
      const bigCp = await cpA('big');
      out.cpA.big = { secs: bigCp, mbPerSec: (o.big * 2 ** 20) / 1e6 / bigCp };
    }

    // delete: a managed volume holding a fresh copy of the tree.
    const nfs = await connect(URL1);
    try {
      const vols = await openVolumes(nfs, { base: `/${tag}` });
      await vols.create('victim');
      execFileSync('cp', ['-a', join(src1, 'src', '.'), join(src1, 'victim')]);
      if (o.big > 0) execFileSync('cp', ['-a', join(src1, 'big', 'big.bin'), join(src1, 'victim')]);
      execFileSync('sync');
      const d = await time(() => vols.delete('victim'))();
      const n = d.r.stats.files + d.r.stats.dirs;
      out.delete = { entries: n, secs: d.secs, entriesPerSec: n / d.secs, filesPerSec: d.r.stats.files / d.secs };
    } finally {
      await nfs.close();
    }
    const rmT = await time(async () => execFileSync('rm', ['-rf', join(dst2, 'cp-src'), join(dst2, 'cp-big')]))();
    out.rmRf = { secs: rmT.secs, entriesPerSec: entries / rmT.secs };
  } finally {
    await rm(src1, { recursive: true, force: true });
    await rm(dst2, { recursive: true, force: true });
  }

  if (o.json) {
    console.log(JSON.stringify(out, null, 2));
    return;
  }
  const f = (x, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  console.log(`tree: ${f(o.files)} files of ${o.fileSize} B in ${f(Math.ceil(o.files / 100))} directories${o.big ? `, and one ${o.big} MiB file` : ''}`);
  const ms = out.migrate.small;
  console.log(`migrate /export → /export2, small files: ${f(ms.totalSecs, 2)} s in all (scan ${f(ms.scanSecs, 2)}, copy ${f(ms.copySecs, 2)}, verify ${f(ms.verifySecs, 2)}); ${f(ms.filesPerSec)} files/s`);
  console.log(`cp -a on the server's disk, small files:  ${f(out.cpA.small.secs, 2)} s; ${f(out.cpA.small.filesPerSec)} files/s`);
  if (out.migrate.big) {
    console.log(`migrate, the big file:                    ${f(out.migrate.big.copySecs, 2)} s; ${f(out.migrate.big.mbPerSec, 1)} MB/s`);
    console.log(`cp -a on the server's disk, big file:     ${f(out.cpA.big.secs, 2)} s; ${f(out.cpA.big.mbPerSec, 1)} MB/s`);
  }
  console.log(`volume delete (all of it):                ${f(out.delete.secs, 2)} s; ${f(out.delete.entriesPerSec)} entries/s (${f(out.delete.filesPerSec)} files/s)`);
  console.log(`rm -rf on the server's disk:              ${f(out.rmRf.secs, 2)} s; ${f(out.rmRf.entriesPerSec)} entries/s`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
