/**
 * `mountless bench` options, spelled and meant as fio spells them, so that
 * people's habits and scripts carry over. Both `--key=value` and
 * `--key value` are accepted; boolean options may be bare (`--time_based`) or
 * take 0/1 (`--direct=1`). Anything unknown or malformed is a usage error
 * (exit code 2), never ignored.
 */
import { parseBytes } from '../units.js';
import { FIO_PERCENTILES } from './histogram.js';

export const IO_RW = ['read', 'write', 'randread', 'randwrite', 'randrw'] as const;
export const META_RW = ['stat', 'create', 'unlink', 'readdir', 'mkdir'] as const;
export type IoRw = (typeof IO_RW)[number];
export type MetaRw = (typeof META_RW)[number];
export type Rw = IoRw | MetaRw;

/** The parameters that may be given as a comma-separated list: one job per value. */
export const SWEEPABLE = ['bs', 'iodepth', 'numjobs', 'nconnect'] as const;
export type SweepKey = (typeof SWEEPABLE)[number];

/** One job, every value resolved. */
export interface JobSpec {
  name: string;
  rw: Rw;
  /** Percent of randrw operations that are reads. */
  rwmixread: number;
  bs: number;
  iodepth: number;
  /** Bytes of the data file (IO workloads). */
  size: number;
  /** Seconds; undefined = until `size` bytes (or `number_ios`) are done. */
  runtime: number | undefined;
  /** Seconds of I/O before measuring starts. */
  rampTime: number;
  /** Run for `runtime` seconds, wrapping around the file, instead of stopping at `size`. */
  timeBased: boolean;
  /** Stop each job after this many operations (fio's number_ios); 0 = no such limit. */
  numberIos: number;
  numjobs: number;
  nconnect: number;
  direct: boolean;
  /** Data file (IO) or tree directory (metadata), absolute inside the export. */
  filename: string;
  /** Files (or directories) per job for metadata workloads. */
  nrfiles: number;
  /** The options as the user wrote them, for fio's "job options". */
  given: Record<string, string>;
  /** fio's --write_*_log files, when asked for. */
  logs: FioLogs | undefined;
}

/** fio's log options: a file prefix per log asked for, and the averaging windows. */
export interface FioLogs {
  bw?: string;
  iops?: string;
  /** Writes PREFIX_lat, PREFIX_clat and PREFIX_slat, as fio does. */
  lat?: string;
  hist?: string;
  /** log_avg_msec (fio's bw_avg_time, 500, when not given: bw and iops logs only). */
  avgMs: number;
  /** log_hist_msec. */
  histMs: number | undefined;
}

/** Which per-run tallies the engine keeps for a job's logs (fio-stats.ts). */
export function tallyOptions(spec: JobSpec): { logMs?: number; histMs?: number } {
  const l = spec.logs;
  if (!l) return {};
  return { ...(l.bw || l.iops || l.lat ? { logMs: l.avgMs } : {}), ...(l.hist ? { histMs: l.histMs! } : {}) };
}

/** fio's percentile options: which latencies get percentiles, and which. */
export interface PercentileOptions {
  list: number[];
  clat: boolean;
  lat: boolean;
  slat: boolean;
}

/** json+ is json with each latency histogram (`bins`) in fio's buckets. */
export type OutputFormat = 'normal' | 'json' | 'json+';

export interface BenchOptions {
  url: string;
  /** The job with every sweepable value as a list; expand() makes one JobSpec per point. */
  base: Omit<JobSpec, SweepKey>;
  lists: Record<SweepKey, number[]>;
  /** The parameter with more than one value, if any. */
  sweep: SweepKey | undefined;
  outputFormat: OutputFormat;
  percentiles: PercentileOptions;
  plot: string | undefined;
  compare: 'libnfs' | undefined;
  /** Prefix of the libnfs to compare with (its lib/pkgconfig), instead of the system's. */
  libnfs: string | undefined;
  loops: number;
  /** All jobs on this thread's event loop, sharing one client (the pre-thread way, for comparison). */
  single: boolean;
  /** One fio JSON entry (and one summary) for all jobs instead of one per job. */
  groupReporting: boolean;
  /** Set when this process is one worker of a run of several meeting on the export. */
  distributed: DistributedOptions | undefined;
}

