// NFSv4.0 (RFC 7530), 4.1 (RFC 8881) and 4.2 (RFC 7862) wire constants,
// names verbatim from the specs' XDR.

export const NFS4_PROGRAM = 100003;
export const NFS_V4 = 4;
export const NFSPROC4_NULL = 0;
export const NFSPROC4_COMPOUND = 1;

export const NFS4_FHSIZE = 128;
export const NFS4_VERIFIER_SIZE = 8;
export const NFS4_OTHER_SIZE = 12;
export const NFS4_OPAQUE_LIMIT = 1024;
export const NFS4_SESSIONID_SIZE = 16;
export const NFS4_UINT64_MAX = 0xffff_ffff_ffff_ffffn;

// nfs_opnum4
export const OP_ACCESS = 3;
export const OP_CLOSE = 4;
export const OP_COMMIT = 5;
export const OP_CREATE = 6;
export const OP_DELEGPURGE = 7;
export const OP_DELEGRETURN = 8;
export const OP_GETATTR = 9;
export const OP_GETFH = 10;
export const OP_LINK = 11;
export const OP_LOCK = 12;
export const OP_LOCKT = 13;
export const OP_LOCKU = 14;
export const OP_LOOKUP = 15;
export const OP_LOOKUPP = 16;
export const OP_NVERIFY = 17;
export const OP_OPEN = 18;
export const OP_OPENATTR = 19;
export const OP_OPEN_CONFIRM = 20;
export const OP_OPEN_DOWNGRADE = 21;
export const OP_PUTFH = 22;
export const OP_PUTPUBFH = 23;
export const OP_PUTROOTFH = 24;
export const OP_READ = 25;
export const OP_READDIR = 26;
export const OP_READLINK = 27;
export const OP_REMOVE = 28;
export const OP_RENAME = 29;
export const OP_RENEW = 30;
export const OP_RESTOREFH = 31;
export const OP_SAVEFH = 32;
export const OP_SECINFO = 33;
export const OP_SETATTR = 34;
export const OP_SETCLIENTID = 35;
export const OP_SETCLIENTID_CONFIRM = 36;
export const OP_VERIFY = 37;
export const OP_WRITE = 38;
export const OP_RELEASE_LOCKOWNER = 39;
export const OP_BACKCHANNEL_CTL = 40;
export const OP_BIND_CONN_TO_SESSION = 41;
/** channel_dir_from_client4 (RFC 8881 §18.34). */
export const CDFC4_FORE = 0x1;
export const OP_EXCHANGE_ID = 42;
export const OP_CREATE_SESSION = 43;
export const OP_DESTROY_SESSION = 44;
export const OP_FREE_STATEID = 45;
export const OP_GET_DIR_DELEGATION = 46;
export const OP_GETDEVICEINFO = 47;
export const OP_GETDEVICELIST = 48;
export const OP_LAYOUTCOMMIT = 49;
export const OP_LAYOUTGET = 50;
export const OP_LAYOUTRETURN = 51;
export const OP_SECINFO_NO_NAME = 52;
export const OP_SEQUENCE = 53;
export const OP_SET_SSV = 54;
export const OP_TEST_STATEID = 55;
export const OP_WANT_DELEGATION = 56;
export const OP_DESTROY_CLIENTID = 57;
export const OP_RECLAIM_COMPLETE = 58;
export const OP_ALLOCATE = 59;
export const OP_COPY = 60;
export const OP_COPY_NOTIFY = 61;
export const OP_DEALLOCATE = 62;
export const OP_IO_ADVISE = 63;
export const OP_LAYOUTERROR = 64;
export const OP_LAYOUTSTATS = 65;
export const OP_OFFLOAD_CANCEL = 66;
export const OP_OFFLOAD_STATUS = 67;
export const OP_READ_PLUS = 68;
export const OP_SEEK = 69;
export const OP_WRITE_SAME = 70;
export const OP_CLONE = 71;
export const OP_ILLEGAL = 10044;

