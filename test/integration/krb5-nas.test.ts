// RPCSEC_GSS against a real Kerberos NAS: NFS-Ganesha with krb5, krb5i and
// krb5p exports and its own MIT KDC, in a private namespace
// (scripts/krb5-nas). The client runs inside the namespace as a child
// (_krb5-child.ts) that prints what it saw; this file asserts.
import t from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, rmSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { uniqueName } from './_env.js';

const SCRIPT = fileURLToPath(new URL('../../scripts/krb5-nas', import.meta.url));
const CHILD = fileURLToPath(new URL('./_krb5-child.ts', import.meta.url));

if (process.getuid?.() !== 0) {
  t.test('the Kerberos NAS', { skip: 'needs root (namespaces, bind mounts)' }, () => {});
} else {
  const env: Record<string, string> = {};
  const out = execFileSync(SCRIPT, ['start'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  for (const line of out.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) env[m[1]!] = m[2]!;
  }
  const URL_BASE = env.MOUNTLESS_KRB5_NAS_URL!;
  const EXPORT_DIR = env.MOUNTLESS_KRB5_NAS_EXPORT_DIR!;
  const ALICE_UID = Number(env.MOUNTLESS_KRB5_NAS_ALICE_UID);
  const alice = { krb5: { keytab: env.MOUNTLESS_KDC_CLIENT_KEYTAB, principal: 'alice' } };

  const run = (job: Record<string, unknown>): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const c = spawn(SCRIPT, ['exec', process.execPath, ...process.execArgv, CHILD, JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      c.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
      c.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      c.on('error', reject);
      c.on('close', (code) => {
        const line = stdout.trim().split('\n').pop() ?? '';
        try {
          resolve(JSON.parse(line) as Record<string, unknown>);
        } catch {
          reject(new Error(`child exited ${code} without a result: ${stdout}\n${stderr}`));
        }
      });
    });

  const cleanup = (dir: string) => rmSync(`${EXPORT_DIR}/${dir}`, { recursive: true, force: true });

  for (const version of ['3', '4.1', '4.0']) {
    for (const sec of ['krb5', 'krb5i', 'krb5p']) {
      t.test(`NFSv${version} sec=${sec}: write, read, readdir, stat, rename, unlink; files are alice's on the server's disk`, async (t) => {
        const dir = uniqueName(`krb5-${version}-${sec}`);
        t.teardown(() => cleanup(dir));
        const r = await run({ kind: 'fs', url: `${URL_BASE}?version=${version}&sec=${sec}`, options: alice, dir: `/${dir}` });
        t.same(r.error, undefined, 'no error');
        t.equal(r.text, 'first+more');
        t.equal(r.size, 'first+more'.length);
        t.same(r.names, ['b.txt', 'big.bin']);
        t.equal(r.bigEqual, true, '300 KiB read back equal');
        t.equal(r.missing, 'ENOENT', 'unlinked file is gone');
        t.ok(existsSync(`${EXPORT_DIR}/${dir}/b.txt`), 'the file is on the server');
        t.equal(statSync(`${EXPORT_DIR}/${dir}/b.txt`).uid, ALICE_UID, "owner on disk is alice's uid");
        t.equal(statSync(`${EXPORT_DIR}/${dir}`).uid, ALICE_UID, "directory owner on disk is alice's uid");
      });
    }
  }

  t.test('sec=sys on the krb5-only export: an error that names the flavors the export wants', async (t) => {
    const v3 = await run({ kind: 'fs', url: `${URL_BASE}?version=3&sec=sys`, options: {}, dir: '/unused' });
    t.equal((v3.error as { code: string }).code, 'ERR_NFS_WRONGSEC');
    t.match((v3.error as { message: string }).message, /this export wants krb5.*krb5i.*krb5p|this export wants krb5p\/krb5i\/krb5/);
    t.same(new Set((v3.error as { wanted: string[] }).wanted), new Set(['krb5', 'krb5i', 'krb5p']), 'from MOUNT\'s flavor list');
    for (const version of ['4.1', '4.0']) {
      const v4 = await run({ kind: 'fs', url: `${URL_BASE}?version=${version}&sec=sys`, options: {}, dir: '/unused' });
      t.equal((v4.error as { code: string }).code, 'ERR_NFS_WRONGSEC', `NFSv${version}`);
      t.match((v4.error as { message: string }).message, /this export wants krb5p\/krb5i\/krb5, not sys \(NFS4ERR_WRONGSEC at 'export', flavors from SECINFO\)/);
      t.same(new Set((v4.error as { wanted: string[] }).wanted), new Set(['krb5', 'krb5i', 'krb5p']), `NFSv${version}: from SECINFO`);
    }
  });

  t.test('sec=sys:krb5i falls through to krb5i', async (t) => {
    const dir = uniqueName('krb5-list');
    t.teardown(() => cleanup(dir));
    const r = await run({ kind: 'fs', url: `${URL_BASE}?version=3&sec=sys:krb5i`, options: alice, dir: `/${dir}` });
    t.equal(r.text, 'first+more');
  });

  for (const version of ['3', '4.1']) {
    t.test(`NFSv${version}: a marker written over krb5p never crosses the wire in clear, over krb5i it does`, async (t) => {
      const marker = `MOUNTLESS-MARKER-${uniqueName('m')}`;
      for (const [sec, onWire] of [['krb5p', false], ['krb5i', true]] as const) {
        const dir = uniqueName(`krb5-relay-${sec}`);
        t.teardown(() => cleanup(dir));
        const r = await run({ kind: 'relay', url: `${URL_BASE}?version=${version}&sec=${sec}`, options: alice, dir: `/${dir}`, marker });
        t.same(r.error, undefined, `${sec}: no error`);
        t.equal(r.bigEqual, true, `${sec}: data read back equal through the relay`);
        t.ok((r.bytesUp as number) > 300 * 1024, `${sec}: the data went through the relay`);
        t.equal(r.markerOnWire, onWire, `${sec}: marker ${onWire ? 'is' : 'is not'} on the wire in clear`);
      }
    });
  }

  t.test('a ticket that expires mid-run (bob: short max life) fails no call', async (t) => {
    const dir = uniqueName('krb5-expiry');
    t.teardown(() => cleanup(dir));
    const life = Number(env.MOUNTLESS_KRB5_NAS_SHORT_LIFE) * 1000;
    const r = await run({
      kind: 'expiry',
      url: `${URL_BASE}?version=4.1&sec=krb5i`,
      options: { krb5: { keytab: env.MOUNTLESS_KRB5_NAS_BOB_KEYTAB, principal: 'bob' } },
      dir: `/${dir}`,
      runMs: life + 10_000,
    });
    t.same(r.error, undefined, 'no error');
    t.same(r.failures, [], 'no call failed');
    t.ok((r.calls as number) > 0, 'calls were made');
    t.ok((r.inits as number) >= 2, `a new context was made when the ticket neared its end (${String(r.inits)} RPCSEC_GSS_INIT calls)`);
  });
}
