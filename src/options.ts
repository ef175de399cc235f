/**
 * Every connect() option, declared once in OPTIONS: its URL key, type, range,
 * default and doc. URL parsing (url.ts), validation of options passed in
 * code, the README's option table (optionsMarkdown) and the fully defaulted
 * ResolvedOptions that backends receive all come from this one table, so a
 * default can only be written here. Backends never default anything.
 */
import { hostname } from 'node:os';
import { DEFAULT_IO_SIZE, MAX_IO_SIZE } from './core/io-size.js';
import { InvalidArgError, describeType } from './errors.js';
import type { Krb5Options } from './krb5/acquire.js';
import type { RetryPolicy } from './rpc/client.js';
import { RESVPORT_MAX, RESVPORT_MIN, type ResvPortMode } from './rpc/resvport.js';
import type { TlsOptions } from './rpc/transport.js';

/** NFS versions connect() can be asked for: `'4'` takes the highest minor version the server accepts. */
export type NfsVersion = '3' | '4' | '4.0' | '4.1' | '4.2';

export const NFS_VERSIONS: readonly NfsVersion[] = ['3', '4', '4.0', '4.1', '4.2'];

/** AUTH_SYS carries at most 16 supplementary gids (RFC 5531 appendix A). */
export const MAX_AUTH_SYS_GIDS = 16;
/** Groups a gids option may list (Linux's NGROUPS_MAX); AUTH_SYS sends the first 16 of them. */
const MAX_GIDS = 65536;


type Kind =
  | { type: 'version' }
  | { type: 'int'; min: number; max: number; unit?: string }
  | { type: 'bool' }
  | { type: 'gids' }
  | { type: 'string' }
  | { type: 'xprtsec' }
  /** true/false in a URL; true, false or node's tls.connect options in code. */
  | { type: 'tls' }
  /** sys|krb5|krb5i|krb5p, or a ':'-list of them tried in order (URL and code); an array in code too. */
  | { type: 'sec' }
  /** Code only: the Kerberos credentials object (Krb5Options' public fields). */
  | { type: 'krb5' };

/** sec= names (nfs(5), libnfs), weakest first. */
export const SEC_NAMES = ['sys', 'krb5', 'krb5i', 'krb5p'] as const;
/** An RPC security flavor as `sec=` names it: AUTH_SYS, or Kerberos 5 with authentication, integrity or privacy. */
export type SecName = (typeof SEC_NAMES)[number];

/** Where the Kerberos credentials come from; unset fields come from the environment as MIT tools read it (KRB5_CONFIG, KRB5CCNAME, KRB5_CLIENT_KTNAME). */
/**
 * Kerberos credentials as connect() takes them (the `krb5` option): what
 * src/krb5 acquires tickets from. The principal defaults to the URL's user,
 * else the ccache's, else the keytab's first.
 */
export type Krb5CredentialOptions = Pick<Krb5Options, 'principal' | 'keytab' | 'ccache' | 'password' | 'kdc' | 'realm'>;
const KRB5_KEYS = ['principal', 'keytab', 'ccache', 'password', 'kdc', 'realm'] as const;

interface Spec<V> {
  /** The URL query key (matched case-insensitively), or none for code-only options. */
  url?: string;
  kind: Kind;
  /** The default as the README states it. */
  defaultDoc: string;
  doc: string;
  /** Phantom: the option's value type. */
  readonly _v?: V;
}

const U32 = 0xffffffff;
const uint = (min = 0, max = U32, unit?: string): Kind => ({ type: 'int', min, max, ...(unit ? { unit } : {}) });
const port = (): Kind => uint(1, 65535);
const bool = (): Kind => ({ type: 'bool' });

/**
 * The table. Order is the README's. Keys are the option names in code; URL
 * keys are the same names lower-cased (libnfs and mount(8) spell them so).
 * Exported for tools that list or check options (a CLI's help, a config
 * validator): each entry has its `url` key, `kind` (type and range),
 * `defaultDoc` and `doc`. Read it; connect() takes the values.
 */
