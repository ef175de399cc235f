import { randomBytes } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NfsClient } from '../fs/client.js';
import { CHALLENGES, TokenAuth } from './auth.js';
import type { SidecarConfig } from './config.js';
import { hasBody, send, sendXml, type Ctx, type Services } from './context.js';
import { evaluateIfHeader, handleLock, handleUnlock } from './dav-locks.js';
import { handlePropfind, handleProppatch } from './dav-props.js';
import { handleCopyMove, handleDelete, handleMkcol } from './dav-tree.js';
import { errorXml } from './dav-xml.js';
import { handleGet } from './get.js';
import { HttpError, toHttpError } from './http-errors.js';
import { fsPath, parseRequestPath } from './jail.js';
import { LockManager } from './locks.js';
import { errorFields, jsonLogger, silentLogger, type Logger } from './log.js';
import { DeadProps } from './props.js';
import { handlePut } from './put.js';
import { SidecarMetrics } from './sidecar-metrics.js';

const READ_METHODS = ['OPTIONS', 'GET', 'HEAD', 'PROPFIND'];
const WRITE_METHODS = ['PUT', 'DELETE', 'MKCOL', 'COPY', 'MOVE', 'PROPPATCH', 'LOCK', 'UNLOCK'];
const KNOWN_METHODS = new Set([...READ_METHODS, ...WRITE_METHODS]);

/**
 * The status logged and counted for a request whose client closed the
 * connection before the response was complete (nginx's "499 Client Closed
 * Request"): not a server error, whatever the handler saw afterwards.
 */
const CLIENT_CLOSED_REQUEST = 499;

/** How long /readyz waits for the NFS server before calling it unready. */
const READY_TIMEOUT = 5_000;

export interface SidecarOptions {
  /** Where logs go; default: JSON lines on stderr (or nothing with config.log 'off'). */
  logger?: Logger;
}

/**
 * The HTTP/WebDAV sidecar over one NFS client: the request pipeline (limits,
 * auth, jail, If header, dispatch, errors, logs and metrics), the admin
 * endpoints, and draining on close. The handlers live in get.ts, put.ts,
 * dav-*.ts; the NFS client is the caller's (close it after close()).
 */
export class Sidecar {
  readonly services: Services;
  private readonly server: Server;
  private admin: Server | undefined;
  private readonly auth: TokenAuth | undefined;
  /** Requests between arrival and the end of their response (busy rejections excluded). */
  private inflight = 0;
  /** Responses not yet closed (with their request), to tell them to close their connection when draining starts. */
  private readonly active = new Map<ServerResponse, Ctx>();
  /** Handlers still running (they may outlive their response: an aborted upload removes its temporary file). */
  private readonly handlers = new Set<Promise<void>>();
  private draining = false;
  private closing: Promise<void> | undefined;
  private idle: Array<() => void> = [];
  private seq = 0;
  private readonly idPrefix = randomBytes(3).toString('hex');

  constructor(nfs: NfsClient, config: SidecarConfig, opts: SidecarOptions = {}) {
    const log = opts.logger ?? (config.log === 'off' ? silentLogger : jsonLogger());
    const locks = new LockManager({ maxTimeout: config.maxLockTimeout, defaultTimeout: Math.min(600, config.maxLockTimeout) });
    const metrics = new SidecarMetrics(() => locks.size);
    metrics.watchBackend(nfs.backend);
    this.services = { nfs, locks, props: new DeadProps(nfs), config, log, metrics };
    this.auth = config.token ? new TokenAuth(config.token) : undefined;
    this.server = createServer(
      {
        headersTimeout: config.headerTimeout,
        // Uploads may take long: the idle timeout (no bytes moving) guards them instead.
        requestTimeout: 0,
        keepAliveTimeout: config.keepAliveTimeout,
        connectionsCheckingInterval: Math.max(250, Math.min(5_000, Math.floor(config.headerTimeout / 4))),
      },
      (req, res) => this.onRequest(req, res, false),
    );
    this.server.on('checkContinue', (req, res) => this.onRequest(req, res, true));
    this.server.setTimeout(config.idleTimeout);
  }