// Attribute numbers (fattr4 bits).
export const FATTR4_SUPPORTED_ATTRS = 0;
export const FATTR4_TYPE = 1;
export const FATTR4_FH_EXPIRE_TYPE = 2;
export const FATTR4_CHANGE = 3;
export const FATTR4_SIZE = 4;
export const FATTR4_LINK_SUPPORT = 5;
export const FATTR4_SYMLINK_SUPPORT = 6;
export const FATTR4_NAMED_ATTR = 7;
export const FATTR4_FSID = 8;
export const FATTR4_UNIQUE_HANDLES = 9;
export const FATTR4_LEASE_TIME = 10;
export const FATTR4_RDATTR_ERROR = 11;
export const FATTR4_ACL = 12;
export const FATTR4_ACLSUPPORT = 13;
export const FATTR4_ARCHIVE = 14;
export const FATTR4_CANSETTIME = 15;
export const FATTR4_CASE_INSENSITIVE = 16;
export const FATTR4_CASE_PRESERVING = 17;
export const FATTR4_CHOWN_RESTRICTED = 18;
export const FATTR4_FILEHANDLE = 19;
export const FATTR4_FILEID = 20;
export const FATTR4_FILES_AVAIL = 21;
export const FATTR4_FILES_FREE = 22;
export const FATTR4_FILES_TOTAL = 23;
export const FATTR4_FS_LOCATIONS = 24;
export const FATTR4_HIDDEN = 25;
export const FATTR4_HOMOGENEOUS = 26;
export const FATTR4_MAXFILESIZE = 27;
export const FATTR4_MAXLINK = 28;
export const FATTR4_MAXNAME = 29;
export const FATTR4_MAXREAD = 30;
export const FATTR4_MAXWRITE = 31;
export const FATTR4_MIMETYPE = 32;
export const FATTR4_MODE = 33;
export const FATTR4_NO_TRUNC = 34;
export const FATTR4_NUMLINKS = 35;
export const FATTR4_OWNER = 36;
export const FATTR4_OWNER_GROUP = 37;
export const FATTR4_QUOTA_AVAIL_HARD = 38;
export const FATTR4_QUOTA_AVAIL_SOFT = 39;
export const FATTR4_QUOTA_USED = 40;
export const FATTR4_RAWDEV = 41;
export const FATTR4_SPACE_AVAIL = 42;
export const FATTR4_SPACE_FREE = 43;
export const FATTR4_SPACE_TOTAL = 44;
export const FATTR4_SPACE_USED = 45;
export const FATTR4_SYSTEM = 46;
export const FATTR4_TIME_ACCESS = 47;
export const FATTR4_TIME_ACCESS_SET = 48;
export const FATTR4_TIME_BACKUP = 49;
export const FATTR4_TIME_CREATE = 50;
export const FATTR4_TIME_DELTA = 51;
export const FATTR4_TIME_METADATA = 52;
export const FATTR4_TIME_MODIFY = 53;
export const FATTR4_TIME_MODIFY_SET = 54;
export const FATTR4_MOUNTED_ON_FILEID = 55;
export const FATTR4_SUPPATTR_EXCLCREAT = 75;
export const FATTR4_CLONE_BLKSIZE = 77;

// nfs_ftype4
export const NF4REG = 1;
export const NF4DIR = 2;
export const NF4BLK = 3;
export const NF4CHR = 4;
export const NF4LNK = 5;
export const NF4SOCK = 6;
export const NF4FIFO = 7;
export const NF4ATTRDIR = 8;
export const NF4NAMEDATTR = 9;

export const ACCESS4_READ = 0x01;
export const ACCESS4_LOOKUP = 0x02;
export const ACCESS4_MODIFY = 0x04;
export const ACCESS4_EXTEND = 0x08;
export const ACCESS4_DELETE = 0x10;
export const ACCESS4_EXECUTE = 0x20;

// time_how4
export const SET_TO_SERVER_TIME4 = 0;
export const SET_TO_CLIENT_TIME4 = 1;

// stable_how4
export const UNSTABLE4 = 0;
export const DATA_SYNC4 = 1;
export const FILE_SYNC4 = 2;

// createmode4
export const UNCHECKED4 = 0;
export const GUARDED4 = 1;
export const EXCLUSIVE4 = 2;
export const EXCLUSIVE4_1 = 3;

// opentype4
export const OPEN4_NOCREATE = 0;
export const OPEN4_CREATE = 1;

// open_claim_type4
export const CLAIM_NULL = 0;
export const CLAIM_PREVIOUS = 1;
export const CLAIM_DELEGATE_CUR = 2;
export const CLAIM_DELEGATE_PREV = 3;
export const CLAIM_FH = 4;
export const CLAIM_DELEG_CUR_FH = 5;
export const CLAIM_DELEG_PREV_FH = 6;

