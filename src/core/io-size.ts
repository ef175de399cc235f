/**
 * READ and WRITE sizes from what the caller asked and what the server
 * offers (NFSv3 FSINFO rtpref/rtmax/wtpref/wtmax, NFSv4 maxread/maxwrite
 * and the session's sizes): the same rule for every version.
 */

/**
 * The size when the caller names none, if the server prefers more. Servers
 * advertise large preferences (Ganesha: 64 MiB); 1 MiB, the Linux client's
 * ceiling, keeps several READs in flight for one large request.
 */
export const DEFAULT_IO_SIZE = 1024 * 1024;

/** Replies must fit the RPC client's record limit (4 MiB + 64 KiB). */
export const MAX_IO_SIZE = 4 * 1024 * 1024;

/**
 * `asked` (else the server's preference, at most DEFAULT_IO_SIZE), within the
 * server's maximum and MAX_IO_SIZE, a multiple of 4 KiB and at least one page.
 * A server that states no maximum (0) gets DEFAULT_IO_SIZE; a preference of 0
 * means its maximum.
 */
export function ioSize(asked: number | undefined, serverPref: number, serverMax: number): number {
  const max = serverMax > 0 ? serverMax : DEFAULT_IO_SIZE;
  const want = asked ?? Math.min(serverPref, DEFAULT_IO_SIZE);
  return Math.max(4096, Math.min(want > 0 ? want : max, max, MAX_IO_SIZE)) & ~4095;
}
