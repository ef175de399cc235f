import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseNfsUrl } from '../url.js';
import type { JobSpec } from './options.js';
import type { DirectionResult, JobResult } from './result.js';

const run = promisify(execFile);

/**
 * The libnfs peer of `--compare libnfs`: a small C driver,
 * bench/peers/libnfs-bench.c, built on demand with gcc against the system's
 * libnfs (Debian: libnfs-dev), or the one under `--libnfs PREFIX` (with an
 * rpath to it), and cached as bench/peers/.build/libnfs-bench-<hash> (the hash
 * covers the source, the libnfs version and its flags, so any of them
 * changing rebuilds it). It lives in the source tree, not in the npm package: the
 * comparison runs from a checkout.
 */
const PEERS_DIR = fileURLToPath(new URL('../../bench/peers/', import.meta.url));
const SOURCE = PEERS_DIR + 'libnfs-bench.c';
const BUILD_DIR = PEERS_DIR + '.build/';

export class PeerUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PeerUnavailableError';
  }
}

/**
 * Which libnfs the driver builds against: the system's (pkg-config's search
 * path, PKG_CONFIG_PATH included), or the one installed under `prefix`
 * (`--libnfs PREFIX`, e.g. what ../shared/tools/build-libnfs7 makes).
 */
export interface LibnfsPeer {
  /** pkg-config's version: the release for Debian's 4.0 ("4.0.0"), the soname for 5.0 on (7.0 says "17.0.0"). */
  version: string;
  /** Where libnfs.so is; the driver gets it as its rpath, so a prefix outside the loader's path works. */
  libdir: string | undefined;
  cflags: string[];
  /** libnfs 6 and later read into the caller's buffer (nfs_pread_async(buf, count, offset)). */
  apiV2: boolean;
  /** "libnfs 7.0 (soname 17.0.0, /opt/libnfs7/lib)" style, for the log and the JSON output. */
  label: string;
}

/** libnfs 5.0 on installs its soname as pkg-config version: soname major - 10 is the release (16 → 6.0, 17 → 7.0). */
export function libnfsRelease(pcVersion: string, apiV2: boolean): string {
  const major = Number(pcVersion.split('.')[0]);
  if (apiV2 && major >= 16) return `${major - 10}.0`;
  return pcVersion;
}

function pkgEnv(prefix: string | undefined): NodeJS.ProcessEnv {
  if (!prefix) return process.env;
  const dirs = [`${prefix}/lib/pkgconfig`, `${prefix}/lib64/pkgconfig`, `${prefix}/lib/x86_64-linux-gnu/pkgconfig`];
  const rest = process.env.PKG_CONFIG_PATH;
  return { ...process.env, PKG_CONFIG_PATH: rest ? `${dirs.join(':')}:${rest}` : dirs.join(':') };
}

/** The libnfs the driver would build against, or throws PeerUnavailableError with what to install. */
export async function findLibnfs(prefix?: string): Promise<LibnfsPeer> {
  const env = pkgEnv(prefix);
  try {
    const version = (await run('pkg-config', ['--modversion', 'libnfs'], { env })).stdout.trim();
    const libdir = (await run('pkg-config', ['--variable=libdir', 'libnfs'], { env })).stdout.trim() || undefined;
    const cflags = (await run('pkg-config', ['--cflags', '--libs', 'libnfs'], { env })).stdout.trim().split(/\s+/).filter(Boolean);
    const includedir = (await run('pkg-config', ['--variable=includedir', 'libnfs'], { env })).stdout.trim();
    let apiV2 = false;
    try {
      apiV2 = /#define\s+LIBNFS_API_V2\b/.test(await readFile(`${includedir || '/usr/include'}/nfsc/libnfs.h`, 'utf8'));
    } catch {
      // header elsewhere: the build fails below if the API guess is wrong
    }
    const release = libnfsRelease(version, apiV2);
    const label = `libnfs ${release}${release !== version ? ` (soname ${version})` : ''}${libdir ? `, ${libdir}` : ''}`;
    return { version, libdir, cflags, apiV2, label };
  } catch {
    if (prefix) throw new PeerUnavailableError(`no libnfs under ${prefix} (looked for ${prefix}/lib/pkgconfig/libnfs.pc; ../shared/tools/build-libnfs7 ${prefix} builds 7.0 there)`);
    try {
      const v = (await run('dpkg-query', ['-W', '-f=${Version}', 'libnfs-dev'])).stdout.trim();
      if (v) return { version: v, libdir: undefined, cflags: ['-lnfs'], apiV2: false, label: `libnfs ${v}` };
    } catch {
      // neither pkg-config nor dpkg knows it
    }
  }
  throw new PeerUnavailableError('libnfs is not installed: --compare libnfs needs its headers and library (Debian/Ubuntu: apt-get install libnfs-dev gcc pkg-config)');
}

/** libnfs's version as installed ("4.0.0"), or throws PeerUnavailableError with what to install. */
export async function libnfsVersion(prefix?: string): Promise<string> {
  return (await findLibnfs(prefix)).version;
}

/**
 * Builds the driver unless a build of this source for this libnfs (version,
 * location and flags) is cached; returns its path. A version string alone
 * means the system's libnfs, as before.
 */
