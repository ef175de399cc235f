/**
 * Every connect() option in one place, with its default. URL query arguments
 * (see url.ts) use the same names; options passed in code override the URL
 * (an option set to undefined counts as not given and leaves the URL's value).
 */
export interface ConnectOptions {
  /** NFS version: '3' (default), or '4', '4.0', '4.1', '4.2'. */
  version?: NfsVersion;
  /** AUTH_SYS uid. Default: this process's uid (65534 where there is none). */
  uid?: number;
  /** AUTH_SYS gid. Default: this process's gid (65534 where there is none). */
  gid?: number;
  /** AUTH_SYS supplementary gids (at most 16). Default: none. */
  gids?: number[];
  /** AUTH_SYS machine name. Default: os.hostname(). */
  machineName?: string;
  /** NFS server port; skips rpcbind for NFS. Default: asked of rpcbind. */
  nfsport?: number;
  /** MOUNT server port (v3); skips rpcbind for MOUNT. Default: asked of rpcbind. */
  mountport?: number;
  /** rpcbind port. Default 111. */
  portmapPort?: number;
  /**
   * Time to wait for a reply before retransmitting, in tenths of a second as
   * the kernel and libnfs spell it; each further wait is one timeo longer.
   * Default 600 (60 s).
   */
  timeo?: number;
  /** Retransmissions before a major timeout (see timeo). Default 2. */
  retrans?: number;
  /**
   * hard (the default, as the kernel's): an NFS call never fails because the
   * server is slow or down; the client reconnects (backoff capped at 5 s) and
   * retransmits until it answers. Abort a waiting call with its `signal`.
   */
  hard?: boolean;
  /** soft: an NFS call fails with ETIMEDOUT after timeo × (1 + 2 + … + (retrans + 1)) without a reply. */
  soft?: boolean;
  /** ms to wait for a TCP connection. Default 10 000. */
  connectTimeout?: number;
  /** Largest READ in bytes; capped by the server's rtmax. Default: server's rtpref. */
  rsize?: number;
  /** Largest WRITE in bytes; capped by the server's wtmax. Default: server's wtpref. */
  wsize?: number;
  /** Refuse every call that would modify the export. Default false. */
  readonly?: boolean;
  /** TCP connections per mount, calls spread over them (NFSv3; 1..16). Default 1. */
  nconnect?: number;
  /** RPC calls on the wire at once per connection. Default 128. */
  maxInFlight?: number;
  /**
   * Attribute and name caching, in nfs(5) terms. `noac` turns both caches
   * off (every stat goes to the server). `actimeo` sets all four timeouts.
   * Defaults: acregmin 3, acregmax 60, acdirmin 30, acdirmax 60 seconds.
   * Opening a file always revalidates its attributes (close-to-open).
   */
  noac?: boolean;
  actimeo?: number;
  acregmin?: number;
  acregmax?: number;
  acdirmin?: number;
  acdirmax?: number;
  /**
   * TLS from the first byte, for a TLS-terminating proxy (stunnel, a cloud
   * NAS's encrypted mount helper) in front of the server: true, or node's
   * tls.connect options (ca, cert, key, servername, rejectUnauthorized). The
   * server certificate is verified. With NFSv3 give nfsport and mountport
   * (the proxy's ports): rpcbind is not tunnelled.
   */
  tls?: boolean | import('./rpc/transport.js').TlsOptions;
  /**
   * 'tls': RPC-with-TLS (RFC 9289), as the Linux client's xprtsec=tls: a
   * STARTTLS probe, then TLS on the NFS (and MOUNT) connection itself. The
   * certificate is checked as for `tls` (pass CA/client certs in `tls` as an
   * object). A server without it is an error, never a plaintext fallback.
   */
  xprtsec?: 'tls' | 'none';
  /** Mode bits cleared from files and directories this client creates, as the kernel applies the process umask. Default: process.umask(). */
  umask?: number;
}

export type NfsVersion = '3' | '4' | '4.0' | '4.1' | '4.2';

export const NFS_VERSIONS: readonly NfsVersion[] = ['3', '4', '4.0', '4.1', '4.2'];

export const DEFAULTS = {
  version: '3' as NfsVersion,
  timeo: 600,
  retrans: 2,
  connectTimeout: 10_000,
  portmapPort: 111,
  maxInFlight: 128,
  readonly: false,
};

/** Default AUTH_SYS identity: the process's own, as libnfs does. */
export function defaultIds(): { uid: number; gid: number } {
  return {
    uid: typeof process.getuid === 'function' ? process.getuid() : 65534,
    gid: typeof process.getgid === 'function' ? process.getgid() : 65534,
  };
}
