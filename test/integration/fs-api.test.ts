// The public API against the real server, beyond what the oracle compares:
// bigint stats, disposal, abort signals, argument checking before anything is
// sent, connect() and its URL, readonly mounts, EXCLUSIVE create, and what
// actually lands on the server's disk (MOUNTLESS_NAS_EXPORT_DIR).
//
// The last test checks that every public method of NfsClient, FileHandle and
// Dir was called here, so a method added later cannot go untested silently.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { constants, readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import * as fsp from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  AbortError,
  BigIntStats,
  connect,
  Dir,
  Dirent,
  FileHandle,
  InvalidArgError,
  MountError,
  NfsClient,
  parseNfsUrl,
  ReadStream,
  StatFs,
  Stats,
  WriteStream,
  type FsError,
} from '../../src/index.js';
import { instrument, NFS_URL, scratch, uniqueName, urlWith } from './_env.js';

// ---- which public methods this file calls ----

const called = new Set<string>();

/** A view of `obj` that records each member the test touches as `Class.member`; calls run on the real object. */
function tracked<T extends object>(obj: T, cls: string): T {
  return new Proxy(obj, {
    get(target, key) {
      const v = Reflect.get(target, key, target) as unknown;
      const name = typeof key === 'symbol' ? key.toString() : key;
      called.add(`${cls}.${name}`);
      return typeof v === 'function' ? (...a: unknown[]) => (v as (...x: unknown[]) => unknown).apply(target, a) : v;
    },
  });
}

const s = await scratch(t, 'fs-api');
const nfs = tracked(s.nfs, 'NfsClient');
const host = new URL(NFS_URL).host;
/** The version the suite runs over (fs-api-v4x.test.ts set it in NFS_URL); 3 by default. */
const version = new URL(NFS_URL).searchParams.get('version') ?? '3';
/** Status names carry the protocol's prefix: NFS3ERR_NOENT, NFS4ERR_NOENT. */
const ERR = version === '3' ? 'NFS3ERR_' : 'NFS4ERR_';

async function open(path: string, flags?: string | number, mode?: number): Promise<FileHandle> {
  return tracked(await nfs.open(path, flags, mode), 'FileHandle');
}

async function drain(r: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(Buffer.from(c as Buffer));
  return Buffer.concat(parts);
}

function finished(w: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    w.on('error', reject);
    w.on('close', resolve);
  });
}

t.test('stat, lstat and FileHandle.stat with { bigint: true }', async (t) => {
  await nfs.mkdir(s.at('bigint'));
  await nfs.writeFile(s.at('bigint/f'), 'twelve bytes');
  await nfs.symlink('f', s.at('bigint/l'));
  await nfs.utimes(s.at('bigint/f'), 1234567890.123456, 1500000000.654321);
  const b = await nfs.stat(s.at('bigint/f'), { bigint: true });
  t.ok(b instanceof BigIntStats);
  for (const k of ['dev', 'ino', 'mode', 'nlink', 'uid', 'gid', 'rdev', 'size', 'blksize', 'blocks', 'atimeMs', 'mtimeMs', 'ctimeMs', 'birthtimeMs', 'atimeNs', 'mtimeNs', 'ctimeNs', 'birthtimeNs'] as const) {
    t.equal(typeof b[k], 'bigint', `${k} is a bigint`);
  }
  t.equal(b.size, 12n);
  t.equal(b.atimeNs, 1234567890123456000n, 'atime to the nanosecond');
  t.equal(b.mtimeNs, 1500000000654321000n, 'mtime to the nanosecond');
  t.equal(b.mtimeMs, 1500000000654n);
  t.equal(b.mtime.getTime(), 1500000000654);
  t.ok(b.isFile() && !b.isDirectory() && !b.isSymbolicLink());

  const n = await nfs.stat(s.at('bigint/f'));
  t.ok(n instanceof Stats);
  t.equal(BigInt(n.ino), b.ino);
  t.equal(BigInt(n.mode), b.mode);
  t.equal(n.mtimeMs, 1500000000654.321);

  // The server's own view of the same file.
  const local = await fsp.stat(s.localAt('bigint/f'), { bigint: true });
  t.equal(b.ino, local.ino, 'ino is the inode number on the server disk');
  t.equal(b.mode, local.mode);
  t.equal(b.nlink, local.nlink);
  t.equal(b.mtimeNs, local.mtimeNs);
  t.equal(b.atimeNs, local.atimeNs);
  t.equal(b.size, local.size);

  const l = await nfs.lstat(s.at('bigint/l'), { bigint: true });
  t.ok(l.isSymbolicLink());
  t.equal(l.size, 1n);
  t.equal(l.ino, (await fsp.lstat(s.localAt('bigint/l'), { bigint: true })).ino);

  const h = await open(s.at('bigint/f'));
  const hb = await h.stat({ bigint: true });
  t.equal(hb.ino, b.ino);
  t.equal(hb.mtimeNs, b.mtimeNs);
  await h.close();
});

t.test('Symbol.asyncDispose closes handles, directories and clients', async (t) => {
  let handle: FileHandle | undefined;
  {
    await using h = await open(s.at('dispose.txt'), 'w');
    handle = h;
    await h.write('disposed');
  }
  t.equal(handle.isClosed, true, 'the handle is closed at the end of its block');
  await t.rejects(handle.stat(), { code: 'EBADF', message: 'file closed' });
  t.equal(await nfs.readFile(s.at('dispose.txt'), 'utf8'), 'disposed');

  let dir: Dir | undefined;
  {
    await using d = tracked(await nfs.opendir(s.at('')), 'Dir');
    dir = d;
    t.ok((await d.read()) instanceof Dirent);
  }
  await t.rejects(dir.read(), { code: 'ERR_DIR_CLOSED' });

  let client: NfsClient | undefined;
  {
    await using c = await connect(NFS_URL);
    client = c;
    t.ok((await c.stat(s.dir)).isDirectory());
  }
  await t.rejects(client.stat(s.dir), { code: 'EBADF', syscall: 'stat', message: /client is closed/ });
  await client.close();

  {
    await using c = tracked(await connect(NFS_URL), 'NfsClient');
    void c;
  }
});