export const OPTIONS = {
  version: { url: 'version', kind: { type: 'version' }, defaultDoc: `'3'`, doc: `NFS version: '3', '4' (the highest minor version the server accepts), '4.0', '4.1', '4.2'.` } as Spec<NfsVersion>,
  uid: { url: 'uid', kind: uint(), defaultDoc: 'the process uid (65534 without one)', doc: 'AUTH_SYS uid.' } as Spec<number>,
  gid: { url: 'gid', kind: uint(), defaultDoc: 'the process gid (65534 without one)', doc: 'AUTH_SYS gid.' } as Spec<number>,
  gids: { url: 'gids', kind: { type: 'gids' }, defaultDoc: 'none', doc: `Supplementary gids (URL: comma-separated). AUTH_SYS carries the first ${MAX_AUTH_SYS_GIDS}; with more, a warning (MOUNTLESS_AUTH_SYS_GROUPS) says the rest are not sent.` } as Spec<number[]>,
  machineName: { kind: { type: 'string' }, defaultDoc: 'os.hostname()', doc: 'AUTH_SYS machine name.' } as Spec<string>,
  nfsport: { url: 'nfsport', kind: port(), defaultDoc: 'NFSv3: asked of rpcbind; NFSv4: 2049', doc: 'NFS server port (the URL\'s port means the same). Given, rpcbind is not asked for NFS.' } as Spec<number>,
  mountport: { url: 'mountport', kind: port(), defaultDoc: 'asked of rpcbind', doc: 'MOUNT server port (NFSv3).' } as Spec<number>,
  portmapPort: { url: 'portmapport', kind: port(), defaultDoc: '111', doc: 'rpcbind port.' } as Spec<number>,
  resvport: { url: 'resvport', kind: bool(), defaultDoc: 'true when running as root, else false', doc: `Connect from a privileged source port (${RESVPORT_MIN}..${RESVPORT_MAX}), which \`secure\` exports (Linux nfsd's default) demand; a reconnect reuses its port where it can. Needs root or CAP_NET_BIND_SERVICE. Given, a connection with no free privileged port fails (ERR_NO_RESVPORT); by default (root, as the kernel's resvport) it falls back to an ordinary port with a warning (MOUNTLESS_RESVPORT).` } as Spec<boolean>,
  timeo: { url: 'timeo', kind: uint(1, U32, 'tenths of a second'), defaultDoc: '600 (60 s)', doc: 'Wait for a reply before retransmitting, in tenths of a second as nfs(5) spells it; the n-th wait is n × timeo.' } as Spec<number>,
  retrans: { url: 'retrans', kind: uint(0, 1000), defaultDoc: '2', doc: 'Retransmissions before a major timeout (soft: the call fails with ETIMEDOUT; hard: a new connection).' } as Spec<number>,
  hard: { url: 'hard', kind: bool(), defaultDoc: 'true', doc: 'A call never fails because the server is slow or down: reconnect and retransmit until it answers (abort it with its signal).' } as Spec<boolean>,
  soft: { url: 'soft', kind: bool(), defaultDoc: 'false', doc: 'The opposite of hard: fail a call with ETIMEDOUT at its major timeout.' } as Spec<boolean>,
  connectTimeout: { url: 'connecttimeout', kind: uint(1, U32, 'ms'), defaultDoc: '10000', doc: 'ms to wait for a TCP connection.' } as Spec<number>,
  closeTimeout: { url: 'closetimeout', kind: uint(0, U32, 'ms'), defaultDoc: '5000', doc: 'ms close() waits for the server to release state (NFSv4 CLOSE and DESTROY_SESSION, NLM unlocks, UMNT) before it closes the connections anyway and warns what it could not release.' } as Spec<number>,
  rsize: { url: 'rsize', kind: uint(4096, MAX_IO_SIZE), defaultDoc: '1048576', doc: 'Largest READ in bytes, capped by the server\'s maximum, rounded down to 4 KiB.' } as Spec<number>,
  wsize: { url: 'wsize', kind: uint(4096, MAX_IO_SIZE), defaultDoc: '1048576', doc: 'Largest WRITE in bytes, capped by the server\'s maximum, rounded down to 4 KiB.' } as Spec<number>,
  readonly: { url: 'readonly', kind: bool(), defaultDoc: 'false', doc: 'Refuse (EROFS) every call that would modify the export, whichever API it comes through.' } as Spec<boolean>,
  nconnect: { url: 'nconnect', kind: uint(1, 16), defaultDoc: '1', doc: 'TCP connections per mount; each call goes to the least busy (NFSv4.1+: all bound to the session).' } as Spec<number>,
  maxInFlight: { url: 'maxinflight', kind: uint(1, 1024), defaultDoc: '128', doc: 'RPC calls on the wire at once per connection (NFSv4.1+: the session slots asked for); more wait in a queue.' } as Spec<number>,
  noac: { url: 'noac', kind: bool(), defaultDoc: 'false', doc: 'No attribute or name caching: every stat goes to the server.' } as Spec<boolean>,
  actimeo: { url: 'actimeo', kind: uint(0, 3600, 's'), defaultDoc: 'unset', doc: 'Sets acregmin, acregmax, acdirmin and acdirmax at once.' } as Spec<number>,
  acregmin: { url: 'acregmin', kind: uint(0, 3600, 's'), defaultDoc: '3', doc: 'Least seconds a file\'s cached attributes are trusted.' } as Spec<number>,
  acregmax: { url: 'acregmax', kind: uint(0, 3600, 's'), defaultDoc: '60', doc: 'Most seconds a file\'s cached attributes are trusted (a tenth of its age in between).' } as Spec<number>,
  acdirmin: { url: 'acdirmin', kind: uint(0, 3600, 's'), defaultDoc: '30', doc: 'Least seconds a directory\'s attributes and cached names are trusted.' } as Spec<number>,
  acdirmax: { url: 'acdirmax', kind: uint(0, 3600, 's'), defaultDoc: '60', doc: 'Most seconds a directory\'s attributes and cached names are trusted.' } as Spec<number>,
  tls: { url: 'tls', kind: { type: 'tls' }, defaultDoc: 'false', doc: 'TLS from the first byte to a TLS-terminating proxy (stunnel, a cloud NAS helper): true, or node\'s tls.connect options (ca, cert, key, servername). The certificate is verified. NFSv3 needs nfsport and mountport (rpcbind is not tunnelled).' } as Spec<boolean | TlsOptions>,
  xprtsec: { url: 'xprtsec', kind: { type: 'xprtsec' }, defaultDoc: `'none'`, doc: `'tls': RPC-with-TLS (RFC 9289, STARTTLS on the NFS connection); certificates as for tls. Never falls back to plaintext.` } as Spec<'tls' | 'none'>,
  sec: { url: 'sec', kind: { type: 'sec' }, defaultDoc: `'sys'`, doc: `Security flavor: 'sys' (AUTH_SYS), 'krb5' (Kerberos authentication), 'krb5i' (and integrity of every call and reply), 'krb5p' (and privacy: encrypted). A ':'-list (krb5p:krb5i) is tried in order against the flavors the server offers. The service principal is nfs/<the URL's host name>.` } as Spec<SecName | string | SecName[]>,
  krb5: { kind: { type: 'krb5' }, defaultDoc: 'the environment', doc: `Kerberos credentials for sec=krb5*: { principal, keytab, ccache, password, kdc, realm }; what is left out comes from KRB5_CONFIG, KRB5CCNAME and KRB5_CLIENT_KTNAME as with MIT tools, the principal from the URL's user.` } as Spec<Krb5CredentialOptions>,
  umask: { kind: uint(0, 0o777), defaultDoc: 'process.umask()', doc: 'Mode bits cleared from files and directories this client creates.' } as Spec<number>,
} as const;

