// resvport against real servers: a `secure` export (a second NFS-Ganesha
// with PrivilegedPort, in a private namespace: scripts/secure-nas) answers a
// client from a port below 1024 and refuses one from an ordinary port with
// an error naming both remedies; and thousands of connections to the shared
// NAS do not use up the ~500 privileged ports.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RpcClient } from '../../src/rpc/client.js';
import { NFS_URL, uniqueName } from './_env.js';
import { runNamespaced, startNamespaced } from './_namespace.js';

const SCRIPT = fileURLToPath(new URL('../../scripts/secure-nas', import.meta.url));
const CHILD = fileURLToPath(new URL('./_resvport-child.ts', import.meta.url));

if (process.getuid?.() !== 0) {
  t.test('resvport', { skip: 'needs root (privileged ports, namespaces)' }, () => {});
} else {
  t.test('2000 connections one after the other, each from a privileged port: none fails, ports are reused', async (t) => {
    const host = new URL(NFS_URL).hostname;
    const ports = new Set<number>();
    let failures = 0;
    for (let i = 0; i < 2000; i++) {
      const c = new RpcClient({ host, port: 2049, resvport: 'required', connectTimeout: 5000, timeout: 10_000 });
      try {
        await c.call({ prog: 100003, vers: 3, proc: 0, name: 'NFSPROC3_NULL' }, null, () => {});
        ports.add((c as unknown as { reservedPort: { last: number } }).reservedPort.last);
      } catch {
        failures++;
      } finally {
        await c.close();
      }
    }
    t.equal(failures, 0, 'every connection was made and answered');
    t.ok([...ports].every((p) => p >= 512 && p < 1024), 'all from privileged ports');
    t.ok(ports.size < 2000, `${ports.size} ports served 2000 connections: closed ones were reused`);
  });

  t.test('a secure export (PrivilegedPort)', async (t) => {
    const env = startNamespaced(SCRIPT);
    t.teardown(() => void execFileSync(SCRIPT, ['stop'], { stdio: 'inherit' }));
    const secure = env.MOUNTLESS_SECURE_NAS_URL!;
    const open = env.MOUNTLESS_SECURE_NAS_OPEN_URL!;
    const cases = [
      { url: `${secure}?version=3&resvport=1`, file: `/${uniqueName('resv3')}` },
      { url: `${secure}?version=4.1&resvport=1`, file: `/${uniqueName('resv41')}` },
      { url: `${secure}?version=3&resvport=0`, file: '/never' },
      { url: `${secure}?version=4.1&resvport=0`, file: '/never' },
      { url: `${open}?version=3&resvport=0`, file: `/${uniqueName('open3')}` },
      { url: `${secure}?version=3`, file: `/${uniqueName('auto3')}` },
    ];
    const results = await runNamespaced<Record<string, { code: string; message: string } | string | undefined>[]>(SCRIPT, CHILD, cases);
    const [v3, v41, v3off, v41off, openOff, auto] = results;
    t.same(v3, { text: 'secure' }, 'NFSv3 with resvport=1: MOUNT, write and read work');
    t.same(v41, { text: 'secure' }, 'NFSv4.1 with resvport=1 works');
    t.same(auto, { text: 'secure' }, 'as root resvport is on by default');
    t.same(openOff, { text: 'secure' }, 'an export without PrivilegedPort takes an ordinary port');
    const e3 = v3off!.error as { code: string; message: string };
    t.equal(e3.code, 'ERR_NFS_PRIVILEGED_PORT', 'NFSv3 with resvport=0: the named error');
    t.match(e3.message, /unprivileged source port/);
    t.match(e3.message, /`insecure` on the export/, 'names the server-side remedy');
    t.match(e3.message, /resvport=1, as root/, 'names the client-side remedy');
    // Ganesha hides an export the client may not use from the NFSv4 pseudo-fs: not found, not refused.
    t.equal((v41off!.error as { code: string }).code, 'ENOENT', 'NFSv4.1 with resvport=0 does not mount');
  });
}
