import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NfsClient } from '../fs/client.js';
import type { Stats } from '../fs/stats.js';
import type { SidecarConfig } from './config.js';
import { etagOf } from './conditional.js';
import { HttpError } from './http-errors.js';
import type { VolPath } from './jail.js';
import type { LockManager } from './locks.js';
import type { Logger } from './log.js';
import type { SidecarMetrics } from './sidecar-metrics.js';
import type { DeadProps } from './props.js';

/** What every handler can reach: one set per sidecar. */
export interface Services {
  nfs: NfsClient;
  locks: LockManager;
  props: DeadProps;
  config: SidecarConfig;
  log: Logger;
  metrics: SidecarMetrics;
}

/** One request being handled. */
export interface Ctx {
  s: Services;
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  path: VolPath;
  /** `path` as the NFS client names it ('/a/b'). */
  fsp: string;
  /** Request body bytes read so far (for logs and metrics). */
  bytesIn: number;
  /** The client sent `Expect: 100-continue` and is waiting to be told to send the body. */
  expectContinue: boolean;
  /**
   * Set when the sidecar itself cuts the response short (an error after the
   * headers went out, a drain timeout): the status to log and count. A
   * response that ends unfinished without it was cut by the client.
   */
  cut?: number;
}

export function parentOf(parts: readonly string[]): string[] {
  return parts.slice(0, -1);
}

export function code(err: unknown): string | undefined {
  return (err as { code?: string })?.code;
}

/** stat() following symlinks; undefined when nothing is there (ENOENT, or ENOTDIR on the way). */
export async function statOf(nfs: NfsClient, path: string): Promise<Stats | undefined> {
  try {
    return await nfs.stat(path);
  } catch (err) {
    const c = code(err);
    if (c === 'ENOENT' || c === 'ENOTDIR') return undefined;
    // A dangling symlink: report the link itself.
    if (c === 'ELOOP') return nfs.lstat(path);
    throw err;
  }
}

export function etagOfStats(st: Stats): string {
  return etagOf({ ino: st.ino, size: st.size, mtimeMs: st.mtimeMs });
}

/** `fn` over `items` with at most `limit` calls at once; results in order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const k = next++;
      out[k] = await fn(items[k]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** A request header as one string (the first, if it was sent more than once). */
export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Whether the request says it has a body (RFC 9112 §6.3). */
export function hasBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const len = req.headers['content-length'];
  return len !== undefined && len !== '0';
}

/** Tells a client waiting on `Expect: 100-continue` to send its body, once. */
export function continueBody(ctx: Ctx): void {
  if (ctx.expectContinue) {
    ctx.expectContinue = false;
    ctx.res.writeContinue();
  }
}

/** Reads a whole (small) request body; more than `max` bytes is a 413. */
export async function readBody(ctx: Ctx, max: number): Promise<Buffer> {
  if (!hasBody(ctx.req)) return Buffer.alloc(0);
  const declared = Number(ctx.req.headers['content-length'] ?? NaN);
  if (declared > max) throw new HttpError(413, `request body larger than ${max} bytes`);
  continueBody(ctx);
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of ctx.req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    n += chunk.length;
    ctx.bytesIn += chunk.length;
    if (n > max) throw new HttpError(413, `request body larger than ${max} bytes`);
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

export function send(res: ServerResponse, status: number, body?: string | Buffer, headers: Record<string, string | number | string[]> = {}): void {
  const b = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body) : body;
  res.statusCode = status;
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  if (b !== undefined) {
    if (!res.hasHeader('content-type')) res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.setHeader('Content-Length', b.length);
    res.end(b);
  } else {
    if (status !== 204 && status !== 304) res.setHeader('Content-Length', 0);
    res.end();
  }
}

export const XML_TYPE = 'application/xml; charset=utf-8';

export function sendXml(res: ServerResponse, status: number, xml: string, headers: Record<string, string | number | string[]> = {}): void {
  send(res, status, '<?xml version="1.0" encoding="utf-8"?>\n' + xml, { 'Content-Type': XML_TYPE, ...headers });
}
