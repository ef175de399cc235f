/**
 * `mountless volume <sub-command> …`: the volume module (src/volume/) from
 * the command line. Every sub-command takes --help and --json; errors go to
 * stderr, results to stdout (to stderr when stdout carries an archive).
 *
 * Exit status: 0 done, 1 failed (or left something behind: run it again),
 * 2 bad usage, 130 interrupted (Ctrl-C: a delete resumes where it stopped).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { connect } from '../connect.js';
import type { NfsClient } from '../fs/client.js';
import { parseCommandArgs, UsageError, type OptionSpec, type ParsedArgs } from './args.js';
import {
  expandTemplate,
  openVolumes,
  volumeParts,
  VolumeError,
  type DeleteResult,
  type ListEntry,
  type OnDelete,
  type PurgeStats,
  type Usage,
  type Volumes,
} from '../volume/index.js';
import { migrate, type MigrateProgress } from '../volume/migrate.js';
import { migrateWorker, type WorkerResult } from '../volume/migrate-workers.js';
import { checkRunId } from '../volume/migrate-queue.js';
import { parseBytes } from '../units.js';

export interface CliIo {
  out(s: string): void;
  err(s: string): void;
  /** Where `snapshot --out -` writes and `restore --from -` reads. */
  stdout: Writable;
  stdin: Readable;
  /** Whether stderr is a terminal (progress lines). */
  tty: boolean;
}

const processIo = (): CliIo => ({
  out: (s) => void process.stdout.write(s + '\n'),
  err: (s) => void process.stderr.write(s + '\n'),
  stdout: process.stdout,
  stdin: process.stdin,
  tty: !!process.stderr.isTTY,
});

const COMMON = `common options:
  --url URL      the export: nfs://host/export[/path][?version=3&uid=0&gid=0] (default $NFS_URL)
  --base PATH    directory inside the export that holds the volumes (default /)
  --json         print the result as JSON
  --help         this text`;

