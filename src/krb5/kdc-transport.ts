import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { Krb5Error } from './errors.js';
import { parseKdcAddress } from './files/config.js';

/**
 * Sending one request to a realm's KDCs (RFC 4120 section 7.2): over TCP each
 * message is preceded by its length as a 4-byte big-endian number whose top
 * bit must be clear; over UDP a datagram is the message. KDCs are tried in
 * the order configured; the first reply wins. A KDC that refuses the
 * connection, times out or sends garbage framing moves us to the next; when
 * none answers the error lists what happened with each.
 */
export interface KdcTransportOptions {
  /** Per-KDC timeout in milliseconds (connect and reply). */
  timeoutMs?: number;
  /** Replies larger than this are refused (a KDC reply is a few KiB). */
  maxReplyBytes?: number;
  /** Stops waiting for the KDC being tried (it counts as unreachable). */
  signal?: AbortSignal;
}

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_MAX_REPLY = 1 << 20;

export async function sendToKdcs(realm: string, kdcs: readonly string[], message: Buffer, opts: KdcTransportOptions = {}): Promise<Buffer> {
  if (kdcs.length === 0) throw new Krb5Error('ERR_KRB5_CONFIG', `krb5: no KDC known for realm ${realm}: add it to [realms] in krb5.conf (KRB5_CONFIG) or give kdc in the options`);
  const failures: string[] = [];
  for (const spec of kdcs) {
    const addr = parseKdcAddress(spec);
    try {
      return addr.transport === 'udp' ? await sendUdp(addr.host, addr.port, message, opts) : await sendTcp(addr.host, addr.port, message, opts);
    } catch (err) {
      if (err instanceof Krb5Error && err.code !== 'ERR_KRB5_KDC_UNREACHABLE') throw err;
      failures.push(`${spec}: ${(err as Error).message}`);
    }
  }
  throw new Krb5Error('ERR_KRB5_KDC_UNREACHABLE', `krb5: no KDC of realm ${realm} answered (${failures.join('; ')})`);
}

function sendTcp(host: string, port: number, message: Buffer, opts: KdcTransportOptions): Promise<Buffer> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxReply = opts.maxReplyBytes ?? DEFAULT_MAX_REPLY;
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port });
    const chunks: Buffer[] = [];
    let have = 0;
    let want = -1;
    let settled = false;
    const finish = (err: Error | undefined, value?: Buffer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      sock.destroy();
      if (err) reject(err);
      else resolve(value!);
    };
    const onAbort = (): void => finish(new Krb5Error('ERR_KRB5_KDC_UNREACHABLE', 'aborted'));
    const timer = setTimeout(() => finish(new Krb5Error('ERR_KRB5_KDC_UNREACHABLE', `no reply within ${timeoutMs} ms`)), timeoutMs);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    sock.on('connect', () => {
      const hdr = Buffer.alloc(4);
      hdr.writeUInt32BE(message.length, 0);
      sock.write(Buffer.concat([hdr, message]));
    });
    sock.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      have += chunk.length;
      if (want < 0 && have >= 4) {
        const head = Buffer.concat(chunks);
        const len = head.readUInt32BE(0);
        if (len & 0x80000000) return finish(new Krb5Error('ERR_KRB5_KDC_UNREACHABLE', 'reply length has the reserved high bit set'));
        if (len > maxReply) return finish(new Krb5Error('ERR_KRB5_KDC_UNREACHABLE', `reply of ${len} bytes exceeds the ${maxReply}-byte limit`));
        want = len;
      }
      if (want >= 0 && have >= 4 + want) finish(undefined, Buffer.concat(chunks).subarray(4, 4 + want));
    });
    sock.on('error', (err: NodeJS.ErrnoException) => finish(new Krb5Error('ERR_KRB5_KDC_UNREACHABLE', `${err.code ?? err.message} connecting to ${host}:${port}`, { cause: err })));
    sock.on('close', () => finish(new Krb5Error('ERR_KRB5_KDC_UNREACHABLE', want < 0 ? 'connection closed before a reply' : `connection closed after ${have - 4} of ${want} reply bytes`)));
  });
}

function sendUdp(host: string, port: number, message: Buffer, opts: KdcTransportOptions): Promise<Buffer> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const sock = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    let settled = false;
    const finish = (err: Error | undefined, value?: Buffer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.close();
      if (err) reject(err);
      else resolve(value!);
    };
    const timer = setTimeout(() => finish(new Krb5Error('ERR_KRB5_KDC_UNREACHABLE', `no UDP reply within ${timeoutMs} ms`)), timeoutMs);
    sock.on('message', (msg) => finish(undefined, msg));
    sock.on('error', (err: NodeJS.ErrnoException) => finish(new Krb5Error('ERR_KRB5_KDC_UNREACHABLE', `${err.code ?? err.message} on UDP ${host}:${port}`, { cause: err })));
    sock.send(message, port, host);
  });
}