t.test('an AbortSignal aborts readFile and writeFile', async (t) => {
  const c = await connect(NFS_URL, { rsize: 65536, wsize: 65536 });
  t.teardown(() => c.close());
  const calls = instrument(c);
  const data = randomBytes(4 * 1024 * 1024);
  await c.writeFile(s.at('abort.bin'), data);

  const pre = new AbortController();
  pre.abort(new Error('stop'));
  const before = calls.count;
  await t.rejects(c.readFile(s.at('abort.bin'), { signal: pre.signal }), { name: 'AbortError', code: 'ABORT_ERR', cause: { message: 'stop' } });
  await t.rejects(c.writeFile(s.at('never.bin'), data, { signal: pre.signal }), { name: 'AbortError', code: 'ABORT_ERR' });
  t.equal(calls.count, before, 'an aborted signal fails the call before anything is sent');
  await t.rejects(fsp.stat(s.localAt('never.bin')), { code: 'ENOENT' }, 'writeFile did not create the file');

  // Abort while the transfer is under way: when the first READ or WRITE goes out.
  const midRead = new AbortController();
  calls.hook.read = () => midRead.abort();
  const r = c.readFile(s.at('abort.bin'), { signal: midRead.signal });
  await t.rejects(r, AbortError);
  calls.hook.read = undefined;

  const midWrite = new AbortController();
  calls.hook.write = () => midWrite.abort();
  await t.rejects(c.writeFile(s.at('abort2.bin'), data, { signal: midWrite.signal }), { name: 'AbortError', code: 'ABORT_ERR' });
  calls.hook.write = undefined;
  t.ok((await fsp.stat(s.localAt('abort2.bin'))).size < data.length, 'the aborted write stopped short');

  t.ok((await c.readFile(s.at('abort.bin'))).equals(data), 'the client still works afterwards');
});

t.test('argument errors are raised before anything is sent', async (t) => {
  const c = await connect(NFS_URL);
  t.teardown(() => c.close());
  const calls = instrument(c);
  await c.writeFile(s.at('x'.repeat(255)), 'a 255-byte name is fine');
  t.same(await nfs.readdir(s.at('')).then((n) => n.includes('x'.repeat(255))), true);

  const cases: Array<[string, () => Promise<unknown>, { code: string; [k: string]: unknown }]> = [
    ['number path', () => c.stat(123 as never), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }],
    ['object path', () => c.readFile({} as never), { code: 'ERR_INVALID_ARG_TYPE' }],
    ['NUL in path', () => c.readFile(s.at('a\0b')), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }],
    ['NUL in a rename target', () => c.rename(s.at('a'), s.at('b\0')), { code: 'ERR_INVALID_ARG_VALUE' }],
    ['name of 256 bytes', () => c.writeFile(s.at('x'.repeat(256)), 'x'), { code: 'ENAMETOOLONG', syscall: 'open', errno: -osConstants.errno.ENAMETOOLONG }],
    ['name of 256 UTF-8 bytes', () => c.mkdir(s.at('é'.repeat(128))), { code: 'ENAMETOOLONG', syscall: 'mkdir' }],
    ['long name in the middle', () => c.stat(s.at('y'.repeat(300) + '/z')), { code: 'ENAMETOOLONG', syscall: 'stat' }],
    ['climbing out of the export', () => c.stat('/../x'), { code: 'ERR_INVALID_ARG_VALUE' }],
    ['climbing later in the path', () => c.readdir('/a/../../x'), { code: 'ERR_INVALID_ARG_VALUE' }],
    ['climbing in a link target path', () => c.link(s.at('f'), '/../f'), { code: 'ERR_INVALID_ARG_VALUE' }],
    ['file: URL', () => c.stat(new URL('file:///etc/passwd')), { code: 'ERR_INVALID_ARG_VALUE' }],
    ['symlink target too long', () => c.symlink('t'.repeat(5000), s.at('l')), { code: 'ENAMETOOLONG' }],
    ['bad flags', () => c.open(s.at('f'), 'rw'), { code: 'ERR_INVALID_ARG_VALUE' }],
    ['bad mode string', () => c.chmod(s.at('f'), 'rwx'), { code: 'ERR_INVALID_ARG_VALUE' }],
    ['bad access mode', () => c.access(s.at('f'), 8), { code: 'ERR_OUT_OF_RANGE' }],
    ['bad copyFile mode', () => c.copyFile(s.at('f'), s.at('g'), 99), { code: 'ERR_OUT_OF_RANGE' }],
    ['bad uid', () => c.chown(s.at('f'), -2, 0), { code: 'ERR_OUT_OF_RANGE' }],
    ['bad truncate length', () => c.truncate(s.at('f'), '1' as never), { code: 'ERR_INVALID_ARG_TYPE' }],
    ['bad encoding', () => c.readFile(s.at('f'), 'utf9' as never), { code: 'ERR_INVALID_ARG_VALUE' }],
    ['bad writeFile data', () => c.writeFile(s.at('f'), 42 as never), { code: 'ERR_INVALID_ARG_TYPE' }],
    ['bad recursive option', () => c.mkdir(s.at('d'), { recursive: 'yes' as never }), { code: 'ERR_INVALID_ARG_TYPE' }],
    ['bad utimes time', () => c.utimes(s.at('f'), {} as never, 0), { code: 'ERR_INVALID_ARG_TYPE' }],
  ];
  for (const [what, fn, expected] of cases) {
    const before = calls.count;
    await t.rejects(fn(), expected, what);
    t.equal(calls.count, before, `${what}: nothing sent (${calls.log.slice(before).join(', ')})`);
  }
});

t.test('connect to an export that does not exist', async (t) => {
  const name = `/${uniqueName('no-such-export')}`;
  const err = await connect(`nfs://${host}${name}`).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(err instanceof MountError, 'a MountError');
  t.match(err, { code: 'ENOENT', path: name, message: new RegExp(name) });

  const sub = `${s.dir.slice(1)}/no-such-dir`;
  const err2 = await connect(urlWith(sub)).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.match(err2, { code: 'ENOENT', syscall: 'mount', nfsStatus: `${ERR}NOENT`, message: /no-such-dir/ }, 'a missing directory below the export: ENOENT naming it');

  await nfs.writeFile(s.at('plain-file'), '');
  await t.rejects(connect(urlWith(`${s.dir.slice(1)}/plain-file`)), { code: 'ENOTDIR' });
});