/** --run-id, --worker-index, --workers: one worker (pod) of a run that meets on the export. */
export interface DistributedOptions {
  runId: string;
  /** 0-based; --worker-index or $JOB_COMPLETION_INDEX. */
  workerIndex: number;
  workers: number;
  /** Seconds to wait at the barrier for every worker to register. */
  barrierTimeout: number;
}

export class BenchUsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'BenchUsageError';
  }
}

export const USAGE = `usage: mountless bench [options]      (fio's option names and meanings)
       mountless bench JOBFILE [options]   a fio job file: [global] and job sections with these
                       options; jobs run one after another (each after the first says stonewall)

  --url URL            nfs://host/export (default: $NFS_URL); fio's spelling:
                       --ioengine=nfs --nfs_url=URL
  --name NAME          job name (default mountless)
  --filename PATH      file in the export (default /mountless-bench/NAME.dat);
                       for metadata workloads the tree's directory (default /mountless-bench/NAME.tree)
  --rw MODE            read write randread randwrite randrw | stat create unlink readdir mkdir
  --rwmixread PCT      reads in randrw, percent (default 50)
  --bs SIZE[,SIZE…]    block size: 4k 128k 1m … (default 4k)
  --iodepth N[,N…]     operations in flight per job (default 1)
  --size SIZE          data file size, laid out when missing or shorter (default 256m)
  --runtime SECS       stop after this long (30, 30s, 2m)
  --time_based         run for the whole runtime, wrapping around the file
  --ramp_time SECS     run this long before measuring (default 0)
  --number_ios N       stop each job after N operations
  --numjobs N[,N…]     concurrent jobs, each on its own thread and connection (default 1)
  --nconnect N[,N…]    TCP connections under the one mount (connect option nconnect) (default 1)
  --direct 0|1         bypass mountless's caches: connect with noac (default 0)
  --nrfiles N          files per job for metadata workloads (default 1000)
  --output-format normal|json|json+   json is fio's layout; json+ adds the latency
                       histograms in fio's buckets (fio_jsonplus_clat2csv reads them)
  --percentile_list P:P:…   percentiles to report (default fio's 1:5:10:…:99.99)
  --clat_percentiles 0|1  percentiles of completion latency (default 1)
  --lat_percentiles 0|1   percentiles of total latency (submission + completion) (default 0)
  --slat_percentiles 0|1  percentiles of submission latency (default 0)
  --write_bw_log PREFIX   fio's logs: PREFIX_bw.N.log (KiB/s), PREFIX_iops.N.log,
  --write_iops_log PREFIX PREFIX_lat/_clat/_slat.N.log (ns), PREFIX_clat_hist.N.log
  --write_lat_log PREFIX  (N = job number from 1); bare: the job name
  --write_hist_log PREFIX
  --log_avg_msec MS    average log entries over MS (bw/iops default 500; lat logs need it)
  --log_hist_msec MS   window of the histogram log
  --plot FILE.svg|.html  chart of a sweep: IOPS and p99 latency against the swept value
  --compare libnfs     run the same job through libnfs's async API, alternating
  --libnfs PREFIX      with --compare: the libnfs installed under PREFIX (e.g. libnfs 7.0
                       from build-libnfs7) instead of the system's
  --loops N            runs of each side with --compare (default 1)
  --single             run all jobs on the main thread, sharing one client (default: one
                       worker thread and client per job, as fio runs one process per job)
  --group_reporting    one result for all of a point's jobs (default: one per job, and their sum)

Many workers (pods) meeting on the export:
  --run-id ID          run directory /.mountless-bench/ID/ on the export
  --workers N          workers in the run; each waits until all N registered
  --worker-index I     this worker, 0 … N-1 (default: $JOB_COMPLETION_INDEX)
  --barrier-timeout SECS   give up waiting for the others this long after starting (default 600)

  mountless bench report ID [--url URL] [--output-format json] [--plot FILE]
                       merge the workers' results of run ID
  mountless bench k8s --run-id ID --workers N [--image IMG] [--secret NAME] [bench options]
                       print a Kubernetes Indexed Job that runs the bench on N pods

A comma-separated list for one of bs, iodepth, numjobs, nconnect runs one job per value (a sweep).
SIZE: 4k, 500m, 1g, or bytes; k/m/g/t are 1024-based as in fio (kb, KiB, Ki mean the same).`;

interface OptDef {
  /** prefix: a string that may be left out (fio's log options: the job name). */
  kind: 'string' | 'size' | 'int' | 'seconds' | 'bool' | 'enum' | 'prefix';
  list?: boolean;
  values?: readonly string[];
  min?: number;
  max?: number;
}

