// The protocol-neutral core both backends share (src/core/): the READDIR
// listing guard, the I/O size rule and the stable-how table, and the
// read-only Backend layer.
import t from 'tap';
import { ListingGuard, MAX_DIR_ENTRIES, impossibleName } from '../../src/core/listing.js';
import { DEFAULT_IO_SIZE, ioSize, MAX_IO_SIZE } from '../../src/core/io-size.js';
import { DATA_SYNC, FILE_SYNC, STABLE_WIRE, stableFromWire, UNSTABLE } from '../../src/core/stable.js';
import { ReadonlyBackend } from '../../src/core/readonly.js';
import { stable_how } from '../../src/nfs3/constants.js';
import { DATA_SYNC4, FILE_SYNC4, UNSTABLE4 } from '../../src/nfs4/constants.js';
import type { Backend, LockOwner, StableHow } from '../../src/fs/backend.js';

const V4 = { op: 'OP_READDIR', badCookie: 'NFS4ERR_BAD_COOKIE', io: 'NFS4ERR_IO' };

t.test('impossible names: empty, with / or NUL', async (t) => {
  for (const n of ['', '/', 'a/b', '../x', '../../etc/passwd', '/abs', 'x\0', '\0', '..\0']) t.ok(impossibleName(n), JSON.stringify(n));
  for (const n of ['a', '.', '..', '...', '.hidden', 'a\\b', ' ', 'ü', '..x']) t.notOk(impossibleName(n), JSON.stringify(n));
});

t.test('the guard lists each name once, leaves out . and .., and refuses impossible names with the protocol status', async (t) => {
  const g = new ListingGuard(V4);
  t.same(
    [['.', 1n], ['..', 2n], ['a', 3n], ['b', 4n], ['a', 5n]].map(([n, c]) => g.entry(c as bigint, n as string)),
    [false, false, true, true, false],
  );
  g.endPage(5, false);
  t.throws(() => g.entry(6n, 'x/y'), { name: 'NfsStatusError', status: 'NFS4ERR_IO', errnoCode: 'EIO', op: 'OP_READDIR', message: /impossible name "x\/y"/ });
  const v3 = new ListingGuard({ op: 'NFSPROC3_READDIRPLUS', badCookie: 'NFS3ERR_BAD_COOKIE', io: 'NFS3ERR_IO' });
  v3.entry(1n, 'a');
  t.throws(() => v3.entry(1n, 'b'), { status: 'NFS3ERR_BAD_COOKIE', errnoCode: 'EIO', op: 'NFSPROC3_READDIRPLUS', message: /repeated a cookie/ });
});

t.test('the guard ends listings that cannot end', async (t) => {
  const empty = new ListingGuard(V4);
  t.throws(() => empty.endPage(0, false), { status: 'NFS4ERR_IO', message: /no entries and no eof/ });
  const done = new ListingGuard(V4);
  t.doesNotThrow(() => done.endPage(0, true), 'an empty directory');

  const again = new ListingGuard(V4);
  again.entry(1n, 'a');
  again.entry(2n, 'b');
  again.endPage(2, false);
  again.entry(3n, 'a');
  again.entry(4n, 'b');
  t.throws(() => again.endPage(2, false), { status: 'NFS4ERR_IO', message: /already listed/ });

  const partly = new ListingGuard(V4);
  partly.entry(1n, 'a');
  partly.endPage(1, false);
  partly.entry(2n, 'a');
  partly.entry(3n, 'c');
  t.doesNotThrow(() => partly.endPage(2, false), 'a page with one new name goes on');

  const long = new ListingGuard(V4);
  long.entry(1n, 'a');
  t.throws(() => long.endPage(MAX_DIR_ENTRIES + 1, false), { status: 'NFS4ERR_IO', message: /more than/ });
});

