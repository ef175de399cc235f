/**
 * Sub-directory volumes on an NFS export, the way the Kubernetes NFS
 * provisioners carve them (nfs-subdir-external-provisioner, csi-driver-nfs),
 * without a kernel mount: create, list, delete (retain / archive / delete),
 * usage and df. Snapshots and restore are in snapshot.ts.
 *
 * Every volume lives under one base directory, which is never renamed,
 * removed or changed; names are validated (names.ts) and every path below the
 * base is walked by handle without following symlinks (beneath.ts).
 */
import type { NfsClient } from '../fs/client.js';
import type { SetAttrs } from '../fs/backend.js';
import { toFsError } from '../errors.js';
import { Beneath, errnoCode, joinPath, type Node } from './beneath.js';
import { VolumeError } from './errors.js';
import { readMarker, writeMarker, MARKER_KIND, type Marker } from './marker.js';
import {
  ARCHIVE_PREFIX,
  archiveParts,
  expandTemplate,
  MARKER,
  MAX_DEPTH,
  parseTrashEntry,
  SNAPSHOT_DIR,
  SNAPSHOT_DIRNAME,
  STAGING_PREFIX,
  stagingName,
  TRASH_DIR,
  trashEntry,
  volumeKey,
  volumeParts,
} from './names.js';
import { addStats, emptyStats, purgeTree, type PurgeOptions, type PurgeStats } from './purge.js';
import { usageOf, type Usage, type WalkOptions } from './usage.js';
import {
  deleteSnapshot,
  listSnapshots,
  openSnapshot,
  restoreVolume,
  snapshotVolume,
  type RestoreOptions,
  type RestoreResult,
  type SnapshotInfo,
  type SnapshotOptions,
  type SnapshotResult,
} from './snapshot.js';

/** Where the volumes live and how they are named: the options of {@link openVolumes}. */
export interface VolumesOptions {
  /** The base directory inside the export that holds the volumes. Default '/' (the export's root). */
  base?: string;
  /** How names are built from variables (volumes.name(vars)). Default '${namespace}/${pvc}'. */
  template?: string;
  /** Mode of the parent directories created for nested names ('ns' in 'ns/pvc'). Default 0o755. */
  parentMode?: number;
  /**
   * Create the base (and its parents, with `parentMode`) when it does not
   * exist. Default false: a missing base is ERR_VOLUME_NOT_FOUND, which says so.
   */
  createBase?: boolean;
  /** The vendor's quota API, when there is one; without it requested sizes are only recorded. */
  quota?: QuotaHook | undefined;
}

/**
 * Quota enforcement needs the filer's own API (ONTAP qtrees, Isilon
 * SmartQuotas, XFS project quotas on a Linux server): NFS has no call to set
 * one. Give an implementation here and create() sets the requested size,
 * usage() reports the limit, delete() drops it.
 */
export interface QuotaHook {
  /** Sets the volume's limit to `bytes` (called by create() with `requestedBytes`). */
  set(volume: VolumeRef, bytes: number): Promise<void>;
  /** The volume's limit and the filer's own usage count, for usage(); undefined when it has none. */
  get?(volume: VolumeRef): Promise<{ limitBytes?: number; usedBytes?: number } | undefined>;
  /** Drops the volume's quota (called by delete()). */
  remove?(volume: VolumeRef): Promise<void>;
}

/** A volume by name and by path, as the calls and the QuotaHook receive it. */
export interface VolumeRef {
  /** The volume's name relative to the base, e.g. `team-a/data`. */
  name: string;
  /** The volume's path inside the export. */
  path: string;
}

/** Attributes of a new volume: the options of {@link Volumes.create}. */
export interface CreateOptions {
  /** Exact mode of the volume directory (no umask). Default 0o777, as the provisioners use, so any pod uid can write. */
  mode?: number;
  /** Owner set in the MKDIR call itself. Default: the client's AUTH_SYS uid/gid as the server applies it. */
  uid?: number;
  /** Owning group, set in the MKDIR call with `uid` (a pod's fsGroup, with mode 0o2770, makes a group-shared volume). */
  gid?: number;
  /** Free-form key/value pairs stored in the volume's marker (e.g. the PVC's name), returned by list(). */
  labels?: Record<string, string>;
  /** The claim's requested size in bytes: recorded in the marker, and passed to the QuotaHook if there is one. */
  requestedBytes?: number;
}

