import type { RpcClient, CallOptions } from '../rpc/client.js';
import { RpcAcceptedError } from '../rpc/errors.js';

// RFC 1833 §3 (portmapper v2).
export const PMAP_PROG = 100000;
export const PMAP_VERS = 2;
export const PMAPPROC_NULL = 0;
export const PMAPPROC_GETPORT = 3;
export const PMAP_PORT = 111;

export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

/** PMAPPROC_GETPORT: the port `prog`/`vers` listens on, or 0 when it is not registered. */
export function pmapGetport(rpc: RpcClient, prog: number, vers: number, prot = IPPROTO_TCP, opts?: CallOptions): Promise<number> {
  return rpc.call(
    { prog: PMAP_PROG, vers: PMAP_VERS, proc: PMAPPROC_GETPORT, name: 'PMAPPROC_GETPORT' },
    (w) => {
      w.u32(prog);
      w.u32(vers);
      w.u32(prot);
      w.u32(0);
    },
    (r) => {
      const port = r.u32('port');
      r.done('PMAPPROC_GETPORT reply');
      return port;
    },
    opts,
  );
}

export function pmapNull(rpc: RpcClient, opts?: CallOptions): Promise<void> {
  return rpc.call({ prog: PMAP_PROG, vers: PMAP_VERS, proc: PMAPPROC_NULL, name: 'PMAPPROC_NULL' }, null, () => {}, opts);
}

// RFC 1833 §2 (rpcbind v3 and v4): addresses as universal address strings,
// which name IPv6 where v2's (port only, for IPv4) cannot.
export const RPCBVERS_3 = 3;
export const RPCBVERS_4 = 4;
export const RPCBPROC_GETADDR = 3;

/** A universal address is at most an IPv6 address, its port and dots; anything longer is not one. */
const MAX_UADDR = 128;

/**
 * RPCBPROC_GETADDR (rpcbind v3 or v4): the universal address of `prog`/`vers`
 * over `netid` ('tcp6'), or '' when it is not registered.
 */
export function rpcbGetaddr(rpc: RpcClient, prog: number, vers: number, netid: string, rpcbVers: 3 | 4 = RPCBVERS_4, opts?: CallOptions): Promise<string> {
  return rpc.call(
    { prog: PMAP_PROG, vers: rpcbVers, proc: RPCBPROC_GETADDR, name: `RPCBPROC_GETADDR (v${rpcbVers})` },
    (w) => {
      w.u32(prog);
      w.u32(vers);
      w.string(netid);
      w.string('');
      w.string('');
    },
    (r) => {
      const uaddr = r.string(MAX_UADDR, 'uaddr');
      r.done('RPCBPROC_GETADDR reply');
      return uaddr;
    },
    opts,
  );
}

/**
 * The port of a universal address: its last two dot-separated fields are the
 * port's high and low bytes ("::1.8.1" is port 2049). Throws on anything
 * else, since a server-supplied string decides where we connect.
 */
export function uaddrPort(uaddr: string): number {
  const m = /\.(\d{1,3})\.(\d{1,3})$/.exec(uaddr);
  const hi = m ? Number(m[1]) : NaN;
  const lo = m ? Number(m[2]) : NaN;
  if (!(hi <= 255 && lo <= 255) || hi * 256 + lo === 0) throw new RangeError(`rpcbind: '${uaddr}' is not a universal address with a port`);
  return hi * 256 + lo;
}

/**
 * The TCP port of `prog`/`vers` at the host `rpc` talks to, 0 when it is not
 * registered. Over IPv6 rpcbind v4 (then v3) GETADDR is asked for the 'tcp6'
 * registration; v2 GETPORT only knows IPv4 ones, and is the fallback for an
 * rpcbind without v3/v4 and the way for IPv4. The port is taken from the
 * universal address; the host stays the one we reached rpcbind on, as the
 * kernel does (servers register wildcard or mapped addresses).
 */
export async function lookupTcpPort(rpc: RpcClient, ipv6: boolean, prog: number, vers: number, opts?: CallOptions): Promise<number> {
  if (ipv6) {
    for (const v of [RPCBVERS_4, RPCBVERS_3] as const) {
      try {
        const uaddr = await rpcbGetaddr(rpc, prog, vers, 'tcp6', v, opts);
        return uaddr === '' ? 0 : uaddrPort(uaddr);
      } catch (err) {
        // An rpcbind that speaks only v2 (portmap) answers PROG_MISMATCH.
        if (!(err instanceof RpcAcceptedError && err.code === 'ERR_RPC_PROG_MISMATCH')) throw err;
      }
    }
  }
  return pmapGetport(rpc, prog, vers, IPPROTO_TCP, opts);
}
