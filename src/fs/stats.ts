import * as nodeFs from 'node:fs';
import type { Attrs, FileKind, StatFsResult, Time } from './backend.js';

export const S_IFMT = 0o170000;
const KIND_BITS: Record<FileKind, number> = {
  file: 0o100000,
  directory: 0o040000,
  symlink: 0o120000,
  block: 0o060000,
  char: 0o020000,
  socket: 0o140000,
  fifo: 0o010000,
};

/** The type methods node's Stats and Dirent share. */
abstract class TypeMethods {
  protected abstract get typeBits(): number;
  isFile(): boolean {
    return this.typeBits === KIND_BITS.file;
  }
  isDirectory(): boolean {
    return this.typeBits === KIND_BITS.directory;
  }
  isSymbolicLink(): boolean {
    return this.typeBits === KIND_BITS.symlink;
  }
  isBlockDevice(): boolean {
    return this.typeBits === KIND_BITS.block;
  }
  isCharacterDevice(): boolean {
    return this.typeBits === KIND_BITS.char;
  }
  isFIFO(): boolean {
    return this.typeBits === KIND_BITS.fifo;
  }
  isSocket(): boolean {
    return this.typeBits === KIND_BITS.socket;
  }
}

const ms = (t: Time) => t.sec * 1000 + t.nsec / 1e6;
const ns = (t: Time) => BigInt(t.sec) * 1_000_000_000n + BigInt(t.nsec);
// As node's dateFromMs: Stats dates round the float ms; BigIntStats dates
// come from the whole ms (ns / 1e6, truncated).
const date = (t: Time) => new Date(Math.round(ms(t)));
const dateFromBigMs = (msBig: bigint) => new Date(Number(msBig));

/**
 * node:fs Stats from NFS attributes: fileid → ino, fsid → dev, used → blocks
 * (512-byte units), and, since NFS keeps no birth time, birthtime = ctime, as
 * libuv reports it on Linux filesystems without one.
 */
export class Stats extends TypeMethods {
  dev: number;
  ino: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  blksize: number;
  blocks: number;
  atimeMs: number;
  mtimeMs: number;
  ctimeMs: number;
  birthtimeMs: number;
  atime: Date;
  mtime: Date;
  ctime: Date;
  birthtime: Date;

  constructor(a: Attrs, blksize: number) {
    super();
    this.dev = Number(a.fsid);
    this.ino = Number(a.fileid);
    this.mode = KIND_BITS[a.kind] | a.mode;
    this.nlink = a.nlink;
    this.uid = a.uid;
    this.gid = a.gid;
    this.rdev = a.rdev;
    this.size = a.size;
    this.blksize = blksize;
    this.blocks = Math.ceil(a.used / 512);
    this.atimeMs = ms(a.atime);
    this.mtimeMs = ms(a.mtime);
    this.ctimeMs = ms(a.ctime);
    this.birthtimeMs = this.ctimeMs;
    this.atime = date(a.atime);
    this.mtime = date(a.mtime);
    this.ctime = date(a.ctime);
    this.birthtime = date(a.ctime);
  }

  protected get typeBits(): number {
    return this.mode & S_IFMT;
  }
}

/** `{ bigint: true }` Stats, with exact nanosecond times as node's BigIntStats has. */
export class BigIntStats extends TypeMethods {
  dev: bigint;
  ino: bigint;
  mode: bigint;
  nlink: bigint;
  uid: bigint;
  gid: bigint;
  rdev: bigint;
  size: bigint;
  blksize: bigint;
  blocks: bigint;
  atimeMs: bigint;
  mtimeMs: bigint;
  ctimeMs: bigint;
  birthtimeMs: bigint;
  atimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  birthtimeNs: bigint;
  atime: Date;
  mtime: Date;
  ctime: Date;
  birthtime: Date;

