import t from 'tap';
import { jobArgv, jobOptions, parseJobFile } from '../../src/bench/job-file.js';
import { BenchUsageError } from '../../src/bench/options.js';

const ENV = { NFS_URL: 'nfs://127.0.0.1/export', SIZE: '8m' };

const FILE = `; two jobs, one after the other
[global]
ioengine=nfs
nfs_url=nfs://127.0.0.1/export
size=\${SIZE}
runtime=1
time_based
# comment
[seq]
rw=read
bs=128k

[rand]
stonewall
rw=randread
iodepth=8
write_bw_log=rand
log_avg_msec=500
`;

t.test("a fio job file: [global] and job sections, fio's spellings, ${VAR}", async (t) => {
  const f = parseJobFile(FILE, 'x.fio', ENV);
  t.same(
    f.jobs.map((j) => [j.name, j.line]),
    [
      ['seq', 9],
      ['rand', 13],
    ],
  );
  t.same(f.global.options.get('url'), { value: 'nfs://127.0.0.1/export', line: 4 }, 'nfs_url is --url');
  t.same(f.global.options.get('size')?.value, '8m', '${SIZE} from the environment');
  t.same(f.global.options.get('time_based')?.value, '', 'a bare key is a flag');
  const argv = jobArgv(f, ['--output-format=json', '--runtime=2']);
  t.same(argv[0], ['--name=seq', '--ioengine=nfs', '--url=nfs://127.0.0.1/export', '--size=8m', '--time_based', '--rw=read', '--bs=128k', '--output-format=json', '--runtime=2'], 'global, own, then the command line, which wins');
  const [seq, rand] = jobOptions(f, [], 'x.fio', ENV);
  t.equal(seq!.base.rw, 'read');
  t.same(seq!.lists.bs, [131072]);
  t.equal(seq!.base.runtime, 1);
  t.equal(rand!.base.rw, 'randread');
  t.same(rand!.lists.iodepth, [8]);
  t.same(rand!.base.logs, { avgMs: 500, histMs: undefined, bw: 'rand' });
});

t.test('job sections override [global]', async (t) => {
  const f = parseJobFile('[global]\nbs=4k\nrw=read\n[a]\nbs=8k\n', 'o.fio', ENV);
  const [a] = jobOptions(f, [], 'o.fio', ENV);
  t.same(a!.lists.bs, [8192]);
  t.equal(a!.base.rw, 'read');
});

t.test('errors name the file, the line and the option', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['[a]\nrw=read\nverify=md5\n', /^bad\.fio:3: option 'verify' is not one mountless bench knows/],
    ['[a]\nrw=read\n[b]\nrw=write\n', /^bad\.fio:3: \[b\] would run at the same time as \[a\] in fio.*add 'stonewall' to \[b\]/],
    ['[a]\nbs=4k,64k\n', /^bad\.fio:2: 'bs=4k,64k': a comma list in a fio job file means separate read,write values/],
    ['rw=read\n', /^bad\.fio:1: 'rw=read' before any \[section\]/],
    ['[global]\nrw=read\n', /^bad\.fio: no job sections/],
    ['[a]\nsize=${NOPE}\n', /^bad\.fio:2: \$\{NOPE\} is not set/],
    ['[a]\ncompare=libnfs\n', /^bad\.fio:2: option 'compare' is for the command line/],
    ['[a]\nrw=read\nrw=write\n', /^bad\.fio:3: option 'rw' given twice in \[a\]/],
    ['[a]\n[a]\n', /^bad\.fio:2: job \[a\] defined twice/],
    ['[a]\ninclude other.fio\n', /^bad\.fio:2: 'include'/],
    ['[a]\nrw=read\n[global]\nbs=4k\n', /^bad\.fio:3: a \[global\] section after a job/],
  ];
  for (const [text, re] of cases) {
    t.throws(() => parseJobFile(text, 'bad.fio', ENV), re, text.replace(/\n/g, ' | '));
    try {
      parseJobFile(text, 'bad.fio', ENV);
    } catch (err) {
      t.ok(err instanceof BenchUsageError, 'a usage error (exit code 2)');
    }
  }
  // [global] stonewall makes every job wait for the one before.
  t.equal(parseJobFile('[global]\nstonewall\n[a]\n[b]\n', 'ok.fio', ENV).jobs.length, 2);
  // A value mountless refuses is named with its job and the job's line.
  t.throws(() => jobOptions(parseJobFile('[a]\nrw=read\n[b]\nstonewall\nioengine=libaio\n', 'e.fio', ENV), [], 'e.fio', ENV), /^e\.fio:3: \[b\]: --ioengine=libaio: mountless bench is an NFS client/);
});
