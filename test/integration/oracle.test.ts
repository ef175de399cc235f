// The differential suite: every case runs the same calls through node:fs on a
// local temporary directory (the oracle) and through mountless on the real
// server, and the two outcomes must be equal after normalising what is
// allowed to differ (the root path, the order of readdir, directory sizes).
//
// Failures are compared on code, errno, syscall, name, and the message with
// the root replaced, so `ENOENT: no such file or directory, open '<case>/x'`
// must come out letter for letter. `expect` pins what node itself does, so a
// case whose setup went wrong on both sides the same way cannot pass vacuously.
//
// Symlink targets are relative only: an absolute target means the real root
// locally and the export root over NFS (fs-api.test.ts covers those).
import t from 'tap';
import * as nodeFs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import type { NfsClient } from '../../src/index.js';
import { scratch } from './_env.js';

const { constants } = nodeFs;

/** The API under test; node's fs/promises (plus fs.createRead/WriteStream) has the same shape at run time. */
type Api = NfsClient;
/** Maps a case-relative path ('/x') to the path on one side. */
type P = (rel: string) => string;

interface Case {
  name: string;
  run(fs: Api, p: P): Promise<unknown>;
  /** Matched (tap's t.match) against node's normalised outcome. */
  expect?: unknown;
}

const s = await scratch(t, 'oracle');
const localRoot = await fsp.realpath(await fsp.mkdtemp(join(tmpdir(), 'mountless-oracle-')));
t.teardown(() => fsp.rm(localRoot, { recursive: true, force: true }));

const nodeApi = { ...fsp, createReadStream: nodeFs.createReadStream, createWriteStream: nodeFs.createWriteStream } as unknown as Api;

// ---- normalisation ----

const S_IFMT = 0o170000;
const KIND: Record<number, string> = { 0o100000: 'file', 0o040000: 'dir', 0o120000: 'symlink' };

interface Roots {
  /** Replaced first: the case's own directory. */
  caseDir: string;
}

function replacePaths(v: string, r: Roots): string {
  return v.split(r.caseDir).join('<case>');
}

function direntType(d: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }): string {
  return d.isFile() ? 'file' : d.isDirectory() ? 'dir' : d.isSymbolicLink() ? 'symlink' : 'other';
}

/** Plain data both sides can be compared on. */
function norm(v: unknown, r: Roots): unknown {
  if (v === undefined || v === null || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return v;
  if (typeof v === 'string') return replacePaths(v, r);
  if (v instanceof Error) {
    const e = v as Error & { code?: string; errno?: number; syscall?: string; path?: string; dest?: string };
    const out: Record<string, unknown> = { name: e.name, code: e.code, message: replacePaths(e.message, r) };
    if (e.errno !== undefined) out.errno = e.errno;
    if (e.syscall !== undefined) out.syscall = e.syscall;
    if (e.path !== undefined) out.path = replacePaths(String(e.path), r);
    if (e.dest !== undefined) out.dest = replacePaths(String(e.dest), r);
    return { error: out };
  }
  if (ArrayBuffer.isView(v)) return 'hex:' + Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
  if (Array.isArray(v)) return v.map((x) => norm(x, r));
  if (typeof v === 'object') {
    const o = v as Record<string, unknown> & { isFile?: unknown };
    if (typeof o.isFile === 'function' && 'nlink' in o) {
      const st = o as unknown as nodeFs.Stats;
      const kind = KIND[st.mode & S_IFMT] ?? 'other';
      return {
        kind,
        perm: (st.mode & 0o7777).toString(8),
        nlink: st.nlink,
        uid: st.uid,
        gid: st.gid,
        // Directory sizes belong to the filesystem underneath, not to the API.
        ...(kind === 'dir' ? {} : { size: st.size }),
      };
    }
    if (typeof o.isFile === 'function' && 'name' in o) {
      const d = o as unknown as nodeFs.Dirent & { parentPath: string };
      return { name: d.name, type: direntType(d), parentPath: replacePaths(d.parentPath, r) };
    }
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) if (typeof x !== 'function') out[k] = norm(x, r);
    return out;
  }
  return String(v);
}

// ---- helpers for cases ----

/** The outcome of one step: its value, or the error it failed with (so a case can go on). */
async function attempt<T>(p: Promise<T> | (() => Promise<T>)): Promise<T | Error> {
  try {
    return await (typeof p === 'function' ? p() : p);
  } catch (e) {
    return e as Error;
  }
}

const sorted = (names: string[]) => [...names].sort();
const byName = <T extends { name: string; parentPath?: string }>(ds: T[]) =>
  [...ds].sort((a, b) => `${a.parentPath ?? ''}/${a.name}`.localeCompare(`${b.parentPath ?? ''}/${b.name}`));

/** Whole seconds of atime and mtime, for checks after utimes. */
async function times(fs: Api, path: string) {
  const st = await fs.stat(path);
  return { atime: Math.floor(st.atimeMs / 1000), mtime: Math.floor(st.mtimeMs / 1000), mtimeMs: st.mtimeMs, atimeMs: st.atimeMs };
}