const HELP: Record<string, string> = {
  volume: `usage: mountless volume <command> [options]

Sub-directory volumes on an NFS export, as the Kubernetes NFS provisioners
make them, without mounting anything.

commands:
  create NAME       create a volume (idempotent); or --var k=v with --template
  list              managed, archived, in-trash, staging and orphan directories, with usage
  delete NAME       --on-delete retain|archive|delete (default delete)
  purge             finish interrupted deletes; remove stale staging directories
  usage NAME        bytes and files of a volume (hard links counted once)
  df                size and free space of the export
  snapshot NAME     archive a volume as tar(.gz), on the export or to a file
  snapshots NAME    list a volume's snapshots on the export
  restore           restore a snapshot (or a tar file) into a volume
  migrate SRC DST   copy a tree between two nfs:// URLs, resumable, verified

'mountless volume <command> --help' for a command's options.

${COMMON}`,
  create: `usage: mountless volume create NAME [options]
       mountless volume create --template '\${namespace}/\${pvc}' --var namespace=NS --var pvc=PVC

Creates NAME under the base: parents as needed, then the volume directory by
one MKDIR carrying mode, uid and gid (no umask), its marker file
'.mountless.json', and one RENAME into place. An existing managed volume of
that name is success ("exists"); an unmanaged directory of that name is an
error.

options:
  --mode OCTAL       exact mode (default 0777), e.g. 2770
  --uid N, --gid N   owner, set in the MKDIR call
  --label K=V        label recorded in the marker (repeatable)
  --size SIZE        requested size (10G, 500M, bytes; K/M/G are 1024-based): recorded, and passed to a quota hook
  --template T       name template with \${var} references (default '\${namespace}/\${pvc}')
  --var K=V          template variable (repeatable)
  --parent-mode OCTAL  mode of parent directories created (default 0755)

${COMMON}`,
  list: `usage: mountless volume list [--no-usage] [--depth N]

Lists what is under the base:
  managed   a volume (has a marker)
  archived  an archived volume (under archived-*)
  trash     a delete that has not finished (run 'delete NAME' or 'purge')
  staging   a create in progress, or one that crashed ('purge' removes old ones)
  orphan    a directory without a marker and with no volume below it

options:
  --no-usage   skip walking each entry for its size
  --depth N    levels searched below the base (default 8)

${COMMON}`,
  delete: `usage: mountless volume delete NAME [--on-delete retain|archive|delete]

  retain   leave the volume as it is
  archive  one RENAME to archived-<name>-<timestamp> (nested names: archived-ns/pvc-<timestamp>)
  delete   one RENAME into .mountless-trash (the name is free at once), then the
           tree is removed bottom-up in parallel; Ctrl-C stops it, and running the
           same command again finishes it. (default)

Empty parent directories are removed afterwards; the base never is.
A NAME that does not exist is not an error (prints "absent").

options:
  --force          also act on a directory that is not a managed volume
  --concurrency N  REMOVE/RMDIR calls in flight (default 64)
  --listers N      directories listed at once (default 4)

${COMMON}`,
  purge: `usage: mountless volume purge [--staging-age SECONDS]

Finishes every delete left in .mountless-trash and removes staging
directories of creates older than --staging-age (default 3600).

${COMMON}`,
  usage: `usage: mountless volume usage NAME

Bytes (apparent size of files), bytes used on the server, files,
directories and symlinks of NAME; files with several names are counted
once. Symlinks are never followed.

${COMMON}`,
  df: `usage: mountless volume df

Size, used and free bytes and files of the filesystem holding the base (FSSTAT).

${COMMON}`,
  snapshot: `usage: mountless volume snapshot NAME [options]

Archives NAME as a tar stream: numeric uid/gid, mode, times (ns), symlinks,
hard links, and a sha256 per file in a manifest. By default it goes on the
export as <base>/.mountless-snapshots/<id>/<name>.tar.gz (csi-driver-nfs's
layout) with <name>.manifest.ndjson beside it.

A snapshot of a volume in use is not crash-consistent: stop the writers first.

options:
  --out FILE|-      write the archive to a local file, or stdout, instead
  --gzip / --no-gzip  compress (default: yes on the export, no to --out)
  --manifest FILE   with --out: where the NDJSON manifest goes
  --id ID           snapshot id on the export (default <name>@<timestamp>-<rand>)
  --keep N          keep only the newest N snapshots of NAME on the export

${COMMON}`,
  snapshots: `usage: mountless volume snapshots NAME [--delete ID]

Lists NAME's snapshots on the export, newest first; --delete ID removes one.

${COMMON}`,
  restore: `usage: mountless volume restore SNAPSHOT_ID --to NAME [--replace]
       mountless volume restore --from FILE|- --to NAME [--replace]

Restores into NAME: the tree is built beside it in a staging directory,
owners set in the CREATE/MKDIR calls (an owner the server refuses is an
error, never dropped), modes and times last, then swapped in by RENAME.
gzip is detected.

options:
  --to NAME        the volume to restore into (required)
  --from FILE|-    a local tar(.gz) file, or stdin, instead of a snapshot id
  --replace        replace an existing volume NAME (moved to the trash, then removed)
  --force          with --replace: even if NAME is not a managed volume

${COMMON}`,
  migrate: `usage: mountless volume migrate SRC_URL DST_URL [options]

Copies the tree at SRC_URL to DST_URL (two exports, or two NAS), keeping
numeric owners, modes, times, symlinks and hard links. Files are copied to a
temporary name and renamed when complete, and an entry whose size and mtime
already match is skipped, so running it again after a crash or Ctrl-C
resumes, and running it after changes copies only what changed. Symlinks are
never followed. Ends with a verify pass.

options:
  --checksum          verify (and compare for skipping) by sha256 of contents, not size+mtime
  --mtime-window SEC  treat mtimes this close as equal (servers with coarse timestamps)
  --delete            remove entries at DST that are not at SRC
  --dry-run           report what would be copied, change nothing
  --concurrency N     files copied at once (default 16; per worker with --workers)

many workers (processes or pods, e.g. a Kubernetes Indexed Job), meeting in a
queue on the destination export, DST/.mountless-migrate/RUN/:
  --workers N         N workers share the copy; worker 0 crawls SRC and queues partitions
  --worker-index I    this worker, 0 … N-1 (default: $JOB_COMPLETION_INDEX)
  --run-id RUN        names the queue; the same RUN again resumes (a finished run does nothing)
  --lease SEC         a claim not renewed for SEC seconds is taken over by another worker (default 30)
  --partition-files N entries per partition (default 2000)
  --partition-bytes SIZE  file data per partition (default 4G)
Each worker claims a partition by one RENAME, copies it as above and records
it in done/; the worker that finds every partition done runs the final pass
(directory modes and times, --delete, verify) over the whole tree.

options: --json, --help (--url and --base do not apply)`,
};

