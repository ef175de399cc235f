/**
 * Prometheus metrics in the text exposition format (version 0.0.4), with no
 * client library: counters, gauges and histograms with labels, rendered on
 * demand. Label values are escaped as the format requires.
 */

type Labels = Record<string, string>;

function labelKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}="${escapeLabel(labels[k]!)}"`)
    .join(',');
}

export function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function fmt(n: number): string {
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  if (Number.isNaN(n)) return 'NaN';
  return String(n);
}

interface Metric {
  render(): string;
}

export class Counter implements Metric {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels: Labels = {}, by = 1): void {
    const k = labelKey(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  get(labels: Labels = {}): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }
  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} counter\n`;
    if (this.values.size === 0) out += `${this.name} 0\n`;
    for (const [k, v] of this.values) out += `${this.name}${k ? `{${k}}` : ''} ${fmt(v)}\n`;
    return out;
  }
}

/**
 * A gauge: set, or read when rendered from `collect`. With type 'counter',
 * a counter kept elsewhere (e.g. the RPC client's statistics) read the same way.
 */
export class Gauge implements Metric {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly collect?: () => Array<[Labels, number]> | number,
    private readonly type: 'gauge' | 'counter' = 'gauge',
  ) {}
  set(v: number, labels: Labels = {}): void {
    this.values.set(labelKey(labels), v);
  }
  add(by: number, labels: Labels = {}): void {
    const k = labelKey(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} ${this.type}\n`;
    if (this.collect) {
      const c = this.collect();
      if (typeof c === 'number') out += `${this.name} ${fmt(c)}\n`;
      else for (const [l, v] of c) out += `${this.name}${Object.keys(l).length ? `{${labelKey(l)}}` : ''} ${fmt(v)}\n`;
      return out;
    }
    if (this.values.size === 0) out += `${this.name} 0\n`;
    for (const [k, v] of this.values) out += `${this.name}${k ? `{${k}}` : ''} ${fmt(v)}\n`;
    return out;
  }
}

interface Series {
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram implements Metric {
  private readonly series = new Map<string, Series>();
  constructor(
    readonly name: string,
    readonly help: string,
    /** Upper bounds, ascending; +Inf is implicit. */
    readonly buckets: readonly number[],
  ) {}
  observe(v: number, labels: Labels = {}): void {
    const k = labelKey(labels);
    let s = this.series.get(k);
    if (!s) this.series.set(k, (s = { counts: new Array(this.buckets.length).fill(0), sum: 0, count: 0 }));
    for (let i = 0; i < this.buckets.length; i++) if (v <= this.buckets[i]!) s.counts[i]!++;
    s.sum += v;
    s.count++;
  }
  count(labels: Labels = {}): number {
    return this.series.get(labelKey(labels))?.count ?? 0;
  }
  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} histogram\n`;
    for (const [k, s] of this.series) {
      const pre = k ? `${k},` : '';
      for (let i = 0; i < this.buckets.length; i++) out += `${this.name}_bucket{${pre}le="${fmt(this.buckets[i]!)}"} ${s.counts[i]}\n`;
      out += `${this.name}_bucket{${pre}le="+Inf"} ${s.count}\n`;
      out += `${this.name}_sum${k ? `{${k}}` : ''} ${fmt(s.sum)}\n`;
      out += `${this.name}_count${k ? `{${k}}` : ''} ${s.count}\n`;
    }
    return out;
  }
}

export class Registry {
  private readonly metrics: Metric[] = [];
  add<T extends Metric>(m: T): T {
    this.metrics.push(m);
    return m;
  }
  render(): string {
    return this.metrics.map((m) => m.render()).join('');
  }
}

/** Seconds; from 0.5 ms to 1 min, for HTTP requests and NFS calls alike. */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** The innermost backend (through caching and policy layers' `.inner`), the one that talks to the server. */
export function wireBackend(backend: object): object {
  let b = backend as { inner?: object };
  while (b.inner && typeof b.inner === 'object') b = b.inner as { inner?: object };
  return b;
}

/**
 * The identity the RPC layer's diagnostics messages give a backend's NFS
 * connections (src/rpc/diagnostics.ts `owner`), all of them under nconnect;
 * undefined for a backend without an RPC client.
 */
export function rpcOwnerOf(backend: object): number | undefined {
  const b = wireBackend(backend) as { rpc?: { opts?: { owner?: unknown } } };
  const owner = b.rpc?.opts?.owner;
  return typeof owner === 'number' ? owner : undefined;
}
