import t from 'tap';
import { BenchUsageError, expandJobs, formatSize, parseBenchArgs, parseSeconds, parseSize, type BenchOptions } from '../../src/bench/options.js';
import { benchCommand } from '../../src/cli/bench.js';

const URL = 'nfs://127.0.0.1/export';
const ENV = { NFS_URL: URL };

function parse(...argv: string[]): BenchOptions {
  const o = parseBenchArgs(argv, ENV);
  if (o === 'help') throw new Error('unexpected help');
  return o;
}

/** Runs benchCommand with captured output; none of these cases reaches a server. */
async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const saved = process.env.NFS_URL;
  process.env.NFS_URL = URL;
  try {
    const code = await benchCommand(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
    return { code, out, err };
  } finally {
    if (saved === undefined) delete process.env.NFS_URL;
    else process.env.NFS_URL = saved;
  }
}

t.test('sizes: fio suffixes are binary', async (t) => {
  t.equal(parseSize('4k'), 4096);
  t.equal(parseSize('4K'), 4096);
  t.equal(parseSize('4KiB'), 4096);
  t.equal(parseSize('4kb'), 4096);
  t.equal(parseSize('128k'), 131072);
  t.equal(parseSize('1m'), 1048576);
  t.equal(parseSize('256m'), 256 * 2 ** 20);
  t.equal(parseSize('1g'), 2 ** 30);
  t.equal(parseSize('1.5g'), 1.5 * 2 ** 30);
  t.equal(parseSize('2t'), 2 * 2 ** 40);
  t.equal(parseSize('512'), 512);
  for (const bad of ['', 'k', '4x', '-4k', '4 k k', '1.5', '0x10', '4kk']) t.throws(() => parseSize(bad), `'${bad}' is refused`);
  t.equal(formatSize(4096), '4k');
  t.equal(formatSize(2 ** 20), '1m');
  t.equal(formatSize(3 * 2 ** 30), '3g');
  t.equal(formatSize(1536), '1536');
  t.equal(formatSize(1536 * 1024), '1536k');
});

t.test('times: seconds by default, or with a unit', async (t) => {
  t.equal(parseSeconds('30'), 30);
  t.equal(parseSeconds('30s'), 30);
  t.equal(parseSeconds('2m'), 120);
  t.equal(parseSeconds('1h'), 3600);
  t.equal(parseSeconds('500ms'), 0.5);
  t.equal(parseSeconds('1.5'), 1.5);
  t.throws(() => parseSeconds('soon'));
  t.throws(() => parseSeconds('-1'));
});

t.test('defaults', async (t) => {
  const o = parse();
  t.equal(o.url, URL, 'URL from NFS_URL');
  t.equal(o.base.name, 'mountless');
  t.equal(o.base.rw, 'read');
  t.equal(o.base.filename, '/mountless-bench/mountless.dat');
  t.equal(o.base.size, 256 * 2 ** 20);
  t.equal(o.base.rwmixread, 50);
  t.equal(o.base.nrfiles, 1000);
  t.equal(o.base.timeBased, false);
  t.equal(o.base.runtime, undefined);
  t.equal(o.base.direct, false);
  t.same(o.lists, { bs: [4096], iodepth: [1], numjobs: [1], nconnect: [1] });
  t.equal(o.sweep, undefined);
  t.equal(o.outputFormat, 'normal');
  t.equal(o.loops, 1);
  const [job] = expandJobs(o);
  t.match(job, { name: 'mountless', bs: 4096, iodepth: 1, numjobs: 1, nconnect: 1 });
});

t.test('fio spellings: --key=value and --key value, aliases, bare booleans', async (t) => {
  const o = parse('--url=nfs://h/e', '--name', 'j1', '--rw=randrw', '--rwmixread=70', '--bs', '128k', '--iodepth=16', '--size=1g', '--runtime=10', '--time_based', '--ramp_time', '2', '--numjobs=2', '--nconnect', '2', '--direct=1', '--output-format=json');
  t.equal(o.url, 'nfs://h/e', '--url wins over NFS_URL');
  t.match(o.base, { name: 'j1', rw: 'randrw', rwmixread: 70, size: 2 ** 30, runtime: 10, timeBased: true, rampTime: 2, direct: true, filename: '/mountless-bench/j1.dat' });
  t.same(o.lists, { bs: [131072], iodepth: [16], numjobs: [2], nconnect: [2] });
  t.equal(o.outputFormat, 'json');
  t.equal(parse('--readwrite=randwrite').base.rw, 'randwrite', 'readwrite is rw');
  t.same(parse('--blocksize=1m').lists.bs, [2 ** 20], 'blocksize is bs');
  t.equal(parse('--rwmixwrite=30').base.rwmixread, 70, 'rwmixwrite');
  t.equal(parse('--direct', '0').base.direct, false, '--direct 0');
  t.equal(parse('--filename=data/x.bin').base.filename, '/data/x.bin', 'relative filename is taken from the export root');
  t.equal(parse('--rw=stat').base.filename, '/mountless-bench/mountless.tree', 'metadata default is a tree directory');
  t.same(parse('--number_ios=100').base.numberIos, 100);
  t.equal(parseBenchArgs(['--help'], ENV), 'help');
});