const valued = (...names: string[]): OptionSpec[] => names.map((name) => ({ name, value: true }));
const flag = (...names: string[]): OptionSpec[] => names.map((name) => ({ name }));

/** Each sub-command's own options: `--delete` is a flag to migrate and takes an ID in snapshots. */
const OPTIONS: Record<string, OptionSpec[]> = (() => {
  const common = [...valued('url', 'base'), ...flag('json'), { name: 'help', short: 'h' }];
  const own: Record<string, OptionSpec[]> = {
    create: valued('mode', 'uid', 'gid', 'label', 'size', 'template', 'var', 'parent-mode'),
    list: [...flag('no-usage'), ...valued('depth')],
    delete: [...valued('on-delete', 'concurrency', 'listers'), ...flag('force')],
    purge: valued('staging-age'),
    usage: [],
    df: [],
    snapshot: [...valued('out', 'manifest', 'id', 'keep'), ...flag('gzip', 'no-gzip')],
    snapshots: valued('delete'),
    restore: [...valued('to', 'from'), ...flag('replace', 'force')],
  };
  const out: Record<string, OptionSpec[]> = {};
  for (const [sub, specs] of Object.entries(own)) out[sub] = [...specs, ...common];
  out.migrate = [
    ...flag('checksum', 'delete', 'dry-run', 'json'),
    ...valued('mtime-window', 'concurrency', 'workers', 'worker-index', 'run-id', 'lease', 'partition-files', 'partition-bytes'),
    { name: 'help', short: 'h' },
  ];
  return out;
})();

const DEFAULT_TEMPLATE = '${namespace}/${pvc}';

