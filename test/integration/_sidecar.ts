// Shared by the sidecar integration tests: a sidecar on a random port serving
// a fresh volume directory (<scratch>/vol) on the real server, and a raw HTTP
// client (node's fetch normalises '..' and percent-encoding away; the jail
// tests need the bytes sent as written).
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect, type NfsClient } from '../../src/index.js';
import { resolveConfig, type SidecarConfig } from '../../src/sidecar/config.js';
import type { Logger } from '../../src/sidecar/log.js';
import { Sidecar } from '../../src/sidecar/server.js';
import { scratch, urlWith, type Scratch } from './_env.js';

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface Running {
  sidecar: Sidecar;
  config: SidecarConfig;
  port: number;
  adminPort: number | undefined;
  /** The scratch directory; the volume is its `vol` subdirectory. */
  s: Scratch;
  /** The volume root as the test's own NFS client names it. */
  vol: string;
  /** The volume root on the server's disk. */
  volLocal: string;
  /** The sidecar's own client. */
  nfs: NfsClient;
  logs: Array<Record<string, unknown>>;
}

/**
 * Starts a sidecar; `flags` as `mountless serve` takes them (url and listen
 * are filled in); `query` adds connect options to the volume URL (`nconnect=4`).
 */
export async function startSidecar(t: Teardown, flags: Record<string, string | true> = {}, env: NodeJS.ProcessEnv = {}, query = ''): Promise<Running> {
  const s = await scratch(t, 'sidecar');
  await s.nfs.mkdir(s.at('vol'));
  const url = urlWith(s.at('vol'), query);
  const nfs = await connect(url);
  const config = await resolveConfig(new Map(Object.entries({ url, listen: '127.0.0.1:0', ...flags })), env, async (p) => {
    const { readFile } = await import('node:fs/promises');
    return readFile(p, 'utf8');
  });
  const logs: Array<Record<string, unknown>> = [];
  const logger: Logger = {
    info: (msg, f) => logs.push({ level: 'info', msg, ...f }),
    warn: (msg, f) => logs.push({ level: 'warn', msg, ...f }),
    error: (msg, f) => logs.push({ level: 'error', msg, ...f }),
  };
  const sidecar = new Sidecar(nfs, config, { logger });
  const { address, admin } = await sidecar.listen();
  t.teardown(async () => {
    await sidecar.close();
    await nfs.close();
  });
  return { sidecar, config, port: address.port, adminPort: admin?.port, s, vol: s.at('vol'), volLocal: s.localAt('vol'), nfs, logs };
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

export interface RequestOpts {
  headers?: Record<string, string | number | string[]>;
  /** A whole body (sent with Content-Length), or chunks (sent chunked). */
  body?: string | Buffer | Array<string | Buffer>;
}

/** One HTTP request with the path sent exactly as given. */
export function request(port: number, method: string, path: string, o: RequestOpts = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number | string[]> = { ...o.headers };
    const whole = typeof o.body === 'string' || Buffer.isBuffer(o.body) ? Buffer.from(o.body) : undefined;
    if (whole) headers['Content-Length'] = whole.length;
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        const body = Buffer.concat(parts);
        resolve({ status: res.statusCode!, headers: res.headers, body, text: body.toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (whole) req.end(whole);
    else if (Array.isArray(o.body)) {
      for (const c of o.body) req.write(c);
      req.end();
    } else req.end();
  });
}

/** Metrics text from the admin port. */
export async function metrics(adminPort: number): Promise<string> {
  return (await request(adminPort, 'GET', '/metrics')).text;
}

/** Waits (bounded) until `cond` holds; for effects that land after a response, such as an aborted upload's cleanup. */
export async function eventually(cond: () => Promise<boolean>, what: string, tries = 100): Promise<void> {
  for (let k = 0; k < tries; k++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gave up waiting for: ${what}`);
}