/** What {@link Volumes.create} made, or found already there. */
export interface CreateResult extends VolumeRef {
  /** False when the volume already existed (create is idempotent). */
  created: boolean;
  /** The marker the volume carries (new, or the existing one). */
  marker: Marker;
  /** Attributes the server did not take from MKDIR and that were set with SETATTR after (Linux servers drop setgid from mkdir's mode). */
  fixed: ('mode' | 'owner')[];
}

/** What delete() does with a volume: keep it, rename it aside as `archived-…`, or remove it. */
export type OnDelete = 'retain' | 'archive' | 'delete';

/** Options of {@link Volumes.delete}. */
export interface DeleteOptions extends PurgeOptions {
  /** Default 'delete'. */
  onDelete?: OnDelete;
  /** Also act on a directory without a marker (an orphan). Default false: such a directory is refused. */
  force?: boolean;
}

/** What {@link Volumes.delete} did. */
export interface DeleteResult extends VolumeRef {
  /** 'absent': there was nothing of that name (a delete being retried): not an error. */
  action: 'retained' | 'archived' | 'deleted' | 'absent';
  /** For 'archived': the archive's name relative to the base. */
  archivedTo?: string;
  /** Trash entries removed (the new one, and any an interrupted earlier run left). */
  trash: string[];
  /** What the removal removed (and failed to). */
  stats: PurgeStats;
  /** Parent directories left empty and removed, relative to the base. */
  removedParents: string[];
}

/** How list() classifies a directory under the base (see {@link Volumes.list}). */
export type EntryKind = 'managed' | 'archived' | 'trash' | 'staging' | 'orphan';

/** One directory found by {@link Volumes.list}. */
export interface ListEntry {
  /** What it is: a managed volume, an archive, trash, a staging directory or an orphan. */
  kind: EntryKind;
  /** Relative to the base. */
  path: string;
  /** The volume's name: from its marker, or from the trash entry's name. */
  name?: string;
  /** Its marker, when it has one of ours. */
  marker?: Marker;
  /** For trash entries: when the delete began. */
  deletedAt?: string;
  /** Something off: a marker that is not ours, or that names another path. */
  problem?: string;
  /** Its bytes and files, unless list() was asked `usage: false`. */
  usage?: Usage;
}

/** Options of {@link Volumes.list}. */
export interface ListOptions extends WalkOptions {
  /** Walk each entry for its usage. Default true. */
  usage?: boolean;
  /** Levels below the base searched for volumes. Default MAX_DEPTH (8). */
  depth?: number;
}

/** The export's totals, from the server's FSSTAT: what {@link Volumes.df} returns. */
export interface Df {
  /** Size of the file system holding the base. */
  totalBytes: number;
  /** Free bytes, reserved blocks included. */
  freeBytes: number;
  /** Free to this client (reserved blocks excluded). */
  availBytes: number;
  /** totalBytes − freeBytes. */
  usedBytes: number;
  /** File slots (inodes) in all. */
  totalFiles: number;
  /** Free file slots. */
  freeFiles: number;
  /** Free file slots available to this client. */
  availFiles: number;
}

/** Options of {@link Volumes.purgeTrash}. */
export interface PurgeTrashOptions extends PurgeOptions {
  /** Staging directories of creates that never finished are removed once this old. Default 1 hour. */
  stagingAgeMs?: number;
}

/** Opens the base directory and returns the volume API over it. */
export async function openVolumes(nfs: NfsClient, opts: VolumesOptions = {}): Promise<Volumes> {
  const base = opts.base ?? '/';
  let t: Beneath;
  try {
    t = await Beneath.open(nfs, base);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
    if (!opts.createBase) throw new VolumeError('ERR_VOLUME_NOT_FOUND', `the base directory ${base} does not exist on the export (creating a volume makes it)`, undefined, undefined, { cause: err });
    await nfs.mkdir(base, { recursive: true, mode: opts.parentMode ?? 0o755 });
    t = await Beneath.open(nfs, base);
  }
  return new Volumes(t, opts);
}

const NOT_EMPTY = new Set(['ENOTEMPTY', 'EEXIST']);