/** Deterministic pseudo-random bytes (xorshift32), so both sides write the same data without a shared buffer. */
function bytes(n: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

/** Drains a readable into its chunk sizes and data, or the error it emitted. */
async function drain(r: Readable): Promise<{ chunks: number[]; data: string } | Error> {
  const chunks: number[] = [];
  let data = '';
  try {
    for await (const c of r) {
      chunks.push(c.length);
      data += typeof c === 'string' ? c : (c as Buffer).toString('hex');
    }
  } catch (e) {
    return e as Error;
  }
  return { chunks, data };
}

async function finish(w: Writable, parts: Array<string | Buffer>): Promise<number | Error> {
  return new Promise((resolve) => {
    w.on('error', (e) => resolve(e));
    w.on('close', () => resolve((w as unknown as { bytesWritten: number }).bytesWritten));
    for (const x of parts) w.write(x);
    w.end();
  });
}

async function tree(fs: Api, p: P): Promise<void> {
  await fs.mkdir(p('/d/sub/deeper'), { recursive: true });
  await fs.writeFile(p('/d/a.txt'), 'aaa');
  await fs.writeFile(p('/d/sub/b.txt'), 'bbbb');
  await fs.writeFile(p('/d/sub/deeper/c.txt'), 'c');
  await fs.symlink('sub', p('/d/link-to-sub'));
}

// ---- the cases ----

const cases: Case[] = [
  // readFile / writeFile / appendFile
  {
    name: 'writeFile utf8 string, readFile as Buffer and as utf8',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), 'héllo ✓ wörld');
      return [await fs.readFile(p('/f')), await fs.readFile(p('/f'), 'utf8'), await fs.readFile(p('/f'), { encoding: 'utf8' })];
    },
  },
  {
    name: 'writeFile base64, readFile hex and base64',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), 'AAECAwT/+v4=', 'base64');
      return [await fs.readFile(p('/f'), 'hex'), await fs.readFile(p('/f'), { encoding: 'base64' })];
    },
    expect: ['0001020304fffafe', 'AAECAwT/+v4='],
  },
  {
    name: 'writeFile hex, readFile latin1',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), '48e96c6c6fff', { encoding: 'hex' });
      return [await fs.readFile(p('/f'), 'latin1'), (await fs.stat(p('/f'))).size];
    },
    expect: ['Héllo\u00ff', 6],
  },
  {
    name: 'writeFile latin1 keeps one byte per char',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), 'caf\u00e9 \u00bf\u00ff', 'latin1');
      return [await fs.readFile(p('/f')), await fs.readFile(p('/f'), 'latin1')];
    },
  },
  {
    name: 'writeFile from typed arrays and DataView',
    run: async (fs, p) => {
      await fs.writeFile(p('/u16'), new Uint16Array([1, 2, 0xffff]));
      await fs.writeFile(p('/dv'), new DataView(new Uint8Array([9, 8, 7, 6]).buffer, 1, 2));
      return [await fs.readFile(p('/u16')), await fs.readFile(p('/dv'))];
    },
    expect: ['hex:01000200ffff', 'hex:0807'],
  },
  {
    name: 'writeFile from an iterable and an async iterable',
    run: async (fs, p) => {
      await fs.writeFile(p('/it'), ['ab', Buffer.from('cd'), 'ef']);
      async function* gen() {
        yield 'x';
        yield Buffer.from([0x79]);
      }
      await fs.writeFile(p('/ait'), gen());
      return [await fs.readFile(p('/it'), 'utf8'), await fs.readFile(p('/ait'), 'utf8')];
    },
    expect: ['abcdef', 'xy'],
  },
  {
    name: 'writeFile over a longer file truncates it',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), 'a long first version');
      await fs.writeFile(p('/f'), 'short');
      return [await fs.readFile(p('/f'), 'utf8'), await fs.stat(p('/f'))];
    },
  },
  {
    name: 'writeFile mode applies to new files only (with umask)',
    run: async (fs, p) => {
      await fs.writeFile(p('/new'), 'x', { mode: 0o640 });
      await fs.writeFile(p('/wide'), 'x', { mode: 0o777 });
      await fs.writeFile(p('/new'), 'y', { mode: 0o600 });
      return [await fs.stat(p('/new')), await fs.stat(p('/wide'))];
    },
    expect: [{ perm: '640' }, { perm: '755' }],
  },
  {
    name: 'writeFile flags: a appends, wx on existing fails, r+ on missing fails',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), 'one');
      await fs.writeFile(p('/f'), '+two', { flag: 'a' });
      return [
        await fs.readFile(p('/f'), 'utf8'),
        await attempt(fs.writeFile(p('/f'), 'x', { flag: 'wx' })),
        await attempt(fs.writeFile(p('/missing'), 'x', { flag: 'r+' })),
        await fs.writeFile(p('/f'), 'ON', { flag: 'r+' }),
        await fs.readFile(p('/f'), 'utf8'),
      ];
    },
    expect: ['one+two', { error: { code: 'EEXIST', syscall: 'open' } }, { error: { code: 'ENOENT', syscall: 'open' } }, undefined, 'ONe+two'],
  },
  {
    name: 'appendFile creates, appends, honours encoding and flag',
    run: async (fs, p) => {
      await fs.appendFile(p('/f'), 'ab');
      await fs.appendFile(p('/f'), '6364', 'hex');
      await fs.appendFile(p('/f'), Buffer.from('ef'));
      const before = await fs.readFile(p('/f'), 'utf8');
      const excl = await attempt(fs.appendFile(p('/f'), 'z', { flag: 'ax' }));
      return [before, excl, await fs.stat(p('/f'))];
    },
    expect: ['abcdef', { error: { code: 'EEXIST' } }],
  },
  {
    name: 'readFile failures: missing, directory, through a file, trailing slash',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), 'x');
      await fs.mkdir(p('/d'));
      return [
        await attempt(fs.readFile(p('/missing'))),
        await attempt(fs.readFile(p('/d'))),
        await attempt(fs.readFile(p('/f/x'))),
        await attempt(fs.readFile(p('/f/'))),
      ];
    },
    expect: [{ error: { code: 'ENOENT' } }, { error: { code: 'EISDIR' } }, { error: { code: 'ENOTDIR' } }, { error: { code: 'ENOTDIR' } }],
  },
  {
    name: 'readFile with flag a+ creates the file',
    run: async (fs, p) => [await fs.readFile(p('/new'), { flag: 'a+' }), await fs.stat(p('/new'))],
    expect: ['hex:', { kind: 'file', size: 0 }],
  },
  {
    name: 'writeFile failures: missing parent, directory, through a file',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), 'x');
      await fs.mkdir(p('/d'));
      return [
        await attempt(fs.writeFile(p('/nodir/f'), 'x')),
        await attempt(fs.writeFile(p('/d'), 'x')),
        await attempt(fs.writeFile(p('/f/x'), 'x')),
        await attempt(fs.writeFile(p('/new/'), 'x')),
      ];
    },
    expect: [{ error: { code: 'ENOENT' } }, { error: { code: 'EISDIR' } }, { error: { code: 'ENOTDIR' } }, { error: { code: 'EISDIR' } }],
  },

  // stat / lstat
  {
    name: 'stat and lstat of a file, a directory and symlinks',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), '12345');
      await fs.mkdir(p('/d'));
      await fs.symlink('f', p('/lf'));
      await fs.symlink('d', p('/ld'));
      return [await fs.stat(p('/f')), await fs.stat(p('/d')), await fs.lstat(p('/lf')), await fs.stat(p('/lf')), await fs.lstat(p('/ld')), await fs.stat(p('/ld'))];
    },
    expect: [{ kind: 'file', size: 5 }, { kind: 'dir' }, { kind: 'symlink', size: 1 }, { kind: 'file' }, { kind: 'symlink' }, { kind: 'dir' }],
  },
  {
    name: 'dangling symlink: stat ENOENT, lstat works',
    run: async (fs, p) => {
      await fs.symlink('nowhere', p('/dl'));
      return [await attempt(fs.stat(p('/dl'))), await fs.lstat(p('/dl'))];
    },
    expect: [{ error: { code: 'ENOENT', syscall: 'stat' } }, { kind: 'symlink', size: 7 }],
  },
  {
    name: 'stat failures: missing, through a file, trailing slash on a file',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), 'x');
      return [
        await attempt(fs.stat(p('/missing'))),
        await attempt(fs.lstat(p('/missing'))),
        await attempt(fs.stat(p('/f/x'))),
        await attempt(fs.stat(p('/f/'))),
        await attempt(fs.lstat(p('/f/'))),
        await attempt(fs.stat(p('/missing/x'))),
      ];
    },
    expect: [
      { error: { code: 'ENOENT', syscall: 'stat' } },
      { error: { code: 'ENOENT', syscall: 'lstat' } },
      { error: { code: 'ENOTDIR' } },
      { error: { code: 'ENOTDIR' } },
      { error: { code: 'ENOTDIR', syscall: 'lstat' } },
      { error: { code: 'ENOENT' } },
    ],
  },
  {
    name: 'trailing slash and dot-dot: directories, and lstat of a symlink to a directory follows it',
    run: async (fs, p) => {
      await fs.mkdir(p('/d'));
      await fs.writeFile(p('/f'), 'x');
      await fs.symlink('d', p('/ld'));
      await fs.symlink('f', p('/lf'));
      return [
        await fs.stat(p('/d/')),
        await fs.lstat(p('/ld/')),
        await fs.stat(p('/d/../f')),
        await fs.stat(p('/./d/./../f')),
        await attempt(fs.lstat(p('/lf/'))),
      ];
    },
    expect: [{ kind: 'dir' }, { kind: 'dir' }, { kind: 'file' }, { kind: 'file' }, { error: { code: 'ENOTDIR' } }],
  },

  {
    name: "calls on names ending in '.' or '..' fail as the kernel fails them, and remove nothing",
    run: async (fs, p) => {
      await fs.mkdir(p('/d'));
      await fs.writeFile(p('/f'), 'x');
      const out = [
        await attempt(fs.rmdir(p('/d/.'))),
        await attempt(fs.rmdir(p('/d/..'))),
        await attempt(fs.unlink(p('/d/.'))),
        await attempt(fs.unlink(p('/f/.'))),
        await attempt(fs.mkdir(p('/d/.'))),
        await attempt(fs.mkdir(p('/d/..'))),
        await attempt(fs.rename(p('/d/.'), p('/x'))),
        await attempt(fs.rename(p('/f'), p('/d/.'))),
        await attempt(fs.rename(p('/d/..'), p('/x'))),
        await attempt(fs.link(p('/f'), p('/d/.'))),
        await attempt(fs.symlink('f', p('/d/.'))),
        await attempt(fs.open(p('/d/.'), 'w')),
        await attempt(fs.open(p('/f/.'))),
        await attempt(fs.stat(p('/f/.'))),
        await attempt(fs.stat(p('/f/..'))),
        await attempt(fs.rm(p('/f/.'))),
        await attempt(fs.rmdir(p('/missing/.'))),
        await fs.readdir(p('/d/.')),
        await fs.stat(p('/d/.')),
      ];
      return [out, sorted(await fs.readdir(p('/')))];
    },
    expect: [
      [
        { error: { code: 'EINVAL', syscall: 'rmdir' } },
        { error: { code: 'ENOTEMPTY' } },
        { error: { code: 'EISDIR' } },
        { error: { code: 'ENOTDIR' } },
        { error: { code: 'EEXIST' } },
        { error: { code: 'EEXIST' } },
        { error: { code: 'EBUSY' } },
        { error: { code: 'EBUSY' } },
        { error: { code: 'EBUSY' } },
        { error: { code: 'EEXIST' } },
        { error: { code: 'EEXIST' } },
        { error: { code: 'EISDIR' } },
        { error: { code: 'ENOTDIR' } },
        { error: { code: 'ENOTDIR' } },
        { error: { code: 'ENOTDIR' } },
        { error: { code: 'ENOTDIR', syscall: 'lstat' } },
        { error: { code: 'ENOENT' } },
        [],
        { kind: 'dir' },
      ],
      ['d', 'f'],
    ],
  },

  // readdir
  {
    name: 'readdir plain, empty, on a file, missing',
    run: async (fs, p) => {
      await tree(fs, p);
      await fs.mkdir(p('/empty'));
      return [
        sorted(await fs.readdir(p('/d'))),
        await fs.readdir(p('/empty')),
        await attempt(fs.readdir(p('/d/a.txt'))),
        await attempt(fs.readdir(p('/missing'))),
      ];
    },
    expect: [['a.txt', 'link-to-sub', 'sub'], [], { error: { code: 'ENOTDIR', syscall: 'scandir' } }, { error: { code: 'ENOENT', syscall: 'scandir' } }],
  },
  {
    name: 'readdir withFileTypes',
    run: async (fs, p) => {
      await tree(fs, p);
      return byName(await fs.readdir(p('/d'), { withFileTypes: true }));
    },
    expect: [{ name: 'a.txt', type: 'file' }, { name: 'link-to-sub', type: 'symlink' }, { name: 'sub', type: 'dir' }],
  },
  {
    // Without symlinks to directories: node descends into those for the plain
    // listing only (nodejs/node#51858); mountless never does (fs-api.test.ts).
    name: 'readdir recursive',
    run: async (fs, p) => {
      await tree(fs, p);
      await fs.unlink(p('/d/link-to-sub'));
      await fs.symlink('a.txt', p('/d/sub/link-to-file'));
      return sorted(await fs.readdir(p('/d'), { recursive: true }));
    },
    expect: ['a.txt', 'sub', 'sub/b.txt', 'sub/deeper', 'sub/deeper/c.txt', 'sub/link-to-file'],
  },
  {
    name: 'readdir recursive withFileTypes',
    run: async (fs, p) => {
      await tree(fs, p);
      return byName(await fs.readdir(p('/d'), { recursive: true, withFileTypes: true }));
    },
  },
  {
    name: 'readdir through a symlink to a directory and with a trailing slash',
    run: async (fs, p) => {
      await tree(fs, p);
      return [sorted(await fs.readdir(p('/d/link-to-sub'))), sorted(await fs.readdir(p('/d/sub/')))];
    },
    expect: [['b.txt', 'deeper'], ['b.txt', 'deeper']],
  },
  {
    name: 'readdir of 600 entries (several READDIR batches)',
    run: async (fs, p) => {
      await fs.mkdir(p('/many'));
      for (let i = 0; i < 600; i += 50) {
        await Promise.all(Array.from({ length: 50 }, (_, k) => fs.writeFile(p(`/many/entry-with-a-longish-name-${String(i + k).padStart(4, '0')}`), '')));
      }
      const names = sorted(await fs.readdir(p('/many')));
      const typed = await fs.readdir(p('/many'), { withFileTypes: true });
      return [names.length, names[0], names[599], typed.length, typed.every((d) => d.isFile())];
    },
    expect: [600, 'entry-with-a-longish-name-0000', 'entry-with-a-longish-name-0599', 600, true],
  },
  {
    name: 'names with spaces, unicode and odd characters',
    run: async (fs, p) => {
      const names = ['with space', 'ünïcødé-✓', 'dash-', 'a:b', 'semi;colon', "quo'te", '#hash', '%20'];
      for (const n of names) await fs.writeFile(p('/' + n), n);
      return [sorted(await fs.readdir(p('/'))), await Promise.all(names.map((n) => fs.readFile(p('/' + n), 'utf8')))];
    },
  },

  // mkdir
  {
    name: 'mkdir: default mode with umask, EEXIST, missing parent',
    run: async (fs, p) => [
      await fs.mkdir(p('/d')),
      await fs.stat(p('/d')),
      await attempt(fs.mkdir(p('/d'))),
      await attempt(fs.mkdir(p('/nope/d'))),
    ],
    expect: [undefined, { kind: 'dir', perm: '755' }, { error: { code: 'EEXIST', syscall: 'mkdir' } }, { error: { code: 'ENOENT', syscall: 'mkdir' } }],
  },
  {
    name: 'mkdir mode: number, octal string, umask applied',
    run: async (fs, p) => {
      await fs.mkdir(p('/a'), 0o700);
      await fs.mkdir(p('/b'), { mode: '750' });
      await fs.mkdir(p('/c'), { mode: 0o777 });
      await fs.mkdir(p('/e'), { mode: 0o1777 });
      return [await fs.stat(p('/a')), await fs.stat(p('/b')), await fs.stat(p('/c')), await fs.stat(p('/e'))];
    },
    expect: [{ perm: '700' }, { perm: '750' }, { perm: '755' }],
  },
  {
    name: 'mkdir recursive: returns the first directory made, undefined when none',
    run: async (fs, p) => {
      await fs.mkdir(p('/x'));
      return [
        await fs.mkdir(p('/x/y/z'), { recursive: true }),
        await fs.mkdir(p('/x/y/z'), { recursive: true }),
        await fs.mkdir(p('/x'), { recursive: true }),
        await fs.mkdir(p('/x/y/z/w/'), { recursive: true, mode: 0o711 }),
        await fs.stat(p('/x/y/z/w')),
        await fs.stat(p('/x/y')),
      ];
    },
    expect: ['<case>/x/y', undefined, undefined, '<case>/x/y/z/w', { perm: '711' }, { perm: '755' }],
  },
  {
    name: 'mkdir recursive over and through a file',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), 'x');
      return [await attempt(fs.mkdir(p('/f'), { recursive: true })), await attempt(fs.mkdir(p('/f/sub/deeper'), { recursive: true }))];
    },
    expect: [{ error: { code: 'EEXIST' } }, { error: { code: 'ENOTDIR' } }],
  },
  {
    name: 'mkdir recursive through a symlink to a directory, and with a trailing slash',
    run: async (fs, p) => {
      await fs.mkdir(p('/real'));
      await fs.symlink('real', p('/ln'));
      return [await fs.mkdir(p('/ln/sub'), { recursive: true }), sorted(await fs.readdir(p('/real'))), await fs.mkdir(p('/t/'))];
    },
    expect: ['<case>/ln/sub', ['sub'], undefined],
  },

  // rmdir
  {
    name: 'rmdir: success, ENOTEMPTY, ENOTDIR, ENOENT, symlink to a directory',
    run: async (fs, p) => {
      await fs.mkdir(p('/empty'));
      await fs.mkdir(p('/full'));
      await fs.writeFile(p('/full/x'), '');
      await fs.writeFile(p('/f'), '');
      await fs.symlink('full', p('/ln'));
      return [
        await fs.rmdir(p('/empty')),
        await attempt(fs.stat(p('/empty'))),
        await attempt(fs.rmdir(p('/full'))),
        await attempt(fs.rmdir(p('/f'))),
        await attempt(fs.rmdir(p('/missing'))),
        await attempt(fs.rmdir(p('/ln'))),
      ];
    },
    expect: [
      undefined,
      { error: { code: 'ENOENT' } },
      { error: { code: 'ENOTEMPTY', syscall: 'rmdir' } },
      { error: { code: 'ENOTDIR', syscall: 'rmdir' } },
      { error: { code: 'ENOENT', syscall: 'rmdir' } },
      { error: { code: 'ENOTDIR' } },
    ],
  },
  {
    name: 'rmdir with a trailing slash',
    run: async (fs, p) => {
      await fs.mkdir(p('/d'));
      await fs.writeFile(p('/f'), '');
      return [await fs.rmdir(p('/d/')), sorted(await fs.readdir(p('/'))), await attempt(fs.rmdir(p('/f/')))];
    },
    expect: [undefined, ['f'], { error: { code: 'ENOTDIR' } }],
  },

  // rm
  {
    name: 'rm: file, missing, force on missing, directory without recursive',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), '');
      await fs.mkdir(p('/d'));
      return [
        await fs.rm(p('/f')),
        await attempt(fs.rm(p('/f'))),
        await fs.rm(p('/f'), { force: true }),
        await fs.rm(p('/missing/deeper'), { force: true }),
        await attempt(fs.rm(p('/d'))),
        sorted(await fs.readdir(p('/'))),
      ];
    },
    expect: [undefined, { error: { code: 'ENOENT', syscall: 'lstat' } }, undefined, undefined, { error: { code: 'ERR_FS_EISDIR', syscall: 'rm' } }, ['d']],
  },
  {
    name: 'rm recursive removes a tree; a symlink to a directory is removed, not followed',
    run: async (fs, p) => {
      await tree(fs, p);
      await fs.symlink('d/sub', p('/outer-link'));
      await fs.rm(p('/outer-link'), { recursive: true });
      const afterLink = sorted(await fs.readdir(p('/d/sub')));
      await fs.rm(p('/d'), { recursive: true });
      return [afterLink, await fs.readdir(p('/'))];
    },
    expect: [['b.txt', 'deeper'], []],
  },
  {
    name: 'rm recursive of an empty directory and of a file',
    run: async (fs, p) => {
      await fs.mkdir(p('/e'));
      await fs.writeFile(p('/f'), 'x');
      return [await fs.rm(p('/e'), { recursive: true }), await fs.rm(p('/f'), { recursive: true }), await fs.readdir(p('/'))];
    },
    expect: [undefined, undefined, []],
  },

  // unlink
  {
    name: 'unlink: file, missing, directory (EISDIR), symlink only, trailing slash',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), '');
      await fs.writeFile(p('/g'), 'target');
      await fs.mkdir(p('/d'));
      await fs.symlink('g', p('/lg'));
      return [
        await fs.unlink(p('/f')),
        await attempt(fs.unlink(p('/f'))),
        await attempt(fs.unlink(p('/d'))),
        await fs.unlink(p('/lg')),
        await fs.readFile(p('/g'), 'utf8'),
        await attempt(fs.unlink(p('/g/'))),
        await attempt(fs.unlink(p('/d/'))),
        sorted(await fs.readdir(p('/'))),
      ];
    },
    expect: [
      undefined,
      { error: { code: 'ENOENT', syscall: 'unlink' } },
      { error: { code: 'EISDIR', syscall: 'unlink' } },
      undefined,
      'target',
      { error: { code: 'ENOTDIR' } },
      { error: { code: 'EISDIR' } },
      ['d', 'g'],
    ],
  },
  {
    name: 'unlink of an empty and a non-empty directory, and of a symlink to a directory',
    run: async (fs, p) => {
      await fs.mkdir(p('/d/sub'), { recursive: true });
      await fs.symlink('d', p('/ld'));
      return [await attempt(fs.unlink(p('/d/sub'))), await attempt(fs.unlink(p('/d'))), await fs.unlink(p('/ld')), sorted(await fs.readdir(p('/')))];
    },
    expect: [{ error: { code: 'EISDIR' } }, { error: { code: 'EISDIR' } }, undefined, ['d']],
  },

  // rename
  {
    name: 'rename a file to a new name and over another file',
    run: async (fs, p) => {
      await fs.writeFile(p('/a'), 'A');
      await fs.writeFile(p('/b'), 'B');
      await fs.rename(p('/a'), p('/c'));
      await fs.rename(p('/c'), p('/b'));
      return [sorted(await fs.readdir(p('/'))), await fs.readFile(p('/b'), 'utf8')];
    },
    expect: [['b'], 'A'],
  },
  {
    name: 'rename a directory over an empty directory, and over a non-empty one',
    run: async (fs, p) => {
      await fs.mkdir(p('/src'));
      await fs.writeFile(p('/src/x'), 'x');
      await fs.mkdir(p('/empty'));
      await fs.mkdir(p('/full'));
      await fs.writeFile(p('/full/y'), 'y');
      const overFull = await attempt(fs.rename(p('/src'), p('/full')));
      await fs.rename(p('/src'), p('/empty'));
      return [overFull, sorted(await fs.readdir(p('/'))), await fs.readdir(p('/empty'))];
    },
    expect: [{ error: { code: 'ENOTEMPTY', syscall: 'rename' } }, ['empty', 'full'], ['x']],
  },
  {
    name: 'rename type clashes: file over directory, directory over file',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), '');
      await fs.mkdir(p('/d'));
      return [await attempt(fs.rename(p('/f'), p('/d'))), await attempt(fs.rename(p('/d'), p('/f'))), sorted(await fs.readdir(p('/')))];
    },
    expect: [{ error: { code: 'EISDIR', syscall: 'rename' } }, { error: { code: 'ENOTDIR', syscall: 'rename' } }, ['d', 'f']],
  },
  {
    name: 'rename failures: missing source, missing target directory, into itself',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), '');
      await fs.mkdir(p('/d'));
      return [
        await attempt(fs.rename(p('/missing'), p('/x'))),
        await attempt(fs.rename(p('/f'), p('/nodir/x'))),
        await attempt(fs.rename(p('/d'), p('/d/inside'))),
        await attempt(fs.rename(p('/f'), p('/f/x'))),
      ];
    },
    expect: [{ error: { code: 'ENOENT', dest: '<case>/x' } }, { error: { code: 'ENOENT' } }, { error: { code: 'EINVAL' } }, { error: { code: 'ENOTDIR' } }],
  },
  {
    name: 'rename onto itself and onto a hard link of itself is a no-op',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), 'same');
      await fs.link(p('/f'), p('/h'));
      return [await fs.rename(p('/f'), p('/f')), await fs.rename(p('/f'), p('/h')), sorted(await fs.readdir(p('/'))), await fs.stat(p('/f'))];
    },
    expect: [undefined, undefined, ['f', 'h'], { nlink: 2 }],
  },
  {
    name: 'rename moves between directories and renames symlinks, not their targets',
    run: async (fs, p) => {
      await fs.mkdir(p('/a'));
      await fs.mkdir(p('/b'));
      await fs.writeFile(p('/a/f'), 'moved');
      await fs.symlink('a', p('/la'));
      await fs.rename(p('/a/f'), p('/b/g'));
      await fs.rename(p('/la'), p('/lb'));
      return [await fs.readdir(p('/a')), await fs.readFile(p('/b/g'), 'utf8'), await fs.readlink(p('/lb')), await fs.lstat(p('/lb'))];
    },
    expect: [[], 'moved', 'a', { kind: 'symlink' }],
  },

  // link
  {
    name: 'link: nlink 2, shared content, EEXIST, missing source, directory',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), 'one');
      await fs.mkdir(p('/d'));
      await fs.link(p('/f'), p('/h'));
      await fs.writeFile(p('/h'), 'two');
      return [
        await fs.stat(p('/f')),
        await fs.readFile(p('/f'), 'utf8'),
        await attempt(fs.link(p('/f'), p('/h'))),
        await attempt(fs.link(p('/missing'), p('/x'))),
        await attempt(fs.link(p('/d'), p('/dl'))),
        await fs.unlink(p('/h')),
        await fs.stat(p('/f')),
      ];
    },
    expect: [{ nlink: 2 }, 'two', { error: { code: 'EEXIST', syscall: 'link' } }, { error: { code: 'ENOENT' } }, { error: { code: 'EPERM' } }, undefined, { nlink: 1 }],
  },
  {
    name: 'link of a symlink links the symlink itself',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), 'x');
      await fs.symlink('f', p('/l'));
      await fs.link(p('/l'), p('/l2'));
      return [await fs.lstat(p('/l2')), await fs.readlink(p('/l2'))];
    },
    expect: [{ kind: 'symlink', nlink: 2 }, 'f'],
  },

  // symlink / readlink / realpath
  {
    name: 'symlink with relative targets, readlink, reading through it',
    run: async (fs, p) => {
      await fs.mkdir(p('/d'));
      await fs.writeFile(p('/d/f'), 'through');
      await fs.symlink('d/f', p('/l1'));
      await fs.symlink('../d/f', p('/d/l2'));
      await fs.symlink('./f', p('/d/l3'));
      return [
        await fs.readlink(p('/l1')),
        await fs.readlink(p('/d/l2')),
        await fs.readlink(p('/d/l3')),
        await fs.readFile(p('/l1'), 'utf8'),
        await fs.readFile(p('/d/l2'), 'utf8'),
        await fs.readFile(p('/d/l3'), 'utf8'),
      ];
    },
    expect: ['d/f', '../d/f', './f', 'through', 'through', 'through'],
  },
  {
    name: 'symlink to a directory: listing and creating through it',
    run: async (fs, p) => {
      await fs.mkdir(p('/d/e'), { recursive: true });
      await fs.symlink('..', p('/d/e/up'));
      await fs.writeFile(p('/d/e/up/made-through-link'), 'x');
      return [sorted(await fs.readdir(p('/d'))), sorted(await fs.readdir(p('/d/e/up/e')))];
    },
    expect: [['e', 'made-through-link'], ['up']],
  },
  {
    name: 'symlink and readlink failures: EEXIST, EINVAL on a non-link, ENOENT',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), '');
      await fs.symlink('f', p('/l'));
      return [
        await attempt(fs.symlink('other', p('/l'))),
        await attempt(fs.symlink('other', p('/f'))),
        await attempt(fs.readlink(p('/f'))),
        await attempt(fs.readlink(p('/missing'))),
        await attempt(fs.symlink('x', p('/nodir/l'))),
      ];
    },
    expect: [
      { error: { code: 'EEXIST', syscall: 'symlink', path: 'other', dest: '<case>/l' } },
      { error: { code: 'EEXIST' } },
      { error: { code: 'EINVAL', syscall: 'readlink' } },
      { error: { code: 'ENOENT', syscall: 'readlink' } },
      { error: { code: 'ENOENT' } },
    ],
  },
  {
    name: 'symlink with an empty target; readlink of a dangling link',
    run: async (fs, p) => {
      await fs.symlink('not/there', p('/dl'));
      return [await attempt(fs.symlink('', p('/e'))), await fs.readlink(p('/dl')), sorted(await fs.readdir(p('/')))];
    },
    expect: [{ error: { code: 'ENOENT', syscall: 'symlink' } }, 'not/there', ['dl']],
  },
  {
    name: 'writing through a dangling symlink creates its target; wx through it fails',
    run: async (fs, p) => {
      await fs.mkdir(p('/d'));
      await fs.symlink('d/target', p('/dl'));
      await fs.symlink('target2', p('/d/dl2'));
      const excl = await attempt(fs.writeFile(p('/dl'), 'x', { flag: 'wx' }));
      await fs.writeFile(p('/dl'), 'made via link');
      await fs.appendFile(p('/d/dl2'), 'appended');
      return [excl, sorted(await fs.readdir(p('/d'))), await fs.readFile(p('/d/target'), 'utf8'), await fs.readFile(p('/d/target2'), 'utf8'), await fs.lstat(p('/dl'))];
    },
    expect: [{ error: { code: 'EEXIST' } }, ['dl2', 'target', 'target2'], 'made via link', 'appended', { kind: 'symlink' }],
  },
  {
    name: 'readlink through a symlinked directory, and of a link with odd target text',
    run: async (fs, p) => {
      await fs.mkdir(p('/d'));
      await fs.symlink('d', p('/ld'));
      await fs.symlink('a target with spaces/../and ü', p('/d/odd'));
      return [await fs.readlink(p('/ld/odd')), await fs.lstat(p('/ld/odd'))];
    },
    expect: ['a target with spaces/../and ü'],
  },
  {
    name: 'realpath through chains of relative symlinks',
    run: async (fs, p) => {
      await fs.mkdir(p('/a/b/c'), { recursive: true });
      await fs.writeFile(p('/a/b/c/file'), 'x');
      await fs.symlink('a/b', p('/l1'));
      await fs.symlink('l1/c', p('/l2'));
      await fs.symlink('../../l2/file', p('/a/b/l3'));
      await fs.symlink('b/l3', p('/a/l4'));
      return [
        await fs.realpath(p('/l2')),
        await fs.realpath(p('/a/l4')),
        await fs.realpath(p('/l1/../b/./c/')),
        await fs.realpath(p('/')),
        await attempt(fs.realpath(p('/l1/missing'))),
      ];
    },
    expect: ['<case>/a/b/c', '<case>/a/b/c/file', '<case>/a/b/c', '<case>', { error: { code: 'ENOENT' } }],
  },
  {
    name: 'realpath of a dangling symlink fails',
    run: async (fs, p) => {
      await fs.symlink('gone', p('/dl'));
      return [await attempt(fs.realpath(p('/dl')))];
    },
    expect: [{ error: { code: 'ENOENT' } }],
  },
  {
    name: 'ELOOP on symlink loops; lstat still works',
    run: async (fs, p) => {
      await fs.symlink('b', p('/a'));
      await fs.symlink('a', p('/b'));
      await fs.symlink('self', p('/self'));
      return [
        await attempt(fs.stat(p('/a'))),
        await attempt(fs.readFile(p('/self'))),
        await attempt(fs.stat(p('/a/x'))),
        await attempt(fs.writeFile(p('/b'), 'x')),
        await fs.lstat(p('/a')),
        await attempt(fs.realpath(p('/self'))),
      ];
    },
    expect: [{ error: { code: 'ELOOP', syscall: 'stat' } }, { error: { code: 'ELOOP' } }, { error: { code: 'ELOOP' } }, { error: { code: 'ELOOP' } }, { kind: 'symlink' }],
  },
  {
    name: 'a chain of 30 symlinks resolves',
    run: async (fs, p) => {
      await fs.writeFile(p('/end'), 'end');
      await fs.symlink('end', p('/l0'));
      for (let i = 1; i < 30; i++) await fs.symlink(`l${i - 1}`, p(`/l${i}`));
      return [await fs.readFile(p('/l29'), 'utf8'), await fs.realpath(p('/l29'))];
    },
    expect: ['end', '<case>/end'],
  },

  // truncate
  {
    name: 'truncate: grow with zeros, shrink, default length 0',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), 'abcdef');
      await fs.truncate(p('/f'), 10);
      const grown = await fs.readFile(p('/f'));
      await fs.truncate(p('/f'), 2);
      const shrunk = await fs.readFile(p('/f'), 'utf8');
      await fs.truncate(p('/f'));
      return [grown, shrunk, await fs.stat(p('/f'))];
    },
    expect: ['hex:61626364656600000000', 'ab', { size: 0 }],
  },
  {
    name: 'truncate to a negative length empties the file; chmod accepts a full st_mode',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), 'abc');
      await fs.truncate(p('/f'), -5);
      await fs.chmod(p('/f'), 0o100640);
      await fs.mkdir(p('/d'), 0o40700);
      return [await fs.stat(p('/f')), await fs.stat(p('/d'))];
    },
    expect: [{ size: 0, perm: '640' }, { perm: '700' }],
  },
  {
    name: 'truncate failures: missing, directory, through a symlink',
    run: async (fs, p) => {
      await fs.mkdir(p('/d'));
      await fs.writeFile(p('/f'), 'abc');
      await fs.symlink('f', p('/l'));
      return [await attempt(fs.truncate(p('/missing'), 1)), await attempt(fs.truncate(p('/d'), 1)), await fs.truncate(p('/l'), 1), await fs.readFile(p('/f'), 'utf8')];
    },
    expect: [{ error: { code: 'ENOENT', syscall: 'open' } }, { error: { code: 'EISDIR', syscall: 'open' } }, undefined, 'a'],
  },

  // chmod / utimes / chown
  {
    name: 'chmod: number, octal string, setuid/setgid/sticky bits, through a symlink',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), '');
      await fs.mkdir(p('/d'));
      await fs.symlink('f', p('/l'));
      await fs.chmod(p('/f'), 0o640);
      const a = await fs.stat(p('/f'));
      await fs.chmod(p('/f'), '600');
      const b = await fs.stat(p('/f'));
      await fs.chmod(p('/f'), 0o4755);
      const c = await fs.stat(p('/f'));
      await fs.chmod(p('/d'), 0o3777);
      const d = await fs.stat(p('/d'));
      await fs.chmod(p('/l'), 0o444);
      return [a, b, c, d, await fs.stat(p('/f')), await fs.lstat(p('/l')), await attempt(fs.chmod(p('/missing'), 0o600))];
    },
    expect: [{ perm: '640' }, { perm: '600' }, { perm: '4755' }, { perm: '3777' }, { perm: '444' }, { kind: 'symlink' }, { error: { code: 'ENOENT', syscall: 'chmod' } }],
  },
  {
    name: 'utimes with seconds, Dates and fractions',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), 'x');
      await fs.utimes(p('/f'), 1_000_000_000, 1_100_000_000);
      const a = await times(fs, p('/f'));
      await fs.utimes(p('/f'), new Date('2001-02-03T04:05:06.789Z'), new Date('1999-12-31T23:59:59.500Z'));
      const b = await times(fs, p('/f'));
      await fs.utimes(p('/f'), 1234567890.25, '1234567891.75');
      const c = await times(fs, p('/f'));
      return [a, b, c, await attempt(fs.utimes(p('/missing'), 1, 1))];
    },
    expect: [{ atime: 1_000_000_000, mtime: 1_100_000_000 }, { mtimeMs: 946684799500 }, { atimeMs: 1234567890250, mtimeMs: 1234567891750 }, { error: { code: 'ENOENT', syscall: 'utime' } }],
  },
  {
    // lutimes is in fs-api.test.ts: Ganesha accepts times for a symlink but does not store them.
    name: 'utimes on a directory and through a symlink',
    run: async (fs, p) => {
      await fs.mkdir(p('/d'));
      await fs.writeFile(p('/f'), '');
      await fs.symlink('f', p('/l'));
      await fs.utimes(p('/d'), 86400, 86400 * 2);
      await fs.utimes(p('/l'), 300, 400);
      return [await times(fs, p('/d')), await times(fs, p('/f'))];
    },
    expect: [{ atime: 86400, mtime: 172800 }, { atime: 300, mtime: 400 }],
  },
  {
    name: 'chown to 1000:1000, -1 keeps an id, back to 0:0; lchown changes the link only',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), '');
      await fs.symlink('f', p('/l'));
      await fs.chown(p('/f'), 1000, 1000);
      const a = await fs.stat(p('/f'));
      await fs.chown(p('/f'), -1, 0);
      const b = await fs.stat(p('/f'));
      await fs.lchown(p('/l'), 1000, 1001);
      const c = await fs.lstat(p('/l'));
      const d = await fs.stat(p('/l'));
      await fs.chown(p('/f'), 0, 0);
      return [a, b, c, d, await fs.stat(p('/f')), await attempt(fs.chown(p('/missing'), 0, 0))];
    },
    expect: [{ uid: 1000, gid: 1000 }, { uid: 1000, gid: 0 }, { uid: 1000, gid: 1001 }, { uid: 1000, gid: 0 }, { uid: 0, gid: 0 }, { error: { code: 'ENOENT', syscall: 'chown' } }],
  },
  {
    name: 'chown clears setuid on a regular file',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), '');
      await fs.chmod(p('/f'), 0o6755);
      await fs.chown(p('/f'), 1000, 1000);
      return [await fs.stat(p('/f'))];
    },
  },

  // access
  {
    name: 'access F_OK on existing, missing, dangling symlink',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), '');
      await fs.symlink('nothing', p('/dl'));
      return [await fs.access(p('/f')), await fs.access(p('/f'), constants.F_OK), await attempt(fs.access(p('/missing'))), await attempt(fs.access(p('/dl')))];
    },
    expect: [undefined, undefined, { error: { code: 'ENOENT', syscall: 'access' } }, { error: { code: 'ENOENT' } }],
  },
  {
    name: 'access as root on a mode-0 file: R and W granted, X refused',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), '');
      await fs.chmod(p('/f'), 0);
      const r = [];
      for (const m of [constants.R_OK, constants.W_OK, constants.X_OK, constants.R_OK | constants.W_OK, constants.R_OK | constants.X_OK]) r.push(await attempt(fs.access(p('/f'), m)));
      return r;
    },
    expect: [undefined, undefined, { error: { code: 'EACCES', syscall: 'access' } }, undefined, { error: { code: 'EACCES' } }],
  },
  {
    name: 'access as root: X_OK with any execute bit, directories with mode 0',
    run: async (fs, p) => {
      await fs.writeFile(p('/ox'), '');
      await fs.chmod(p('/ox'), 0o001);
      await fs.writeFile(p('/ux'), '');
      await fs.chmod(p('/ux'), 0o100);
      await fs.mkdir(p('/d'), 0);
      await fs.chmod(p('/d'), 0);
      const r = [];
      for (const [f, m] of [
        ['/ox', constants.X_OK],
        ['/ux', constants.X_OK],
        ['/d', constants.X_OK],
        ['/d', constants.R_OK | constants.W_OK],
      ] as const) {
        r.push(await attempt(fs.access(p(f), m)));
      }
      return r;
    },
    expect: [undefined, undefined, undefined, undefined],
  },

  // copyFile
  {
    name: 'copyFile copies content and mode; COPYFILE_EXCL refuses an existing target',
    run: async (fs, p) => {
      await fs.writeFile(p('/src'), bytes(100_000, 7));
      await fs.chmod(p('/src'), 0o640);
      await fs.writeFile(p('/old'), 'old contents that are longer than nothing');
      await fs.copyFile(p('/src'), p('/dst'));
      await fs.copyFile(p('/src'), p('/old'));
      return [
        (await fs.readFile(p('/dst'))).equals(bytes(100_000, 7)),
        await fs.stat(p('/dst')),
        (await fs.readFile(p('/old'))).equals(bytes(100_000, 7)),
        await attempt(fs.copyFile(p('/src'), p('/dst'), constants.COPYFILE_EXCL)),
        await fs.copyFile(p('/src'), p('/new'), constants.COPYFILE_EXCL),
      ];
    },
    expect: [true, { perm: '640', size: 100_000 }, true, { error: { code: 'EEXIST', syscall: 'copyfile', path: '<case>/src', dest: '<case>/dst' } }, undefined],
  },
  {
    name: 'copyFile failures: missing source, directory source, missing target directory',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), 'x');
      await fs.mkdir(p('/d'));
      return [await attempt(fs.copyFile(p('/missing'), p('/x'))), await attempt(fs.copyFile(p('/d'), p('/x'))), await attempt(fs.copyFile(p('/f'), p('/nodir/x')))];
    },
    expect: [{ error: { code: 'ENOENT', syscall: 'copyfile' } }, { error: {} }, { error: { code: 'ENOENT' } }],
  },
  {
    name: 'copyFile onto itself leaves the file alone (and EEXIST with COPYFILE_EXCL)',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), 'keep me');
      await fs.link(p('/f'), p('/h'));
      await fs.symlink('f', p('/l'));
      return [
        await fs.copyFile(p('/f'), p('/f')),
        await fs.copyFile(p('/f'), p('/h')),
        await fs.copyFile(p('/h'), p('/l')),
        await fs.readFile(p('/f'), 'utf8'),
        await attempt(fs.copyFile(p('/f'), p('/f'), constants.COPYFILE_EXCL)),
      ];
    },
    expect: [undefined, undefined, undefined, 'keep me', { error: { code: 'EEXIST' } }],
  },
  {
    name: 'copyFile gives the target the source mode, without umask, also when the target existed',
    run: async (fs, p) => {
      await fs.writeFile(p('/wide'), 'w');
      await fs.chmod(p('/wide'), 0o777);
      await fs.writeFile(p('/narrow'), 'n');
      await fs.chmod(p('/narrow'), 0o604);
      await fs.writeFile(p('/old'), 'o', { mode: 0o600 });
      await fs.copyFile(p('/wide'), p('/wide2'));
      await fs.copyFile(p('/narrow'), p('/old'));
      return [await fs.stat(p('/wide2')), await fs.stat(p('/old'))];
    },
    expect: [{ perm: '777' }, { perm: '604', size: 1 }],
  },
  {
    name: 'copyFile of an empty file and through a symlink',
    run: async (fs, p) => {
      await fs.writeFile(p('/empty'), '');
      await fs.writeFile(p('/f'), 'via link');
      await fs.symlink('f', p('/l'));
      await fs.copyFile(p('/empty'), p('/e2'));
      await fs.copyFile(p('/l'), p('/c'));
      return [await fs.stat(p('/e2')), await fs.lstat(p('/c')), await fs.readFile(p('/c'), 'utf8')];
    },
    expect: [{ size: 0 }, { kind: 'file' }, 'via link'],
  },

  // open
  {
    name: 'open: r on missing, wx and ax on existing, w truncates, mode on create',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), 'content');
      const r: unknown[] = [await attempt(fs.open(p('/missing'))), await attempt(fs.open(p('/missing'), 'r+'))];
      r.push(await attempt(fs.open(p('/f'), 'wx')), await attempt(fs.open(p('/f'), 'ax')), await attempt(fs.open(p('/f'), 'wx+')));
      await (await fs.open(p('/f'), 'w')).close();
      r.push(await fs.stat(p('/f')));
      await (await fs.open(p('/m'), 'wx', 0o604)).close();
      await (await fs.open(p('/m2'), 'a', '0640')).close();
      r.push(await fs.stat(p('/m')), await fs.stat(p('/m2')));
      return r;
    },
    expect: [
      { error: { code: 'ENOENT', syscall: 'open' } },
      { error: { code: 'ENOENT' } },
      { error: { code: 'EEXIST', syscall: 'open' } },
      { error: { code: 'EEXIST' } },
      { error: { code: 'EEXIST' } },
      { size: 0 },
      { perm: '604' },
      { perm: '640' },
    ],
  },
  {
    name: 'open: a appends whatever the position, a+ reads from the start',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), '0123');
      const h = await fs.open(p('/f'), 'a');
      await h.write(Buffer.from('AB'), 0, 2, 0);
      await h.write('CD');
      await h.close();
      const h2 = await fs.open(p('/f'), 'a+');
      const r = await h2.read(Buffer.alloc(3), 0, 3, 0);
      await h2.write('EF', 1);
      const all = await h2.read(Buffer.alloc(20), 0, 20, 0);
      await h2.close();
      return [r, all.bytesRead, await fs.readFile(p('/f'), 'utf8')];
    },
    expect: [{ bytesRead: 3, buffer: 'hex:303132' }, 10, '0123ABCDEF'],
  },
  {
    name: 'open: r+ overwrites in place; access mode violations are EBADF',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), 'abcdef');
      const h = await fs.open(p('/f'), 'r+');
      await h.write('XY', 2);
      await h.close();
      const ro = await fs.open(p('/f'), 'r');
      const wr = await attempt(ro.write('z'));
      await ro.close();
      const wo = await fs.open(p('/f'), 'a');
      const rd = await attempt(wo.read(Buffer.alloc(1), 0, 1, 0));
      await wo.close();
      return [await fs.readFile(p('/f'), 'utf8'), wr, rd];
    },
    expect: ['abXYef', { error: { code: 'EBADF', syscall: 'write' } }, { error: { code: 'EBADF', syscall: 'read' } }],
  },
  {
    name: 'open: directories and paths through files',
    run: async (fs, p) => {
      await fs.mkdir(p('/d'));
      await fs.writeFile(p('/f'), 'x');
      const hd = await fs.open(p('/d'));
      const readDir = await attempt(hd.read(Buffer.alloc(4), 0, 4, 0));
      const st = await hd.stat();
      await hd.close();
      return [readDir, st, await attempt(fs.open(p('/d'), 'w')), await attempt(fs.open(p('/d'), 'r+')), await attempt(fs.open(p('/f/x'))), await attempt(fs.open(p('/f/'), 'r'))];
    },
    expect: [{ error: { code: 'EISDIR', syscall: 'read' } }, { kind: 'dir' }, { error: { code: 'EISDIR', syscall: 'open' } }, { error: { code: 'EISDIR' } }, { error: { code: 'ENOTDIR' } }, { error: { code: 'ENOTDIR' } }],
  },
  {
    name: 'open with numeric flags',
    run: async (fs, p) => {
      const h = await fs.open(p('/f'), constants.O_CREAT | constants.O_WRONLY | constants.O_EXCL, 0o600);
      await h.write('num');
      await h.close();
      return [await fs.readFile(p('/f'), 'utf8'), await fs.stat(p('/f')), await attempt(fs.open(p('/f'), constants.O_CREAT | constants.O_EXCL | constants.O_RDWR))];
    },
    expect: ['num', { perm: '600' }, { error: { code: 'EEXIST' } }],
  },

  // FileHandle
  {
    name: 'FileHandle.read: positional, sequential, options forms, past EOF',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), '0123456789');
      const h = await fs.open(p('/f'));
      const r: unknown[] = [];
      r.push(await h.read(Buffer.alloc(4), 0, 4, 3));
      r.push(await h.read(Buffer.alloc(3), 0, 3, null));
      r.push(await h.read(Buffer.alloc(3), 1, 2));
      r.push(await h.read(Buffer.alloc(6), { offset: 1, length: 4, position: 5 }));
      r.push(await h.read({ buffer: Buffer.alloc(5), position: 8 }));
      r.push(await h.read(Buffer.alloc(4), 0, 4, 100));
      const def = await h.read();
      r.push(def.bytesRead, def.buffer.length, Buffer.from(def.buffer.buffer, 0, def.bytesRead).toString());
      r.push(await h.read(new Uint8Array(2), 0, 2, 0));
      await h.close();
      return r;
    },
    expect: [
      { bytesRead: 4, buffer: 'hex:33343536' },
      { bytesRead: 3, buffer: 'hex:303132' },
      { bytesRead: 2, buffer: 'hex:003334' },
      { bytesRead: 4, buffer: 'hex:003536373800' },
      { bytesRead: 2 },
      { bytesRead: 0 },
      5,
      16384,
      '56789',
      { bytesRead: 2 },
    ],
  },
  {
    name: 'FileHandle.write: positional, sequential, strings with encodings, options form',
    run: async (fs, p) => {
      const h = await fs.open(p('/f'), 'w+');
      const r: unknown[] = [];
      r.push(await h.write(Buffer.from('hello')));
      r.push(await h.write(Buffer.from('--world--'), 2, 5, 10));
      r.push(await h.write('21', null, 'hex'));
      r.push(await h.write('ÿ', 5, 'latin1'));
      r.push(await h.write(Buffer.from('abcdef'), { offset: 1, length: 3, position: 20 }));
      r.push((await h.write(new Uint8Array([0x41, 0x42]))).bytesWritten);
      await h.close();
      r.push(await fs.readFile(p('/f')));
      return r;
    },
  },
  {
    name: 'FileHandle.readv and writev, with and without a position',
    run: async (fs, p) => {
      const h = await fs.open(p('/f'), 'w+');
      const w1 = await h.writev([Buffer.from('ab'), Buffer.from('cd'), new Uint8Array([0x65])]);
      const w2 = await h.writev([Buffer.from('XY')], 1);
      const w3 = await h.writev([Buffer.from('!')]);
      const r1 = await h.readv([Buffer.alloc(2), Buffer.alloc(3)], 0);
      const r2 = await h.readv([Buffer.alloc(4), Buffer.alloc(4)], 4);
      await h.close();
      return [w1.bytesWritten, w2.bytesWritten, w3.bytesWritten, r1, r2, await fs.readFile(p('/f'), 'utf8')];
    },
    expect: [5, 2, 1, { bytesRead: 5, buffers: ['hex:6158', 'hex:596465'] }, { bytesRead: 2 }, 'aXYde!'],
  },
  {
    name: 'FileHandle.stat, truncate, chmod, chown, utimes, sync, datasync',
    run: async (fs, p) => {
      const h = await fs.open(p('/f'), 'w+');
      await h.write('0123456789');
      const r: unknown[] = [await h.stat()];
      await h.truncate(4);
      r.push(await h.stat());
      await h.truncate(6);
      r.push(await fs.readFile(p('/f')));
      r.push(await h.chmod(0o611), await h.chown(1000, 1000), await h.utimes(111, 222));
      r.push(await h.sync(), await h.datasync());
      r.push(await h.stat());
      const st = await h.stat();
      r.push([Math.floor(st.atimeMs / 1000), Math.floor(st.mtimeMs / 1000)]);
      await h.close();
      return r;
    },
    expect: [{ size: 10 }, { size: 4 }, 'hex:303132330000', undefined, undefined, undefined, undefined, undefined, { perm: '611', uid: 1000, gid: 1000 }, [111, 222]],
  },
  {
    name: 'FileHandle.truncate on a read-only handle',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), 'abc');
      const h = await fs.open(p('/f'), 'r');
      const r = await attempt(h.truncate(1));
      await h.close();
      return [r, await fs.readFile(p('/f'), 'utf8')];
    },
    expect: [{ error: { code: 'EINVAL', syscall: 'ftruncate' } }, 'abc'],
  },
  {
    name: 'FileHandle.readFile from the current position, writeFile and appendFile at it',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), 'abcdefgh');
      const h = await fs.open(p('/f'), 'r+');
      await h.read(Buffer.alloc(3), 0, 3, null);
      const rest = await h.readFile('utf8');
      const again = await h.readFile();
      await h.close();
      const w = await fs.open(p('/g'), 'w+');
      await w.writeFile('first|');
      await w.appendFile('second', 'utf8');
      await w.writeFile(Buffer.from('|third'));
      await w.close();
      return [rest, again, await fs.readFile(p('/g'), 'utf8')];
    },
    expect: ['defgh', 'hex:', 'first|second|third'],
  },
  {
    name: 'readFile, writeFile and appendFile given a FileHandle',
    run: async (fs, p) => {
      const h = await fs.open(p('/f'), 'w+');
      await fs.writeFile(h, 'via handle');
      await fs.appendFile(h, '+more');
      const first = await fs.readFile(h, 'utf8');
      const r = await h.read(Buffer.alloc(3), 0, 3, 0);
      const rest = await fs.readFile(h);
      await h.close();
      return [first, r.bytesRead, rest, await fs.readFile(p('/f'), 'utf8')];
    },
    expect: ['', 3, 'hex:', 'via handle+more'],
  },
  {
    name: 'FileHandle after close: EBADF; closing twice is fine',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), 'x');
      const h = await fs.open(p('/f'), 'r+');
      await h.close();
      return [await attempt(h.read(Buffer.alloc(1), 0, 1, 0)), await attempt(h.stat())];
    },
    expect: [{ error: { code: 'EBADF' } }, { error: { code: 'EBADF' } }],
  },

  // streams
  {
    name: 'createReadStream with start, end (inclusive) and highWaterMark',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), bytes(10_000, 3));
      return [
        await drain(fs.createReadStream(p('/f'), { start: 10, end: 4009, highWaterMark: 1000 })),
        await drain(fs.createReadStream(p('/f'), { start: 9990 })),
        await drain(fs.createReadStream(p('/f'), { start: 5, end: 5 })),
        await drain(fs.createReadStream(p('/f'), { start: 20_000 })),
      ];
    },
    expect: [{ chunks: [1000, 1000, 1000, 1000] }, { chunks: [10] }, { chunks: [1] }, { chunks: [] }],
  },
  {
    name: 'createReadStream with an encoding, and of a missing file',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), 'streamed text ✓');
      return [await drain(fs.createReadStream(p('/f'), { encoding: 'utf8' })), await drain(fs.createReadStream(p('/missing')))];
    },
    expect: [{ data: 'streamed text ✓' }, { error: { code: 'ENOENT', syscall: 'open' } }],
  },
  {
    name: 'createWriteStream then read back; start and flags r+',
    run: async (fs, p) => {
      const n = await finish(fs.createWriteStream(p('/f')), ['abc', Buffer.from('def'), bytes(70_000, 5)]);
      const back = await fs.readFile(p('/f'));
      await fs.writeFile(p('/g'), '0123456789');
      const m = await finish(fs.createWriteStream(p('/g'), { flags: 'r+', start: 4 }), ['XY']);
      return [n, back.subarray(0, 6).toString(), back.subarray(6).equals(bytes(70_000, 5)), m, await fs.readFile(p('/g'), 'utf8')];
    },
    expect: [70_006, 'abcdef', true, 2, '0123XY6789'],
  },
  {
    name: 'createWriteStream with flags a, and into a missing directory',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), 'start:');
      const n = await finish(fs.createWriteStream(p('/f'), { flags: 'a' }), ['one', 'two']);
      return [n, await fs.readFile(p('/f'), 'utf8'), await finish(fs.createWriteStream(p('/nodir/f')), ['x'])];
    },
    expect: [6, 'start:onetwo', { error: { code: 'ENOENT', syscall: 'open' } }],
  },

  // opendir
  {
    name: 'opendir: iteration, read() until null, on a file',
    run: async (fs, p) => {
      await tree(fs, p);
      const seen = [];
      for await (const d of await fs.opendir(p('/d'))) seen.push(d);
      const dir = await fs.opendir(p('/d/sub'));
      const read = [];
      for (let d = await dir.read(); d !== null; d = await dir.read()) read.push(d);
      await dir.close();
      return [byName(seen), byName(read), await attempt(fs.opendir(p('/d/a.txt'))), await attempt(fs.opendir(p('/missing')))];
    },
    expect: [
      [{ name: 'a.txt', type: 'file' }, { name: 'link-to-sub', type: 'symlink' }, { name: 'sub', type: 'dir' }],
      [{ name: 'b.txt' }, { name: 'deeper' }],
      { error: { code: 'ENOTDIR', syscall: 'opendir' } },
      { error: { code: 'ENOENT', syscall: 'opendir' } },
    ],
  },

  // statfs
  {
    name: 'statfs shape',
    run: async (fs, p) => {
      const st = await fs.statfs(p('/'));
      const keys = Object.keys(st).sort();
      const positive = Object.fromEntries(['bsize', 'blocks', 'bfree', 'bavail', 'files'].map((k) => [k, (st as unknown as Record<string, number>)[k]! > 0]));
      const numbers = Object.values(st).every((v) => typeof v === 'number' && Number.isInteger(v) && v >= 0);
      const big = await fs.statfs(p('/'), { bigint: true });
      return [keys, positive, numbers, Object.values(big).every((v) => typeof v === 'bigint'), await attempt(fs.statfs(p('/missing')))];
    },
    expect: [
      ['bavail', 'bfree', 'blocks', 'bsize', 'ffree', 'files', 'type'],
      { bsize: true, blocks: true, bfree: true, bavail: true, files: true },
      true,
      true,
      { error: { code: 'ENOENT', syscall: 'statfs' } },
    ],
  },
  // issue 11: rmdir { recursive }, as node 20 does it: stat first, a tree only for a directory
  {
    name: 'rmdir with recursive: a file is refused and kept, a missing path fails stat, a tree goes',
    run: async (fs, p) => {
      await tree(fs, p);
      return [
        await attempt(fs.rmdir(p('/d/a.txt'), { recursive: true })),
        await fs.readFile(p('/d/a.txt'), 'utf8'),
        await attempt(fs.rmdir(p('/missing'), { recursive: true })),
        await attempt(fs.rmdir(p('/d'), { recursive: 'yes' } as unknown as { recursive: boolean })),
        await attempt(fs.rmdir(p('/d'), { recursive: true })),
        await attempt(fs.stat(p('/d'))),
      ];
    },
    expect: [
      { error: { code: 'ENOTDIR', syscall: 'rmdir' } },
      'aaa',
      { error: { code: 'ENOENT', syscall: 'stat' } },
      { error: { code: 'ERR_INVALID_ARG_TYPE' } },
      undefined,
      { error: { code: 'ENOENT', syscall: 'stat' } },
    ],
  },

  // issue 11: rename reports the source's failure before the destination's, as rename(2) resolves them
  {
    name: 'rename error precedence when both paths are bad',
    run: async (fs, p) => {
      await fs.mkdir(p('/r'));
      await fs.writeFile(p('/r/file'), '');
      return [
        await attempt(fs.rename(p('/r/missing/x'), p('/r/file/y'))),
        await attempt(fs.rename(p('/r/file/x'), p('/r/missing/y'))),
        await attempt(fs.rename(p('/r/missing/x'), p('/r/gone/y'))),
        await attempt(fs.rename(p('/r/file/x'), p('/r/file/y'))),
        await attempt(fs.rename(p('/r/missing'), p('/r/file/y'))),
        await attempt(fs.rename(p('/r/file'), p('/r/missing/y'))),
      ];
    },
    expect: [
      { error: { code: 'ENOENT', syscall: 'rename' } },
      { error: { code: 'ENOTDIR', syscall: 'rename' } },
      { error: { code: 'ENOENT', syscall: 'rename' } },
      { error: { code: 'ENOTDIR', syscall: 'rename' } },
      { error: { code: 'ENOTDIR', syscall: 'rename' } },
      { error: { code: 'ENOENT', syscall: 'rename' } },
    ],
  },

  // issue 11: times before 1970 are set (NFSv3 clamps them to the epoch, as a kernel NFSv3 mount does)
  {
    name: 'utimes and lutimes with dates before 1970 succeed; FileHandle.utimes too',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), 'x');
      await fs.symlink('f', p('/l'));
      const h = await fs.open(p('/f'), 'r+');
      const out = [
        await attempt(fs.utimes(p('/f'), new Date('1960-01-01T00:00:00.500Z'), new Date('1969-12-31T23:59:59Z'))),
        await attempt(fs.lutimes(p('/l'), new Date('1901-06-01T00:00:00Z'), -0.5)),
        await attempt(h.utimes(new Date('1950-01-01T00:00:00Z'), new Date('1950-01-01T00:00:00Z'))),
        (await fs.stat(p('/f'))).mtimeMs <= 0,
      ];
      await h.close();
      return out;
    },
    expect: [undefined, undefined, undefined, true],
  },
  {
    name: 'utimes argument errors: a non-time, NaN, an invalid Date',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), 'x');
      const bad = (v: unknown) => v as number;
      const h = await fs.open(p('/f'), 'r+');
      const out = [
        await attempt(fs.utimes(p('/f'), bad({}), 0)),
        await attempt(fs.utimes(p('/f'), NaN, 0)),
        await attempt(fs.utimes(p('/f'), 0, bad(null))),
        await attempt(fs.utimes(p('/f'), new Date('x'), 0)),
        await attempt(fs.utimes(p('/missing'), new Date('x'), 0)),
        await attempt(fs.lutimes(p('/f'), 0, Infinity)),
        await attempt(h.utimes(new Date('x'), 0)),
      ];
      await h.close();
      return out;
    },
    expect: [
      { error: { code: 'ERR_INVALID_ARG_TYPE' } },
      { error: { code: 'ERR_INVALID_ARG_TYPE' } },
      { error: { code: 'ERR_INVALID_ARG_TYPE' } },
      { error: { code: 'EINVAL', syscall: 'utime' } },
      { error: { code: 'ENOENT', syscall: 'utime' } },
      { error: { code: 'ERR_INVALID_ARG_TYPE' } },
      { error: { code: 'EINVAL', syscall: 'futime' } },
    ],
  },

  // issue 11: FileHandle.write with a string: position, then encoding, as node takes them
  {
    name: "FileHandle.write('abc', 0, 'hex') and write('hello', 0, 16)",
    run: async (fs, p) => {
      const h = await fs.open(p('/f'), 'w+');
      const bad = (v: unknown) => v as BufferEncoding;
      const out = [
        await attempt(h.write('abc', 0, 'hex')),
        await attempt(h.write('hello', 0, bad(16))),
        await attempt(h.write('61626364', 5, 'hex')),
        await attempt(h.write('!', null, bad('no-such-encoding'))),
      ];
      await h.close();
      return [...out, await fs.readFile(p('/f'), 'latin1')];
    },
    expect: [
      { error: { code: 'ERR_INVALID_ARG_VALUE' } },
      { bytesWritten: 5, buffer: 'hello' },
      { bytesWritten: 4, buffer: '61626364' },
      { bytesWritten: 1, buffer: '!' },
      // A write without a position goes at the file position, which positioned writes leave at 0.
      '!elloabcd',
    ],
  },

  // issue 11: argument errors are node's, letter for letter
  {
    name: 'argument errors of paths, options and FileHandle calls',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), 'abc');
      const bad = (v: unknown) => v as string;
      const h = await fs.open(p('/f'), 'r+');
      const out = [
        await attempt(() => fs.readFile(bad(123))),
        await attempt(() => fs.stat(bad(undefined))),
        await attempt(() => fs.mkdir(p('/m'), { recursive: bad('x') as unknown as boolean })),
        await attempt(() => fs.access(p('/f'), 8)),
        await attempt(() => fs.copyFile(p('/f'), p('/g'), 8)),
        await attempt(() => fs.chown(p('/f'), bad('a') as unknown as number, 0)),
        await attempt(() => fs.chown(p('/f'), -2, 0)),
        await attempt(() => fs.writeFile(p('/f'), bad(123) as unknown as string)),
        await attempt(() => fs.truncate(p('/f'), bad('x') as unknown as number)),
        await attempt(() => h.read(Buffer.alloc(4), 0, 10, 0)),
        await attempt(() => h.read(Buffer.alloc(4), 5, 1, 0)),
        await attempt(() => h.write(Buffer.alloc(4), 0, 10, 0)),
        await attempt(() => h.write(bad(42) as unknown as Buffer)),
        await attempt(() => h.truncate(bad('x') as unknown as number)),
      ];
      await h.close();
      return out;
    },
  },

  {
    name: 'argument errors of flags, modes, encodings, options and positions',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), 'abc');
      const bad = <T>(v: unknown) => v as T;
      const h = await fs.open(p('/f'), 'r+');
      const out = [
        await attempt(() => fs.open(p('/f'), 'zz')),
        await attempt(() => fs.open(p('/n'), 'w', 'abc')),
        await attempt(() => fs.mkdir(p('/m'), { mode: bad<number>('9') })),
        await attempt(() => fs.chmod(p('/f'), 'abc')),
        await attempt(() => fs.rm(p('/f'), { force: bad<boolean>('x') })),
        await attempt(() => fs.readFile(p('/f'), bad<BufferEncoding>('nope'))),
        await attempt(() => fs.writeFile(p('/f'), 'x', bad<BufferEncoding>('nope'))),
        await attempt(() => fs.symlink(bad<string>(123), p('/s'))),
        await attempt(() => fs.copyFile(p('/f'), p('/g'), bad<number>('x'))),
        await attempt(() => fs.access(p('/f'), bad<number>('x'))),
        await attempt(() => fs.truncate(p('/f'), 1.5)),
        await attempt(() => h.read(Buffer.alloc(4), 1.5)),
        await attempt(() => h.read(Buffer.alloc(4), -1)),
        await attempt(() => h.read(Buffer.alloc(4), 0, 1, -2)),
        await attempt(() => h.read(Buffer.alloc(4), 0, 1, 1.5)),
        await attempt(() => h.write(Buffer.alloc(4), bad<number>('x'))),
        await attempt(() => h.write(Buffer.alloc(4), 5)),
        await attempt(() => h.chmod('abc')),
        await attempt(() => h.truncate(1.5)),
        await attempt(() => h.readv(bad<Buffer[]>('x'))),
        await attempt(() => h.writev(bad<Buffer[]>('x'))),
        await attempt(() => fs.readdir(p('/'), { withFileTypes: bad<true>('x') })),
        await attempt(() => fs.stat(p('/f'), bad<{ bigint: boolean }>('x'))),
      ];
      await h.close();
      return out;
    },
  },
  // issue 11: FileHandle as node's: an EventEmitter emitting 'close', fd -1 once closed, readLines()
  {
    name: "FileHandle emits 'close', its fd is -1 after close, readLines() reads lines",
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), 'one\ntwo\r\nthree');
      const h = await fs.open(p('/f'), 'r');
      const lines: string[] = [];
      for await (const l of h.readLines()) lines.push(l);
      const g = await fs.open(p('/f'), 'r');
      let closes = 0;
      g.on('close', () => closes++);
      const before = typeof g.fd === 'number' && g.fd >= 0;
      const closing = g.close();
      const during = g.fd;
      await closing;
      await g.close();
      return [['on', 'once', 'off', 'emit'].every((m) => typeof (h as unknown as Record<string, unknown>)[m] === 'function'), lines, before, during, g.fd, closes];
    },
    expect: [true, ['one', 'two', 'three'], true, -1, -1, 1],
  },
  {
    name: 'Dirent objects pass instanceof fs.Dirent (readdir and opendir)',
    run: async (fs, p) => {
      await tree(fs, p);
      const list = await fs.readdir(p('/d'), { withFileTypes: true });
      const dir = await fs.opendir(p('/d'));
      const first = await dir.read();
      await dir.close();
      return [list.length > 0 && list.every((d) => d instanceof nodeFs.Dirent), first instanceof nodeFs.Dirent];
    },
    expect: [true, true],
  },
  {
    name: 'handle.createWriteStream() has close(), which ends the stream and closes the handle',
    run: async (fs, p) => {
      const h = await fs.open(p('/f'), 'w');
      const ws = h.createWriteStream();
      ws.write('abc');
      ws.write(Buffer.from('def'));
      await new Promise<void>((resolve) => (ws as unknown as { close(cb: () => void): void }).close(resolve));
      return [ws.closed, h.fd, await fs.readFile(p('/f'), 'utf8')];
    },
    expect: [true, -1, 'abcdef'],
  },

  // issue 11: closing a FileHandle under its flowing read stream ends the stream, without an 'error'
  {
    name: 'FileHandle closed while its read stream flows: the stream closes, no error',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), bytes(1 << 20, 9));
      const h = await fs.open(p('/f'), 'r');
      const rs = h.createReadStream({ highWaterMark: 1024 });
      const seen: { error?: string; chunks: number } = { chunks: 0 };
      await new Promise<void>((resolve) => {
        rs.on('error', (e: NodeJS.ErrnoException) => (seen.error = e.code ?? e.message));
        rs.on('close', () => resolve());
        rs.on('data', () => {
          if (++seen.chunks === 1) void h.close();
        });
      });
      return [seen.error ?? null, seen.chunks < 1024, rs.destroyed, h.fd];
    },
    expect: [null, true, true, -1],
  },

  // issue 11: an already-aborted signal rejects FileHandle.writeFile and leaves the file alone
  {
    name: 'FileHandle.writeFile and readFile with an already-aborted signal reject with AbortError',
    run: async (fs, p) => {
      await fs.writeFile(p('/f'), 'kept');
      const h = await fs.open(p('/f'), 'r+');
      const signal = AbortSignal.abort();
      const out = [
        await attempt(h.writeFile('new', { signal })),
        await attempt(h.writeFile(['a', 'b'], { signal })),
        await attempt(h.writeFile([], { signal })),
        await attempt(h.readFile({ signal })),
        await attempt(fs.writeFile(h, 'x', { signal })),
      ];
      await h.close();
      return [...out, await fs.readFile(p('/f'), 'utf8')];
    },
    expect: [
      { error: { name: 'AbortError', code: 'ABORT_ERR' } },
      { error: { name: 'AbortError', code: 'ABORT_ERR' } },
      { error: { name: 'AbortError', code: 'ABORT_ERR' } },
      { error: { name: 'AbortError', code: 'ABORT_ERR' } },
      { error: { name: 'AbortError', code: 'ABORT_ERR' } },
      'kept',
    ],
  },

];

t.ok(cases.length >= 60, `at least 60 cases (have ${cases.length})`);

for (const [i, c] of cases.entries()) {
  t.test(c.name, async (t) => {
    const localCase = `${localRoot}/c${i}`;
    const nfsCase = `${s.dir}/c${i}`;
    await fsp.mkdir(localCase);
    await s.nfs.mkdir(nfsCase);
    const run = async (fs: Api, root: string) => norm(await attempt(() => c.run(fs, (rel) => (rel === '/' ? root : root + rel))), { caseDir: root });
    const want = await run(nodeApi, localCase);
    const got = await run(s.nfs, nfsCase);
    if (c.expect !== undefined) t.match(want, c.expect, 'node does what the case is about');
    t.same(got, want, 'mountless matches node');
  });
}
