// CLI pieces without a server: argument parsing, formatting, the progress
// line, the bounded pool, error wording, and the usage paths of run().
import t from 'tap';
import { PassThrough } from 'node:stream';
import { parseCommandArgs, UsageError, type OptionSpec } from '../../src/cli/args.js';
import { baseName, joinPath, modeString, shortTime } from '../../src/cli/format.js';
import { describeError, humanSize, type CliIo } from '../../src/cli/io.js';
import { runPool } from '../../src/volume/pool.js';
import { formatEta, Progress } from '../../src/cli/progress.js';
import { isRemoteArg } from '../../src/cli/remote.js';
import { COMMANDS, run } from '../../src/cli/run.js';
import { KRB5_OPTIONS, KRB5_PASSWORD_ENV, krb5FromArgs } from '../../src/cli/command.js';
import { fsError } from '../../src/errors.js';

const SPEC: OptionSpec[] = [
  { name: 'url', value: true },
  { name: 'long', short: 'l' },
  { name: 'recursive', short: 'R' },
  { name: 'jobs', short: 'j', value: true },
  { name: 'json' },
];

t.test('options: long, short clusters, values in every spelling, --, -', async (t) => {
  const a = parseCommandArgs(['-lR', '--url', 'nfs://h/e', '--jobs=8', 'x', '--json', '-', '--', '-notaflag'], SPEC);
  t.same(Object.fromEntries(a.flags), { long: true, recursive: true, url: 'nfs://h/e', jobs: '8', json: true });
  t.same(a.positionals, ['x', '-', '-notaflag']);
  t.equal(parseCommandArgs(['-j4'], SPEC).flags.get('jobs'), '4');
  t.equal(parseCommandArgs(['-j', '4'], SPEC).flags.get('jobs'), '4');
  t.equal(parseCommandArgs(['-lj', '2', 'p'], SPEC).flags.get('jobs'), '2', 'a valued short option ends a cluster');
  t.equal(parseCommandArgs(['--url='], SPEC).flags.get('url'), '', 'an empty value is a value');
  const r = parseCommandArgs(['--url', 'a', '--url=b', '-j-1'], SPEC);
  t.equal(r.flags.get('url'), 'b', 'the last value wins');
  t.same(r.values.get('url'), ['a', 'b'], 'every value is kept for repeatable options');
  t.equal(r.flags.get('jobs'), '-1', 'a value starting with a dash, written inline');
  t.equal(parseCommandArgs(['--url=-x'], SPEC).flags.get('url'), '-x');
});

t.test('usage errors', async (t) => {
  t.throws(() => parseCommandArgs(['--nope'], SPEC), new UsageError('unknown option --nope'));
  t.throws(() => parseCommandArgs(['-x'], SPEC), new UsageError('unknown option -x'));
  t.throws(() => parseCommandArgs(['--url'], SPEC), new UsageError('option --url needs a value'));
  t.throws(() => parseCommandArgs(['-j'], SPEC), new UsageError('option -j needs a value'));
  t.throws(() => parseCommandArgs(['--url', '--json'], SPEC), /option --url needs a value/, 'a forgotten value is not the next option');
  t.throws(() => parseCommandArgs(['--json=yes'], SPEC), new UsageError('option --json takes no value'));
  t.equal(new UsageError('x').code, 'EUSAGE');
  t.throws(() => parseCommandArgs(['-lx'], SPEC), new UsageError('unknown option -x'), 'an unknown letter inside a cluster');
});

