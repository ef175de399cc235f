import { InvalidArgError, invalidArgType } from './errors.js';
import { NfsClient } from './fs/client.js';
import { Nfs3Backend } from './nfs3/backend.js';
import { DEFAULTS, defaultIds, type ConnectOptions } from './options.js';
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
  'maxInFlight',
  'umask',
]);

function checkUint(name: string, v: unknown, max = 0xffffffff): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalidArgType(`options.${name}`, 'an integer', v);
  if (v < 0 || v > max) throw new InvalidArgError('ERR_OUT_OF_RANGE', `The value of "options.${name}" is out of range. It must be >= 0 && <= ${max}. Received ${v}`);
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
  const o: ConnectOptions = { ...u.options, ...options };
  for (const k of ['uid', 'gid', 'timeo', 'retrans', 'connectTimeout', 'rsize', 'wsize', 'maxInFlight'] as const) checkUint(k, o[k]);
  for (const k of ['nfsport', 'mountport', 'portmapPort'] as const) checkUint(k, o[k], 65535);
  checkUint('umask', o.umask, 0o777);
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
  if (version !== '3') {
    throw new InvalidArgError('ERR_INVALID_ARG_VALUE', `NFS version ${version} is not supported yet by this build; use version=3`);
  }
  const backend = await Nfs3Backend.mount({
    host: u.host,
    path: u.path,
    auth,
    nfsport: o.nfsport ?? u.port,
    mountport: o.mountport,
    portmapPort: o.portmapPort ?? DEFAULTS.portmapPort,
    connectTimeout: o.connectTimeout ?? DEFAULTS.connectTimeout,
    timeout: timeo * 100 * (retrans + 1),
    rsize: o.rsize,
    wsize: o.wsize,
    maxInFlight: o.maxInFlight ?? DEFAULTS.maxInFlight,
  });
  return new NfsClient(backend, settings);
}