/**
 * The volume API over one base directory: create, list, delete, usage, df, snapshot and restore.
 * Get one from {@link openVolumes}. Calls may run concurrently and be retried after a crash:
 * each is idempotent or resumes what an interrupted run left.
 *
 * @example
 * ```ts
 * const vols = await openVolumes(nfs, { base: '/volumes', createBase: true });
 * const v = await vols.create(vols.name({ namespace: 'team', pvc: 'data' }), { mode: 0o2770, gid: 2000 });
 * await vols.delete(v.name, { onDelete: 'archive' });
 * ```
 */
export class Volumes {
  /** The name template in use (`VolumesOptions.template`, default `${namespace}/${pvc}`). */
  readonly template: string;
  /** @internal Attributes of parent directories created for nested names. */
  readonly parentAttrs: SetAttrs;

  constructor(
    /** @internal Handle-based access confined to the base. */
    readonly tree: Beneath,
    private readonly opts: VolumesOptions = {},
  ) {
    this.template = opts.template ?? '${namespace}/${pvc}';
    this.parentAttrs = { mode: opts.parentMode ?? 0o755 };
  }

  /** The base directory's path inside the export. */
  get base(): string {
    return this.tree.root.path;
  }

  /** A volume name from the template: name({ namespace: 'ns', pvc: 'data' }) → 'ns/data'. Validated. */
  name(vars: Readonly<Record<string, string | undefined>>): string {
    const n = expandTemplate(this.template, vars);
    volumeParts(n);
    return n;
  }

  /** The {@link VolumeRef} of `name`: its path in the export (without checking it exists). */
  ref(name: string): VolumeRef {
    return { name, path: joinPath(this.base, name) };
  }

  // ---------------------------------------------------------------- create