  /** Starts listening (and the admin listener, if configured). Resolves with the bound addresses. */
  async listen(): Promise<{ address: AddressInfo; admin: AddressInfo | undefined }> {
    const { config, log, locks } = this.services;
    await listenOn(this.server, config.listen.host, config.listen.port);
    if (config.adminListen) {
      this.admin = createServer((req, res) => this.onAdmin(req, res));
      await listenOn(this.admin, config.adminListen.host, config.adminListen.port);
    }
    locks.startSweeping();
    const address = this.server.address() as AddressInfo;
    const admin = this.admin?.address() as AddressInfo | undefined;
    log.info('listening', {
      address: `${address.address}:${address.port}`,
      ...(admin ? { admin: `${admin.address}:${admin.port}` } : {}),
      auth: this.auth ? 'token' : 'none',
      readOnly: config.readOnly,
    });
    return { address, admin };
  }

  get address(): AddressInfo | undefined {
    return (this.server.address() as AddressInfo | null) ?? undefined;
  }

  get adminAddress(): AddressInfo | undefined {
    return (this.admin?.address() as AddressInfo | null) ?? undefined;
  }

  /**
   * Stops accepting requests, lets those in flight finish (up to
   * drainTimeout), then closes every connection. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.drain();
    return this.closing;
  }

  private async drain(): Promise<void> {
    const { config, log, locks } = this.services;
    this.draining = true;
    log.info('draining', { inflight: this.inflight, timeoutMs: config.drainTimeout });
    for (const res of this.active.keys()) if (!res.headersSent) res.setHeader('Connection', 'close');
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      new Promise<boolean>((resolve) => {
        if (this.inflight === 0) resolve(false);
        else this.idle.push(() => resolve(false));
      }),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), config.drainTimeout);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      log.warn('drain timeout: closing connections with requests in flight', { inflight: this.inflight });
      for (const ctx of this.active.values()) ctx.cut ??= 503;
    }
    this.server.closeAllConnections();
    await closed;
    // Let handlers cut off above clean up (temporary upload files) while the NFS client is still open.
    await Promise.race([Promise.allSettled([...this.handlers]), new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
    if (this.admin) {
      const a = this.admin;
      await new Promise<void>((resolve) => {
        a.close(() => resolve());
        a.closeAllConnections();
      });
    }
    locks.stop();
    this.services.metrics.stop();
    log.info('stopped', {});
  }

  // ---- the request pipeline ----

  private onRequest(req: IncomingMessage, res: ServerResponse, expectContinue: boolean): void {
    const { config, metrics, log } = this.services;
    const t0 = performance.now();
    const id = requestId(req.headers['x-request-id']) ?? `${this.idPrefix}-${(++this.seq).toString(36)}`;
    res.setHeader('X-Request-Id', id);
    if (this.draining) res.setHeader('Connection', 'close');
    let bytesOut = 0;
    const write = res.write;
    const end = res.end;
    res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
      bytesOut += chunkLength(chunk);
      return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
    } as typeof res.write;
    res.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
      if (typeof chunk !== 'function') bytesOut += chunkLength(chunk);
      return (end as (...a: unknown[]) => ServerResponse).call(this, chunk, ...rest);
    } as typeof res.end;
    const method = req.method ?? 'GET';
    const remote = req.socket?.remoteAddress;
    const ctx: Ctx = { s: this.services, req, res, method, path: { parts: [], slash: true }, fsp: '/', bytesIn: 0, expectContinue };

    const busy = this.inflight >= config.maxConcurrent;
    if (!busy) {
      this.inflight++;
      this.active.set(res, ctx);
      metrics.inflight.add(1);
    }
    res.once('close', () => {
      if (!busy) {
        this.inflight--;
        this.active.delete(res);
        metrics.inflight.add(-1);
      }
      const secs = (performance.now() - t0) / 1000;
      const m = KNOWN_METHODS.has(method) ? method : 'OTHER';
      // Unfinished: cut by the sidecar (ctx.cut, or an error that destroyed the response) or by the client.
      const finished = res.writableFinished;
      const byClient = !finished && ctx.cut === undefined && !res.errored;
      const status = finished ? res.statusCode : byClient ? CLIENT_CLOSED_REQUEST : (ctx.cut ?? toHttpError(res.errored).status);
      metrics.requests.inc({ method: m, status: String(status) });
      if (byClient) metrics.aborted.inc({ method: m });
      metrics.duration.observe(secs, { method: m });
      metrics.bytesIn.inc({}, ctx.bytesIn);
      metrics.bytesOut.inc({}, bytesOut);
      log.info('request', {
        id,
        method,
        path: (req.url ?? '').slice(0, 2048),
        status,
        bytesIn: ctx.bytesIn,
        bytesOut,
        ms: Math.round(secs * 1e4) / 10,
        remote,
        ...(byClient ? { aborted: true, ...(res.headersSent ? { statusSent: res.statusCode } : {}) } : finished ? {} : { cut: true }),
      });
      if (this.draining) {
        this.server.closeIdleConnections();
        if (this.inflight === 0) for (const f of this.idle.splice(0)) f();
      }
    });
    if (busy) {
      metrics.rejected.inc({ reason: 'busy' });
      send(res, 503, 'too many requests in flight; retry\n', { 'Retry-After': '1', Connection: 'close' });
      return;
    }
    const h = this.dispatch(ctx)
      .catch((err) => this.fail(ctx, err))
      .catch(() => {
        ctx.cut ??= 500;
        res.destroy();
      });
    this.handlers.add(h);
    void h.finally(() => this.handlers.delete(h));
  }

  private async dispatch(ctx: Ctx): Promise<void> {
    const { req, res, method } = ctx;
    const { config, metrics } = this.services;
    if (this.auth && !this.auth.check(req.headers.authorization)) {
      metrics.rejected.inc({ reason: 'auth' });
      // No reading of an unauthenticated body: answer and close.
      throw new HttpError(401, 'authentication required', { headers: { 'WWW-Authenticate': CHALLENGES }, close: hasBody(req) });
    }
    ctx.path = parseRequestPath(req.url ?? '/');
    ctx.fsp = fsPath(ctx.path);
    if (!KNOWN_METHODS.has(method)) throw new HttpError(405, `${method} is not supported`, { headers: { Allow: this.allowed() } });
    if (config.readOnly && WRITE_METHODS.includes(method)) {
      throw new HttpError(405, 'the volume is served read-only', { headers: { Allow: this.allowed() } });
    }
    if (method === 'OPTIONS') {
      send(res, 200, undefined, {
        DAV: config.readOnly ? '1' : '1, 2',
        'MS-Author-Via': 'DAV',
        Allow: this.allowed(),
        'Accept-Ranges': 'bytes',
      });
      return;
    }
    const submitted = await evaluateIfHeader(ctx);
    switch (method) {
      case 'GET':
      case 'HEAD':
        return handleGet(ctx);
      case 'PUT':
        return handlePut(ctx, submitted);
      case 'DELETE':
        return handleDelete(ctx, submitted);
      case 'MKCOL':
        return handleMkcol(ctx, submitted);
      case 'COPY':
      case 'MOVE':
        return handleCopyMove(ctx, submitted);
      case 'PROPFIND':
        return handlePropfind(ctx);
      case 'PROPPATCH':
        return handleProppatch(ctx, submitted);
      case 'LOCK':
        return handleLock(ctx, submitted);
      case 'UNLOCK':
        return handleUnlock(ctx);
    }
  }

  private allowed(): string {
    return (this.services.config.readOnly ? READ_METHODS : [...READ_METHODS, ...WRITE_METHODS]).join(', ');
  }

  /** Answers with the error, or cuts the connection if the response had already started. */
  private async fail(ctx: Ctx, err: unknown): Promise<void> {
    const { req, res } = ctx;
    // The client went away (an aborted upload, a download it hung up on):
    // nobody to answer, and what the handler saw next ('Premature close',
    // a write after the end) is no server error. The request line says 499.
    if ((req.destroyed && !req.complete) || (res.destroyed && !res.writableFinished && !res.errored && ctx.cut === undefined)) {
      res.destroy();
      return;
    }
    const h = toHttpError(err);
    const cause = (h as { cause?: unknown }).cause ?? (h === err ? undefined : err);
    if (h.status >= 500) this.services.log.error('request failed', { method: ctx.method, path: req.url, status: h.status, ...errorFields(cause ?? err) });
    if (res.headersSent || res.destroyed) {
      ctx.cut ??= h.status;
      res.destroy();
      return;
    }
    // Headers set for a success that did not happen must not leak into the error.
    for (const k of ['content-type', 'content-length', 'content-range', 'etag', 'last-modified', 'accept-ranges']) res.removeHeader(k);
    const headers: Record<string, string | string[]> = { ...h.opts.headers };
    if (h.opts.close) headers.Connection = 'close';
    else if (hasBody(req) && !req.complete) {
      // The rest of the body must not be taken as the next request. A client
      // still waiting for 100-continue sends none: close. Otherwise read and
      // drop it first, so the client gets to read this answer rather than a
      // connection reset; past DISCARD_MAX, answer and close.
      if (ctx.expectContinue || !(await discardBody(req))) headers.Connection = 'close';
      if (res.destroyed) return;
    }
    if (h.opts.davCondition) {
      sendXml(res, h.status, errorXml(h.opts.davCondition, h.opts.davHrefs), headers);
      return;
    }
    send(res, h.status, ctx.method === 'HEAD' ? undefined : `${h.message}\n`, headers);
  }

