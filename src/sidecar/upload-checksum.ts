import { createHash, type Hash } from 'node:crypto';
import { HttpError } from './http-errors.js';

/**
 * `OC-Checksum: SHA1:<hex>` (or MD5) on PUT, as ownCloud and Nextcloud
 * clients (rclone's owncloud/nextcloud vendors) send it: the body is hashed
 * while it streams to the temporary file, and a body that does not match is
 * refused (400) before it replaces anything, so a corrupted upload is never
 * stored. The checksum is checked, not kept: the sidecar serves no hashes.
 * Other algorithms (ADLER32) are ignored.
 */

const ALGORITHMS: Record<string, { name: string; hexLength: number }> = {
  SHA1: { name: 'sha1', hexLength: 40 },
  MD5: { name: 'md5', hexLength: 32 },
};

export interface UploadChecksum {
  /** As the client named it, for the error message. */
  label: string;
  hash: Hash;
  hex: string;
}

/** The checksum to verify, or undefined when there is none this server checks; a malformed one is a 400. */
export function uploadChecksum(h: string | string[] | undefined): UploadChecksum | undefined {
  if (h === undefined) return undefined;
  const v = (Array.isArray(h) ? h[0]! : h).trim();
  const m = /^([A-Za-z0-9]+):(\S+)$/.exec(v);
  if (!m) throw new HttpError(400, 'OC-Checksum must be ALGORITHM:hex');
  const alg = ALGORITHMS[m[1]!.toUpperCase()];
  if (!alg) return undefined;
  const hex = m[2]!.toLowerCase();
  if (hex.length !== alg.hexLength || !/^[0-9a-f]+$/.test(hex)) throw new HttpError(400, `OC-Checksum: not a ${m[1]} digest`);
  return { label: m[1]!.toUpperCase(), hash: createHash(alg.name), hex };
}

/** Throws a 400 if the body hashed into `c` is not what the client announced. */
export function verifyChecksum(c: UploadChecksum): void {
  const got = c.hash.digest('hex');
  if (got !== c.hex) throw new HttpError(400, `the body's ${c.label} is ${got}, OC-Checksum said ${c.hex}`);
}