  /**
   * Creates the volume `name`: its parents as needed (parentMode), then the
   * volume as '.mountless-new-<rand>' beside where it goes, made by one MKDIR
   * carrying mode, uid and gid, its marker written, and one RENAME into
   * place. A crash leaves at most a staging directory (purgeTrash() removes
   * it), never a half-made volume under the real name.
   *
   * Idempotent: an existing managed volume of that name is returned with
   * `created: false`. An unmanaged directory of that name is
   * ERR_VOLUME_UNMANAGED; a file or a marker for another name
   * ERR_VOLUME_CONFLICT; a symlink ERR_VOLUME_SYMLINK; a name inside another
   * volume ERR_VOLUME_CONFLICT.
   *
   * @throws {@link VolumeError} with the codes above, `ERR_VOLUME_NAME` for a bad name.
   */
  async create(name: string, opts: CreateOptions = {}): Promise<CreateResult> {
    const parts = volumeParts(name);
    const mode = opts.mode ?? 0o777;
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw new RangeError(`mode must be within 0..0o7777, got ${mode}`);
    // A parent removed by a concurrent delete of its last volume shows as ENOENT/ESTALE: walk again.
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.createOnce(name, parts, mode, opts);
      } catch (err) {
        const code = errnoCode(err);
        if (attempt >= 3 || (code !== 'ENOENT' && code !== 'ESTALE') || err instanceof VolumeError) throw err;
      }
    }
  }

  private async createOnce(name: string, parts: string[], mode: number, opts: CreateOptions): Promise<CreateResult> {
    const t = this.tree;
    const nodes = await this.parentsFor(name, parts);
    const parent = nodes[nodes.length - 1]!;
    const last = parts[parts.length - 1]!;
    const existing = await this.existing(parent, last, name);
    if (existing) return existing;

    const staging = stagingName();
    const attrs: SetAttrs = { mode };
    if (opts.uid !== undefined) attrs.uid = opts.uid;
    if (opts.gid !== undefined) attrs.gid = opts.gid;
    const stagingPath = joinPath(parent.path, staging);
    const made = await t.call('mkdir', stagingPath, () => t.b.mkdir(parent.fh, staging, attrs));
    let dir: Node = { fh: made.fh, attrs: made.attrs ?? (await t.call('stat', stagingPath, () => t.b.getattr(made.fh))), path: stagingPath };
    try {
      const fixed: ('mode' | 'owner')[] = [];
      if ((opts.uid !== undefined && dir.attrs.uid !== opts.uid) || (opts.gid !== undefined && dir.attrs.gid !== opts.gid)) {
        await t.call('chown', stagingPath, () => t.b.setattr(made.fh, { ...(opts.uid !== undefined ? { uid: opts.uid } : {}), ...(opts.gid !== undefined ? { gid: opts.gid } : {}) }));
        fixed.push('owner');
      }
      // Linux servers apply mkdir(2), which drops setgid from the mode (it only inherits it): a SETATTR puts it back.
      if ((dir.attrs.mode & 0o7777) !== mode || fixed.includes('owner')) {
        await t.call('chmod', stagingPath, () => t.b.setattr(made.fh, { mode }));
        fixed.push('mode');
      }
      dir = { ...dir, attrs: await t.call('stat', stagingPath, () => t.b.getattr(made.fh, { fresh: true })) };
      const marker: Marker = { kind: MARKER_KIND, name, created: new Date().toISOString(), labels: { ...(opts.labels ?? {}) }, mode };
      if (opts.requestedBytes !== undefined) marker.requestedBytes = opts.requestedBytes;
      if (opts.uid !== undefined) marker.uid = opts.uid;
      if (opts.gid !== undefined) marker.gid = opts.gid;
      await writeMarker(t, dir, marker);
      // RENAME replaces an *empty* directory of the target name: look first (a directory appearing in between is the one race left).
      const raced = await this.existing(parent, last, name);
      if (raced) {
        await this.discard(parent, staging, dir);
        return raced;
      }
      try {
        await t.call('rename', stagingPath, () => t.b.rename(parent.fh, staging, parent.fh, last));
      } catch (err) {
        if (!NOT_EMPTY.has(errnoCode(err) ?? '')) throw err;
        await this.discard(parent, staging, dir);
        const other = await this.existing(parent, last, name);
        if (other) return other;
        throw err;
      }
      const ref = this.ref(name);
      if (opts.requestedBytes !== undefined && this.opts.quota) await this.opts.quota.set(ref, opts.requestedBytes);
      return { ...ref, created: true, marker, fixed };
    } catch (err) {
      if ((await t.lookup(parent, staging)) !== undefined) await this.discard(parent, staging, dir).catch(() => {});
      throw err;
    }
  }

  /** What create() answers when `parent/last` exists; undefined when it does not. */
  /** @internal The parents of a new volume, created as needed; none of them may be a volume. */
  async parentsFor(name: string, parts: string[]): Promise<Node[]> {
    const nodes = await this.tree.walk(parts.slice(0, -1), this.parentAttrs);
    for (const n of nodes.slice(1)) {
      if ((await readMarker(this.tree, n)) !== undefined) throw new VolumeError('ERR_VOLUME_CONFLICT', `${n.path} is a volume: '${name}' would be inside it`, name);
    }
    return nodes;
  }

  /** @internal */
  async existing(parent: Node, last: string, name: string): Promise<CreateResult | undefined> {
    const t = this.tree;
    const n = await t.lookup(parent, last);
    if (!n) return undefined;
    t.checkDir(n);
    const m = await readMarker(t, n);
    if (m === undefined) throw new VolumeError('ERR_VOLUME_UNMANAGED', `${n.path} exists and is not a managed volume (no ${MARKER})`, name);
    if (m === 'invalid') throw new VolumeError('ERR_VOLUME_CONFLICT', `${n.path} has a ${MARKER} that is not a mountless marker`, name);
    if (m.name !== name) throw new VolumeError('ERR_VOLUME_CONFLICT', `${n.path} is marked as volume '${m.name}'`, name);
    return { ...this.ref(name), created: false, marker: m, fixed: [] };
  }

  /** @internal Removes a staging directory (or any tree we made) left by a failed call. */
  async discard(parent: Node, name: string, node: Node): Promise<void> {
    await purgeTree(this.tree, parent, name, node);
  }

  // ---------------------------------------------------------------- find

  /**
   * The volume directory `name`, after checks: undefined when it (or a
   * parent) does not exist; the parents' nodes, the directory, its marker.
   */
  /** @internal */
  async find(name: string): Promise<{ parts: string[]; nodes: Node[]; node: Node; marker: Marker | 'invalid' | undefined } | undefined> {
    const parts = volumeParts(name);
    let nodes: Node[];
    try {
      nodes = await this.tree.walk(parts.slice(0, -1));
    } catch (err) {
      if (err instanceof VolumeError && err.code === 'ERR_VOLUME_NOT_FOUND') return undefined;
      throw err;
    }
    const node = await this.tree.lookup(nodes[nodes.length - 1]!, parts[parts.length - 1]!);
    if (!node) return undefined;
    this.tree.checkDir(node);
    return { parts, nodes, node, marker: await readMarker(this.tree, node) };
  }

  /** @internal */
  checkManaged(name: string, node: Node, marker: Marker | 'invalid' | undefined, force: boolean | undefined): void {
    if (force) return;
    if (marker === undefined) throw new VolumeError('ERR_VOLUME_UNMANAGED', `${node.path} is not a managed volume (no ${MARKER}); pass force (--force) to act on it anyway`, name);
    if (marker === 'invalid') throw new VolumeError('ERR_VOLUME_CONFLICT', `${node.path} has a ${MARKER} that is not a mountless marker`, name);
    if (marker.name !== name) throw new VolumeError('ERR_VOLUME_CONFLICT', `${node.path} is marked as volume '${marker.name}'`, name);
  }

  // ---------------------------------------------------------------- delete

  /**
   * Deletes volume `name` as `onDelete` says:
   * - retain: leaves it (checks it is a managed volume);
   * - archive: one RENAME to 'archived-<name>-<stamp>' (parents created for
   *   nested names: 'ns/pvc' → 'archived-ns/pvc-<stamp>');
   * - delete: one RENAME into '.mountless-trash' (the name is free at once),
   *   then the tree is removed bottom-up (purge.ts). Interrupted (abort, crash),
   *   the trash entry stays; the next delete of the same name, or
   *   purgeTrash(), finishes it.
   * Parents left empty are removed (never the base). A name that does not
   * exist (a retried delete) is 'absent', not an error, once no trash of it
   * is left. What could not be removed makes it throw ERR_VOLUME_INCOMPLETE
   * with the result as `details`.
   */
  async delete(name: string, opts: DeleteOptions = {}): Promise<DeleteResult> {
    const mode = opts.onDelete ?? 'delete';
    if (mode !== 'retain' && mode !== 'archive' && mode !== 'delete') throw new RangeError(`onDelete must be retain, archive or delete, not '${String(mode)}'`);
    const t = this.tree;
    const result: DeleteResult = { ...this.ref(name), action: 'absent', trash: [], stats: emptyStats(), removedParents: [] };
    const found = await this.find(name);
    if (found) this.checkManaged(name, found.node, found.marker, opts.force);
    if (!found) {
      if (mode === 'delete') await this.finishTrash(name, result, opts);
      if (result.trash.length > 0) result.action = 'deleted';
      return this.checkComplete(result);
    }
    const { parts, nodes } = found;
    const parent = nodes[nodes.length - 1]!;
    const last = parts[parts.length - 1]!;
    if (mode === 'retain') {
      result.action = 'retained';
      return result;
    }
    if (mode === 'archive') {
      const now = new Date();
      for (let n = 0; ; n++) {
        const arch = archiveParts(parts, now, n);
        const archNodes = await t.walk(arch.slice(0, -1), this.parentAttrs);
        const to = archNodes[archNodes.length - 1]!;
        try {
          await t.call('rename', found.node.path, () => t.b.rename(parent.fh, last, to.fh, arch[arch.length - 1]!));
          result.archivedTo = arch.join('/');
          break;
        } catch (err) {
          if (!NOT_EMPTY.has(errnoCode(err) ?? '') || n >= 20) throw err;
        }
      }
      result.action = 'archived';
      await this.removeEmptyParents(parts, nodes, result);
      return result;
    }
    await this.moveToTrash(parent, last, found.node, name);
    result.action = 'deleted';
    await this.removeEmptyParents(parts, nodes, result);
    if (this.opts.quota?.remove) await this.opts.quota.remove(this.ref(name));
    await this.finishTrash(name, result, opts);
    return this.checkComplete(result);
  }

  /** @internal One RENAME of `parent/last` into the trash; returns the trash entry's name. */
  async moveToTrash(parent: Node, last: string, node: Node, name: string): Promise<string> {
    const t = this.tree;
    const [, trash] = await t.walk([TRASH_DIR], { mode: 0o700 });
    const entry = trashEntry(name);
    await t.call('rename', node.path, () => t.b.rename(parent.fh, last, trash!.fh, entry));
    return entry;
  }

  /** @internal Removes the trash entries of `name` (all of them when undefined). */
  async emptyTrash(name: string | undefined, opts: PurgeOptions = {}): Promise<{ trash: string[]; stats: PurgeStats }> {
    const r = { trash: [] as string[], stats: emptyStats() };
    await this.finishTrash(name, r, opts);
    return this.checkComplete(r);
  }

  private checkComplete<T extends { stats: PurgeStats; name?: string }>(result: T): T {
    if (result.stats.failed.length > 0 || result.stats.skipped.length > 0) {
      const s = result.stats;
      throw new VolumeError(
        'ERR_VOLUME_INCOMPLETE',
        `delete left ${s.failed.length} entr${s.failed.length === 1 ? 'y' : 'ies'} it could not remove and ${s.skipped.length} it skipped in ${TRASH_DIR}; run it again to retry` +
          (s.failed[0] ? ` (first: ${s.failed[0].code} ${s.failed[0].path})` : s.skipped[0] ? ` (first: ${s.skipped[0]})` : ''),
        result.name,
        result,
      );
    }
    return result;
  }

  /** Removes every trash entry of `name`, or of every name when `name` is undefined. */
  private async finishTrash(name: string | undefined, result: { trash: string[]; stats: PurgeStats }, opts: PurgeOptions): Promise<void> {
    const t = this.tree;
    const trash = await t.lookup(t.root, TRASH_DIR);
    if (!trash || trash.attrs.kind !== 'directory') return;
    const key = name === undefined ? undefined : volumeKey(name);
    const todo: { name: string; node: Node }[] = [];
    for await (const batch of t.entries(trash)) {
      for (const e of batch) {
        const p = parseTrashEntry(e.name);
        if (key !== undefined && p?.key !== key) continue;
        todo.push({ name: e.name, node: { fh: e.fh, attrs: e.attrs, path: joinPath(trash.path, e.name) } });
      }
    }
    for (const x of todo) {
      if (x.node.attrs.kind === 'directory') {
        addStats(result.stats, await purgeTree(t, trash, x.name, x.node, opts));
      } else {
        await t.call('unlink', x.node.path, () => t.b.remove(trash.fh, x.name)).catch((err: unknown) => {
          if (errnoCode(err) !== 'ENOENT') throw err;
        });
        result.stats.files++;
      }
      result.trash.push(`${TRASH_DIR}/${x.name}`);
    }
  }

  /**
   * RMDIRs the parents of `parts` from the deepest up while they are empty.
   * `nodes` are base, parts[0], parts[1], ...: the base itself is never a
   * candidate.
   */
  private async removeEmptyParents(parts: string[], nodes: Node[], result: { removedParents: string[] }): Promise<void> {
    for (let i = parts.length - 1; i >= 1; i--) {
      try {
        await this.tree.b.rmdir(nodes[i - 1]!.fh, parts[i - 1]!);
        result.removedParents.push(parts.slice(0, i).join('/'));
      } catch (err) {
        const code = errnoCode(err);
        if (code === 'ENOENT') continue;
        if (NOT_EMPTY.has(code ?? '') || code === 'EACCES' || code === 'EPERM') return;
        throw toFsError(err, 'rmdir', nodes[i]!.path);
      }
    }
  }

  /**
   * Finishes what interrupted runs left: every trash entry, and staging
   * directories of creates older than `stagingAgeMs`. Throws
   * ERR_VOLUME_INCOMPLETE if something stays.
   */
  async purgeTrash(opts: PurgeTrashOptions = {}): Promise<{ trash: string[]; staging: string[]; stats: PurgeStats }> {
    const result = { trash: [] as string[], staging: [] as string[], stats: emptyStats() };
    await this.finishTrash(undefined, result, opts);
    const maxAge = opts.stagingAgeMs ?? 3600_000;
    for (const e of await this.list({ usage: false })) {
      if (e.kind !== 'staging') continue;
      const parts = e.path.split('/');
      const nodes = await this.tree.walk(parts.slice(0, -1));
      const parent = nodes[nodes.length - 1]!;
      const node = await this.tree.lookup(parent, parts[parts.length - 1]!);
      if (!node || node.attrs.kind !== 'directory') continue;
      const born = e.marker ? Date.parse(e.marker.created) : node.attrs.mtime.sec * 1000;
      if (Date.now() - born < maxAge) continue;
      addStats(result.stats, await purgeTree(this.tree, parent, parts[parts.length - 1]!, node, opts));
      result.staging.push(e.path);
    }
    return this.checkComplete(result);
  }

  // ---------------------------------------------------------------- list

  /**
   * Every volume-like directory under the base, classified:
   * - managed: has a marker (and is not under an 'archived-' top directory);
   * - archived: has a marker, under 'archived-*';
   * - trash: an entry of '.mountless-trash' (a delete not finished);
   * - staging: a '.mountless-new-*' directory (a create in progress, or one that crashed);
   * - orphan: a directory without a marker and with no volume below it,
   *   reported at its topmost level.
   * A directory without a marker that holds only directories is taken as a
   * parent ('ns' in 'ns/pvc') and searched, up to `depth` levels.
   */
  async list(opts: ListOptions = {}): Promise<ListEntry[]> {
    const t = this.tree;
    const maxDepth = opts.depth ?? MAX_DEPTH;
    const out: ListEntry[] = [];
    interface Dir {
      node: Node;
      rel: string;
      depth: number;
      parent: Dir | undefined;
      archived: boolean;
      /** A volume (or staging dir) is somewhere below. */
      holds: boolean;
    }
    const orphans: Dir[] = [];
    const work: Dir[] = [];
    const root: Dir = { node: t.root, rel: '', depth: 0, parent: undefined, archived: false, holds: true };
    work.push(root);
    const markHolds = (d: Dir | undefined) => {
      for (let x = d; x && !x.holds; x = x.parent) x.holds = true;
    };
    for (let i = 0; i < work.length; i++) {
      const d = work[i]!;
      if (opts.signal?.aborted) throw opts.signal.reason;
      if (d !== root) {
        const m = await readMarker(t, d.node);
        if (m !== undefined) {
          const e: ListEntry = { kind: d.archived ? 'archived' : 'managed', path: d.rel };
          if (m === 'invalid') e.problem = `${MARKER} is not a mountless marker`;
          else {
            e.name = m.name;
            e.marker = m;
            if (!d.archived && m.name !== d.rel) e.problem = `marker names '${m.name}'`;
          }
          out.push(e);
          markHolds(d.parent);
          continue;
        }
      }
      const subs: Dir[] = [];
      let onlyDirs = true;
      let any = false;
      for await (const batch of t.entries(d.node)) {
        for (const e of batch) {
          any = true;
          const rel = d.rel ? `${d.rel}/${e.name}` : e.name;
          if (e.attrs.kind !== 'directory') {
            onlyDirs = false;
            continue;
          }
          const node: Node = { fh: e.fh, attrs: e.attrs, path: joinPath(d.node.path, e.name) };
          if (e.name === SNAPSHOT_DIRNAME || (d === root && e.name === SNAPSHOT_DIR)) continue;
          if (d === root && e.name === TRASH_DIR) {
            for await (const tb of t.entries(node)) {
              for (const te of tb) {
                const p = parseTrashEntry(te.name);
                const x: ListEntry = { kind: 'trash', path: `${TRASH_DIR}/${te.name}` };
                if (p?.name !== undefined) x.name = p.name;
                if (p?.when) x.deletedAt = p.when.toISOString();
                out.push(x);
              }
            }
            continue;
          }
          if (e.name.startsWith(STAGING_PREFIX)) {
            const x: ListEntry = { kind: 'staging', path: rel };
            const m = await readMarker(t, node);
            if (m && m !== 'invalid') {
              x.name = m.name;
              x.marker = m;
            }
            out.push(x);
            markHolds(d);
            continue;
          }
          subs.push({ node, rel, depth: d.depth + 1, parent: d, archived: d.archived || (d === root && e.name.startsWith(ARCHIVE_PREFIX)), holds: false });
        }
        if (d !== root && !onlyDirs) break;
      }
      if (d === root) {
        for (const s of subs) work.push(s);
        continue;
      }
      if (!onlyDirs || !any || d.depth >= maxDepth) {
        orphans.push(d);
        continue;
      }
      for (const s of subs) work.push(s);
      // A parent with no volume below is an orphan itself; decided once its subtree is classified.
      orphans.push(d);
    }
    const reported = new Set<Dir>();
    for (const d of orphans) {
      if (d.holds) continue;
      let top = d;
      while (top.parent && top.parent !== root && !top.parent.holds) top = top.parent;
      if (reported.has(top)) continue;
      reported.add(top);
      out.push({ kind: 'orphan', path: top.rel });
    }
    out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    if (opts.usage ?? true) {
      for (const e of out) e.usage = await this.usageAt(e.path, opts);
    }
    return out;
  }

  // ---------------------------------------------------------------- usage, df

  /**
   * Bytes and files of volume `name` (hard links counted once, symlinks not followed), and the
   * QuotaHook's figures as `quota` when there is a hook. Any directory under the base may be asked for.
   *
   * @throws {@link VolumeError} `ERR_VOLUME_NOT_FOUND`, `ERR_VOLUME_NAME`, `ERR_VOLUME_SYMLINK`.
   */
  async usage(name: string, opts: WalkOptions = {}): Promise<Usage & { quota?: { limitBytes?: number; usedBytes?: number } }> {
    const f = await this.find(name);
    if (!f) throw new VolumeError('ERR_VOLUME_NOT_FOUND', `no volume '${name}' under ${this.base}`, name);
    const u: Usage & { quota?: { limitBytes?: number; usedBytes?: number } } = await usageOf(this.tree, f.node, opts);
    const q = await this.opts.quota?.get?.(this.ref(name));
    if (q) u.quota = q;
    return u;
  }

  /** Usage of a path relative to the base as list() reports it (archives and trash included). */
  private async usageAt(rel: string, opts: WalkOptions): Promise<Usage> {
    const nodes = await this.tree.walk(rel.split('/'));
    return usageOf(this.tree, nodes[nodes.length - 1]!, opts);
  }

  /** The export's totals (FSSTAT): what the filesystem holding the base has and has free. */
  async df(): Promise<Df> {
    const t = this.tree;
    const s = await t.call('statfs', t.root.path, () => t.b.statfs(t.root.fh));
    return {
      totalBytes: s.totalBytes,
      freeBytes: s.freeBytes,
      availBytes: s.availBytes,
      usedBytes: s.totalBytes - s.freeBytes,
      totalFiles: s.totalFiles,
      freeFiles: s.freeFiles,
      availFiles: s.availFiles,
    };
  }

  // ---------------------------------------------------------------- snapshots

  /** Archives volume `name` as a tar stream (see snapshot.ts): to `opts.to`, or on the export as csi-driver-nfs lays snapshots out. */
  snapshot(name: string, opts: SnapshotOptions = {}): Promise<SnapshotResult> {
    return snapshotVolume(this, name, opts);
  }

  /** Snapshots of `name` on the export, newest first. */
  snapshots(name: string): Promise<SnapshotInfo[]> {
    return listSnapshots(this, name);
  }

  /**
   * Removes snapshot `id` (its archive and manifest) from the export.
   *
   * @throws {@link VolumeError} `ERR_VOLUME_SNAPSHOT` when there is no such snapshot.
   */
  deleteSnapshot(id: string): Promise<void> {
    return deleteSnapshot(this, id);
  }

  /**
   * Restores into volume `to` from a tar (or tar.gz) byte stream, or from
   * snapshot `{ id }` on the export. Builds it beside the target and swaps
   * it in with RENAME; ownership that cannot be set is an error.
   */
  async restore(from: AsyncIterable<Buffer | Uint8Array | string> | { id: string }, to: string, opts: RestoreOptions = {}): Promise<RestoreResult> {
    if (Symbol.asyncIterator in from) return restoreVolume(this, from, to, opts);
    const { stream, archive } = await openSnapshot(this, from.id);
    try {
      return await restoreVolume(this, stream, to, { ...opts, source: opts.source ?? `snapshot ${from.id} (${archive})` });
    } finally {
      stream.destroy();
    }
  }
}