type OptionName = keyof typeof OPTIONS;
type ValueOf<S> = S extends Spec<infer V> ? V : never;

/**
 * What connect() accepts, in code or as URL query arguments (see OPTIONS for
 * each option's meaning, range and default; the README's table lists them).
 * An option set to undefined counts as not given.
 *
 * @interface
 */
export type ConnectOptions = { [K in OptionName]?: ValueOf<(typeof OPTIONS)[K]> | undefined };

/** Attribute and name cache timeouts, in seconds (nfs(5)'s acregmin..acdirmax). */
export interface CachePolicy {
  acregmin: number;
  acregmax: number;
  acdirmin: number;
  acdirmax: number;
  /** Largest number of cached handles and names. */
  maxEntries: number;
}

/** Cached handles and names at most; not an option (memory, not semantics). */
const CACHE_MAX_ENTRIES = 100_000;

/** The cache policy with every ac* option at its default. */
export const DEFAULT_POLICY: CachePolicy = { acregmin: 3, acregmax: 60, acdirmin: 30, acdirmax: 60, maxEntries: CACHE_MAX_ENTRIES };

/** Every option with its value decided: what the layers below connect() receive. */
export interface ResolvedOptions {
  version: NfsVersion;
  uid: number;
  gid: number;
  gids: number[];
  machineName: string;
  /** undefined: ask rpcbind (NFSv3 only; NFSv4 resolves to 2049). */
  nfsport: number | undefined;
  mountport: number | undefined;
  portmapPort: number;
  /** Privileged source ports for every connection (NFS, MOUNT, rpcbind, NLM); undefined: off. */
  resvport: ResvPortMode | undefined;
  /** ms (timeo × 100). */
  timeoMs: number;
  retrans: number;
  hard: boolean;
  connectTimeout: number;
  closeTimeout: number;
  rsize: number;
  wsize: number;
  readonly: boolean;
  nconnect: number;
  maxInFlight: number;
  /** undefined: no caching (noac, or every timeout 0). */
  cache: CachePolicy | undefined;
  /** TLS to a proxy from the first byte. */
  tls: TlsOptions | undefined;
  /** RFC 9289 STARTTLS with these TLS options. */
  xprtsec: TlsOptions | undefined;
  /** Flavors to try, in order. */
  sec: SecName[];
  krb5: Krb5CredentialOptions;
  umask: number;
}

