import { isIP } from 'node:net';
import { parseBytes } from '../units.js';

/**
 * Every sidecar setting in one place, with its default, its flag and its
 * environment variable. A flag wins over the environment.
 */
export interface SidecarConfig {
  /** nfs:// URL of the volume root (a directory in an export). --url, MOUNTLESS_URL or NFS_URL. */
  url: string;
  /** HTTP address. --listen, MOUNTLESS_LISTEN. Default 127.0.0.1:8080. */
  listen: HostPort;
  /** Admin address (/healthz, /readyz, /metrics); none when undefined. --admin-listen, MOUNTLESS_ADMIN_LISTEN. */
  adminListen: HostPort | undefined;
  /** Shared secret for Bearer/Basic auth. --token-file, MOUNTLESS_TOKEN_FILE, MOUNTLESS_TOKEN. */
  token: string | undefined;
  /** Refuse every method that writes. --read-only, MOUNTLESS_READ_ONLY. */
  readOnly: boolean;
  /** Largest request body (PUT) in bytes. --max-body, MOUNTLESS_MAX_BODY. Default 1 GiB. */
  maxBody: number;
  /** Requests handled at once; more get 503. --max-concurrent, MOUNTLESS_MAX_CONCURRENT. Default 256. */
  maxConcurrent: number;
  /** ms to receive a request's headers. --header-timeout, MOUNTLESS_HEADER_TIMEOUT. Default 20 s. */
  headerTimeout: number;
  /** ms a connection may sit with no bytes moving (mid-request or between requests). --idle-timeout, MOUNTLESS_IDLE_TIMEOUT. Default 60 s. */
  idleTimeout: number;
  /** ms a kept-alive connection waits for its next request. --keep-alive-timeout, MOUNTLESS_KEEP_ALIVE_TIMEOUT. Default 5 s. */
  keepAliveTimeout: number;
  /** ms to let in-flight requests finish on SIGTERM/SIGINT. --drain-timeout, MOUNTLESS_DRAIN_TIMEOUT. Default 30 s. */
  drainTimeout: number;
  /** Longest WebDAV lock timeout granted, in seconds. --max-lock-timeout, MOUNTLESS_MAX_LOCK_TIMEOUT. Default 3600. */
  maxLockTimeout: number;
  /** One JSON line per request on stderr. --log json|off, MOUNTLESS_LOG. Default json. */
  log: 'json' | 'off';
}

export interface HostPort {
  host: string;
  port: number;
}

export const DEFAULT_LISTEN: HostPort = { host: '127.0.0.1', port: 8080 };

export const CONFIG_DEFAULTS = {
  maxBody: 1024 ** 3,
  maxConcurrent: 256,
  headerTimeout: 20_000,
  idleTimeout: 60_000,
  keepAliveTimeout: 5_000,
  drainTimeout: 30_000,
  maxLockTimeout: 3600,
  log: 'json' as const,
};

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** `host:port`, `[v6]:port`, `:port` or a bare port. */
export function parseHostPort(s: string, what: string): HostPort {
  let host: string;
  let port: string;
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(s);
  if (v6) [host, port] = [v6[1]!, v6[2]!];
  else if (/^\d+$/.test(s)) [host, port] = [DEFAULT_LISTEN.host, s];
  else {
    const k = s.lastIndexOf(':');
    if (k < 0) throw new ConfigError(`${what}: expected host:port, got '${s}'`);
    [host, port] = [s.slice(0, k) || DEFAULT_LISTEN.host, s.slice(k + 1)];
  }
  const n = Number(port);
  if (!/^\d+$/.test(port) || n > 65535) throw new ConfigError(`${what}: bad port in '${s}'`);
  return { host, port: n };
}

/** Whether an address only accepts connections from this machine. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (h.startsWith('::ffff:')) return h.slice(7).startsWith('127.');
  return false;
}

/** `1024`, `64k`, `10M`, `1G`, `1GiB`: bytes, K/M/G 1024-based (the one parser in src/units.ts). */
export function parseSize(s: string, what: string): number {
  try {
    return parseBytes(s);
  } catch {
    throw new ConfigError(`${what}: expected a size like 512k, 10M or 1G (1024-based), got '${s}'`);
  }
}

/** `500ms`, `30s`, `5m`, `1h`, or a bare number of seconds: milliseconds. */
export function parseDuration(s: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/i.exec(s.trim());
  if (!m) throw new ConfigError(`${what}: expected a duration like 500ms, 30s or 5m, got '${s}'`);
  const mult = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's').toLowerCase()]!;
  return Math.round(Number(m[1]) * mult);
}

function parseBool(s: string, what: string): boolean {
  if (/^(1|true|yes|on)$/i.test(s)) return true;
  if (/^(0|false|no|off|)$/i.test(s)) return false;
  throw new ConfigError(`${what}: expected true or false, got '${s}'`);
}

