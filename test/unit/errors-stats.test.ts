// fs errors shaped like node's own, and Stats built from NFS attributes.
import t from 'tap';
import { promises as fsp, constants as fsConstants } from 'node:fs';
import { constants as osConstants } from 'node:os';
import {
  errnoMessage,
  errnoNumber,
  fsError,
  InvalidArgError,
  invalidArgType,
  NfsStatusError,
  RpcConnectionError,
  RpcTimeoutError,
  toFsError,
  MountError,
} from '../../src/errors.js';
import { NFS3_ERRNO } from '../../src/nfs3/status.js';
import { BigIntStats, Dirent, S_IFMT, StatFs, Stats } from '../../src/fs/stats.js';
import type { Attrs, FileKind } from '../../src/fs/backend.js';

const ERRNO = osConstants.errno as Record<string, number>;

/** The fields node's fs errors carry, for comparing ours with a real one. */
function shape(e: unknown) {
  const x = e as Record<string, unknown>;
  return { name: x.name, message: x.message, code: x.code, errno: x.errno, syscall: x.syscall, path: x.path, dest: x.dest };
}

t.test('fsError has the shape node gives the same failure', async (t) => {
  const real = await fsp.stat('/nonexistent-xyz').catch((e: unknown) => e);
  const ours = fsError('ENOENT', 'stat', '/nonexistent-xyz');
  t.same(shape(ours), shape(real));
  t.equal(ours.message, "ENOENT: no such file or directory, stat '/nonexistent-xyz'");
  t.ok(ours instanceof Error);
  t.same(Object.keys(ours), Object.keys(real as object), 'same own enumerable keys, in the same order');
});

t.test('fsError matches node for other errors too', async (t) => {
  const dir = await fsp.mkdtemp('/tmp/mountless-errors-');
  t.teardown(() => fsp.rm(dir, { recursive: true, force: true }));
  await fsp.writeFile(`${dir}/file`, 'x');
  await fsp.mkdir(`${dir}/sub/inner`, { recursive: true });
  const cases: [() => Promise<unknown>, () => Error][] = [
    [() => fsp.readdir(`${dir}/file`), () => fsError('ENOTDIR', 'scandir', `${dir}/file`)],
    [() => fsp.mkdir(`${dir}/file`), () => fsError('EEXIST', 'mkdir', `${dir}/file`)],
    [() => fsp.rmdir(`${dir}/sub`), () => fsError('ENOTEMPTY', 'rmdir', `${dir}/sub`)],
    [() => fsp.open(`${dir}/sub`, 'w'), () => fsError('EISDIR', 'open', `${dir}/sub`)],
    [() => fsp.rename(`${dir}/missing`, `${dir}/other`), () => fsError('ENOENT', 'rename', `${dir}/missing`, `${dir}/other`)],
    [() => fsp.link(`${dir}/file`, `${dir}/sub`), () => fsError('EEXIST', 'link', `${dir}/file`, `${dir}/sub`)],
  ];
  for (const [run, make] of cases) {
    const real = await run().then(
      () => undefined,
      (e: unknown) => e,
    );
    t.ok(real, 'node failed');
    t.same(shape(make()), shape(real), (real as Error).message);
  }
});

t.test('errno numbers are negative, libuv style, for every code the NFS tables produce', async (t) => {
  for (const code of new Set(Object.values(NFS3_ERRNO))) {
    const n = errnoNumber(code);
    t.ok(n < 0, `${code} → ${n}`);
    if (ERRNO[code] !== undefined) t.equal(n, -ERRNO[code]!, `${code} is os.constants' number`);
    t.not(errnoMessage(code), code.toLowerCase(), `${code} has a real message: '${errnoMessage(code)}'`);
  }
  t.equal(errnoNumber('ENOENT'), -2);
  t.equal(errnoNumber('ENOTEMPTY'), process.platform === 'linux' ? -39 : -ERRNO.ENOTEMPTY!);
});

