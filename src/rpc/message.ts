import { XdrReader } from '../xdr/reader.js';
import { XdrWriter } from '../xdr/writer.js';
import { XdrDecodeError } from '../xdr/errors.js';
import type { Credential } from './auth.js';
import { RpcAcceptedError, RpcDeniedError } from './errors.js';

// RFC 5531 §9, names verbatim.
export const RPC_VERSION = 2;
export const CALL = 0;
export const REPLY = 1;

export const MSG_ACCEPTED = 0;
export const MSG_DENIED = 1;

export const SUCCESS = 0;
export const PROG_UNAVAIL = 1;
export const PROG_MISMATCH = 2;
export const PROC_UNAVAIL = 3;
export const GARBAGE_ARGS = 4;
export const SYSTEM_ERR = 5;

export const RPC_MISMATCH = 0;
export const AUTH_ERROR = 1;

export const AUTH_STAT_NAMES: Record<number, string> = {
  0: 'AUTH_OK',
  1: 'AUTH_BADCRED',
  2: 'AUTH_REJECTEDCRED',
  3: 'AUTH_BADVERF',
  4: 'AUTH_REJECTEDVERF',
  5: 'AUTH_TOOWEAK',
  6: 'AUTH_INVALIDRESP',
  7: 'AUTH_FAILED',
  8: 'AUTH_KERB_GENERIC',
  9: 'AUTH_TIMEEXPIRE',
  10: 'AUTH_TKT_FILE',
  11: 'AUTH_DECODE',
  12: 'AUTH_NET_ADDR',
  13: 'RPCSEC_GSS_CREDPROBLEM',
  14: 'RPCSEC_GSS_CTXPROBLEM',
};

/** AUTH_NONE verifier, the only one AUTH_SYS calls send. */
const NULL_VERF = Buffer.alloc(8);

/**
 * Writes a call header after the 4-byte record mark the caller reserved.
 * The procedure's arguments follow in the same writer.
 */
export function encodeCallHeader(w: XdrWriter, xid: number, prog: number, vers: number, proc: number, cred: Credential): void {
  w.u32(xid);
  w.u32(CALL);
  w.u32(RPC_VERSION);
  w.u32(prog);
  w.u32(vers);
  w.u32(proc);
  w.fixed(cred.encoded);
  w.fixed(NULL_VERF);
}

/** Names the call in errors: "NFS3 v3 READ" style labels come from the caller. */
export interface CallLabel {
  prog: number;
  vers: number;
  proc: number;
  name?: string;
}

function label(c: CallLabel): string {
  return c.name ?? `program ${c.prog} v${c.vers} procedure ${c.proc}`;
}

/**
 * Reads the reply header after xid and msg_type. On MSG_ACCEPTED/SUCCESS it
 * returns with the reader positioned at the procedure's results; every other
 * outcome is thrown as a typed error naming the call. Returns the reply
 * verifier's body (a view), which only RPCSEC_GSS looks at.
 */
export function decodeReplyHeader(r: XdrReader, call: CallLabel): Buffer {
  const replyStat = r.u32('reply_stat');
  if (replyStat === MSG_ACCEPTED) {
    r.u32('verf.flavor');
    const verf = r.opaque(400, 'verf.body');
    const stat = r.u32('accept_stat');
    switch (stat) {
      case SUCCESS:
        return verf;
      case PROG_UNAVAIL:
        throw new RpcAcceptedError(`${label(call)}: PROG_UNAVAIL (program ${call.prog} not served)`, 'ERR_RPC_PROG_UNAVAIL', stat);
      case PROG_MISMATCH: {
        const low = r.u32('mismatch_info.low');
        const high = r.u32('mismatch_info.high');
        throw new RpcAcceptedError(
          `${label(call)}: PROG_MISMATCH (server supports versions ${low}..${high}, asked for ${call.vers})`,
          'ERR_RPC_PROG_MISMATCH',
          stat,
          { low, high },
        );
      }
      case PROC_UNAVAIL:
        throw new RpcAcceptedError(`${label(call)}: PROC_UNAVAIL`, 'ERR_RPC_PROC_UNAVAIL', stat);
      case GARBAGE_ARGS:
        throw new RpcAcceptedError(`${label(call)}: GARBAGE_ARGS (server could not decode the arguments)`, 'ERR_RPC_GARBAGE_ARGS', stat);
      case SYSTEM_ERR:
        throw new RpcAcceptedError(`${label(call)}: SYSTEM_ERR`, 'ERR_RPC_SYSTEM_ERR', stat);
      default:
        throw new XdrDecodeError(`RPC: invalid accept_stat ${stat} in reply to ${label(call)}`, 'accept_stat');
    }
  }
  if (replyStat === MSG_DENIED) {
    const rs = r.u32('reject_stat');
    if (rs === RPC_MISMATCH) {
      const low = r.u32('mismatch_info.low');
      const high = r.u32('mismatch_info.high');
      throw new RpcDeniedError(`${label(call)}: RPC_MISMATCH (server speaks RPC ${low}..${high})`, 'ERR_RPC_MISMATCH', rs, undefined, { low, high });
    }
    if (rs === AUTH_ERROR) {
      const as = r.u32('auth_stat');
      const name = AUTH_STAT_NAMES[as] ?? `auth_stat ${as}`;
      throw new RpcDeniedError(`${label(call)}: AUTH_ERROR ${name}`, 'ERR_RPC_AUTH_ERROR', rs, as);
    }
    throw new XdrDecodeError(`RPC: invalid reject_stat ${rs} in reply to ${label(call)}`, 'reject_stat');
  }
  throw new XdrDecodeError(`RPC: invalid reply_stat ${replyStat} in reply to ${label(call)}`, 'reply_stat');
}
