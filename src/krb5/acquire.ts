import { fromCCacheCredential, toCCacheCredential, type Credentials } from './credentials.js';
import { Krb5Error, isKrb5Error } from './errors.js';
import { findCredential, readCCache, storeCredential, writeCCache, type CCache } from './files/ccache.js';
import { resolveEnvironment, type Krb5Environment } from './files/env.js';
import { keysFor, readKeytab } from './files/keytab.js';
import { asExchange, tgsExchange, type ClientSecret, type ExchangeOptions } from './kdc-exchange.js';
import { sendToKdcs } from './kdc-transport.js';
import { NameType, parsePrincipal, principalToString, tgsPrincipal, type Principal } from './messages/types.js';

/**
 * Options for getting a service ticket, named as the issue's `krb5 { ... }`
 * options object names them. Anything left out comes from the environment
 * as MIT tools read it (KRB5_CONFIG, KRB5CCNAME, KRB5_CLIENT_KTNAME).
 */
export interface Krb5Options {
  /** Client principal; default: the cache's, else the client keytab's first. */
  principal?: string;
  /** Client keytab (FILE:path or path); default KRB5_CLIENT_KTNAME. */
  keytab?: string;
  /** Credential cache (FILE:path or path); default KRB5CCNAME. */
  ccache?: string;
  password?: string;
  /** KDC addresses (host[:port]) instead of krb5.conf's for the realm. */
  kdc?: string | string[];
  realm?: string;
  /** Write tickets we get into the ccache as kinit/kvno would (default: only when the ccache was used as the source). */
  storeInCCache?: boolean;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  now?: () => Date;
  etypes?: readonly number[];
  /** Requested ticket lifetime in seconds (the KDC caps it at the principal's max_life). */
  lifetimeSec?: number;
  /**
   * A cached ticket that expires within this many seconds is not used (default
   * 60), so a caller never starts work with a ticket about to run out.
   */
  renewBeforeSec?: number;
}

export interface Krb5Context {
  environment: Krb5Environment;
  realm: string;
  exchange: ExchangeOptions;
}

export function krb5Context(opts: Krb5Options = {}): Krb5Context {
  const environment = resolveEnvironment(opts.env ?? process.env);
  const realm = opts.realm ?? (opts.principal?.includes('@') ? parsePrincipal(opts.principal).realm : environment.config.defaultRealm);
  if (!realm) throw new Krb5Error('ERR_KRB5_CONFIG', `krb5: no realm: give one in the principal, the realm option or default_realm in ${environment.configPaths.join(':')}`);
  const kdcsFor = (r: string): string[] => {
    if (opts.kdc !== undefined && r === realm) return Array.isArray(opts.kdc) ? opts.kdc : [opts.kdc];
    return environment.config.realms.get(r)?.kdc ?? [];
  };
  const exchange: ExchangeOptions = {
    send: (r, msg) => sendToKdcs(r, kdcsFor(r), msg, opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
  };
  if (opts.now) exchange.now = opts.now;
  if (opts.etypes) exchange.etypes = opts.etypes;
  if (opts.lifetimeSec !== undefined) exchange.lifetimeSec = opts.lifetimeSec;
  return { environment, realm, exchange };
}

/** A TGT from a password or keytab (the AS exchange), for `opts.principal` or the keytab's first principal. */
export async function getInitialCredentials(opts: Krb5Options, ctx: Krb5Context = krb5Context(opts)): Promise<Credentials> {
  const keytabName = opts.keytab ?? (opts.password === undefined ? ctx.environment.clientKeytab : undefined);
  let client = opts.principal !== undefined ? parsePrincipal(opts.principal, ctx.realm) : undefined;
  let secret: ClientSecret;
  if (opts.password !== undefined) {
    if (!client) throw new Krb5Error('ERR_KRB5_NO_CREDENTIALS', 'krb5: a password was given without a principal');
    secret = { password: opts.password };
  } else if (keytabName) {
    const entries = await readKeytab(keytabName);
    client ??= entries[0]?.principal;
    if (!client) throw new Krb5Error('ERR_KRB5_NO_CREDENTIALS', `krb5: keytab ${keytabName} is empty`);
    const keys = keysFor(entries, client);
    if (keys.length === 0) throw new Krb5Error('ERR_KRB5_NO_CREDENTIALS', `krb5: keytab ${keytabName} has no key for ${principalToString(client)}`);
    secret = { keytab: keys };
  } else {
    throw new Krb5Error('ERR_KRB5_NO_CREDENTIALS', `krb5: no credentials: no password, no keytab (KRB5_CLIENT_KTNAME) and no usable ticket in ${opts.ccache ?? ctx.environment.ccache}`);
  }
  return asExchange(client, secret, ctx.exchange);
}

/**
 * A ticket for `service` (`nfs/host` or `nfs/host@REALM`): from the
 * credential cache when it holds one or a TGT, else by the AS exchange from
 * a keytab or password, then the TGS exchange.
 */
export async function getServiceTicket(service: string, opts: Krb5Options = {}): Promise<Credentials> {
  const ctx = krb5Context(opts);
  // A host-based service name (nfs/host) as gss_import_name of nfs@host would make it.
  const server: Principal = parsePrincipal(service, ctx.realm, NameType.NT_SRV_HST);
  const ccacheName = opts.ccache ?? ctx.environment.ccache;
  const explicitSecret = opts.password !== undefined || opts.keytab !== undefined;
  let cc: CCache | undefined;
  if (!explicitSecret) {
    try {
      cc = await readCCache(ccacheName);
    } catch (err) {
      if (!isKrb5Error(err, 'ERR_KRB5_NO_CREDENTIALS') || !ctx.environment.clientKeytab) throw err;
    }
  }
  const nowSec = Math.floor((opts.now?.() ?? new Date()).getTime() / 1000) + (opts.renewBeforeSec ?? 60);
  if (cc && (opts.principal === undefined || principalToString(cc.principal) === principalToString(parsePrincipal(opts.principal, ctx.realm)))) {
    const cached = findCredential(cc, server, nowSec);
    if (cached) return fromCCacheCredential(cached);
    const tgtCred = findCredential(cc, tgsPrincipal(cc.principal.realm, server.realm), nowSec);
    if (tgtCred) {
      const ticket = await tgsExchange(fromCCacheCredential(tgtCred), server, ctx.exchange);
      if (opts.storeInCCache !== false) await writeCCache(ccacheName, storeCredential(cc, toCCacheCredential(ticket)));
      return ticket;
    }
  }
  const tgt = await getInitialCredentials(opts, ctx);
  const ticket = await tgsExchange(tgt, server, ctx.exchange);
  if (opts.storeInCCache) {
    await writeCCache(ccacheName, { principal: tgt.client, credentials: [toCCacheCredential(tgt), toCCacheCredential(ticket)] });
  }
  return ticket;
}
