import type { Krb5CredentialOptions } from '../options.js';
import { UsageError, type OptionSpec, type ParsedArgs } from './args.js';
import type { CliIo } from './io.js';
import type { Remotes } from './remote.js';

export interface CommandContext {
  io: CliIo;
  args: ParsedArgs;
  remotes: Remotes;
}

/** One `mountless <name>` command: its help text, its options, and what it does. Returns the exit status. */
export interface Command {
  name: string;
  /** One line for `mountless --help`. */
  summary: string;
  /** The full `--help` text: usage line first. */
  help: string;
  options: OptionSpec[];
  run(ctx: CommandContext): Promise<number>;
}

/** Options every command takes. */
export const COMMON_OPTIONS: OptionSpec[] = [
  { name: 'url', value: true },
  { name: 'help', short: 'h' },
];

export const URL_HELP = `The volume is --url nfs://host/export[/dir] or $NFS_URL; a path may also be written as a
full URL (nfs://host/export/dir/file).`;

/**
 * Kerberos credentials (sec=krb5, krb5i, krb5p in the URL), taken by every
 * command that mounts. The password is never a flag (it would show in ps and
 * shell history): it comes from $MOUNTLESS_KRB5_PASSWORD.
 */
export const KRB5_OPTIONS: OptionSpec[] = [
  { name: 'krb5-principal', value: true },
  { name: 'krb5-keytab', value: true },
  { name: 'krb5-ccache', value: true },
  { name: 'krb5-realm', value: true },
  { name: 'krb5-kdc', value: true },
];

/** The environment variable the Kerberos password is read from. */
export const KRB5_PASSWORD_ENV = 'MOUNTLESS_KRB5_PASSWORD';

export const KRB5_HELP = `Kerberos (sec=krb5|krb5i|krb5p in the URL): --krb5-principal NAME, --krb5-keytab FILE,
--krb5-ccache FILE, --krb5-realm REALM, --krb5-kdc HOST[:PORT] (repeatable); the password,
if any, from $${KRB5_PASSWORD_ENV}. Unset ones come from KRB5_CONFIG, KRB5CCNAME and
KRB5_CLIENT_KTNAME as with MIT tools.`;

/**
 * The connect() krb5 option from the --krb5-* flags and the password
 * variable, or undefined when none is given (connect then reads the
 * environment alone).
 */
export function krb5FromArgs(args: ParsedArgs, env: Readonly<Record<string, string | undefined>>): Krb5CredentialOptions | undefined {
  const k: Krb5CredentialOptions = {};
  const one = (flag: string): string | undefined => {
    const v = args.flags.get(flag);
    if (v === '') throw new UsageError(`--${flag} needs a non-empty value`);
    return typeof v === 'string' ? v : undefined;
  };
  const principal = one('krb5-principal');
  const keytab = one('krb5-keytab');
  const ccache = one('krb5-ccache');
  const realm = one('krb5-realm');
  const kdc = args.values.get('krb5-kdc');
  const password = env[KRB5_PASSWORD_ENV];
  if (principal !== undefined) k.principal = principal;
  if (keytab !== undefined) k.keytab = keytab;
  if (ccache !== undefined) k.ccache = ccache;
  if (realm !== undefined) k.realm = realm;
  if (kdc !== undefined) {
    if (kdc.some((x) => x === '')) throw new UsageError('--krb5-kdc needs a non-empty value');
    k.kdc = kdc.length === 1 ? kdc[0]! : kdc;
  }
  if (password) k.password = password;
  return Object.keys(k).length > 0 ? k : undefined;
}