const OPTS: Record<string, OptDef> = {
  url: { kind: 'string' },
  name: { kind: 'string' },
  filename: { kind: 'string' },
  rw: { kind: 'enum', values: [...IO_RW, ...META_RW] },
  readwrite: { kind: 'enum', values: [...IO_RW, ...META_RW] },
  rwmixread: { kind: 'int', min: 0, max: 100 },
  rwmixwrite: { kind: 'int', min: 0, max: 100 },
  bs: { kind: 'size', list: true, min: 1, max: 64 * 2 ** 20 },
  blocksize: { kind: 'size', list: true, min: 1, max: 64 * 2 ** 20 },
  iodepth: { kind: 'int', list: true, min: 1, max: 4096 },
  size: { kind: 'size', min: 1 },
  runtime: { kind: 'seconds' },
  ramp_time: { kind: 'seconds' },
  time_based: { kind: 'bool' },
  number_ios: { kind: 'int', min: 1 },
  numjobs: { kind: 'int', list: true, min: 1, max: 256 },
  nconnect: { kind: 'int', list: true, min: 1, max: 16 },
  direct: { kind: 'bool' },
  nrfiles: { kind: 'int', min: 1, max: 1_000_000 },
  'output-format': { kind: 'enum', values: ['normal', 'json', 'json+'] },
  ioengine: { kind: 'string' },
  percentile_list: { kind: 'string' },
  clat_percentiles: { kind: 'bool' },
  lat_percentiles: { kind: 'bool' },
  slat_percentiles: { kind: 'bool' },
  write_bw_log: { kind: 'prefix' },
  write_iops_log: { kind: 'prefix' },
  write_lat_log: { kind: 'prefix' },
  write_hist_log: { kind: 'prefix' },
  log_avg_msec: { kind: 'int', min: 0, max: 3_600_000 },
  log_hist_msec: { kind: 'int', min: 1, max: 3_600_000 },
  stonewall: { kind: 'bool' },
  wait_for_previous: { kind: 'bool' },
  new_group: { kind: 'bool' },
  plot: { kind: 'string' },
  compare: { kind: 'enum', values: ['libnfs'] },
  libnfs: { kind: 'string' },
  loops: { kind: 'int', min: 1, max: 100 },
  group_reporting: { kind: 'bool' },
  single: { kind: 'bool' },
  'run-id': { kind: 'string' },
  'worker-index': { kind: 'int', min: 0, max: 99_999 },
  workers: { kind: 'int', min: 1, max: 100_000 },
  'barrier-timeout': { kind: 'seconds' },
  help: { kind: 'bool' },
};

/** fio's aliases: the second spelling is stored under the first. */
const ALIASES: Record<string, string> = { readwrite: 'rw', blocksize: 'bs', output_format: 'output-format', nfs_url: 'url', wait_for_previous: 'stonewall' };

/** fio sizes: one parser and one meaning for the whole project (src/units.ts): K/M/G/T/P are 1024-based. */
export function parseSize(s: string): number {
  try {
    return parseBytes(s);
  } catch {
    throw new Error(`invalid size '${s}' (use e.g. 4k, 128k, 1m, 256m, 1g; K/M/G are 1024-based)`);
  }
}

/** fio times: seconds by default, or with a unit: 500ms, 30s, 2m, 1h. */
export function parseSeconds(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/i.exec(s.trim());
  if (!m) throw new Error(`invalid time '${s}' (use e.g. 30, 30s, 2m)`);
  const mult = { ms: 0.001, s: 1, m: 60, h: 3600 }[(m[2] ?? 's').toLowerCase() as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * mult;
}

function parseInt10(s: string): number {
  if (!/^\d+$/.test(s.trim())) throw new Error(`invalid integer '${s}'`);
  return Number(s.trim());
}

function parseBool(s: string): boolean {
  if (s === '1' || s === 'true' || s === 'yes' || s === 'on') return true;
  if (s === '0' || s === 'false' || s === 'no' || s === 'off') return false;
  throw new Error(`invalid boolean '${s}' (use 0 or 1)`);
}

/** Formats a byte count as fio does in job options: 4k, 1m, 1536. */
export function formatSize(n: number): string {
  for (const [u, k] of [['p', 50], ['t', 40], ['g', 30], ['m', 20], ['k', 10]] as const) {
    if (n >= 2 ** k && n % 2 ** k === 0) return `${n / 2 ** k}${u}`;
  }
  return String(n);
}

/** Whether `key` (fio's spelling, aliases included) is a `mountless bench` option: what a job file may use. */
export function benchOptionKey(key: string): string | undefined {
  const k = ALIASES[key] ?? key;
  return OPTS[k] && k !== 'help' ? k : undefined;
}

/**
 * The job file among `mountless bench` arguments: the one argument that is
 * neither an option nor the value of one (`--rw read`), wherever it stands.
 */
export function splitJobFile(argv: string[]): { file: string | undefined; rest: string[] } {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) return { file: a, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
    if (a.includes('=')) continue;
    const def = OPTS[ALIASES[a.slice(2)] ?? a.slice(2)];
    const next = argv[i + 1];
    if (def && def.kind !== 'bool' && next !== undefined && !next.startsWith('--')) i++;
    else if (def?.kind === 'bool' && next !== undefined && /^(0|1|true|false|yes|no|on|off)$/.test(next)) i++;
  }
  return { file: undefined, rest: argv };
}

