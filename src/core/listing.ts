/**
 * The READDIR cookie loop's guard, shared by NFSv3 (READDIR/READDIRPLUS)
 * and NFSv4 (OP_READDIR): what a listing may contain, and when a listing is
 * a loop that would never end.
 *
 * Why here and not in the fs layer: callers that never pass through fs/
 * paths (volumes' handle walks, `cp -r` joining names onto local paths)
 * list directories too, and a name like '../../x' from a hostile server
 * must not reach any of them.
 */
import { NfsStatusError } from '../errors.js';

/** Entries a listing may return before we call it a loop (a server that never reaches eof). */
export const MAX_DIR_ENTRIES = 50_000_000;

/** How one protocol names its failures: the procedure and the status names for a bad cookie and for I/O errors. */
export interface ListingProtocol {
  /** NFSPROC3_READDIR, NFSPROC3_READDIRPLUS, OP_READDIR. */
  op: string;
  /** NFS3ERR_BAD_COOKIE, NFS4ERR_BAD_COOKIE. */
  badCookie: string;
  /** NFS3ERR_IO, NFS4ERR_IO. */
  io: string;
}

/**
 * A name no directory can hold: empty, or containing '/' or NUL. '.' and
 * '..' are real entries (skipped, not refused); anything that would climb or
 * descend when joined onto a path contains '/'.
 */
export function impossibleName(name: string): boolean {
  return name === '' || name.includes('/') || name.includes('\0');
}

/**
 * One listing's state. For each reply: `entry()` per entry in order, then
 * `endPage()`. Throws NfsStatusError (EIO) when the server repeats a cookie,
 * lists an impossible name, sends a page with no entries and no eof, a page
 * of names all listed before, or more than MAX_DIR_ENTRIES entries.
 */
export class ListingGuard {
  /** Every cookie seen: a repeat means the server sent us back in the listing. */
  private readonly cookies = new Set<bigint>();
  /** Every name seen: a directory never holds one name twice, so a repeat is passed on once. */
  private readonly names = new Set<string>();
  private total = 0;
  /** Names in the current page not seen before ('.' and '..' included): none in a whole page is a loop. */
  private fresh = 0;

  constructor(private readonly protocol: ListingProtocol) {}

  private fail(status: string, why: string): NfsStatusError {
    const e = new NfsStatusError(status, 'EIO', this.protocol.op);
    e.message = `${this.protocol.op}: ${why} (${status})`;
    return e;
  }

  /** Checks one entry; true when it is to be listed (a new name, not '.' or '..'). */
  entry(cookie: bigint, name: string): boolean {
    if (this.cookies.has(cookie)) throw this.fail(this.protocol.badCookie, 'server repeated a cookie (listing loops)');
    this.cookies.add(cookie);
    if (impossibleName(name)) throw this.fail(this.protocol.io, `server listed an impossible name ${JSON.stringify(name)}`);
    if (this.names.has(name)) return false;
    this.names.add(name);
    this.fresh++;
    return name !== '.' && name !== '..';
  }

  /** After a page of `count` entries: throws if the listing cannot end. */
  endPage(count: number, eof: boolean): void {
    const fresh = this.fresh;
    this.fresh = 0;
    this.total += count;
    if (eof) return;
    if (count === 0) throw this.fail(this.protocol.io, 'no entries and no eof (listing would never end)');
    if (fresh === 0) throw this.fail(this.protocol.io, 'a page of names already listed (listing loops)');
    if (this.total > MAX_DIR_ENTRIES) throw this.fail(this.protocol.io, `more than ${MAX_DIR_ENTRIES} entries`);
  }
}