t.test('a URL naming a directory inside the export makes it the root', async (t) => {
  await nfs.mkdir(s.at('sub/inner'), { recursive: true });
  await nfs.writeFile(s.at('sub/inside.txt'), 'inside');
  const c = tracked(await connect(urlWith(`${s.dir.slice(1)}/sub`)), 'NfsClient');
  t.teardown(() => c.close());
  t.same((await c.readdir('/')).sort(), ['inner', 'inside.txt']);
  t.equal(await c.readFile('/inside.txt', 'utf8'), 'inside');
  t.equal(await c.readFile('inside.txt', 'utf8'), 'inside', 'relative paths start at the root too');
  t.equal((await c.stat('/')).ino, (await nfs.stat(s.at('sub'))).ino);
  await c.writeFile('/inner/from-sub.txt', 'written below the sub-root');
  t.equal(await fsp.readFile(s.localAt('sub/inner/from-sub.txt'), 'utf8'), 'written below the sub-root');
  // Absolute symlink targets are taken from this client's root.
  await c.symlink('/inside.txt', '/inner/abs-link');
  t.equal(await c.readFile('/inner/abs-link', 'utf8'), 'inside');
  t.equal(await c.realpath('/inner/abs-link'), '/inside.txt');
  // '..' stops at the root: from a symlink target, as on the server; in a path given to a call, refused.
  await c.symlink('../../../../inside.txt', '/inner/up-link');
  t.equal(await c.readFile('/inner/up-link', 'utf8'), 'inside');
  await t.rejects(c.stat('/..'), { code: 'ERR_INVALID_ARG_VALUE' });
});

t.test('readonly=1 refuses every change with EROFS before sending', async (t) => {
  await nfs.mkdir(s.at('ro'));
  await nfs.writeFile(s.at('ro/f'), 'read only');
  await nfs.mkdir(s.at('ro/d'));
  const c = await connect(urlWith('', 'readonly=1'));
  t.teardown(() => c.close());
  const calls = instrument(c);
  const p = (x: string) => s.at(`ro/${x}`);
  const changes: Array<[string, () => Promise<unknown>]> = [
    ['writeFile', () => c.writeFile(p('new'), 'x')],
    ['appendFile', () => c.appendFile(p('f'), 'x')],
    ['open w', () => c.open(p('f'), 'w')],
    ['open r+', () => c.open(p('f'), 'r+')],
    ['open a', () => c.open(p('f'), 'a')],
    ['mkdir', () => c.mkdir(p('nd'))],
    ['mkdir recursive', () => c.mkdir(p('a/b/c'), { recursive: true })],
    ['rmdir', () => c.rmdir(p('d'))],
    ['rm', () => c.rm(p('f'))],
    ['unlink', () => c.unlink(p('f'))],
    ['rename', () => c.rename(p('f'), p('g'))],
    ['link', () => c.link(p('f'), p('g'))],
    ['symlink', () => c.symlink('f', p('g'))],
    ['chmod', () => c.chmod(p('f'), 0o600)],
    ['chown', () => c.chown(p('f'), 0, 0)],
    ['lchown', () => c.lchown(p('f'), 0, 0)],
    ['utimes', () => c.utimes(p('f'), 1, 1)],
    ['lutimes', () => c.lutimes(p('f'), 1, 1)],
    ['truncate', () => c.truncate(p('f'))],
    ['copyFile', () => c.copyFile(p('f'), p('g'))],
  ];
  for (const [what, fn] of changes) {
    const before = calls.count;
    await t.rejects(fn(), { code: 'EROFS', errno: -osConstants.errno.EROFS }, what);
    t.equal(calls.count, before, `${what}: nothing sent`);
  }
  const ws = c.createWriteStream(p('stream'));
  await t.rejects(finished(ws), { code: 'EROFS' }, 'createWriteStream');
  await t.rejects(c.access(p('f'), constants.W_OK), { code: 'EROFS' }, 'access W_OK');

  // Reading still works, and nothing changed on the server.
  t.equal(await c.readFile(p('f'), 'utf8'), 'read only');
  await c.access(p('f'), constants.R_OK);
  const h = await c.open(p('f'));
  await t.rejects(h.write('x'), { code: 'EBADF' });
  await h.close();
  t.same((await fsp.readdir(s.localAt('ro'))).sort(), ['d', 'f']);
  t.equal(await fsp.readFile(s.localAt('ro/f'), 'utf8'), 'read only');
});

t.test('URLs and options: unknown ones are refused, known ones parsed', async (t) => {
  await t.rejects(connect(urlWith('', 'bogus=1')), { code: 'ERR_INVALID_URL', message: /bogus/ });
  await t.rejects(connect(urlWith('', 'rsize=big')), { code: 'ERR_INVALID_URL' });
  await t.rejects(connect('http://127.0.0.1/export'), { code: 'ERR_INVALID_URL' });
  const bad = await connect(NFS_URL, { bogus: 1 } as never).catch((e: unknown) => e);
  t.ok(bad instanceof InvalidArgError, 'an unknown option is an InvalidArgError');
  t.match(bad, { code: 'ERR_INVALID_ARG_VALUE', message: /bogus/ });
  const u = parseNfsUrl('nfs://me@server.example:2049/export/sub%20dir?version=3&uid=1000&gid=100&readonly=1&rsize=65536');
  t.match(u, { host: 'server.example', port: 2049, user: 'me', path: '/export/sub dir', options: { version: '3', uid: 1000, gid: 100, readonly: true, rsize: 65536 } });
  const c = tracked(await connect(urlWith('', 'rsize=65536&wsize=32768')), 'NfsClient');
  t.teardown(() => c.close());
  t.equal(c.version, version);
  t.equal(c.backend.limits.rsize, 65536);
  t.equal(c.backend.limits.wsize, 32768);
  t.equal(c.handles.limits.rsize, 65536, 'the handle-level API (volumes) is the same stack');
});

t.test('wx creates with EXCLUSIVE, then sets the requested mode', async (t) => {
  const c = await connect(NFS_URL, { umask: 0o022 });
  t.teardown(() => c.close());
  const calls = instrument(c);
  const how: string[] = [];
  calls.hook.create = (args) => how.push((args[2] as { mode: string }).mode);

  const h = await c.open(s.at('excl.txt'), 'wx', 0o640);
  await h.write('exclusive');
  await h.close();
  t.same(how, ['exclusive']);
  const st = await fsp.stat(s.localAt('excl.txt'));
  t.equal(st.mode, 0o100640, 'the mode asked for, on the server disk');
  t.equal(await fsp.readFile(s.localAt('excl.txt'), 'utf8'), 'exclusive');
  // EXCLUSIVE keeps its verifier in the times until the SETATTR that follows it.
  for (const k of ['atimeMs', 'mtimeMs'] as const) t.ok(Math.abs(st[k] - Date.now()) < 24 * 3600e3, `${k} is the server's time, not the verifier`);

  await t.rejects(c.open(s.at('excl.txt'), 'wx'), { code: 'EEXIST', syscall: 'open' });
  await c.writeFile(s.at('excl2.txt'), 'x', { flag: 'ax', mode: 0o600 });
  t.equal((await fsp.stat(s.localAt('excl2.txt'))).mode, 0o100600);
  t.same(how, ['exclusive', 'exclusive'], 'the second wx failed before CREATE: the file was there');

  await c.writeFile(s.at('guarded.txt'), 'x');
  if (version === '3') t.equal(how[how.length - 1], 'guarded', 'plain w creates GUARDED');
  else t.equal(how.length, 2, 'plain w over NFSv4: the OPEN creates the file (UNCHECKED4), no separate create');
  t.equal((await fsp.stat(s.localAt('guarded.txt'))).mode, 0o100644, 'created with the umask applied');
});

