// rpcbind v2 GETPORT and MOUNT v3 against the real NFS-Ganesha started by scripts/local-nas.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { RpcClient } from '../../src/rpc/client.js';
import { authSys } from '../../src/rpc/auth.js';
import { IPPROTO_TCP, PMAP_PORT, pmapGetport, pmapNull } from '../../src/portmap/portmap.js';
import { dump, exportList, mnt, MNTPATHLEN, MountError, mountNull, MOUNT_PROGRAM, MOUNT_V3, umnt, umntall } from '../../src/mount/mount.js';
import { ftype3, nfs3Getattr, NFS_PROGRAM, NFS_V3 } from '../../src/nfs3/index.js';
import { NFS_URL } from './_env.js';

const url = new URL(NFS_URL);
const host = url.hostname.replace(/^\[|\]$/g, '');
const exportPath = decodeURIComponent(url.pathname).replace(/\/+$/, '') || '/';

/** A program number from the user-defined range (RFC 5531 §8.3) nobody registers. */
const UNREGISTERED_PROGRAM = 0x2000_4e53;

const pmap = new RpcClient({ host, port: PMAP_PORT, timeout: 10_000 });
t.teardown(() => pmap.close());

/**
 * The server may be (re)starting when this file begins (other test files
 * restart it); wait until rpcbind lists MOUNT v3, without asserting anything
 * about how long that takes.
 */
async function registeredPort(prog: number, vers: number): Promise<number> {
  for (let i = 0; ; i++) {
    const port = await pmapGetport(pmap, prog, vers);
    if (port !== 0 || i >= 60) return port;
    await new Promise((r) => setTimeout(r, 500));
  }
}

const mountPort = await registeredPort(MOUNT_PROGRAM, MOUNT_V3);
const nfsPort = await registeredPort(NFS_PROGRAM, NFS_V3);

const mountRpc = new RpcClient({ host, port: mountPort || 1, auth: authSys({ uid: 0, gid: 0 }), timeout: 10_000 });
t.teardown(() => mountRpc.close());

t.test('PMAPPROC_NULL', async (t) => {
  t.equal(await pmapNull(pmap), undefined);
});

t.test('GETPORT: MOUNT v3 and NFS v3 are registered over TCP', async (t) => {
  t.ok(mountPort > 0 && mountPort < 65536, `MOUNT v3 on ${mountPort}`);
  t.ok(nfsPort > 0 && nfsPort < 65536, `NFS v3 on ${nfsPort}`);
  t.equal(await pmapGetport(pmap, MOUNT_PROGRAM, MOUNT_V3, IPPROTO_TCP), mountPort, 'the same answer when asked again');
});

t.test('GETPORT: an unregistered program is port 0', async (t) => {
  t.equal(await pmapGetport(pmap, UNREGISTERED_PROGRAM, 1), 0);
  t.equal(await pmapGetport(pmap, UNREGISTERED_PROGRAM, 1, 17), 0, 'over UDP too');
  // Not asserted: an unregistered *version* of a registered program. rpcbind
  // answers GETPORT with the port of another version of the program then
  // (rpcbind's find_service), so 0 is not what a real rpcbind returns.
});

t.test('GETPORT agrees with rpcinfo -p', async (t) => {
  let out: string;
  try {
    out = execFileSync('rpcinfo', ['-p', host], { encoding: 'utf8' });
  } catch (err) {
    t.skip(`rpcinfo not usable here: ${(err as Error).message}`, () => {});
    return;
  }
  // "   program vers proto   port  service"
  const rows = out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((c) => c.length >= 4 && /^\d+$/.test(c[0]!) && c[2] === 'tcp')
    .map((c) => ({ prog: Number(c[0]), vers: Number(c[1]), port: Number(c[3]) }));
  t.ok(rows.some((r) => r.prog === MOUNT_PROGRAM && r.vers === MOUNT_V3), 'rpcinfo lists MOUNT v3/tcp');
  for (const r of rows) t.equal(await pmapGetport(pmap, r.prog, r.vers), r.port, `program ${r.prog} v${r.vers}`);
});

t.test('MOUNTPROC3_NULL', async (t) => {
  t.equal(await mountNull(mountRpc), undefined);
});

