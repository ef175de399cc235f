// The package as a user gets it: `npm pack` of the built tree, installed from
// the tarball into a scratch project, then used the ways consumers use it
// (import, require, the bin, a strict TypeScript project as ESM and as CJS),
// and checked by publint and @arethetypeswrong/cli. Needs `npm run build`
// first; runs under whichever node is first on PATH (scripts/test runs it on
// every tested Node line).
//
// MOUNTLESS_TOOLS_BIN  where publint and attw are (default node_modules/.bin)
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TOOLS = process.env.MOUNTLESS_TOOLS_BIN || join(ROOT, 'node_modules/.bin');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

/** Every error class the library can throw; each must be exported as a class (instanceof works). */
const ERROR_CLASSES = [
  'XdrDecodeError', 'RpcError', 'RpcRecordError', 'RpcAcceptedError', 'RpcDeniedError', 'RpcTimeoutError',
  'RpcConnectionError', 'RpcClosedError', 'AbortError', 'MountError', 'InvalidArgError', 'NfsStatusError',
  'Nfs4OpError', 'Nfs4PathError', 'FsError',
];

interface Run { status: number | null; out: string; err: string }

function run(cmd: string, args: string[], cwd: string): Run {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', npm_config_update_notifier: 'false' } });
  if (r.error) throw r.error;
  return { status: r.status, out: r.stdout, err: r.stderr };
}

const node = (args: string[], cwd: string) => run(process.execPath, args, cwd);

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}

if (!existsSync(join(ROOT, 'dist/index.js'))) throw new Error('dist/ is missing: run `npm run build` first');

const work = await mkdtemp(join(tmpdir(), 'mountless-pack-'));
t.teardown(() => rm(work, { recursive: true, force: true }));

// --ignore-scripts: the tree is already built (prepack would rebuild it from scratch).
const packed = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], ROOT);
if (packed.status !== 0) throw new Error(`npm pack failed: ${packed.err}`);
const info = JSON.parse(packed.out)[0] as { filename: string; files: { path: string }[] };
const tarball = join(work, info.filename);

const app = join(work, 'app');
await mkdir(app);
await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
// lru-cache, the one runtime dependency, is in npm's cache after `npm ci`.
const installed = run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], app);
if (installed.status !== 0) throw new Error(`npm install of the tarball failed: ${installed.err}`);

t.test('the tarball holds the build of every source module, the README, LICENSE and nothing else', async (t) => {
  const modules = (await walk(join(ROOT, 'src')))
    .filter((p) => p.endsWith('.ts') && !p.endsWith('.d.ts'))
    .map((p) => relative(join(ROOT, 'src'), p).replace(/\.ts$/, ''));
  const expected = ['LICENSE', 'README.md', 'package.json', ...modules.flatMap((m) => [`dist/${m}.js`, `dist/${m}.d.ts`])];
  // A difference here is a file shipped by accident (a stale build output, a
  // source map) or a module missing from the build.
  t.same(info.files.map((f) => f.path).sort(), expected.sort());
});

const NAMES = `const names = Object.keys(m).sort();`;
const ESM = `import * as m from 'mountless'; import * as v from 'mountless/volume';
${NAMES} console.log(JSON.stringify({ names, connect: typeof m.connect, volume: Object.keys(v).length }));`;
const CJS = `const m = require('mountless'); const v = require('mountless/volume');
${NAMES} console.log(JSON.stringify({ names, connect: typeof m.connect, volume: Object.keys(v).length }));`;

t.test('import and require() give the same exports', async (t) => {
  const esm = node(['--input-type=module', '-e', ESM], app);
  t.equal(esm.status, 0, esm.err);
  const cjs = node(['--input-type=commonjs', '-e', CJS], app);
  t.equal(cjs.status, 0, cjs.err);
  const a = JSON.parse(esm.out) as { names: string[]; connect: string; volume: number };
  const b = JSON.parse(cjs.out) as typeof a;
  t.equal(a.connect, 'function');
  t.ok(a.volume > 0, 'mountless/volume exports something');
  t.same(b, a);
});