t.test('sweeps: one list parameter, one job per value', async (t) => {
  const o = parse('--iodepth', '1,4,16,64', '--bs=4k');
  t.equal(o.sweep, 'iodepth');
  const jobs = expandJobs(o);
  t.same(
    jobs.map((j) => j.iodepth),
    [1, 4, 16, 64],
  );
  t.same(
    jobs.map((j) => j.name),
    ['mountless-iodepth1', 'mountless-iodepth4', 'mountless-iodepth16', 'mountless-iodepth64'],
  );
  t.equal(jobs[2]!.given.iodepth, '16', 'job options carry the point value');
  const b = expandJobs(parse('--bs=4k,64k,1m'));
  t.same(
    b.map((j) => j.bs),
    [4096, 65536, 2 ** 20],
  );
  t.same(
    b.map((j) => j.given.bs),
    ['4k', '64k', '1m'],
  );
  t.equal(expandJobs(parse('--numjobs=1,2')).length, 2);
});

t.test('usage errors', async (t) => {
  const cases: [string[], RegExp][] = [
    [['--bogus=1'], /unknown option '--bogus'/],
    [['--rw=sideways'], /--rw: invalid value 'sideways' \(one of: read, write/],
    [['--bs=4q'], /--bs: invalid size '4q'/],
    [['--bs=0'], /--bs: '0' is below the minimum 1/],
    [['--bs=4k,,8k'], /--bs: invalid list/],
    [['--bs=4k,4k'], /repeats a value/],
    [['--iodepth=0'], /--iodepth: '0' is below the minimum 1/],
    [['--iodepth=1.5'], /--iodepth: invalid integer '1.5'/],
    [['--iodepth=-1'], /--iodepth: invalid integer/],
    [['--numjobs=1000'], /above the maximum 256/],
    [['--rwmixread=101'], /above the maximum 100/],
    [['--runtime=soon'], /--runtime: invalid time 'soon'/],
    [['--runtime=0'], /--runtime: must be more than 0/],
    [['--time_based'], /--time_based needs --runtime/],
    [['--direct=maybe'], /--direct: invalid boolean 'maybe'/],
    [['--iodepth'], /option --iodepth needs a value/],
    [['--iodepth', '--bs=4k'], /option --iodepth needs a value/],
    [['randread'], /unexpected argument 'randread'/],
    [['--iodepth=1,2', '--bs=4k,8k'], /sweep one parameter at a time \(lists given for --bs and --iodepth\)/],
    [['--bs=1m', '--size=64k'], /--bs 1m is larger than --size 64k/],
    [['--rw=mkdir', '--compare=libnfs'], /--compare libnfs supports .* stat, create and unlink, not mkdir/],
    [['--compare=nfs-ganesha'], /--compare: invalid value/],
    [['--loops=3'], /--loops is for --compare/],
    [['--plot=chart.png'], /--plot: 'chart.png' must end in .svg or .html/],
    [['--name=a/b'], /--name: 'a\/b' may hold only/],
    [['--filename=/a/../b'], /may not contain '.' or '..'/],
    [['--bs=4k', '--bs=8k'], /--bs given twice/],
    [['--rwmixread=50', '--rwmixwrite=50'], /not both/],
    [['--output-format=terse'], /--output-format: invalid value 'terse'/],
    [['--url=http://x/'], /not an nfs:\/\/ URL/],
  ];
  for (const [argv, re] of cases) {
    t.throws(() => parseBenchArgs(argv, ENV), BenchUsageError, argv.join(' '));
    try {
      parseBenchArgs(argv, ENV);
    } catch (err) {
      t.match((err as Error).message, re, argv.join(' '));
    }
  }
  t.throws(() => parseBenchArgs([], {}), /no URL: pass --url/);
});

t.test('benchCommand: usage errors exit 2 with one clear line; --help exits 0', async (t) => {
  const r = await cli(['--iodepth=zero']);
  t.equal(r.code, 2);
  t.equal(r.out, '');
  t.equal(r.err, "mountless bench: --iodepth: invalid integer 'zero'\n");
  const u = await cli(['--frobnicate']);
  t.equal(u.code, 2);
  t.match(u.err, /unknown option '--frobnicate'/);
  const h = await cli(['--help']);
  t.equal(h.code, 0);
  t.match(h.out, /usage: mountless bench/);
  t.match(h.out, /--iodepth N\[,N…\]/);
});