/** Splits argv into raw `key → value` pairs; a bare flag gets the value ''. */
export function tokenize(argv: string[], defs: Record<string, OptDef> = OPTS): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--') || a === '--') throw new BenchUsageError(`unexpected argument '${a}' (options are --name=value)`);
    const eq = a.indexOf('=');
    let key = (eq >= 0 ? a.slice(2, eq) : a.slice(2)).trim();
    if (ALIASES[key]) key = ALIASES[key]!;
    const def = defs[key];
    if (!def) throw new BenchUsageError(`unknown option '--${key}' (see mountless bench --help)`);
    let value: string;
    if (eq >= 0) value = a.slice(eq + 1);
    else if (def.kind === 'bool') {
      const next = argv[i + 1];
      value = next !== undefined && /^(0|1|true|false|yes|no|on|off)$/.test(next) ? argv[++i]! : '';
    } else if (def.kind === 'prefix') {
      const next = argv[i + 1];
      value = next !== undefined && !next.startsWith('--') ? argv[++i]! : '';
    } else {
      const next = argv[++i];
      if (next === undefined || next.startsWith('--')) throw new BenchUsageError(`option --${key} needs a value`);
      value = next;
    }
    if (out.has(key)) throw new BenchUsageError(`option --${key} given twice`);
    out.set(key, value);
  }
  return out;
}

function convert(key: string, def: OptDef, raw: string): number | string | boolean {
  switch (def.kind) {
    case 'string':
      if (raw === '') throw new Error('needs a value');
      return raw;
    case 'prefix':
      return raw;
    case 'bool':
      return raw === '' ? true : parseBool(raw);
    case 'enum':
      if (!def.values!.includes(raw)) throw new Error(`invalid value '${raw}' (one of: ${def.values!.join(', ')})`);
      return raw;
    case 'seconds': {
      const n = parseSeconds(raw);
      return n;
    }
    case 'size':
    case 'int': {
      const n = def.kind === 'size' ? parseSize(raw) : parseInt10(raw);
      if (def.min !== undefined && n < def.min) throw new Error(`'${raw}' is below the minimum ${def.kind === 'size' ? formatSize(def.min) : def.min}`);
      if (def.max !== undefined && n > def.max) throw new Error(`'${raw}' is above the maximum ${def.kind === 'size' ? formatSize(def.max) : def.max}`);
      return n;
    }
  }
  throw new Error(`bad option kind for ${key}`);
}

function value<T>(parsed: Map<string, unknown>, key: string, fallback: T): T {
  return parsed.has(key) ? (parsed.get(key) as T) : fallback;
}

