// The local MIT KDC of scripts/local-kdc, started (idempotently) for the
// Kerberos integration tests, and its environment as `local-kdc env` prints it.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../scripts/local-kdc', import.meta.url));

export interface KdcEnv {
  KRB5_CONFIG: string;
  KRB5_KDC_PROFILE: string;
  MOUNTLESS_KDC_DIR: string;
  MOUNTLESS_KDC_REALM: string;
  MOUNTLESS_KDC_PORT: string;
  MOUNTLESS_KDC_CLIENT: string;
  MOUNTLESS_KDC_CLIENT_PASSWORD: string;
  MOUNTLESS_KDC_CLIENT_KEYTAB: string;
  MOUNTLESS_KDC_SHA2_CLIENT: string;
  MOUNTLESS_KDC_SHA2_CLIENT_PASSWORD: string;
  MOUNTLESS_KDC_SHA2_CLIENT_KEYTAB: string;
  MOUNTLESS_KDC_SERVICE: string;
  MOUNTLESS_KDC_SERVICE_HOST: string;
  MOUNTLESS_KDC_SERVICE_KEYTAB: string;
}

export function startKdc(): KdcEnv {
  const out = execFileSync(SCRIPT, ['start'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const env: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    // `printf %q` leaves these paths and names unquoted (no shell metacharacters in them).
    if (m) env[m[1]!] = m[2]!;
  }
  return env as unknown as KdcEnv;
}

/** An environment for MIT tools and for resolveEnvironment(): only the test realm's config. */
export function toolEnv(kdc: KdcEnv, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, KRB5_CONFIG: kdc.KRB5_CONFIG, KRB5_KDC_PROFILE: kdc.KRB5_KDC_PROFILE, ...extra };
}