t.test('ESTALE, EREMOTEIO, EREMOTE, EDQUOT get their own messages and numbers', async (t) => {
  const want: Record<string, [number, string]> = {
    ESTALE: [116, 'stale file handle'],
    EREMOTEIO: [121, 'remote I/O error'],
    EREMOTE: [66, 'object is remote'],
    EDQUOT: [122, 'disk quota exceeded'],
  };
  for (const [code, [linux, msg]] of Object.entries(want)) {
    // os.constants on Linux has some of these; the fallback table the rest.
    t.equal(errnoNumber(code), -(ERRNO[code] ?? linux), `${code} errno`);
    t.not(errnoNumber(code), errnoNumber('EIO'), `${code} does not borrow EIO's number`);
    const e = fsError(code, 'read', '/f');
    t.equal(e.message, `${code}: ${msg}, read '/f'`);
    t.equal(e.code, code);
  }
  if (process.platform === 'linux') {
    t.equal(errnoNumber('ESTALE'), -116);
    t.equal(errnoNumber('EREMOTEIO'), -121);
  }
});

t.test('a code nobody knows is EIO by number and keeps its name', async (t) => {
  t.equal(errnoNumber('EWHATEVER'), -5);
  t.equal(errnoMessage('EWHATEVER'), 'ewhatever');
});

t.test('fsError: dest, nfsStatus, cause and a message override', async (t) => {
  const cause = new Error('underneath');
  const e = fsError('EXDEV', 'rename', '/a', '/b', { nfsStatus: 'NFS3ERR_XDEV', cause });
  t.equal(e.message, "EXDEV: cross-device link not permitted, rename '/a' -> '/b'");
  t.equal(e.dest, '/b');
  t.equal(e.nfsStatus, 'NFS3ERR_XDEV');
  t.equal(e.cause, cause);
  const closed = fsError('EBADF', 'read', undefined, undefined, { message: 'client is closed' });
  t.equal(closed.message, 'EBADF: client is closed, read');
  t.notOk('path' in closed, 'no path key when there is no path');
  t.notOk('dest' in closed);
  t.notOk('nfsStatus' in closed);
});

t.test('toFsError turns an NfsStatusError into a node-shaped error of the call', async (t) => {
  const status = new NfsStatusError('NFS3ERR_NOTEMPTY', 'ENOTEMPTY', 'NFSPROC3_RMDIR');
  t.equal(status.message, 'NFSPROC3_RMDIR failed: NFS3ERR_NOTEMPTY');
  t.equal(status.name, 'NfsStatusError');
  const e = toFsError(status, 'rmdir', '/d') as Error & Record<string, unknown>;
  t.not(e, status);
  t.equal(e.cause, status, 'the NFS error (which op, why) is kept as the cause');
  t.match(e, { message: "ENOTEMPTY: directory not empty, rmdir '/d'", code: 'ENOTEMPTY', errno: -ERRNO.ENOTEMPTY!, syscall: 'rmdir', path: '/d', nfsStatus: 'NFS3ERR_NOTEMPTY' });
  const stale = toFsError(new NfsStatusError('NFS3ERR_STALE', 'ESTALE', 'NFSPROC3_GETATTR'), 'stat', '/x') as Error & Record<string, unknown>;
  t.match(stale, { code: 'ESTALE', errno: errnoNumber('ESTALE'), message: "ESTALE: stale file handle, stat '/x'" });
  const remote = toFsError(new NfsStatusError('NFS3ERR_SERVERFAULT', 'EREMOTEIO', 'NFSPROC3_WRITE'), 'write', '/x') as Error & Record<string, unknown>;
  t.match(remote, { code: 'EREMOTEIO', message: "EREMOTEIO: remote I/O error, write '/x'", nfsStatus: 'NFS3ERR_SERVERFAULT' });
  const renamed = toFsError(new NfsStatusError('NFS3ERR_NOENT', 'ENOENT', 'NFSPROC3_RENAME'), 'rename', '/a', '/b') as Error;
  t.equal(renamed.message, "ENOENT: no such file or directory, rename '/a' -> '/b'");
});