function parseUint(s: string, what: string, min = 0): number {
  if (!/^\d+$/.test(s.trim()) || Number(s) < min) throw new ConfigError(`${what}: expected an integer >= ${min}, got '${s}'`);
  return Number(s);
}

/** Flag name → environment variable, for the help text and for resolve(). */
export const ENV_NAMES: Record<string, string> = {
  url: 'MOUNTLESS_URL',
  listen: 'MOUNTLESS_LISTEN',
  'admin-listen': 'MOUNTLESS_ADMIN_LISTEN',
  'token-file': 'MOUNTLESS_TOKEN_FILE',
  'read-only': 'MOUNTLESS_READ_ONLY',
  'max-body': 'MOUNTLESS_MAX_BODY',
  'max-concurrent': 'MOUNTLESS_MAX_CONCURRENT',
  'header-timeout': 'MOUNTLESS_HEADER_TIMEOUT',
  'idle-timeout': 'MOUNTLESS_IDLE_TIMEOUT',
  'keep-alive-timeout': 'MOUNTLESS_KEEP_ALIVE_TIMEOUT',
  'drain-timeout': 'MOUNTLESS_DRAIN_TIMEOUT',
  'max-lock-timeout': 'MOUNTLESS_MAX_LOCK_TIMEOUT',
  log: 'MOUNTLESS_LOG',
};

/**
 * Builds the configuration from flags (as parsed: string values, `true` for
 * bare booleans) and an environment. `readFile` reads the token file.
 * Throws ConfigError for anything wrong, including a non-loopback listen
 * address without a token.
 */
export async function resolveConfig(flags: ReadonlyMap<string, string | true>, env: NodeJS.ProcessEnv, readFile: (path: string) => Promise<string>): Promise<SidecarConfig> {
  const get = (flag: string): string | undefined => {
    const v = flags.get(flag);
    if (v === true) return 'true';
    if (v !== undefined) return v;
    const e = env[ENV_NAMES[flag]!];
    return e === undefined || e === '' ? undefined : e;
  };
  const url = get('url') ?? (env.NFS_URL || undefined);
  if (!url) throw new ConfigError('no volume URL: pass --url nfs://host/export[/dir] or set MOUNTLESS_URL (or NFS_URL)');
  const listen = get('listen') !== undefined ? parseHostPort(get('listen')!, '--listen') : DEFAULT_LISTEN;
  const adminRaw = get('admin-listen');
  const adminListen = adminRaw !== undefined ? parseHostPort(adminRaw, '--admin-listen') : undefined;
  let token: string | undefined;
  const tokenFile = get('token-file');
  if (tokenFile !== undefined) {
    try {
      token = (await readFile(tokenFile)).trim();
    } catch (err) {
      throw new ConfigError(`--token-file ${tokenFile}: ${(err as Error).message}`);
    }
    if (token === '') throw new ConfigError(`--token-file ${tokenFile}: the file is empty`);
  } else if (env.MOUNTLESS_TOKEN) token = env.MOUNTLESS_TOKEN.trim();
  if (token === '') token = undefined;
  if (!token && !isLoopback(listen.host)) {
    throw new ConfigError(`refusing to listen on ${listen.host} without a token: anyone who can reach it could read and write the volume; set --token-file or MOUNTLESS_TOKEN, or listen on 127.0.0.1`);
  }
  const str = (flag: string) => get(flag);
  const log = str('log') ?? CONFIG_DEFAULTS.log;
  if (log !== 'json' && log !== 'off') throw new ConfigError(`--log: expected json or off, got '${log}'`);
  return {
    url,
    listen,
    adminListen,
    token,
    readOnly: str('read-only') !== undefined ? parseBool(str('read-only')!, '--read-only') : false,
    maxBody: str('max-body') !== undefined ? parseSize(str('max-body')!, '--max-body') : CONFIG_DEFAULTS.maxBody,
    maxConcurrent: str('max-concurrent') !== undefined ? parseUint(str('max-concurrent')!, '--max-concurrent', 1) : CONFIG_DEFAULTS.maxConcurrent,
    headerTimeout: str('header-timeout') !== undefined ? parseDuration(str('header-timeout')!, '--header-timeout') : CONFIG_DEFAULTS.headerTimeout,
    idleTimeout: str('idle-timeout') !== undefined ? parseDuration(str('idle-timeout')!, '--idle-timeout') : CONFIG_DEFAULTS.idleTimeout,
    keepAliveTimeout: str('keep-alive-timeout') !== undefined ? parseDuration(str('keep-alive-timeout')!, '--keep-alive-timeout') : CONFIG_DEFAULTS.keepAliveTimeout,
    drainTimeout: str('drain-timeout') !== undefined ? parseDuration(str('drain-timeout')!, '--drain-timeout') : CONFIG_DEFAULTS.drainTimeout,
    maxLockTimeout: str('max-lock-timeout') !== undefined ? parseUint(str('max-lock-timeout')!, '--max-lock-timeout', 1) : CONFIG_DEFAULTS.maxLockTimeout,
    log,
  };
}
