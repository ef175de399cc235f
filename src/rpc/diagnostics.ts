/**
 * RPC-level events on node's `diagnostics_channel`, for metrics and tracing
 * without reaching into the client: anyone may subscribe by channel name
 * (`diagnostics_channel.subscribe('mountless:rpc:call:settle', fn)`), and a
 * channel nobody listens to costs one `hasSubscribers` check per event. The
 * RPC client checks it before building a message, so messages are only made
 * for a listener.
 *
 * Every message names its connection (`connection`, one per RpcClient, unique
 * in the process) and the client it works for (`owner`): the connections of
 * one mount under nconnect share an owner, so a subscriber counts one mount's
 * traffic, over all its connections, and not another's in the same process.
 *
 * Messages are published synchronously from inside the client; a subscriber
 * must not throw (node reports a throwing subscriber as an uncaught
 * exception on the next tick) and must not keep `error` objects longer than
 * it needs them.
 */
import { AbortError, RpcClosedError, RpcConnectionError, RpcTimeoutError } from './errors.js';
import { channel } from 'node:diagnostics_channel';
import type { CallLabel } from './message.js';

/** Names of the channels, as published. */
export const RPC_CHANNELS = {
  callStart: 'mountless:rpc:call:start',
  callSettle: 'mountless:rpc:call:settle',
  callRetransmit: 'mountless:rpc:call:retransmit',
  connect: 'mountless:rpc:connect',
  replyDropped: 'mountless:rpc:reply:dropped',
} as const;

/** A call was accepted by call() (encoded; queued or sent). */
export const callStart = channel(RPC_CHANNELS.callStart);
/** A call ended: replied, failed, timed out, aborted, or cut off. Exactly once per start. */
export const callSettle = channel(RPC_CHANNELS.callSettle);
/** A call went out again (minor timeout, or a new connection after a loss), same xid. */
export const callRetransmit = channel(RPC_CHANNELS.callRetransmit);
/** A TCP (or TLS) connection was established. */
export const connectChannel = channel(RPC_CHANNELS.connect);
/** A record came in that matched no pending call, or whose header could not be read; it was dropped. */
export const replyDropped = channel(RPC_CHANNELS.replyDropped);

/** Who sends: an RpcClient, as messages name it. */
export interface RpcSource {
  /** This connection: unique in the process. */
  readonly id: number;
  readonly opts: { readonly owner: number; readonly host: string; readonly port: number };
}

/** What every call message says about the call. */
export interface RpcCallMessage {
  /** The client the connection works for; shared by a mount's connections (nconnect). */
  owner: number;
  connection: number;
  xid: number;
  prog: number;
  vers: number;
  proc: number;
  /** The procedure's name (NFSPROC3_READ, `NFSv4 COMPOUND read`, MOUNTPROC3_MNT, ...). */
  name: string;
  /** The call record: RPC header and arguments, record marks excluded. */
  bytes: number;
}

/**
 * How a call ended. `ok`: a reply came and decoded (NFS errors such as
 * NFS3ERR_NOENT are in the results: still `ok` at this level). `error`: a
 * reply came but the call failed (denied, not accepted, undecodable).
 * `timeout`: no reply in time (ETIMEDOUT). `aborted`: the caller's signal.
 * `disconnected`: the connection was lost with the call on the wire (no
 * retry policy). `closed`: the client was closed with the call pending.
 */
export type RpcOutcome = 'ok' | 'error' | 'timeout' | 'aborted' | 'disconnected' | 'closed';

export interface RpcCallSettleMessage extends RpcCallMessage {
  outcome: RpcOutcome;
  /** The rejection, for every outcome but `ok`. */
  error: unknown;
  /** ms from call() to settlement; undefined when nobody subscribed to this channel when the call started. */
  duration: number | undefined;
  /** The reply record's bytes (payload placed straight into the caller's buffer included); undefined without a reply. */
  replyBytes: number | undefined;
  /** Times the call was sent again. */
  retransmits: number;
}

export interface RpcRetransmitMessage extends RpcCallMessage {
  /** Retransmissions of this call so far, this one included. */
  retransmits: number;
}

export interface RpcConnectMessage {
  owner: number;
  connection: number;
  host: string;
  port: number;
  /** Not the connection's first: it replaces one that was lost. */
  reconnect: boolean;
}

export interface RpcReplyDroppedMessage {
  owner: number;
  connection: number;
  /** `unknown-xid`: late, duplicate or forged; `bad-header`: too short to name a call. */
  reason: 'unknown-xid' | 'bad-header';
  bytes: number;
}

/** The call as the client holds it (a structural view of its pending-call record). */
interface CallFacts {
  xid: number;
  label: CallLabel;
  /** Record bytes including the 4-byte record mark. */
  bytes: number;
}

export function callMessage(src: RpcSource, c: CallFacts): RpcCallMessage {
  const l = c.label;
  return {
    owner: src.opts.owner,
    connection: src.id,
    xid: c.xid,
    prog: l.prog,
    vers: l.vers,
    proc: l.proc,
    name: l.name ?? `program ${l.prog} v${l.vers} procedure ${l.proc}`,
    bytes: c.bytes - 4,
  };
}

export function settleMessage(
  src: RpcSource,
  c: CallFacts & { started: number; retransmits: number },
  failed: boolean,
  result: unknown,
  replyBytes: number | undefined,
): RpcCallSettleMessage {
  return {
    ...callMessage(src, c),
    outcome: failed ? outcomeOf(result, replyBytes !== undefined) : 'ok',
    error: failed ? result : undefined,
    duration: c.started >= 0 ? performance.now() - c.started : undefined,
    replyBytes,
    retransmits: c.retransmits,
  };
}

function outcomeOf(err: unknown, replied: boolean): RpcOutcome {
  if (replied) return 'error';
  if (err instanceof RpcTimeoutError) return 'timeout';
  if (err instanceof AbortError) return 'aborted';
  if (err instanceof RpcClosedError) return 'closed';
  if (err instanceof RpcConnectionError) return 'disconnected';
  return 'error';
}

let lastConnectionId = 0;

/** A fresh connection id (1, 2, ...), unique in the process. */
export function nextConnectionId(): number {
  return ++lastConnectionId;
}
