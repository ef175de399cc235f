#!/usr/bin/env node
import { connect } from '../connect.js';
import { parseArgs } from './args.js';
import { demo } from './demo.js';

const USAGE = `usage: mountless <command> [--url nfs://host/export] [args]

commands:
  demo             write, list, read back and stat files on the export; time a stat loop
  ls PATH          list a directory (-l for details)
  cat PATH         print a file
  stat PATH        print a file's attributes as JSON
  put LOCAL PATH   copy a local file to the export
  get PATH LOCAL   copy a file from the export

The URL comes from --url or $NFS_URL.`;

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv, new Set(['url']));
  const [cmd, ...rest] = args.positionals;
  if (!cmd || args.flags.has('help') || args.flags.has('h')) {
    console.log(USAGE);
    return cmd ? 0 : 2;
  }
  const url = (args.flags.get('url') as string | undefined) ?? process.env.NFS_URL;
  if (!url) {
    console.error('mountless: no URL: pass --url nfs://host/export or set NFS_URL');
    return 2;
  }
  const nfs = await connect(url);
  try {
    switch (cmd) {
      case 'demo':
        await demo(nfs, url, (s) => console.log(s));
        return 0;
      case 'ls': {
        const path = rest[0] ?? '/';
        const ents = await nfs.readdir(path, { withFileTypes: true });
        ents.sort((a, b) => a.name.localeCompare(b.name));
        for (const e of ents) {
          if (!args.flags.has('l')) {
            console.log(e.name);
            continue;
          }
          const st = await nfs.lstat(`${path.replace(/\/$/, '')}/${e.name}`);
          console.log(`${(st.mode & 0o7777).toString(8).padStart(4, '0')} ${String(st.uid).padStart(5)} ${String(st.gid).padStart(5)} ${String(st.size).padStart(12)} ${st.mtime.toISOString()} ${e.name}`);
        }
        return 0;
      }
      case 'cat': {
        if (!rest[0]) throw usage('cat PATH');
        await new Promise<void>((resolve, reject) => {
          const s = nfs.createReadStream(rest[0]!);
          s.on('error', reject);
          s.on('end', resolve);
          s.pipe(process.stdout, { end: false });
        });
        return 0;
      }
      case 'stat': {
        if (!rest[0]) throw usage('stat PATH');
        console.log(JSON.stringify(await nfs.stat(rest[0]), null, 2));
        return 0;
      }
      case 'put': {
        if (!rest[0] || !rest[1]) throw usage('put LOCAL PATH');
        const { readFile } = await import('node:fs/promises');
        await nfs.writeFile(rest[1], await readFile(rest[0]));
        return 0;
      }
      case 'get': {
        if (!rest[0] || !rest[1]) throw usage('get PATH LOCAL');
        const { writeFile } = await import('node:fs/promises');
        await writeFile(rest[1], await nfs.readFile(rest[0]));
        return 0;
      }
      default:
        console.error(`mountless: unknown command '${cmd}'\n${USAGE}`);
        return 2;
    }
  } finally {
    await nfs.close();
  }
}

function usage(u: string): Error {
  return Object.assign(new Error(`usage: mountless ${u}`), { code: 'EUSAGE' });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: { message?: string; code?: string }) => {
    console.error(`mountless: ${err?.message ?? String(err)}`);
    process.exitCode = err?.code === 'EUSAGE' ? 2 : 1;
  },
);