t.test('formatting: modes, sizes, times, names', async (t) => {
  t.equal(modeString(0o100644), '-rw-r--r--');
  t.equal(modeString(0o040755), 'drwxr-xr-x');
  t.equal(modeString(0o120777), 'lrwxrwxrwx');
  t.equal(modeString(0o104755), '-rwsr-xr-x');
  t.equal(modeString(0o102644), '-rw-r-Sr--', 'setgid without group execute');
  t.equal(modeString(0o041777), 'drwxrwxrwt');
  t.equal(modeString(0o041776), 'drwxrwxrwT');
  t.equal(humanSize(0), '0');
  t.equal(humanSize(1023), '1023');
  t.equal(humanSize(1536), '1.5K');
  t.equal(humanSize(10 * 1024 * 1024), '10M');
  t.equal(humanSize(5 * 1024 ** 3 + 1), '5.1G', 'rounds up, as ls -h');
  t.match(shortTime(new Date(2024, 0, 2, 3, 4)), '2024-01-02 03:04');
  t.equal(baseName('/a/b/'), 'b');
  t.equal(baseName('/'), '/');
  t.equal(joinPath('/', 'x'), '/x');
  t.equal(joinPath('/a', 'x'), '/a/x');
  t.ok(isRemoteArg(':x'));
  t.ok(isRemoteArg('NFS://h/e'));
  t.notOk(isRemoteArg('./x'));
  t.notOk(isRemoteArg('/abs'));
});

t.test('error wording a shell user knows', async (t) => {
  t.equal(describeError(fsError('ENOENT', 'stat', '/x')), 'No such file or directory');
  t.equal(describeError(fsError('EISDIR', 'open', '/x')), 'Is a directory');
  t.equal(describeError(Object.assign(new Error('Path is a directory'), { code: 'ERR_FS_EISDIR' })), 'Is a directory');
  t.equal(describeError(fsError('ENOTEMPTY', 'rmdir', '/x')), 'Directory not empty');
  t.equal(describeError(fsError('EPROTO', 'x')), 'Protocol error', 'others from libuv, capitalised');
  t.equal(describeError(new Error('plain')), 'plain');
});

