/**
 * 1 MiB buffers for the bytes of large writes, shared by all handles. A
 * retained copy (kept until COMMIT) comes from this free list and goes back
 * once COMMITted: at 1 MiB per write, fresh buffers meant 64 MiB of garbage
 * between background COMMITs, and GC was a quarter of the write path's CPU.
 * Bounded at SPARES_MAX.
 */
export const SPARE_SIZE = 1024 * 1024;
const SPARES_MAX = 32;
const spares: Buffer[] = [];

/** A SPARE_SIZE buffer for a write's bytes, from the free list when it has one. */
export function takeSpare(): Buffer {
  return spares.pop() ?? Buffer.allocUnsafeSlow(SPARE_SIZE);
}

export function giveSpare(own: Buffer): void {
  if (spares.length < SPARES_MAX) spares.push(own);
}
