/**
 * Command-line parsing over node's `util.parseArgs`: `--flag`, `--key value`,
 * `--key=value`, short flags that cluster (`-lR`), short options with a value
 * (`-j 4`, `-j4`), `--` to end options, and `-` as a positional
 * (stdin/stdout). Each command (and each `volume` sub-command) declares its
 * own options; unknown options and missing values are usage errors (exit
 * status 2) worded the same for every command.
 */
import { parseArgs as nodeParseArgs } from 'node:util';

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
  /** By long name: the last value given, or `true` for flags without a value. */
  flags: Map<string, string | true>;
  /** Every value of each valued option, in order (for repeatable options like `--label`). */
  values: Map<string, string[]>;
  positionals: string[];
}

/**
 * Parses argv against a command's options; throws UsageError for anything
 * else. node's parser runs non-strict so that its tokens, not its error
 * messages, decide the wording of a usage error.
 */
export function parseCommandArgs(argv: readonly string[], specs: readonly OptionSpec[]): ParsedArgs {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const s of specs) options[s.name] = { type: s.value ? 'string' : 'boolean', ...(s.short ? { short: s.short } : {}) };
  const known = new Map(specs.map((s) => [s.name, s]));
  const { tokens } = nodeParseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  const flags = new Map<string, string | true>();
  const values = new Map<string, string[]>();
  const positionals: string[] = [];
  for (const tok of tokens) {
    if (tok.kind === 'positional') positionals.push(tok.value);
    if (tok.kind !== 'option') continue;
    const spec = known.get(tok.name);
    if (!spec) throw new UsageError(`unknown option ${tok.rawName}`);
    if (spec.value) {
      if (tok.value === undefined) throw new UsageError(`option ${tok.rawName} needs a value`);
      // `--delete --url x` is a forgotten value, not a value '--url' (node's strict mode refuses it too).
      if (!tok.inlineValue && tok.value.length > 1 && tok.value.startsWith('-')) {
        throw new UsageError(`option ${tok.rawName} needs a value (one that starts with '-' is written ${tok.rawName.startsWith('--') ? `${tok.rawName}=VALUE` : `${tok.rawName}VALUE`})`);
      }
      flags.set(spec.name, tok.value);
      values.set(spec.name, [...(values.get(spec.name) ?? []), tok.value]);
    } else {
      if (tok.value !== undefined) throw new UsageError(`option ${tok.rawName} takes no value`);
      flags.set(spec.name, true);
    }
  }
  return { flags, values, positionals };
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
