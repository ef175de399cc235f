import { pipeline } from 'node:stream/promises';
import { intOpt, UsageError, type OptionSpec, type ParsedArgs } from './args.js';
import type { Command, CommandContext } from './command.js';
import { baseName } from './format.js';
import { bytes, cannot, warn, type CliIo } from './io.js';
import { runPool } from '../volume/pool.js';
import { Progress } from './progress.js';
import { isRemoteArg, type Remotes } from './remote.js';
import { localSide, remoteSide, type Attr, type Side } from './sides.js';

/** Where a copy reads or writes: a path on one side, or standard input/output ('-'). */
type End = { side: Side; path: string; display: string } | { stdio: true; display: string };

interface FileJob {
  src: { side: Side; path: string; display: string };
  dst: { side: Side; path: string; display: string } | 'stdout';
  size: number;
  attr: Attr | undefined;
}

interface CopyOpts {
  recursive: boolean;
  preserve: boolean;
  noClobber: boolean;
  jobs: number;
  progress: boolean;
}

const COPY_OPTIONS: OptionSpec[] = [
  { name: 'url', value: true },
  { name: 'help', short: 'h' },
  { name: 'recursive', short: 'r' },
  { name: 'R', short: 'R' },
  { name: 'preserve', short: 'p' },
  { name: 'no-clobber', short: 'n' },
  { name: 'jobs', short: 'j', value: true },
  { name: 'quiet', short: 'q' },
  { name: 'progress' },
];

const COPY_FLAGS = `  -r, -R, --recursive  copy directories and everything in them
  -j, --jobs N         files copied at once (default 4)
  -p, --preserve       keep mode and access/modification times
  -n, --no-clobber     do not overwrite existing files
  -q, --quiet          no progress bar
      --progress       a progress bar even when stderr is not a terminal

A progress bar (bytes, rate, ETA, files) is shown on stderr when it is a
terminal. '-' reads standard input or writes standard output.`;

export const cp: Command = {
  name: 'cp',
  summary: 'copy files: local <-> NFS, NFS <-> NFS (-r, parallel, progress)',
  help: `usage: mountless cp [-r] [-p] [-n] [-j N] [-q] SOURCE... DEST

Copy files between this machine and NFS, or between NFS volumes. Remote paths
are written :path (in the volume of --url / $NFS_URL) or nfs://host/export/path;
anything else is a local path. With several SOURCEs, DEST must be a directory.

  mountless cp ./site :/www -r               local directory to the volume
  mountless cp :/logs/app.log .              from the volume to here
  mountless cp nfs://a/export/x nfs://b/export/y   between servers

${COPY_FLAGS}`,
  options: COPY_OPTIONS,
  run: (ctx) => copyCommand(ctx, 'cp'),
};

export const put: Command = {
  name: 'put',
  summary: 'copy local files to NFS (cp with the destination remote)',
  help: `usage: mountless put [-r] [-p] [-n] [-j N] [-q] LOCAL... PATH

Copy local files to PATH on the volume (a plain path is remote here).

${COPY_FLAGS}`,
  options: COPY_OPTIONS,
  run: (ctx) => copyCommand(ctx, 'put'),
};

export const get: Command = {
  name: 'get',
  summary: 'copy files from NFS to here (cp with the sources remote)',
  help: `usage: mountless get [-r] [-p] [-n] [-j N] [-q] PATH... LOCAL

Copy files from the volume (plain paths are remote here) to LOCAL.

${COPY_FLAGS}`,
  options: COPY_OPTIONS,
  run: (ctx) => copyCommand(ctx, 'get'),
};

function copyOpts(args: ParsedArgs, io: CliIo): CopyOpts {
  const quiet = args.flags.has('quiet');
  return {
    recursive: args.flags.has('recursive') || args.flags.has('R'),
    preserve: args.flags.has('preserve'),
    noClobber: args.flags.has('no-clobber'),
    jobs: intOpt(args, 'jobs', 4, 1, 256),
    progress: !quiet && (args.flags.has('progress') || io.stderr.isTTY === true),
  };
}

async function endOf(remotes: Remotes, arg: string, remote: boolean | 'auto'): Promise<End> {
  if (arg === '-') return { stdio: true, display: arg };
  const isRemote = remote === 'auto' ? isRemoteArg(arg) : remote || isRemoteArg(arg);
  if (!isRemote) return { side: localSide, path: arg, display: arg };
  const ref = await remotes.resolve(arg, true);
  return { side: remoteSide(ref.client, ref.volume), path: ref.path, display: arg };
}

