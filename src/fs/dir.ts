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
    readonly path: string,
  ) {}

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

  async close(): Promise<void> {
    if (this.closed) throw Object.assign(new Error('Directory handle was closed'), { code: 'ERR_DIR_CLOSED' });
    this.closed = true;
    await this.iter?.return?.();
  }

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

  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.closed) await this.close();
  }
}
