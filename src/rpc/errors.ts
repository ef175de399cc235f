/**
 * Typed failures of the RPC layer. Each has a stable `code`; the ones that
 * correspond to a socket-level errno use that errno's name so that callers of
 * the fs API see familiar codes (ETIMEDOUT, ECONNRESET).
 */
export class RpcError extends Error {
  /** Stable code of the failure (`ERR_RPC_*`, or an errno name such as `ETIMEDOUT`, `ECONNRESET`): test it with {@link isNfsError}. */
  code: string = 'ERR_RPC';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RpcError';
  }
}

/** A record was oversize or the byte stream could not be framed; the connection is reset. */
export class RpcRecordError extends RpcError {
  /** Always `ERR_RPC_RECORD`. */
  override code = 'ERR_RPC_RECORD';
  constructor(message: string) {
    super(message);
    this.name = 'RpcRecordError';
  }
}

/** The server accepted the call but did not run it (RFC 5531 accept_stat). */
export class RpcAcceptedError extends RpcError {
  constructor(
    message: string,
    /**
     * Which accept_stat: the program or version is not served (`PROG_UNAVAIL`, `PROG_MISMATCH`), the procedure is unknown, the arguments did not decode, or the server failed (`SYSTEM_ERR`).
     */
    override readonly code: 'ERR_RPC_PROG_UNAVAIL' | 'ERR_RPC_PROG_MISMATCH' | 'ERR_RPC_PROC_UNAVAIL' | 'ERR_RPC_GARBAGE_ARGS' | 'ERR_RPC_SYSTEM_ERR',
    /** The accept_stat number from the reply (RFC 5531 §9). */
    readonly acceptStat: number,
    /** For `ERR_RPC_PROG_MISMATCH`: the lowest and highest versions the server serves. */
    readonly mismatch?: { low: number; high: number },
  ) {
    super(message);
    this.name = 'RpcAcceptedError';
  }
}

/** The server refused the call (RFC 5531 reject_stat): RPC_MISMATCH or AUTH_ERROR. */
export class RpcDeniedError extends RpcError {
  constructor(
    message: string,
    /** `ERR_RPC_MISMATCH` (the server speaks another RPC version) or `ERR_RPC_AUTH_ERROR` (the credentials were refused). */
    override readonly code: 'ERR_RPC_MISMATCH' | 'ERR_RPC_AUTH_ERROR',
    /** The reject_stat number (RFC 5531 §9): 0 RPC_MISMATCH, 1 AUTH_ERROR. */
    readonly rejectStat: number,
    /** For AUTH_ERROR: the auth_stat number (e.g. 1 AUTH_BADCRED, 5 AUTH_TOOWEAK). */
    readonly authStat?: number,
    /** For RPC_MISMATCH: the RPC versions the server supports. */
    readonly mismatch?: { low: number; high: number },
  ) {
    super(message);
    this.name = 'RpcDeniedError';
  }
}

/**
 * No reply: a soft mount's major timeout (every retransmission went
 * unanswered, see RetryPolicy). Its subclass RpcDeadlineError is the other
 * kind: the call's own deadline passed, however it was being retried.
 */
export class RpcTimeoutError extends RpcError {
  /** `ETIMEDOUT`, as node names a timed-out socket operation. */
  override code = 'ETIMEDOUT';
  /** -110, Linux's ETIMEDOUT as node's negative errno. */
  readonly errno = -110;
  constructor(message: string) {
    super(message);
    this.name = 'RpcTimeoutError';
  }
}

/** The call's deadline (its `timeout`) passed without a reply; it was given up, not retransmitted further. */
export class RpcDeadlineError extends RpcTimeoutError {
  constructor(
    message: string,
    /** The deadline, ms after the call started. */
    readonly deadlineMs: number,
  ) {
    super(message);
    this.name = 'RpcDeadlineError';
  }
}

/** Connecting failed or timed out, or the connection was lost with the call in flight. */
export class RpcConnectionError extends RpcError {
  constructor(
    message: string,
    /** The socket error's code (`ECONNREFUSED`, `ECONNRESET`, `EHOSTUNREACH`, …) or `ETIMEDOUT` for a connect timeout. */
    override code: string,
    /** The server address that was being connected to. */
    readonly address: string,
    /** The server port that was being connected to. */
    readonly port: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RpcConnectionError';
  }
}

/** The client was closed by its owner before the call completed. */
export class RpcClosedError extends RpcError {
  /** Always `ERR_RPC_CLOSED`. */
  override code = 'ERR_RPC_CLOSED';
  constructor(message = 'RPC client is closed') {
    super(message);
    this.name = 'RpcClosedError';
  }
}

/** Shaped like node's AbortError so `err.name === 'AbortError'` checks work. */
export class AbortError extends Error {
  /** `ABORT_ERR`, as node's AbortError. */
  readonly code = 'ABORT_ERR';
  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AbortError';
  }
}