async function copyCommand({ io, args, remotes }: CommandContext, mode: 'cp' | 'put' | 'get'): Promise<number> {
  const o = copyOpts(args, io);
  if (args.positionals.length < 2) throw new UsageError(`${mode} needs a source and a destination (see mountless ${mode} --help)`);
  const srcArgs = args.positionals.slice(0, -1);
  const destArg = args.positionals[args.positionals.length - 1]!;
  let status = 0;

  const dest = await endOf(remotes, destArg, mode === 'put' ? true : mode === 'get' ? false : 'auto');
  const sources: End[] = [];
  for (const a of srcArgs) {
    try {
      sources.push(await endOf(remotes, a, mode === 'get' ? true : mode === 'put' ? false : 'auto'));
    } catch (err) {
      if (err instanceof UsageError) throw err;
      cannot(io, 'access', a, err);
      status = 1;
    }
  }
  if (mode === 'cp' && 'side' in dest && dest.side === localSide && sources.every((s) => 'side' in s && s.side === localSide)) {
    throw new UsageError("both sides are local: write remote paths as :path or nfs://host/export/path (or use cp(1))");
  }

  const jobs: FileJob[] = [];
  if ('stdio' in dest) {
    for (const s of sources) {
      if ('stdio' in s) throw new UsageError("cannot copy '-' to '-'");
      jobs.push({ src: s, dst: 'stdout', size: 0, attr: undefined });
    }
  } else {
    let destAttr: Attr | undefined;
    try {
      destAttr = await dest.side.stat(dest.path);
    } catch {
      destAttr = undefined;
    }
    const intoDir = destAttr?.type === 'directory';
    if (!intoDir && sources.length > 1) {
      warn(io, `target '${destArg}' is not a directory`);
      return 1;
    }
    for (const s of sources) {
      if ('stdio' in s) {
        if (intoDir) throw new UsageError("copying '-' needs a file name as the destination");
        jobs.push({ src: { side: localSide, path: '-', display: '-' }, dst: dest, size: 0, attr: undefined });
        continue;
      }
      let st: Attr;
      try {
        st = await s.side.stat(s.path);
      } catch (err) {
        cannot(io, 'stat', s.display, err);
        status = 1;
        continue;
      }
      const target = intoDir ? dest.side.join(dest.path, baseName(s.path)) : dest.path;
      const targetDisplay = intoDir ? dest.side.join(dest.display, baseName(s.path)) : dest.display;
      if (st.type === 'directory') {
        if (!o.recursive) {
          warn(io, `-r not specified; omitting directory '${s.display}'`);
          status = 1;
          continue;
        }
        if (s.side.key === dest.side.key && (target === s.path || target.startsWith(s.path.replace(/\/?$/, '/')))) {
          warn(io, `cannot copy a directory, '${s.display}', into itself, '${targetDisplay}'`);
          status = 1;
          continue;
        }
        status |= await planTree(io, s, { side: dest.side, path: target, display: targetDisplay }, st, o, jobs);
      } else if (st.type === 'file') {
        jobs.push({ src: s, dst: { side: dest.side, path: target, display: targetDisplay }, size: st.size, attr: st });
      } else {
        warn(io, `omitting '${s.display}': not a regular file or directory`);
        status = 1;
      }
    }
  }

  const total = jobs.reduce((n, j) => n + j.size, 0);
  const progress = o.progress && jobs.length > 0 ? new Progress(io.stderr, total, jobs.length) : undefined;
  const failures = await runPool(jobs, 'stdio' in dest ? 1 : o.jobs, async (j) => {
    await copyFile(io, j, o, progress);
    progress?.fileDone();
  });
  const secs = progress?.done();
  for (const f of failures) {
    const j = f.item;
    const code = (f.error as { code?: string }).code;
    if (code === 'SKIP') continue;
    const srcFailed = (f.error as { side?: string }).side === 'src';
    cannot(io, srcFailed ? 'read' : 'write', srcFailed || j.dst === 'stdout' ? j.src.display : j.dst.display, f.error);
    status = 1;
  }
  if (progress && secs !== undefined) {
    const n = jobs.length - failures.length;
    io.stderr.write(`copied ${n} file${n === 1 ? '' : 's'}, ${bytes(total)} in ${secs.toFixed(1)} s (${bytes(Math.round(total / Math.max(secs, 1e-3)))}/s)\n`);
  }
  return status;
}

/**
 * Walks a source directory (explicit stack), creating the destination
 * directories as it goes and collecting file copies as jobs; symlinks are
 * recreated as symlinks.
 */