/** Parses `mountless bench` arguments (those after the word `bench`). Throws BenchUsageError. */
export function parseBenchArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): BenchOptions | 'help' {
  const raw = tokenize(argv);
  if (raw.has('help')) return 'help';
  const parsed = new Map<string, unknown>();
  const lists = {} as Record<SweepKey, number[]>;
  for (const [key, text] of raw) {
    const def = OPTS[key]!;
    try {
      if (def.list) {
        const parts = text.split(',').map((s) => s.trim());
        if (parts.some((p) => p === '')) throw new Error(`invalid list '${text}'`);
        const vals = parts.map((p) => convert(key, def, p) as number);
        if (new Set(vals).size !== vals.length) throw new Error(`list '${text}' repeats a value`);
        lists[key as SweepKey] = vals;
      } else {
        parsed.set(key, convert(key, def, text));
      }
    } catch (err) {
      throw new BenchUsageError(`--${key}: ${(err as Error).message}`);
    }
  }
  const engine = value<string | undefined>(parsed, 'ioengine', undefined);
  if (engine !== undefined && engine !== 'nfs') {
    throw new BenchUsageError(`--ioengine=${engine}: mountless bench is an NFS client and has one engine, nfs (fio's nfs engine: --ioengine=nfs --nfs_url=nfs://host/export); run fio itself for ${engine}`);
  }
  const url = value<string | undefined>(parsed, 'url', undefined) ?? env.NFS_URL;
  if (!url) throw new BenchUsageError('no URL: pass --url nfs://host/export (or --nfs_url) or set NFS_URL');
  if (!/^nfs:\/\//i.test(url)) throw new BenchUsageError(`--url: '${url}' is not an nfs:// URL`);

  lists.bs ??= [4096];
  lists.iodepth ??= [1];
  lists.numjobs ??= [1];
  lists.nconnect ??= [1];
  const swept = SWEEPABLE.filter((k) => lists[k].length > 1);
  if (swept.length > 1) throw new BenchUsageError(`sweep one parameter at a time (lists given for ${swept.map((k) => '--' + k).join(' and ')})`);

  const rw = value<Rw>(parsed, 'rw', 'read');
  const isMeta = (META_RW as readonly string[]).includes(rw);
  const name = value(parsed, 'name', 'mountless');
  if (!/^[\w.-]+$/.test(name)) throw new BenchUsageError(`--name: '${name}' may hold only letters, digits, '.', '-' and '_'`);
  let rwmixread = value(parsed, 'rwmixread', 50);
  if (parsed.has('rwmixwrite')) {
    if (parsed.has('rwmixread')) throw new BenchUsageError('give --rwmixread or --rwmixwrite, not both');
    rwmixread = 100 - (parsed.get('rwmixwrite') as number);
  }
  const size = value(parsed, 'size', 256 * 2 ** 20);
  if (!isMeta) {
    const big = lists.bs.find((b) => b > size);
    if (big !== undefined) throw new BenchUsageError(`--bs ${formatSize(big)} is larger than --size ${formatSize(size)}`);
  }
  const runtime = value<number | undefined>(parsed, 'runtime', undefined);
  if (runtime !== undefined && runtime <= 0) throw new BenchUsageError('--runtime: must be more than 0 seconds');
  const timeBased = value(parsed, 'time_based', false);
  if (timeBased && runtime === undefined) throw new BenchUsageError('--time_based needs --runtime');
  let filename = value<string | undefined>(parsed, 'filename', undefined) ?? (isMeta ? `/mountless-bench/${name}.tree` : `/mountless-bench/${name}.dat`);
  if (!filename.startsWith('/')) filename = '/' + filename;
  if (/\/\.\.?(\/|$)/.test(filename)) throw new BenchUsageError(`--filename: '${filename}' may not contain '.' or '..' components`);
  if (filename === '/' && !isMeta) throw new BenchUsageError('--filename: / is a directory');
  const compare = value<'libnfs' | undefined>(parsed, 'compare', undefined);
  if (compare && !(IO_RW as readonly string[]).includes(rw) && !['stat', 'create', 'unlink'].includes(rw)) {
    throw new BenchUsageError(`--compare libnfs supports --rw ${IO_RW.join(', ')}, stat, create and unlink, not ${rw}`);
  }
  if (parsed.has('loops') && !compare) throw new BenchUsageError('--loops is for --compare');
  const plot = value<string | undefined>(parsed, 'plot', undefined);
  if (plot !== undefined && !/\.(svg|html?)$/i.test(plot)) throw new BenchUsageError(`--plot: '${plot}' must end in .svg or .html`);

  const distributed = parseDistributed(parsed, env, swept[0], compare);
  const percentiles = parsePercentiles(parsed);
  const logs = parseLogs(parsed, name);

  const given: Record<string, string> = {};
  for (const [k, v] of raw) if (!NOT_JOB_OPTIONS.has(k)) given[k] = v === '' ? '1' : v;
  given.name = name;
  given.rw = rw;
  given.filename = filename;

  return {
    url,
    base: {
      name,
      rw,
      rwmixread,
      size,
      runtime,
      rampTime: value(parsed, 'ramp_time', 0),
      timeBased,
      numberIos: value(parsed, 'number_ios', 0),
      direct: value(parsed, 'direct', false),
      filename,
      nrfiles: value(parsed, 'nrfiles', 1000),
      given,
      logs,
    },
    lists,
    sweep: swept[0],
    outputFormat: value(parsed, 'output-format', 'normal'),
    percentiles,
    plot,
    compare,
    libnfs: value<string | undefined>(parsed, 'libnfs', undefined),
    loops: value(parsed, 'loops', 1),
    single: value(parsed, 'single', false),
    groupReporting: value(parsed, 'group_reporting', false),
    distributed,
  };
}

function parsePercentiles(parsed: Map<string, unknown>): PercentileOptions {
  let list: number[] = [...FIO_PERCENTILES];
  const text = value<string | undefined>(parsed, 'percentile_list', undefined);
  if (text !== undefined) {
    // fio: colon-separated, each in (0, 100], at most 20 (FIO_IO_U_LIST_MAX_LEN).
    list = text.split(':').map((p) => {
      const n = /^\d+(\.\d+)?$/.test(p.trim()) ? Number(p) : NaN;
      if (!(n > 0 && n <= 100)) throw new BenchUsageError(`--percentile_list: '${p}' is not a percentile in (0, 100] (use e.g. 50:99:99.9)`);
      return n;
    });
    if (list.length > 20) throw new BenchUsageError(`--percentile_list: at most 20 percentiles, as fio (got ${list.length})`);
    list.sort((a, b) => a - b);
  }
  return { list, clat: value(parsed, 'clat_percentiles', true), lat: value(parsed, 'lat_percentiles', false), slat: value(parsed, 'slat_percentiles', false) };
}

function parseLogs(parsed: Map<string, unknown>, name: string): FioLogs | undefined {
  const prefix = (k: string) => (parsed.has(k) ? (parsed.get(k) as string) || name : undefined);
  const logs: FioLogs = { avgMs: value(parsed, 'log_avg_msec', 0) || 500, histMs: value<number | undefined>(parsed, 'log_hist_msec', undefined) };
  const bw = prefix('write_bw_log');
  const iops = prefix('write_iops_log');
  const lat = prefix('write_lat_log');
  const hist = prefix('write_hist_log');
  if (bw !== undefined) logs.bw = bw;
  if (iops !== undefined) logs.iops = iops;
  if (lat !== undefined) logs.lat = lat;
  if (hist !== undefined) logs.hist = hist;
  for (const p of [bw, iops, lat, hist]) if (p !== undefined && /(^|\/)\.\.?(\/|$)|\0/.test(p)) throw new BenchUsageError(`log prefix '${p}' may not hold '.' or '..' components`);
  if (lat !== undefined && !value(parsed, 'log_avg_msec', 0)) {
    throw new BenchUsageError('--write_lat_log needs --log_avg_msec MS: mountless logs latency averaged over windows, not every I/O as fio does without it');
  }
  if (hist !== undefined && logs.histMs === undefined) throw new BenchUsageError('--write_hist_log needs --log_hist_msec MS (the window of each histogram line)');
  if (logs.histMs !== undefined && hist === undefined) throw new BenchUsageError('--log_hist_msec is for --write_hist_log');
  if (parsed.has('log_avg_msec') && bw === undefined && iops === undefined && lat === undefined) throw new BenchUsageError('--log_avg_msec is for --write_bw_log, --write_iops_log or --write_lat_log');
  return bw ?? iops ?? lat ?? hist ? logs : undefined;
}

/** Options of the run as a whole, not of its job: left out of fio's "job options". */
const NOT_JOB_OPTIONS = new Set(['url', 'output-format', 'plot', 'compare', 'libnfs', 'loops', 'single', 'group_reporting', 'run-id', 'worker-index', 'workers', 'barrier-timeout']);

/** A run id names a directory on the export. */
export const RUN_ID = /^[A-Za-z0-9][\w.-]{0,127}$/;

function parseDistributed(parsed: Map<string, unknown>, env: NodeJS.ProcessEnv, sweep: SweepKey | undefined, compare: string | undefined): DistributedOptions | undefined {
  const runId = value<string | undefined>(parsed, 'run-id', undefined);
  if (runId === undefined) {
    for (const k of ['worker-index', 'workers', 'barrier-timeout']) if (parsed.has(k)) throw new BenchUsageError(`--${k} is for a run of several workers: give --run-id too`);
    return undefined;
  }
  if (!RUN_ID.test(runId)) throw new BenchUsageError(`--run-id: '${runId}' may hold only letters, digits, '.', '-' and '_' (at most 128)`);
  if (!parsed.has('workers')) throw new BenchUsageError('--run-id needs --workers N');
  const workers = parsed.get('workers') as number;
  let workerIndex = value<number | undefined>(parsed, 'worker-index', undefined);
  if (workerIndex === undefined) {
    const fromEnv = env.JOB_COMPLETION_INDEX;
    if (fromEnv === undefined || !/^\d+$/.test(fromEnv)) throw new BenchUsageError('no worker index: pass --worker-index I or set JOB_COMPLETION_INDEX (a Kubernetes Indexed Job sets it)');
    workerIndex = Number(fromEnv);
  }
  if (workerIndex >= workers) throw new BenchUsageError(`--worker-index ${workerIndex} is not below --workers ${workers}`);
  if (sweep) throw new BenchUsageError(`a run of several workers is one job: no list for --${sweep}`);
  if (compare) throw new BenchUsageError('--compare is not for a run of several workers');
  const barrierTimeout = value(parsed, 'barrier-timeout', 600);
  if (barrierTimeout <= 0) throw new BenchUsageError('--barrier-timeout: must be more than 0 seconds');
  return { runId, workerIndex, workers, barrierTimeout };
}

/** One JobSpec per point of the sweep (one, when nothing is swept). */
export function expandJobs(o: BenchOptions): JobSpec[] {
  const key = o.sweep;
  const points = key ? o.lists[key] : [0];
  return points.map((v) => {
    const pick = (k: SweepKey) => (k === key ? v : o.lists[k][0]!);
    const given = { ...o.base.given };
    if (key) given[key] = key === 'bs' ? formatSize(v) : String(v);
    return {
      ...o.base,
      name: key ? `${o.base.name}-${key}${key === 'bs' ? formatSize(v) : v}` : o.base.name,
      bs: pick('bs'),
      iodepth: pick('iodepth'),
      numjobs: pick('numjobs'),
      nconnect: pick('nconnect'),
      given,
    };
  });
}

export function isMetaRw(rw: Rw): rw is MetaRw {
  return (META_RW as readonly string[]).includes(rw);
}

/** `mountless bench report RUN`: merge a run's worker results. */
export interface ReportOptions {
  url: string;
  runId: string;
  outputFormat: 'normal' | 'json';
  plot: string | undefined;
  /** Seconds to wait for every worker's result (0: report what is there now). */
  wait: number;
}

export const REPORT_USAGE = `usage: mountless bench report RUN-ID [options]

  --url URL            nfs://host/export the workers used (default: $NFS_URL)
  --output-format normal|json   json: fio's layout, one jobs[] entry per worker, plus "aggregate"
  --plot FILE.svg|.html  IOPS and p99 latency per worker
  --wait SECS          wait up to this long for every worker's result (default 0)`;

const REPORT_OPTS: Record<string, OptDef> = {
  url: OPTS.url!,
  'output-format': OPTS['output-format']!,
  plot: OPTS.plot!,
  wait: { kind: 'seconds' },
  help: { kind: 'bool' },
};

/** Splits `argv` into options (as `mountless bench` spells them) and positionals. */
function split(argv: string[], defs: Record<string, OptDef>): { raw: Map<string, string>; positionals: string[] } {
  const options: string[] = [];
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) {
      positionals.push(a);
      continue;
    }
    options.push(a);
    const key = ALIASES[a.slice(2)] ?? a.slice(2);
    const def = defs[key];
    if (!a.includes('=') && def && def.kind !== 'bool' && argv[i + 1] !== undefined) options.push(argv[++i]!);
  }
  return { raw: tokenize(options, defs), positionals };
}

