import type { NfsClient } from '../fs/client.js';
import type { Stats } from '../fs/stats.js';
import type { Command } from './command.js';
import { URL_HELP } from './command.js';
import { joinPath, modeString, shortTime, typeName } from './format.js';
import { cannot, humanSize, type CliIo } from './io.js';

interface Entry {
  name: string;
  path: string;
  st: Stats;
  target?: string | undefined;
}

interface LsOpts {
  long: boolean;
  all: boolean;
  human: boolean;
  json: boolean;
}

export const ls: Command = {
  name: 'ls',
  summary: 'list directories (-l details, -R recursive)',
  help: `usage: mountless ls [-l] [-R] [-a] [-d] [-h] [--json] [PATH...]

List the contents of each directory PATH (default: the volume root); a file
is listed as itself.

  -l, --long       mode, links, owner, group, size, mtime, name (-> target)
  -R, --recursive  list subdirectories too
  -a, --all        include names beginning with '.'
  -d, --directory  list directories themselves, not their contents
  -h, --human      sizes as 1.5K, 23M, 4.0G (with -l)
      --json       one JSON array of entries (path, name, type, size, mode,
                   uid, gid, nlink, ino, mtime, target)

${URL_HELP}`,
  options: [
    { name: 'url', value: true },
    { name: 'help' },
    { name: 'long', short: 'l' },
    { name: 'recursive', short: 'R' },
    { name: 'all', short: 'a' },
    { name: 'directory', short: 'd' },
    { name: 'human', short: 'h' },
    { name: 'json' },
  ],
  async run({ io, args, remotes }) {
    const o: LsOpts = { long: args.flags.has('long'), all: args.flags.has('all'), human: args.flags.has('human'), json: args.flags.has('json') };
    const recursive = args.flags.has('recursive');
    const dirOnly = args.flags.has('directory');
    const paths = args.positionals.length ? args.positionals : ['/'];
    let status = 0;
    const json: object[] = [];
    const files: Entry[] = [];
    const dirs: Array<{ client: NfsClient; path: string; display: string }> = [];
    for (const arg of paths) {
      let ref;
      try {
        ref = await remotes.resolve(arg);
        const st = await ref.client.lstat(ref.path);
        const followed = st.isSymbolicLink() && !dirOnly ? await ref.client.stat(ref.path).catch(() => st) : st;
        if (followed.isDirectory() && !dirOnly) dirs.push({ client: ref.client, path: ref.path, display: arg });
        else files.push(await entryOf(ref.client, ref.path, arg, st, o.long || o.json));
      } catch (err) {
        cannot(io, 'access', arg, err);
        status = 1;
      }
    }
    if (files.length) {
      if (o.json) json.push(...files.map(toJson));
      else printEntries(io, files, o);
    }
    const headers = recursive || paths.length > 1;
    let first = files.length === 0;
    for (const d of dirs) {
      // Depth-first in name order, as ls -R: an explicit stack, never recursion on server data.
      const stack = [{ path: d.path, display: d.display }];
      while (stack.length) {
        const cur = stack.pop()!;
        let entries: Entry[];
        try {
          entries = await listDir(d.client, cur.path, o);
        } catch (err) {
          cannot(io, 'open directory', cur.display, err);
          status = 1;
          continue;
        }
        if (o.json) json.push(...entries.map(toJson));
        else {
          if (headers) io.stdout.write(`${first ? '' : '\n'}${cur.display}:\n`);
          if (o.long) io.stdout.write(`total ${entries.reduce((n, e) => n + Math.ceil(e.st.blocks / 2), 0)}\n`);
          printEntries(io, entries, o);
        }
        first = false;
        if (recursive) {
          const subdirs = entries.filter((e) => e.st.isDirectory());
          for (let k = subdirs.length - 1; k >= 0; k--) stack.push({ path: subdirs[k]!.path, display: joinPath(cur.display, subdirs[k]!.name) });
        }
      }
    }
    if (o.json) io.stdout.write(JSON.stringify(json, null, 2) + '\n');
    return status;
  },
};

async function entryOf(client: NfsClient, path: string, name: string, st: Stats, wantTarget: boolean): Promise<Entry> {
  const target = wantTarget && st.isSymbolicLink() ? await client.readlink(path).catch(() => undefined) : undefined;
  return { name, path, st, target };
}

async function listDir(client: NfsClient, dir: string, o: LsOpts): Promise<Entry[]> {
  const names = (await client.readdir(dir)).filter((n) => o.all || !n.startsWith('.')).sort();
  const out: Entry[] = [];
  // READDIRPLUS filled the attribute cache: these lstats are mostly cache hits.
  const stats = await Promise.all(names.map((n) => client.lstat(joinPath(dir, n)).catch(() => undefined)));
  for (let k = 0; k < names.length; k++) {
    const st = stats[k];
    if (!st) continue; // removed while we listed
    out.push(await entryOf(client, joinPath(dir, names[k]!), names[k]!, st, o.long || o.json));
  }
  return out;
}

function printEntries(io: CliIo, entries: Entry[], o: LsOpts): void {
  if (!o.long) {
    for (const e of entries) io.stdout.write(e.name + '\n');
    return;
  }
  const size = (e: Entry) => (o.human ? humanSize(e.st.size) : String(e.st.size));
  const w = {
    nlink: Math.max(...entries.map((e) => String(e.st.nlink).length)),
    uid: Math.max(...entries.map((e) => String(e.st.uid).length)),
    gid: Math.max(...entries.map((e) => String(e.st.gid).length)),
    size: Math.max(...entries.map((e) => size(e).length)),
  };
  for (const e of entries) {
    const link = e.target !== undefined ? ` -> ${e.target}` : '';
    io.stdout.write(
      `${modeString(e.st.mode)} ${String(e.st.nlink).padStart(w.nlink)} ${String(e.st.uid).padStart(w.uid)} ${String(e.st.gid).padStart(w.gid)} ${size(e).padStart(w.size)} ${shortTime(e.st.mtime)} ${e.name}${link}\n`,
    );
  }
}

function toJson(e: Entry): object {
  return {
    path: e.path,
    name: e.name,
    type: typeName(e.st),
    size: e.st.size,
    mode: (e.st.mode & 0o7777).toString(8).padStart(4, '0'),
    uid: e.st.uid,
    gid: e.st.gid,
    nlink: e.st.nlink,
    ino: e.st.ino,
    mtime: e.st.mtime.toISOString(),
    ...(e.target !== undefined ? { target: e.target } : {}),
  };
}