async function planTree(io: CliIo, src: { side: Side; path: string; display: string }, dst: { side: Side; path: string; display: string }, st: Attr, o: CopyOpts, jobs: FileJob[]): Promise<number> {
  let status = 0;
  const stack: Array<{ s: string; sd: string; d: string; dd: string; attr: Attr }> = [{ s: src.path, sd: src.display, d: dst.path, dd: dst.display, attr: st }];
  const dirs: Array<{ d: string; attr: Attr }> = [];
  while (stack.length) {
    const cur = stack.pop()!;
    try {
      await dst.side.mkdir(cur.d, cur.attr.mode | 0o700);
    } catch (err) {
      const exists = (err as { code?: string }).code === 'EEXIST' && (await dst.side.stat(cur.d).catch(() => undefined))?.type === 'directory';
      if (!exists) {
        cannot(io, 'create directory', cur.dd, err);
        status = 1;
        continue;
      }
    }
    dirs.push({ d: cur.d, attr: cur.attr });
    let names: string[];
    try {
      names = (await src.side.readdir(cur.s)).sort();
    } catch (err) {
      cannot(io, 'open directory', cur.sd, err);
      status = 1;
      continue;
    }
    for (const name of names) {
      const s = src.side.join(cur.s, name);
      const sd = src.side.join(cur.sd, name);
      const d = dst.side.join(cur.d, name);
      const dd = dst.side.join(cur.dd, name);
      let a: Attr;
      try {
        a = await src.side.lstat(s);
      } catch (err) {
        cannot(io, 'stat', sd, err);
        status = 1;
        continue;
      }
      if (a.type === 'directory') stack.push({ s, sd, d, dd, attr: a });
      else if (a.type === 'file') jobs.push({ src: { side: src.side, path: s, display: sd }, dst: { side: dst.side, path: d, display: dd }, size: a.size, attr: a });
      else if (a.type === 'symlink') {
        try {
          const target = await src.side.readlink(s);
          await dst.side.unlink(d).catch(() => {});
          await dst.side.symlink(target, d);
        } catch (err) {
          cannot(io, 'create symbolic link', dd, err);
          status = 1;
        }
      } else {
        warn(io, `omitting '${sd}': not a regular file, directory or symlink`);
      }
    }
  }
  // The directories' own mode (and times) last: a read-only source directory must not stop the copy into it.
  if (o.preserve) for (const { d, attr } of dirs.reverse()) await dst.side.utimes(d, attr.atimeMs, attr.mtimeMs).catch(() => {});
  for (const { d, attr } of dirs) if ((attr.mode | 0o700) !== attr.mode) await dst.side.chmod(d, attr.mode).catch(() => {});
  return status;
}

function tagSide<T>(p: Promise<T>, side: 'src' | 'dst'): Promise<T> {
  return p.catch((err) => {
    if (err && typeof err === 'object') Object.assign(err, { side });
    throw err;
  });
}

async function copyFile(io: CliIo, j: FileJob, o: CopyOpts, progress: Progress | undefined): Promise<void> {
  const count = async function* (src: AsyncIterable<Buffer>) {
    for await (const c of src) {
      progress?.add(c.length);
      yield c;
    }
  };
  if (j.dst === 'stdout') {
    const src = await tagSide(j.src.side.read(j.src.path), 'src');
    await pipeline(count(src), io.stdout, { end: false });
    return;
  }
  const dst = j.dst;
  if (o.noClobber && (await dst.side.lstat(dst.path).then(
    () => true,
    () => false,
  ))) {
    progress?.add(j.size);
    throw Object.assign(new Error('exists'), { code: 'SKIP' });
  }
  const mode = j.attr?.mode ?? 0o666;
  if (j.src.path === '-') {
    await dst.side.write(dst.path, count(io.stdin as AsyncIterable<Buffer>), 0o666);
    return;
  }
  // Within one NFS volume the client's copyFile moves the data in large parallel READs and WRITEs.
  if (j.src.side.key === dst.side.key && dst.side.client) {
    await dst.side.client.copyFile(j.src.path, dst.path);
    progress?.add(j.size);
  } else {
    const src = await tagSide(j.src.side.read(j.src.path), 'src');
    await dst.side.write(dst.path, count(src), mode);
  }
  if (o.preserve && j.attr) {
    await dst.side.chmod(dst.path, j.attr.mode);
    await dst.side.utimes(dst.path, j.attr.atimeMs, j.attr.mtimeMs);
  }
}