export async function buildLibnfsDriver(peer: LibnfsPeer | string): Promise<string> {
  const lib = typeof peer === 'string' ? await findLibnfs() : peer;
  if (!existsSync(SOURCE)) throw new PeerUnavailableError(`${SOURCE} is missing: --compare libnfs runs from a mountless source checkout`);
  const src = await readFile(SOURCE);
  const flags = [...lib.cflags, ...(lib.libdir ? [`-Wl,-rpath,${lib.libdir}`] : []), ...(lib.apiV2 ? ['-DLIBNFS_API_V2_CALLS'] : [])];
  const hash = createHash('sha256').update(src).update('\0' + lib.version + '\0' + flags.join(' ')).digest('hex').slice(0, 12);
  const bin = `${BUILD_DIR}libnfs-bench-${hash}`;
  if (existsSync(bin)) return bin;
  await mkdir(BUILD_DIR, { recursive: true });
  const tmp = `${bin}.${process.pid}.tmp`;
  try {
    await run('gcc', ['-O2', '-Wall', '-o', tmp, SOURCE, ...flags, '-lm']);
  } catch (err) {
    await rm(tmp, { force: true });
    const e = err as { code?: string; stderr?: string; message: string };
    if (e.code === 'ENOENT') throw new PeerUnavailableError('gcc is not installed: --compare libnfs builds a small C driver (apt-get install gcc)');
    throw new PeerUnavailableError(`building ${SOURCE} failed:\n${e.stderr ?? e.message}`);
  }
  await rename(tmp, bin);
  return bin;
}

/**
 * The mountless URL as libnfs spells it: the same host and path, with only
 * the arguments libnfs 4.x knows (uid, gid, nfsport, mountport). The others
 * (rsize, wsize, timeo, …) have no libnfs URL equivalent and are dropped.
 */
export function libnfsUrl(url: string): { url: string; dropped: string[] } {
  const u = parseNfsUrl(url);
  const q = new URLSearchParams();
  const dropped: string[] = [];
  if (u.options.uid !== undefined) q.set('uid', String(u.options.uid));
  if (u.options.gid !== undefined) q.set('gid', String(u.options.gid));
  const nfsport = u.options.nfsport ?? u.port;
  if (nfsport !== undefined) q.set('nfsport', String(nfsport));
  if (u.options.mountport !== undefined) q.set('mountport', String(u.options.mountport));
  for (const k of Object.keys(u.options)) if (!['uid', 'gid', 'nfsport', 'mountport', 'version'].includes(k)) dropped.push(k);
  const host = u.host.includes(':') ? `[${u.host}]` : u.host;
  const qs = q.toString();
  return { url: `nfs://${host}${u.path}${qs ? '?' + qs : ''}`, dropped };
}

/** Metadata workloads the driver runs; create and unlink change the tree, so each run needs it laid out anew. */
export const COMPARED_META: ReadonlySet<string> = new Set(['stat', 'create', 'unlink']);

/** The NFS version libnfs runs for a mountless URL: 4 (its 4.0) for any 4.x, else 3. */
export function libnfsVersionOf(url: string): 3 | 4 {
  return parseNfsUrl(url).options.version?.startsWith('4') ? 4 : 3;
}

/** The driver's command-line arguments for a job. */
export function driverArgs(spec: JobSpec, url: string): string[] {
  const a = ['--url', libnfsUrl(url).url, '--rw', spec.rw];
  if (COMPARED_META.has(spec.rw)) a.push('--dir', spec.filename.replace(/\/+$/, ''), '--nrfiles', String(spec.nrfiles));
  else a.push('--path', spec.filename, '--bs', String(spec.bs), '--size', String(spec.size), '--rwmixread', String(spec.rwmixread));
  a.push('--iodepth', String(spec.iodepth), '--numjobs', String(spec.numjobs), '--nconnect', String(spec.nconnect));
  a.push('--runtime', String(spec.runtime ?? 0), '--ramp_time', String(spec.rampTime), '--time_based', spec.timeBased ? '1' : '0');
  a.push('--number_ios', String(spec.numberIos));
  // libnfs has NFSv3 and NFSv4.0: a v4.x URL is compared with its 4.0, never silently with v3.
  if (libnfsVersionOf(url) === 4) a.push('--nfsversion', '4');
  return a;
}

interface DriverDirection {
  ios: number;
  bytes: number;
  clat: { min: number; max: number; mean: number; stddev: number; percentile: Record<string, number> };
}

interface DriverOutput {
  peer: 'libnfs';
  runtime_ns: number;
  read: DriverDirection;
  write: DriverDirection;
  cpu: { user_us: number; sys_us: number };
  rsize: number;
  wsize: number;
}

function direction(d: DriverDirection): DirectionResult {
  return { ios: d.ios, bytes: d.bytes, clat: { ...d.clat } };
}

/** Runs one job through the driver; the data file or tree must already be laid out. */
export async function runLibnfs(bin: string, spec: JobSpec, url: string, loop: number): Promise<JobResult> {
  const timeout = ((spec.runtime ?? 600) + spec.rampTime + 120) * 1000;
  let stdout: string;
  try {
    ({ stdout } = await run(bin, driverArgs(spec, url), { timeout, maxBuffer: 1 << 20 }));
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`libnfs driver failed: ${(e.stderr ?? '').trim() || e.message}`);
  }
  const o = JSON.parse(stdout) as DriverOutput;
  return {
    spec,
    peer: 'libnfs',
    loop,
    runtimeNs: o.runtime_ns,
    read: direction(o.read),
    write: direction(o.write),
    cpu: { userUs: o.cpu.user_us, systemUs: o.cpu.sys_us },
    rsize: o.rsize,
    wsize: o.wsize,
  };
}
