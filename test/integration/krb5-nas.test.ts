// RPCSEC_GSS against a real Kerberos NAS: NFS-Ganesha with krb5, krb5i and
// krb5p exports and its own MIT KDC, in a private namespace
// (scripts/krb5-nas). The client runs inside the namespace as a child
// (_krb5-child.ts) that prints what it saw; this file asserts.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, rmSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { uniqueName } from './_env.js';
import { runNamespaced, startNamespaced } from './_namespace.js';

const SCRIPT = fileURLToPath(new URL('../../scripts/krb5-nas', import.meta.url));
const CHILD = fileURLToPath(new URL('./_krb5-child.ts', import.meta.url));

if (process.getuid?.() !== 0) {
  t.test('the Kerberos NAS', { skip: 'needs root (namespaces, bind mounts)' }, () => {});
} else {
  const env = startNamespaced(SCRIPT);
  const URL_BASE = env.MOUNTLESS_KRB5_NAS_URL!;
  const EXPORT_DIR = env.MOUNTLESS_KRB5_NAS_EXPORT_DIR!;
  const ALICE_UID = Number(env.MOUNTLESS_KRB5_NAS_ALICE_UID);
  const alice = { krb5: { keytab: env.MOUNTLESS_KDC_CLIENT_KEYTAB, principal: 'alice' } };

  type Result = Record<string, unknown>;
  /** Runs the jobs in one child inside the namespace (a child costs seconds to start). */
  const runAll = (jobs: Record<string, unknown>[]): Promise<Result[]> => runNamespaced<Result[]>(SCRIPT, CHILD, jobs);

  const cleanup = (dir: string) => rmSync(`${EXPORT_DIR}/${dir}`, { recursive: true, force: true });

  // Every job is declared here and all run in one child, started when the
  // first test asks for a result; each test asserts on its own jobs.
  const jobs: Record<string, unknown>[] = [];
  const dirs: string[] = [];
  let batch: Promise<Result[]> | undefined;
  const job = (j: Record<string, unknown>, tag: string): { dir: string; result: () => Promise<Result> } => {
    const dir = uniqueName(tag);
    dirs.push(dir);
    const i = jobs.push({ ...j, dir: `/${dir}` }) - 1;
    return { dir, result: async () => (await (batch ??= runAll(jobs)))[i]! };
  };
  t.teardown(() => dirs.forEach(cleanup));

  // tap starts a subtest as soon as it is declared: declare the tests only
  // once every job is queued, so the one child runs them all.
  const tests: (() => void)[] = [];
  const later = (name: string, ...rest: [(t: Test) => Promise<void>] | [{ skip: string | false }, (t: Test) => Promise<void>]): void => {
    tests.push(() => (rest.length === 1 ? t.test(name, rest[0]) : t.test(name, rest[0], rest[1])));
  };

  for (const version of ['3', '4.1', '4.0']) {
    for (const sec of ['krb5', 'krb5i', 'krb5p']) {
      const j = job({ kind: 'fs', url: `${URL_BASE}?version=${version}&sec=${sec}`, options: alice }, `krb5-${version}-${sec}`);
      later(`NFSv${version} sec=${sec}: write, read, readdir, stat, rename, unlink; files are alice's on the server's disk`, async (t) => {
        const r = await j.result();
        t.same(r.error, undefined, 'no error');
        t.equal(r.text, 'first+more');
        t.equal(r.size, 'first+more'.length);
        t.same(r.names, ['b.txt', 'big.bin']);
        t.equal(r.bigEqual, true, '300 KiB read back equal');
        t.equal(r.missing, 'ENOENT', 'unlinked file is gone');
        t.ok(existsSync(`${EXPORT_DIR}/${j.dir}/b.txt`), 'the file is on the server');
        t.equal(statSync(`${EXPORT_DIR}/${j.dir}/b.txt`).uid, ALICE_UID, "owner on disk is alice's uid");
        t.equal(statSync(`${EXPORT_DIR}/${j.dir}`).uid, ALICE_UID, "directory owner on disk is alice's uid");
      });
    }
  }

  const sysJobs = ['3', '4.1', '4.0'].map((version) => ({ version, j: job({ kind: 'fs', url: `${URL_BASE}?version=${version}&sec=sys`, options: {} }, 'krb5-sys') }));
  later('sec=sys on the krb5-only export: an error that names the flavors the export wants', async (t) => {
    for (const { version, j } of sysJobs) {
      const e = (await j.result()).error as { code: string; message: string; wanted: string[] };
      t.equal(e.code, 'ERR_NFS_WRONGSEC', `NFSv${version}`);
      t.match(e.message, version === '3' ? /this export wants krb5p\/krb5i\/krb5, not sys \(AUTH_TOOWEAK\)/ : /this export wants krb5p\/krb5i\/krb5, not sys \(NFS4ERR_WRONGSEC at 'export', flavors from SECINFO\)/);
      t.same(new Set(e.wanted), new Set(['krb5', 'krb5i', 'krb5p']), `NFSv${version}: ${version === '3' ? "MOUNT's flavor list" : 'SECINFO'}`);
    }
  });

  const more = [
    { what: 'NFSv3 krb5p over nconnect=3 (a context per connection)', contexts: 3, j: job({ kind: 'fs', url: `${URL_BASE}?version=3&sec=krb5p&nconnect=3`, options: alice }, 'krb5-nconnect3') },
    { what: 'NFSv4.1 krb5i over nconnect=3 (a context per connection)', contexts: 3, j: job({ kind: 'fs', url: `${URL_BASE}?version=4.1&sec=krb5i&nconnect=3`, options: alice }, 'krb5-nconnect41') },
    { what: 'NFSv4.1 krb5 with a password instead of a keytab', contexts: 1, j: job({ kind: 'fs', url: `${URL_BASE}?version=4.1&sec=krb5`, options: { krb5: { principal: 'alice', password: env.MOUNTLESS_KDC_CLIENT_PASSWORD } } }, 'krb5-password') },
  ];
  for (const { what, contexts, j } of more) {
    later(what, async (t) => {
      const r = await j.result();
      t.same(r.error, undefined, 'no error');
      t.equal(r.inits, contexts, `${contexts} RPCSEC_GSS_INIT (one per connection used)`);
      t.equal(r.text, 'first+more');
      t.equal(r.bigEqual, true);
      t.equal(statSync(`${EXPORT_DIR}/${j.dir}/b.txt`).uid, ALICE_UID, "owner on disk is alice's uid");
    });
  }

  const list = job({ kind: 'fs', url: `${URL_BASE}?version=3&sec=sys:krb5i`, options: alice }, 'krb5-list');
  later('sec=sys:krb5i falls through to krb5i', async (t) => {
    const r = await list.result();
    t.same(r.error, undefined);
    t.equal(r.text, 'first+more');
  });

  // The sys export: a sec= list starting with flavors it does not take. Asked at
  // mount (SECINFO_NO_NAME on 4.1, SECINFO on 4.0), the server names sys, so
  // krb5i is never tried: one RPCSEC_GSS context (krb5p's, the first try), not two.
  const SYS_DIR = `${env.MOUNTLESS_KRB5_NAS_DIR}/export-sys`;
  const negotiated = ['4.1', '4.0'].map((version) => ({ version, j: job({ kind: 'fs', url: `${env.MOUNTLESS_KRB5_NAS_SYS_URL}?version=${version}&sec=krb5p:krb5i:sys`, options: alice }, `krb5-secinfo-${version}`) }));
  t.teardown(() => negotiated.forEach(({ j }) => rmSync(`${SYS_DIR}/${j.dir}`, { recursive: true, force: true })));
  later('sec=krb5p:krb5i:sys on a sys export: the flavor the server offers is asked for and chosen at once', async (t) => {
    for (const { version, j } of negotiated) {
      const r = await j.result();
      t.same(r.error, undefined, `NFSv${version}: no error`);
      t.equal(r.text, 'first+more');
      t.equal(r.inits, 1, `NFSv${version}: one RPCSEC_GSS context (krb5i skipped)`);
      t.ok((r.secinfos as number) >= 1, `NFSv${version}: the server was asked for its flavors`);
    }
  });
  const none = job({ kind: 'fs', url: `${env.MOUNTLESS_KRB5_NAS_SYS_URL}?version=4.1&sec=krb5p:krb5i`, options: alice }, 'krb5-secinfo-none');
  later('sec=krb5p:krb5i on a sys export: fails after the first try, naming what the export wants', async (t) => {
    const r = await none.result();
    const e = r.error as { code: string; message: string; wanted: string[] };
    t.equal(e.code, 'ERR_NFS_WRONGSEC');
    t.same(e.wanted, ['sys']);
    t.match(e.message, /this export wants sys/);
    t.equal(r.inits, 1, 'krb5i was not tried');
  });
  const first = job({ kind: 'fs', url: `${URL_BASE}?version=4.1&sec=krb5i:krb5p`, options: alice }, 'krb5-secinfo-first');
  const sysFirst = job({ kind: 'fs', url: `${URL_BASE}?version=4.1&sec=sys:krb5i`, options: alice }, 'krb5-secinfo-sys-first');
  later('NFSv4.1: the first of the list the export offers is used (krb5i of krb5i:krb5p; krb5i of sys:krb5i)', async (t) => {
    for (const j of [first, sysFirst]) {
      const r = await j.result();
      t.same(r.error, undefined, 'no error');
      t.equal(r.inits, 1, 'one context');
      t.equal(statSync(`${EXPORT_DIR}/${j.dir}/b.txt`).uid, ALICE_UID, "owner on disk is alice's uid");
    }
  });

  for (const version of ['3', '4.1']) {
    const marker = `MOUNTLESS-MARKER-${uniqueName('m')}`;
    const relayJobs = (['krb5p', 'krb5i'] as const).map((sec) => ({ sec, j: job({ kind: 'relay', url: `${URL_BASE}?version=${version}&sec=${sec}`, options: alice, marker }, `krb5-relay-${sec}`) }));
    later(`NFSv${version}: a marker written over krb5p never crosses the wire in clear, over krb5i it does`, async (t) => {
      for (const { sec, j } of relayJobs) {
        const r = await j.result();
        const onWire = sec === 'krb5i';
        t.same(r.error, undefined, `${sec}: no error`);
        t.equal(r.bigEqual, true, `${sec}: data read back equal through the relay`);
        t.ok((r.bytesUp as number) > 300 * 1024, `${sec}: the data went through the relay`);
        t.equal(r.markerOnWire, onWire, `${sec}: marker ${onWire ? 'is' : 'is not'} on the wire in clear`);
      }
    });
  }

  const life = Number(env.MOUNTLESS_KRB5_NAS_SHORT_LIFE) * 1000;
  const expiry = job(
    { kind: 'expiry', url: `${URL_BASE}?version=4.1&sec=krb5i`, options: { krb5: { keytab: env.MOUNTLESS_KRB5_NAS_BOB_KEYTAB, principal: 'bob' } }, runMs: life + 10_000 },
    'krb5-expiry',
  );
  later('a ticket that expires mid-run (bob: short max life) fails no call', async (t) => {
    const r = await expiry.result();
    t.same(r.error, undefined, 'no error');
    t.same(r.failures, [], 'no call failed');
    t.ok((r.calls as number) > 0, 'calls were made');
    t.ok((r.inits as number) >= 2, `a new context was made when the ticket neared its end (${String(r.inits)} RPCSEC_GSS_INIT calls)`);
  });

  // The CLI (dist/cli/main.js: build first) inside the namespace, credentials from its flags.
  const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
  const cli = (args: string[], extraEnv: Record<string, string> = {}): Promise<{ code: number | null; out: string; err: string }> =>
    new Promise((resolve, reject) => {
      // KRB5_CLIENT_KTNAME/KRB5CCNAME cleared: the credentials must come from the flags.
      const c = spawn(SCRIPT, ['exec', 'env', '-u', 'KRB5_CLIENT_KTNAME', '-u', 'KRB5CCNAME', process.execPath, CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...extraEnv } });
      let out = '';
      let err = '';
      c.stdout.on('data', (b: Buffer) => (out += b.toString()));
      c.stderr.on('data', (b: Buffer) => (err += b.toString()));
      c.on('error', reject);
      c.on('close', (code) => resolve({ code, out, err }));
    });
  later('CLI: --krb5-principal and --krb5-keytab (or $MOUNTLESS_KRB5_PASSWORD) mount a krb5i export', { skip: !existsSync(CLI) && 'dist/cli/main.js not built (npx tsc -p tsconfig.json)' }, async (t) => {
    const dir = uniqueName('krb5-cli');
    dirs.push(dir);
    const url = `${URL_BASE}?version=4.1&sec=krb5i`;
    const mk = await cli(['mkdir', '--url', url, '--krb5-principal', 'alice', '--krb5-keytab', env.MOUNTLESS_KDC_CLIENT_KEYTAB!, `/${dir}`]);
    t.equal(mk.code, 0, `mkdir with a keytab: ${mk.err}`);
    t.equal(statSync(`${EXPORT_DIR}/${dir}`).uid, ALICE_UID, "made as alice's uid");
    const ls = await cli(['--krb5-principal', 'alice', 'ls', '--url', url, '/'], { MOUNTLESS_KRB5_PASSWORD: env.MOUNTLESS_KDC_CLIENT_PASSWORD! });
    t.equal(ls.code, 0, `ls with the password from the environment: ${ls.err}`);
    t.match(ls.out, dir);
    const none = await cli(['ls', '--url', url, '/']);
    t.equal(none.code, 1, 'without credentials the mount fails');
    t.match(none.err, /credential|keytab|ccache|cache/i);
  });

  for (const declare of tests) declare();
}