t.test('MOUNTPROC3_EXPORT lists the export', async (t) => {
  const list = await exportList(mountRpc);
  t.ok(Array.isArray(list));
  const dirs = list.map((e) => e.dir);
  t.ok(dirs.includes(exportPath), `${exportPath} in ${JSON.stringify(dirs)}`);
  for (const e of list) {
    t.type(e.dir, 'string');
    t.ok(Array.isArray(e.groups) && e.groups.every((g) => typeof g === 'string'), `groups of ${e.dir}`);
  }
});

t.test('MOUNTPROC3_MNT returns a handle to the export root', async (t) => {
  const r = await mnt(mountRpc, exportPath);
  t.ok(Buffer.isBuffer(r.fhandle));
  t.ok(r.fhandle.length > 0 && r.fhandle.length <= 64, `handle of ${r.fhandle.length} bytes (FHSIZE3 is 64)`);
  t.ok(r.authFlavors.includes(1), `AUTH_SYS among the flavors ${JSON.stringify(r.authFlavors)}`);
  const again = await mnt(mountRpc, exportPath);
  t.same(again.fhandle, r.fhandle, 'the same directory gets the same handle');
  t.same((await mnt(mountRpc, exportPath + '/')).fhandle, r.fhandle, 'a trailing slash names the same export');

  // The handle is one the NFS service accepts: GETATTR says it is a directory.
  const nfs = new RpcClient({ host, port: nfsPort, auth: authSys({ uid: 0, gid: 0 }), timeout: 10_000 });
  t.teardown(() => nfs.close());
  const a = await nfs3Getattr(nfs, r.fhandle);
  t.equal(a.ok, true);
  if (a.ok) t.equal(a.attributes.type, ftype3.NF3DIR);
});

t.test('MOUNTPROC3_DUMP returns a well-formed mount list', async (t) => {
  await mnt(mountRpc, exportPath);
  const list = await dump(mountRpc);
  t.ok(Array.isArray(list));
  for (const e of list) {
    t.type(e.hostname, 'string');
    t.type(e.directory, 'string');
  }
  // Ganesha keeps no mount list (it answers DUMP with an empty one); a server
  // that does keep one must show the mount just made.
  if (list.length > 0) t.ok(list.some((e) => e.directory === exportPath), `${exportPath} in ${JSON.stringify(list)}`);
});

t.test('MOUNTPROC3_UMNT and UMNTALL succeed', async (t) => {
  await mnt(mountRpc, exportPath);
  t.equal(await umnt(mountRpc, exportPath), undefined);
  t.equal(await umnt(mountRpc, exportPath), undefined, 'UMNT of something not mounted is not an error (it returns void)');
  t.equal(await umntall(mountRpc), undefined);
  t.notOk(
    (await dump(mountRpc)).some((e) => e.directory === exportPath && e.hostname !== ''),
    'nothing of ours is listed after UMNTALL',
  );
});

t.test('MNT of a path that is not exported is a MountError with an MNT3ERR_ status', async (t) => {
  for (const bad of ['/no-such-export-xyz', `${exportPath}/no-such-dir-xyz`, 'relative']) {
    const err = await mnt(mountRpc, bad).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.ok(err instanceof MountError, `${bad}: MountError`);
    if (!(err instanceof MountError)) continue;
    t.match(err.status, /^MNT3ERR_/, `${bad}: ${err.status}`);
    t.not(err.stat, 0);
    t.equal(err.path, bad);
    t.match(err.code, /^E[A-Z]+$/, `${bad}: errno name ${err.code}`);
    t.ok(err.message.includes(`'${bad}'`), `message names the path: ${err.message}`);
  }
});

t.test('MNT of a path longer than MNTPATHLEN is refused before sending', async (t) => {
  const before = mountRpc.stats.calls;
  await t.rejects(async () => mnt(mountRpc, '/' + 'x'.repeat(MNTPATHLEN)), RangeError);
  t.equal(mountRpc.stats.calls, before, 'no call went out');
  // Exactly MNTPATHLEN bytes is legal on the wire; the server just has no such export.
  await t.rejects(mnt(mountRpc, '/' + 'x'.repeat(MNTPATHLEN - 1)), MountError);
});
