import { toFsError } from '../errors.js';
import type { Backend, DirEntry, FileHandleId } from './backend.js';
import { Dirent } from './stats.js';

/**
 * node's fs.Dir: entries read lazily, one READDIRPLUS batch at a time, through
 * `read()` or `for await`. The iterator closes the Dir when it finishes.
 */
export class Dir implements AsyncIterable<Dirent> {
  private iter: AsyncIterator<DirEntry[]> | undefined;
  private batch: Dirent[] = [];
  private closed = false;
  private done = false;

  constructor(
    private readonly backend: Backend,
    private readonly fh: FileHandleId,
    /** The directory's path, as given to opendir. */
    readonly path: string,
  ) {}

  /**
   * The next entry, or null after the last one. Entries come from the server a batch at a time.
   *
   * @throws {@link FsError} from the READDIR (e.g. `ENOENT` if the directory was removed meanwhile);
   *   `ERR_DIR_CLOSED` after close().
   */
  async read(): Promise<Dirent | null> {
    if (this.closed) throw Object.assign(new Error('Directory handle was closed'), { code: 'ERR_DIR_CLOSED' });
    while (this.batch.length === 0) {
      if (this.done) return null;
      this.iter ??= this.backend.readdir(this.fh, true)[Symbol.asyncIterator]();
      let r: IteratorResult<DirEntry[]>;
      try {
        r = await this.iter.next();
      } catch (err) {
        throw toFsError(err, 'scandir', this.path);
      }
      if (r.done) {
        this.done = true;
        return null;
      }
      this.batch = r.value.map((e) => new Dirent(e.name, this.path, e.attrs?.kind));
      this.batch.reverse();
    }
    return this.batch.pop()!;
  }

  /**
   * Releases the listing. Not needed after a `for await` loop, which closes the Dir itself.
   *
   * @throws `ERR_DIR_CLOSED` when already closed, as node's Dir.
   */
  async close(): Promise<void> {
    if (this.closed) throw Object.assign(new Error('Directory handle was closed'), { code: 'ERR_DIR_CLOSED' });
    this.closed = true;
    await this.iter?.return?.();
  }

  /** Iterates the remaining entries and closes the Dir at the end (or on break). */
  async *[Symbol.asyncIterator](): AsyncIterator<Dirent> {
    try {
      for (;;) {
        const d = await this.read();
        if (d === null) return;
        yield d;
      }
    } finally {
      if (!this.closed) await this.close();
    }
  }

  /** Closes the Dir at the end of an `await using` block, unless already closed. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.closed) await this.close();
  }
}
