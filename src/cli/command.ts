import type { OptionSpec, ParsedArgs } from './args.js';
import type { CliIo } from './io.js';
import type { Remotes } from './remote.js';

export interface CommandContext {
  io: CliIo;
  args: ParsedArgs;
  remotes: Remotes;
}

/** One `mountless <name>` command: its help text, its options, and what it does. Returns the exit status. */
export interface Command {
  name: string;
  /** One line for `mountless --help`. */
  summary: string;
  /** The full `--help` text: usage line first. */
  help: string;
  options: OptionSpec[];
  run(ctx: CommandContext): Promise<number>;
}

/** Options every command takes. */
export const COMMON_OPTIONS: OptionSpec[] = [
  { name: 'url', value: true },
  { name: 'help', short: 'h' },
];

export const URL_HELP = `The volume is --url nfs://host/export[/dir] or $NFS_URL; a path may also be written as a
full URL (nfs://host/export/dir/file).`;