export const OPEN4_SHARE_ACCESS_READ = 0x1;
export const OPEN4_SHARE_ACCESS_WRITE = 0x2;
export const OPEN4_SHARE_ACCESS_BOTH = 0x3;
export const OPEN4_SHARE_DENY_NONE = 0x0;
export const OPEN4_SHARE_ACCESS_WANT_NO_DELEG = 0x0400;

export const OPEN4_RESULT_CONFIRM = 0x2;
export const OPEN4_RESULT_LOCKTYPE_POSIX = 0x4;
export const OPEN4_RESULT_PRESERVE_UNLINKED = 0x8;
export const OPEN4_RESULT_MAY_NOTIFY_LOCK = 0x20;

// open_delegation_type4
export const OPEN_DELEGATE_NONE = 0;
export const OPEN_DELEGATE_READ = 1;
export const OPEN_DELEGATE_WRITE = 2;
export const OPEN_DELEGATE_NONE_EXT = 3;

// why_no_delegation4
export const WND4_CONTENTION = 1;
export const WND4_RESOURCE = 2;

// limit_by4
export const NFS_LIMIT_SIZE = 1;
export const NFS_LIMIT_BLOCKS = 2;

// nfs_lock_type4
export const READ_LT = 1;
export const WRITE_LT = 2;
export const READW_LT = 3;
export const WRITEW_LT = 4;

// data_content4
export const NFS4_CONTENT_DATA = 0;
export const NFS4_CONTENT_HOLE = 1;

// state_protect_how4
export const SP4_NONE = 0;
export const SP4_MACH_CRED = 1;
export const SP4_SSV = 2;

export const EXCHGID4_FLAG_SUPP_MOVED_REFER = 0x00000001;
export const EXCHGID4_FLAG_SUPP_MOVED_MIGR = 0x00000002;
export const EXCHGID4_FLAG_BIND_PRINC_STATEID = 0x00000100;
export const EXCHGID4_FLAG_USE_NON_PNFS = 0x00010000;
export const EXCHGID4_FLAG_USE_PNFS_MDS = 0x00020000;
export const EXCHGID4_FLAG_USE_PNFS_DS = 0x00040000;
export const EXCHGID4_FLAG_CONFIRMED_R = 0x80000000;

export const CREATE_SESSION4_FLAG_PERSIST = 0x1;
export const CREATE_SESSION4_FLAG_CONN_BACK_CHAN = 0x2;

export const SEQ4_STATUS_CB_PATH_DOWN = 0x00000001;
export const SEQ4_STATUS_CB_GSS_CONTEXTS_EXPIRING = 0x00000002;
export const SEQ4_STATUS_CB_GSS_CONTEXTS_EXPIRED = 0x00000004;
export const SEQ4_STATUS_EXPIRED_ALL_STATE_REVOKED = 0x00000008;
export const SEQ4_STATUS_EXPIRED_SOME_STATE_REVOKED = 0x00000010;
export const SEQ4_STATUS_ADMIN_STATE_REVOKED = 0x00000020;
export const SEQ4_STATUS_RECALLABLE_STATE_REVOKED = 0x00000040;
export const SEQ4_STATUS_LEASE_MOVED = 0x00000080;
export const SEQ4_STATUS_RESTART_RECLAIM_NEEDED = 0x00000100;
export const SEQ4_STATUS_CB_PATH_DOWN_SESSION = 0x00000200;
export const SEQ4_STATUS_BACKCHANNEL_FAULT = 0x00000400;

/** Callback program number we announce; no callback service listens (see session.ts). */
export const NFS4_CALLBACK_PROGRAM = 0x40000000;

