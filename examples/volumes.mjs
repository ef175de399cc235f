// Volumes without mounts: what a Kubernetes NFS provisioner does, from an
// unprivileged process. node examples/volumes.mjs [nfs://host/export] [base]
// Run `npm run build` first. The library lives in dist/volume/.
//
// As a controller would use it: CreateVolume → create (idempotent, so a retry
// after a crash is safe), DeleteVolume → delete with the class's
// onDelete policy, CreateSnapshot → snapshot, and a volume from a snapshot →
// restore.
import { connect } from '../dist/index.js';
import { openVolumes, VolumeError } from '../dist/volume/index.js';

const url = process.argv[2] ?? process.env.NFS_URL ?? 'nfs://127.0.0.1/export';
const base = process.argv[3] ?? '/volumes-example';

// AUTH_SYS uid 0 lets the client set owners (the server must not squash root);
// no kernel privilege is needed for that, only the server's trust.
const nfs = await connect(url, { uid: 0, gid: 0 });
try {
  await nfs.mkdir(base, { recursive: true });
  const vols = await openVolumes(nfs, { base, template: '${namespace}/${pvc}' });

  // CreateVolume for PVC "data" in namespace "team-a", fsGroup 2000: setgid
  // directory, group-writable, owned by the pod's group, exactly that mode.
  const name = vols.name({ namespace: 'team-a', pvc: 'data' });
  const v = await vols.create(name, { mode: 0o2770, uid: 0, gid: 2000, labels: { 'kubernetes.io/created-for/pvc/name': 'data' }, requestedBytes: 5 * 2 ** 30 });
  console.log(`${v.created ? 'created' : 'already there'}: ${v.name} at ${v.path}`);
  console.log(`again (a retried CreateVolume): created=${(await vols.create(name, { mode: 0o2770, gid: 2000 })).created}`);

  // A pod writes into it (here: through the fs API).
  await nfs.writeFile(`${v.path}/hello.txt`, 'written by a pod\n');
  await nfs.mkdir(`${v.path}/db`, { recursive: true });
  await nfs.writeFile(`${v.path}/db/table`, Buffer.alloc(256 * 1024, 1));

  console.log('usage:', await vols.usage(name));
  console.log('df:', await vols.df());

  // CreateSnapshot: a tar.gz on the export, csi-driver-nfs's layout, keep 3.
  const snap = await vols.snapshot(name, { keep: 3 });
  console.log(`snapshot ${snap.id}: ${snap.entries} entries → ${snap.archive}`);

  // A new volume from that snapshot (owners, modes and times kept).
  const copy = await vols.restore({ id: snap.id }, 'team-a/data-restored');
  console.log(`restored ${copy.name}: ${copy.files} files`);

  console.table((await vols.list()).map((e) => ({ kind: e.kind, path: e.path, files: e.usage?.files, bytes: e.usage?.bytes })));

  // DeleteVolume with reclaim policy "archive", then "delete".
  const arch = await vols.delete('team-a/data-restored', { onDelete: 'archive' });
  console.log(`archived → ${arch.archivedTo}`);
  const del = await vols.delete(name, { onDelete: 'delete' });
  console.log(`deleted ${name}: ${del.stats.files} files, ${del.stats.dirs} dirs`);

  // Refusals a controller can rely on.
  for (const bad of ['../escape', '/abs', 'team-a/../../x']) {
    try {
      await vols.create(bad);
    } catch (err) {
      if (!(err instanceof VolumeError)) throw err;
      console.log(`refused ${JSON.stringify(bad)}: ${err.code}`);
    }
  }
} finally {
  await nfs.close();
}
