// Every program in examples/ runs against the local server and prints what
// it is expected to: the examples are documentation, and documentation that
// no longer runs is wrong. Each runs as a user would run it (`node
// examples/x.mjs`, against the build in dist/), with NFS_URL pointing at a
// scratch directory of the export so runs never meet. A new example needs an
// entry in EXPECTED: the first test fails until it has one.
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scratch, urlWith } from './_env.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const EXAMPLES = join(ROOT, 'examples');

if (!existsSync(join(ROOT, 'dist/index.js'))) throw new Error('dist/ is missing: run `npm run build` first (the examples import the build)');

/**
 * What each example prints: the whole of stdout (a string), or lines that
 * must each match a line of it (for output with times, sizes or random ids).
 */
const EXPECTED: Record<string, string | RegExp[]> = {
  'basic.mjs': [
    'hello over NFS',
    'no kernel mount needed',
    '',
    '5 HELLO',
    'file greeting.txt 38 bytes',
    "as node reports it: ENOENT ENOENT: no such file or directory, open '/examples/missing'",
    '',
  ].join('\n'),
  'volumes.mjs': [
    /^created: team-a\/data at \/volumes-example\/team-a\/data$/,
    /^again \(a retried CreateVolume\): created=false$/,
    /^usage: \{$/,
    /^df: \{$/,
    /^snapshot team-a%2Fdata@\S+: 5 entries → \/volumes-example\/\.mountless-snapshots\/\S+\.tar\.gz$/,
    /^restored team-a\/data-restored: 3 files$/,
    /'managed'.*'team-a\/data-restored'/,
    /^archived → archived-team-a\/data-restored-\d{8}T\d{6}Z$/,
    /^deleted team-a\/data: 3 files, 2 dirs$/,
    /^refused "\.\.\/escape": ERR_VOLUME_NAME$/,
    /^refused "\/abs": ERR_VOLUME_NAME$/,
    /^refused "team-a\/\.\.\/\.\.\/x": ERR_VOLUME_NAME$/,
  ],
  'diagnostics.mjs': [
    /^read back 65536 bytes$/,
    /^stat of a missing file: ENOENT$/,
    // NFSv3 names procedures, NFSv4 names the COMPOUND by what it does.
    /^(NFSPROC3_WRITE|NFSv4 COMPOUND write): [1-9]\d* ok, 0 failed, \d+\.\d ms$/,
    /^(NFSPROC3_READ|NFSv4 COMPOUND read): [1-9]\d* ok, 0 failed, \d+\.\d ms$/,
  ],
};

function run(file: string, env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [join(EXAMPLES, file)], { cwd: ROOT, env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, out, err }));
  });
}

const programs = (await readdir(EXAMPLES)).filter((f) => /\.(mjs|cjs|js)$/.test(f)).sort();

t.test('every program in examples/ has its expected output here', async (t) => {
  t.ok(programs.length > 0, 'there are examples');
  t.same(programs, Object.keys(EXPECTED).sort());
});

for (const file of programs) {
  const want = EXPECTED[file];
  if (want === undefined) continue;
  t.test(`node examples/${file}`, async (t) => {
    // uid 0: the volumes example creates root-owned volumes, which the
    // teardown must be able to remove.
    const s = await scratch(t, 'example', { uid: 0, gid: 0 });
    const r = await run(file, { NFS_URL: urlWith(s.dir) });
    t.equal(r.code, 0, `exits 0${r.err ? `; stderr: ${r.err}` : ''}`);
    t.equal(r.err, '', 'writes nothing to stderr');
    if (typeof want === 'string') {
      t.equal(r.out, want, 'prints what it should');
    } else {
      const lines = r.out.split('\n');
      for (const re of want) t.ok(lines.some((l) => re.test(l)), `prints a line matching ${re}`);
    }
  });
}
