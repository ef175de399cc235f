// `mountless volume migrate --workers`: bad usage refused (exit 2) before any
// connection is made (the URLs point at a port nothing listens on: a command
// that tried to connect would exit 1 instead), and the worker index taken
// from JOB_COMPLETION_INDEX as a Kubernetes Indexed Job sets it.
import t from 'tap';
import { PassThrough, Readable } from 'node:stream';
import { volumeCommand, type CliIo } from '../../src/cli/volume.js';
import { checkRunId } from '../../src/volume/migrate-queue.js';

function capture(): { io: CliIo; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (s) => out.push(s), err: (s) => err.push(s), stdout: new PassThrough(), stdin: Readable.from([]), tty: false } };
}

const SRC = 'nfs://127.0.0.1/x?nfsport=1&mountport=1';
const DST = 'nfs://127.0.0.1/y?nfsport=1&mountport=1';

t.test('bad usage of the worker options: exit 2 with a message, nothing connected', async (t) => {
  const saved = process.env.JOB_COMPLETION_INDEX;
  delete process.env.JOB_COMPLETION_INDEX;
  t.teardown(() => {
    if (saved !== undefined) process.env.JOB_COMPLETION_INDEX = saved;
  });
  const cases: [string[], RegExp][] = [
    [['--workers', '3'], /--workers needs --run-id/],
    [['--run-id', 'r1'], /--run-id goes with --workers/],
    [['--worker-index', '1'], /--worker-index goes with --workers/],
    [['--lease', '5'], /--lease goes with --workers/],
    [['--workers', '0', '--run-id', 'r1'], /--workers must be an integer >= 1/],
    [['--workers', '3', '--run-id', 'r1', '--worker-index', '3'], /--worker-index must be below --workers \(3\), got 3/],
    [['--workers', '3', '--run-id', 'r1'], /no worker index: pass --worker-index I or set JOB_COMPLETION_INDEX/],
    [['--workers', '3', '--run-id', '../up', '--worker-index', '0'], /--run-id: run id must be/],
    [['--workers', '3', '--run-id', 'r1', '--worker-index', '0', '--lease', 'soon'], /--lease must be seconds/],
    [['--workers', '3', '--run-id', 'r1', '--worker-index', '0', '--partition-files', '0'], /--partition-files must be an integer >= 1/],
    [['--workers', '3', '--run-id', 'r1', '--worker-index', '0', '--dry-run'], /--dry-run does not go with --workers/],
  ];
  for (const [extra, re] of cases) {
    const c = capture();
    const code = await volumeCommand(['migrate', SRC, DST, ...extra], c.io);
    t.equal(code, 2, `${extra.join(' ')}: exit 2`);
    t.match(c.err.join('\n'), re, extra.join(' '));
  }
});

t.test('the worker index comes from JOB_COMPLETION_INDEX when not given', async (t) => {
  const saved = process.env.JOB_COMPLETION_INDEX;
  t.teardown(() => {
    if (saved === undefined) delete process.env.JOB_COMPLETION_INDEX;
    else process.env.JOB_COMPLETION_INDEX = saved;
  });
  process.env.JOB_COMPLETION_INDEX = '5';
  const c = capture();
  t.equal(await volumeCommand(['migrate', SRC, DST, '--workers', '3', '--run-id', 'r1'], c.io), 2, 'index 5 of 3 refused');
  t.match(c.err.join('\n'), /got 5/, 'the index read from the environment');
  process.env.JOB_COMPLETION_INDEX = '2';
  const d = capture();
  t.equal(await volumeCommand(['migrate', SRC, DST, '--workers', '3', '--run-id', 'r1'], d.io), 1, 'index 2 of 3 accepted: it goes on to connect (and fails, nothing listens there)');
});

t.test('run ids are single safe path components', async (t) => {
  for (const ok of ['r1', 'shop-data_2026.12', 'A']) t.equal(checkRunId(ok), ok);
  for (const bad of ['', '.', '..', '.hidden', '-x', 'a/b', 'a b', 'x'.repeat(101)]) t.throws(() => checkRunId(bad), RangeError, `'${bad}' refused`);
});
