// Our krb5 GSS mechanism against MIT's: the gss-server and gss-client sample
// programs (Debian krb5-gss-samples) speak a small token protocol over TCP
// (1 flags byte, 4-byte length, token). Our initiator runs a context with
// MIT's acceptor and exchanges Wrap/MIC tokens with it; MIT's initiator does
// the same with our acceptor. Skipped when the samples are not installed.
import t from 'tap';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Socket, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getServiceTicket } from '../../src/krb5/acquire.js';
import { readKeytab } from '../../src/krb5/files/keytab.js';
import { GssInitiator } from '../../src/krb5/gss/initiator.js';
import { GssAcceptor } from '../../src/krb5/gss/acceptor.js';
import { GssFlags } from '../../src/krb5/gss/context.js';
import { principalToString } from '../../src/krb5/messages/types.js';
import { startKdc, toolEnv } from './_kdc.js';

const TOKEN_NOOP = 1;
const TOKEN_CONTEXT = 2;
const TOKEN_DATA = 4;
const TOKEN_MIC = 8;
const TOKEN_CONTEXT_NEXT = 16;
const TOKEN_WRAPPED = 32;
const TOKEN_ENCRYPTED = 64;
const TOKEN_SEND_MIC = 128;

let haveSamples = true;
try {
  execFileSync('sh', ['-c', 'command -v gss-server && command -v gss-client'], { stdio: 'ignore' });
} catch {
  haveSamples = false;
}

