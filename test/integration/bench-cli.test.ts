// `mountless bench` end to end against the real NFS-Ganesha: tiny jobs, JSON
// output checked for sane, non-zero fields. No timing assertions beyond > 0.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchCommand } from '../../src/cli/bench.js';
import type { FioJson } from '../../src/bench/fio-json.js';
import { NFS_URL, scratch } from './_env.js';

async function bench(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await benchCommand(['--url', NFS_URL, ...argv], { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

function haveLibnfs(): boolean {
  try {
    execFileSync('pkg-config', ['--exists', 'libnfs']);
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

t.test('a 2-second randread job prints fio JSON with sane fields', async (t) => {
  const s = await scratch(t, 'bench');
  const r = await bench(['--name=tiny', `--filename=${s.dir}/tiny.dat`, '--rw=randread', '--bs=4k', '--iodepth=8', '--size=8m', '--runtime=2', '--time_based', '--output-format=json']);
  t.equal(r.code, 0, r.err);
  t.match(r.err, /laying out .*tiny\.dat: 8 MiB/, 'the file was laid out first');
  const j = JSON.parse(r.out) as FioJson;
  t.match(j['fio version'], /^mountless-\d+\.\d+\.\d+/);
  t.equal(j.jobs.length, 1);
  const job = j.jobs[0]!;
  t.equal(job.jobname, 'tiny');
  t.match(job['job options'], { rw: 'randread', bs: '4k', iodepth: '8', size: '8m' });
  const rd = job.read;
  t.ok(rd.total_ios > 0, `total_ios ${rd.total_ios}`);
  t.equal(rd.io_bytes, rd.total_ios * 4096, 'every read was a full block');
  t.ok(rd.iops > 0 && rd.bw > 0 && rd.bw_bytes > 0);
  t.ok(rd.runtime >= 1900, `runtime ${rd.runtime} ms ≈ 2000`);
  t.ok(rd.clat_ns.mean > 0);
  const p = rd.clat_ns.percentile!;
  t.ok(p['50.000000']! > 0 && p['50.000000']! <= p['90.000000']! && p['90.000000']! <= p['99.000000']! && p['99.000000']! <= p['99.900000']!, 'percentiles are ordered');
  t.ok(rd.clat_ns.min <= p['50.000000']! && p['99.900000']! <= rd.clat_ns.max);
  t.equal(job.write.total_ios, 0);
  t.ok(job.usr_cpu > 0);
  t.ok(job.mountless.cpu_us_per_op > 0);
  t.equal((await s.nfs.stat(`${s.dir}/tiny.dat`)).size, 8 * 2 ** 20);
});

t.test('write job, iodepth sweep with a plot, human output', async (t) => {
  const s = await scratch(t, 'bench');
  const plot = join(tmpdir(), `mountless-bench-${process.pid}.svg`);
  t.teardown(() => rm(plot, { force: true }));
  const r = await bench(['--name=sw', `--filename=${s.dir}/sw.dat`, '--rw=write', '--bs=64k', '--iodepth=1,4', '--size=4m', '--runtime=1', '--time_based', `--plot=${plot}`]);
  t.equal(r.code, 0, r.err);
  t.match(r.out, /sw-iodepth1 \(mountless\): rw=write bs=64k iodepth=1/);
  t.match(r.out, /write: IOPS=[\d.]+k?, BW=/);
  t.match(r.out, /sweep of iodepth: rw=write bs=64k numjobs=1/);
  t.match(r.out, /\n1\s+[\d.]+k?\s+[\d.]+\s/);
  t.match(r.out, /\n4\s+[\d.]+k?\s+[\d.]+\s/);
  const svg = await readFile(plot, 'utf8');
  t.match(svg, /^<svg /);
  t.equal(svg.match(/<polyline /g)?.length, 2);
});

t.test('metadata: create then stat a small tree', async (t) => {
  const s = await scratch(t, 'bench');
  const c = await bench([`--filename=${s.dir}/tree`, '--rw=create', '--nrfiles=40', '--iodepth=4', '--output-format=json']);
  t.equal(c.code, 0, c.err);
  const cj = JSON.parse(c.out) as FioJson;
  t.equal(cj.jobs[0]!.write.total_ios, 40, 'one create per file');
  t.equal((await s.nfs.readdir(`${s.dir}/tree/j0`)).length, 40);
  const st = await bench([`--filename=${s.dir}/tree`, '--rw=stat', '--nrfiles=40', '--iodepth=8', '--runtime=1', '--time_based', '--output-format=json']);
  t.equal(st.code, 0, st.err);
  const sj = JSON.parse(st.out) as FioJson;
  t.ok(sj.jobs[0]!.read.total_ios > 40, 'stat wraps around the tree with --time_based');
  t.ok(sj.jobs[0]!.read.clat_ns.percentile!['99.000000']! > 0);
  const rd = await bench([`--filename=${s.dir}/tree`, '--rw=readdir', '--nrfiles=40', '--number_ios=3']);
  t.equal(rd.code, 0, rd.err);
  t.match(rd.out, /entries: .*\/s listed \(120 in all\)/);
});

t.test('--compare libnfs runs both and prints ratios', { skip: haveLibnfs() ? false : 'libnfs-dev or gcc not installed' }, async (t) => {
  const s = await scratch(t, 'bench');
  const r = await bench(['--name=cmp', `--filename=${s.dir}/cmp.dat`, '--rw=randread', '--bs=4k', '--iodepth=4', '--size=4m', '--runtime=1', '--time_based', '--compare=libnfs', '--output-format=json']);
  t.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out) as FioJson & { 'mountless compare': { ratio: { iops: number; bandwidth: number; cpuPerOp: number } }[] };
  t.same(
    j.jobs.map((x) => x.jobname),
    ['cmp@mountless#1', 'cmp@libnfs#1'],
  );
  for (const job of j.jobs) {
    t.ok(job.read.total_ios > 0, `${job.jobname}: ${job.read.total_ios} ios`);
    t.ok(job.read.clat_ns.percentile!['99.000000']! > 0);
    t.ok(job.mountless.cpu_us_per_op > 0);
  }
  const ratio = j['mountless compare'][0]!.ratio;
  t.ok(ratio.iops > 0 && ratio.bandwidth > 0 && ratio.cpuPerOp > 0);
});

t.test('an export that does not exist fails with exit code 1 and a message', async (t) => {
  const u = new URL(NFS_URL);
  u.pathname = '/no-such-export-here';
  let err = '';
  const code = await benchCommand([`--url=${u.href}`, '--size=1m', '--runtime=1'], { stdout: { write: () => true }, stderr: { write: (s: string) => (err += s) } });
  t.equal(code, 1);
  t.match(err, /^mountless bench: .+/);
});

t.test('the demo benchmark: every workload measured, libnfs beside it when installed, its directory removed', async (t) => {
  const { quickBench } = await import('../../src/bench/quick.js');
  const s = await scratch(t, 'quick');
  const lines: string[] = [];
  const libnfs = haveLibnfs();
  await quickBench({ url: NFS_URL, seconds: 1, size: '8m', dir: `${s.dir}/qb`, libnfs, log: (l) => lines.push(l) });
  t.match(lines[0], libnfs ? /side by side with libnfs/ : /benchmark: 1 s per workload/);
  for (const w of ['4k randread', '4k randwrite', '1m read', '1m write', 'stat uncached', 'stat cached']) {
    const row = lines.find((l) => l.trim().startsWith(w));
    t.ok(row, `a row for ${w}`);
    const iops = row!.trim().slice(w.length).replace(/^, depth \d+\s+/, '').split(/\s+/)[0]!;
    t.ok(parseFloat(iops) > 0, `${w}: ${iops} IOPS`);
    if (libnfs && w !== 'stat cached') t.match(row, /\d\.\d\d×$/, `${w}: a ratio to libnfs`);
  }
  await t.rejects(s.nfs.stat(`${s.dir}/qb`), { code: 'ENOENT' }, 'the benchmark directory is gone');
});

t.test("a fio job file: two sections one after the other, fio's spellings, json+ and logs", async (t) => {
  const s = await scratch(t, 'bench');
  const dir = await mkdtemp(join(tmpdir(), 'ml-jobfile-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'two.fio');
  await writeFile(
    file,
    [
      '; fio job file, as fio spells it',
      '[global]',
      'ioengine=nfs',
      `nfs_url=${NFS_URL}`,
      `filename=${s.dir}/jf.dat`,
      'size=4m',
      'bs=4k',
      'runtime=1',
      'time_based',
      `write_bw_log=${dir}/jf`,
      `write_iops_log=${dir}/jf`,
      'log_avg_msec=500',
      'lat_percentiles=1',
      '[reads]',
      'rw=randread',
      'iodepth=4',
      '[writes]',
      'stonewall',
      'rw=randwrite',
      'iodepth=2',
      '',
    ].join('\n'),
  );
  const r = await bench([file, '--output-format=json+']);
  t.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out) as FioJson;
  t.same(
    j.jobs.map((x) => [x.jobname, x.groupid]),
    [
      ['reads', 0],
      ['writes', 1],
    ],
    'one entry per section, each its own group (stonewall)',
  );
  const [rd, wr] = j.jobs;
  t.ok(rd!.read.total_ios > 0 && rd!.write.total_ios === 0, 'the first section read');
  t.ok(wr!.write.total_ios > 0 && wr!.read.total_ios === 0, 'the second wrote');
  t.ok(rd!.read.lat_ns!.percentile && rd!.read.lat_ns!.bins, 'lat_percentiles and json+ bins from the file');
  t.equal(rd!['job options'].ioengine, 'nfs');
  for (const [n, dirn, x] of [[1, 0, rd!.read], [2, 1, wr!.write]] as const) {
    const lines = (await readFile(join(dir, `jf_bw.${n}.log`), 'utf8')).trim().split('\n');
    t.ok(lines.length >= 1 && lines.every((l) => new RegExp(`^\\d+, \\d+, ${dirn}, 0, 0$`).test(l)), `jf_bw.${n}.log: fio's format, job ${n}`);
    t.equal(lines.length, x.bw_samples, `job ${n}: one line per bw sample`);
    t.equal(Math.min(...lines.map((l) => Number(l.split(', ')[1]))), x.bw_min, `job ${n}: bw_min is the log's smallest`);
  }
  await readFile(join(dir, 'jf_iops.2.log'), 'utf8');
  const clat2csv = spawnSync('sh', ['-c', 'command -v fio_jsonplus_clat2csv'], { encoding: 'utf8' }).stdout.trim();
  if (clat2csv) {
    await writeFile(join(dir, 'out.json'), r.out);
    const v = spawnSync(clat2csv, [join(dir, 'out.json'), join(dir, 'out.csv')], { encoding: 'utf8' });
    t.equal(v.status, 0, `fio_jsonplus_clat2csv reads it: ${v.stderr}`);
    const val = spawnSync(clat2csv, [join(dir, 'out.json'), join(dir, 'out.csv'), '--validate'], { encoding: 'utf8' });
    t.match(val.stdout, /out_job1\.csv validated/, 'and validates both jobs');
  }

  await writeFile(join(dir, 'bad.fio'), '[a]\nrw=read\nverify=md5\n');
  const bad = await bench([join(dir, 'bad.fio')]);
  t.equal(bad.code, 2, 'an option mountless does not know is a usage error');
  t.match(bad.err, /bad\.fio:3: option 'verify' is not one mountless bench knows/);
});
