import { NfsStatusError, toFsError } from './errors.js';
import { NfsClient } from './fs/client.js';
import type { Backend } from './fs/backend.js';
import { CachingBackend } from './cache/caching-backend.js';
import { ReadonlyBackend } from './core/readonly.js';
import { Nfs3Backend } from './nfs3/backend.js';
import { Nfs4Backend } from './nfs4/backend.js';
import { majorTimeoutMs, MAX_AUTH_SYS_GIDS, resolveOptions, type ConnectOptions, type ResolvedOptions } from './options.js';
import { authSys, type Credential } from './rpc/auth.js';
import { RpcDeniedError } from './rpc/errors.js';
import { RpcGssError, WrongSecurityError } from './rpc/gss/errors.js';
import { gssForMount } from './rpc/gss/mount-security.js';
import { isKrb5Error } from './krb5/errors.js';
import type { MountTarget } from './fs/backend.js';
import { parseNfsUrl } from './url.js';

/**
 * Mounts `url` and returns a client with node:fs/promises methods.
 *
 *   const nfs = await connect('nfs://server/export?version=3');
 *   await nfs.writeFile('/hello.txt', 'hi');
 *
 * Options passed here override the URL's query arguments.
 *
 * The URL's path may name a directory inside an export: the client's `/` is
 * then that directory. Close the client when done (or `await using`): it
 * holds connections and, on NFSv4, a session with the server.
 *
 * @throws {@link InvalidArgError} `ERR_INVALID_URL` for a malformed URL, `ERR_INVALID_ARG_TYPE` /
 *   `ERR_OUT_OF_RANGE` / `ERR_INVALID_ARG_VALUE` for a bad option (nothing is sent).
 * @throws {@link RpcConnectionError} when the server cannot be reached (`ECONNREFUSED`, `ETIMEDOUT` after `connectTimeout`).
 * @throws {@link MountError} when MOUNT (NFSv3) refuses the export; {@link FsError} (`syscall` `mount`) when a
 *   path below the export does not resolve (`ENOENT`, `ENOTDIR`, `EACCES`).
 * @throws {@link WrongSecurityError}, {@link RpcGssError} or {@link Krb5Error} when no `sec=` flavor asked for works.
 * @example
 * ```ts
 * import { connect } from 'mountless';
 *
 * const nfs = await connect('nfs://nas.example/export?version=4.1', { uid: 1000, gid: 1000 });
 * try {
 *   for (const name of await nfs.readdir('/')) console.log(name);
 * } finally {
 *   await nfs.close();
 * }
 * ```
 */
export async function connect(url: string, options: ConnectOptions = {}): Promise<NfsClient> {
  const u = parseNfsUrl(url);
  const o = resolveOptions(u.options, options, u.port);
  const auth = authSys({ uid: o.uid, gid: o.gid, gids: authSysGids(o.gids), machineName: o.machineName });
  let backend: Backend;
  try {
    backend = await mountWithSec(u.host, u.path, u.user, auth, o);
  } catch (err) {
    // A path below the export is looked up with NFS calls; report their
    // failure as mount(2) would: ENOENT/ENOTDIR/EACCES naming the path.
    if (err instanceof NfsStatusError) throw toFsError(err, 'mount', u.path);
    throw err;
  }
  // Below the caches (which the fs layer must reach to invalidate), above the wire: every caller passes through it.
  if (o.readonly) backend = new ReadonlyBackend(backend);
  return new NfsClient(o.cache ? new CachingBackend(backend, o.cache) : backend, { umask: o.umask, readonly: o.readonly });
}

/**
 * Mounts with the flavors of sec= until one works. When the server names
 * the flavors it takes (NFSv4 SECINFO_NO_NAME/SECINFO, asked at once when
 * sec= lists several; WRONGSEC; MOUNT's list) the next is the first of the
 * list it offers; when it only refuses (AUTH_ERROR) or no context can be
 * made, the next in order. The last one's error is the answer.
 */
async function mountWithSec(host: string, path: string, user: string | undefined, auth: Credential, o: ResolvedOptions): Promise<Backend> {
  const krb5 = { ...o.krb5 };
  if (krb5.principal === undefined && user !== undefined) krb5.principal = user;
  const left = [...o.sec];
  /** The server named the flavor about to be tried: no need to ask it again. */
  let named = false;
  for (let name = left.shift(); name !== undefined; name = left.shift()) {
    const t: MountTarget = { host, path, auth, gss: name === 'sys' ? undefined : gssForMount(name, host, krb5, majorTimeoutMs(o)) };
    const ro = named ? { ...o, sec: [name] } : o;
    try {
      // NFSv4 needs neither rpcbind nor MOUNT: one port, the pseudo-fs path walked in one COMPOUND.
      return o.version === '3' ? await Nfs3Backend.mount(t, ro) : await Nfs4Backend.mount(t, ro);
    } catch (err) {
      if (!refusesFlavor(err) || left.length === 0) throw err;
      named = err instanceof WrongSecurityError && err.wanted.length > 0;
      if (named) {
        const next = left.findIndex((n) => (err as WrongSecurityError).wanted.includes(n));
        if (next < 0) throw err;
        left.splice(0, next);
      }
    }
  }
  throw new Error('unreachable: sec= is never empty');
}

function refusesFlavor(err: unknown): boolean {
  return err instanceof WrongSecurityError || err instanceof RpcGssError || (err instanceof RpcDeniedError && err.authStat !== undefined) || isKrb5Error(err);
}

/** Code of the warning for groups AUTH_SYS cannot carry. */
export const GROUPS_WARNING = 'MOUNTLESS_AUTH_SYS_GROUPS';

/**
 * The groups AUTH_SYS can carry: the first 16 (RFC 5531 appendix A). Servers
 * drop the rest silently, so access through them would fail without a word:
 * say so, once per connect().
 */
function authSysGids(gids: number[]): number[] {
  if (gids.length <= MAX_AUTH_SYS_GIDS) return gids;
  process.emitWarning(
    `AUTH_SYS carries at most ${MAX_AUTH_SYS_GIDS} supplementary groups: sending the first ${MAX_AUTH_SYS_GIDS} of ${gids.length}; access granted only through groups ${gids.slice(MAX_AUTH_SYS_GIDS, MAX_AUTH_SYS_GIDS + 3).join(', ')}${gids.length > MAX_AUTH_SYS_GIDS + 3 ? ', …' : ''} will be refused (list the groups that matter first)`,
    { code: GROUPS_WARNING },
  );
  return gids.slice(0, MAX_AUTH_SYS_GIDS);
}