const kdc = startKdc();
const dir = mkdtempSync(join(tmpdir(), 'mountless-gss-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const host = kdc.MOUNTLESS_KDC_SERVICE_HOST;
const hostService = `nfs@${host}`;

/** Reads gss-sample tokens from a socket. */
class TokenReader {
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  private ended = false;
  constructor(sock: Socket) {
    sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.waiters.splice(0).forEach((w) => w());
    });
    sock.on('close', () => {
      this.ended = true;
      this.waiters.splice(0).forEach((w) => w());
    });
  }
  async next(): Promise<{ flags: number; token: Buffer }> {
    for (;;) {
      if (this.buf.length >= 5) {
        const len = this.buf.readUInt32BE(1);
        if (this.buf.length >= 5 + len) {
          const out = { flags: this.buf[0]!, token: this.buf.subarray(5, 5 + len) };
          this.buf = this.buf.subarray(5 + len);
          return out;
        }
      }
      if (this.ended) throw new Error('connection closed');
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }
}

function sendToken(sock: Socket, flags: number, token: Buffer): void {
  const h = Buffer.alloc(5);
  h[0] = flags;
  h.writeUInt32BE(token.length, 1);
  sock.write(Buffer.concat([h, token]));
}

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

function collect(child: ChildProcess): { out: () => string; exit: Promise<number | null> } {
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  return { out: () => out, exit: new Promise((r) => child.on('exit', (code) => r(code))) };
}

t.test('our initiator with MIT\'s acceptor (gss-server)', { skip: !haveSamples && 'krb5-gss-samples not installed' }, async (t) => {
  for (const [label, etypes, conf] of [['aes-sha1, sealed', [18], true], ['aes-sha1, integrity only', [17], false], ['aes-sha2, sealed', [20], true], ['aes-sha2, integrity only', [19], false]] as const) {
    const port = await freePort();
    // -once: gss-server serves one connection and exits; we retry connecting until it listens.
    const server = spawn('gss-server', ['-port', String(port), '-once', '-keytab', kdc.MOUNTLESS_KDC_SERVICE_KEYTAB, hostService], { env: toolEnv(kdc) });
    const s2 = collect(server);
    t.teardown(() => server.kill());
    let sock: Socket | undefined;
    for (let i = 0; i < 100 && !sock; i++) {
      sock = await new Promise<Socket | undefined>((res) => {
        const c = connect(port, '127.0.0.1');
        c.once('connect', () => res(c)).once('error', () => res(undefined));
      });
      if (!sock) await new Promise((r) => setTimeout(r, 50));
    }
    t.ok(sock, 'connected to gss-server');
    const reader = new TokenReader(sock!);
    const st = await getServiceTicket(`nfs/${host}`, { env: toolEnv(kdc, { KRB5CCNAME: `FILE:${join(dir, 'none')}` }), keytab: etypes[0]! >= 19 ? kdc.MOUNTLESS_KDC_SHA2_CLIENT_KEYTAB : kdc.MOUNTLESS_KDC_CLIENT_KEYTAB, etypes });
    t.equal(st.sessionKey.keytype, etypes[0], `${label}: session key etype`);
    const ctx = new GssInitiator(st, { flags: GssFlags.MUTUAL | GssFlags.INTEG | GssFlags.CONF });
    sendToken(sock!, TOKEN_NOOP | TOKEN_CONTEXT_NEXT, Buffer.alloc(0));
    sendToken(sock!, TOKEN_CONTEXT, ctx.initialToken());
    const rep = await reader.next();
    t.equal(rep.flags, TOKEN_CONTEXT);
    ctx.step(rep.token);
    t.ok(ctx.established, `${label}: AP-REP verified, context established`);
    const msg = Buffer.from(`hello from mountless (${label})`);
    sendToken(sock!, TOKEN_DATA | TOKEN_WRAPPED | (conf ? TOKEN_ENCRYPTED : 0) | TOKEN_SEND_MIC, ctx.wrap(msg, conf));
    const mic = await reader.next();
    t.equal(mic.flags, TOKEN_MIC, `${label}: gss-server unwrapped our token and sent a MIC`);
    t.doesNotThrow(() => ctx.verifyMic(msg, mic.token), `${label}: MIT's MIC verifies`);
    t.throws(() => ctx.verifyMic(Buffer.from('something else'), mic.token), { code: 'ERR_KRB5_INTEGRITY' });
    sendToken(sock!, TOKEN_NOOP, Buffer.alloc(0));
    sock!.end();
    await s2.exit;
    t.match(s2.out(), new RegExp(`Accepted connection: "${principalToString(st.client).replace(/\./g, '\\.')}"`), `${label}: gss-server names our principal`);
    t.match(s2.out(), msg.toString(), `${label}: gss-server printed the message it unwrapped`);
  }
});

t.test('MIT\'s initiator (gss-client) with our acceptor', { skip: !haveSamples && 'krb5-gss-samples not installed' }, async (t) => {
  const keytab = await readKeytab(kdc.MOUNTLESS_KDC_SERVICE_KEYTAB);
  const ccache = join(dir, 'client.cc');
  const env = toolEnv(kdc, { KRB5CCNAME: `FILE:${ccache}` });
  execFileSync('kinit', ['-k', '-t', kdc.MOUNTLESS_KDC_CLIENT_KEYTAB, kdc.MOUNTLESS_KDC_CLIENT], { env });
  for (const args of [[], ['-nx'], ['-nomutual'], ['-seq']]) {
    const label = args.join(' ') || 'defaults';
    const got: { client?: string; message?: string; conf?: boolean; flags?: number } = {};
    const server = createServer((sock) => {
      const reader = new TokenReader(sock);
      void (async () => {
        let ctx: GssAcceptor | undefined;
        for (;;) {
          const { flags, token } = await reader.next();
          if (flags & TOKEN_CONTEXT_NEXT) continue;
          if (flags === TOKEN_NOOP) break;
          if (flags & TOKEN_CONTEXT) {
            ctx = GssAcceptor.accept(token, keytab);
            got.client = principalToString(ctx.peer);
            got.flags = ctx.flags;
            if (ctx.replyToken) sendToken(sock, TOKEN_CONTEXT, ctx.replyToken);
            continue;
          }
          const { message, conf } = ctx!.unwrap(token);
          got.message = message.toString();
          got.conf = conf;
          sendToken(sock, TOKEN_MIC, ctx!.getMic(message));
        }
        sock.end();
      })().catch((err: Error) => {
        got.message = `error: ${err.message}`;
        sock.destroy();
      });
    }).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    t.teardown(() => server.close());
    const port = (server.address() as AddressInfo).port;
    const child = spawn('gss-client', ['-port', String(port), ...args, '127.0.0.1', hostService, `hi from MIT (${label})`], { env });
    const c = collect(child);
    const code = await c.exit;
    server.close();
    t.equal(code, 0, `${label}: gss-client exit status`, { output: c.out() });
    t.match(c.out(), /Signature verified/, `${label}: MIT verified our MIC`);
    t.equal(got.client, kdc.MOUNTLESS_KDC_CLIENT, `${label}: we authenticated MIT's initiator`);
    t.equal(got.message, `hi from MIT (${label})`, `${label}: we unwrapped MIT's token`);
    t.equal(got.conf, !args.includes('-nx'), `${label}: confidentiality as requested`);
    t.equal(Boolean(got.flags! & GssFlags.MUTUAL), !args.includes('-nomutual'), `${label}: mutual flag`);
  }
});
