import { connect } from '../connect.js';
import type { ConnectOptions } from '../options.js';
import type { NfsClient } from '../fs/client.js';
import { exportList, MOUNT_PROGRAM, MOUNT_V3, type ExportEntry } from '../mount/mount.js';
import { IPPROTO_TCP, PMAP_PORT, pmapGetport } from '../portmap/portmap.js';
import { RpcClient } from '../rpc/client.js';
import { parseNfsUrl } from '../url.js';
import { UsageError } from './args.js';

/**
 * How the CLI names files on NFS:
 *
 *   nfs://host[:port]/export/dir/file[?options]   a full URL (any server)
 *   :dir/file  or  :/dir/file                     a path in the volume of --url / $NFS_URL
 *   /dir/file  or  dir/file                       the same, for commands whose arguments
 *                                                 are always remote (ls, cat, stat, rm, ...)
 *
 * `cp`, `put` and `get` take local paths too, so there a remote path must be
 * written as a URL or with the ':' prefix; a plain path is local.
 *
 * A full URL is split into the export and the path inside it by asking the
 * server's MOUNT service for its export list (the longest export that
 * prefixes the path); one connection is kept per export and reused.
 */
export interface RemoteRef {
  client: NfsClient;
  /** The path inside the client's volume ('/dir/file'). */
  path: string;
  /** The argument as the user wrote it, for messages. */
  display: string;
  /** A key naming the volume, to tell whether two refs share one client. */
  volume: string;
}

export function isRemoteArg(arg: string): boolean {
  return /^nfs:\/\//i.test(arg) || arg.startsWith(':');
}

