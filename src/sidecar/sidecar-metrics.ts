import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import {
  RPC_CHANNELS,
  type RpcCallMessage,
  type RpcCallSettleMessage,
  type RpcConnectMessage,
  type RpcReplyDroppedMessage,
  type RpcRetransmitMessage,
} from '../rpc/diagnostics.js';
import { Counter, Gauge, Histogram, LATENCY_BUCKETS, Registry, rpcOwnerOf } from './metrics.js';

/** The sidecar's metrics, by name; see README for what each means. */
export class SidecarMetrics {
  readonly registry = new Registry();
  readonly requests = this.registry.add(new Counter('mountless_http_requests_total', 'HTTP requests answered, by method and status code (499: the client went away first).'));
  readonly aborted = this.registry.add(new Counter('mountless_http_requests_aborted_total', 'Requests the client hung up on before the response was complete, by method.'));
  readonly duration = this.registry.add(new Histogram('mountless_http_request_duration_seconds', 'Time from request to the end of the response, by method.', LATENCY_BUCKETS));
  readonly bytesIn = this.registry.add(new Counter('mountless_http_request_bytes_total', 'Request body bytes received.'));
  readonly bytesOut = this.registry.add(new Counter('mountless_http_response_bytes_total', 'Response body bytes sent.'));
  readonly inflight = this.registry.add(new Gauge('mountless_http_requests_in_flight', 'Requests being handled now.'));
  readonly rejected = this.registry.add(new Counter('mountless_http_rejected_total', 'Requests refused before handling, by reason (auth, busy, draining).'));
  readonly nfsCalls = this.registry.add(new Counter('mountless_nfs_calls_total', 'NFS RPC calls by procedure (op) and outcome (ok, error, timeout, aborted, disconnected, closed), over every connection.'));
  readonly nfsLatency = this.registry.add(new Histogram('mountless_nfs_call_duration_seconds', 'NFS RPC call latency by procedure, queueing included.', LATENCY_BUCKETS));
  readonly rpc = this.registry.add(
    new Counter('mountless_nfs_rpc_total', 'RPC events over every NFS connection, by event: calls, replies, timeouts, retransmits, connects, reconnects, unknownXids, badReplies.'),
  );
  readonly rpcBytes = this.registry.add(new Counter('mountless_nfs_rpc_bytes_total', 'RPC record bytes over every NFS connection, by direction (sent: calls, received: replies).'));
  readonly reconnects = this.registry.add(new Counter('mountless_nfs_reconnects_total', 'TCP connections to the NFS server made to replace a lost one.'));

  /** The clients (diagnostics `owner`s) whose RPC traffic is counted. */
  private readonly owners = new Set<number>();
  private readonly handlers: Array<[string, (msg: unknown) => void]> = [];

  constructor(locks: () => number) {
    this.registry.add(new Gauge('mountless_dav_locks', 'WebDAV locks held.', locks));
    this.registry.add(new Gauge('process_resident_memory_bytes', 'Resident set size.', () => process.memoryUsage.rss()));
    this.registry.add(new Gauge('nodejs_heap_used_bytes', 'V8 heap in use.', () => process.memoryUsage().heapUsed));
    const started = Date.now() / 1000;
    this.registry.add(new Gauge('process_start_time_seconds', 'Start time, seconds since the epoch.', () => started));
  }

  /**
   * Counts, from now on, the RPC calls of `backend`'s NFS connections (all
   * of them under nconnect), as the RPC layer publishes them on its
   * diagnostics channels. Other clients in the process are not counted.
   */
  watchBackend(backend: object): void {
    const owner = rpcOwnerOf(backend);
    if (owner === undefined) return;
    this.owners.add(owner);
    if (this.handlers.length > 0) return;
    for (const event of ['calls', 'replies', 'timeouts', 'retransmits', 'connects', 'reconnects', 'unknownXids', 'badReplies']) this.rpc.inc({ event }, 0);
    this.on<RpcCallMessage>(RPC_CHANNELS.callStart, (m) => {
      this.rpc.inc({ event: 'calls' });
      this.rpcBytes.inc({ direction: 'sent' }, m.bytes);
    });
    this.on<RpcCallSettleMessage>(RPC_CHANNELS.callSettle, (m) => {
      this.nfsCalls.inc({ op: m.name, result: m.outcome });
      if (m.duration !== undefined) this.nfsLatency.observe(m.duration / 1000, { op: m.name });
      if (m.replyBytes !== undefined) {
        this.rpc.inc({ event: 'replies' });
        this.rpcBytes.inc({ direction: 'received' }, m.replyBytes);
      }
      if (m.outcome === 'timeout') this.rpc.inc({ event: 'timeouts' });
      if ((m.error as { code?: unknown } | undefined)?.code === 'ERR_XDR_DECODE') this.rpc.inc({ event: 'badReplies' });
    });
    this.on<RpcRetransmitMessage>(RPC_CHANNELS.callRetransmit, () => this.rpc.inc({ event: 'retransmits' }));
    this.on<RpcConnectMessage>(RPC_CHANNELS.connect, (m) => {
      this.rpc.inc({ event: 'connects' });
      if (m.reconnect) {
        this.rpc.inc({ event: 'reconnects' });
        this.reconnects.inc();
      }
    });
    this.on<RpcReplyDroppedMessage>(RPC_CHANNELS.replyDropped, (m) => this.rpc.inc({ event: m.reason === 'unknown-xid' ? 'unknownXids' : 'badReplies' }));
  }

  private on<M extends { owner: number }>(name: string, count: (m: M) => void): void {
    const h = (msg: unknown) => {
      if (this.owners.has((msg as M).owner)) count(msg as M);
    };
    subscribe(name, h);
    this.handlers.push([name, h]);
  }

  /** Stops listening to the RPC layer (the counts stay). */
  stop(): void {
    for (const [name, h] of this.handlers.splice(0)) unsubscribe(name, h);
  }

  render(): string {
    return this.registry.render();
  }
}