t.test('I/O sizes: asked, else the preference capped at 1 MiB; within the server maximum and the record limit; 4 KiB multiples', async (t) => {
  const MiB = 1024 * 1024;
  t.equal(ioSize(undefined, 64 * MiB, 64 * MiB), DEFAULT_IO_SIZE, "Ganesha's 64 MiB preference: the Linux ceiling");
  t.equal(ioSize(undefined, 256 * 1024, MiB), 256 * 1024, 'a smaller preference is kept');
  t.equal(ioSize(2 * MiB, MiB, 8 * MiB), 2 * MiB, 'asked, within the maximum');
  t.equal(ioSize(2 * MiB, MiB, MiB), MiB, 'the server maximum wins');
  t.equal(ioSize(64 * MiB, 64 * MiB, 64 * MiB), MAX_IO_SIZE, 'the record limit wins');
  t.equal(ioSize(10_000, MiB, MiB), 8192, 'rounded down to 4 KiB');
  t.equal(ioSize(100, MiB, MiB), 4096, 'at least one page');
  t.equal(ioSize(undefined, 0, 512 * 1024), 512 * 1024, 'no preference: the maximum');
  t.equal(ioSize(undefined, MiB, 0), DEFAULT_IO_SIZE, 'no maximum stated');
  t.equal(ioSize(undefined, 100_000, 100_000), 98_304, "an odd server maximum, rounded down");
});

t.test('stable_how (NFSv3) and stable_how4 (NFSv4) are one table', async (t) => {
  t.same([UNSTABLE, DATA_SYNC, FILE_SYNC], [stable_how.UNSTABLE, stable_how.DATA_SYNC, stable_how.FILE_SYNC]);
  t.same([UNSTABLE, DATA_SYNC, FILE_SYNC], [UNSTABLE4, DATA_SYNC4, FILE_SYNC4]);
  for (const how of ['unstable', 'data', 'file'] as StableHow[]) t.equal(stableFromWire(STABLE_WIRE[how]), how, how);
  t.equal(stableFromWire(7), 'unstable', 'an unknown value makes the caller COMMIT');
});

/** A Backend that records which methods were called and answers every one. */
function recording(version: string): { b: Backend; calls: string[] } {
  const calls: string[] = [];
  const attrs = { kind: 'file' } as never;
  const owner: LockOwner = {
    lock: async () => void calls.push('lock'),
    unlock: async () => void calls.push('unlock'),
    test: async () => (calls.push('test'), undefined),
    close: async () => void calls.push('lockClose'),
  };
  const rec =
    <T>(name: string, v: T) =>
    async () => (calls.push(name), v);
  const b: Backend = {
    version,
    capabilities: { openByHandle: version !== '4.0' && version !== '3', serverCopy: version === '4.2', seek: version === '4.2' },
    rootFh: Buffer.from('root'),
    limits: { rsize: 4096, wsize: 4096, dtpref: 4096, maxFileSize: 2 ** 40 },
    getattr: rec('getattr', attrs),
    setattr: rec('setattr', attrs),
    lookup: rec('lookup', { fh: Buffer.from('f') }),
    access: rec('access', 63),
    readlink: rec('readlink', 't'),
    read: rec('read', { data: Buffer.alloc(0), eof: true }),
    write: rec('write', { count: 0, committed: 'file' as StableHow, verf: Buffer.alloc(8) }),
    commit: rec('commit', Buffer.alloc(8)),
    create: rec('create', { fh: Buffer.from('f') }),
    mkdir: rec('mkdir', { fh: Buffer.from('d') }),
    symlink: rec('symlink', { fh: Buffer.from('l') }),
    remove: rec('remove', undefined),
    rmdir: rec('rmdir', undefined),
    rename: rec('rename', undefined),
    link: rec('link', undefined),
    readdir: async function* () {
      calls.push('readdir');
      yield [];
    },
    statfs: rec('statfs', {} as never),
    close: rec('close', undefined),
    resolvePath: rec('resolvePath', { fh: Buffer.from('f') }),
    open: rec('open', { fh: Buffer.from('f') }),
    closeState: rec('closeState', undefined),
    lockOwner: () => (calls.push('lockOwner'), owner),
    copy: rec('copy', { count: 0, committed: 'file' as StableHow, verf: Buffer.alloc(8) }),
    seek: rec('seek', { offset: 0, eof: true }),
    allocate: rec('allocate', undefined),
    deallocate: rec('deallocate', undefined),
  };
  return { b, calls };
}