const URL_PARTS = /^(nfs:\/\/[^/?#]*)([^?#]*)(\?[^#]*)?$/i;

function encodePath(p: string): string {
  return p
    .split('/')
    .map((c) => encodeURIComponent(c))
    .join('/');
}

/** The MOUNT export list of a server, through rpcbind. */
export async function listExports(host: string, opts: { portmapPort?: number; mountport?: number; timeout?: number } = {}): Promise<ExportEntry[]> {
  const timeout = opts.timeout ?? 10_000;
  let port = opts.mountport;
  if (port === undefined) {
    const pm = new RpcClient({ host, port: opts.portmapPort ?? PMAP_PORT, timeout, connectTimeout: timeout });
    try {
      port = await pmapGetport(pm, MOUNT_PROGRAM, MOUNT_V3, IPPROTO_TCP);
    } finally {
      await pm.close();
    }
    if (port === 0) throw Object.assign(new Error(`MOUNT v3 over TCP is not registered with rpcbind on ${host}`), { code: 'ECONNREFUSED' });
  }
  const rpc = new RpcClient({ host, port, timeout, connectTimeout: timeout });
  try {
    return await exportList(rpc);
  } finally {
    await rpc.close();
  }
}

/** Joins a relative or absolute path onto '/', without '..' games: the client refuses climbing above its root anyway. */
function rooted(p: string): string {
  if (p === '' || p === '.') return '/';
  return p.startsWith('/') ? p : '/' + p;
}

export class Remotes {
  private readonly clients = new Map<string, Promise<NfsClient>>();
  private readonly exportLists = new Map<string, Promise<string[] | undefined>>();

  constructor(
    /** --url or $NFS_URL: the volume plain and ':' paths are in. */
    readonly baseUrl: string | undefined,
    /** Options from flags (the --krb5-* credentials) for every mount, added to each URL's own. */
    readonly connectOptions: ConnectOptions = {},
  ) {}

  private client(url: string): Promise<NfsClient> {
    let c = this.clients.get(url);
    if (!c) {
      c = connect(url, this.connectOptions);
      this.clients.set(url, c);
      // A failed connect is not cached: the error is reported once, by the caller.
      c.catch(() => this.clients.delete(url));
    }
    return c;
  }

  /** The base volume's client, for commands that work on the volume as a whole (df). */
  base(): Promise<NfsClient> {
    if (!this.baseUrl) throw new UsageError('no URL: pass --url nfs://host/export, set NFS_URL, or name files as nfs://host/export/path');
    return this.client(this.baseUrl);
  }

  /**
   * Resolves a remote argument. With `plainIsRemote`, a path without ':' or
   * 'nfs://' is taken as a path in the base volume.
   */
  async resolve(arg: string, plainIsRemote = true): Promise<RemoteRef> {
    if (/^nfs:\/\//i.test(arg)) return this.resolveUrl(arg);
    if (!arg.startsWith(':') && !plainIsRemote) throw new UsageError(`'${arg}' is a local path; write remote paths as :path or nfs://host/export/path`);
    const path = rooted(arg.startsWith(':') ? arg.slice(1) : arg);
    return { client: await this.base(), path, display: arg, volume: this.baseUrl! };
  }

  private async resolveUrl(arg: string): Promise<RemoteRef> {
    const m = URL_PARTS.exec(arg);
    if (!m) throw new UsageError(`bad NFS URL '${arg}'`);
    const [, authority, , query = ''] = m;
    const u = parseNfsUrl(arg);
    // Inside the base volume (same server and options): reuse its connection.
    if (this.baseUrl) {
      const b = URL_PARTS.exec(this.baseUrl);
      if (b && b[1]!.toLowerCase() === authority!.toLowerCase() && (b[3] ?? '') === query) {
        const bp = parseNfsUrl(this.baseUrl).path.replace(/\/+$/, '');
        if (u.path === bp || u.path.startsWith(bp + '/') || bp === '') {
          return { client: await this.base(), path: rooted(u.path.slice(bp.length)), display: arg, volume: this.baseUrl };
        }
      }
    }
    const root = await this.exportFor(u.host, u.port, u.options.portmapPort, u.options.mountport, u.path);
    if (root !== undefined) {
      const url = `${authority}${encodePath(root)}${query}`;
      return { client: await this.client(url), path: rooted(u.path.slice(root.length)), display: arg, volume: url };
    }
    // No export list: mount the URL itself if it is a directory, else its parent.
    try {
      return { client: await this.client(arg), path: '/', display: arg, volume: arg };
    } catch (err) {
      const c = (err as { code?: string }).code;
      if (c !== 'ENOTDIR' && c !== 'ENOENT') throw err;
      const k = u.path.lastIndexOf('/');
      const dir = u.path.slice(0, k) || '/';
      const url = `${authority}${encodePath(dir)}${query}`;
      return { client: await this.client(url), path: '/' + u.path.slice(k + 1), display: arg, volume: url };
    }
  }

  /** The longest export prefixing `path`, from the server's export list; undefined if the list is unavailable. */
  private async exportFor(host: string, port: number | undefined, portmapPort: number | undefined, mountport: number | undefined, path: string): Promise<string | undefined> {
    void port;
    const key = `${host}|${portmapPort ?? ''}|${mountport ?? ''}`;
    let p = this.exportLists.get(key);
    if (!p) {
      p = listExports(host, { ...(portmapPort !== undefined ? { portmapPort } : {}), ...(mountport !== undefined ? { mountport } : {}) }).then(
        (l) => l.map((e) => (e.dir === '/' ? '/' : e.dir.replace(/\/+$/, ''))),
        () => undefined,
      );
      this.exportLists.set(key, p);
    }
    const dirs = await p;
    if (!dirs) return undefined;
    let best: string | undefined;
    for (const d of dirs) {
      if (path === d || path.startsWith(d === '/' ? '/' : d + '/')) if (best === undefined || d.length > best.length) best = d;
    }
    return best;
  }

  async closeAll(): Promise<void> {
    const all = [...this.clients.values()];
    this.clients.clear();
    await Promise.allSettled(all.map(async (c) => (await c).close()));
  }
}