t.test('toFsError leaves fs errors alone and gives RPC errors context in a copy', async (t) => {
  const already = fsError('ENOENT', 'open', '/a');
  t.equal(toFsError(already, 'stat', '/b'), already);
  t.equal(already.syscall, 'open', 'not relabelled');

  const timeout = new RpcTimeoutError('NFSPROC3_READ: no reply from h:2049 within 100 ms');
  const e = toFsError(timeout, 'read', '/f') as RpcTimeoutError & { syscall: string; path: string };
  t.not(e, timeout, 'a new object: the thrown error may be shared by other calls');
  t.type(e, RpcTimeoutError, 'class kept');
  t.equal(e.code, 'ETIMEDOUT');
  t.equal(e.message, timeout.message);
  t.equal(e.cause, timeout, 'the original is the cause');
  t.notOk('syscall' in timeout, 'the original is not changed');
  t.match(e.stack, /errors-stats\.test\.ts/, 'the stack is where the fs call was, not where the error was made');
  t.equal(e.syscall, 'read');
  t.equal(e.path, '/f');

  const conn = new RpcConnectionError('connect ECONNREFUSED h:2049', 'ECONNREFUSED', 'h', 2049);
  const c = toFsError(conn, 'open', '/x', '/y') as RpcConnectionError & { syscall: string; path: string; dest: string };
  t.match(c, { code: 'ECONNREFUSED', syscall: 'open', path: '/x', dest: '/y' });

  const mountErr = new MountError('MNT3ERR_ACCES', 13, '/secret');
  t.equal(mountErr.code, 'EACCES');
  t.equal(mountErr.message, "MNT3ERR_ACCES: cannot mount '/secret'");

  const argErr = new InvalidArgError('ERR_INVALID_ARG_VALUE', 'bad');
  t.equal(toFsError(argErr, 'open', '/x'), argErr);
  t.notOk('syscall' in argErr, 'argument errors are not given a syscall');
  t.equal(toFsError('a string', 'open'), 'a string', 'non-errors pass through');
});

t.test('InvalidArgError and invalidArgType read like node', async (t) => {
  t.equal(invalidArgType('path', 'of type string', 5).message, 'The "path" argument must be of type string. Received type number (5)');
  t.equal(invalidArgType('p', 'of type string', null).message, 'The "p" argument must be of type string. Received null');
  t.equal(invalidArgType('p', 'of type string', new Map()).message, 'The "p" argument must be of type string. Received an instance of Map');
  t.equal(invalidArgType('p', 'of type string', 'x'.repeat(40)).message, `The "p" argument must be of type string. Received type string ('${'x'.repeat(25)}...')`);
  t.equal(invalidArgType('cb', 'of type string', function named() {}).message, 'The "cb" argument must be of type string. Received function named');
  const e = new InvalidArgError('ERR_INVALID_ARG_TYPE', 'm');
  t.ok(e instanceof TypeError);
  t.equal(e.name, 'TypeError');
  t.equal(e.code, 'ERR_INVALID_ARG_TYPE');
  t.equal(new InvalidArgError('ERR_OUT_OF_RANGE', 'm').name, 'RangeError');
});

// ---- Stats ----

function attrs(over: Partial<Attrs> = {}): Attrs {
  return {
    kind: 'file',
    mode: 0o644,
    nlink: 2,
    uid: 1000,
    gid: 100,
    size: 5000,
    used: 8192,
    rdev: 0,
    fsid: 0x1234n,
    fileid: 987654321n,
    atime: { sec: 1_700_000_000, nsec: 123_456_789 },
    mtime: { sec: 1_700_000_100, nsec: 999_999_999 },
    ctime: { sec: 1_700_000_200, nsec: 500_000_000 },
    ...over,
  };
}

const KINDS: [FileKind, number, string][] = [
  ['file', fsConstants.S_IFREG, 'isFile'],
  ['directory', fsConstants.S_IFDIR, 'isDirectory'],
  ['symlink', fsConstants.S_IFLNK, 'isSymbolicLink'],
  ['block', fsConstants.S_IFBLK, 'isBlockDevice'],
  ['char', fsConstants.S_IFCHR, 'isCharacterDevice'],
  ['fifo', fsConstants.S_IFIFO, 'isFIFO'],
  ['socket', fsConstants.S_IFSOCK, 'isSocket'],
];
const METHODS = KINDS.map(([, , m]) => m);

