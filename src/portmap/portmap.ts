import type { RpcClient, CallOptions } from '../rpc/client.js';

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