t.test('w on an existing file truncates it and keeps its mode and owner; a dangling symlink gets its target created', async (t) => {
  const c = await connect(NFS_URL, { umask: 0o022 });
  t.teardown(() => c.close());
  await fsp.writeFile(s.localAt('kept.txt'), 'long old contents');
  await fsp.chmod(s.localAt('kept.txt'), 0o600);
  const before = await fsp.stat(s.localAt('kept.txt'));
  await c.writeFile(s.at('kept.txt'), 'new', { mode: 0o666 });
  const after = await fsp.stat(s.localAt('kept.txt'));
  t.equal(await fsp.readFile(s.localAt('kept.txt'), 'utf8'), 'new');
  t.equal(after.mode, 0o100600, 'the mode of an existing file is left alone, as open(2) leaves it');
  t.equal(after.ino, before.ino, 'the same file, not a new one');
  const h = await c.open(s.at('kept.txt'), 'a');
  await h.write('+');
  await h.close();
  t.equal(await fsp.readFile(s.localAt('kept.txt'), 'utf8'), 'new+', "'a' neither truncates nor replaces");
  await fsp.symlink('made-through-link.txt', s.localAt('dangling'));
  await c.writeFile(s.at('dangling'), 'via link');
  t.equal(await fsp.readFile(s.localAt('made-through-link.txt'), 'utf8'), 'via link', 'O_CREAT follows a dangling symlink, as the kernel does');
  t.ok((await fsp.lstat(s.localAt('dangling'))).isSymbolicLink(), 'the link stays a link');
  await fsp.mkdir(s.localAt('adir'));
  await t.rejects(c.open(s.at('adir'), 'w'), { code: 'EISDIR', syscall: 'open' });
  await t.rejects(c.open(s.at('no-such-dir/f'), 'w'), { code: 'ENOENT', syscall: 'open' });
});

t.test('open sees the server\'s current attributes (close-to-open); over NFSv4 from the OPEN itself', async (t) => {
  const c = await connect(NFS_URL);
  t.teardown(() => c.close());
  const calls = instrument(c);
  const v4 = (c.backend as unknown as { inner: { stats?: { compounds: number } } }).inner;
  await c.writeFile(s.at('cto.txt'), 'one');
  // Both paths in the name caches (4.0 opens by directory and name).
  t.ok((await c.stat(s.dir)).isDirectory());
  t.equal((await c.stat(s.at('cto.txt'))).size, 3);
  // Changed behind the client's back: within acregmin the cache still says 3.
  await fsp.writeFile(s.localAt('cto.txt'), 'three');
  t.equal((await c.stat(s.at('cto.txt'))).size, 3, 'stat: the cached size');

  const before = calls.log.length;
  const compounds = v4.stats?.compounds ?? 0;
  const h = await c.open(s.at('cto.txt'), 'r+');
  const sent = calls.log.slice(before);
  if (version === '3') {
    t.ok(sent.includes('getattr'), `v3: a GETATTR revalidates (${sent.join(', ')})`);
  } else {
    // The file's attributes come with the OPEN; the one GETATTR is the directory's check (close-to-open for the name, see Guarantees).
    t.equal(sent.filter((m) => m === 'getattr').length, 1, `one GETATTR, the directory's (${sent.join(', ')})`);
    t.equal(sent[sent.indexOf('getattr') - 1], 'revalidateDir', 'made by the name check');
    t.equal(v4.stats!.compounds - compounds, 2, "two COMPOUNDs: the directory's GETATTR, and the OPEN with the file's");
  }
  t.equal((await h.stat()).size, 5, "after open, the handle sees the server's size");
  t.equal((await c.stat(s.at('cto.txt'))).size, 5, 'and so does stat (the cache was refreshed)');
  t.equal(await h.readFile('utf8'), 'three');
  await h.close();

  // 'w' on a file with data truncates it (under the open's stateid over NFSv4).
  const w = await c.open(s.at('cto.txt'), 'w');
  t.equal((await w.stat()).size, 0, "truncated, and the handle's attributes say so");
  await w.close();
  t.equal((await fsp.stat(s.localAt('cto.txt'))).size, 0, "on the server's disk");
});

t.test('write stability: unstable + COMMIT by default, FILE_SYNC for the sync flags, flush', async (t) => {
  const c = await connect(NFS_URL);
  t.teardown(() => c.close());
  const calls = instrument(c);
  const stable: string[] = [];
  calls.hook.write = (a) => stable.push(a[3] as string);
  const commits = () => calls.log.filter((k) => k === 'commit').length;

  const h = await c.open(s.at('stab.txt'), 'w');
  await h.write('unstable');
  t.same(stable, ['unstable']);
  t.equal(commits(), 0);
  await h.close();
  t.equal(commits(), 1, 'close COMMITs unstable writes');

  for (const flags of ['as', 'rs+'] as const) {
    stable.length = 0;
    const before = commits();
    const hs = await c.open(s.at('stab.txt'), flags);
    await hs.write('synced', 0);
    await hs.close();
    t.same(stable, ['file'], `${flags}: FILE_SYNC`);
    t.equal(commits(), before, `${flags}: nothing to COMMIT`);
  }
  const hd = await c.open(s.at('stab.txt'), constants.O_WRONLY | constants.O_DSYNC);
  stable.length = 0;
  await hd.write('d', 0);
  await hd.close();
  t.same(stable, ['data'], 'O_DSYNC: DATA_SYNC');

  const before = commits();
  await c.writeFile(s.at('stab.txt'), 'flushed', { flush: true });
  t.equal(commits(), before + 1, 'writeFile flush: one COMMIT, and none left for close');
  t.equal(await fsp.readFile(s.localAt('stab.txt'), 'utf8'), 'flushed');
});

