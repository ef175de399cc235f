import { InvalidArgError, invalidArgType, NfsStatusError, toFsError } from './errors.js';
import { NfsClient } from './fs/client.js';
import type { Backend } from './fs/backend.js';
import { CachingBackend } from './cache/caching-backend.js';
import { ReadonlyBackend } from './core/readonly.js';
import { DEFAULT_POLICY, type CachePolicy } from './cache/policy.js';
import { Nfs3Backend } from './nfs3/backend.js';
import { Nfs4Backend } from './nfs4/backend.js';
import { DEFAULTS, defaultIds, NFS_VERSIONS, type ConnectOptions } from './options.js';
import { authSys } from './rpc/auth.js';
import { parseNfsUrl } from './url.js';

const KNOWN_OPTIONS = new Set([
  'version',
  'uid',
  'gid',
  'gids',
  'machineName',
  'nfsport',
  'mountport',
  'portmapPort',
  'timeo',
  'retrans',
  'connectTimeout',
  'rsize',
  'wsize',
  'readonly',
  'noac',
  'soft',
  'tls',
  'xprtsec',
  'hard',
  'actimeo',
  'acregmin',
  'acregmax',
  'acdirmin',
  'acdirmax',
  'maxInFlight',
  'nconnect',
  'umask',
]);

function checkUint(name: string, v: unknown, max = 0xffffffff, min = 0): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalidArgType(`options.${name}`, 'an integer', v);
  if (v < min || v > max) throw new InvalidArgError('ERR_OUT_OF_RANGE', `The value of "options.${name}" is out of range. It must be >= ${min} && <= ${max}. Received ${v}`);
}

function checkOptions(o: ConnectOptions): void {
  for (const k of ['uid', 'gid', 'timeo', 'retrans', 'connectTimeout', 'rsize', 'wsize'] as const) checkUint(k, o[k]);
  if (o.timeo === 0) throw new InvalidArgError('ERR_OUT_OF_RANGE', 'The value of "options.timeo" is out of range. It must be >= 1 (tenths of a second). Received 0');
  for (const k of ['nfsport', 'mountport', 'portmapPort'] as const) checkUint(k, o[k], 65535, 1);
  checkUint('maxInFlight', o.maxInFlight, 0xffffffff, 1);
  checkUint('umask', o.umask, 0o777);
  if (o.version !== undefined) {
    if (typeof o.version !== 'string') throw invalidArgType('options.version', 'of type string', o.version);
    if (!NFS_VERSIONS.includes(o.version)) {
      throw new InvalidArgError('ERR_INVALID_ARG_VALUE', `The property 'options.version' must be one of: ${NFS_VERSIONS.map((v) => `'${v}'`).join(', ')}. Received '${o.version}'`);
    }
  }
  if (o.gids !== undefined) {
    if (!Array.isArray(o.gids)) throw invalidArgType('options.gids', 'an instance of Array', o.gids);
    o.gids.forEach((g, i) => checkUint(`gids[${i}]`, g));
    // AUTH_SYS carries at most 16 (RFC 5531 appendix A).
    if (o.gids.length > 16) throw new InvalidArgError('ERR_OUT_OF_RANGE', `The length of "options.gids" is out of range. It must be <= 16. Received ${o.gids.length}`);
  }
  if (o.machineName !== undefined && typeof o.machineName !== 'string') throw invalidArgType('options.machineName', 'of type string', o.machineName);
  if (o.readonly !== undefined && typeof o.readonly !== 'boolean') throw invalidArgType('options.readonly', 'of type boolean', o.readonly);
  for (const k of ['noac', 'soft', 'hard'] as const) if (o[k] !== undefined && typeof o[k] !== 'boolean') throw invalidArgType(`options.${k}`, 'of type boolean', o[k]);
  if (o.tls !== undefined && typeof o.tls !== 'boolean' && (o.tls === null || typeof o.tls !== 'object')) throw invalidArgType('options.tls', 'of type boolean or object', o.tls);
  if (o.nconnect !== undefined && (!Number.isInteger(o.nconnect) || o.nconnect < 1 || o.nconnect > 16)) {
    throw new InvalidArgError('ERR_OUT_OF_RANGE', `The value of "options.nconnect" is out of range. It must be an integer >= 1 && <= 16. Received ${o.nconnect}`);
  }
  if (o.xprtsec !== undefined && o.xprtsec !== 'tls' && o.xprtsec !== 'none') throw new InvalidArgError('ERR_INVALID_ARG_VALUE', `options.xprtsec must be 'tls' or 'none'. Received ${String(o.xprtsec)}`);
  if (o.soft && o.hard) throw new InvalidArgError('ERR_INVALID_ARG_VALUE', 'Options soft and hard exclude each other');
  for (const k of ['actimeo', 'acregmin', 'acregmax', 'acdirmin', 'acdirmax'] as const) checkUint(k, o[k], 3600);
}

