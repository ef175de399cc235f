import { readFile } from 'node:fs/promises';
import { fioJobs } from './fio-json.js';
import { writeLogs } from './fio-log.js';
import { BenchUsageError, benchOptionKey, parseBenchArgs, tokenize, type BenchOptions } from './options.js';
import type { JobResult } from './result.js';
import { packageVersion, runBench, type BenchIo } from './run.js';
import { ctime } from './fio-json.js';

/**
 * fio job files (`mountless bench job.fio`): INI text with a [global] section
 * and one section per job, fio's option names as `key=value` or a bare `key`
 * (a flag), `;` or `#` comment lines, and `${VAR}` taken from the environment
 * as fio does. Each job becomes the `mountless bench` command line
 * `--name=SECTION` + [global]'s options + its own (its own win) + those on
 * the command line (which win over the file's).
 *
 * fio runs a file's jobs at the same time unless a job says `stonewall`
 * (wait for the jobs before it, and start a new reporting group); mountless
 * runs them one after another, so every job after the first must say
 * `stonewall` (or [global] does): each is then its own group (groupid 0, 1, …),
 * as in fio. Anything mountless does not know is an error naming the option
 * and its line, never ignored.
 */

export interface JobSection {
  name: string;
  /** Line of the [name] header, 1-based. */
  line: number;
  /** key (canonical spelling) → value ('' for a bare flag), with the line each came from. */
  options: Map<string, { value: string; line: number }>;
}

export interface JobFile {
  global: JobSection;
  jobs: JobSection[];
}

/** Options that only make sense for a whole run, or do not fit a file's sequential sections. */
const NOT_IN_FILE = new Set(['compare', 'loops', 'plot', 'run-id', 'workers', 'worker-index', 'barrier-timeout']);

/** Parses a job file's text. Throws BenchUsageError naming the file and line. */
export function parseJobFile(text: string, file: string, env: NodeJS.ProcessEnv = process.env): JobFile {
  const global: JobSection = { name: 'global', line: 0, options: new Map() };
  const jobs: JobSection[] = [];
  let current: JobSection | undefined;
  const fail = (line: number, msg: string): never => {
    throw new BenchUsageError(`${file}:${line}: ${msg}`);
  };
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const s = raw.trim();
    if (s === '' || s.startsWith('#') || s.startsWith(';')) return;
    const header = /^\[(.*)\]$/.exec(s);
    if (header) {
      const name = header[1]!.trim();
      if (name === 'global') {
        if (jobs.length) fail(line, 'a [global] section after a job: fio applies it to the jobs after it only; put [global] first');
        current = global;
        global.line = line;
        return;
      }
      if (!/^[\w.-]+$/.test(name)) fail(line, `job name [${name}] may hold only letters, digits, '.', '-' and '_'`);
      if (jobs.some((j) => j.name === name)) fail(line, `job [${name}] defined twice`);
      current = { name, line, options: new Map() };
      jobs.push(current);
      return;
    }
    if (s.startsWith('include ')) fail(line, "'include' of other job files is not supported");
    if (!current) fail(line, `'${s}' before any [section]`);
    const eq = s.indexOf('=');
    const rawKey = (eq >= 0 ? s.slice(0, eq) : s).trim();
    let value = eq >= 0 ? s.slice(eq + 1).trim() : '';
    value = value.replace(/\$\{(\w+)\}/g, (_, v: string) => {
      const x = env[v];
      if (x === undefined) fail(line, `\${${v}} is not set in the environment`);
      return x!;
    });
    const key = benchOptionKey(rawKey);
    if (!key) fail(line, `option '${rawKey}' is not one mountless bench knows (see mountless bench --help)`);
    if (NOT_IN_FILE.has(key!)) fail(line, `option '${rawKey}' is for the command line, not a job file`);
    if (/^(bs|iodepth|numjobs|nconnect)$/.test(key!) && value.includes(',')) {
      fail(line, `'${rawKey}=${value}': a comma list in a fio job file means separate read,write values, which mountless does not take; give one value`);
    }
    if (key === 'name') fail(line, "'name' in a job file: the [section] names the job");
    if (current!.options.has(key!)) fail(line, `option '${rawKey}' given twice in [${current!.name}]`);
    current!.options.set(key!, { value, line });
  });
  if (jobs.length === 0) throw new BenchUsageError(`${file}: no job sections (only [global])`);
  const allStonewall = global.options.has('stonewall') && global.options.get('stonewall')!.value !== '0';
  jobs.slice(1).forEach((j, i) => {
    const sw = j.options.get('stonewall');
    if (!allStonewall && (!sw || sw.value === '0')) {
      fail(j.line, `[${j.name}] would run at the same time as [${jobs[i]!.name}] in fio; mountless runs a file's jobs one after another: add 'stonewall' to [${j.name}] (or to [global])`);
    }
  });
  return { global, jobs };
}

/** The `mountless bench` command line of each job: [global], then the job's own, then `cli` (each wins over the one before). */
export function jobArgv(f: JobFile, cli: string[]): string[][] {
  const fromCli = new Set(tokenize(cli).keys());
  return f.jobs.map((j) => {
    const merged = new Map<string, string>();
    for (const [k, v] of f.global.options) merged.set(k, v.value);
    for (const [k, v] of j.options) merged.set(k, v.value);
    const argv = [`--name=${j.name}`];
    for (const [k, v] of merged) if (!fromCli.has(k)) argv.push(v === '' ? `--${k}` : `--${k}=${v}`);
    return [...argv, ...cli];
  });
}

/** Parses each job's command line, naming the job (and its header line) in any error. */
export function jobOptions(f: JobFile, cli: string[], file: string, env: NodeJS.ProcessEnv = process.env): BenchOptions[] {
  return jobArgv(f, cli).map((argv, i) => {
    const j = f.jobs[i]!;
    try {
      const o = parseBenchArgs(argv, env);
      if (o === 'help') throw new BenchUsageError('--help in a job file');
      if (o.sweep) throw new BenchUsageError(`a list for --${o.sweep} (one value per job in a job file)`);
      return o;
    } catch (err) {
      if (err instanceof BenchUsageError) throw new BenchUsageError(`${file}:${j.line}: [${j.name}]: ${err.message}`);
      throw err;
    }
  });
}

/** `mountless bench FILE [options]`: runs the file's jobs one after another, then one report (and one set of logs) for all. */
export async function runJobFile(file: string, cli: string[], io: BenchIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new BenchUsageError(`cannot read job file ${file}: ${(err as Error).message}`);
  }
  const options = jobOptions(parseJobFile(text, file, env), cli, file, env);
  const format = options[0]!.outputFormat;
  const sections: Array<{ o: BenchOptions; results: JobResult[] }> = [];
  for (const o of options) {
    const results: JobResult[] = [];
    const rc = await runBench({ ...o, outputFormat: format }, io, (r) => results.push(...r));
    if (rc !== 0) return rc;
    sections.push({ o, results });
  }
  await writeLogs(
    sections.flatMap((s) => s.results),
    (s) => io.stderr.write(`mountless bench: ${s}\n`),
  );
  if (format !== 'normal') {
    const now = new Date();
    const jobs = sections.flatMap((s, group) => fioJobs(s.results, s.o.groupReporting, { percentiles: s.o.percentiles, plus: format === 'json+', groupid: group }, s.results.map(() => group)));
    const out = { 'fio version': `mountless-${packageVersion()}`, timestamp: Math.floor(now.getTime() / 1000), timestamp_ms: now.getTime(), time: ctime(now), jobs };
    io.stdout.write(JSON.stringify(out, null, 2) + '\n');
  }
  return 0;
}