t.test('bytes written through mountless are on the server disk, and the other way round', async (t) => {
  await nfs.mkdir(s.at('disk'));
  const a = randomBytes(1_000_003);
  await nfs.writeFile(s.at('disk/a.bin'), a);
  t.ok((await fsp.readFile(s.localAt('disk/a.bin'))).equals(a), 'writeFile');

  const h = await open(s.at('disk/b.bin'), 'w+');
  await h.write(Buffer.from('0123456789'), 0, 10, 0);
  await h.write('XY', 4);
  await h.writev([Buffer.from('ab'), Buffer.from('cd')], 20);
  await h.sync();
  await h.datasync();
  t.equal(await fsp.readFile(s.localAt('disk/b.bin'), 'latin1'), '0123XY6789' + '\0'.repeat(10) + 'abcd', 'positional writes, with a hole');
  await h.truncate(5);
  await h.chmod(0o600);
  await h.chown(1000, 1001);
  await h.utimes(1000, 2000);
  await h.close();
  const st = await fsp.stat(s.localAt('disk/b.bin'));
  t.match(st, { size: 5, mode: 0o100600, uid: 1000, gid: 1001, mtimeMs: 2_000_000, atimeMs: 1_000_000 });

  await nfs.appendFile(s.at('disk/b.bin'), '+appended');
  t.equal(await fsp.readFile(s.localAt('disk/b.bin'), 'latin1'), '0123X+appended');

  const w = nfs.createWriteStream(s.at('disk/stream.bin'));
  t.ok(w instanceof WriteStream);
  const chunks = [randomBytes(100_000), randomBytes(3), randomBytes(70_000)];
  for (const c of chunks) w.write(c);
  w.end();
  await finished(w);
  t.equal(w.bytesWritten, 170_003);
  t.ok((await fsp.readFile(s.localAt('disk/stream.bin'))).equals(Buffer.concat(chunks)), 'createWriteStream');

  await nfs.chmod(s.at('disk/a.bin'), 0o604);
  await nfs.chown(s.at('disk/a.bin'), 1000, 1000);
  await nfs.truncate(s.at('disk/a.bin'), 10);
  await nfs.utimes(s.at('disk/a.bin'), new Date('2020-01-01T00:00:00Z'), new Date('2021-01-01T00:00:00Z'));
  await nfs.rename(s.at('disk/a.bin'), s.at('disk/renamed.bin'));
  await nfs.link(s.at('disk/renamed.bin'), s.at('disk/hard.bin'));
  await nfs.symlink('renamed.bin', s.at('disk/soft'));
  await nfs.copyFile(s.at('disk/renamed.bin'), s.at('disk/copy.bin'));
  await nfs.unlink(s.at('disk/stream.bin'));
  await nfs.mkdir(s.at('disk/tree/deeper'), { recursive: true });
  await nfs.writeFile(s.at('disk/tree/deeper/x'), 'x');
  await nfs.rm(s.at('disk/tree'), { recursive: true });
  await t.rejects(nfs.rmdir(s.at('disk/tree')), { code: 'ENOENT' });
  t.same((await fsp.readdir(s.localAt('disk'))).sort(), ['b.bin', 'copy.bin', 'hard.bin', 'renamed.bin', 'soft']);
  const r = await fsp.stat(s.localAt('disk/renamed.bin'));
  t.match(r, { size: 10, mode: 0o100604, uid: 1000, gid: 1000, nlink: 2, mtimeMs: Date.parse('2021-01-01T00:00:00Z') });
  t.ok((await fsp.readFile(s.localAt('disk/copy.bin'))).equals(a.subarray(0, 10)));
  t.equal(await fsp.readlink(s.localAt('disk/soft')), 'renamed.bin');

  // Written on the server's disk, read through mountless.
  const z = randomBytes(300_000);
  await fsp.writeFile(s.localAt('disk/local.bin'), z);
  await fsp.mkdir(s.localAt('disk/local-dir'));
  await fsp.symlink('local.bin', s.localAt('disk/local-link'));
  t.ok((await nfs.readFile(s.at('disk/local-link'))).equals(z));
  t.ok((await nfs.stat(s.at('disk/local-dir'))).isDirectory());
  t.equal(await nfs.readlink(s.at('disk/local-link')), 'local.bin');
});

t.test('absolute symlink targets are taken from the export root', async (t) => {
  await nfs.mkdir(s.at('abs/deep/er'), { recursive: true });
  await nfs.writeFile(s.at('abs/target.txt'), 'absolute');
  await nfs.symlink(s.at('abs/target.txt'), s.at('abs/deep/er/to-target'));
  await nfs.symlink(s.at('abs/deep'), s.at('abs/to-deep'));
  t.equal(await nfs.readlink(s.at('abs/deep/er/to-target')), s.at('abs/target.txt'), 'stored verbatim');
  t.equal(await fsp.readlink(s.localAt('abs/deep/er/to-target')), s.at('abs/target.txt'), 'verbatim on the server disk too');
  t.equal(await nfs.readFile(s.at('abs/deep/er/to-target'), 'utf8'), 'absolute');
  t.equal(await nfs.realpath(s.at('abs/to-deep/er/to-target')), s.at('abs/target.txt'));
  t.same(await nfs.readdir(s.at('abs/to-deep')), ['er']);
  await nfs.writeFile(s.at('abs/to-deep/er/new.txt'), 'through an absolute link');
  t.equal(await fsp.readFile(s.localAt('abs/deep/er/new.txt'), 'utf8'), 'through an absolute link');
  // A target that climbs past the root stops there, as '..' does at '/'.
  await nfs.symlink('../../../../../..' + s.at('abs/target.txt'), s.at('abs/deep/climber'));
  t.equal(await nfs.readFile(s.at('abs/deep/climber'), 'utf8'), 'absolute');
  // Writing through a dangling absolute link creates its target.
  await nfs.symlink(s.at('abs/made-by-link.txt'), s.at('abs/dangling'));
  await nfs.writeFile(s.at('abs/dangling'), 'created at the target');
  t.equal(await fsp.readFile(s.localAt('abs/made-by-link.txt'), 'utf8'), 'created at the target');
});

