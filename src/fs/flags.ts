import { constants } from 'node:fs';
import { describeType, InvalidArgError, invalidArgType } from '../errors.js';

const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_SYNC, O_DSYNC, O_NOFOLLOW, O_DIRECTORY } = constants;
// Linux's value where node's constants lack it (it is not in every platform's table).
const O_DIRECT = constants.O_DIRECT ?? 0o40000;

export interface OpenFlags {
  read: boolean;
  write: boolean;
  create: boolean;
  exclusive: boolean;
  truncate: boolean;
  append: boolean;
  /** O_SYNC/O_DSYNC: every write is FILE_SYNC/DATA_SYNC on the server. */
  sync: 'none' | 'data' | 'file';
  noFollow: boolean;
  /** O_DIRECT: no readahead for this handle (the client has no data cache to bypass otherwise). */
  direct: boolean;
  directory: boolean;
  raw: number;
}

/** node's string flags, as `fs.open` accepts them. */
const STRING_FLAGS: Record<string, number> = {
  r: O_RDONLY,
  rs: O_RDONLY | O_SYNC,
  sr: O_RDONLY | O_SYNC,
  'r+': O_RDWR,
  'rs+': O_RDWR | O_SYNC,
  'sr+': O_RDWR | O_SYNC,
  w: O_TRUNC | O_CREAT | O_WRONLY,
  wx: O_TRUNC | O_CREAT | O_WRONLY | O_EXCL,
  xw: O_TRUNC | O_CREAT | O_WRONLY | O_EXCL,
  'w+': O_TRUNC | O_CREAT | O_RDWR,
  'wx+': O_TRUNC | O_CREAT | O_RDWR | O_EXCL,
  'xw+': O_TRUNC | O_CREAT | O_RDWR | O_EXCL,
  a: O_APPEND | O_CREAT | O_WRONLY,
  ax: O_APPEND | O_CREAT | O_WRONLY | O_EXCL,
  xa: O_APPEND | O_CREAT | O_WRONLY | O_EXCL,
  as: O_APPEND | O_CREAT | O_WRONLY | O_SYNC,
  sa: O_APPEND | O_CREAT | O_WRONLY | O_SYNC,
  'a+': O_APPEND | O_CREAT | O_RDWR,
  'ax+': O_APPEND | O_CREAT | O_RDWR | O_EXCL,
  'xa+': O_APPEND | O_CREAT | O_RDWR | O_EXCL,
  'as+': O_APPEND | O_CREAT | O_RDWR | O_SYNC,
  'sa+': O_APPEND | O_CREAT | O_RDWR | O_SYNC,
};

export function parseFlags(flags: unknown, dflt: string | number = 'r'): OpenFlags {
  let raw: number;
  const f = flags ?? dflt;
  // As node's stringToFlags: numbers must be int32, anything else must be one of the strings.
  if (typeof f === 'number') {
    if (!Number.isInteger(f)) throw new InvalidArgError('ERR_OUT_OF_RANGE', `The value of "flags" is out of range. It must be an integer. Received ${f}`);
    if (f < -0x8000_0000 || f > 0x7fff_ffff) {
      throw new InvalidArgError('ERR_OUT_OF_RANGE', `The value of "flags" is out of range. It must be >= -2147483648 && <= 2147483647. Received ${f}`);
    }
    raw = f;
  } else {
    const v = typeof f === 'string' && Object.hasOwn(STRING_FLAGS, f) ? STRING_FLAGS[f] : undefined;
    if (v === undefined) throw new InvalidArgError('ERR_INVALID_ARG_VALUE', `The argument 'flags' is invalid. Received ${typeof f === 'string' ? `'${f}'` : describeType(f)}`);
    raw = v;
  }
  const acc = raw & 3;
  return {
    read: acc === O_RDONLY || acc === O_RDWR,
    write: acc === O_WRONLY || acc === O_RDWR,
    create: (raw & O_CREAT) !== 0,
    exclusive: (raw & O_EXCL) !== 0,
    truncate: (raw & O_TRUNC) !== 0,
    append: (raw & O_APPEND) !== 0,
    // O_SYNC includes the O_DSYNC bit on Linux; test the full mask first.
    sync: (raw & O_SYNC) === O_SYNC ? 'file' : (raw & O_DSYNC) !== 0 ? 'data' : 'none',
    noFollow: (raw & O_NOFOLLOW) !== 0,
    direct: (raw & O_DIRECT) !== 0,
    directory: (raw & O_DIRECTORY) !== 0,
    raw,
  };
}

/**
 * Mode arguments as node's parseFileMode takes them: a uint32 or an octal
 * string. Any uint32 is accepted (so `chmod(p, stats.mode)` works with the
 * type bits set); only the permission bits (07777) are kept.
 */
export function parseMode(mode: unknown, dflt: number, name = 'mode'): number {
  if (mode === undefined || mode === null) return dflt;
  let n: number;
  if (typeof mode === 'number') n = mode;
  else if (typeof mode === 'string') {
    if (!/^[0-7]+$/.test(mode)) throw new InvalidArgError('ERR_INVALID_ARG_VALUE', `The argument '${name}' must be a 32-bit unsigned integer or an octal string. Received '${mode}'`);
    n = parseInt(mode, 8);
  } else throw invalidArgType(name, 'of type number', mode);
  if (!Number.isInteger(n)) throw new InvalidArgError('ERR_OUT_OF_RANGE', `The value of "${name}" is out of range. It must be an integer. Received ${n}`);
  if (n < 0 || n > 0xffff_ffff) throw new InvalidArgError('ERR_OUT_OF_RANGE', `The value of "${name}" is out of range. It must be >= 0 && <= 4294967295. Received ${n}`);
  return n & 0o7777;
}
