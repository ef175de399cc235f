import { RpcConnectionError, RpcError } from './errors.js';

/**
 * Privileged ("reserved") source ports: `secure` exports (the default of
 * Linux nfsd; Ganesha's PrivilegedPort) answer only calls from a source port
 * below 1024, which only root (or CAP_NET_BIND_SERVICE) may bind.
 *
 * Ports are shared by every connection of the process, and a port is not
 * used up by a connection: libuv binds with SO_REUSEADDR, so sockets to
 * different servers (or different ports of one) may share a source port,
 * and a port whose connection closed is reusable once the kernel lets its
 * TIME_WAIT go (at once on loopback with tcp_tw_reuse; about a minute
 * otherwise). The kernel tells us which ports are taken for this
 * destination: bind says EADDRINUSE (a listener), connect says
 * EADDRNOTAVAIL (this very address pair is in use or in TIME_WAIT).
 */

/** Highest and lowest port tried: below 512 are the well-known services (BSD bindresvport's range). */
export const RESVPORT_MAX = 1023;
export const RESVPORT_MIN = 512;

/**
 * 'required': resvport was asked for; no free port fails the connection.
 * 'preferred': resvport is on because the process runs as root (the kernel's
 * default); no free port falls back to an ordinary port, with a warning,
 * because a guess must not fail a mount that works without it.
 */
export type ResvPortMode = 'required' | 'preferred';

/** Code of the warning for a 'preferred' connection that got an ordinary port. */
export const RESVPORT_WARNING = 'MOUNTLESS_RESVPORT';

/** Code of the error for a 'required' connection that got no privileged port. */
export const RESVPORT_ERROR = 'ERR_NO_RESVPORT';

/** Errors that mean "this source port, not the server": try the next one. */
const PORT_TAKEN = new Set(['EADDRINUSE', 'EADDRNOTAVAIL']);

/**
 * Where the next connection of the process starts looking, moving down: a
 * port just released is tried last rather than first, so closed connections
 * in TIME_WAIT are not probed again and again.
 */
let cursor = RESVPORT_MAX;
let warned = false;

/** One connection's source port, across its reconnects. */
export class ReservedPort {
  /**
   * The port the last connection had: a reconnect tries it first, so the
   * server's duplicate request cache (keyed by client address and port)
   * still recognises retransmissions sent on the new connection.
   */
  last: number | undefined;

  constructor(readonly mode: ResvPortMode) {}

  /**
   * Runs `attempt` (one connect from the given local port; undefined: any
   * port) from the last port, then from each other privileged port, until one
   * is not taken. Errors that are not about the source port end the search.
   */
  async dial<T>(attempt: (localPort: number | undefined) => Promise<T>, host: string, port: number): Promise<T> {
    const span = RESVPORT_MAX - RESVPORT_MIN + 1;
    const start = cursor;
    cursor = cursor <= RESVPORT_MIN ? RESVPORT_MAX : cursor - 1;
    const ports = this.last !== undefined ? [this.last] : [];
    for (let i = 0; i < span; i++) {
      const p = RESVPORT_MAX - ((RESVPORT_MAX - start + i) % span);
      if (p !== this.last) ports.push(p);
    }
    let denied: unknown;
    for (const p of ports) {
      try {
        const r = await attempt(p);
        this.last = p;
        return r;
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (code === 'EACCES') {
          // Not allowed to bind below 1024 at all: no other port will do.
          denied = err;
          break;
        }
        if (typeof code !== 'string' || !PORT_TAKEN.has(code)) throw err;
      }
    }
    const why = denied
      ? 'binding a port below 1024 needs root or CAP_NET_BIND_SERVICE'
      : `every port from ${RESVPORT_MIN} to ${RESVPORT_MAX} is in use or in TIME_WAIT for this server`;
    if (this.mode === 'required') {
      throw new RpcConnectionError(`connect ${host}:${port}: no privileged source port (resvport): ${why}`, RESVPORT_ERROR, host, port, { cause: denied });
    }
    if (!warned) {
      warned = true;
      process.emitWarning(`no privileged source port for ${host}:${port} (${why}); connecting from an ordinary port. A \`secure\` export will refuse it: give resvport=1 to fail instead, resvport=0 to stop trying`, { code: RESVPORT_WARNING });
    }
    this.last = undefined;
    return attempt(undefined);
  }
}

/**
 * The server refused a call because its source port was not privileged
 * (a `secure` export). Raised only when resvport was off: with it on, the
 * same refusal has another cause and keeps its own error.
 */
export class PrivilegedPortError extends RpcError {
  override code = 'ERR_NFS_PRIVILEGED_PORT';
  constructor(what: string, refusal: string, options?: { cause?: unknown }) {
    super(`${what}: the server refused a call from an unprivileged source port (${refusal}): the export is \`secure\`. Either set \`insecure\` on the export, or connect from a port below 1024 with resvport=1, as root (or with CAP_NET_BIND_SERVICE)`, options);
    this.name = 'PrivilegedPortError';
  }
}

/** The remedies for a refusal that may be about the source port (MNT3ERR_ACCES has other causes too), for an error message. */
export const MAYBE_PRIVILEGED_PORT = 'if the export is `secure` (it wants a source port below 1024): set `insecure` on it, or give resvport=1 as root';