function convertAll(raw: Map<string, string>, defs: Record<string, OptDef>): Map<string, unknown> {
  const parsed = new Map<string, unknown>();
  for (const [key, text] of raw) {
    try {
      parsed.set(key, convert(key, defs[key]!, text));
    } catch (err) {
      throw new BenchUsageError(`--${key}: ${(err as Error).message}`);
    }
  }
  return parsed;
}

export function parseReportArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): ReportOptions | 'help' {
  const { raw, positionals } = split(argv, REPORT_OPTS);
  if (raw.has('help')) return 'help';
  const parsed = convertAll(raw, REPORT_OPTS);
  if (positionals.length !== 1) throw new BenchUsageError(`bench report takes one run id (got ${positionals.length ? positionals.join(' ') : 'none'})`);
  const runId = positionals[0]!;
  if (!RUN_ID.test(runId)) throw new BenchUsageError(`run id '${runId}' may hold only letters, digits, '.', '-' and '_'`);
  const url = value<string | undefined>(parsed, 'url', undefined) ?? env.NFS_URL;
  if (!url) throw new BenchUsageError('no URL: pass --url nfs://host/export or set NFS_URL');
  const plot = value<string | undefined>(parsed, 'plot', undefined);
  if (plot !== undefined && !/\.(svg|html?)$/i.test(plot)) throw new BenchUsageError(`--plot: '${plot}' must end in .svg or .html`);
  return { url, runId, outputFormat: value(parsed, 'output-format', 'normal'), plot, wait: value(parsed, 'wait', 0) };
}