  constructor(a: Attrs, blksize: number) {
    super();
    this.dev = a.fsid;
    this.ino = a.fileid;
    this.mode = BigInt(KIND_BITS[a.kind] | a.mode);
    this.nlink = BigInt(a.nlink);
    this.uid = BigInt(a.uid);
    this.gid = BigInt(a.gid);
    this.rdev = BigInt(a.rdev);
    this.size = BigInt(a.size);
    this.blksize = BigInt(blksize);
    this.blocks = BigInt(Math.ceil(a.used / 512));
    this.atimeNs = ns(a.atime);
    this.mtimeNs = ns(a.mtime);
    this.ctimeNs = ns(a.ctime);
    this.birthtimeNs = this.ctimeNs;
    this.atimeMs = this.atimeNs / 1_000_000n;
    this.mtimeMs = this.mtimeNs / 1_000_000n;
    this.ctimeMs = this.ctimeNs / 1_000_000n;
    this.birthtimeMs = this.ctimeMs;
    this.atime = dateFromBigMs(this.atimeMs);
    this.mtime = dateFromBigMs(this.mtimeMs);
    this.ctime = dateFromBigMs(this.ctimeMs);
    this.birthtime = dateFromBigMs(this.ctimeMs);
  }

  protected get typeBits(): number {
    return Number(this.mode) & S_IFMT;
  }
}

const { UV_DIRENT_UNKNOWN, UV_DIRENT_FILE, UV_DIRENT_DIR, UV_DIRENT_LINK, UV_DIRENT_FIFO, UV_DIRENT_SOCKET, UV_DIRENT_CHAR, UV_DIRENT_BLOCK } = nodeFs.constants as unknown as Record<string, number>;
/** libuv's dirent types (node's fs.constants has them, @types/node does not). */
const DIRENT_TYPES: Record<FileKind, number | undefined> = {
  file: UV_DIRENT_FILE,
  directory: UV_DIRENT_DIR,
  symlink: UV_DIRENT_LINK,
  fifo: UV_DIRENT_FIFO,
  socket: UV_DIRENT_SOCKET,
  char: UV_DIRENT_CHAR,
  block: UV_DIRENT_BLOCK,
};

/** node's Dirent constructor, (name, libuv dirent type, parent path), which @types/node does not declare. */
const NodeDirent = nodeFs.Dirent as unknown as new (name: string, type: number, parentPath: string) => nodeFs.Dirent;

/**
 * node:fs Dirent itself (`instanceof fs.Dirent` holds, as libraries check):
 * `name`, `parentPath` (and the older `path`), and node's type methods.
 */
export class Dirent extends NodeDirent {
  constructor(name: string, parentPath: string, kind: FileKind | undefined) {
    super(name, (kind && DIRENT_TYPES[kind]) ?? UV_DIRENT_UNKNOWN ?? 0, parentPath);
  }
}

/** node's StatFs shape (`statfs` returns counts in `bsize` blocks). */
/**
 * node 24 added `frsize` to fs.statfs's result (between bsize and blocks);
 * the StatFs here has the keys of the node it runs on, as a drop-in for it.
 */
const STATFS_FRSIZE = 'frsize' in nodeFs.statfsSync('/');

export class StatFs {
  // Declared, not defined: the constructor sets them in node's key order, frsize in its place.
  declare type: number;
  declare bsize: number;
  declare frsize?: number;
  declare blocks: number;
  declare bfree: number;
  declare bavail: number;
  declare files: number;
  declare ffree: number;
  constructor(s: StatFsResult) {
    // 0x6969 is NFS_SUPER_MAGIC, what statfs(2) reports on an NFS mount.
    this.type = 0x6969;
    this.bsize = s.bsize;
    // NFS statfs(2) reports the fragment size as the block size.
    if (STATFS_FRSIZE) this.frsize = s.bsize;
    this.blocks = Math.floor(s.totalBytes / s.bsize);
    this.bfree = Math.floor(s.freeBytes / s.bsize);
    this.bavail = Math.floor(s.availBytes / s.bsize);
    this.files = s.totalFiles;
    this.ffree = s.freeFiles;
  }
}

export function bigintStatFs(s: StatFs) {
  return {
    type: BigInt(s.type),
    bsize: BigInt(s.bsize),
    ...(s.frsize !== undefined ? { frsize: BigInt(s.frsize) } : {}),
    blocks: BigInt(s.blocks),
    bfree: BigInt(s.bfree),
    bavail: BigInt(s.bavail),
    files: BigInt(s.files),
    ffree: BigInt(s.ffree),
  };
}