/** Operation names for errors and labels, verbatim. */
export const OP_NAMES: Readonly<Record<number, string>> = Object.freeze({
  [OP_ACCESS]: 'OP_ACCESS',
  [OP_CLOSE]: 'OP_CLOSE',
  [OP_COMMIT]: 'OP_COMMIT',
  [OP_CREATE]: 'OP_CREATE',
  [OP_DELEGPURGE]: 'OP_DELEGPURGE',
  [OP_DELEGRETURN]: 'OP_DELEGRETURN',
  [OP_GETATTR]: 'OP_GETATTR',
  [OP_GETFH]: 'OP_GETFH',
  [OP_LINK]: 'OP_LINK',
  [OP_LOCK]: 'OP_LOCK',
  [OP_LOCKT]: 'OP_LOCKT',
  [OP_LOCKU]: 'OP_LOCKU',
  [OP_LOOKUP]: 'OP_LOOKUP',
  [OP_LOOKUPP]: 'OP_LOOKUPP',
  [OP_NVERIFY]: 'OP_NVERIFY',
  [OP_OPEN]: 'OP_OPEN',
  [OP_OPENATTR]: 'OP_OPENATTR',
  [OP_OPEN_CONFIRM]: 'OP_OPEN_CONFIRM',
  [OP_OPEN_DOWNGRADE]: 'OP_OPEN_DOWNGRADE',
  [OP_PUTFH]: 'OP_PUTFH',
  [OP_PUTPUBFH]: 'OP_PUTPUBFH',
  [OP_PUTROOTFH]: 'OP_PUTROOTFH',
  [OP_READ]: 'OP_READ',
  [OP_READDIR]: 'OP_READDIR',
  [OP_READLINK]: 'OP_READLINK',
  [OP_REMOVE]: 'OP_REMOVE',
  [OP_RENAME]: 'OP_RENAME',
  [OP_RENEW]: 'OP_RENEW',
  [OP_RESTOREFH]: 'OP_RESTOREFH',
  [OP_SAVEFH]: 'OP_SAVEFH',
  [OP_SECINFO]: 'OP_SECINFO',
  [OP_SETATTR]: 'OP_SETATTR',
  [OP_SETCLIENTID]: 'OP_SETCLIENTID',
  [OP_SETCLIENTID_CONFIRM]: 'OP_SETCLIENTID_CONFIRM',
  [OP_VERIFY]: 'OP_VERIFY',
  [OP_WRITE]: 'OP_WRITE',
  [OP_RELEASE_LOCKOWNER]: 'OP_RELEASE_LOCKOWNER',
  [OP_BACKCHANNEL_CTL]: 'OP_BACKCHANNEL_CTL',
  [OP_BIND_CONN_TO_SESSION]: 'OP_BIND_CONN_TO_SESSION',
  [OP_EXCHANGE_ID]: 'OP_EXCHANGE_ID',
  [OP_CREATE_SESSION]: 'OP_CREATE_SESSION',
  [OP_DESTROY_SESSION]: 'OP_DESTROY_SESSION',
  [OP_FREE_STATEID]: 'OP_FREE_STATEID',
  [OP_GET_DIR_DELEGATION]: 'OP_GET_DIR_DELEGATION',
  [OP_GETDEVICEINFO]: 'OP_GETDEVICEINFO',
  [OP_GETDEVICELIST]: 'OP_GETDEVICELIST',
  [OP_LAYOUTCOMMIT]: 'OP_LAYOUTCOMMIT',
  [OP_LAYOUTGET]: 'OP_LAYOUTGET',
  [OP_LAYOUTRETURN]: 'OP_LAYOUTRETURN',
  [OP_SECINFO_NO_NAME]: 'OP_SECINFO_NO_NAME',
  [OP_SEQUENCE]: 'OP_SEQUENCE',
  [OP_SET_SSV]: 'OP_SET_SSV',
  [OP_TEST_STATEID]: 'OP_TEST_STATEID',
  [OP_WANT_DELEGATION]: 'OP_WANT_DELEGATION',
  [OP_DESTROY_CLIENTID]: 'OP_DESTROY_CLIENTID',
  [OP_RECLAIM_COMPLETE]: 'OP_RECLAIM_COMPLETE',
  [OP_ALLOCATE]: 'OP_ALLOCATE',
  [OP_COPY]: 'OP_COPY',
  [OP_COPY_NOTIFY]: 'OP_COPY_NOTIFY',
  [OP_DEALLOCATE]: 'OP_DEALLOCATE',
  [OP_IO_ADVISE]: 'OP_IO_ADVISE',
  [OP_LAYOUTERROR]: 'OP_LAYOUTERROR',
  [OP_LAYOUTSTATS]: 'OP_LAYOUTSTATS',
  [OP_OFFLOAD_CANCEL]: 'OP_OFFLOAD_CANCEL',
  [OP_OFFLOAD_STATUS]: 'OP_OFFLOAD_STATUS',
  [OP_READ_PLUS]: 'OP_READ_PLUS',
  [OP_SEEK]: 'OP_SEEK',
  [OP_WRITE_SAME]: 'OP_WRITE_SAME',
  [OP_CLONE]: 'OP_CLONE',
  [OP_ILLEGAL]: 'OP_ILLEGAL',
});

export function opName(op: number): string {
  return OP_NAMES[op] ?? `OP_UNKNOWN_${op}`;
}
