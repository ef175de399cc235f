import { parseNfsUrl } from '../url.js';
import { UsageError } from './args.js';
import type { Command } from './command.js';
import { URL_HELP } from './command.js';
import { cannot, describeError, humanSize, warn } from './io.js';
import { listExports } from './remote.js';

export const df: Command = {
  name: 'df',
  summary: 'show volume size, use and free space (FSSTAT)',
  help: `usage: mountless df [-h] [-i] [--json] [PATH...]

Size, used and available space of the volume holding each PATH (default: the
volume root), from NFS FSSTAT.

  -h, --human  sizes as 1.5K, 23M, 4.0G (default: 1K blocks)
  -i, --inodes file counts instead of space
      --json   one JSON object per PATH (bytes and files, total/free/avail)

${URL_HELP}`,
  options: [
    { name: 'url', value: true },
    { name: 'help' },
    { name: 'human', short: 'h' },
    { name: 'inodes', short: 'i' },
    { name: 'json' },
  ],
  async run({ io, args, remotes }) {
    const paths = args.positionals.length ? args.positionals : ['/'];
    const human = args.flags.has('human');
    const inodes = args.flags.has('inodes');
    const rows: string[][] = [];
    const json: object[] = [];
    let status = 0;
    for (const arg of paths) {
      try {
        const ref = await remotes.resolve(arg);
        const s = await ref.client.statfs(ref.path);
        const size = s.blocks * s.bsize;
        const free = s.bfree * s.bsize;
        const avail = s.bavail * s.bsize;
        const used = size - free;
        const name = arg.startsWith('nfs://') ? arg : `${ref.volume.replace(/\?.*$/, '')}`;
        if (args.flags.has('json')) {
          json.push({ path: arg, volume: ref.volume, bytes: { total: size, used, free, avail }, files: { total: s.files, free: s.ffree }, bsize: s.bsize });
          continue;
        }
        if (inodes) {
          const iused = s.files - s.ffree;
          rows.push([name, String(s.files), String(iused), String(s.ffree), s.files ? `${Math.ceil((iused / s.files) * 100)}%` : '-', ref.path]);
        } else {
          const fmt = (n: number) => (human ? humanSize(n) : String(Math.ceil(n / 1024)));
          const pct = used + avail > 0 ? `${Math.ceil((used / (used + avail)) * 100)}%` : '-';
          rows.push([name, fmt(size), fmt(used), fmt(avail), pct, ref.path]);
        }
      } catch (err) {
        cannot(io, 'stat file system of', arg, err);
        status = 1;
      }
    }
    if (args.flags.has('json')) {
      io.stdout.write(JSON.stringify(paths.length === 1 ? (json[0] ?? null) : json, null, 2) + '\n');
      return status;
    }
    if (rows.length) {
      const head = inodes ? ['Volume', 'Inodes', 'IUsed', 'IFree', 'IUse%', 'Path'] : ['Volume', human ? 'Size' : '1K-blocks', 'Used', 'Available', 'Use%', 'Path'];
      const all = [head, ...rows];
      const w = head.map((_, c) => Math.max(...all.map((r) => r[c]!.length)));
      for (const r of all) io.stdout.write(r.map((v, c) => (c === 0 || c === r.length - 1 ? v.padEnd(w[c]!) : v.padStart(w[c]!))).join(' ').trimEnd() + '\n');
    }
    return status;
  },
};

export const exportsCmd: Command = {
  name: 'exports',
  summary: "list a server's exports (MOUNT EXPORT), like showmount -e",
  help: `usage: mountless exports [--json] [HOST | nfs://host[:port]/...]

List the directories the server exports and the clients allowed to mount each
(MOUNT EXPORT over TCP, via rpcbind). The server is HOST, the host of the URL,
or the host of --url / $NFS_URL.`,
  options: [
    { name: 'url', value: true },
    { name: 'help', short: 'h' },
    { name: 'json' },
  ],
  async run({ io, args, remotes }) {
    if (args.positionals.length > 1) throw new UsageError('exports takes one HOST or URL');
    const arg = args.positionals[0] ?? remotes.baseUrl;
    if (!arg) throw new UsageError('no server: pass HOST or nfs://host, --url, or set NFS_URL');
    let host = arg;
    let portmapPort: number | undefined;
    let mountport: number | undefined;
    if (/^nfs:\/\//i.test(arg)) {
      const u = parseNfsUrl(arg);
      host = u.host;
      portmapPort = u.options.portmapPort;
      mountport = u.options.mountport;
    }
    let list;
    try {
      list = await listExports(host, { ...(portmapPort !== undefined ? { portmapPort } : {}), ...(mountport !== undefined ? { mountport } : {}) });
    } catch (err) {
      warn(io, `cannot list exports of '${host}': ${describeError(err)}`);
      return 1;
    }
    if (args.flags.has('json')) {
      io.stdout.write(JSON.stringify(list, null, 2) + '\n');
      return 0;
    }
    io.stdout.write(`Export list for ${host}:\n`);
    const w = Math.max(0, ...list.map((e) => e.dir.length));
    for (const e of list) io.stdout.write(`${e.dir.padEnd(w)} ${e.groups.length ? e.groups.join(',') : '(everyone)'}\n`);
    return 0;
  },
};
