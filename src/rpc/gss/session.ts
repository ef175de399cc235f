import { XdrReader } from '../../xdr/reader.js';
import type { XdrWriter } from '../../xdr/writer.js';
import type { Credential, RpcSecurity } from '../auth.js';
import type { RpcClient } from '../client.js';
import type { CallLabel } from '../message.js';
import {
  decodeInitRes,
  encodeGssCallHead,
  GSS_S_COMPLETE,
  GSS_S_CONTINUE_NEEDED,
  gssMajorName,
  MAXSEQ,
  RPCSEC_GSS,
  RPCSEC_GSS_DATA,
  RPCSEC_GSS_DESTROY,
  RPCSEC_GSS_INIT,
  rpc_gss_svc_integrity,
  rpc_gss_svc_none,
  rpc_gss_svc_privacy,
  u32be,
  type RpcGssInitRes,
  type RpcGssService,
} from './cred.js';
import { RpcGssError } from './errors.js';
import type { GssMechanism, GssMechContext } from './mechanism.js';

/** auth_stat values that mean "make a new context and try again" (RFC 2203 section 5.3.3.3). */
const RPCSEC_GSS_CREDPROBLEM = 13;
const RPCSEC_GSS_CTXPROBLEM = 14;

const NO_HANDLE = Buffer.alloc(0);
const NULL_VERF = Buffer.alloc(8);
/** Contexts kept after being replaced, for replies to calls sent under them. */
const KEEP_OLD = 2;
/** A context is replaced this long before its ticket ends (at most a fifth of its life, at least 1 s). */
const RENEW_BEFORE_MS = 60_000;
/** After a failed early renewal, the next try waits this long (the old context still works). */
const RENEW_RETRY_MS = 5_000;
/** A new context is made before seq_num gets near MAXSEQ. */
const SEQ_LIMIT = MAXSEQ - 0x100000;

export interface GssSessionOptions {
  mechanism: GssMechanism;
  service: RpcGssService;
  /** The program whose NULL procedure carries context creation and destruction. */
  prog: number;
  vers: number;
  /** ms an RPCSEC_GSS_INIT or _DESTROY call may take. */
  timeout: number;
  now?: () => number;
}

/** One established context: what the server's handle names and what our side of it signs with. */
interface GssCtx {
  readonly epoch: number;
  readonly handle: Buffer;
  readonly mech: GssMechContext;
  readonly window: number;
  /** Next seq_num to send. */
  seq: number;
  /** When (ms) to start making the next context: before the ticket ends. */
  renewAt: number;
}

/**
 * RPCSEC_GSS version 1 (RFC 2203) for the calls of one RpcClient: the
 * context is made over the program's NULL procedure the first time a call
 * needs it, then every DATA call carries the context handle and a fresh
 * seq_num, a verifier (MIC of the header through the credential) and its
 * arguments as the service asks (none, integrity, privacy); every reply's
 * verifier (MIC of one of the call's seq_nums) is checked and its results
 * unwrapped before the procedure's decoder sees them.
 *
 * A new context is made, without failing calls, when the ticket nears its
 * end (calls keep using the old one until the new one is ready, and replies
 * to calls sent under it are still checked with it) and when the server
 * answers RPCSEC_GSS_CREDPROBLEM or _CTXPROBLEM (those calls are re-sent
 * under the new one).
 *
 * The seq_window the server grants bounds how far apart seq_nums on the
 * wire may be: one context serves one connection, whose calls are written
 * in seq_num order, and its in-flight limit is lowered to the window.
 */
export class GssSession implements RpcSecurity {
  readonly credential: Credential;
  private readonly opts: GssSessionOptions;
  private readonly now: () => number;
  private client: RpcClient | undefined;
  private ctx: GssCtx | undefined;
  /** Replaced contexts, newest first, for replies to calls sent under them. */
  private old: GssCtx[] = [];
  /** The context being made, if one is. */
  private making: Promise<void> | undefined;
  private epochs = 0;

  constructor(opts: GssSessionOptions) {
    this.opts = opts;
    this.now = opts.now ?? Date.now;
    this.credential = { flavor: RPCSEC_GSS, encoded: NO_HANDLE, security: this };
  }

  get epoch(): number {
    return this.ctx?.epoch ?? 0;
  }

  get wrapsResults(): boolean {
    return this.opts.service !== rpc_gss_svc_none;
  }

  get wrapsArgs(): boolean {
    return this.opts.service !== rpc_gss_svc_none;
  }

  /** The seq_window of the current context (for tests and diagnostics). */
  get window(): number | undefined {
    return this.ctx?.window;
  }

