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

type Kind = 'uint' | 'port' | 'bool' | 'version' | 'gids' | 'xprtsec';
const ARGS: Record<string, Kind> = {
  version: 'version',
  uid: 'uint',
  gid: 'uint',
  gids: 'gids',
  nfsport: 'port',
  mountport: 'port',
  timeo: 'uint',
  retrans: 'uint',
  rsize: 'uint',
  wsize: 'uint',
  readonly: 'bool',
  noac: 'bool',
  soft: 'bool',
  tls: 'bool',
  xprtsec: 'xprtsec',
  hard: 'bool',
  actimeo: 'uint',
  acregmin: 'uint',
  acregmax: 'uint',
  acdirmin: 'uint',
  acdirmax: 'uint',
  connecttimeout: 'uint',
  maxinflight: 'uint',
  nconnect: 'uint',
};

/** AUTH_SYS carries at most 16 supplementary gids (RFC 5531 appendix A). */
const MAX_GIDS = 16;
const UINT = /^\d{1,10}$/;
const isUint32 = (s: string) => UINT.test(s) && Number(s) <= 0xffffffff;
const isPort = (s: string) => UINT.test(s) && Number(s) >= 1 && Number(s) <= 65535;

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
    // The WHATWG parser says only "Invalid URL"; name the commonest cause.
    const port = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*:(\d+)(?:[/?#]|$)/i.exec(url)?.[1];
    if (port !== undefined && !isPort(port)) throw bad(url, `port must be 1-65535, got ${port}`);
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
  const seen = new Set<string>();
  for (const [rawKey, value] of u.searchParams) {
    const key = rawKey.toLowerCase();
    const kind = ARGS[key];
    if (!kind) throw bad(url, `unknown argument '${rawKey}' (known: ${Object.keys(ARGS).join(', ')})`);
    // A repeated argument is ambiguous (which one wins differs between parsers).
    if (seen.has(key)) throw bad(url, `argument '${rawKey}' given more than once`);
    seen.add(key);
    const o = options as Record<string, unknown>;
    const name = key === 'connecttimeout' ? 'connectTimeout' : key === 'maxinflight' ? 'maxInFlight' : key;
    switch (kind) {
      case 'uint': {
        if (!isUint32(value)) throw bad(url, `${rawKey} must be an integer from 0 to 4294967295, got '${value}'`);
        o[name] = Number(value);
        break;
      }
      case 'port': {
        if (!isPort(value)) throw bad(url, `${rawKey} must be a port number from 1 to 65535, got '${value}'`);
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
        if (!parts.every(isUint32)) throw bad(url, `gids must be a comma-separated list of integers from 0 to 4294967295, got '${value}'`);
        if (parts.length > MAX_GIDS) throw bad(url, `gids may list at most ${MAX_GIDS} groups (AUTH_SYS), got ${parts.length}`);
        o[name] = parts.map(Number);
        break;
      }
      case 'xprtsec': {
        if (value !== 'tls' && value !== 'none') throw bad(url, `xprtsec must be tls or none (mtls: pass a client certificate in the tls option), got '${value}'`);
        o[name] = value;
        break;
      }
    }
  }
  let port: number | undefined;
  if (u.port) {
    if (!isPort(u.port)) throw bad(url, `port must be 1-65535, got ${u.port}`);
    port = Number(u.port);
    if (options.nfsport !== undefined && options.nfsport !== port) {
      throw bad(url, `the port (${port}) and nfsport (${options.nfsport}) disagree; both name the NFS port`);
    }
  }
  const out: NfsUrl = { host, path, options };
  if (port !== undefined) out.port = port;
  if (u.username) {
    try {
      out.user = decodeURIComponent(u.username);
    } catch {
      throw bad(url, 'bad percent-encoding in user name');
    }
  }
  return out;
}