/** The sec= list in `v` (a name, a ':'-list or an array of names), or why it is not one. */
function parseSec(v: unknown): SecName[] | string {
  const parts = typeof v === 'string' ? v.split(':') : Array.isArray(v) ? v : undefined;
  if (!parts || parts.length === 0) return 'a security flavor name, a \':\'-list or an array of them';
  for (const p of parts) if (typeof p !== 'string' || !(SEC_NAMES as readonly string[]).includes(p)) return `one of ${SEC_NAMES.join(', ')} (or a ':'-list of them), got '${String(p)}'`;
  return parts as SecName[];
}

function outOfRange(name: string, range: string, v: unknown): InvalidArgError {
  return new InvalidArgError('ERR_OUT_OF_RANGE', `The value of "options.${name}" is out of range. It must be ${range}. Received ${String(v)}`);
}

function typeError(name: string, expected: string, v: unknown): InvalidArgError {
  return new InvalidArgError('ERR_INVALID_ARG_TYPE', `The "options.${name}" property must be ${expected}. Received ${describeType(v)}`);
}

/** Checks one option given in code against its table entry. */
function checkValue(name: OptionName, v: unknown): void {
  const k = OPTIONS[name].kind;
  switch (k.type) {
    case 'int':
      if (typeof v !== 'number' || !Number.isInteger(v)) throw typeError(name, 'an integer', v);
      if (v < k.min || v > k.max) throw outOfRange(name, `>= ${k.min} && <= ${k.max}`, v);
      return;
    case 'bool':
      if (typeof v !== 'boolean') throw typeError(name, 'of type boolean', v);
      return;
    case 'string':
      if (typeof v !== 'string') throw typeError(name, 'of type string', v);
      return;
    case 'version':
      if (typeof v !== 'string') throw typeError(name, 'of type string', v);
      if (!(NFS_VERSIONS as readonly string[]).includes(v)) {
        throw new InvalidArgError('ERR_INVALID_ARG_VALUE', `The property 'options.${name}' must be one of: ${NFS_VERSIONS.map((x) => `'${x}'`).join(', ')}. Received '${v}'`);
      }
      return;
    case 'gids':
      if (!Array.isArray(v)) throw typeError(name, 'an instance of Array', v);
      v.forEach((g: unknown, i) => {
        if (typeof g !== 'number' || !Number.isInteger(g)) throw typeError(`${name}[${i}]`, 'an integer', g);
        if (g < 0 || g > U32) throw outOfRange(`${name}[${i}]`, `>= 0 && <= ${U32}`, g);
      });
      if (v.length > MAX_GIDS) {
        throw new InvalidArgError('ERR_OUT_OF_RANGE', `The length of "options.${name}" is out of range. It must be <= ${MAX_GIDS}. Received ${v.length}`);
      }
      return;
    case 'xprtsec':
      if (v !== 'tls' && v !== 'none') throw new InvalidArgError('ERR_INVALID_ARG_VALUE', `The property 'options.${name}' must be one of: 'tls', 'none'. Received ${describeType(v)}`);
      return;
    case 'tls':
      if (typeof v !== 'boolean' && (v === null || typeof v !== 'object')) throw typeError(name, 'of type boolean or object', v);
      return;
    case 'sec': {
      const r = parseSec(v);
      if (typeof r === 'string') throw new InvalidArgError('ERR_INVALID_ARG_VALUE', `The property 'options.${name}' must be ${r}. Received ${describeType(v)}`);
      return;
    }
    case 'krb5':
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw typeError(name, 'of type object', v);
      for (const [k, x] of Object.entries(v)) {
        if (!(KRB5_KEYS as readonly string[]).includes(k)) throw new InvalidArgError('ERR_INVALID_ARG_VALUE', `Unknown option 'krb5.${k}' (known: ${KRB5_KEYS.join(', ')})`);
        const ok = x === undefined || typeof x === 'string' || (k === 'kdc' && Array.isArray(x) && x.every((e) => typeof e === 'string'));
        if (!ok) throw typeError(`${name}.${k}`, k === 'kdc' ? 'a string or an array of strings' : 'of type string', x);
      }
      return;
  }
}