t.test('Stats: mode carries the type bits node uses, and exactly one isX() is true', async (t) => {
  t.equal(S_IFMT, fsConstants.S_IFMT);
  for (const [kind, bits, method] of KINDS) {
    for (const s of [new Stats(attrs({ kind, mode: 0o4755 }), 4096), new BigIntStats(attrs({ kind, mode: 0o4755 }), 4096)]) {
      t.equal(Number(s.mode) & fsConstants.S_IFMT, bits, `${kind} type bits`);
      t.equal(Number(s.mode) & 0o7777, 0o4755, `${kind} permission bits`);
      for (const m of METHODS) t.equal((s as unknown as Record<string, () => boolean>)[m]!(), m === method, `${kind}: ${m}()`);
    }
  }
});

t.test('Stats: fields from the attributes', async (t) => {
  const s = new Stats(attrs(), 65536);
  t.match(s, { dev: 0x1234, ino: 987654321, mode: 0o100644, nlink: 2, uid: 1000, gid: 100, rdev: 0, size: 5000, blksize: 65536 });
  t.equal(s.blocks, 16, 'blocks are 512-byte units of `used`');
  t.equal(new Stats(attrs({ used: 1 }), 4096).blocks, 1, 'a partial block counts');
  t.equal(new Stats(attrs({ used: 0 }), 4096).blocks, 0);
  t.equal(new Stats(attrs({ used: 513 }), 4096).blocks, 2);
  t.equal(new Stats(attrs({ kind: 'char', rdev: (1 << 8) | 3 }), 4096).rdev, 259);
});

t.test('Stats: times in ms as node computes them, dates rounded as node rounds them', async (t) => {
  const s = new Stats(attrs(), 4096);
  t.equal(s.atimeMs, 1_700_000_000_000 + 123.456789);
  t.equal(s.mtimeMs, 1_700_000_100_000 + 999.999999);
  t.equal(s.ctimeMs, 1_700_000_200_500);
  t.equal(s.atime.getTime(), 1_700_000_000_123);
  t.equal(s.mtime.getTime(), 1_700_000_101_000, 'node rounds x.999999 ms up (dateFromMs uses Math.round)');
  t.equal(s.ctime.getTime(), 1_700_000_200_500);
  const half = new Stats(attrs({ atime: { sec: 1000, nsec: 600_000 } }), 4096);
  t.equal(half.atime.getTime(), 1_000_001);
});

t.test('Stats: NFS has no birth time; birthtime is ctime', async (t) => {
  const s = new Stats(attrs(), 4096);
  t.equal(s.birthtimeMs, s.ctimeMs);
  t.equal(s.birthtime.getTime(), s.ctime.getTime());
  t.not(s.birthtime, s.ctime, 'separate Date objects: mutating one leaves the other');
  const b = new BigIntStats(attrs(), 4096);
  t.equal(b.birthtimeNs, b.ctimeNs);
  t.equal(b.birthtimeMs, b.ctimeMs);
  t.equal(b.birthtime.getTime(), b.ctime.getTime());
});

t.test('BigIntStats: ns fields are exact, ms truncated, dates from the whole ms', async (t) => {
  const b = new BigIntStats(attrs({ fileid: 2n ** 63n + 5n, fsid: 2n ** 60n }), 4096);
  t.equal(b.atimeNs, 1_700_000_000_123_456_789n);
  t.equal(b.mtimeNs, 1_700_000_100_999_999_999n);
  t.equal(b.ctimeNs, 1_700_000_200_500_000_000n);
  t.equal(b.atimeMs, 1_700_000_000_123n);
  t.equal(b.mtimeMs, 1_700_000_100_999n);
  t.equal(b.mtime.getTime(), 1_700_000_100_999, 'BigIntStats dates come from the truncated ms, as node');
  t.equal(b.ino, 2n ** 63n + 5n, 'ino beyond 2^53 is exact');
  t.equal(b.dev, 2n ** 60n);
  t.match(b, { mode: 0o100644n, nlink: 2n, uid: 1000n, gid: 100n, size: 5000n, blksize: 4096n, blocks: 16n, rdev: 0n });
  const max = new BigIntStats(attrs({ atime: { sec: 0xffffffff, nsec: 999_999_999 } }), 4096);
  t.equal(max.atimeNs, 4_294_967_295_999_999_999n, 'the largest nfstime3');
});