  prepare(client: RpcClient): Promise<void> | undefined {
    if (this.client !== undefined && this.client !== client) {
      return Promise.reject(new RpcGssError('RPCSEC_GSS: a session serves one RPC client; make one per connection', 'ERR_RPC_GSS_INIT'));
    }
    this.client = client;
    const c = this.ctx;
    if (c) {
      if ((this.now() >= c.renewAt || c.seq >= SEQ_LIMIT) && !this.making) this.renewEarly(c);
      return undefined;
    }
    return this.start();
  }

  /** The one context creation in progress, or a new one. */
  private start(): Promise<void> {
    this.making ??= this.create().finally(() => {
      this.making = undefined;
    });
    return this.making;
  }

  /** A new context before the current one's ticket ends; calls go on with the current one meanwhile. */
  private renewEarly(c: GssCtx): void {
    this.start().catch(() => {
      // The current context still works until the server says otherwise.
      c.renewAt = this.now() + RENEW_RETRY_MS;
    });
  }

  private async create(): Promise<void> {
    const client = this.client!;
    const { token, context, expiresAt } = await this.opts.mechanism.start();
    const started = this.now();
    let res: RpcGssInitRes;
    let verf: Buffer = NO_HANDLE;
    const init = this.nullCall(RPCSEC_GSS_INIT, 0, NO_HANDLE, undefined, (v) => {
      verf = v;
    });
    res = await client.call({ prog: this.opts.prog, vers: this.opts.vers, proc: 0, name: 'RPCSEC_GSS_INIT' }, (w) => w.opaque(token), decodeInitRes, {
      auth: init,
      timeout: this.opts.timeout,
    });
    if (res.gssMajor !== GSS_S_COMPLETE) {
      const why = res.gssMajor === GSS_S_CONTINUE_NEEDED ? 'asks for another round (GSS_S_CONTINUE_NEEDED), which krb5 never needs' : `refused the context: ${gssMajorName(res.gssMajor)} (gss_major 0x${res.gssMajor.toString(16)}, gss_minor ${res.gssMinor | 0})`;
      throw new RpcGssError(`RPCSEC_GSS_INIT: the server ${why}`, 'ERR_RPC_GSS_INIT', res.gssMajor, res.gssMinor);
    }
    if (res.gssToken.length > 0) context.step(res.gssToken);
    else if (!context.established) throw new RpcGssError('RPCSEC_GSS_INIT: the server sent no reply token for mutual authentication', 'ERR_RPC_GSS_INIT');
    if (res.seqWindow < 1) throw new RpcGssError(`RPCSEC_GSS_INIT: seq_window ${res.seqWindow}`, 'ERR_RPC_GSS_INIT');
    // The reply verifier is the MIC of seq_window: the context is the server's.
    try {
      context.verifyMic(u32be(res.seqWindow), verf);
    } catch (err) {
      throw new RpcGssError('RPCSEC_GSS_INIT: the reply verifier is not the MIC of seq_window', 'ERR_RPC_GSS_VERIFIER', undefined, undefined, { cause: err });
    }
    const life = expiresAt - started;
    const ctx: GssCtx = {
      epoch: ++this.epochs,
      handle: res.handle,
      mech: context,
      window: res.seqWindow,
      seq: 1,
      renewAt: expiresAt - Math.max(1000, Math.min(RENEW_BEFORE_MS, life / 5)),
    };
    if (this.ctx) this.old = [this.ctx, ...this.old].slice(0, KEEP_OLD);
    this.ctx = ctx;
    client.limitInFlight(res.seqWindow);
  }

  /**
   * The credential of one NULL-procedure call outside DATA (INIT, DESTROY):
   * its header and verifier are written like DATA's, its arguments go
   * unwrapped, and its reply verifier goes to `onVerf`.
   */
  private nullCall(gssProc: number, seq: number, handle: Buffer, mech: GssMechContext | undefined, onVerf: (verf: Buffer) => void): Credential {
    const service = this.opts.service;
    const security: RpcSecurity = {
      prepare: () => undefined,
      encodeCall(w, xid, call) {
        const head = encodeGssCallHead(xid, call.prog, call.vers, call.proc, gssProc, seq, service, handle);
        w.fixed(head);
        if (mech) w.u32(RPCSEC_GSS).opaque(mech.getMic(head));
        else w.fixed(NULL_VERF);
        return seq;
      },
      wrapsArgs: false,
      openReply(r, verf) {
        onVerf(Buffer.from(verf));
        return r;
      },
      epoch: 0,
      wrapsResults: false,
      recover: () => undefined,
    };
    return { flavor: RPCSEC_GSS, encoded: NO_HANDLE, security };
  }