/**
 * The value of URL argument `raw` for option `name`, or a message saying
 * why it is not one. URL values are text: integers in decimal, booleans as
 * ''/1/0/true/false/yes/no (a bare `readonly` is true).
 */
export function parseUrlValue(name: OptionName, raw: string): { value: unknown } | { why: string } {
  const k = OPTIONS[name].kind;
  const key = OPTIONS[name].url!;
  switch (k.type) {
    case 'int': {
      if (!/^\d{1,10}$/.test(raw) || Number(raw) < k.min || Number(raw) > k.max) {
        return { why: `${key} must be ${k.min === 1 && k.max === 65535 ? 'a port number' : 'an integer'} from ${k.min} to ${k.max}, got '${raw}'` };
      }
      return { value: Number(raw) };
    }
    case 'bool':
    case 'tls': {
      if (raw === '' || raw === '1' || raw === 'true' || raw === 'yes') return { value: true };
      if (raw === '0' || raw === 'false' || raw === 'no') return { value: false };
      return { why: `${key} must be 1/0/true/false, got '${raw}'` };
    }
    case 'version':
      if (!(NFS_VERSIONS as readonly string[]).includes(raw)) return { why: `version must be one of ${NFS_VERSIONS.join(', ')}, got '${raw}'` };
      return { value: raw };
    case 'gids': {
      const parts = raw.split(',').filter((s) => s !== '');
      if (!parts.every((s) => /^\d{1,10}$/.test(s) && Number(s) <= U32)) return { why: `gids must be a comma-separated list of integers from 0 to ${U32}, got '${raw}'` };
      if (parts.length > MAX_GIDS) return { why: `gids may list at most ${MAX_GIDS} groups, got ${parts.length}` };
      return { value: parts.map(Number) };
    }
    case 'xprtsec':
      if (raw !== 'tls' && raw !== 'none') return { why: `xprtsec must be tls or none (mtls: pass a client certificate in the tls option), got '${raw}'` };
      return { value: raw };
    case 'string':
      return { value: raw };
    case 'sec': {
      const r = parseSec(raw);
      return typeof r === 'string' ? { why: `sec must be ${r}` } : { value: r };
    }
    case 'krb5':
      return { why: 'krb5 is given in code, not in the URL' };
  }
}

