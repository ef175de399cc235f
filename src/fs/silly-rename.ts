/**
 * "Silly rename" for backends without open state (NFSv3): the server does
 * not know a file is open, so removing its last name makes every later READ,
 * WRITE and COMMIT through the open handle fail with ESTALE, where node (and
 * POSIX) keep an unlinked open file usable until its last close. As the
 * kernel client does, a remove of an open file renames it to a hidden
 * `.nfs<fileid><n>` name in the same directory instead, and the last close
 * removes that name. rename() over an open file moves the target aside the
 * same way first. NFSv4 needs none of this: its OPEN state keeps the file.
 *
 * A process that dies with such a file open leaves its `.nfs…` name behind,
 * as the kernel's do.
 */
import type { Backend, CallOpts, FileHandleId } from './backend.js';

interface Open {
  /** FileHandles open on this file. */
  count: number;
  /** Where the file was moved when its name was removed while open. */
  hidden?: { dir: FileHandleId; name: string };
}

let seq = 0;

export class SillyRenames {
  /** File handle (latin1 key) → its open count; only files with a FileHandle open are here. */
  private readonly open = new Map<string, Open>();

  constructor(private readonly backend: Backend) {}

  /** A FileHandle opened on `fh`. Returns what to call when it is released. */
  opened(fh: FileHandleId): () => Promise<void> {
    const k = fh.toString('latin1');
    const o = this.open.get(k);
    if (o) o.count++;
    else this.open.set(k, { count: 1 });
    return () => this.closed(k);
  }

  private async closed(k: string): Promise<void> {
    const o = this.open.get(k);
    if (!o || --o.count > 0) return;
    this.open.delete(k);
    // The last close: the hidden name goes. Failing that only leaves a `.nfs…` file, as the kernel's would.
    if (o.hidden) await this.backend.remove(o.hidden.dir, o.hidden.name).catch(() => undefined);
  }

  /**
   * Instead of removing `name` from `dir`: when it leads to an open file,
   * renames it to a hidden name and returns true (the caller removes
   * nothing); false when nothing is open there (the caller removes it).
   */
  async hideIfOpen(dir: FileHandleId, name: string, o?: CallOpts): Promise<boolean> {
    if (this.open.size === 0) return false;
    let l;
    try {
      l = await this.backend.lookup(dir, name, o);
    } catch {
      return false; // the remove itself reports what is wrong
    }
    const open = this.open.get(l.fh.toString('latin1'));
    if (!open) return false;
    const attrs = l.attrs ?? (await this.backend.getattr(l.fh, o));
    if (attrs.kind === 'directory') return false;
    // Another link keeps the file alive: removing this name is safe as it is.
    if (attrs.nlink > 1) return false;
    const hidden = `.nfs${attrs.fileid.toString(16).padStart(16, '0')}${(seq++ & 0xffff).toString(16).padStart(4, '0')}`;
    await this.backend.rename(dir, name, dir, hidden, o);
    // A file hidden twice (a race of two removes) keeps its first hidden name's removal; the second name is removed at once.
    if (open.hidden) await this.backend.remove(dir, hidden, o).catch(() => undefined);
    else open.hidden = { dir, name: hidden };
    return true;
  }
}
