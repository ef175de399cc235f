// `--numjobs` on worker threads, fio's way: one jobs[] entry per job, each
// job on its own thread and connection; --group_reporting merges them;
// --single runs the same jobs on the main thread. Real server, tiny jobs.
import t from 'tap';
import type { FioJson } from '../../src/bench/fio-json.js';
import { benchCommand } from '../../src/cli/bench.js';
import { NFS_URL, scratch } from './_env.js';

async function bench(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await benchCommand(['--url', NFS_URL, ...argv], { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

t.test('numjobs 2: two entries, each its own job; group_reporting: one, their merge', async (t) => {
  const s = await scratch(t, 'bench-threads');
  const common = ['--name=nj', `--filename=${s.dir}/nj.dat`, '--rw=randread', '--bs=4k', '--iodepth=4', '--size=4m', '--numjobs=2', '--output-format=json'];
  const per = await bench([...common, '--number_ios=300']);
  t.equal(per.code, 0, per.err);
  const pj = JSON.parse(per.out) as FioJson;
  t.same(pj.jobs.map((j) => [j.jobname, j.mountless.job, j.read.total_ios]), [['nj', 0, 300], ['nj', 1, 300]], 'fio: one entry per clone, under the job name');
  for (const j of pj.jobs) {
    t.equal(j.read.io_bytes, 300 * 4096);
    t.ok(j.read.clat_ns.percentile!['99.000000']! > 0);
    t.ok(j.mountless.process_cpu_s! > 0 && j.mountless.process_wall_s! > 0, 'the whole process\'s CPU and wall time');
  }

  const grouped = await bench([...common, '--number_ios=300', '--group_reporting']);
  t.equal(grouped.code, 0, grouped.err);
  const gj = JSON.parse(grouped.out) as FioJson;
  t.equal(gj.jobs.length, 1);
  t.equal(gj.jobs[0]!.read.total_ios, 600, 'the jobs added up');
  t.equal(gj.jobs[0]!.read.clat_ns.N, 600, 'every sample in the merged histogram');
  t.equal(gj.jobs[0]!.mountless.jobs, 2);

  const single = await bench([...common, '--number_ios=300', '--single']);
  t.equal(single.code, 0, single.err);
  const sj = JSON.parse(single.out) as FioJson;
  t.same(sj.jobs.map((j) => j.read.total_ios), [300, 300], '--single: the same jobs on the main thread');

  const human = await bench([...common.slice(0, -1), '--number_ios=100']);
  t.equal(human.code, 0, human.err);
  t.match(human.out, /numjobs=2/);
  t.match(human.out, /process: [\d.]+ s CPU in [\d.]+ s wall \([\d.]+ cores\)/);
  t.match(human.out, /\njob 0\s+[\d.]+k?\s/);
  t.match(human.out, /\njob 1\s+[\d.]+k?\s/);
});

t.test('a job that fails on its thread fails the run with its error', async (t) => {
  const s = await scratch(t, 'bench-threads');
  await s.nfs.mkdir(`${s.dir}/adir`);
  // A directory where the data file should be: layout refuses it before any thread starts.
  const r = await bench([`--filename=${s.dir}/adir`, '--rw=read', '--size=1m', '--numjobs=2', '--number_ios=1']);
  t.equal(r.code, 1);
  t.match(r.err, /not a regular file/);
  // A metadata job on a tree that is not there for stat: each thread finds its own j<N> directory.
  const st = await bench([`--filename=${s.dir}/tree`, '--rw=stat', '--nrfiles=5', '--numjobs=2', '--iodepth=2', '--output-format=json']);
  t.equal(st.code, 0, st.err);
  const j = JSON.parse(st.out) as FioJson;
  t.same(j.jobs.map((x) => x.read.total_ios), [5, 5]);
  t.same((await s.nfs.readdir(`${s.dir}/tree`)).sort(), ['j0', 'j1']);
});

t.test('on a terminal the live line counts every thread\'s operations', async (t) => {
  const s = await scratch(t, 'bench-threads');
  let err = '';
  const stderr = { isTTY: true, columns: 100, write: (x: string) => (err += x) };
  const code = await benchCommand(['--url', NFS_URL, '--name=live', `--filename=${s.dir}/live.dat`, '--rw=randread', '--size=1m', '--numjobs=2', '--runtime=2', '--time_based'], { stdout: { write: () => true }, stderr });
  t.equal(code, 0, err);
  const lines = err.split('\r').map((l) => l.trim()).filter((l) => l.startsWith('[mountless live]'));
  t.ok(lines.length > 0, 'a live line was drawn');
  t.ok(
    lines.some((l) => /\] [\d.]+k? IOPS, [\d.]+ MiB\/s, \ds left/.test(l) && !/\] 0 IOPS/.test(l)),
    `the threads' operations are counted: ${lines.join(' | ')}`,
  );
});