/** `mountless bench k8s`: a Kubernetes Indexed Job for a run of several workers. */
export interface K8sOptions {
  runId: string;
  workers: number;
  image: string;
  /** Secret (key `url`) the pods take NFS_URL from, unless --url is given. */
  secret: string;
  url: string | undefined;
  namespace: string | undefined;
  /** The bench options passed through to every pod, as given. */
  benchArgs: string[];
  /** Jobs per pod (the pods' CPU request). */
  numjobs: number;
}

export const K8S_USAGE = `usage: mountless bench k8s --run-id ID --workers N [options] [bench options]

Prints a Kubernetes Indexed Job (completionMode Indexed, parallelism = completions = N,
non-root, no capabilities) whose pods run \`mountless bench\` as workers 0 … N-1 of run ID,
and a second Job that waits for their results and prints the merged report.

  --image IMAGE        container image with mountless (default mountless:latest,
                       built from examples/kubernetes/Dockerfile)
  --secret NAME        Secret whose key "url" holds the nfs:// URL (default mountless-nas)
  --url URL            put this URL in the manifest instead of a Secret reference
  --namespace NS       metadata.namespace of both Jobs
  bench options        --rw, --bs, --iodepth, --numjobs, --runtime, … as for mountless bench`;

const K8S_OWN = new Set(['image', 'secret', 'namespace', 'url', 'run-id', 'workers', 'help']);