  // ---- admin endpoints ----

  private onAdmin(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'GET only\n', { Allow: 'GET, HEAD' });
      return;
    }
    switch (path) {
      case '/healthz':
        send(res, 200, 'ok\n');
        return;
      case '/readyz':
        this.ready().then(
          (r) => send(res, r.ok ? 200 : 503, JSON.stringify(r) + '\n', { 'Content-Type': 'application/json' }),
          (err) => send(res, 500, `${(err as Error).message}\n`),
        );
        return;
      case '/metrics':
        send(res, 200, this.services.metrics.render(), { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
        return;
      default:
        send(res, 404, `${STATUS_CODES[404]}\n`);
    }
  }

  /** Ready when not draining and the NFS server answers an FSSTAT of the volume root in time. */
  async ready(): Promise<{ ok: boolean; status: string; ms?: number; error?: string }> {
    if (this.draining) return { ok: false, status: 'draining' };
    const t0 = performance.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.services.nfs.statfs('/'),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer from the NFS server in ${READY_TIMEOUT} ms`)), READY_TIMEOUT);
        }),
      ]);
      return { ok: true, status: 'ok', ms: Math.round((performance.now() - t0) * 10) / 10 };
    } catch (err) {
      return { ok: false, status: 'unavailable', error: (err as Error).message };
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Bytes of an unwanted request body read and dropped after an early error answer, before the connection is cut. */
const DISCARD_MAX = 16 * 1024 * 1024;

/** Reads and drops the rest of a request body; true if it ended within DISCARD_MAX bytes. */
function discardBody(req: IncomingMessage): Promise<boolean> {
  return new Promise((resolve) => {
    let n = 0;
    const done = (ok: boolean) => {
      req.off('data', onData);
      resolve(ok);
    };
    const onData = (c: Buffer) => {
      n += c.length;
      if (n > DISCARD_MAX) {
        req.pause();
        done(false);
      }
    };
    req.on('data', onData);
    req.once('end', () => done(true));
    req.once('error', () => done(false));
    req.once('close', () => done(req.complete));
    req.resume();
  });
}

function listenOn(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function chunkLength(chunk: unknown): number {
  if (chunk === undefined || chunk === null) return 0;
  if (typeof chunk === 'string') return Buffer.byteLength(chunk);
  if (ArrayBuffer.isView(chunk)) return chunk.byteLength;
  return 0;
}

/** A client-supplied request id, if it is short and plain enough to log. */
function requestId(h: string | string[] | undefined): string | undefined {
  const v = Array.isArray(h) ? h[0] : h;
  return v !== undefined && /^[A-Za-z0-9._:-]{1,64}$/.test(v) ? v : undefined;
}
