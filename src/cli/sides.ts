import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { NfsClient } from '../fs/client.js';
import { joinPath } from './format.js';

/** What a copy needs to know about a file, local or remote. */
export interface Attr {
  type: 'file' | 'directory' | 'symlink' | 'other';
  size: number;
  mode: number;
  atimeMs: number;
  mtimeMs: number;
}

/**
 * One side of a copy: the local filesystem or an NFS volume, behind the
 * few operations cp needs, so the copy logic is written once.
 */
export interface Side {
  /** 'local', or the NFS volume's URL: equal keys mean one filesystem. */
  readonly key: string;
  readonly client?: NfsClient;
  join(dir: string, name: string): string;
  lstat(p: string): Promise<Attr>;
  stat(p: string): Promise<Attr>;
  readdir(p: string): Promise<string[]>;
  mkdir(p: string, mode: number): Promise<void>;
  readlink(p: string): Promise<string>;
  symlink(target: string, p: string): Promise<void>;
  unlink(p: string): Promise<void>;
  chmod(p: string, mode: number): Promise<void>;
  utimes(p: string, atimeMs: number, mtimeMs: number): Promise<void>;
  read(p: string): Promise<AsyncIterable<Buffer>>;
  /** Writes the source to p (created or truncated with `mode`); resolves when it is durable (COMMITted on NFS). */
  write(p: string, source: AsyncIterable<Buffer>, mode: number): Promise<void>;
}

function attrOf(st: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean; size: number; mode: number; atimeMs: number; mtimeMs: number }): Attr {
  const type = st.isFile() ? 'file' : st.isDirectory() ? 'directory' : st.isSymbolicLink() ? 'symlink' : 'other';
  return { type, size: st.size, mode: st.mode & 0o7777, atimeMs: st.atimeMs, mtimeMs: st.mtimeMs };
}

/** Reads and writes in MiB pieces: each remote read or write of this size goes out as parallel rsize/wsize calls. */
export const CHUNK = 4 * 1024 * 1024;
/** COMMIT every this many bytes, which bounds what a remote write keeps for resending. */
const COMMIT_EVERY = 16 * 1024 * 1024;

export const localSide: Side = {
  key: 'local',
  join: (d, n) => join(d, n),
  lstat: async (p) => attrOf(await fsp.lstat(p)),
  stat: async (p) => attrOf(await fsp.stat(p)),
  readdir: (p) => fsp.readdir(p),
  mkdir: async (p, mode) => {
    await fsp.mkdir(p, { mode });
  },
  readlink: (p) => fsp.readlink(p),
  symlink: (t, p) => fsp.symlink(t, p),
  unlink: (p) => fsp.unlink(p),
  chmod: (p, m) => fsp.chmod(p, m),
  utimes: (p, a, m) => fsp.utimes(p, a / 1000, m / 1000),
  read: async (p) => {
    // Open now, so a missing file fails here rather than mid-pipeline.
    const h = await fsp.open(p, 'r');
    return h.createReadStream({ highWaterMark: 1024 * 1024 });
  },
  write: async (p, source, mode) => {
    const h = await fsp.open(p, 'w', mode);
    await pipeline(source, h.createWriteStream());
  },
};

export function remoteSide(client: NfsClient, key: string): Side {
  return {
    key,
    client,
    join: joinPath,
    lstat: async (p) => attrOf(await client.lstat(p)),
    stat: async (p) => attrOf(await client.stat(p)),
    readdir: (p) => client.readdir(p),
    mkdir: async (p, mode) => {
      await client.mkdir(p, { mode });
    },
    readlink: (p) => client.readlink(p),
    symlink: (t, p) => client.symlink(t, p),
    unlink: (p) => client.unlink(p),
    chmod: (p, m) => client.chmod(p, m),
    utimes: (p, a, m) => client.utimes(p, a / 1000, m / 1000),
    read: async (p) => {
      const h = await client.open(p, 'r');
      return h.createReadStream({ highWaterMark: CHUNK });
    },
    write: async (p, source, mode) => {
      const h = await client.open(p, 'w', mode);
      let ok = false;
      try {
        await writeAll(source, (buf, at) => h.write(buf, 0, buf.length, at), () => h.sync());
        ok = true;
      } finally {
        if (ok) await h.close();
        else await h.close().catch(() => {});
      }
    },
  };
}

/**
 * Copies an async iterable of buffers to positional writes: gathered into
 * CHUNK-sized writes, one in flight while the next one fills, with a sync
 * every COMMIT_EVERY bytes.
 */
export async function writeAll(source: AsyncIterable<Buffer>, write: (buf: Buffer, at: number) => Promise<unknown>, sync: () => Promise<void>): Promise<number> {
  let pos = 0;
  let since = 0;
  let bufs: Buffer[] = [];
  let buffered = 0;
  let inflight: Promise<void> | undefined;
  const start = async () => {
    const data = bufs.length === 1 ? bufs[0]! : Buffer.concat(bufs, buffered);
    const at = pos;
    pos += buffered;
    bufs = [];
    buffered = 0;
    if (inflight) await inflight;
    inflight = (async () => {
      await write(data, at);
      since += data.length;
      if (since >= COMMIT_EVERY) {
        since = 0;
        await sync();
      }
    })();
    inflight.catch(() => {});
  };
  for await (const chunk of source) {
    bufs.push(chunk);
    buffered += chunk.length;
    if (buffered >= CHUNK) await start();
  }
  if (buffered > 0) await start();
  if (inflight) await inflight;
  return pos;
}
