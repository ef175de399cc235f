import { InvalidArgError } from './errors.js';
import { NFS_VERSIONS, type ConnectOptions, type NfsVersion } from './options.js';

/** An nfs:// URL taken apart: where to connect, which path, and the options it carries. */
export interface NfsUrl {
  host: string;
  /** The URL's port is the NFS port, like `nfsport`. */
  port?: number;
  user?: string;
  /** Absolute path on the server: an export, or a directory inside one. */
  path: string;
  options: ConnectOptions;
}

type Kind = 'uint' | 'bool' | 'version' | 'gids';
const ARGS: Record<string, Kind> = {
  version: 'version',
  uid: 'uint',
  gid: 'uint',
  gids: 'gids',
  nfsport: 'uint',
  mountport: 'uint',
  timeo: 'uint',
  retrans: 'uint',
  rsize: 'uint',
  wsize: 'uint',
  readonly: 'bool',
  connecttimeout: 'uint',
  maxinflight: 'uint',
};

function bad(url: string, why: string): InvalidArgError {
  return new InvalidArgError('ERR_INVALID_URL', `Invalid NFS URL '${url}': ${why}`);
}

/**
 * Parses `nfs://[user@]host[:port]/export/path?version=&uid=&gid=&nfsport=&mountport=&timeo=&retrans=&rsize=&wsize=&readonly`
 * as libnfs spells it. Unknown arguments and malformed values are errors, not ignored.
 */
export function parseNfsUrl(url: string): NfsUrl {
  if (typeof url !== 'string') throw new InvalidArgError('ERR_INVALID_ARG_TYPE', `The "url" argument must be of type string. Received ${typeof url}`);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw bad(url, 'not a URL');
  }
  if (u.protocol !== 'nfs:') throw bad(url, `scheme must be nfs:, got ${u.protocol}`);
  if (!u.hostname) throw bad(url, 'no host');
  if (u.password) throw bad(url, 'passwords are not supported');
  if (u.hash) throw bad(url, 'fragments are not supported');
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  let path: string;
  try {
    path = decodeURIComponent(u.pathname || '/');
  } catch {
    throw bad(url, 'bad percent-encoding in path');
  }
  if (path.includes('\0')) throw bad(url, 'NUL in path');
  const options: ConnectOptions = {};
  for (const [rawKey, value] of u.searchParams) {
    const key = rawKey.toLowerCase();
    const kind = ARGS[key];
    if (!kind) throw bad(url, `unknown argument '${rawKey}' (known: ${Object.keys(ARGS).join(', ')})`);
    const o = options as Record<string, unknown>;
    const name = key === 'connecttimeout' ? 'connectTimeout' : key === 'maxinflight' ? 'maxInFlight' : key;
    switch (kind) {
      case 'uint': {
        if (!/^\d{1,10}$/.test(value) || Number(value) > 0xffffffff) throw bad(url, `${rawKey} must be a non-negative integer, got '${value}'`);
        o[name] = Number(value);
        break;
      }
      case 'bool': {
        if (value === '' || value === '1' || value === 'true' || value === 'yes') o[name] = true;
        else if (value === '0' || value === 'false' || value === 'no') o[name] = false;
        else throw bad(url, `${rawKey} must be 1/0/true/false, got '${value}'`);
        break;
      }
      case 'version': {
        if (!(NFS_VERSIONS as readonly string[]).includes(value)) throw bad(url, `version must be one of ${NFS_VERSIONS.join(', ')}, got '${value}'`);
        o[name] = value as NfsVersion;
        break;
      }
      case 'gids': {
        const parts = value.split(',').filter((s) => s !== '');
        if (!parts.every((p) => /^\d{1,10}$/.test(p))) throw bad(url, `gids must be a comma-separated list of integers, got '${value}'`);
        o[name] = parts.map(Number);
        break;
      }
    }
  }
  let port: number | undefined;
  if (u.port) port = Number(u.port);
  const out: NfsUrl = { host, path, options };
  if (port !== undefined) out.port = port;
  if (u.username) out.user = decodeURIComponent(u.username);
  return out;
}