t.test('ReadonlyBackend refuses every change with EROFS before the backend underneath sees it', async (t) => {
  for (const [version, status, prefix] of [
    ['3', 'NFS3ERR_ROFS', 'NFSPROC3_'],
    ['4.1', 'NFS4ERR_ROFS', 'OP_'],
  ] as const) {
    const { b, calls } = recording(version);
    const ro = new ReadonlyBackend(b);
    const fh = Buffer.from('f');
    const st = {} as never;
    const refused: [string, () => Promise<unknown>][] = [
      ['setattr', () => ro.setattr(fh, { mode: 0o600 })],
      ['write', () => ro.write(fh, 0, Buffer.from('x'), 'file')],
      ['commit', () => ro.commit(fh)],
      ['create', () => ro.create(fh, 'n', { mode: 'guarded', attrs: {} })],
      ['mkdir', () => ro.mkdir(fh, 'n', {})],
      ['symlink', () => ro.symlink(fh, 'n', 't', {})],
      ['remove', () => ro.remove(fh, 'n')],
      ['rmdir', () => ro.rmdir(fh, 'n')],
      ['rename', () => ro.rename(fh, 'a', fh, 'b')],
      ['link', () => ro.link(fh, fh, 'n')],
      ['open for write', () => ro.open!(fh, 'n', { read: true, write: true })],
      ['open to create', () => ro.open!(fh, 'n', { read: true, write: false, create: { mode: 'unchecked', attrs: {} } })],
      ['open to truncate', () => ro.open!(fh, 'n', { read: true, write: false, truncate: true })],
      ['exclusive lock', () => ro.lockOwner!(fh, st).lock(0, 0, { exclusive: true })],
      ['copy', () => ro.copy!(st, st, 0, 0, 1)],
      ['allocate', () => ro.allocate!(st, 0, 1)],
      ['deallocate', () => ro.deallocate!(st, 0, 1)],
    ];
    for (const [what, fn] of refused) {
      await t.rejects(fn(), { name: 'NfsStatusError', errnoCode: 'EROFS', status, op: new RegExp(what === 'exclusive lock' && version === '3' ? '^NLM4_LOCK$' : `^(${prefix}|OP_)`) }, `v${version} ${what}: EROFS`);
    }
    t.same(calls, ['lockOwner'], `v${version}: nothing but taking a lock owner reached the backend underneath`);

    calls.length = 0;
    await ro.getattr(fh);
    await ro.lookup(fh, 'n');
    await ro.access(fh, 1);
    await ro.readlink(fh);
    await ro.read(fh, 0, 1);
    for await (const _ of ro.readdir(fh, false));
    await ro.statfs(fh);
    await ro.resolvePath!(['a'], fh);
    await ro.open!(fh, 'n', { read: true, write: false });
    await ro.closeState!(st);
    await ro.seek!(st, 0, 'data');
    const owner = ro.lockOwner!(fh, st);
    await owner.lock(0, 0, { exclusive: false });
    await owner.test(0, 0, true);
    await owner.unlock(0, 0);
    await owner.close();
    await ro.close();
    t.same(
      calls,
      ['getattr', 'lookup', 'access', 'readlink', 'read', 'readdir', 'statfs', 'resolvePath', 'open', 'closeState', 'seek', 'lockOwner', 'lock', 'test', 'unlock', 'lockClose', 'close'],
      `v${version}: reads, read-only opens and shared locks pass through`,
    );
    t.equal(ro.inner, b, 'the wire backend stays reachable (metrics)');
    t.equal(ro.version, version);
  }
  const bare = recording('3').b;
  delete bare.open;
  delete bare.copy;
  const ro = new ReadonlyBackend(bare);
  t.equal(ro.open, undefined, 'optional capabilities exist exactly when the backend underneath has them');
  t.equal(ro.copy, undefined);
});