t.test('readdir recursive lists symlinks to directories without entering them (unlike node)', async (t) => {
  // node's plain recursive listing descends into symlinked directories
  // (nodejs/node#51858) and would loop on this tree; mountless lists the link
  // and moves on, as node's withFileTypes listing and `find` do.
  await nfs.mkdir(s.at('rec/a/b'), { recursive: true });
  await nfs.writeFile(s.at('rec/a/b/f'), '');
  await nfs.symlink('..', s.at('rec/a/b/up'));
  await nfs.symlink('a', s.at('rec/to-a'));
  t.same((await nfs.readdir(s.at('rec'), { recursive: true })).sort(), ['a', 'a/b', 'a/b/f', 'a/b/up', 'to-a']);
  const typed = await nfs.readdir(s.at('rec'), { recursive: true, withFileTypes: true });
  t.same(
    typed.map((d) => `${d.parentPath.slice(s.dir.length)}/${d.name}:${d.isSymbolicLink() ? 'l' : d.isDirectory() ? 'd' : 'f'}`).sort(),
    ['/rec/a/b/f:f', '/rec/a/b/up:l', '/rec/a/b:d', '/rec/a:d', '/rec/to-a:l'],
  );
});

t.test('FileHandle: bigint positions, fd, streams over a handle, readFile/writeFile/appendFile', async (t) => {
  await nfs.writeFile(s.at('fh.txt'), '0123456789');
  const h = await open(s.at('fh.txt'), 'r+');
  t.type(h.fd, 'number');
  // node 20 ignores a bigint position in FileHandle.read (it reads at the file position); mountless honours it.
  const r = await h.read(Buffer.alloc(3), 0, 3, 7n);
  t.same([r.bytesRead, r.buffer.toString()], [3, '789']);
  const rv = await h.readv([Buffer.alloc(2), Buffer.alloc(2)], 1);
  t.same([rv.bytesRead, Buffer.concat(rv.buffers).toString()], [4, '1234']);
  const wv = await h.writev([Buffer.from('ab')], 8);
  t.equal(wv.bytesWritten, 2);
  t.equal(await h.readFile('utf8'), '01234567ab', 'readFile from the file position (still 0)');
  await h.writeFile('WXYZ');
  await h.appendFile('!');
  const back = await nfs.readFile(h);
  t.equal(back.length, 0, 'readFile(handle) continues from the handle position (the end)');
  t.equal(await fsp.readFile(s.localAt('fh.txt'), 'utf8'), '01234567abWXYZ!');

  const rs = h.createReadStream({ start: 2, end: 5, autoClose: false });
  t.ok(rs instanceof ReadStream);
  t.equal((await drain(rs)).toString(), '2345');
  t.equal(h.isClosed, false, 'autoClose: false leaves the handle open');
  const ws = h.createWriteStream({ start: 0, autoClose: false });
  ws.end('##');
  await new Promise((resolve) => ws.on('finish', resolve));
  t.equal(h.isClosed, false);
  const viaFd = nfs.createReadStream('ignored', { fd: h, start: 0, end: 3 });
  t.equal((await drain(viaFd)).toString(), '##23');
  t.equal(h.isClosed, true, 'a stream given the handle as fd closes it by default');
  await h.close();

  const opened = nfs.createReadStream(s.at('fh.txt'), { start: 10, highWaterMark: 2 });
  const events: string[] = [];
  opened.on('open', () => events.push('open'));
  opened.on('ready', () => events.push('ready'));
  t.equal((await drain(opened)).toString(), 'WXYZ!');
  t.same(events, ['open', 'ready']);
  t.equal(opened.bytesRead, 5);
  t.equal(opened.path, s.at('fh.txt'));
});

t.test('lutimes acts on the link, not on its target', async (t) => {
  await nfs.writeFile(s.at('lut-target'), '');
  await nfs.utimes(s.at('lut-target'), 100, 200);
  await nfs.symlink('lut-target', s.at('lut-link'));
  await nfs.lutimes(s.at('lut-link'), 300, 400);
  // Ganesha 4.3 answers SETATTR of times on a symlink NFS3_OK without storing
  // them, so only the target's side is checked.
  const target = await fsp.stat(s.localAt('lut-target'));
  t.same([target.atimeMs, target.mtimeMs], [100_000, 200_000]);
});

t.test('errors: NFS status, caller stack, both paths for two-path calls', async (t) => {
  await nfs.mkdir(s.at('err/full'), { recursive: true });
  await nfs.writeFile(s.at('err/full/x'), '');
  const e = (await nfs.rmdir(s.at('err/full')).catch((x: unknown) => x)) as FsError;
  t.ok(e instanceof Error);
  t.match(e, { code: 'ENOTEMPTY', errno: -osConstants.errno.ENOTEMPTY, syscall: 'rmdir', path: s.at('err/full'), nfsStatus: `${ERR}NOTEMPTY` });
  t.match(e.stack, /fs-api\.test/, "the stack reaches the caller's code");
  const r = (await nfs.rename(s.at('err/missing'), s.at('err/other')).catch((x: unknown) => x)) as FsError;
  t.match(r, { code: 'ENOENT', syscall: 'rename', path: s.at('err/missing'), dest: s.at('err/other') });
  t.equal(r.message, `ENOENT: no such file or directory, rename '${s.at('err/missing')}' -> '${s.at('err/other')}'`);
  const l = (await nfs.link(s.at('err/full/x'), s.at('err/nodir/y')).catch((x: unknown) => x)) as FsError;
  t.match(l, { code: 'ENOENT', syscall: 'link', path: s.at('err/full/x'), dest: s.at('err/nodir/y') });
});

t.test('statfs, access, realpath, readlink, lstat, lchown, opendir and close', async (t) => {
  const st = await nfs.statfs(s.dir);
  t.ok(st instanceof StatFs);
  t.equal(st.type, 0x6969, 'NFS_SUPER_MAGIC');
  const local = await fsp.statfs(s.local);
  t.ok(Math.abs(st.bsize * st.blocks - local.bsize * local.blocks) < st.bsize, 'the size of the filesystem behind the export');
  const big = await nfs.statfs(s.dir, { bigint: true });
  t.equal(big.blocks, BigInt(st.blocks));

  await nfs.writeFile(s.at('misc'), '');
  await nfs.symlink('misc', s.at('misc-link'));
  await nfs.access(s.at('misc'), constants.R_OK | constants.W_OK);
  t.equal(await nfs.realpath(s.at('misc-link')), s.at('misc'));
  t.equal(await nfs.readlink(s.at('misc-link')), 'misc');
  await nfs.lchown(s.at('misc-link'), 1234, 5678);
  t.match(await fsp.lstat(s.localAt('misc-link')), { uid: 1234, gid: 5678 });
  t.match(await fsp.stat(s.localAt('misc')), { uid: 0, gid: 0 });
  t.ok((await nfs.lstat(s.at('misc-link'))).isSymbolicLink());

  const d = tracked(await nfs.opendir(s.dir), 'Dir');
  t.equal(d.path, s.dir);
  const names: string[] = [];
  for await (const e of d) names.push(e.name);
  t.ok(names.includes('misc-link'));
  await t.rejects(d.close(), { code: 'ERR_DIR_CLOSED' }, 'iteration closed it');
  const d2 = tracked(await nfs.opendir(s.dir), 'Dir');
  await d2.read();
  await d2.close();

  const c = tracked(await connect(NFS_URL), 'NfsClient');
  await c.close();
  await c.close();
  await t.rejects(c.readdir('/'), { code: 'EBADF' });
});

