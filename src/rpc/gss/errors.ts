import { RpcError } from '../errors.js';

/**
 * RPCSEC_GSS failures, each with a stable code:
 * - ERR_RPC_GSS_INIT: the server would not make a context (gss_major/gss_minor say why);
 * - ERR_RPC_GSS_VERIFIER: a reply verifier is not the MIC of any seq_num we sent (or of seq_window);
 * - ERR_RPC_GSS_INTEGRITY: rpc_gss_integ_data whose checksum does not verify, or whose seq_num is not ours;
 * - ERR_RPC_GSS_PRIVACY: rpc_gss_priv_data that does not unwrap, is not confidential, or whose seq_num is not ours.
 * A reply failing any of these is not used: its call fails with the error.
 */
export class RpcGssError extends RpcError {
  constructor(
    message: string,
    /** Which check failed (see the class description). */
    override readonly code: 'ERR_RPC_GSS_INIT' | 'ERR_RPC_GSS_VERIFIER' | 'ERR_RPC_GSS_INTEGRITY' | 'ERR_RPC_GSS_PRIVACY',
    /** For `ERR_RPC_GSS_INIT`: the server's gss_major status (RFC 2743 major status codes). */
    readonly gssMajor?: number,
    /** For `ERR_RPC_GSS_INIT`: the server's gss_minor status (mechanism-specific). */
    readonly gssMinor?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RpcGssError';
  }
}

/**
 * The export refuses the security flavor we used: AUTH_TOOWEAK (NFSv3),
 * NFS4ERR_WRONGSEC (NFSv4), or none of the flavors asked for (`sec=`) is one
 * the server lists. `wanted` names the server's flavors where it said
 * (MOUNT's auth_flavors, SECINFO), as sec= spells them.
 */
export class WrongSecurityError extends RpcError {
  /** Always `ERR_NFS_WRONGSEC`. */
  override code = 'ERR_NFS_WRONGSEC';
  constructor(
    message: string,
    /** The flavors the server accepts for this export, as `sec=` spells them (empty when it did not say). */
    readonly wanted: readonly string[],
    /** The flavor that was refused, as `sec=` spells it. */
    readonly used: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'WrongSecurityError';
  }
}
