import type { Krb5CredentialOptions, SecName } from '../../options.js';
import type { Credential } from '../auth.js';
import { SEC_FLAVORS } from './cred.js';
import { krb5Mechanism, type GssMechanism } from './mechanism.js';
import { GssSession } from './session.js';

/**
 * What a backend's mount needs for sec=`name` (krb5, krb5i, krb5p): a new
 * RPCSEC_GSS credential per connection, all sharing one Kerberos mechanism
 * for nfs/<host>. `host` is the URL's host name: the service principal is
 * named after it, never after its address.
 */
export function gssForMount(
  name: Exclude<SecName, 'sys'>,
  host: string,
  krb5: Krb5CredentialOptions,
  timeout: number,
  mechanism: GssMechanism = krb5Mechanism(`nfs/${host}`, krb5),
): { name: SecName; credential(prog: number, vers: number): Credential } {
  const service = SEC_FLAVORS[name].service!;
  return {
    name,
    credential: (prog, vers) => new GssSession({ mechanism, service, prog, vers, timeout }).credential,
  };
}