/** The cache timeouts from noac/actimeo/ac* options, nfs(5) style; undefined when caching is off. */
export function cachePolicy(o: ConnectOptions): CachePolicy | undefined {
  if (o.noac) return undefined;
  const all = o.actimeo;
  const p: CachePolicy = {
    ...DEFAULT_POLICY,
    ...(all !== undefined ? { acregmin: all, acregmax: all, acdirmin: all, acdirmax: all } : {}),
  };
  if (o.acregmin !== undefined) p.acregmin = o.acregmin;
  if (o.acregmax !== undefined) p.acregmax = o.acregmax;
  if (o.acdirmin !== undefined) p.acdirmin = o.acdirmin;
  if (o.acdirmax !== undefined) p.acdirmax = o.acdirmax;
  p.acregmax = Math.max(p.acregmax, p.acregmin);
  p.acdirmax = Math.max(p.acdirmax, p.acdirmin);
  return p.acregmax === 0 && p.acdirmax === 0 ? undefined : p;
}

/**
 * Mounts `url` and returns a client with node:fs/promises methods.
 *
 *   const nfs = await connect('nfs://server/export?version=3');
 *   await nfs.writeFile('/hello.txt', 'hi');
 *
 * Options passed here override the URL's query arguments.
 */
export async function connect(url: string, options: ConnectOptions = {}): Promise<NfsClient> {
  const u = parseNfsUrl(url);
  if (options === null || typeof options !== 'object') throw invalidArgType('options', 'of type object', options);
  for (const k of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(k)) throw new InvalidArgError('ERR_INVALID_ARG_VALUE', `Unknown option '${k}' (known: ${[...KNOWN_OPTIONS].join(', ')})`);
  }
  // An option set to undefined means "not given": it leaves the URL's value in place.
  const o: ConnectOptions = { ...u.options };
  for (const [k, v] of Object.entries(options)) if (v !== undefined) (o as Record<string, unknown>)[k] = v;
  checkOptions(o);
  const version = o.version ?? DEFAULTS.version;
  const ids = defaultIds();
  const auth = authSys({
    uid: o.uid ?? ids.uid,
    gid: o.gid ?? ids.gid,
    gids: o.gids ?? [],
    ...(o.machineName !== undefined ? { machineName: o.machineName } : {}),
  });
  const timeo = o.timeo ?? DEFAULTS.timeo;
  const retrans = o.retrans ?? DEFAULTS.retrans;
  const settings = { umask: o.umask ?? process.umask(), readonly: o.readonly ?? DEFAULTS.readonly };
  const retry = { timeo: timeo * 100, retrans, hard: !o.soft };
  // With xprtsec=tls the `tls` object (if any) carries the CA and client certificate for the STARTTLS handshake.
  const tlsConf = o.tls === true ? {} : o.tls || undefined;
  const xprtsec = o.xprtsec === 'tls' ? (tlsConf ?? {}) : undefined;
  const tls = xprtsec ? undefined : tlsConf;
  let backend: Backend;
  try {
    if (version === '3') {
      backend = await Nfs3Backend.mount({
        host: u.host,
        path: u.path,
        auth,
        nfsport: o.nfsport ?? u.port,
        mountport: o.mountport,
        portmapPort: o.portmapPort ?? DEFAULTS.portmapPort,
        connectTimeout: o.connectTimeout ?? DEFAULTS.connectTimeout,
        timeout: timeo * 100 * (retrans + 1),
        retry,
        tls,
        xprtsec,
        rsize: o.rsize,
        wsize: o.wsize,
        maxInFlight: o.maxInFlight ?? DEFAULTS.maxInFlight,
        nconnect: o.nconnect,
      });
    } else {
      // NFSv4 needs neither rpcbind nor MOUNT: one port, the pseudo-fs path walked in one COMPOUND.
      backend = await Nfs4Backend.mount({
        host: u.host,
        path: u.path,
        auth,
        port: o.nfsport ?? u.port ?? 2049,
        minorVersion: version === '4' ? 'auto' : (Number(version.slice(2)) as 0 | 1 | 2),
        connectTimeout: o.connectTimeout ?? DEFAULTS.connectTimeout,
        timeout: timeo * 100 * (retrans + 1),
        retry,
        tls,
        xprtsec,
        nconnect: o.nconnect,
        rsize: o.rsize,
        wsize: o.wsize,
        maxInFlight: Math.min(o.maxInFlight ?? 64, 1024),
      });
    }
  } catch (err) {
    // A path below the export is looked up with NFS calls; report their
    // failure as mount(2) would: ENOENT/ENOTDIR/EACCES naming the path.
    if (err instanceof NfsStatusError) throw toFsError(err, 'mount', u.path);
    throw err;
  }
  // Below the caches (which the fs layer must reach to invalidate), above the wire: every caller passes through it.
  if (settings.readonly) backend = new ReadonlyBackend(backend);
  const policy = cachePolicy(o);
  return new NfsClient(policy ? new CachingBackend(backend, policy) : backend, settings);
}