/** URL key (lower case) → option name. */
export const URL_KEYS: ReadonlyMap<string, OptionName> = new Map(
  (Object.keys(OPTIONS) as OptionName[]).flatMap((n) => {
    const url = (OPTIONS[n] as Spec<unknown>).url;
    return url ? [[url, n] as const] : [];
  }),
);

/**
 * Validates options given in code: unknown names, wrong types, values out
 * of range, and combinations that contradict each other.
 */
export function checkOptions(o: unknown): asserts o is ConnectOptions {
  if (o === null || typeof o !== 'object') throw new InvalidArgError('ERR_INVALID_ARG_TYPE', `The "options" argument must be of type object. Received ${describeType(o)}`);
  // Unknown names first: a misspelt option explains a wrong value next to it.
  for (const k of Object.keys(o)) {
    if (!Object.hasOwn(OPTIONS, k)) throw new InvalidArgError('ERR_INVALID_ARG_VALUE', `Unknown option '${k}' (known: ${Object.keys(OPTIONS).join(', ')})`);
  }
  for (const [k, v] of Object.entries(o)) if (v !== undefined) checkValue(k as OptionName, v);
}

function ownIds(): { uid: number; gid: number } {
  return {
    uid: typeof process.getuid === 'function' ? process.getuid() : 65534,
    gid: typeof process.getgid === 'function' ? process.getgid() : 65534,
  };
}

/** The cache timeouts from noac/actimeo/ac*, nfs(5) style; undefined when caching is off. */
function cachePolicy(o: ConnectOptions): CachePolicy | undefined {
  if (o.noac) return undefined;
  const all = o.actimeo;
  const p: CachePolicy = { ...DEFAULT_POLICY, ...(all !== undefined ? { acregmin: all, acregmax: all, acdirmin: all, acdirmax: all } : {}) };
  if (o.acregmin !== undefined) p.acregmin = o.acregmin;
  if (o.acregmax !== undefined) p.acregmax = o.acregmax;
  if (o.acdirmin !== undefined) p.acdirmin = o.acdirmin;
  if (o.acdirmax !== undefined) p.acdirmax = o.acdirmax;
  p.acregmax = Math.max(p.acregmax, p.acregmin);
  p.acdirmax = Math.max(p.acdirmax, p.acdirmin);
  return p.acregmax === 0 && p.acdirmax === 0 ? undefined : p;
}

/**
 * Merges URL options with options given in code (code wins; undefined
 * counts as not given), validates the result and fills in every default.
 * `urlPort` is the URL's own port, which names the NFS port as nfsport does
 * (an nfsport given in code overrides it, as every option overrides the URL).
 */
