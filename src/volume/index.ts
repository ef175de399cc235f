/**
 * Volumes without mounts: sub-directory volumes on an NFS export, as the
 * Kubernetes NFS provisioners make them, managed from an unprivileged
 * process. The module's public surface:
 *
 *   const nfs = await connect('nfs://nas/export');
 *   const vols = await openVolumes(nfs, { base: '/volumes' });
 *   await vols.create(vols.name({ namespace: 'team', pvc: 'data' }), { mode: 0o2770, gid: 2000 });
 *   await vols.delete('team/data', { onDelete: 'archive' });
 */
export { openVolumes, Volumes } from './volumes.js';
export type {
  VolumesOptions,
  QuotaHook,
  VolumeRef,
  CreateOptions,
  CreateResult,
  OnDelete,
  DeleteOptions,
  DeleteResult,
  EntryKind,
  ListEntry,
  ListOptions,
  Df,
  PurgeTrashOptions,
} from './volumes.js';
export type { SnapshotOptions, SnapshotResult, SnapshotInfo, RestoreOptions, RestoreResult, QuiesceHook } from './snapshot.js';
export type { Usage, WalkOptions } from './usage.js';
export type { PurgeOptions, PurgeStats } from './purge.js';
export type { Marker } from './marker.js';
export { migrate, migrateClients, verifyTrees, type MigrateOptions, type MigrateResult, type MigrateProgress } from './migrate.js';
export { migrateWorker, migrateWorkerClients, type WorkerOptions, type WorkerResult, type WorkerProgress } from './migrate-workers.js';
export type { CrawlRecord } from './migrate-queue.js';
export { VolumeError, type VolumeErrorCode } from './errors.js';
export { expandTemplate, volumeParts, MARKER, TRASH_DIR, SNAPSHOT_DIR, ARCHIVE_PREFIX } from './names.js';
export { Pool, runPool } from './pool.js';
export { TarParser, tarEvents, encodeHeader, padding, TAR_END, TarFormatError, type TarHeader, type TarEvent, type TarType } from './tar.js';
