import type { BigIntStats } from '../fs/stats.js';
import type { Command } from './command.js';
import { URL_HELP } from './command.js';
import { fullTime, modeString, typeName, typeWords } from './format.js';
import { cannot } from './io.js';

export const stat: Command = {
  name: 'stat',
  summary: 'show file attributes (--json for scripts)',
  help: `usage: mountless stat [-L] [--json] PATH...

Show each file's attributes, as coreutils stat does: size, blocks, type, inode,
links, mode, owner, group, and access/modify/change times to the nanosecond.

  -L, --dereference  follow symlinks
      --json         one JSON object per PATH (an array when there are several)

${URL_HELP}`,
  options: [
    { name: 'url', value: true },
    { name: 'help', short: 'h' },
    { name: 'dereference', short: 'L' },
    { name: 'json' },
  ],
  async run({ io, args, remotes }) {
    if (args.positionals.length === 0) {
      io.stderr.write('usage: mountless stat [-L] [--json] PATH...\n');
      return 2;
    }
    const json = args.flags.has('json');
    const follow = args.flags.has('dereference');
    const out: object[] = [];
    let status = 0;
    for (const arg of args.positionals) {
      try {
        const ref = await remotes.resolve(arg);
        const st = follow ? await ref.client.stat(ref.path, { bigint: true }) : await ref.client.lstat(ref.path, { bigint: true });
        const target = st.isSymbolicLink() ? await ref.client.readlink(ref.path) : undefined;
        if (json) out.push(toJson(ref.path, st, target));
        else io.stdout.write(human(arg, st, target));
      } catch (err) {
        cannot(io, 'stat', arg, err);
        status = 1;
      }
    }
    if (json) io.stdout.write(JSON.stringify(args.positionals.length === 1 ? (out[0] ?? null) : out, null, 2) + '\n');
    return status;
  },
};

function human(name: string, st: BigIntStats, target: string | undefined): string {
  const mode = Number(st.mode);
  const perm = (mode & 0o7777).toString(8).padStart(4, '0');
  const dev = Number(st.dev);
  return (
    `  File: ${name}${target !== undefined ? ` -> ${target}` : ''}\n` +
    `  Size: ${String(st.size).padEnd(15)} Blocks: ${String(st.blocks).padEnd(10)} IO Block: ${String(st.blksize).padEnd(6)} ${typeWords(st)}\n` +
    `Device: ${dev.toString(16)}h/${dev}d\tInode: ${String(st.ino).padEnd(11)} Links: ${st.nlink}\n` +
    `Access: (${perm}/${modeString(mode)})  Uid: (${String(st.uid).padStart(5)})   Gid: (${String(st.gid).padStart(5)})\n` +
    `Access: ${fullTime(st.atimeNs)}\n` +
    `Modify: ${fullTime(st.mtimeNs)}\n` +
    `Change: ${fullTime(st.ctimeNs)}\n` +
    ` Birth: -\n`
  );
}

function toJson(path: string, st: BigIntStats, target: string | undefined): object {
  const iso = (ns: bigint) => new Date(Number(ns / 1_000_000n)).toISOString();
  return {
    path,
    type: typeName(st),
    size: Number(st.size),
    mode: (Number(st.mode) & 0o7777).toString(8).padStart(4, '0'),
    uid: Number(st.uid),
    gid: Number(st.gid),
    nlink: Number(st.nlink),
    ino: String(st.ino),
    dev: String(st.dev),
    blocks: Number(st.blocks),
    blksize: Number(st.blksize),
    atime: iso(st.atimeNs),
    mtime: iso(st.mtimeNs),
    ctime: iso(st.ctimeNs),
    atimeNs: String(st.atimeNs),
    mtimeNs: String(st.mtimeNs),
    ctimeNs: String(st.ctimeNs),
    ...(target !== undefined ? { target } : {}),
  };
}
