// A `secure` export's refusals as Linux nfsd and mountd give them (an
// in-process fake for MOUNT and NFS on one port): with resvport off they
// become errors that say the source port is the problem and name both
// remedies; with resvport on they keep their own meaning.
import t, { type Test } from 'tap';
import { connect, PrivilegedPortError } from '../../src/index.js';
import { FakeRpcServer, PROC_UNAVAIL, u32, type FakeCall } from './fake-rpc-server.js';

const MOUNT = 100005;
const NFS = 100003;
const FH = Buffer.alloc(8, 0xab);

function mntOk(): Buffer {
  // mountstat3 OK, fhandle3 (8 bytes), auth_flavors [AUTH_SYS]
  return Buffer.concat([u32(0), u32(FH.length), FH, u32(1), u32(1)]);
}

async function server(t: Test, answer: (c: FakeCall) => Buffer | void) {
  const s = await FakeRpcServer.start((c) => {
    if (c.prog === MOUNT && c.proc === 5) return void c.replyAccepted(PROC_UNAVAIL); // EXPORT: no list
    if (c.prog === MOUNT && (c.proc === 0 || c.proc === 3)) return Buffer.alloc(0); // NULL, UMNT
    return answer(c);
  });
  t.teardown(() => s.close());
  return `nfs://${s.host}/export?mountport=${s.port}&nfsport=${s.port}&soft&timeo=50&retrans=1`;
}

const root = process.getuid?.() === 0;

t.test('MNT3ERR_ACCES with resvport off: the message suggests insecure or resvport', async (t) => {
  const url = await server(t, (c) => (c.prog === MOUNT && c.proc === 1 ? u32(13) : undefined));
  const err = await connect(`${url}&resvport=0`).then(() => undefined, (e: unknown) => e as Error & { status?: string; code?: string });
  t.equal(err?.status, 'MNT3ERR_ACCES');
  t.equal(err?.code, 'EACCES');
  t.match(err?.message, /`secure`/);
  t.match(err?.message, /`insecure` on it, or give resvport=1 as root/);
  if (root) {
    const on = await connect(`${url}&resvport=1`).then(() => undefined, (e: unknown) => e as Error & { status?: string });
    t.equal(on?.status, 'MNT3ERR_ACCES', 'resvport on: the plain refusal');
    t.notMatch(on?.message, /resvport/, 'no advice to turn on what is on');
  }
});

t.test('NFS3ERR_PERM on the first call with resvport off: PrivilegedPortError naming both remedies', async (t) => {
  const url = await server(t, (c) => {
    if (c.prog === MOUNT && c.proc === 1) return mntOk();
    // FSINFO (and anything else): NFS3ERR_PERM, post_op_attr absent.
    if (c.prog === NFS) return Buffer.concat([u32(1), u32(0)]);
  });
  const err = await connect(`${url}&resvport=0`).then(() => undefined, (e: unknown) => e);
  t.ok(err instanceof PrivilegedPortError, 'a PrivilegedPortError');
  t.equal((err as PrivilegedPortError).code, 'ERR_NFS_PRIVILEGED_PORT');
  t.match((err as Error).message, /NFS3ERR_PERM on the first call/);
  t.match((err as Error).message, /set `insecure` on the export, or connect from a port below 1024 with resvport=1/);
  if (root) {
    const on = await connect(`${url}&resvport=1`).then(() => undefined, (e: unknown) => e);
    t.notOk(on instanceof PrivilegedPortError, 'resvport on: not blamed on the port');
    t.equal((on as { code?: string }).code, 'EPERM');
  }
});
