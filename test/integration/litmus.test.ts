// The WebDAV litmus suite (Debian package `litmus`) against the sidecar on a
// random port, serving a scratch directory of the real NFS-Ganesha. Each group
// (basic, copymove, props, locks, http) must report zero failures. Run twice:
// without auth, and with a token presented as the Basic-auth password.
import t, { type Test } from 'tap';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { connect } from '../../src/index.js';
import { resolveConfig } from '../../src/sidecar/config.js';
import { silentLogger } from '../../src/sidecar/log.js';
import { Sidecar } from '../../src/sidecar/server.js';
import { scratch, urlWith } from './_env.js';

const run = promisify(execFile);
const GROUPS = ['basic', 'copymove', 'props', 'locks', 'http'];

interface GroupResult {
  run: number;
  passed: number;
  failed: number;
}

/** Parses litmus's `<- summary for `basic': of 16 tests run: 16 passed, 0 failed.` lines and its FAIL/WARNING lines. */
export function parseLitmus(out: string): { groups: Map<string, GroupResult>; failures: string[]; warnings: string[] } {
  const groups = new Map<string, GroupResult>();
  for (const m of out.matchAll(/<- summary for `(\w+)': of (\d+) tests run: (\d+) passed, (\d+) failed/g)) {
    groups.set(m[1]!, { run: Number(m[2]), passed: Number(m[3]), failed: Number(m[4]) });
  }
  const lines = out.split('\n');
  return { groups, failures: lines.filter((l) => /\bFAIL\b/.test(l)), warnings: lines.filter((l) => /WARNING/.test(l)) };
}

async function haveLitmus(): Promise<boolean> {
  try {
    await run('litmus', ['--version']);
    return true;
  } catch {
    return false;
  }
}

async function litmusAgainst(t: Test, token: string | undefined): Promise<void> {
  const s = await scratch(t, 'litmus');
  const url = urlWith(s.dir);
  const nfs = await connect(url);
  t.teardown(() => nfs.close());
  const env: NodeJS.ProcessEnv = token ? { MOUNTLESS_TOKEN: token } : {};
  const config = await resolveConfig(new Map([['url', url], ['listen', '127.0.0.1:0']]), env, async () => '');
  const sidecar = new Sidecar(nfs, config, { logger: silentLogger });
  const { address } = await sidecar.listen();
  t.teardown(() => sidecar.close());
  const cwd = await mkdtemp(join(tmpdir(), 'mountless-litmus-'));
  t.teardown(() => rm(cwd, { recursive: true, force: true }));
  const args = ['-k', `http://127.0.0.1:${address.port}/`, ...(token ? ['litmus-user', token] : [])];
  let out: string;
  try {
    out = (await run('litmus', args, { cwd, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 })).stdout;
  } catch (err) {
    // litmus exits non-zero when a test fails; its report is still on stdout.
    out = (err as { stdout?: string }).stdout ?? '';
    if (out === '') throw err;
  }
  const r = parseLitmus(out);
  for (const g of GROUPS) {
    const res = r.groups.get(g);
    t.ok(res, `litmus ran the ${g} group`);
    if (!res) continue;
    t.comment(`litmus ${g}: ${res.passed}/${res.run} passed, ${res.failed} failed`);
    t.ok(res.run > 0, `${g}: tests ran`);
    t.equal(res.failed, 0, `${g}: no failures`);
    t.equal(res.passed, res.run, `${g}: every test passed`);
  }
  t.same(r.failures, [], 'no FAIL lines');
  if (r.warnings.length) t.comment(`litmus warnings:\n${r.warnings.join('\n')}`);
  t.same(r.warnings, [], 'no warnings either');
}

t.test('litmus is installed (apt-get install litmus)', async (t) => {
  t.ok(await haveLitmus(), 'the litmus command runs');
});

t.test('litmus: all groups green, no auth', async (t) => {
  if (!(await haveLitmus())) return t.fail('litmus is not installed: apt-get install litmus');
  await litmusAgainst(t, undefined);
});

t.test('litmus: all groups green with a token (Basic auth, token as the password)', async (t) => {
  if (!(await haveLitmus())) return t.fail('litmus is not installed: apt-get install litmus');
  await litmusAgainst(t, 'litmus-secret-token');
});

t.test('parseLitmus reads summaries, failures and warnings', async (t) => {
  const r = parseLitmus(
    [
      '-> running `basic\':',
      ' 3. put_get............... FAIL (PUT of `/litmus/res\' failed: 500 Internal Server Error)',
      ' 4. delete_null........... WARNING: DELETE on null resource gave 403, should be 404',
      "<- summary for `basic': of 16 tests run: 15 passed, 1 failed. 93.8%",
    ].join('\n'),
  );
  t.same(r.groups.get('basic'), { run: 16, passed: 15, failed: 1 });
  t.equal(r.failures.length, 1);
  t.equal(r.warnings.length, 1);
});
