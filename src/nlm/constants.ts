// Network Lock Manager, version 4: RFC 1813 appendix II (§6) and X/Open
// "Protocols for Interworking: XNFS, Version 3W", chapter 10. Names verbatim.
export const NLM_PROG = 100021;
export const NLM4_VERS = 4;

export const NLMPROC4_NULL = 0;
export const NLMPROC4_TEST = 1;
export const NLMPROC4_LOCK = 2;
export const NLMPROC4_CANCEL = 3;
export const NLMPROC4_UNLOCK = 4;
/** Server → client callback for a blocked lock; needs an RPC server on the client side, which mountless does not run. */
export const NLMPROC4_GRANTED = 5;
export const NLMPROC4_TEST_MSG = 6;
export const NLMPROC4_LOCK_MSG = 7;
export const NLMPROC4_CANCEL_MSG = 8;
export const NLMPROC4_UNLOCK_MSG = 9;
export const NLMPROC4_GRANTED_MSG = 10;
export const NLMPROC4_TEST_RES = 11;
export const NLMPROC4_LOCK_RES = 12;
export const NLMPROC4_CANCEL_RES = 13;
export const NLMPROC4_UNLOCK_RES = 14;
export const NLMPROC4_GRANTED_RES = 15;
export const NLMPROC4_SHARE = 20;
export const NLMPROC4_UNSHARE = 21;
export const NLMPROC4_NM_LOCK = 22;
export const NLMPROC4_FREE_ALL = 23;

/** string caller_name<LM_MAXSTRLEN> */
export const LM_MAXSTRLEN = 1024;
/** typedef opaque netobj<MAXNETOBJ_SZ>: cookie, fh and oh. */
export const MAXNETOBJ_SZ = 1024;

export const nlm4_stats = {
  NLM4_GRANTED: 0,
  NLM4_DENIED: 1,
  NLM4_DENIED_NOLOCKS: 2,
  NLM4_BLOCKED: 3,
  NLM4_DENIED_GRACE_PERIOD: 4,
  NLM4_DEADLCK: 5,
  NLM4_ROFS: 6,
  NLM4_STALE_FH: 7,
  NLM4_FBIG: 8,
  NLM4_FAILED: 9,
} as const;

export const NLM4_GRANTED = nlm4_stats.NLM4_GRANTED;
export const NLM4_DENIED = nlm4_stats.NLM4_DENIED;
export const NLM4_DENIED_NOLOCKS = nlm4_stats.NLM4_DENIED_NOLOCKS;
export const NLM4_BLOCKED = nlm4_stats.NLM4_BLOCKED;
export const NLM4_DENIED_GRACE_PERIOD = nlm4_stats.NLM4_DENIED_GRACE_PERIOD;
export const NLM4_DEADLCK = nlm4_stats.NLM4_DEADLCK;
export const NLM4_ROFS = nlm4_stats.NLM4_ROFS;
export const NLM4_STALE_FH = nlm4_stats.NLM4_STALE_FH;
export const NLM4_FBIG = nlm4_stats.NLM4_FBIG;
export const NLM4_FAILED = nlm4_stats.NLM4_FAILED;