t.test('Stats and BigIntStats agree with what node builds from the same numbers', async (t) => {
  // A real file's stat, fed back as Attrs, must give the same fields.
  const dir = await fsp.mkdtemp('/tmp/mountless-stats-');
  t.teardown(() => fsp.rm(dir, { recursive: true, force: true }));
  await fsp.writeFile(`${dir}/f`, 'hello');
  await fsp.utimes(`${dir}/f`, 1_700_000_000.123456, 1_700_000_001.987654);
  const real = await fsp.stat(`${dir}/f`, { bigint: true });
  const realN = await fsp.stat(`${dir}/f`);
  const split = (ns: bigint) => ({ sec: Number(ns / 1_000_000_000n), nsec: Number(ns % 1_000_000_000n) });
  const a: Attrs = {
    kind: 'file',
    mode: Number(real.mode) & 0o7777,
    nlink: Number(real.nlink),
    uid: Number(real.uid),
    gid: Number(real.gid),
    size: Number(real.size),
    used: Number(real.blocks) * 512,
    rdev: Number(real.rdev),
    fsid: real.dev,
    fileid: real.ino,
    atime: split(real.atimeNs),
    mtime: split(real.mtimeNs),
    ctime: split(real.ctimeNs),
  };
  const ours = new BigIntStats(a, Number(real.blksize));
  for (const k of ['dev', 'ino', 'mode', 'nlink', 'uid', 'gid', 'rdev', 'size', 'blksize', 'blocks', 'atimeNs', 'mtimeNs', 'ctimeNs', 'atimeMs', 'mtimeMs', 'ctimeMs'] as const) {
    t.equal(ours[k], real[k], k);
  }
  for (const k of ['atime', 'mtime', 'ctime'] as const) t.equal(ours[k].getTime(), real[k].getTime(), `bigint ${k}`);
  const oursN = new Stats(a, Number(real.blksize));
  for (const k of ['dev', 'ino', 'mode', 'nlink', 'uid', 'gid', 'size', 'blocks', 'atimeMs', 'mtimeMs', 'ctimeMs'] as const) t.equal(oursN[k], realN[k], k);
  for (const k of ['atime', 'mtime', 'ctime'] as const) t.equal(oursN[k].getTime(), realN[k].getTime(), k);
});

t.test('Dirent: name, parentPath, path and the type methods', async (t) => {
  const d = new Dirent('f.txt', '/dir', 'file');
  t.equal(d.name, 'f.txt');
  t.equal(d.parentPath, '/dir');
  // node 24 removed the deprecated Dirent.path (DEP0178); ours has it exactly where node's own does.
  const real = (await fsp.readdir('/', { withFileTypes: true }))[0]!;
  if ('path' in real) t.equal(d.path, '/dir', 'path, as this node has it');
  else t.notOk('path' in d, 'no path, as this node has none');
  t.ok(d.isFile());
  t.notOk(d.isDirectory());
  const unknown = new Dirent('x', '/', undefined);
  for (const m of METHODS) t.equal((unknown as unknown as Record<string, () => boolean>)[m]!(), false, `unknown type: ${m}()`);
  t.ok(new Dirent('s', '/', 'symlink').isSymbolicLink());
});

t.test('StatFs: counts in bsize blocks, NFS magic', async (t) => {
  const s = new StatFs({ bsize: 4096, totalBytes: 4096 * 1000 + 100, freeBytes: 4096 * 500, availBytes: 4096 * 400 + 4095, totalFiles: 77, freeFiles: 7, availFiles: 6, nameMax: 255 });
  t.match(s, { type: 0x6969, bsize: 4096, blocks: 1000, bfree: 500, bavail: 400, files: 77, ffree: 7 });
});
