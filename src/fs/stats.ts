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
  /** Whether this is a regular file. */
  isFile(): boolean {
    return this.typeBits === KIND_BITS.file;
  }
  /** Whether this is a directory. */
  isDirectory(): boolean {
    return this.typeBits === KIND_BITS.directory;
  }
  /** Whether this is a symlink (only from lstat, or readdir with types). */
  isSymbolicLink(): boolean {
    return this.typeBits === KIND_BITS.symlink;
  }
  /** Whether this is a block special file. */
  isBlockDevice(): boolean {
    return this.typeBits === KIND_BITS.block;
  }
  /** Whether this is a character special file. */
  isCharacterDevice(): boolean {
    return this.typeBits === KIND_BITS.char;
  }
  /** Whether this is a named pipe. */
  isFIFO(): boolean {
    return this.typeBits === KIND_BITS.fifo;
  }
  /** Whether this is a Unix-domain socket. */
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
  /** The file system id (NFS `fsid`): differs across the exports and sub-mounts a server has. */
  dev: number;
  /** The file id (NFS `fileid`), unique within `dev`: equal `dev`+`ino` means the same file, through any hard link. */
  ino: number;
  /** File type bits (`S_IFREG`, `S_IFDIR`, …) and permission bits, as `st_mode`. */
  mode: number;
  /** Number of hard links. */
  nlink: number;
  /** Owner's numeric user id, as the server reports it (NFSv4 owner strings are mapped back to numbers). */
  uid: number;
  /** Owning group's numeric id. */
  gid: number;
  /** Device number of a block or character special file; 0 otherwise. */
  rdev: number;
  /** Size in bytes. */
  size: number;
  /** Preferred I/O size: the negotiated write size (`wsize`), the unit in which writes go out. */
  blksize: number;
  /** Space used on the server, in 512-byte units (NFS `used`; smaller than size for sparse files). */
  blocks: number;
  /** Last access time, in milliseconds since the epoch. */
  atimeMs: number;
  /** Last modification of the contents, in milliseconds since the epoch. */
  mtimeMs: number;
  /** Last change of the contents or attributes, in milliseconds since the epoch. */
  ctimeMs: number;
  /** Equal to `ctimeMs`: NFS keeps no birth time (libuv reports the same on file systems without one). */
  birthtimeMs: number;
  /** `atimeMs` as a Date. */
  atime: Date;
  /** `mtimeMs` as a Date. */
  mtime: Date;
  /** `ctimeMs` as a Date. */
  ctime: Date;
  /** `birthtimeMs` as a Date (the ctime). */
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
  /** The file system id (NFS `fsid`): differs across the exports and sub-mounts a server has. */
  dev: bigint;
  /** The file id (NFS `fileid`), unique within `dev`: equal `dev`+`ino` means the same file, through any hard link. */
  ino: bigint;
  /** File type bits (`S_IFREG`, `S_IFDIR`, …) and permission bits, as `st_mode`. */
  mode: bigint;
  /** Number of hard links. */
  nlink: bigint;
  /** Owner's numeric user id, as the server reports it (NFSv4 owner strings are mapped back to numbers). */
  uid: bigint;
  /** Owning group's numeric id. */
  gid: bigint;
  /** Device number of a block or character special file; 0 otherwise. */
  rdev: bigint;
  /** Size in bytes. */
  size: bigint;
  /** Preferred I/O size: the negotiated write size (`wsize`), the unit in which writes go out. */
  blksize: bigint;
  /** Space used on the server, in 512-byte units (NFS `used`; smaller than size for sparse files). */
  blocks: bigint;
  /** Last access time, in milliseconds since the epoch. */
  atimeMs: bigint;
  /** Last modification of the contents, in milliseconds since the epoch. */
  mtimeMs: bigint;
  /** Last change of the contents or attributes, in milliseconds since the epoch. */
  ctimeMs: bigint;
  /** Equal to `ctimeMs`: NFS keeps no birth time (libuv reports the same on file systems without one). */
  birthtimeMs: bigint;
  /** Last access time, in nanoseconds since the epoch (exactly as the server stores it). */
  atimeNs: bigint;
  /** Last modification time, in nanoseconds since the epoch. */
  mtimeNs: bigint;
  /** Last status change time, in nanoseconds since the epoch. */
  ctimeNs: bigint;
  /** Equal to `ctimeNs` (NFS has no birth time). */
  birthtimeNs: bigint;
  /** `atimeMs` as a Date. */
  atime: Date;
  /** `mtimeMs` as a Date. */
  mtime: Date;
  /** `ctimeMs` as a Date. */
  ctime: Date;
  /** `birthtimeMs` as a Date (the ctime). */
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

/**
 * node 24 added `frsize` to fs.statfs's result (between bsize and blocks);
 * the StatFs here has the keys of the node it runs on, as a drop-in for it.
 */
const STATFS_FRSIZE = 'frsize' in nodeFs.statfsSync('/');

/**
 * Space and file counts of an export, as node's `StatFs` from `fs.promises.statfs`
 * (counts in `bsize` blocks; `frsize` present on the node versions whose statfs has it).
 */
export class StatFs {
  // Declared, not defined: the constructor sets them in node's key order, frsize in its place.
  /** `0x6969`, NFS_SUPER_MAGIC: what statfs(2) reports on an NFS mount. */
  declare type: number;
  /** Block size the counts are in. */
  declare bsize: number;
  /** Fragment size, equal to `bsize` as Linux reports it for NFS. */
  declare frsize?: number;
  /** Total size of the file system, in `bsize` blocks. */
  declare blocks: number;
  /** Free blocks. */
  declare bfree: number;
  /** Free blocks available to this (unprivileged) user: what `df` shows as available. */
  declare bavail: number;
  /** Total file slots (inodes). */
  declare files: number;
  /** Free file slots. */
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