  encodeCall(w: XdrWriter, xid: number, call: CallLabel, args: readonly Buffer[], argsLength: number): number {
    const c = this.ctx!;
    const seq = c.seq++;
    const service = this.opts.service;
    const head = encodeGssCallHead(xid, call.prog, call.vers, call.proc, RPCSEC_GSS_DATA, seq, service, c.handle);
    w.fixed(head);
    w.u32(RPCSEC_GSS).opaque(c.mech.getMic(head));
    if (service !== rpc_gss_svc_none) {
      // rpc_gss_data_t: the seq_num, then the arguments, under one MIC or one Wrap.
      const body = Buffer.allocUnsafe(4 + argsLength);
      body.writeUInt32BE(seq, 0);
      let at = 4;
      for (const a of args) at += a.copy(body, at);
      if (service === rpc_gss_svc_integrity) w.opaque(body).opaque(c.mech.getMic(body));
      else w.opaque(c.mech.wrap(body, true));
    }
    return seq;
  }

  openReply(r: XdrReader, verf: Buffer, call: CallLabel, sent: readonly number[], epoch: number): XdrReader {
    const c = this.ctxOf(epoch);
    const what = call.name ?? 'RPC reply';
    if (!c || !verifiesSomeSeq(c.mech, verf, sent)) {
      throw new RpcGssError(`${what}: RPCSEC_GSS reply verifier is not the MIC of the call's seq_num (forged, or not from this context)`, 'ERR_RPC_GSS_VERIFIER');
    }
    const service = this.opts.service;
    if (service === rpc_gss_svc_none) return r;
    let body: Buffer;
    if (service === rpc_gss_svc_integrity) {
      const data = r.opaque(undefined, 'rpc_gss_integ_data.databody_integ');
      const checksum = r.opaque(1024, 'rpc_gss_integ_data.checksum');
      try {
        c.mech.verifyMic(data, checksum);
      } catch (err) {
        throw new RpcGssError(`${what}: rpc_gss_integ_data checksum does not verify`, 'ERR_RPC_GSS_INTEGRITY', undefined, undefined, { cause: err });
      }
      body = data;
    } else if (service === rpc_gss_svc_privacy) {
      const token = r.opaque(undefined, 'rpc_gss_priv_data.databody_priv');
      let out: { message: Buffer; conf: boolean };
      try {
        out = c.mech.unwrap(token);
      } catch (err) {
        throw new RpcGssError(`${what}: rpc_gss_priv_data does not unwrap`, 'ERR_RPC_GSS_PRIVACY', undefined, undefined, { cause: err });
      }
      if (!out.conf) throw new RpcGssError(`${what}: rpc_gss_priv_data came without confidentiality`, 'ERR_RPC_GSS_PRIVACY');
      body = out.message;
    } else {
      throw new RpcGssError(`${what}: unknown RPCSEC_GSS service ${String(service)}`, 'ERR_RPC_GSS_INTEGRITY');
    }
    const code = service === rpc_gss_svc_integrity ? 'ERR_RPC_GSS_INTEGRITY' : 'ERR_RPC_GSS_PRIVACY';
    if (body.length < 4) throw new RpcGssError(`${what}: protected results shorter than their seq_num`, code);
    const seq = body.readUInt32BE(0);
    if (!sent.includes(seq)) throw new RpcGssError(`${what}: protected results carry seq_num ${seq}, which this call never sent`, code);
    return new XdrReader(body, 4);
  }

  private ctxOf(epoch: number): GssCtx | undefined {
    if (this.ctx?.epoch === epoch) return this.ctx;
    return this.old.find((c) => c.epoch === epoch);
  }

  recover(authStat: number, epoch: number): Promise<void> | undefined {
    if (authStat !== RPCSEC_GSS_CREDPROBLEM && authStat !== RPCSEC_GSS_CTXPROBLEM) return undefined;
    // Already replaced since the call went out: just send it again.
    if (this.ctx && this.ctx.epoch > epoch) return Promise.resolve();
    return this.start();
  }

  /** RPCSEC_GSS_DESTROY for the current context (RFC 2203 section 5.4); failures are ignored: the server times contexts out. */
  async release(client: RpcClient): Promise<void> {
    const c = this.ctx;
    if (!c || client !== this.client) return;
    this.ctx = undefined;
    this.old = [];
    const seq = c.seq++;
    let verf: Buffer = NO_HANDLE;
    const auth = this.nullCall(RPCSEC_GSS_DESTROY, seq, c.handle, c.mech, (v) => {
      verf = v;
    });
    try {
      await client.call({ prog: this.opts.prog, vers: this.opts.vers, proc: 0, name: 'RPCSEC_GSS_DESTROY' }, null, () => undefined, {
        auth,
        timeout: Math.min(this.opts.timeout, 2000),
      });
      verifiesSomeSeq(c.mech, verf, [seq]);
    } catch {
      // Best effort: the context expires on the server with its ticket.
    }
  }
}

function verifiesSomeSeq(mech: GssMechContext, verf: Buffer, sent: readonly number[]): boolean {
  for (let i = sent.length - 1; i >= 0; i--) {
    try {
      mech.verifyMic(u32be(sent[i]!), verf);
      return true;
    } catch {
      // Not this transmission's; try an earlier one.
    }
  }
  return false;
}
