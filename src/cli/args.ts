/**
 * Command-line parsing: `--flag`, `--key value`, `--key=value`, short flags
 * that cluster (`-lR`), short options with a value (`-j 4`, `-j4`), `--` to
 * end options, and `-` as a positional (stdin/stdout). Unknown options and
 * missing values are usage errors (exit status 2).
 */

export class UsageError extends Error {
  readonly code = 'EUSAGE';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface OptionSpec {
  /** Long name, without dashes. */
  name: string;
  /** One-letter alias, without the dash. */
  short?: string;
  /** Takes a value. */
  value?: boolean;
}

export interface ParsedArgs {
  /** By long name (or by the letter, for the legacy parseArgs). `true` for flags without a value. */
  flags: Map<string, string | true>;
  positionals: string[];
}

/** Parses argv against a list of known options; throws UsageError for anything else. */
export function parseCommandArgs(argv: readonly string[], specs: readonly OptionSpec[]): ParsedArgs {
  const byLong = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));
  const flags = new Map<string, string | true>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const key = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      const spec = byLong.get(key);
      if (!spec) throw new UsageError(`unknown option --${key}`);
      if (spec.value) {
        const v = eq >= 0 ? a.slice(eq + 1) : argv[++i];
        if (v === undefined) throw new UsageError(`option --${key} needs a value`);
        flags.set(spec.name, v);
      } else {
        if (eq >= 0) throw new UsageError(`option --${key} takes no value`);
        flags.set(spec.name, true);
      }
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let k = 1; k < a.length; k++) {
        const c = a[k]!;
        const spec = byShort.get(c);
        if (!spec) throw new UsageError(`unknown option -${c}`);
        if (spec.value) {
          const rest = a.slice(k + 1);
          const v = rest !== '' ? rest : argv[++i];
          if (v === undefined) throw new UsageError(`option -${c} needs a value`);
          flags.set(spec.name, v);
          break;
        }
        flags.set(spec.name, true);
      }
      continue;
    }
    positionals.push(a);
  }
  return { flags, positionals };
}

/**
 * The original loose parser (kept for callers outside the CLI): every
 * `--key` is accepted; those in `valued` take the next argument.
 */
export function parseArgs(argv: string[], valued: ReadonlySet<string>): ParsedArgs {
  const flags = new Map<string, string | true>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const key = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      if (eq >= 0) flags.set(key, a.slice(eq + 1));
      else if (valued.has(key)) {
        const v = argv[++i];
        if (v === undefined) throw new UsageError(`option --${key} needs a value`);
        flags.set(key, v);
      } else flags.set(key, true);
    } else if (a.startsWith('-') && a.length > 1) {
      for (const c of a.slice(1)) flags.set(c, true);
    } else positionals.push(a);
  }
  return { flags, positionals };
}

/** A flag's string value, or undefined. */
export function str(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

/** A positive integer option. */
export function intOpt(args: ParsedArgs, name: string, def: number, min = 1, max = 1 << 20): number {
  const v = str(args, name);
  if (v === undefined) return def;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got '${v}'`);
  return Number(v);
}
