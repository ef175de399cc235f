// Argument parsing of the fs layer: paths, open flags, modes and times,
// compared with what node itself does for the same input.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { constants } from 'node:fs';
import { parsePath, checkName, PathResolver, NAME_MAX, type ParsedPath } from '../../src/fs/paths.js';
import { parseFlags, parseMode } from '../../src/fs/flags.js';
import { toTime, toSetAttrsTimes } from '../../src/fs/times.js';
import { NfsStatusError } from '../../src/errors.js';
import type { Attrs, Backend, FileHandleId, FileKind, Looked } from '../../src/fs/backend.js';

/**
 * node's own answers, from its internal helpers (node --expose-internals):
 * stringToFlags, parseFileMode and toUnixTimestamp. Each input is run there
 * and the result or the error code comes back as JSON.
 */
function nodeSays(fn: 'stringToFlags' | 'parseFileMode' | 'toUnixTimestamp', inputs: unknown[]): ({ value: number } | { code: string })[] {
  const script = `
    const { stringToFlags, toUnixTimestamp } = require('internal/fs/utils');
    const { parseFileMode } = require('internal/validators');
    const f = { stringToFlags, toUnixTimestamp, parseFileMode: (m) => parseFileMode(m, 'mode') }[${JSON.stringify(fn)}];
    const out = JSON.parse(process.argv[1]).map((v) => {
      try { return { value: f(v) }; } catch (e) { return { code: e.code }; }
    });
    process.stdout.write(JSON.stringify(out));`;
  return JSON.parse(execFileSync(process.execPath, ['--expose-internals', '-e', script, JSON.stringify(inputs)], { encoding: 'utf8' }));
}

// ---- parsePath ----

t.test('parsePath: normalises slashes and dots, keeps the display form', async (t) => {
  const cases: [string, string[]][] = [
    ['/', []],
    ['//', []],
    ['/a', ['a']],
    ['a', ['a']],
    ['/a/b/c', ['a', 'b', 'c']],
    ['//a///b//', ['a', 'b']],
    ['/./a/./b', ['a', 'b']],
    ['./a', ['a']],
    ['/a/../b', ['a', '..', 'b']],
    ['/a/b/../../c', ['a', 'b', '..', '..', 'c']],
    ['/a/..', ['a', '..']],
    ['/ sp ace /tab\t', [' sp ace ', 'tab\t']],
    ['/é/日本', ['é', '日本']],
    ['/...', ['...']],
    ['/.a/..b', ['.a', '..b']],
  ];
  for (const [p, parts] of cases) {
    const r = parsePath(p, 'stat');
    t.same(r.parts, parts, JSON.stringify(p));
    t.equal(r.display, p, `display of ${JSON.stringify(p)}`);
  }
});

t.test('parsePath: a final "." stays, so the resolver and name calls can refuse it', async (t) => {
  t.same(parsePath('/a/.', 'stat').parts, ['a', '.']);
  t.same(parsePath('/a/./', 'stat').parts, ['a', '.']);
  t.same(parsePath('.', 'stat').parts, ['.']);
  t.same(parsePath('/a/./b', 'stat').parts, ['a', 'b'], 'an inner "." is dropped');
});

t.test('parsePath: trailing slash', async (t) => {
  t.equal(parsePath('/a/', 'stat').trailingSlash, true);
  t.equal(parsePath('/a//', 'stat').trailingSlash, true);
  t.equal(parsePath('a/', 'stat').trailingSlash, true);
  t.equal(parsePath('/a', 'stat').trailingSlash, false);
  t.equal(parsePath('/', 'stat').trailingSlash, false, 'the root alone is not "a trailing slash"');
  t.equal(parsePath('/a/.', 'stat').trailingSlash, false);
});

t.test('parsePath: ".." may not climb above the export root', async (t) => {
  for (const p of ['/..', '..', '/../a', '/a/../..', '/a/b/../../../c', './..', '/a/./../../']) {
    t.throws(() => parsePath(p, 'stat'), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message: /climbs above the export root/ }, p);
  }
  t.same(parsePath('/a/b/../..', 'stat').parts, ['a', 'b', '..', '..'], 'back to the root is fine');
});

t.test('parsePath: NUL bytes are refused like node refuses them', async (t) => {
  for (const p of ['/a\0b', '\0', Buffer.from('/a\0')]) {
    t.throws(() => parsePath(p, 'open'), { code: 'ERR_INVALID_ARG_VALUE', message: /without null bytes/ });
  }
});

