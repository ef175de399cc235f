// The documentation checks that need no server:
// - the API reference builds with no warning: `npm run docs` (typedoc with
//   typedoc.json) treats warnings as errors, so an export without a doc
//   comment, a broken {@link} or a public type that names an unexported one
//   fails here. The reference goes to a scratch directory, not docs/api/.
// - the README's JavaScript blocks type-check against the package's own
//   declarations (dist/*.d.ts, as a consumer resolves `mountless`). They are
//   checked rather than run: they name placeholder servers (nas.example) and
//   credentials (a keytab) that do not exist here. The programs in examples/
//   are the runnable ones (test/integration/examples.test.ts runs them).
// - the `@example` blocks of the doc comments in src/ type-check the same way,
//   with the names they assume (`nfs`, `fh`, `vols`) declared.
// Needs `npm run build` first, as the rest of the package tier.
import t from 'tap';
import ts from 'typescript';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
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

/** Type-checks `files` (name → JavaScript or TypeScript) as ES modules that import 'mountless' from this checkout's build. */
async function checkJs(dir: string, files: Record<string, string>): Promise<string[]> {
  await mkdir(join(dir, 'node_modules'), { recursive: true });
  await symlink(ROOT, join(dir, 'node_modules/mountless'), 'dir');
  const names: string[] = [];
  for (const [name, text] of Object.entries(files)) {
    await writeFile(join(dir, name), text);
    names.push(join(dir, name));
  }
  const program = ts.createProgram(names, {
    allowJs: true,
    checkJs: true,
    noEmit: true,
    strict: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib: ['lib.es2022.d.ts'],
    types: ['node'],
    typeRoots: [join(ROOT, 'node_modules/@types')],
    skipLibCheck: true,
  });
  return ts
    .getPreEmitDiagnostics(program)
    // diagnostics_channel hands subscribers an `unknown` message (@types/node);
    // reading its fields is what the README shows, and examples/diagnostics.mjs runs it.
    .filter((d) => d.code !== 18046)
    .map((d) => `${d.file ? `${d.file.fileName.slice(dir.length + 1)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}: ` : ''}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
}

t.test("the README's JavaScript blocks type-check against the package's declarations", async (t) => {
  if (!existsSync(join(ROOT, 'dist/index.d.ts'))) throw new Error('dist/ is missing: run `npm run build` first');
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/^```js\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
  t.ok(blocks.length >= 3, `the README has its JavaScript blocks (${blocks.length})`);
  // Each block on its own, as a reader copies it; one that uses `connect`
  // without importing it (a continuation of the first) gets the import.
  const files: Record<string, string> = {};
  blocks.forEach((b, i) => {
    const imports = /\bconnect\(/.test(b) && !/import .*\bconnect\b/.test(b) ? "import { connect } from 'mountless';\n" : '';
    files[`readme-${i + 1}.mjs`] = imports + b + '\nexport {};\n';
  });
  t.same(await checkJs(join(work, 'readme'), files), [], 'no type errors');
});

t.test('the README check catches a block that uses an API mountless does not have', async (t) => {
  const errors = await checkJs(join(work, 'readme-wrong'), {
    'wrong.mjs': "import { connect } from 'mountless';\nconst nfs = await connect('nfs://nas.example/export', { version: '5' });\nawait nfs.readdirSync('/');\nexport {};\n",
  });
  t.equal(errors.length, 2, errors.join('\n'));
  t.match(errors.join('\n'), /'"5"' is not assignable to type 'NfsVersion/, 'an option value it does not take');
  t.match(errors.join('\n'), /readdirSync/, 'a method it does not have');
});

/** The fenced code of every `@example` in the doc comments under src/, with where it is. */
async function docExamples(): Promise<Array<{ where: string; code: string }>> {
  const out: Array<{ where: string; code: string }> = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (p.endsWith('.ts')) {
        const text = await readFile(p, 'utf8');
        for (const c of text.matchAll(/\/\*\*[\s\S]*?\*\//g)) {
          const body = c[0].split('\n').map((l) => l.replace(/^\s*(\/\*\*|\*\/|\*) ?/, '')).join('\n');
          for (const part of body.split(/^@example\b/m).slice(1)) {
            const code = /^```ts\n([\s\S]*?)^```/m.exec(part.split(/^@\w/m)[0]!)?.[1];
            if (code !== undefined) out.push({ where: `${p.slice(ROOT.length)}:${text.slice(0, c.index).split('\n').length}`, code });
          }
        }
      }
    }
  };
  await walk(join(ROOT, 'src'));
  return out;
}

t.test('the @example blocks of the doc comments type-check against the package', async (t) => {
  if (!existsSync(join(ROOT, 'dist/index.d.ts'))) throw new Error('dist/ is missing: run `npm run build` first');
  const examples = await docExamples();
  t.ok(examples.length >= 10, `found the examples (${examples.length})`);
  const main = Object.keys(await import(join(ROOT, 'dist/index.js')));
  const volume = Object.keys(await import(join(ROOT, 'dist/volume/index.js')));
  const files: Record<string, string> = {};
  const where: string[] = [];
  examples.forEach(({ where: w, code }, i) => {
    // What an example takes as given: the package's exports (unless it
    // imports them itself) and the objects it works on.
    const own = new Set([...code.matchAll(/import \{([^}]*)\} from 'mountless(?:\/volume)?'/g)].flatMap((m) => m[1]!.split(',').map((n) => n.trim())));
    const given = [
      `import { ${main.filter((n) => !own.has(n)).join(', ')} } from 'mountless';`,
      `import { ${volume.filter((n) => !own.has(n) && !main.includes(n)).join(', ')} } from 'mountless/volume';`,
      ...['nfs: NfsClient', 'fh: FileHandle', 'vols: Volumes', 'result: unknown']
        .filter((d) => !new RegExp(`\\b(const|let) ${d.split(':')[0]}\\b`).test(code))
        .map((d) => `declare const ${d};`),
    ];
    // The example's own imports first (ES modules hoist them anyway).
    const imports = code.split('\n').filter((l) => l.startsWith('import '));
    const rest = code.split('\n').filter((l) => !l.startsWith('import '));
    files[`example-${i + 1}.mts`] = [...imports, ...given, ...rest, 'export {};', ''].join('\n');
    where.push(`example-${i + 1}.mts = ${w}`);
  });
  t.same(await checkJs(join(work, 'examples'), files), [], `no type errors (${where.join(', ')})`);
});
