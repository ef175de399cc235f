// NFS over TLS through stunnel (a TLS-terminating proxy in front of
// NFS-Ganesha, as cloud NAS "encryption in transit" helpers do): the client
// verifies the proxy's certificate, speaks NFSv3 through it, and refuses a
// certificate it does not trust.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { connect } from '../../src/index.js';
import { EXPORT_DIR, NFS_URL, uniqueName } from './_env.js';

const hasStunnel = (() => {
  try {
    execFileSync('stunnel4', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number): Promise<void> {
  const { connect: c } = await import('node:net');
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = c({ host: '127.0.0.1', port }, () => {
        s.destroy();
        r(true);
      }).on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`stunnel did not listen on ${port}`);
}

t.test('NFSv3 through stunnel with a verified certificate', { skip: !hasStunnel && 'stunnel4 is not installed' }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mountless-tls-'));
  let proc: ChildProcess | undefined;
  t.teardown(async () => {
    proc?.kill();
    await rm(dir, { recursive: true, force: true });
  });
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  const [nfsTls, mountTls] = [await freePort(), await freePort()];
  await writeFile(
    join(dir, 'stunnel.conf'),
    [`foreground = yes`, `pid =`, `cert = ${join(dir, 'cert.pem')}`, `key = ${join(dir, 'key.pem')}`, `[nfs]`, `accept = 127.0.0.1:${nfsTls}`, `connect = 127.0.0.1:2049`, `[mount]`, `accept = 127.0.0.1:${mountTls}`, `connect = 127.0.0.1:20048`, ''].join('\n'),
  );
  proc = spawn('stunnel4', [join(dir, 'stunnel.conf')], { stdio: 'ignore' });
  await waitForPort(nfsTls);
  await waitForPort(mountTls);
  const ca = await readFile(join(dir, 'cert.pem'));

  const url = `${NFS_URL}?tls=1&nfsport=${nfsTls}&mountport=${mountTls}`;
  const nfs = await connect(url, { tls: { ca } });
  t.teardown(() => nfs.close());
  const name = `/${uniqueName('tls')}.txt`;
  await nfs.writeFile(name, 'sealed in transit');
  t.equal(await nfs.readFile(name, 'utf8'), 'sealed in transit', 'a round trip through TLS');
  t.equal(await readFile(join(EXPORT_DIR, name), 'utf8'), 'sealed in transit', 'and the bytes reached the server');
  await nfs.unlink(name);

  await t.rejects(connect(url, { tls: true, connectTimeout: 3000 }), { name: 'RpcConnectionError', code: /SELF_SIGNED|UNABLE_TO_VERIFY|DEPTH_ZERO/ }, 'an untrusted certificate is refused, typed and named');
  await t.rejects(connect(`${NFS_URL}?tls=1`), /needs nfsport and mountport/, 'v3 over TLS without the proxy ports is a clear error');
});
