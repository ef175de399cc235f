/**
 * Typed failures of the RPC layer. Each has a stable `code`; the ones that
 * correspond to a socket-level errno use that errno's name so that callers of
 * the fs API see familiar codes (ETIMEDOUT, ECONNRESET).
 */
export class RpcError extends Error {
  code: string = 'ERR_RPC';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RpcError';
  }
}

/** A record was oversize or the byte stream could not be framed; the connection is reset. */
export class RpcRecordError extends RpcError {
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
    override readonly code: 'ERR_RPC_PROG_UNAVAIL' | 'ERR_RPC_PROG_MISMATCH' | 'ERR_RPC_PROC_UNAVAIL' | 'ERR_RPC_GARBAGE_ARGS' | 'ERR_RPC_SYSTEM_ERR',
    readonly acceptStat: number,
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
    override readonly code: 'ERR_RPC_MISMATCH' | 'ERR_RPC_AUTH_ERROR',
    readonly rejectStat: number,
    readonly authStat?: number,
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
  override code = 'ETIMEDOUT';
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
    override code: string,
    readonly address: string,
    readonly port: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RpcConnectionError';
  }
}

/** The client was closed by its owner before the call completed. */
export class RpcClosedError extends RpcError {
  override code = 'ERR_RPC_CLOSED';
  constructor(message = 'RPC client is closed') {
    super(message);
    this.name = 'RpcClosedError';
  }
}

/** Shaped like node's AbortError so `err.name === 'AbortError'` checks work. */
export class AbortError extends Error {
  readonly code = 'ABORT_ERR';
  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AbortError';
  }
}