t.test('the uid, gid and umask options reach the server', async (t) => {
  await nfs.mkdir(s.at('ids'));
  await nfs.chmod(s.at('ids'), 0o777);
  await nfs.mkdir(s.at('ids/root-only'), 0o755);
  const c = await connect(NFS_URL, { uid: 1000, gid: 1000, umask: 0o077 });
  t.teardown(() => c.close());
  await c.writeFile(s.at('ids/mine'), 'x');
  await c.mkdir(s.at('ids/mydir'));
  t.match(await fsp.stat(s.localAt('ids/mine')), { uid: 1000, gid: 1000, mode: 0o100600 });
  t.match(await fsp.stat(s.localAt('ids/mydir')), { uid: 1000, gid: 1000, mode: 0o40700 });
  await t.rejects(c.writeFile(s.at('ids/root-only/x'), 'x'), { code: 'EACCES', syscall: 'open' });
  await t.rejects(c.access(s.at('ids/root-only'), constants.W_OK), { code: 'EACCES' });
  await t.rejects(c.chown(s.at('ids/mine'), 0, 0), { code: 'EPERM' });
});

t.test(`FileHandle byte-range locks (${version === '3' ? 'NLM' : 'LOCK/LOCKT/LOCKU'} over v${version}): lock, getLock, unlock`, async (t) => {
  await nfs.writeFile(s.at('lockme'), 'x'.repeat(100));
  const a = await open(s.at('lockme'), 'r+');
  const b = await open(s.at('lockme'), 'r+');
  await a.lock(0, 50);
  t.match(await b.getLock(10, 5), { exclusive: true, start: 0, length: 50 }, 'the other handle sees the conflicting lock');
  await t.rejects(b.lock(10, 5), { code: 'EAGAIN', syscall: 'lock' }, 'a conflicting lock fails with EAGAIN');
  await b.lock(50, 10);
  await a.unlock(0, 50);
  t.equal(await b.getLock(0, 10), undefined, 'released');
  await t.rejects(a.lock(-1, 5), { code: 'ERR_OUT_OF_RANGE' });
  await a.close();
  await b.close();
});

t.test('every async method takes { signal }: an aborted signal rejects with AbortError before anything is sent, an abort mid-call at once', async (t) => {
  // noac: nothing answered from a cache, so every call reaches the backend and can be aborted under way.
  const c = await connect(NFS_URL, { noac: true });
  t.teardown(() => c.close());
  const calls = instrument(c);
  const d = s.at('signals');
  await c.mkdir(d);
  await c.writeFile(`${d}/f`, 'twelve bytes');
  await c.mkdir(`${d}/sub`);
  await c.symlink('f', `${d}/l`);
  const h = await c.open(`${d}/f`, 'r+');
  t.teardown(() => h.close());
  type Call = [string, (signal: AbortSignal) => Promise<unknown>];
  const clientCalls: Call[] = [
    ['stat', (signal) => c.stat(`${d}/f`, { signal })],
    ['lstat', (signal) => c.lstat(`${d}/l`, { signal })],
    ['access', (signal) => c.access(`${d}/f`, constants.R_OK, { signal })],
    ['readlink', (signal) => c.readlink(`${d}/l`, { signal })],
    ['realpath', (signal) => c.realpath(`${d}/l`, { signal })],
    ['statfs', (signal) => c.statfs(d, { signal })],
    ['chmod', (signal) => c.chmod(`${d}/f`, 0o644, { signal })],
    ['chown', (signal) => c.chown(`${d}/f`, -1, -1, { signal })],
    ['lchown', (signal) => c.lchown(`${d}/l`, -1, -1, { signal })],
    ['utimes', (signal) => c.utimes(`${d}/f`, 1, 2, { signal })],
    ['lutimes', (signal) => c.lutimes(`${d}/l`, 1, 2, { signal })],
    ['truncate', (signal) => c.truncate(`${d}/f`, 12, { signal })],
    ['mkdir', (signal) => c.mkdir(`${d}/new`, { signal })],
    ['mkdir recursive', (signal) => c.mkdir(`${d}/new2/a`, { recursive: true, signal })],
    ['rmdir', (signal) => c.rmdir(`${d}/sub`, { signal })],
    ['readdir', (signal) => c.readdir(d, { signal })],
    ['opendir', (signal) => c.opendir(d, { signal })],
    ['unlink', (signal) => c.unlink(`${d}/l`, { signal })],
    ['rm', (signal) => c.rm(`${d}/sub`, { recursive: true, signal })],
    ['rename', (signal) => c.rename(`${d}/f`, `${d}/g`, { signal })],
    ['link', (signal) => c.link(`${d}/f`, `${d}/hard`, { signal })],
    ['symlink', (signal) => c.symlink('f', `${d}/l2`, null, { signal })],
    ['open', (signal) => c.open(`${d}/f`, 'r', undefined, { signal })],
    ['readFile', (signal) => c.readFile(`${d}/f`, { signal })],
    ['writeFile', (signal) => c.writeFile(`${d}/w`, 'x', { signal })],
    ['appendFile', (signal) => c.appendFile(`${d}/w`, 'x', { signal })],
    ['copyFile', (signal) => c.copyFile(`${d}/f`, `${d}/copy`, 0, { signal })],
  ];
  const handleCalls: Call[] = [
    ['FileHandle.stat', (signal) => h.stat({ signal })],
    ['FileHandle.read', (signal) => h.read(Buffer.alloc(4), { position: 0, signal })],
    ['FileHandle.read(options)', (signal) => h.read({ buffer: Buffer.alloc(4), position: 0, signal })],
    ['FileHandle.write', (signal) => h.write(Buffer.from('t'), { position: 0, signal })],
    ['FileHandle.readFile', (signal) => h.readFile({ signal })],
    ['FileHandle.writeFile', (signal) => h.writeFile('t', { signal })],
    ['FileHandle.appendFile', (signal) => h.appendFile('t', { signal })],
    ['FileHandle.truncate', (signal) => h.truncate(12, { signal })],
    ['FileHandle.chmod', (signal) => h.chmod(0o644, { signal })],
    ['FileHandle.chown', (signal) => h.chown(-1, -1, { signal })],
    ['FileHandle.utimes', (signal) => h.utimes(1, 2, { signal })],
    ['FileHandle.sync', (signal) => h.sync({ signal })],
    ['FileHandle.datasync', (signal) => h.datasync({ signal })],
    ['FileHandle.lock', (signal) => h.lock(0, 1, { signal })],
    ['FileHandle.getLock', (signal) => h.getLock(0, 1, { signal })],
    ['FileHandle.unlock', (signal) => h.unlock(0, 1, { signal })],
    ['FileHandle.readv', (signal) => h.readv([Buffer.alloc(2)], 0, { signal })],
    ['FileHandle.writev', (signal) => h.writev([Buffer.from('t')], 0, { signal })],
  ];
  for (const [name, call] of [...clientCalls, ...handleCalls]) {
    const before = calls.count;
    await t.rejects(call(AbortSignal.abort(new Error('stop'))), { name: 'AbortError', code: 'ABORT_ERR', cause: { message: 'stop' } }, `${name}: already aborted`);
    t.equal(calls.count, before, `${name}: nothing sent`);
  }
  // Mid-call: the signal aborts as the first RPC goes out; the call rejects without waiting for the rest.
  // removePath: NFSv4's unlink in one COMPOUND, which the client uses when it has no caches.
  const kinds = ['getattr', 'lookup', 'access', 'readlink', 'statfs', 'setattr', 'mkdir', 'rmdir', 'readdir', 'remove', 'rename', 'link', 'symlink', 'create', 'read', 'write', 'commit', 'resolvePath', 'open', 'removePath'] as const;
  const hooks = calls.hook as Record<(typeof kinds)[number], ((args: unknown[]) => void) | undefined>;
  for (const [name, call] of clientCalls) {
    const ac = new AbortController();
    for (const k of kinds) hooks[k] = () => ac.abort();
    const before = calls.count;
    const p = call(ac.signal);
    await t.rejects(p, { name: 'AbortError' }, `${name}: aborted under way`);
    t.ok(calls.count > before, `${name}: it had sent a call`);
    for (const k of kinds) hooks[k] = undefined;
    // Let what was under way settle before the next case changes the directory.
    await new Promise((r) => setTimeout(r, 20));
  }
  await t.rejects(c.stat(d, { signal: 'no' as unknown as AbortSignal }), { code: 'ERR_INVALID_ARG_TYPE', message: /The "options.signal" property must be an instance of AbortSignal/ });
});

