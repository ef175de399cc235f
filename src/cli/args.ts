/** Minimal argv parsing: `--flag`, `--key value`, `--key=value`, `-l`, positionals. */
export interface ParsedArgs {
  flags: Map<string, string | true>;
  positionals: string[];
}

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
        if (v === undefined) throw new Error(`option --${key} needs a value`);
        flags.set(key, v);
      } else flags.set(key, true);
    } else if (a.startsWith('-') && a.length > 1) {
      for (const c of a.slice(1)) flags.set(c, true);
    } else positionals.push(a);
  }
  return { flags, positionals };
}
