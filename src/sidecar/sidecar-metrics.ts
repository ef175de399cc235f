import { Counter, Gauge, Histogram, instrumentBackend, LATENCY_BUCKETS, Registry, rpcStatsOf, wireBackend } from './metrics.js';

/** The sidecar's metrics, by name; see README for what each means. */
export class SidecarMetrics {
  readonly registry = new Registry();
  readonly requests = this.registry.add(new Counter('mountless_http_requests_total', 'HTTP requests answered, by method and status code.'));
  readonly duration = this.registry.add(new Histogram('mountless_http_request_duration_seconds', 'Time from request to the end of the response, by method.', LATENCY_BUCKETS));
  readonly bytesIn = this.registry.add(new Counter('mountless_http_request_bytes_total', 'Request body bytes received.'));
  readonly bytesOut = this.registry.add(new Counter('mountless_http_response_bytes_total', 'Response body bytes sent.'));
  readonly inflight = this.registry.add(new Gauge('mountless_http_requests_in_flight', 'Requests being handled now.'));
  readonly rejected = this.registry.add(new Counter('mountless_http_rejected_total', 'Requests refused before handling, by reason (auth, busy, draining).'));
  readonly nfsCalls = this.registry.add(new Counter('mountless_nfs_calls_total', 'NFS backend calls by operation (getattr, lookup, read, write, ...) and result.'));
  readonly nfsLatency = this.registry.add(new Histogram('mountless_nfs_call_duration_seconds', 'NFS backend call latency by operation.', LATENCY_BUCKETS));
  private rpc: (() => Record<string, number> | undefined) | undefined;

  constructor(locks: () => number) {
    this.registry.add(new Gauge('mountless_dav_locks', 'WebDAV locks held.', locks));
    this.registry.add(
      new Gauge(
        'mountless_nfs_rpc_total',
        "The NFS connection's RPC client counters, by event: calls, replies, timeouts, connects, unknownXids, badReplies.",
        () => Object.entries(this.rpc?.() ?? {}).map(([k, v]) => [{ event: k }, v]),
        'counter',
      ),
    );
    this.registry.add(
      new Gauge(
        'mountless_nfs_reconnects_total',
        'TCP connections to the NFS server after the first one.',
        () => {
          const st = this.rpc?.();
          // The RPC client's own count when it keeps one; otherwise every connect after the first.
          if (st?.reconnects !== undefined) return st.reconnects;
          return st?.connects === undefined ? 0 : Math.max(0, st.connects - 1);
        },
        'counter',
      ),
    );
    this.registry.add(new Gauge('process_resident_memory_bytes', 'Resident set size.', () => process.memoryUsage.rss()));
    this.registry.add(new Gauge('nodejs_heap_used_bytes', 'V8 heap in use.', () => process.memoryUsage().heapUsed));
    const started = Date.now() / 1000;
    this.registry.add(new Gauge('process_start_time_seconds', 'Start time, seconds since the epoch.', () => started));
  }

  /** Counts and times every call of the backend that goes on the wire; reads RPC stats from it. */
  watchBackend(backend: object): void {
    instrumentBackend(wireBackend(backend), this.nfsCalls, this.nfsLatency);
    this.rpc = () => rpcStatsOf(backend) as Record<string, number> | undefined;
  }

  render(): string {
    return this.registry.render();
  }
}
