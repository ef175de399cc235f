import { pipeline } from 'node:stream/promises';
import type { Command } from './command.js';
import { URL_HELP } from './command.js';
import { cannot } from './io.js';

export const cat: Command = {
  name: 'cat',
  summary: 'print files',
  help: `usage: mountless cat PATH...

Write each file to standard output, in order.

${URL_HELP}`,
  options: [
    { name: 'url', value: true },
    { name: 'help', short: 'h' },
  ],
  async run({ io, args, remotes }) {
    if (args.positionals.length === 0) {
      io.stderr.write('usage: mountless cat PATH...\n');
      return 2;
    }
    let status = 0;
    for (const arg of args.positionals) {
      try {
        const ref = await remotes.resolve(arg);
        const h = await ref.client.open(ref.path, 'r');
        const st = await h.stat();
        if (st.isDirectory()) {
          await h.close();
          throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
        }
        await pipeline(h.createReadStream({ highWaterMark: 1024 * 1024 }), io.stdout, { end: false });
      } catch (err) {
        // A closed pipe (| head) is not an error worth a message.
        if ((err as { code?: string }).code === 'EPIPE') return status;
        cannot(io, 'open', arg, err);
        status = 1;
      }
    }
    return status;
  },
};
