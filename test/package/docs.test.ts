// The API reference builds with no warning: `npm run docs` (typedoc with
// typedoc.json) treats warnings as errors, so an export without a doc
// comment, a broken {@link} or a public type that names an unexported one
// fails here. The reference goes to a scratch directory, not docs/api/.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TYPEDOC = join(ROOT, 'node_modules/typedoc/bin/typedoc');

function typedoc(args: string[]): { status: number | null; log: string } {
  const r = spawnSync(process.execPath, [TYPEDOC, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
  if (r.error) throw r.error;
  return { status: r.status, log: `${r.stdout}${r.stderr}` };
}

const work = await mkdtemp(join(tmpdir(), 'mountless-docs-'));
t.teardown(() => rm(work, { recursive: true, force: true }));

t.test('npm run docs builds the reference of both entry points without a warning', async (t) => {
  const out = join(work, 'api');
  const r = typedoc(['--out', out]);
  t.equal(r.status, 0, 'typedoc exits 0');
  t.same(r.log.split('\n').filter((l) => /\[(warning|error)\]/.test(l)), [], 'no warnings or errors');
  // One page per export of each entry point, as the exports map publishes them.
  t.ok(existsSync(join(out, 'classes/index.NfsClient.html')), 'NfsClient (mountless)');
  t.ok(existsSync(join(out, 'interfaces/index.ConnectOptions.html')), 'ConnectOptions (mountless)');
  t.ok(existsSync(join(out, 'classes/volume.Volumes.html')), 'Volumes (mountless/volume)');
});

t.test('an undocumented export fails the build under the same settings', async (t) => {
  const dir = join(work, 'undocumented');
  await mkdir(dir);
  await writeFile(join(dir, 'entry.ts'), '/** Documented. */\nexport function documented(): void {}\nexport function undocumentedThing(): void {}\n');
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, module: 'NodeNext', target: 'ES2022', types: [] }, files: ['entry.ts'] }));
  // The project's settings, with this entry point and without the project's
  // own exemption lists (they name members this fixture does not have).
  await writeFile(join(dir, 'typedoc.json'), JSON.stringify({
    extends: [join(ROOT, 'typedoc.json')],
    tsconfig: './tsconfig.json',
    entryPoints: ['./entry.ts'],
    out: './out',
    intentionallyNotDocumented: [],
    intentionallyNotExported: [],
  }));
  const r = typedoc(['--options', join(dir, 'typedoc.json')]);
  t.not(r.status, 0, 'typedoc fails');
  const warnings = r.log.split('\n').filter((l) => l.startsWith('[warning]') && !l.includes('Found '));
  t.equal(warnings.length, 1, 'one warning');
  t.match(warnings[0] ?? '', /undocumentedThing \(CallSignature\).*does not have any documentation/, 'naming the undocumented export');
});