t.test('times before 1970: exact over NFSv4, the epoch over NFSv3 (as a kernel NFSv3 mount clamps them)', async (t) => {
  const f = s.at('pre1970');
  await nfs.writeFile(f, 'x');
  await nfs.utimes(f, new Date('1960-01-01T00:00:00.250Z'), new Date('1901-12-14T00:00:00Z'));
  const st = await nfs.stat(f, { bigint: true });
  if (version === '3') {
    t.equal(st.atimeNs, 0n, 'atime clamped to 1970-01-01');
    t.equal(st.mtimeNs, 0n, 'mtime clamped to 1970-01-01');
  } else {
    t.equal(st.atimeNs, BigInt(Date.parse('1960-01-01T00:00:00.250Z')) * 1_000_000n);
    t.equal(st.mtimeNs, BigInt(Date.parse('1901-12-14T00:00:00Z')) * 1_000_000n);
  }
  const h = await open(f, 'r+');
  await h.utimes(new Date(-1000), new Date(-1000));
  t.equal((await h.stat()).mtimeMs, version === '3' ? 0 : -1000, 'FileHandle.utimes too');
  await h.close();
});

t.test('FileHandle: readLines, and a warning when an unclosed handle is garbage-collected', async (t) => {
  const f = s.at('lines');
  await nfs.writeFile(f, 'a\nb\n\nc');
  const h = await open(f, 'r');
  const lines: string[] = [];
  for await (const l of h.readLines({ encoding: 'utf8' })) lines.push(l);
  t.same(lines, ['a', 'b', '', 'c']);
  t.equal(h.fd, -1, 'readLines closed the handle at the end (autoClose)');

  const { setFlagsFromString } = await import('node:v8');
  const { runInNewContext } = await import('node:vm');
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on('warning', onWarning);
  t.teardown(() => void process.off('warning', onWarning));
  let fd = -1;
  await (async () => {
    const leaked = await nfs.open(f, 'r');
    fd = leaked.fd;
  })();
  for (let i = 0; i < 50 && !warnings.some((w) => w.includes(`descriptor ${fd} `)); i++) {
    gc();
    await new Promise((r) => setTimeout(r, 10));
  }
  t.ok(warnings.includes(`Closing file descriptor ${fd} on garbage collection`), `warned: ${JSON.stringify(warnings)}`);
  const closed = await open(f, 'r');
  const closedFd = closed.fd;
  await closed.close();
  for (let i = 0; i < 5; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 10));
  }
  t.notOk(warnings.some((w) => w.includes(`descriptor ${closedFd} `)), 'no warning for a handle that was closed');
});

t.test('every public method of NfsClient, FileHandle and Dir was called', async (t) => {
  const src = (f: string) => readFileSync(fileURLToPath(new URL(`../../src/fs/${f}`, import.meta.url)), 'utf8');
  const classes: Array<[string, object, string]> = [
    ['NfsClient', NfsClient.prototype, src('client.ts')],
    ['FileHandle', FileHandle.prototype, src('file-handle.ts')],
    ['Dir', Dir.prototype, src('dir.ts')],
  ];
  for (const [cls, proto, text] of classes) {
    const privates = new Set([...text.matchAll(/^\s+private (?:readonly )?(?:async )?(?:get )?(\w+)/gm)].map((m) => m[1]));
    const members = [...Object.getOwnPropertyNames(proto), ...Object.getOwnPropertySymbols(proto).map((x) => x.toString())];
    // Symbol('mountless.*') members are the streams' internal protocol (stream-source.ts), exercised by every WriteStream test.
    const missing = members.filter((m) => m !== 'constructor' && !m.startsWith('Symbol(mountless.') && !privates.has(m) && !called.has(`${cls}.${m}`));
    t.same(missing, [], `${cls}: every public member used`);
  }
});
