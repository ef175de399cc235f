import { UsageError } from './args.js';
import type { Command } from './command.js';
import { URL_HELP } from './command.js';
import { baseName, joinPath } from './format.js';
import { cannot, warn } from './io.js';

/** rm, mkdir, mv, ln: one small command each over the fs API. */

export const rm: Command = {
  name: 'rm',
  summary: 'remove files (-r directories, -f ignore missing)',
  help: `usage: mountless rm [-r] [-f] PATH...

Remove files; with -r, directories and everything in them.

  -r, -R, --recursive  remove directories and their contents
  -f, --force          ignore missing files, never fail for them

${URL_HELP}`,
  options: [
    { name: 'url', value: true },
    { name: 'help', short: 'h' },
    { name: 'recursive', short: 'r' },
    { name: 'R', short: 'R' },
    { name: 'force', short: 'f' },
  ],
  async run({ io, args, remotes }) {
    const recursive = args.flags.has('recursive') || args.flags.has('R');
    const force = args.flags.has('force');
    if (args.positionals.length === 0) {
      if (force) return 0;
      throw new UsageError('rm needs a PATH (see mountless rm --help)');
    }
    let status = 0;
    for (const arg of args.positionals) {
      try {
        const ref = await remotes.resolve(arg);
        if (ref.path.replace(/\/+$/, '') === '') {
          warn(io, `refusing to remove the volume root '${arg}'`);
          status = 1;
          continue;
        }
        await ref.client.rm(ref.path, { recursive, force });
      } catch (err) {
        cannot(io, 'remove', arg, err);
        status = 1;
      }
    }
    return status;
  },
};

export const mkdir: Command = {
  name: 'mkdir',
  summary: 'make directories (-p parents)',
  help: `usage: mountless mkdir [-p] [-m MODE] PATH...

  -p, --parents  make parent directories as needed; no error if PATH exists
  -m, --mode     permission bits in octal (default 0777 less the umask)

${URL_HELP}`,
  options: [
    { name: 'url', value: true },
    { name: 'help', short: 'h' },
    { name: 'parents', short: 'p' },
    { name: 'mode', short: 'm', value: true },
  ],
  async run({ io, args, remotes }) {
    if (args.positionals.length === 0) throw new UsageError('mkdir needs a PATH (see mountless mkdir --help)');
    const m = args.flags.get('mode');
    let mode: number | undefined;
    if (typeof m === 'string') {
      if (!/^[0-7]{1,4}$/.test(m)) throw new UsageError(`invalid mode '${m}' (octal, like 755)`);
      mode = parseInt(m, 8);
    }
    const parents = args.flags.has('parents');
    let status = 0;
    for (const arg of args.positionals) {
      try {
        const ref = await remotes.resolve(arg);
        await ref.client.mkdir(ref.path, { recursive: parents, ...(mode !== undefined ? { mode } : {}) });
        // mkdir applies the umask; an explicit -m means exactly that mode, as mkdir(1).
        if (mode !== undefined) await ref.client.chmod(ref.path, mode);
      } catch (err) {
        cannot(io, 'create directory', arg, err);
        status = 1;
      }
    }
    return status;
  },
};

export const mv: Command = {
  name: 'mv',
  summary: 'move or rename within a volume',
  help: `usage: mountless mv SOURCE... DEST

Rename SOURCE to DEST, or move SOURCEs into the directory DEST. Sources and
destination must be on the same volume (NFS RENAME); to move between servers,
use cp then rm.

${URL_HELP}`,
  options: [
    { name: 'url', value: true },
    { name: 'help', short: 'h' },
  ],
  async run({ io, args, remotes }) {
    if (args.positionals.length < 2) throw new UsageError('mv needs a source and a destination (see mountless mv --help)');
    const destArg = args.positionals[args.positionals.length - 1]!;
    const dest = await remotes.resolve(destArg);
    const destIsDir = await dest.client.stat(dest.path).then(
      (s) => s.isDirectory(),
      () => false,
    );
    const srcs = args.positionals.slice(0, -1);
    if (srcs.length > 1 && !destIsDir) {
      warn(io, `target '${destArg}' is not a directory`);
      return 1;
    }
    let status = 0;
    for (const arg of srcs) {
      try {
        const src = await remotes.resolve(arg);
        if (src.volume !== dest.volume) {
          warn(io, `cannot move '${arg}' to '${destArg}': not on the same volume (use cp, then rm)`);
          status = 1;
          continue;
        }
        const to = destIsDir ? joinPath(dest.path, baseName(src.path)) : dest.path;
        await src.client.rename(src.path, to);
      } catch (err) {
        cannot(io, `move '${arg}' to`, destArg, err);
        status = 1;
      }
    }
    return status;
  },
};

export const ln: Command = {
  name: 'ln',
  summary: 'make links (-s symbolic)',
  help: `usage: mountless ln [-s] [-f] TARGET LINK_NAME

Make LINK_NAME a hard link to TARGET, or with -s a symbolic link whose content
is TARGET as written. If LINK_NAME is a directory, the link is made inside it.

  -s, --symbolic  make a symbolic link
  -f, --force     replace an existing LINK_NAME

${URL_HELP}`,
  options: [
    { name: 'url', value: true },
    { name: 'help', short: 'h' },
    { name: 'symbolic', short: 's' },
    { name: 'force', short: 'f' },
  ],
  async run({ io, args, remotes }) {
    if (args.positionals.length !== 2) throw new UsageError('ln needs TARGET and LINK_NAME (see mountless ln --help)');
    const [targetArg, linkArg] = args.positionals as [string, string];
    const symbolic = args.flags.has('symbolic');
    const link = await remotes.resolve(linkArg);
    let linkPath = link.path;
    const isDir = await link.client.stat(link.path).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (isDir) linkPath = joinPath(link.path, baseName(targetArg.startsWith(':') ? targetArg.slice(1) : targetArg));
    try {
      if (args.flags.has('force')) await link.client.unlink(linkPath).catch(() => {});
      if (symbolic) {
        await link.client.symlink(targetArg, linkPath);
      } else {
        const target = await remotes.resolve(targetArg);
        if (target.volume !== link.volume) {
          warn(io, `cannot create hard link '${linkArg}' => '${targetArg}': not on the same volume`);
          return 1;
        }
        await link.client.link(target.path, linkPath);
      }
    } catch (err) {
      cannot(io, symbolic ? 'create symbolic link' : 'create hard link', linkArg, err);
      return 1;
    }
    return 0;
  },
};