function keyValues(values: string[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new UsageError(`${what} must be KEY=VALUE, got '${v}'`);
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

function str(a: ParsedArgs, key: string): string | undefined {
  const v = a.flags.get(key);
  if (v === true) throw new UsageError(`--${key} needs a value`);
  return v;
}

function int(a: ParsedArgs, key: string, min = 0): number | undefined {
  const v = str(a, key);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min) throw new UsageError(`--${key} must be an integer >= ${min}, got '${v}'`);
  return Number(v);
}

function octal(a: ParsedArgs, key: string): number | undefined {
  const v = str(a, key);
  if (v === undefined) return undefined;
  if (!/^0?[0-7]{1,4}$/.test(v.replace(/^0o/, ''))) throw new UsageError(`--${key} must be an octal mode like 2770, got '${v}'`);
  return parseInt(v.replace(/^0o/, ''), 8);
}

/** A size for --size: 10G, 500M, 10Gi, 1048576 (K/M/G/T/P 1024-based, as everywhere in mountless: src/units.ts). */
export function parseSize(s: string): number {
  try {
    return parseBytes(s);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function formatBytes(n: number): string {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < u.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${u[i]}`;
}

const json = (v: unknown) => JSON.stringify(v, (_, x: unknown) => (typeof x === 'bigint' ? x.toString() : x), 2);

function one(a: ParsedArgs, what: string): string {
  const v = a.positionals[0];
  if (v === undefined) throw new UsageError(`missing ${what}`);
  if (a.positionals.length > 1) throw new UsageError(`unexpected argument '${a.positionals[1]}'`);
  return v;
}

function usageLine(u: Usage): string {
  return `${formatBytes(u.bytes)} in ${u.files} files, ${u.dirs} dirs, ${u.symlinks} symlinks${u.extraLinks ? ` (+${u.extraLinks} hard links)` : ''}; ${formatBytes(u.usedBytes)} used on the server`;
}

function statsLine(s: PurgeStats): string {
  const extra = [
    s.alreadyGone ? `${s.alreadyGone} already gone` : '',
    s.sillyRenamed ? `${s.sillyRenamed} .nfs files` : '',
    s.notEmptyRetries ? `${s.notEmptyRetries} not-empty retries` : '',
  ].filter(Boolean);
  return `${s.files} files and ${s.dirs} directories removed${extra.length ? ` (${extra.join(', ')})` : ''}`;
}

/** A progress line on a terminal, rewritten at most 4 times a second. */
function progressLine(enabled: boolean): { update(s: string): void; done(): void } {
  let last = 0;
  let shown = false;
  return {
    update(s) {
      if (!enabled) return;
      const now = Date.now();
      if (now - last < 250) return;
      last = now;
      shown = true;
      process.stderr.write(`\r\x1b[K${s}`);
    },
    done() {
      if (shown) process.stderr.write('\r\x1b[K');
    },
  };
}

/**
 * Runs `mountless volume …`. `argv` is what follows the word 'volume' (a
 * leading 'volume' is skipped too). Returns the exit status.
 */
export async function volumeCommand(argv: string[], io: CliIo = processIo()): Promise<number> {
  if (argv[0] === 'volume') argv = argv.slice(1);
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    io.out(HELP.volume!);
    return sub === undefined ? 2 : 0;
  }
  if (!HELP[sub] || sub === 'volume') {
    io.err(`mountless volume: unknown command '${sub}'\n\n${HELP.volume}`);
    return 2;
  }
  let a: ParsedArgs;
  try {
    a = parseCommandArgs(rest, OPTIONS[sub]!);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.err(`mountless volume ${sub}: ${err.message}\n(see 'mountless volume ${sub} --help')`);
    return 2;
  }
  if (a.flags.has('help')) {
    io.out(HELP[sub]!);
    return 0;
  }
  const asJson = a.flags.has('json');
  const ac = new AbortController();
  const onSigint = () => ac.abort(new Error('interrupted'));
  process.once('SIGINT', onSigint);
  let nfs: NfsClient | undefined;
  try {
    if (sub === 'migrate') return await runMigrate(a, io, asJson, ac.signal);
    const pre = prepare(sub, a);
    const url = str(a, 'url') ?? process.env.NFS_URL;
    if (!url) throw new UsageError('no URL: pass --url nfs://host/export or set NFS_URL');
    nfs = await connect(url);
    const vols = await openVolumes(nfs, { base: str(a, 'base') ?? '/', createBase: sub === 'create' || sub === 'restore', ...(pre.template ? { template: pre.template } : {}), ...(pre.parentMode !== undefined ? { parentMode: pre.parentMode } : {}) });
    return await run(sub, a, vols, io, asJson, ac.signal, pre);
  } catch (err) {
    return report(err, sub, io, asJson, ac.signal.aborted);
  } finally {
    process.removeListener('SIGINT', onSigint);
    await nfs?.close().catch(() => {});
  }
}

interface Prepared {
  template?: string;
  parentMode?: number;
  name?: string;
  vars?: Record<string, string>;
  labels?: Record<string, string>;
  mode?: number;
  uid?: number;
  gid?: number;
  requestedBytes?: number;
  onDelete?: OnDelete;
  concurrency?: number;
  listers?: number;
}

/** Checks a sub-command's options before anything is sent, so bad usage never half-runs. */
function prepare(sub: string, a: ParsedArgs): Prepared {
  const p: Prepared = {};
  if (sub === 'delete') {
    const mode = str(a, 'on-delete') ?? 'delete';
    if (mode !== 'retain' && mode !== 'archive' && mode !== 'delete') throw new UsageError(`--on-delete must be retain, archive or delete, not '${mode}'`);
    p.onDelete = mode;
    const c = int(a, 'concurrency', 1);
    if (c !== undefined) p.concurrency = c;
    const l = int(a, 'listers', 1);
    if (l !== undefined) p.listers = l;
    p.name = one(a, 'NAME');
  }
  if (sub === 'restore') {
    const to = str(a, 'to');
    if (to === undefined) throw new UsageError('missing --to NAME');
    volumeParts(to);
  }
  if ((sub === 'usage' || sub === 'snapshot' || sub === 'snapshots') && a.positionals[0] !== undefined) volumeParts(a.positionals[0]);
  if (sub === 'snapshot' && str(a, 'out') === undefined && str(a, 'manifest') !== undefined) {
    throw new UsageError('--manifest goes with --out (on the export the manifest is written beside the archive)');
  }
  if (sub === 'create') {
    const mode = octal(a, 'mode');
    if (mode !== undefined) p.mode = mode;
    const uid = int(a, 'uid');
    if (uid !== undefined) p.uid = uid;
    const gid = int(a, 'gid');
    if (gid !== undefined) p.gid = gid;
    const size = str(a, 'size');
    if (size !== undefined) p.requestedBytes = parseSize(size);
    const tpl = str(a, 'template');
    if (tpl !== undefined) p.template = tpl;
    const pm = octal(a, 'parent-mode');
    if (pm !== undefined) p.parentMode = pm;
    p.labels = keyValues(a.values.get('label') ?? [], '--label');
    const vars = keyValues(a.values.get('var') ?? [], '--var');
    if (Object.keys(vars).length > 0) {
      if (a.positionals.length > 0) throw new UsageError('give NAME or --var, not both');
      p.vars = vars;
      volumeParts(expandTemplate(p.template ?? DEFAULT_TEMPLATE, vars));
    } else p.name = one(a, 'NAME');
  }
  if (p.name !== undefined) volumeParts(p.name);
  return p;
}

function report(err: unknown, sub: string, io: CliIo, asJson: boolean, aborted: boolean): number {
  if (err instanceof UsageError || (err instanceof VolumeError && (err.code === 'ERR_VOLUME_NAME' || err.code === 'ERR_VOLUME_TEMPLATE'))) {
    io.err(`mountless volume ${sub}: ${err.message}\n(see 'mountless volume ${sub} --help')`);
    return 2;
  }
  const e = err as { name?: string; code?: string; message?: string; details?: unknown };
  if (aborted || e?.name === 'AbortError') {
    io.err(`mountless volume ${sub}: interrupted${sub === 'delete' ? '; run the same command again to finish the delete' : sub === 'migrate' ? '; run it again to resume' : ''}`);
    return 130;
  }
  if (asJson) io.out(json({ error: { code: e?.code, message: e?.message, ...(err instanceof VolumeError && err.details !== undefined ? { details: err.details } : {}) } }));
  io.err(`mountless volume ${sub}: ${e?.message ?? String(err)}`);
  return 1;
}

async function run(sub: string, a: ParsedArgs, vols: Volumes, io: CliIo, asJson: boolean, signal: AbortSignal, pre: Prepared): Promise<number> {
  const print = (human: string, data: unknown) => io.out(asJson ? json(data) : human);
  switch (sub) {
    case 'create': {
      const name = pre.vars ? vols.name(pre.vars) : pre.name!;
      const r = await vols.create(name, {
        ...(pre.mode !== undefined ? { mode: pre.mode } : {}),
        ...(pre.uid !== undefined ? { uid: pre.uid } : {}),
        ...(pre.gid !== undefined ? { gid: pre.gid } : {}),
        labels: pre.labels ?? {},
        ...(pre.requestedBytes !== undefined ? { requestedBytes: pre.requestedBytes } : {}),
      });
      print(
        `${r.created ? 'created' : 'exists'} ${r.name} (${r.path}) mode ${r.marker.mode.toString(8).padStart(4, '0')}${r.marker.uid !== undefined ? ` uid ${r.marker.uid}` : ''}${r.marker.gid !== undefined ? ` gid ${r.marker.gid}` : ''}${r.fixed.length ? ` (${r.fixed.join(', ')} set after MKDIR)` : ''}`,
        r,
      );
      return 0;
    }
    case 'list': {
      if (a.positionals.length > 0) throw new UsageError(`unexpected argument '${a.positionals[0]}'`);
      const depth = int(a, 'depth', 1);
      const entries = await vols.list({ usage: !a.flags.has('no-usage'), ...(depth !== undefined ? { depth } : {}), signal });
      if (asJson) {
        io.out(json(entries));
        return 0;
      }
      if (entries.length === 0) {
        io.out(`nothing under ${vols.base}`);
        return 0;
      }
      io.out(listTable(entries));
      return 0;
    }
    case 'delete': {
      const name = pre.name!;
      const mode = pre.onDelete!;
      const { concurrency, listers } = pre;
      const bar = progressLine(io.tty && !asJson);
      const t0 = performance.now();
      let r: DeleteResult;
      try {
        r = await vols.delete(name, {
          onDelete: mode,
          force: a.flags.has('force'),
          signal,
          ...(concurrency !== undefined ? { concurrency } : {}),
          ...(listers !== undefined ? { listers } : {}),
          onProgress: (s) => bar.update(`deleting ${name}: ${s.files} files, ${s.dirs} dirs removed, ${(((s.files + s.dirs) * 1000) / (performance.now() - t0)).toFixed(0)}/s`),
        });
      } finally {
        bar.done();
      }
      const secs = (performance.now() - t0) / 1000;
      const human =
        r.action === 'absent'
          ? `absent ${name}: nothing to do`
          : r.action === 'retained'
            ? `retained ${name}`
            : r.action === 'archived'
              ? `archived ${name} → ${r.archivedTo}`
              : `deleted ${name}: ${statsLine(r.stats)} in ${secs.toFixed(1)} s`;
      print(human + (r.removedParents.length ? `; removed empty ${r.removedParents.join(', ')}` : ''), r);
      return 0;
    }
    case 'purge': {
      const age = int(a, 'staging-age');
      const r = await vols.purgeTrash({ signal, ...(age !== undefined ? { stagingAgeMs: age * 1000 } : {}) });
      print(`purged ${r.trash.length} trash entries and ${r.staging.length} staging directories: ${statsLine(r.stats)}`, r);
      return 0;
    }
    case 'usage': {
      const name = one(a, 'NAME');
      const u = await vols.usage(name, { signal });
      print(`${name}: ${usageLine(u)}${u.skipped.length ? `; skipped ${u.skipped.join(', ')}` : ''}`, u);
      return 0;
    }
    case 'df': {
      const d = await vols.df();
      print(
        `${vols.base}: ${formatBytes(d.totalBytes)} total, ${formatBytes(d.usedBytes)} used, ${formatBytes(d.availBytes)} available; ${d.totalFiles - d.freeFiles} of ${d.totalFiles} files used`,
        d,
      );
      return 0;
    }
    case 'snapshot': {
      const name = one(a, 'NAME');
      const out = str(a, 'out');
      const keep = int(a, 'keep');
      const id = str(a, 'id');
      const manifestPath = str(a, 'manifest');
      const gzip = a.flags.has('gzip') ? true : a.flags.has('no-gzip') ? false : undefined;
      const dest = out === undefined ? undefined : out === '-' ? io.stdout : createWriteStream(out, { flags: 'wx' });
      const manifest = manifestPath === undefined ? undefined : createWriteStream(manifestPath, { flags: 'wx' });
      const r = await vols.snapshot(name, { to: dest, manifest, gzip, signal, ...(id !== undefined ? { id } : {}), ...(keep !== undefined ? { keep } : {}) });
      const human = `snapshot of ${name}: ${r.entries} entries, ${formatBytes(r.bytes)} of file data${r.archive ? ` → ${r.archive} (id ${r.id})` : out === '-' ? ' → stdout' : ` → ${out}`}${r.pruned.length ? `; pruned ${r.pruned.join(', ')}` : ''}${r.changed.length ? `; ${r.changed.length} files changed while read` : ''}`;
      if (out === '-') io.err(asJson ? json(r) : human);
      else print(human, r);
      return 0;
    }
    case 'snapshots': {
      const name = one(a, 'NAME');
      const del = str(a, 'delete');
      if (del !== undefined) {
        await vols.deleteSnapshot(del);
        print(`deleted snapshot ${del}`, { deleted: del });
        return 0;
      }
      const list = await vols.snapshots(name);
      print(list.length === 0 ? `no snapshots of ${name}` : list.map((s) => `${s.id}  ${s.created}  ${formatBytes(s.size)}  ${s.archive}`).join('\n'), list);
      return 0;
    }
    case 'restore': {
      const to = str(a, 'to');
      if (to === undefined) throw new UsageError('missing --to NAME');
      const from = str(a, 'from');
      if (from !== undefined && a.positionals.length > 0) throw new UsageError('give a SNAPSHOT_ID or --from, not both');
      const id = from === undefined ? one(a, 'SNAPSHOT_ID (or --from FILE)') : undefined;
      const opts = { replace: a.flags.has('replace'), force: a.flags.has('force'), signal };
      const r =
        id !== undefined
          ? await vols.restore({ id }, to, opts)
          : await vols.restore(from === '-' ? io.stdin : createReadStream(from!), to, { ...opts, source: from === '-' ? 'stdin' : `file ${from}` });
      print(
        `restored ${to}: ${r.entries} entries (${r.files} files, ${r.dirs} dirs, ${r.symlinks} symlinks, ${r.hardLinks} hard links), ${formatBytes(r.bytes)}${r.replaced ? '; replaced the previous volume' : ''}${r.symlinkTimesIgnored ? `; the server kept its own mtime on ${r.symlinkTimesIgnored} symlinks (it answered SETATTR with success but does not set symlink times)` : ''}${r.skipped.length ? `; skipped ${r.skipped.length} (devices/fifos): ${r.skipped.slice(0, 5).join(', ')}` : ''}`,
        r,
      );
      return 0;
    }
  }
  throw new UsageError(`unknown command '${sub}'`);
}

function listTable(entries: ListEntry[]): string {
  const rows = entries.map((e) => [
    e.kind,
    e.path,
    e.name && e.name !== e.path ? e.name : '',
    e.usage ? String(e.usage.files) : '',
    e.usage ? formatBytes(e.usage.bytes) : '',
    e.marker?.created ?? e.deletedAt ?? '',
    e.problem ?? '',
  ]);
  const head = ['KIND', 'PATH', 'NAME', 'FILES', 'BYTES', 'CREATED/DELETED', 'PROBLEM'];
  const all = [head, ...rows];
  const width = head.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  return all.map((r) => r.map((c, i) => c.padEnd(width[i]!)).join('  ').trimEnd()).join('\n');
}

async function runMigrate(a: ParsedArgs, io: CliIo, asJson: boolean, signal: AbortSignal): Promise<number> {
  const [src, dst, extra] = a.positionals;
  if (!src || !dst) throw new UsageError('need SRC_URL and DST_URL');
  if (extra) throw new UsageError(`unexpected argument '${extra}'`);
  const windowSec = str(a, 'mtime-window');
  if (windowSec !== undefined && !/^\d+(\.\d+)?$/.test(windowSec)) throw new UsageError(`--mtime-window must be seconds, got '${windowSec}'`);
  const concurrency = int(a, 'concurrency', 1);
  if (a.flags.has('workers') || a.flags.has('run-id')) return runMigrateWorkers(a, io, asJson, signal, { src, dst, concurrency, windowSec });
  for (const k of ['worker-index', 'lease', 'partition-files', 'partition-bytes']) if (a.flags.has(k)) throw new UsageError(`--${k} goes with --workers`);
  const bar = progressLine(io.tty && !asJson);
  const t0 = performance.now();
  const onProgress = (p: MigrateProgress) => {
    const secs = (performance.now() - t0) / 1000;
    const rate = p.bytesCopied / Math.max(secs, 0.001);
    const eta = p.bytesTotal > 0 && rate > 0 ? ` ETA ${Math.max(0, (p.bytesTotal - p.bytesCopied - p.bytesSkipped) / rate).toFixed(0)} s` : '';
    bar.update(`${p.phase}: ${p.filesCopied} copied, ${p.filesSkipped} unchanged of ${p.filesTotal} files; ${formatBytes(p.bytesCopied)} at ${formatBytes(rate)}/s${eta}`);
  };
  let r;
  try {
    r = await migrate(src, dst, {
      checksum: a.flags.has('checksum'),
      delete: a.flags.has('delete'),
      dryRun: a.flags.has('dry-run'),
      signal,
      onProgress,
      ...(windowSec !== undefined ? { mtimeWindowMs: Number(windowSec) * 1000 } : {}),
      ...(concurrency !== undefined ? { concurrency } : {}),
    });
  } finally {
    bar.done();
  }
  const secs = (performance.now() - t0) / 1000;
  if (asJson) io.out(json(r));
  else {
    io.out(
      `${r.dryRun ? 'would copy' : 'copied'} ${r.copied.files} files (${formatBytes(r.copied.bytes)}), ${r.copied.dirs} dirs, ${r.copied.symlinks} symlinks, ${r.copied.hardLinks} hard links; ${r.unchanged} unchanged; ${r.removed} removed at the target; in ${secs.toFixed(1)} s (${formatBytes(r.copied.bytes / Math.max(secs, 0.001))}/s)`,
    );
    io.out(r.verify ? `verify: ${r.verify.checked} entries checked, ${r.verify.differences.length} differ` : 'verify: skipped (dry run)');
    for (const d of (r.verify?.differences ?? []).slice(0, 20)) io.out(`  differs: ${d.path}: ${d.what}`);
    for (const x of r.unsupported.slice(0, 20)) io.out(`  not copied: ${x.path}: ${x.why}`);
    const kept = r.verify?.symlinkTimes.length ?? r.symlinkTimesIgnored;
    if (kept > 0) io.out(`  symlink mtimes: ${kept} differ from the source: the target server does not set symlink times (it answered SETATTR with success)${r.verify ? `: ${r.verify.symlinkTimes.slice(0, 5).join(', ')}` : ''}`);
  }
  return r.verify && r.verify.differences.length > 0 ? 1 : r.unsupported.length > 0 ? 1 : 0;
}

async function runMigrateWorkers(
  a: ParsedArgs,
  io: CliIo,
  asJson: boolean,
  signal: AbortSignal,
  o: { src: string; dst: string; concurrency: number | undefined; windowSec: string | undefined },
): Promise<number> {
  const workers = int(a, 'workers', 1);
  if (workers === undefined) throw new UsageError('--run-id goes with --workers N');
  const runId = str(a, 'run-id');
  if (runId === undefined) throw new UsageError('--workers needs --run-id RUN (the name of the queue the workers share)');
  try {
    checkRunId(runId);
  } catch (err) {
    throw new UsageError(`--run-id: ${(err as Error).message}`);
  }
  if (a.flags.has('dry-run')) throw new UsageError('--dry-run does not go with --workers (run it without --workers)');
  let worker = int(a, 'worker-index');
  if (worker === undefined) {
    const env = process.env.JOB_COMPLETION_INDEX;
    if (env === undefined || !/^\d+$/.test(env)) throw new UsageError('no worker index: pass --worker-index I or set JOB_COMPLETION_INDEX (a Kubernetes Indexed Job sets it)');
    worker = Number(env);
  }
  if (worker >= workers) throw new UsageError(`--worker-index must be below --workers (${workers}), got ${worker}`);
  const lease = str(a, 'lease');
  if (lease !== undefined && !/^\d+(\.\d+)?$/.test(lease)) throw new UsageError(`--lease must be seconds, got '${lease}'`);
  const maxFiles = int(a, 'partition-files', 1);
  const pb = str(a, 'partition-bytes');
  const maxBytes = pb === undefined ? undefined : parseSize(pb);
  const bar = progressLine(io.tty && !asJson);
  let r: WorkerResult;
  try {
    r = await migrateWorker(o.src, o.dst, {
      runId,
      workers,
      worker,
      checksum: a.flags.has('checksum'),
      delete: a.flags.has('delete'),
      signal,
      onEvent: (line) => io.err(line),
      onProgress: (p) => bar.update(`worker ${worker}: ${p.partitions} partitions, ${p.files} files`),
      ...(o.windowSec !== undefined ? { mtimeWindowMs: Number(o.windowSec) * 1000 } : {}),
      ...(o.concurrency !== undefined ? { concurrency: o.concurrency } : {}),
      ...(lease !== undefined ? { leaseMs: Number(lease) * 1000 } : {}),
      ...(maxFiles !== undefined ? { maxFiles } : {}),
      ...(maxBytes !== undefined ? { maxBytes } : {}),
    });
  } finally {
    bar.done();
  }
  const f = r.final;
  if (asJson) io.out(json(r));
  else {
    if (r.alreadyFinished) io.out(`run ${runId} had finished: nothing to do`);
    if (r.crawl) io.out(`worker ${worker}: crawled ${r.crawl.files} files (${formatBytes(r.crawl.bytes)}), ${r.crawl.dirs} dirs into ${r.crawl.partitions} partitions in ${r.crawl.seconds.toFixed(1)} s`);
    io.out(
      `worker ${worker}: ${r.partitions.length} partitions; copied ${r.copied.files} files (${formatBytes(r.copied.bytes)}), ${r.copied.symlinks} symlinks, ${r.copied.hardLinks} hard links; ${r.unchanged} unchanged${r.takenOver.length ? `; took over ${r.takenOver.join(', ')}` : ''}${r.lost.length ? `; lost ${r.lost.join(', ')}` : ''}; in ${r.seconds.toFixed(1)} s`,
    );
    if (f && !r.alreadyFinished) io.out(`final pass: ${f.copied.files} files, ${f.copied.dirs} dirs, ${f.copied.symlinks} symlinks, ${f.copied.hardLinks} hard links copied; ${f.removed} removed`);
    if (f?.verify) io.out(`verify: ${f.verify.checked} entries checked, ${f.verify.differences.length} differ`);
    for (const d of (f?.verify?.differences ?? []).slice(0, 20)) io.out(`  differs: ${d.path}: ${d.what}`);
    for (const x of (f?.unsupported ?? []).slice(0, 20)) io.out(`  not copied: ${x.path}: ${x.why}`);
    const kept = f?.verify?.symlinkTimes ?? [];
    if (kept.length > 0) io.out(`  symlink mtimes: ${kept.length} differ from the source: the target server does not set symlink times (it answered SETATTR with success): ${kept.slice(0, 5).join(', ')}`);
  }
  return f?.verify && f.verify.differences.length > 0 ? 1 : f && f.unsupported.length > 0 ? 1 : 0;
}
