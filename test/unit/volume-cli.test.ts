// `mountless volume` without a server: help for every sub-command, and bad
// usage refused (exit 2) before any connection is made. The URL given is
// never dialled: a command that tried to connect would fail differently
// (exit 1, ECONNREFUSED), which these tests would catch.
import t from 'tap';
import { PassThrough, Readable } from 'node:stream';
import { formatBytes, parseSize, volumeCommand, type CliIo } from '../../src/cli/volume.js';

function capture(): { io: CliIo; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (s) => out.push(s), err: (s) => err.push(s), stdout: new PassThrough(), stdin: Readable.from([]), tty: false } };
}

const NOWHERE = ['--url', 'nfs://127.0.0.1/x?nfsport=1&mountport=1'];

t.test('help: the overview and every sub-command', async (t) => {
  const c = capture();
  t.equal(await volumeCommand([], c.io), 2, 'no sub-command: usage, exit 2');
  t.match(c.out.join('\n'), /commands:[\s\S]*create NAME[\s\S]*migrate SRC DST/);
  for (const sub of ['create', 'list', 'delete', 'purge', 'usage', 'df', 'snapshot', 'snapshots', 'restore', 'migrate']) {
    const h = capture();
    t.equal(await volumeCommand([sub, '--help'], h.io), 0, `${sub} --help`);
    t.match(h.out.join('\n'), new RegExp(`^usage: mountless volume ${sub}`), `${sub}: its own usage text`);
    t.same(h.err, []);
  }
  const v = capture();
  t.equal(await volumeCommand(['volume', 'delete', '--help'], v.io), 0, "a leading 'volume' is accepted");
  t.match(v.out.join('\n'), /--on-delete/);
});

t.test('bad usage: exit 2 with a message, nothing connected', async (t) => {
  const cases: [string[], RegExp][] = [
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['create', ...NOWHERE], /missing NAME/],
    [['create', 'a', 'b', ...NOWHERE], /unexpected argument 'b'/],
    [['create', 'x', '--mode', '999', ...NOWHERE], /--mode must be an octal mode/],
    [['create', 'x', '--uid', '-1', ...NOWHERE], /--uid/],
    [['create', 'x', '--size', '10 parsecs', ...NOWHERE], /not a size/],
    [['create', 'x', '--label', 'novalue', ...NOWHERE], /--label must be KEY=VALUE/],
    [['create', 'x', '--var', 'a=b', ...NOWHERE], /NAME or --var, not both/],
    [['create', '../escape', ...NOWHERE], /invalid volume name/],
    [['create', '/abs', ...NOWHERE], /absolute/],
    [['create', '--template', '${ns}/${pvc}', '--var', 'ns=a', ...NOWHERE], /needs \$\{pvc\}/],
    [['delete', 'x', '--on-delete', 'shred', ...NOWHERE], /--on-delete must be retain, archive or delete/],
    [['delete', 'x', '--concurrency', '0', ...NOWHERE], /--concurrency must be an integer >= 1/],
    [['delete', ...NOWHERE], /missing NAME/],
    [['restore', 'snap', ...NOWHERE], /missing --to NAME/],
    [['snapshot', 'x', '--manifest', 'm.ndjson', ...NOWHERE], /--manifest goes with --out/],
    [['migrate', 'nfs://a/x'], /need SRC_URL and DST_URL/],
    [['migrate', 'nfs://a/x', 'nfs://b/y', '--mtime-window', 'soon'], /--mtime-window must be seconds/],
    [['list', '--url'], /needs a value/],
    // Options belong to their sub-command: --delete is a flag to migrate, an ID to snapshots.
    [['migrate', 'nfs://a/x', 'nfs://b/y', '--delete', 'extra'], /unexpected argument 'extra'/],
    [['migrate', 'nfs://a/x', '--delete', 'nfs://b/y', '--mtime-window', 'soon'], /--mtime-window must be seconds/],
    [['snapshots', 'x', '--delete', ...NOWHERE], /option --delete needs a value/],
    [['list', '--to', 'x', ...NOWHERE], /unknown option --to/],
    [['migrate', 'nfs://a/x', 'nfs://b/y', '--base', '/v'], /unknown option --base/],
    [['delete', 'x', '--replace', ...NOWHERE], /unknown option --replace/],
  ];
  for (const [argv, msg] of cases) {
    const c = capture();
    t.equal(await volumeCommand(argv, c.io), 2, argv.join(' '));
    t.match(c.err.join('\n'), msg, `${argv.join(' ')}: says why`);
  }
});

t.test('no URL anywhere: exit 2', async (t) => {
  const saved = process.env.NFS_URL;
  delete process.env.NFS_URL;
  t.teardown(() => {
    if (saved !== undefined) process.env.NFS_URL = saved;
  });
  const c = capture();
  t.equal(await volumeCommand(['list'], c.io), 2);
  t.match(c.err.join('\n'), /no URL/);
});

t.test('sizes and byte formatting', async (t) => {
  t.equal(parseSize('1024'), 1024);
  t.equal(parseSize('10Gi'), 10 * 2 ** 30);
  t.equal(parseSize('500M'), 500 * 2 ** 20, 'binary, as bench and the sidecar read it');
  t.equal(parseSize('500Mi'), 500 * 2 ** 20);
  t.equal(parseSize('500MB'), 500 * 2 ** 20);
  t.equal(parseSize('1.5Ki'), 1536);
  t.equal(parseSize('2G'), 2 * 2 ** 30);
  t.equal(parseSize('3TiB'), 3 * 2 ** 40);
  for (const bad of ['', 'G', '-1', '1Xi', '1 G B']) t.throws(() => parseSize(bad), `'${bad}'`);
  t.equal(formatBytes(0), '0 B');
  t.equal(formatBytes(1023), '1023 B');
  t.equal(formatBytes(1536), '1.50 KiB');
  t.equal(formatBytes(10 * 2 ** 30), '10.0 GiB');
});
