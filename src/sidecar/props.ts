import { createHash, randomBytes } from 'node:crypto';
import type { NfsClient } from '../fs/client.js';
import type { XmlElement, XmlNode } from './xml.js';

/**
 * Dead properties (RFC 4918 §4): whatever PROPPATCH sets, kept on the volume
 * next to the resource, so they survive restarts and follow MOVE and COPY.
 *
 *   <dir>/.mountless-props/<name>.json   properties of <dir>/<name>
 *   /.mountless-props/.mountless-root.json   properties of the root
 *
 * The `.mountless-` prefix is reserved (jail.ts): clients can neither see
 * nor reach these files. A directory's own properties live in its parent's
 * store; the properties of its members live in its own `.mountless-props`,
 * so moving or copying a tree takes them along. Names too long to take the
 * `.json` suffix are stored under their SHA-256.
 *
 * Updates of one resource's properties are serialised in this process
 * (read-modify-write under a per-file queue) and written to a temporary name
 * then renamed over the old file, so a reader never sees half a file.
 */

export const PROPS_DIR = '.mountless-props';
/** Temporary names of props files being written. */
export const PROPS_TMP_PREFIX = '.mountless-t-';

export interface DeadProp {
  ns: string;
  local: string;
  /** The property element's content, as parsed. */
  value: XmlNode[];
}

export type PropOp = { op: 'set'; prop: DeadProp } | { op: 'remove'; ns: string; local: string };

export const propKey = (ns: string, local: string) => `{${ns}}${local}`;

interface PropsFile {
  version: 1;
  props: DeadProp[];
}

/** Caps on what a props file may hold, checked on write and on read. */
const MAX_FILE_BYTES = 1024 * 1024;

export function propsFileOf(parts: readonly string[]): string {
  if (parts.length === 0) return `/${PROPS_DIR}/.mountless-root.json`;
  const name = parts[parts.length - 1]!;
  const dir = '/' + parts.slice(0, -1).map((p) => p + '/').join('');
  const file = Buffer.byteLength(name) > 250 ? `.mountless-h-${createHash('sha256').update(name).digest('hex')}` : name;
  return `${dir}${PROPS_DIR}/${file}.json`;
}

function dirOf(file: string): string {
  return file.slice(0, file.lastIndexOf('/'));
}

function code(err: unknown): string | undefined {
  return (err as { code?: string })?.code;
}

export class DeadProps {
  /** props file → the tail of its queue of updates. */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly nfs: NfsClient) {}

  private serial<T>(file: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(file) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => {});
    this.queues.set(file, tail);
    tail.then(() => {
      if (this.queues.get(file) === tail) this.queues.delete(file);
    });
    return next;
  }

  private async read(file: string): Promise<DeadProp[]> {
    let raw: Buffer;
    try {
      raw = await this.nfs.readFile(file);
    } catch (err) {
      if (code(err) === 'ENOENT' || code(err) === 'ENOTDIR') return [];
      throw err;
    }
    if (raw.length > MAX_FILE_BYTES) return [];
    try {
      return validate(JSON.parse(raw.toString('utf8')));
    } catch {
      // A damaged file holds nothing usable; the next write replaces it.
      return [];
    }
  }

  private async write(file: string, props: DeadProp[]): Promise<void> {
    if (props.length === 0) {
      const removed = await this.nfs.unlink(file).then(
        () => true,
        (err) => {
          if (code(err) !== 'ENOENT' && code(err) !== 'ENOTDIR') throw err;
          return false;
        },
      );
      // The last file gone: drop the store too, so the directory can be rmdir'ed by anyone.
      if (removed) await this.nfs.rmdir(dirOf(file)).catch(() => {});
      return;
    }
    const body = Buffer.from(JSON.stringify({ version: 1, props } satisfies PropsFile));
    if (body.length > MAX_FILE_BYTES) throw Object.assign(new Error('dead properties too large'), { code: 'EFBIG' });
    const dir = dirOf(file);
    // Twice at most: a sibling's removal may rmdir the (empty) store between our mkdir and write.
    for (let attempt = 0; ; attempt++) {
      await this.nfs.mkdir(dir).catch((err) => {
        if (code(err) !== 'EEXIST') throw err;
      });
      const tmp = `${dir}/${PROPS_TMP_PREFIX}${randomBytes(8).toString('hex')}`;
      try {
        await this.nfs.writeFile(tmp, body);
        await this.nfs.rename(tmp, file);
        return;
      } catch (err) {
        await this.nfs.unlink(tmp).catch(() => {});
        if (code(err) !== 'ENOENT' || attempt > 0) throw err;
      }
    }
  }

  async get(parts: readonly string[]): Promise<DeadProp[]> {
    return this.read(propsFileOf(parts));
  }

  /** Applies set/remove operations in document order (RFC 4918 §9.2). */
  patch(parts: readonly string[], ops: readonly PropOp[]): Promise<void> {
    const file = propsFileOf(parts);
    return this.serial(file, async () => {
      const map = new Map((await this.read(file)).map((p) => [propKey(p.ns, p.local), p]));
      for (const o of ops) {
        if (o.op === 'set') map.set(propKey(o.prop.ns, o.prop.local), o.prop);
        else map.delete(propKey(o.ns, o.local));
      }
      await this.write(file, [...map.values()]);
    });
  }

  remove(parts: readonly string[]): Promise<void> {
    const file = propsFileOf(parts);
    return this.serial(file, () => this.write(file, []));
  }

  async copy(from: readonly string[], to: readonly string[]): Promise<void> {
    const props = await this.get(from);
    const file = propsFileOf(to);
    await this.serial(file, () => this.write(file, props));
  }

  /** After the resource itself was renamed: its properties follow it. */
  async move(from: readonly string[], to: readonly string[]): Promise<void> {
    const src = propsFileOf(from);
    const dst = propsFileOf(to);
    await this.serial(dst, async () => {
      try {
        await this.nfs.rename(src, dst);
      } catch (err) {
        if (code(err) === 'ENOENT') {
          const dir = dirOf(dst);
          const srcExists = await this.nfs.stat(src).then(
            () => true,
            () => false,
          );
          if (!srcExists) return this.write(dst, []);
          await this.nfs.mkdir(dir).catch((e) => {
            if (code(e) !== 'EEXIST') throw e;
          });
          await this.nfs.rename(src, dst);
          return;
        }
        throw err;
      }
    });
  }
}

/** Checks a parsed props file has the shape we wrote; anything else is dropped. */
function validate(x: unknown): DeadProp[] {
  const o = x as Partial<PropsFile>;
  if (!o || o.version !== 1 || !Array.isArray(o.props)) return [];
  return o.props.filter((p) => p && typeof p.ns === 'string' && typeof p.local === 'string' && Array.isArray(p.value) && p.value.every(validNode));
}

function validNode(n: unknown): boolean {
  // Iterative walk: a props file is data from the volume, not trusted to be shallow.
  const stack: unknown[] = [n];
  let seen = 0;
  while (stack.length) {
    const x = stack.pop();
    if (++seen > 100_000) return false;
    if (typeof x === 'string') continue;
    const e = x as XmlElement;
    if (!e || typeof e.ns !== 'string' || typeof e.local !== 'string' || !Array.isArray(e.attrs) || !Array.isArray(e.children)) return false;
    if (!e.attrs.every((a) => a && typeof a.ns === 'string' && typeof a.local === 'string' && typeof a.value === 'string')) return false;
    stack.push(...e.children);
  }
  return true;
}
