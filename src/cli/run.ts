import { parseCommandArgs, UsageError } from './args.js';
import { cat } from './cat.js';
import { KRB5_HELP, KRB5_OPTIONS, krb5FromArgs, type Command } from './command.js';
import { cp, get, put } from './cp.js';
import { demoCommand } from './demo.js';
import { df, exportsCmd } from './df.js';
import { ln, mkdir, mv, rm } from './fileops.js';
import { describeError, processIo, type CliIo } from './io.js';
import { ls } from './ls.js';
import { Remotes } from './remote.js';
import { serve } from './serve.js';
import { stat } from './stat.js';

/** Commands implemented in modules other helpers own, loaded when used (so this file builds without them). */
const DELEGATED: Record<string, { module: string; export: string; summary: string }> = {
  bench: { module: './bench.js', export: 'benchCommand', summary: 'fio-style benchmark jobs (see mountless bench --help)' },
  volume: { module: './volume.js', export: 'volumeCommand', summary: 'volume management (see mountless volume --help)' },
};

export const COMMANDS: Command[] = [ls, cat, stat, cp, put, get, rm, mkdir, mv, ln, df, exportsCmd, serve, demoCommand];

export function usage(): string {
  const w = Math.max(...COMMANDS.map((c) => c.name.length), ...Object.keys(DELEGATED).map((n) => n.length));
  const lines = [...COMMANDS.map((c) => [c.name, c.summary]), ...Object.entries(DELEGATED).map(([n, d]) => [n, d.summary])].map(([n, s]) => `  ${n!.padEnd(w)}  ${s}`);
  return `usage: mountless <command> [--url nfs://host/export[/dir]] [args]

commands:
${lines.join('\n')}

The volume comes from --url or $NFS_URL. Remote paths: /dir/file for commands
that only work on NFS; :dir/file or nfs://host/export/dir/file where local
paths are allowed too (cp). 'mountless <command> --help' for more.

${KRB5_HELP}

Exit status: 0 success, 1 an operation failed, 2 usage error.`;
}

/** The global options allowed before the command name. */
function splitArgv(argv: readonly string[]): { pre: string[]; cmd: string | undefined; rest: string[] } {
  const pre: string[] = [];
  let i = 0;
  while (i < argv.length && argv[i]!.startsWith('-')) {
    const a = argv[i]!;
    // Valued options may come before the command too: their value is not the command name.
    if (a === '--url' || KRB5_OPTIONS.some((o) => a === `--${o.name}`)) {
      pre.push(a, argv[i + 1] ?? '');
      i += 2;
    } else {
      pre.push(a);
      i++;
    }
  }
  return { pre, cmd: argv[i], rest: argv.slice(i + 1) };
}

/** Runs `mountless <argv>`; resolves with the exit status. */
export async function run(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const { pre, cmd, rest } = splitArgv(argv);
  if (cmd === undefined) {
    if (pre.includes('--version')) {
      io.stdout.write(`mountless ${await version()}\n`);
      return 0;
    }
    const help = pre.includes('--help') || pre.includes('-h');
    (help ? io.stdout : io.stderr).write(usage() + '\n');
    return help ? 0 : 2;
  }
  if (cmd === 'help') {
    const sub = rest[0] !== undefined ? DELEGATED[rest[0]] : undefined;
    if (sub) return runDelegated(rest[0]!, sub, [...rest.slice(1), '--help'], io);
    const c = COMMANDS.find((x) => x.name === rest[0]);
    io.stdout.write((c ? c.help : usage()) + '\n');
    return 0;
  }
  const delegated = DELEGATED[cmd];
  if (delegated) return runDelegated(cmd, delegated, [...pre, ...rest], io);
  const command = COMMANDS.find((c) => c.name === cmd);
  if (!command) {
    io.stderr.write(`mountless: unknown command '${cmd}'\n${usage()}\n`);
    return 2;
  }
  let args;
  try {
    args = parseCommandArgs([...pre, ...rest], [...command.options, ...KRB5_OPTIONS]);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`mountless ${cmd}: ${err.message}\nTry 'mountless ${cmd} --help'.\n`);
      return 2;
    }
    throw err;
  }
  if (args.flags.has('help')) {
    io.stdout.write(command.help + '\n');
    return 0;
  }
  const url = args.flags.get('url');
  let remotes: Remotes;
  try {
    const krb5 = krb5FromArgs(args, io.env);
    remotes = new Remotes(typeof url === 'string' ? url : io.env.NFS_URL || undefined, krb5 ? { krb5 } : {});
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr.write(`mountless ${cmd}: ${err.message}\n`);
    return 2;
  }
  try {
    return await command.run({ io, args, remotes });
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`mountless ${cmd}: ${err.message}\n`);
      return 2;
    }
    io.stderr.write(`mountless ${cmd}: ${describeError(err)}\n`);
    return 1;
  } finally {
    await remotes.closeAll();
  }
}

async function runDelegated(name: string, d: { module: string; export: string }, argv: string[], io: CliIo): Promise<number> {
  let mod: Record<string, unknown>;
  try {
    // A variable specifier: the module may not exist in this build, and tsc must not require it.
    const spec = d.module;
    mod = (await import(spec)) as Record<string, unknown>;
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') {
      io.stderr.write(`mountless: the '${name}' command is not part of this build\n`);
      return 2;
    }
    throw err;
  }
  const fn = mod[d.export];
  if (typeof fn !== 'function') {
    io.stderr.write(`mountless: the '${name}' command is not part of this build (${d.module} has no ${d.export})\n`);
    return 2;
  }
  return (fn as (argv: string[]) => Promise<number>)(argv);
}

async function version(): Promise<string> {
  try {
    const { readFile } = await import('node:fs/promises');
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