export function resolveOptions(fromUrl: ConnectOptions, fromCode: ConnectOptions = {}, urlPort?: number): ResolvedOptions {
  checkOptions(fromCode);
  const o: ConnectOptions = { ...fromUrl };
  for (const [k, v] of Object.entries(fromCode)) if (v !== undefined) (o as Record<string, unknown>)[k] = v;
  checkOptions(o);
  if (o.soft && o.hard) throw new InvalidArgError('ERR_INVALID_ARG_VALUE', 'Options soft and hard exclude each other');
  const version = o.version ?? '3';
  const ids = ownIds();
  const tlsConf = o.tls === true ? {} : o.tls || undefined;
  const xprtsec = o.xprtsec === 'tls' ? (tlsConf ?? {}) : undefined;
  return {
    version,
    uid: o.uid ?? ids.uid,
    gid: o.gid ?? ids.gid,
    gids: o.gids ?? [],
    machineName: o.machineName ?? hostname(),
    nfsport: o.nfsport ?? urlPort ?? (version === '3' ? undefined : 2049),
    mountport: o.mountport,
    portmapPort: o.portmapPort ?? 111,
    resvport: o.resvport === true ? 'required' : o.resvport === false || ids.uid !== 0 ? undefined : 'preferred',
    timeoMs: (o.timeo ?? 600) * 100,
    retrans: o.retrans ?? 2,
    hard: !o.soft,
    connectTimeout: o.connectTimeout ?? 10_000,
    closeTimeout: o.closeTimeout ?? 5000,
    rsize: o.rsize ?? DEFAULT_IO_SIZE,
    wsize: o.wsize ?? DEFAULT_IO_SIZE,
    readonly: o.readonly ?? false,
    nconnect: o.nconnect ?? 1,
    maxInFlight: o.maxInFlight ?? 128,
    cache: cachePolicy(o),
    tls: xprtsec ? undefined : tlsConf,
    xprtsec,
    sec: o.sec === undefined ? ['sys'] : (parseSec(o.sec) as SecName[]),
    krb5: { ...(o.krb5 ?? {}) },
    umask: o.umask ?? process.umask(),
  };
}

/**
 * How long a call that must fail fast (rpcbind, MOUNT, mount-time lookups)
 * waits: one major timeout, timeo × (retrans + 1).
 */
export function majorTimeoutMs(o: ResolvedOptions): number {
  return o.timeoMs * (o.retrans + 1);
}

/** Reconnect and retransmission for NFS connections, from timeo/retrans/hard. */
export function retryPolicy(o: ResolvedOptions): RetryPolicy {
  return { timeo: o.timeoMs, retrans: o.retrans, hard: o.hard };
}

/** The README's option table, generated from OPTIONS (a unit test keeps the README in step). */
export function optionsMarkdown(): string {
  const rows = (Object.keys(OPTIONS) as OptionName[]).map((n) => {
    const s = OPTIONS[n] as Spec<unknown>;
    const k = s.kind;
    const type =
      k.type === 'int' ? `integer ${k.min}..${k.max === U32 ? '2³²−1' : k.max}${k.unit ? ` (${k.unit})` : ''}` : k.type === 'gids' ? 'integer[]' : k.type === 'version' ? 'string' : k.type === 'tls' ? 'boolean or object' : k.type === 'xprtsec' ? `'tls' \\| 'none'` : k.type === 'bool' ? 'boolean' : k.type === 'sec' ? 'string or string[]' : k.type === 'krb5' ? 'object' : 'string';
    return `| \`${n}\` | ${s.url ? `\`${s.url}\`` : '—'} | ${type} | ${s.defaultDoc} | ${s.doc.replace(/\|/g, '\\|')} |`;
  });
  return ['| option | URL key | type | default | meaning |', '|---|---|---|---|---|', ...rows].join('\n');
}
