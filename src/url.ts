import { InvalidArgError } from './errors.js';
import { parseUrlValue, URL_KEYS, type ConnectOptions } from './options.js';

/** An nfs:// URL taken apart: where to connect, which path, and the options it carries. */
export interface NfsUrl {
  /** Host name or IP address (IPv6 without brackets, with its `%zone` if it had one). */
  host: string;
  /** The URL's port is the NFS port, like `nfsport`. */
  port?: number;
  /** The user part (`nfs://user@host/…`): the Kerberos principal for `sec=krb5*`. */
  user?: string;
  /** Absolute path on the server: an export, or a directory inside one. */
  path: string;
  /** The query arguments, parsed and checked as connect() options. */
  options: ConnectOptions;
}

const UINT = /^\d{1,10}$/;
const isPort = (s: string) => UINT.test(s) && Number(s) >= 1 && Number(s) <= 65535;

function bad(url: string, why: string): InvalidArgError {
  return new InvalidArgError('ERR_INVALID_URL', `Invalid NFS URL '${url}': ${why}`);
}

/**
 * Parses `nfs://[user@]host[:port]/export/path?version=&uid=&gid=&nfsport=&mountport=&timeo=&retrans=&rsize=&wsize=&readonly`
 * as libnfs spells it. Unknown arguments and malformed values are errors, not ignored.
 *
 * @throws {@link InvalidArgError} `ERR_INVALID_URL` (not nfs:, no host, a bad port, a password or fragment,
 *   bad percent-encoding), or an option error for a query argument out of range.
 * @example
 * ```ts
 * parseNfsUrl('nfs://alice@nas:2049/export/data?version=4.2&nconnect=4');
 * // { host: 'nas', path: '/export/data', options: { version: '4.2', nconnect: 4 }, port: 2049, user: 'alice' }
 * ```
 */
export function parseNfsUrl(url: string): NfsUrl {
  if (typeof url !== 'string') throw new InvalidArgError('ERR_INVALID_ARG_TYPE', `The "url" argument must be of type string. Received ${typeof url}`);
  // An IPv6 zone (fe80::1%eth0, or RFC 6874's fe80::1%25eth0) is not
  // something the WHATWG parser accepts: take it out, parse, put it back.
  let zone: string | undefined;
  let parseable = url;
  const bracket = /^(nfs:\/\/(?:[^@/?#]*@)?)\[([0-9a-f:.]+)%(?:25)?([^\]]*)\]/i.exec(url);
  if (bracket) {
    zone = decodeZone(bracket[3]!);
    if (zone === undefined) throw bad(url, `bad IPv6 zone '${bracket[3]}' (letters, digits and -._~ only)`);
    parseable = `${bracket[1]}[${bracket[2]}]${url.slice(bracket[0].length)}`;
  }
  let u: URL;
  try {
    u = new URL(parseable);
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
  let host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  if (zone !== undefined) host += `%${zone}`;
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
    const name = URL_KEYS.get(key);
    if (!name) throw bad(url, `unknown argument '${rawKey}' (known: ${[...URL_KEYS.keys()].join(', ')})`);
    // A repeated argument is ambiguous (which one wins differs between parsers).
    if (seen.has(key)) throw bad(url, `argument '${rawKey}' given more than once`);
    seen.add(key);
    const parsed = parseUrlValue(name, value);
    if ('why' in parsed) throw bad(url, parsed.why);
    (options as Record<string, unknown>)[name] = parsed.value;
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

/** A zone id as RFC 6874 allows it (unreserved characters, percent-encoded ones decoded), or undefined. */
function decodeZone(raw: string): string | undefined {
  let z: string;
  try {
    z = decodeURIComponent(raw);
  } catch {
    return undefined;
  }
  return /^[A-Za-z0-9_.~-]{1,64}$/.test(z) ? z : undefined;
}
