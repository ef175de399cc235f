import { hostname } from 'node:os';
import { XdrWriter } from '../xdr/writer.js';

export const AUTH_NONE = 0;
export const AUTH_SYS = 1;

/**
 * An RPC credential, encoded once: every call copies these bytes rather than
 * re-encoding the machine name and gid list.
 */
export interface Credential {
  readonly flavor: number;
  /** opaque_auth as it goes on the wire: flavor + length-prefixed body. */
  readonly encoded: Buffer;
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
