import { loadConfig, type Krb5Config } from './config.js';

/**
 * Where the mechanism finds its files, as MIT tools do: KRB5_CONFIG (a
 * ':'-separated list, default /etc/krb5.conf), KRB5CCNAME (default
 * libdefaults default_ccache_name, else FILE:/tmp/krb5cc_<uid>),
 * KRB5_CLIENT_KTNAME (default libdefaults default_client_keytab_name).
 */
export interface Krb5Environment {
  configPaths: string[];
  config: Krb5Config;
  ccache: string;
  clientKeytab?: string;
}

export function resolveEnvironment(env: NodeJS.ProcessEnv = process.env, uid: number = process.getuid?.() ?? 0): Krb5Environment {
  const configPaths = (env['KRB5_CONFIG'] ?? '/etc/krb5.conf').split(':').filter(Boolean);
  const config = loadConfig(configPaths);
  const expand = (s: string): string => s.replace(/%\{(uid|euid)\}/g, String(uid)).replace(/%\{TEMP\}/g, env['TMPDIR'] ?? '/tmp');
  const out: Krb5Environment = {
    configPaths,
    config,
    ccache: expand(env['KRB5CCNAME'] || config.defaultCCacheName || `FILE:/tmp/krb5cc_${uid}`),
  };
  const kt = env['KRB5_CLIENT_KTNAME'] || config.defaultClientKeytab;
  if (kt) out.clientKeytab = expand(kt);
  return out;
}
