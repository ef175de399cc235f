import { hostname } from 'node:os';
import type { XdrReader } from '../xdr/reader.js';
import { XdrWriter } from '../xdr/writer.js';
import type { CallLabel } from './message.js';

export const AUTH_NONE = 0;
export const AUTH_SYS = 1;

/**
 * An RPC credential, encoded once: every call copies these bytes rather than
 * re-encoding the machine name and gid list.
 */
export interface Credential {
  readonly flavor: number;
  /** opaque_auth as it goes on the wire: flavor + length-prefixed body (unused with `security`). */
  readonly encoded: Buffer;
  /** Set for flavors that encode each call themselves (RPCSEC_GSS). */
  readonly security?: RpcSecurity;
}

export function authNone(): Credential {
  return { flavor: AUTH_NONE, encoded: Buffer.from([0, 0, 0, 0, 0, 0, 0, 0]) };
}

export interface AuthSysParams {
  uid: number;
  gid: number;
  /** Supplementary groups; RFC 5531 allows at most 16. */
  gids?: number[];
  machineName?: string;
  stamp?: number;
}

const MAX_MACHINE_NAME = 255;
const MAX_GIDS = 16;

/** AUTH_SYS (RFC 5531 appendix A). */
export function authSys(p: AuthSysParams): Credential {
  const gids = p.gids ?? [];
  const machine = p.machineName ?? hostname();
  for (const [k, v] of [['uid', p.uid], ['gid', p.gid], ...gids.map((g) => ['gids[]', g] as const)] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`AUTH_SYS: ${k} must be a uint32, got ${v}`);
  }
  if (gids.length > MAX_GIDS) throw new RangeError(`AUTH_SYS: at most ${MAX_GIDS} supplementary gids, got ${gids.length}`);
  if (Buffer.byteLength(machine) > MAX_MACHINE_NAME) throw new RangeError('AUTH_SYS: machine name longer than 255 bytes');
  const body = new XdrWriter(64);
  body.u32(p.stamp ?? (Date.now() / 1000) >>> 0);
  body.string(machine);
  body.u32(p.uid);
  body.u32(p.gid);
  body.u32(gids.length);
  for (const g of gids) body.u32(g);
  const bodyBuf = body.toBuffer();
  const w = new XdrWriter(bodyBuf.length + 8);
  w.u32(AUTH_SYS);
  w.opaque(bodyBuf);
  return { flavor: AUTH_SYS, encoded: w.toBuffer() };
}

/**
 * A security flavor that protects each call itself (RPCSEC_GSS): it writes
 * the header, credential, verifier and (wrapped) arguments anew at every
 * transmission, and checks and unwraps every reply before the procedure's
 * decoder runs. A Credential without one is copied verbatim (AUTH_NONE,
 * AUTH_SYS), and the RPC client's path for those does not look further.
 */
export interface RpcSecurity {
  /**
   * Resolves once the flavor can encode calls for `client` (an RPCSEC_GSS
   * context made over it); undefined when it already can, so a ready
   * flavor costs no promise per call.
   */
  prepare(client: import('./client.js').RpcClient): Promise<void> | undefined;
  /**
   * Writes the call from xid through the verifier for one transmission,
   * then, when `wrapsArgs`, the protected arguments (`args`, XDR-encoded
   * in pieces, `argsLength` bytes in all); otherwise the client sends
   * `args` as they are after what this wrote. Returns what the reply is
   * checked against (the RPCSEC_GSS seq_num of this transmission).
   */
  encodeCall(w: XdrWriter, xid: number, call: CallLabel, args: readonly Buffer[], argsLength: number): number;
  /** True when the arguments are wrapped (integrity, privacy) rather than sent as they are. */
  readonly wrapsArgs: boolean;
  /**
   * Checks the reply's verifier (body `verf`) against one of `sent` (the
   * values encodeCall returned for this call, oldest first; `epoch` the
   * flavor's epoch at the last of them) and returns a
   * reader over the results, unwrapped. Throws a typed error when the reply
   * is not genuine.
   */
  openReply(r: XdrReader, verf: Buffer, call: CallLabel, sent: readonly number[], epoch: number): XdrReader;
  /** Changes whenever the flavor starts over (a new RPCSEC_GSS context); recover() is told which one a call used. */
  readonly epoch: number;
  /** True when results are wrapped (integrity, privacy): no reply payload may be placed before openReply. */
  readonly wrapsResults: boolean;
  /**
   * The server refused a call made under `epoch` with AUTH_ERROR `authStat`:
   * a promise that resolves when re-sending it may succeed (a new context),
   * or undefined when this flavor cannot help.
   */
  recover(authStat: number, epoch: number): Promise<void> | undefined;
  /** Releases server state for `client` before it closes (RPCSEC_GSS_DESTROY); never rejects. */
  release?(client: import('./client.js').RpcClient): Promise<void>;
}
