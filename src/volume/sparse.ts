/**
 * Where a file's data is, so a snapshot stores its holes as holes.
 *
 * Only files the server says use less storage than their size are looked
 * at (GNU tar's test: `used` < `size`); a dense file costs nothing extra.
 * For those:
 *   SEEK     NFSv4.2 SEEK for data and for holes, under a read OPEN: a few
 *            round trips per region, no data read. NFS-Ganesha 4.3's VFS
 *            answers with the real layout (lseek SEEK_DATA/SEEK_HOLE on its
 *            disk). Where the server or version has no SEEK (NOTSUPP), the
 *            finder stops trying it for the rest of the snapshot.
 *   zeros    otherwise the file is read once and every all-zero 4 KiB block
 *            counts as a hole, as GNU tar does without SEEK_HOLE; the data
 *            regions are read again when archived.
 * A file whose every byte turns out to be data is archived as a plain file.
 *
 * SEEK for data past the last data answers NFS4_OK with sr_eof set (RFC
 * 7862 §15.11.3), or NXIO at or past the end of file; both end the walk.
 * Linux's client reads sr_eof on SEEK_DATA the same way.
 */
import { readInto } from '../fs/io.js';
import type { OpenState } from '../fs/backend.js';
import { errnoCode, type Beneath, type Node } from './beneath.js';
import { alignRegions, type SparseRegion } from './tar.js';

/** Zero runs shorter than this are stored as data: a hole on the server's disk is at least one block. */
const HOLE_BLOCK = 4096;
const SCAN_CHUNK = 1024 * 1024;
const ZEROS = Buffer.alloc(HOLE_BLOCK);

export class HoleFinder {
  /** Whether SEEK works here: unknown until the first sparse file tried it. */
  private seek: boolean | undefined;
  /** Files mapped by SEEK and by zero scanning, for the snapshot's result. */
  readonly counts = { seek: 0, zeros: 0 };

  constructor(private readonly t: Beneath) {
    const b = t.b;
    if (!b.seek || !b.open || !b.closeState) this.seek = false;
  }

  /** The data regions of a sparse file (512-byte aligned, as tar.ts wants), or undefined when it has no holes worth keeping. */
  async regions(n: Node): Promise<SparseRegion[] | undefined> {
    const a = n.attrs;
    if (a.kind !== 'file' || a.size < HOLE_BLOCK || a.used >= a.size) return undefined;
    let found: SparseRegion[] | undefined;
    if (this.seek !== false) {
      found = await this.bySeek(n);
      if (found) this.counts.seek++;
    }
    if (!found) {
      found = await this.byZeros(n);
      this.counts.zeros++;
    }
    const aligned = alignRegions(found, a.size);
    const stored = aligned.reduce((s, r) => s + r.length, 0);
    return stored < a.size ? aligned : undefined;
  }

  /** undefined when SEEK is not supported (remembered). */
  private async bySeek(n: Node): Promise<SparseRegion[] | undefined> {
    const b = this.t.b;
    const size = n.attrs.size;
    let st: OpenState;
    try {
      st = await b.open!(n.fh, undefined, { read: true, write: false });
    } catch {
      // No open by handle (NFSv4.0 has no CLAIM_FH) or no open at all: no SEEK. A real I/O problem shows again in the zero scan's READs.
      this.seek = false;
      return undefined;
    }
    const out: SparseRegion[] = [];
    try {
      let pos = 0;
      while (pos < size) {
        let d;
        try {
          d = await b.seek!(st, pos, 'data');
        } catch (err) {
          const code = errnoCode(err);
          if (code === 'ENXIO') break;
          if (code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'EINVAL') {
            this.seek = false;
            return undefined;
          }
          throw err;
        }
        if (d.eof || d.offset >= size) break;
        const h = await b.seek!(st, d.offset, 'hole').catch((err: unknown) => {
          if (errnoCode(err) === 'ENXIO') return { offset: size, eof: true };
          throw err;
        });
        // A hole at the data offset itself would be a broken answer: take the rest as data rather than loop.
        const end = h.offset > d.offset ? Math.min(h.offset, size) : size;
        out.push({ offset: d.offset, length: end - d.offset });
        pos = end;
      }
      this.seek = true;
      return out;
    } finally {
      await b.closeState!(st).catch(() => {});
    }
  }

  private async byZeros(n: Node): Promise<SparseRegion[]> {
    const size = n.attrs.size;
    const out: SparseRegion[] = [];
    const buf = Buffer.allocUnsafe(Math.min(SCAN_CHUNK, size));
    let pos = 0;
    let runStart = -1;
    while (pos < size) {
      const want = Math.min(buf.length, size - pos);
      const got = await this.t.call('read', n.path, () => readInto(this.t.b, n.fh, buf, 0, want, pos));
      // Bytes missing at the end (the file shrank) are zeros to the archive, as GNU tar pads them.
      if (got < want) buf.fill(0, got, want);
      for (let i = 0; i < want; i += HOLE_BLOCK) {
        const len = Math.min(HOLE_BLOCK, want - i);
        const zero = buf.compare(ZEROS, 0, len, i, i + len) === 0;
        if (!zero && runStart < 0) runStart = pos + i;
        else if (zero && runStart >= 0) {
          out.push({ offset: runStart, length: pos + i - runStart });
          runStart = -1;
        }
      }
      pos += want;
    }
    if (runStart >= 0) out.push({ offset: runStart, length: size - runStart });
    return out;
  }
}