export function parseK8sArgs(argv: string[]): K8sOptions | 'help' {
  const own = new Map<string, string>();
  const pass: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const key = a.startsWith('--') ? (eq >= 0 ? a.slice(2, eq) : a.slice(2)) : '';
    if (!K8S_OWN.has(key)) {
      pass.push(a);
      continue;
    }
    if (key === 'help') return 'help';
    const v = eq >= 0 ? a.slice(eq + 1) : argv[++i];
    if (v === undefined || v === '') throw new BenchUsageError(`option --${key} needs a value`);
    if (own.has(key)) throw new BenchUsageError(`option --${key} given twice`);
    own.set(key, v);
  }
  const runId = own.get('run-id');
  if (!runId) throw new BenchUsageError('bench k8s needs --run-id ID');
  if (!RUN_ID.test(runId)) throw new BenchUsageError(`--run-id: '${runId}' may hold only letters, digits, '.', '-' and '_'`);
  const w = own.get('workers');
  if (!w) throw new BenchUsageError('bench k8s needs --workers N');
  let workers: number;
  try {
    workers = convert('workers', OPTS.workers!, w) as number;
  } catch (err) {
    throw new BenchUsageError(`--workers: ${(err as Error).message}`);
  }
  for (const k of ['worker-index', 'output-format', 'plot', 'compare', 'loops']) {
    if (pass.some((a) => a === `--${k}` || a.startsWith(`--${k}=`))) throw new BenchUsageError(`--${k} is not for bench k8s (each pod's worker index comes from the Job)`);
  }
  // The pods' options are checked here, as worker 0 would parse them, so a typo fails now and not in N pods.
  const url = own.get('url');
  const probe = parseBenchArgs([...pass, '--run-id', runId, '--workers', String(workers)], { NFS_URL: url ?? 'nfs://placeholder/export', JOB_COMPLETION_INDEX: '0' });
  if (probe === 'help') return 'help';
  const namespace = own.get('namespace');
  return { runId, workers, image: own.get('image') ?? 'mountless:latest', secret: own.get('secret') ?? 'mountless-nas', url, namespace, benchArgs: pass, numjobs: probe.lists.numjobs[0]! };
}