t.test('progress line: percent, bytes, rate, ETA, files', async (t) => {
  let now = 0;
  const out: string[] = [];
  const p = new Progress({ write: (s: string) => out.push(s), columns: 120 }, 10 * 1024 * 1024, 4, () => now);
  now = 1000;
  p.add(5 * 1024 * 1024);
  p.fileDone();
  p.fileDone();
  const line = p.line();
  t.match(line, /^ 50% \[#+ +\] 5\.0 MiB \/ 10\.0 MiB {2}5\.0 MiB\/s {2}ETA 0:01 {2}2\/4 files$/);
  t.ok(out.some((s) => s.startsWith('\r')), 'drawn with a carriage return');
  now = 2000;
  p.add(5 * 1024 * 1024);
  t.match(p.line(), /^100% \[#+\] 10\.0 MiB \/ 10\.0 MiB/);
  t.equal(p.done(), 2);
  t.equal(out[out.length - 1], '\r\x1b[K', 'the line is cleared at the end');
  t.equal(formatEta(59.2), '1:00');
  t.equal(formatEta(3725), '1:02:05');
});

t.test('the pool keeps at most N in flight, runs everything, collects failures', async (t) => {
  let running = 0;
  let peak = 0;
  const seen: number[] = [];
  const failures = await runPool([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 3, async (n) => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((r) => setImmediate(r));
    seen.push(n);
    running--;
    if (n % 4 === 0) throw new Error(`bad ${n}`);
  });
  t.equal(peak, 3);
  t.same(seen.sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  t.same(failures.map((f) => f.item), [4, 8]);
  t.same(await runPool([], 4, async () => {}), []);
});

function io(env: NodeJS.ProcessEnv = {}): CliIo & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let o = '';
  let e = '';
  stdout.on('data', (d) => (o += d));
  stderr.on('data', (d) => (e += d));
  return { stdout, stderr, stdin: new PassThrough(), env, out: () => o, err: () => e };
}

t.test('run(): help, usage errors and exit statuses, without a server', async (t) => {
  let x = io();
  t.equal(await run([], x), 2, 'no command: usage on stderr, exit 2');
  t.match(x.err(), /^usage: mountless <command>/);
  x = io();
  t.equal(await run(['--help'], x), 0);
  t.match(x.out(), /commands:\n {2}ls /);
  for (const c of COMMANDS) {
    x = io();
    t.equal(await run([c.name, '--help'], x), 0, `${c.name} --help`);
    t.match(x.out(), new RegExp(`^usage: mountless ${c.name}`), `${c.name} --help starts with its usage`);
  }
  x = io();
  t.equal(await run(['frobnicate'], x), 2);
  t.match(x.err(), "mountless: unknown command 'frobnicate'");
  x = io();
  t.equal(await run(['ls', '--bogus'], x), 2);
  t.match(x.err(), "mountless ls: unknown option --bogus\nTry 'mountless ls --help'.");
  x = io();
  t.equal(await run(['ls', '/'], x), 2, 'no URL anywhere');
  t.match(x.err(), /no URL: pass --url/);
  x = io();
  t.equal(await run(['cp', 'only-one'], x), 2);
  t.match(x.err(), /needs a source and a destination/);
  x = io({ NFS_URL: 'nfs://127.0.0.1/export' });
  t.equal(await run(['cp', 'a', 'b'], x), 2, 'two local paths');
  t.match(x.err(), /both sides are local/);
  x = io();
  t.equal(await run(['mkdir', '-m', '999', '/x'], x), 2);
  t.match(x.err(), /invalid mode '999'/);
  x = io();
  t.equal(await run(['cp', '-j', '0', ':a', 'b'], x), 2);
  t.match(x.err(), /--jobs must be an integer/);
});

t.test('--krb5-* flags: the connect krb5 option; the password only from the environment', async (t) => {
  const parse = (argv: string[]) => parseCommandArgs(argv, [...SPEC, ...KRB5_OPTIONS]);
  t.equal(krb5FromArgs(parse(['x']), {}), undefined, 'none given: connect reads the environment alone');
  t.same(
    krb5FromArgs(parse(['--krb5-principal', 'alice', '--krb5-keytab=/k/alice.keytab', '--krb5-ccache', '/tmp/cc', '--krb5-realm', 'EX.TEST', '--krb5-kdc', 'kdc1:88', '--krb5-kdc', 'kdc2']), { [KRB5_PASSWORD_ENV]: 'pw' }),
    { principal: 'alice', keytab: '/k/alice.keytab', ccache: '/tmp/cc', realm: 'EX.TEST', kdc: ['kdc1:88', 'kdc2'], password: 'pw' },
  );
  t.same(krb5FromArgs(parse(['--krb5-kdc', 'kdc1']), {}), { kdc: 'kdc1' }, 'one KDC is a string');
  t.same(krb5FromArgs(parse([]), { [KRB5_PASSWORD_ENV]: 'pw' }), { password: 'pw' });
  t.same(krb5FromArgs(parse([]), { [KRB5_PASSWORD_ENV]: '' }), undefined, 'an empty password variable is none');
  t.throws(() => krb5FromArgs(parse(['--krb5-keytab=']), {}), { code: 'EUSAGE', message: /--krb5-keytab needs a non-empty value/ });
  t.throws(() => parse(['--krb5-password', 'pw']), { code: 'EUSAGE', message: /unknown option --krb5-password/ }, 'no password flag');

  // Every command takes them, before or after its name.
  for (const argv of [['ls', '--krb5-keytab', '/k', '--krb5-principal', 'alice', '/'], ['--krb5-principal', 'alice', 'ls', '/'], ['stat', '--krb5-kdc=k', '/x']]) {
    const x = io();
    t.equal(await run(argv, x), 2, argv.join(' '));
    t.match(x.err(), /no URL: pass --url/, `${argv.join(' ')}: flags accepted, the URL is what is missing`);
  }
  const x = io();
  t.equal(await run(['ls', '--krb5-realm=', '/'], x), 2);
  t.match(x.err(), 'mountless ls: --krb5-realm needs a non-empty value');
  const h = io();
  await run(['--help'], h);
  t.match(h.out(), /--krb5-principal NAME/);
  t.match(h.out(), /\$MOUNTLESS_KRB5_PASSWORD/);
});
