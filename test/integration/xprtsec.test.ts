// RPC-with-TLS (RFC 9289, xprtsec=tls): the client probes with a NULL call
// carrying AUTH_TLS, and on a STARTTLS answer runs TLS on the same
// connection. NFS-Ganesha 4.3 has no RFC 9289, so a small test peer plays the
// server half (probe + handshake) in front of it; against Ganesha itself the
// client must refuse rather than fall back to plaintext.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import t from 'tap';
import { connect } from '../../src/index.js';
import { EXPORT_DIR, NFS_URL, uniqueName } from './_env.js';

const AUTH_TLS = 7;

/** Answers the STARTTLS probe, then TLS, then relays the decrypted stream to `target`. */
async function tlsPeer(target: number, key: Buffer, cert: Buffer): Promise<{ port: number; server: Server; probes: number }> {
  const state = { port: 0, server: undefined as unknown as Server, probes: 0 };
  const server = createServer((sock: Socket) => {
    let got = Buffer.alloc(0);
    const onData = (c: Buffer) => {
      got = Buffer.concat([got, c]);
      if (got.length < 4 || got.length < 4 + (got.readUInt32BE(0) & 0x7fffffff)) return;
      sock.off('data', onData);
      sock.pause();
      const xid = got.readUInt32BE(4);
      const flavor = got.readUInt32BE(4 + 24);
      if (flavor !== AUTH_TLS) return sock.destroy();
      state.probes++;
      const verf = Buffer.from('STARTTLS');
      const reply = Buffer.alloc(4 + 24 + 8 + 4);
      [xid, 1, 0, 0, verf.length].forEach((v, i) => reply.writeUInt32BE(v, 4 + i * 4));
      verf.copy(reply, 4 + 20);
      reply.writeUInt32BE(0, 4 + 28); // accept_stat SUCCESS
      reply.writeUInt32BE((0x80000000 | (reply.length - 4)) >>> 0, 0);
      sock.write(reply, () => {
        const secure = new TLSSocket(sock, { isServer: true, key, cert });
        secure.on('secure', () => {
          const up = netConnect({ host: '127.0.0.1', port: target });
          secure.pipe(up).pipe(secure);
          up.on('error', () => secure.destroy());
          secure.on('error', () => up.destroy());
        });
        secure.on('error', () => sock.destroy());
      });
    };
    sock.on('data', onData);
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  state.port = (server.address() as { port: number }).port;
  state.server = server;
  return state;
}

t.test('xprtsec=tls through an RFC 9289 peer; refused, not downgraded, where the server has none', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mountless-xprtsec-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  const key = await readFile(join(dir, 'key.pem'));
  const cert = await readFile(join(dir, 'cert.pem'));
  const nfsPeer = await tlsPeer(2049, key, cert);
  const mountPeer = await tlsPeer(20048, key, cert);
  t.teardown(() => {
    nfsPeer.server.close();
    mountPeer.server.close();
  });
  const base = NFS_URL.split('?')[0];

  const nfs = await connect(`${base}?xprtsec=tls&nfsport=${nfsPeer.port}&mountport=${mountPeer.port}`, { tls: { ca: cert } });
  t.teardown(() => nfs.close());
  const name = `/${uniqueName('xprtsec')}.txt`;
  await nfs.writeFile(name, 'STARTTLS then NFS');
  t.equal(await nfs.readFile(name, 'utf8'), 'STARTTLS then NFS', 'a round trip over RPC-with-TLS');
  t.equal(await readFile(join(EXPORT_DIR, name), 'utf8'), 'STARTTLS then NFS', 'the bytes reached the server');
  t.ok(nfsPeer.probes >= 1 && mountPeer.probes >= 1, 'both the NFS and the MOUNT connection probed with AUTH_TLS');
  await nfs.unlink(name);

  await t.rejects(connect(`${base}?xprtsec=tls&nfsport=${nfsPeer.port}&mountport=${mountPeer.port}`, { connectTimeout: 3000 }), { name: 'RpcConnectionError' }, 'an untrusted certificate is refused');
  await t.rejects(connect(`${base}?xprtsec=tls&nfsport=2049&mountport=20048`, { tls: { ca: cert }, connectTimeout: 3000 }), { code: 'ERR_RPC_TLS_UNAVAILABLE' }, 'a server without RFC 9289 is refused, never used in plaintext');
  await t.rejects(connect(`${base}?xprtsec=bogus`), { code: 'ERR_INVALID_URL' });
});