t.test('import and require() in one process load one copy (same classes)', async (t) => {
  const r = node(['--input-type=commonjs', '-e', `
    const c = require('mountless');
    import('mountless').then((e) => console.log(JSON.stringify(Object.keys(e).filter((k) => k !== 'default' && e[k] !== c[k]))));`], app);
  t.equal(r.status, 0, r.err);
  t.same(JSON.parse(r.out), [], 'no export differs between the two');
});

t.test('every error class the library throws is exported and works with instanceof', async (t) => {
  const check = `const bad = []; for (const n of ${JSON.stringify(ERROR_CLASSES)}) {
    const C = m[n];
    if (typeof C !== 'function' || !(C.prototype instanceof Error) || !(Object.create(C.prototype) instanceof C)) bad.push(n);
  } console.log(JSON.stringify(bad));`;
  const esm = node(['--input-type=module', '-e', `import * as m from 'mountless'; ${check}`], app);
  t.equal(esm.status, 0, esm.err);
  t.same(JSON.parse(esm.out), [], 'not exported as a class (import)');
  const cjs = node(['--input-type=commonjs', '-e', `const m = require('mountless'); ${check}`], app);
  t.equal(cjs.status, 0, cjs.err);
  t.same(JSON.parse(cjs.out), [], 'not exported as a class (require)');
});

t.test('the mountless bin runs', async (t) => {
  const r = run(join(app, 'node_modules/.bin/mountless'), ['--help'], app);
  t.equal(r.status, 0, r.err);
  t.match(r.out, /mountless/);
});

t.test('a TypeScript consumer (NodeNext, skipLibCheck false) compiles and runs as ESM and as CJS', async (t) => {
  await writeFile(join(app, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: false,
      outDir: 'out', rootDir: 'src', types: ['node'], typeRoots: [join(ROOT, 'node_modules/@types')],
    },
    include: ['src'],
  }));
  await mkdir(join(app, 'src'));
  const body = `
const url = parseNfsUrl('nfs://server.example/export?version=4.1');
const e: unknown = new Error('x');
const isNfs: boolean = e instanceof NfsStatusError;
const open: (u: string) => Promise<NfsClient> = (u) => connect(u);
console.log(JSON.stringify({ host: url.host, isNfs, open: typeof open, volumes: typeof volumes }));
`;
  await writeFile(join(app, 'src/esm.mts'),
    `import { connect, parseNfsUrl, NfsStatusError, type NfsClient } from 'mountless';\nimport * as volumes from 'mountless/volume';\n${body}`);
  // A .cts file's imports compile to require(), which TypeScript >= 5.8 allows for ESM packages under NodeNext.
  await writeFile(join(app, 'src/cjs.cts'),
    `import { connect, parseNfsUrl, NfsStatusError, type NfsClient } from 'mountless';\nimport * as volumes from 'mountless/volume';\n${body}`);
  const tsc = node([TSC, '-p', 'tsconfig.json'], app);
  t.equal(tsc.status, 0, tsc.out + tsc.err);
  const want = { host: 'server.example', isNfs: false, open: 'function', volumes: 'object' };
  for (const f of ['out/esm.mjs', 'out/cjs.cjs']) {
    const r = node([f], app);
    t.equal(r.status, 0, `${f}: ${r.err}`);
    t.same(r.out ? JSON.parse(r.out) : null, want, f);
  }
});

t.test('publint finds nothing to report', async (t) => {
  const r = run(join(TOOLS, 'publint'), ['run', '--strict', tarball], work);
  t.equal(r.status, 0, r.out + r.err);
  t.match(r.out, /All good!/, r.out);
});

t.test('@arethetypeswrong/cli finds no problem', async (t) => {
  // --profile node16: consumers resolve through the exports map (node16,
  // nodenext, bundler), not the pre-exports node10 resolution.
  // cjs-resolves-to-esm: require() of this ESM package is supported on the
  // Node lines in engines (require(esm)) and by TypeScript >= 5.8 under
  // NodeNext, as the tests above show; attw's bundled TypeScript predates that.
  const r = run(join(TOOLS, 'attw'), ['--profile', 'node16', '--ignore-rules', 'cjs-resolves-to-esm', '--format', 'ascii', '--no-color', tarball], work);
  t.equal(r.status, 0, r.out + r.err);
});
