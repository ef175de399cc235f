// RFC 1813 §2.2 and §2.5, names verbatim.
export const NFS_PROGRAM = 100003;
export const NFS_V3 = 3;

export const NFSPROC3_NULL = 0;
export const NFSPROC3_GETATTR = 1;
export const NFSPROC3_SETATTR = 2;
export const NFSPROC3_LOOKUP = 3;
export const NFSPROC3_ACCESS = 4;
export const NFSPROC3_READLINK = 5;
export const NFSPROC3_READ = 6;
export const NFSPROC3_WRITE = 7;
export const NFSPROC3_CREATE = 8;
export const NFSPROC3_MKDIR = 9;
export const NFSPROC3_SYMLINK = 10;
export const NFSPROC3_MKNOD = 11;
export const NFSPROC3_REMOVE = 12;
export const NFSPROC3_RMDIR = 13;
export const NFSPROC3_RENAME = 14;
export const NFSPROC3_LINK = 15;
export const NFSPROC3_READDIR = 16;
export const NFSPROC3_READDIRPLUS = 17;
export const NFSPROC3_FSSTAT = 18;
export const NFSPROC3_FSINFO = 19;
export const NFSPROC3_PATHCONF = 20;
export const NFSPROC3_COMMIT = 21;

export const NFS3_FHSIZE = 64;
export const NFS3_COOKIEVERFSIZE = 8;
export const NFS3_CREATEVERFSIZE = 8;
export const NFS3_WRITEVERFSIZE = 8;

/**
 * Not limits from the RFC (filename3 and nfspath3 are unbounded strings) but
 * what every POSIX server enforces; the encoders refuse longer ones before
 * they reach the wire.
 */
export const NFS3_MAXNAMLEN = 255;
export const NFS3_MAXPATHLEN = 4096;

export const ftype3 = {
  NF3REG: 1,
  NF3DIR: 2,
  NF3BLK: 3,
  NF3CHR: 4,
  NF3LNK: 5,
  NF3SOCK: 6,
  NF3FIFO: 7,
} as const;
export type Ftype3 = (typeof ftype3)[keyof typeof ftype3];

export const createmode3 = {
  UNCHECKED: 0,
  GUARDED: 1,
  EXCLUSIVE: 2,
} as const;

export const stable_how = {
  UNSTABLE: 0,
  DATA_SYNC: 1,
  FILE_SYNC: 2,
} as const;
export type StableHow = (typeof stable_how)[keyof typeof stable_how];

export const time_how = {
  DONT_CHANGE: 0,
  SET_TO_SERVER_TIME: 1,
  SET_TO_CLIENT_TIME: 2,
} as const;

// ACCESS3 bits (§3.3.4).
export const ACCESS3_READ = 0x0001;
export const ACCESS3_LOOKUP = 0x0002;
export const ACCESS3_MODIFY = 0x0004;
export const ACCESS3_EXTEND = 0x0008;
export const ACCESS3_DELETE = 0x0010;
export const ACCESS3_EXECUTE = 0x0020;

// FSINFO3 properties bits (§3.3.19).
export const FSF3_LINK = 0x0001;
export const FSF3_SYMLINK = 0x0002;
export const FSF3_HOMOGENEOUS = 0x0008;
export const FSF3_CANSETTIME = 0x0010;