t.test('parsePath: wrong types', async (t) => {
  // node's words, though a URL (a file: path) is refused below: an NFS path is not a local file.
  t.throws(() => parsePath(42, 'stat'), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: 'The "path" argument must be of type string or an instance of Buffer or URL. Received type number (42)' });
  t.throws(() => parsePath(undefined, 'stat'), { code: 'ERR_INVALID_ARG_TYPE', message: /Received undefined/ });
  t.throws(() => parsePath({}, 'stat', 'oldPath'), { code: 'ERR_INVALID_ARG_TYPE', message: /The "oldPath" argument/ });
  t.throws(() => parsePath(new URL('file:///etc'), 'stat'), { code: 'ERR_INVALID_ARG_VALUE', message: /not a URL/ });
});

t.test('parsePath: Buffers are UTF-8 paths', async (t) => {
  t.same(parsePath(Buffer.from('/x/é'), 'stat').parts, ['x', 'é']);
});

t.test('parsePath: the empty path is ENOENT, as node reports it', async (t) => {
  t.throws(() => parsePath('', 'stat'), { code: 'ENOENT', syscall: 'stat', path: '', errno: -2 });
});

t.test('parsePath: components of 255 bytes pass, 256 are ENAMETOOLONG', async (t) => {
  t.equal(NAME_MAX, 255);
  t.same(parsePath('/' + 'a'.repeat(255), 'stat').parts, ['a'.repeat(255)]);
  t.throws(() => parsePath('/d/' + 'a'.repeat(256), 'open'), { code: 'ENAMETOOLONG', syscall: 'open', path: '/d/' + 'a'.repeat(256), message: /^ENAMETOOLONG: name too long, open '/ });
  // Bytes, not characters: 128 × 'é' is 256 bytes.
  t.throws(() => parsePath('/' + 'é'.repeat(128), 'stat'), { code: 'ENAMETOOLONG' });
  t.same(parsePath('/' + 'é'.repeat(127) + 'a', 'stat').parts.length, 1, '255 bytes of mixed width');
  // The whole path may be long; only a component is limited.
  t.equal(parsePath('/' + Array(40).fill('a'.repeat(200)).join('/'), 'stat').parts.length, 40);
});

t.test('checkName refuses what cannot be a new entry', async (t) => {
  t.throws(() => checkName('', 'mkdir', '/x'), { code: 'ENOENT' });
  t.throws(() => checkName('.', 'mkdir', '/x/.'), { code: 'EEXIST', path: '/x/.' });
  t.throws(() => checkName('..', 'mkdir', '/x/..'), { code: 'EEXIST' });
  t.throws(() => checkName('n'.repeat(256), 'mkdir', '/n'), { code: 'ENAMETOOLONG' });
  t.doesNotThrow(() => checkName('n'.repeat(255), 'mkdir', '/n'));
});

// ---- PathResolver over an in-memory backend ----

/** A tree of named nodes behind the Backend methods the resolver calls. */
function memBackend(tree: Record<string, FileKind | { symlink: string }>): Backend {
  const fhOf = (p: string) => Buffer.from(p);
  const attrs = (kind: FileKind, id: number): Attrs => {
    const time = { sec: 0, nsec: 0 };
    return { kind, mode: 0o755, nlink: 1, uid: 0, gid: 0, size: 0, used: 0, rdev: 0, fsid: 1n, fileid: BigInt(id), atime: time, mtime: time, ctime: time };
  };
  const kindOf = (p: string): FileKind | undefined => {
    if (p === '') return 'directory';
    const e = tree[p];
    return e === undefined ? undefined : typeof e === 'string' ? e : 'symlink';
  };
  const b: Partial<Backend> = {
    version: 'mem',
    rootFh: fhOf(''),
    async getattr(fh: FileHandleId) {
      const k = kindOf(fh.toString());
      if (!k) throw new NfsStatusError('NFS3ERR_STALE', 'ESTALE', 'GETATTR');
      return attrs(k, fh.length);
    },
    async lookup(dir: FileHandleId, name: string): Promise<Looked> {
      const d = dir.toString();
      if (kindOf(d) !== 'directory') throw new NfsStatusError('NFS3ERR_NOTDIR', 'ENOTDIR', 'LOOKUP');
      const p = d === '' ? name : `${d}/${name}`;
      const k = kindOf(p);
      if (!k) throw new NfsStatusError('NFS3ERR_NOENT', 'ENOENT', 'LOOKUP');
      return { fh: fhOf(p), attrs: attrs(k, p.length) };
    },
    async readlink(fh: FileHandleId) {
      const e = tree[fh.toString()];
      if (typeof e !== 'object') throw new NfsStatusError('NFS3ERR_INVAL', 'EINVAL', 'READLINK');
      return e.symlink;
    },
  };
  return b as Backend;
}

const tree = memBackend({ d: 'directory', 'd/f': 'file', 'd/sub': 'directory', f: 'file', ln: { symlink: 'd' }, lf: { symlink: 'd/f' } });
const resolver = new PathResolver(tree);
const resolveName = async (p: string, follow = true) => (await resolver.resolve(parsePath(p, 'stat'), follow, 'stat')).fh.toString();

t.test('resolver: dots and dot-dots inside the export', async (t) => {
  t.equal(await resolveName('/'), '');
  t.equal(await resolveName('.'), '');
  t.equal(await resolveName('/d/.'), 'd');
  t.equal(await resolveName('/d/sub/..'), 'd');
  t.equal(await resolveName('/d/sub/../f'), 'd/f');
  t.equal(await resolveName('/ln/f'), 'd/f', 'a symlink to a directory is followed mid-path');
  t.equal(await resolveName('/ln/sub/..'), 'd', "'..' after a symlink is physical");
  t.equal(await resolveName('/ln', false), 'ln', 'lstat keeps the final link');
  t.equal(await resolveName('/ln/.', false), 'd', "'ln/.' names the directory, even for lstat");
});

t.test('resolver: a file followed by "/", "/." or "/.." is ENOTDIR', async (t) => {
  for (const p of ['/f/', '/f/.', '/f/..', '/d/f/.', '/d/f/..', '/lf/', '/lf/.']) {
    await t.rejects(resolver.resolve(parsePath(p, 'stat'), true, 'stat'), { code: 'ENOTDIR', syscall: 'stat', path: p }, p);
  }
  await t.rejects(resolver.resolve(parsePath('/f/x', 'stat'), true, 'stat'), { code: 'ENOTDIR', path: '/f/x' });
});

t.test('resolveParent: a final "." is handed over as the name, a final ".." is refused', async (t) => {
  const r = await resolver.resolveParent(parsePath('/d/.', 'rmdir'), 'rmdir');
  t.equal(r.dir.toString(), 'd');
  t.equal(r.name, '.', 'rmdir/mkdir see "." and refuse it (not act on /d)');
  // rmdir('d/sub/..') is ENOTEMPTY on Linux: it names d, which holds sub.
  await t.rejects(resolver.resolveParent(parsePath('/d/sub/..', 'rmdir'), 'rmdir'), { code: 'ENOTEMPTY', syscall: 'rmdir', path: '/d/sub/..' });
  await t.rejects(resolver.resolveParent(parsePath('/f/..', 'rmdir'), 'rmdir'), { code: 'ENOTDIR', path: '/f/..' }, "'file/..' fails on the file first");
  await t.rejects(resolver.resolveParent(parsePath('/f/.', 'unlink'), 'unlink'), { code: 'ENOTDIR', path: '/f/.' }, 'unlink("/file/.") must not unlink the file');
  const root = await resolver.resolveParent(parsePath('/', 'rmdir'), 'rmdir');
  t.equal(root.name, undefined);
});

// ---- parseFlags ----

const STRING_FLAGS = ['r', 'rs', 'sr', 'r+', 'rs+', 'sr+', 'w', 'wx', 'xw', 'w+', 'wx+', 'xw+', 'a', 'ax', 'xa', 'as', 'sa', 'a+', 'ax+', 'xa+', 'as+', 'sa+'];

t.test('parseFlags: every string flag maps to the bits node maps it to', async (t) => {
  const node = nodeSays('stringToFlags', STRING_FLAGS);
  STRING_FLAGS.forEach((f, i) => {
    const want = node[i]!;
    t.ok('value' in want, `node knows ${f}`);
    if ('value' in want) t.equal(parseFlags(f).raw, want.value, `'${f}'`);
  });
});

t.test('parseFlags: the decoded meaning of each string flag', async (t) => {
  const { O_RDONLY, O_WRONLY, O_RDWR } = constants;
  t.equal(O_RDONLY, 0);
  const want: Record<string, Partial<ReturnType<typeof parseFlags>>> = {
    r: { read: true, write: false, create: false, truncate: false, append: false, exclusive: false, sync: 'none' },
    'r+': { read: true, write: true, create: false, truncate: false },
    rs: { read: true, write: false, sync: 'file' },
    'sr+': { read: true, write: true, sync: 'file' },
    w: { read: false, write: true, create: true, truncate: true, exclusive: false },
    wx: { write: true, create: true, truncate: true, exclusive: true },
    'w+': { read: true, write: true, create: true, truncate: true },
    a: { read: false, write: true, create: true, append: true, truncate: false },
    'ax+': { read: true, write: true, append: true, exclusive: true },
    as: { write: true, append: true, sync: 'file' },
    'sa+': { read: true, write: true, append: true, sync: 'file' },
  };
  for (const [f, w] of Object.entries(want)) t.match(parseFlags(f), w, f);
  t.equal(parseFlags(O_WRONLY).write, true);
  t.equal(parseFlags(O_RDWR).read, true);
});

t.test('parseFlags: numbers pass through and are decoded', async (t) => {
  const { O_WRONLY, O_CREAT, O_EXCL, O_DSYNC, O_SYNC, O_NOFOLLOW, O_DIRECTORY, O_APPEND } = constants;
  const f = parseFlags(O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW);
  t.match(f, { read: false, write: true, create: true, exclusive: true, noFollow: true, directory: false, raw: O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW });
  t.equal(parseFlags(O_DSYNC).sync, 'data', 'O_DSYNC alone is a data sync');
  t.equal(parseFlags(O_SYNC).sync, 'file', 'O_SYNC (which contains the O_DSYNC bit on Linux) is a file sync');
  t.equal(parseFlags(O_DIRECTORY).directory, true);
  t.equal(parseFlags(O_APPEND | O_WRONLY).append, true);
});

t.test('parseFlags: undefined and null take the default', async (t) => {
  t.equal(parseFlags(undefined).raw, constants.O_RDONLY);
  t.equal(parseFlags(null).raw, constants.O_RDONLY, 'null is O_RDONLY, as node');
  t.equal(parseFlags(undefined, 'w').raw, parseFlags('w').raw);
});

t.test('parseFlags: invalid flags are refused with the code node uses', async (t) => {
  const bad: unknown[] = ['z', 'R', 'rw', 'wr', '', ' r', 'r ', 'x', 'toString', '__proto__', true, {}, 1.5, 2 ** 31];
  const node = nodeSays('stringToFlags', bad);
  bad.forEach((f, i) => {
    const want = node[i]!;
    t.ok('code' in want, `node refuses ${JSON.stringify(f)}`);
    if ('code' in want) t.throws(() => parseFlags(f), { code: want.code }, `${JSON.stringify(f)} → ${want.code}`);
  });
  t.throws(() => parseFlags('z'), { message: "The argument 'flags' is invalid. Received 'z'" });
  t.throws(() => parseFlags(Symbol('r')), { code: 'ERR_INVALID_ARG_VALUE' });
});

// ---- parseMode ----

t.test('parseMode: octal strings and numbers, as node parses them', async (t) => {
  const inputs: unknown[] = ['644', '0644', '0755', '7777', '0', 0o644, 0o4755, 0o100644, 0, 4294967295];
  const node = nodeSays('parseFileMode', inputs);
  inputs.forEach((m, i) => {
    const want = node[i]!;
    t.ok('value' in want, `node accepts ${JSON.stringify(m)}`);
    if ('value' in want) t.equal(parseMode(m, 0), want.value & 0o7777, `${JSON.stringify(m)} → ${(want.value & 0o7777).toString(8)}`);
  });
  t.equal(parseMode(0o100644, 0), 0o644, 'a Stats mode (type bits set) is accepted: chmod(p, st.mode)');
});

t.test('parseMode: default for undefined and null', async (t) => {
  t.equal(parseMode(undefined, 0o666), 0o666);
  t.equal(parseMode(null, 0o777), 0o777);
});

t.test('parseMode: invalid modes are refused with the code node uses', async (t) => {
  const bad: unknown[] = ['8', '0o644', '', ' 644', '-1', 'rw', -1, 1.5, 2 ** 32, NaN, '77777777777', true, {}];
  const node = nodeSays('parseFileMode', bad.map((v) => (typeof v === 'number' && Number.isNaN(v) ? 'NaN' : v)));
  bad.forEach((m, i) => {
    if (typeof m === 'number' && Number.isNaN(m)) return; // JSON cannot carry NaN; checked below
    const want = node[i]!;
    t.ok('code' in want, `node refuses ${JSON.stringify(m)}`);
    if ('code' in want) t.throws(() => parseMode(m, 0), { code: want.code }, `${JSON.stringify(m)} → ${want.code}`);
  });
  t.throws(() => parseMode(NaN, 0), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => parseMode('8', 0), { message: "The argument 'mode' must be a 32-bit unsigned integer or an octal string. Received '8'" });
  t.throws(() => parseMode(-1, 0, 'options.mode'), { message: /The value of "options.mode" is out of range/ });
});

// ---- toTime ----

t.test('toTime: Date, seconds, fractional seconds, numeric strings', async (t) => {
  t.same(toTime(new Date(1_700_000_000_123)), { sec: 1_700_000_000, nsec: 123_000_000 });
  t.same(toTime(1_700_000_000), { sec: 1_700_000_000, nsec: 0 });
  t.same(toTime(1.5), { sec: 1, nsec: 500_000_000 });
  t.same(toTime(0), { sec: 0, nsec: 0 });
  t.same(toTime('1700000000.25'), { sec: 1_700_000_000, nsec: 250_000_000 });
  t.same(toTime('42'), { sec: 42, nsec: 0 });
  t.same(toTime(1.9999999999), { sec: 2, nsec: 0 }, 'rounding up to a whole second carries');
  t.same(toTime(1_700_000_000.000_001), { sec: 1_700_000_000, nsec: 1000 }, 'microseconds survive');
  t.same(toTime(1_700_000_000.123), { sec: 1_700_000_000, nsec: 123_000_000 }, 'no float noise below the microsecond');
  t.same(toTime(new Date(-1500)), { sec: -2, nsec: 500_000_000 }, 'a Date before 1970 is kept (negative sec, positive nsec)');
});

t.test('toTime: agrees with node for the inputs node accepts', async (t) => {
  const inputs: unknown[] = [0, 1, 1.25, 1_700_000_000.5, '7', '1.5', '', ' ', '0x10', '1e3'];
  const node = nodeSays('toUnixTimestamp', inputs);
  inputs.forEach((v, i) => {
    const want = node[i]!;
    t.ok('value' in want, `node accepts ${JSON.stringify(v)}`);
    if (!('value' in want)) return;
    const got = toTime(v)!;
    t.equal(got.sec + got.nsec / 1e9, want.value, `${JSON.stringify(v)} → ${want.value}`);
  });
});

t.test('toTime: a negative number means now, as node maps it', async (t) => {
  const before = Math.floor(Date.now() / 1000);
  const got = toTime(-1)!;
  const after = Math.ceil(Date.now() / 1000);
  t.ok(got.sec >= before && got.sec <= after, `now: ${got.sec} in [${before}, ${after}]`);
});

t.test('toTime: NaN, Infinity and non-times are refused as node 20 refuses them', async (t) => {
  const node = nodeSays('toUnixTimestamp', ['abc', 'NaN', true, {}, null]);
  for (const w of node) t.same(w, { code: 'ERR_INVALID_ARG_TYPE' });
  for (const v of [NaN, Infinity, -Infinity, 'abc', 'NaN', true, {}, null, undefined, 10n]) {
    // node's own words, "an Time" included.
    t.throws(() => toTime(v), { code: 'ERR_INVALID_ARG_TYPE', message: /^The "time" argument must be an instance of Date or an Time in seconds\. Received / }, String(v));
  }
  // node takes these and then fails utimes(2) with EINVAL: there is no time to send (the caller raises EINVAL).
  t.equal(toTime(new Date(NaN)), undefined);
  t.equal(toTime('Infinity'), undefined);
});

t.test('toSetAttrsTimes: both times, or none', async (t) => {
  t.same(toSetAttrsTimes(1, new Date(2000)), { atime: { sec: 1, nsec: 0 }, mtime: { sec: 2, nsec: 0 } });
  t.throws(() => toSetAttrsTimes(1, 'x'), { code: 'ERR_INVALID_ARG_TYPE' });
  t.equal(toSetAttrsTimes(new Date(NaN), 1), undefined, 'an invalid Date: nothing to set');
});

// The resolver's type is used above only through its public methods.
void (null as unknown as ParsedPath);
