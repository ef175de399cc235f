// Nfs4Backend against the real NFS-Ganesha started by scripts/local-nas, for
// NFSv4.0, 4.1 and 4.2: every Backend method, resolvePath, open state, locks
// between two clients, the 4.2 operations, with what reached the server's
// disk checked through MOUNTLESS_NAS_EXPORT_DIR.
//
// MOUNTLESS_NFS4_LEASE_TEST=1 also runs the lease test, which idles past the
// server's lease (60 s with local-nas's Ganesha); it runs anyway when the
// server's lease is 15 s or less.
import t, { type Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { authSys } from '../../src/rpc/auth.js';
import { NfsStatusError } from '../../src/errors.js';
import { Nfs4Backend, Nfs4LockDeniedError, Nfs4PathError, type MinorVersion, type Nfs4OpenState } from '../../src/nfs4/index.js';
import type { DirEntry, FileHandleId } from '../../src/fs/backend.js';
import { resolveOptions } from '../../src/options.js';

const url = new URL(process.env.NFS_URL || 'nfs://127.0.0.1/export');
const HOST = url.hostname;
const PORT = url.port ? Number(url.port) : 2049;
const PATH = decodeURIComponent(url.pathname) || '/';
const EXPORT_DIR = process.env.MOUNTLESS_NAS_EXPORT_DIR || '/var/tmp/mountless-nas/export';
const auth = authSys({ uid: 0, gid: 0 });

/** Options as connect() resolves them: soft, a major timeout of 30 s. */
function opts(minorVersion: MinorVersion | 'auto', extra: { rsize?: number } = {}) {
  return resolveOptions({}, { version: minorVersion === 'auto' ? '4' : `4.${minorVersion}`, nfsport: PORT, soft: true, timeo: 100, retrans: 2, ...extra });
}

function mount(minorVersion: MinorVersion | 'auto', extra: { rsize?: number } = {}): Promise<Nfs4Backend> {
  return Nfs4Backend.mount({ host: HOST, path: PATH, auth }, opts(minorVersion, extra));
}

/** Rejection of `p` as an NfsStatusError, checked for errno (and op when given). */
async function fails(t: Test, p: Promise<unknown>, errno: string, op?: string, what = `${errno}${op ? ` from ${op}` : ''}`): Promise<NfsStatusError> {
  try {
    await p;
  } catch (err) {
    t.ok(err instanceof NfsStatusError, `${what}: an NfsStatusError`);
    const e = err as NfsStatusError;
    t.equal(e.errnoCode, errno, `${what}: errno`);
    if (op) t.equal(e.op, op, `${what}: op`);
    return e;
  }
  t.fail(`${what}: expected a failure`);
  return new NfsStatusError('none', 'none', 'none');
}

async function listAll(b: Nfs4Backend, dir: FileHandleId, withAttrs: boolean): Promise<{ entries: DirEntry[]; batches: number }> {
  const entries: DirEntry[] = [];
  let batches = 0;
  for await (const batch of b.readdir(dir, withAttrs)) {
    batches++;
    entries.push(...batch);
  }
  return { entries, batches };
}

t.test('minorVersion auto picks the highest the server speaks', async (t) => {
  const b = await mount('auto');
  t.teardown(() => b.close());
  t.equal(b.version, '4.2');
  t.equal(b.rootAttrs.kind, 'directory');
});

t.test('mounting a path that does not exist names the component', async (t) => {
  const e = await fails(t, Nfs4Backend.mount({ host: HOST, path: `${PATH}/no-such-dir-${process.pid}`, auth }, opts(1)), 'ENOENT', 'OP_LOOKUP');
  t.equal((e as Nfs4PathError).component, `no-such-dir-${process.pid}`);
});

for (const minor of [0, 1, 2] as const) {
  t.test(`NFSv4.${minor}`, async (t) => {
    const b = await mount(minor);
    const name = `nfs4-${minor}-${process.pid}-${randomBytes(3).toString('hex')}`;
    const local = join(EXPORT_DIR, name);
    const at = (...p: string[]) => join(local, ...p);
    t.teardown(async () => {
      await b.close();
      await rm(local, { recursive: true, force: true });
    });
    t.equal(b.version, `4.${minor}`);
    t.equal(b.minorVersion, minor);
    t.ok(b.leaseTime > 0, `lease ${b.leaseTime} s`);
    t.ok(b.limits.rsize >= 4096 && b.limits.wsize >= 4096);

    const made = await b.mkdir(b.rootFh, name, { mode: 0o755 });
    const dir = made.fh;
    t.equal(made.attrs?.kind, 'directory');
    t.equal((await stat(local)).mode & 0o7777, 0o755, 'mkdir reached the disk with its mode');
    t.equal((await stat(local)).isDirectory(), true);

    t.test('getattr, lookup, access, statfs', async (t) => {
      await writeFile(at('seen.txt'), 'twelve bytes');
      const a = await b.getattr(dir);
      t.equal(a.kind, 'directory');
      t.equal(a.fileid, BigInt((await stat(local)).ino));
      const l = await b.lookup(dir, 'seen.txt');
      t.equal(l.attrs?.kind, 'file');
      t.equal(l.attrs?.size, 12);
      t.equal(l.attrs?.uid, 0, 'root@localdomain maps to 0');
      t.same((await b.getattr(l.fh)).fileid, BigInt((await stat(at('seen.txt'))).ino));
      const up = await b.lookup(dir, '..');
      t.same(up.fh, b.rootFh, "'..' is LOOKUPP");
      await fails(t, b.lookup(dir, 'missing'), 'ENOENT', 'OP_LOOKUP');
      t.equal(await b.access(l.fh, 0x1 | 0x4), 0x1 | 0x4, 'root may read and modify');
      const fs = await b.statfs(dir);
      t.ok(fs.totalBytes > 0 && fs.availBytes <= fs.totalBytes);
      t.ok(fs.nameMax >= 255);
      await fails(t, b.getattr(Buffer.from('not a handle at all')), minor === 0 ? 'ESTALE' : 'ESTALE', 'OP_PUTFH', 'a made-up handle');
    });

    t.test('create: unchecked, guarded, exclusive', async (t) => {
      const g = await b.create(dir, 'guarded', { mode: 'guarded', attrs: { mode: 0o640 } });
      t.equal(g.attrs?.kind, 'file');
      t.equal((await stat(at('guarded'))).mode & 0o7777, 0o640);
      await fails(t, b.create(dir, 'guarded', { mode: 'guarded', attrs: { mode: 0o640 } }), 'EEXIST', 'OP_OPEN');
      await writeFile(at('unchecked'), 'old contents');
      const u = await b.create(dir, 'unchecked', { mode: 'unchecked', attrs: { mode: 0o600 } });
      t.equal(u.attrs?.size, 12, 'UNCHECKED4 keeps an existing file');
      const verf = randomBytes(8);
      const x = await b.create(dir, 'excl', { mode: 'exclusive', verf, attrs: { mode: 0o604 } });
      const xs = await stat(at('excl'));
      t.equal(xs.mode & 0o7777, 0o604, 'attributes set after the exclusive create');
      t.ok(Math.abs(xs.mtimeMs - Date.now()) < 24 * 3600_000, 'times are real times, not the verifier');
      t.equal(x.attrs?.mode, 0o604);
      await fails(t, b.create(dir, 'excl', { mode: 'exclusive', verf: randomBytes(8), attrs: {} }), 'EEXIST', 'OP_OPEN');
      t.equal(b.openStates, 0, 'creates leave nothing open');
    });

    t.test('read, write (anonymous stateid), commit', async (t) => {
      const f = await b.create(dir, 'data.bin', { mode: 'guarded', attrs: { mode: 0o644 } });
      const payload = randomBytes(b.limits.wsize + 1000);
      let off = 0;
      while (off < payload.length) {
        const w = await b.write(f.fh, off, payload.subarray(off), 'unstable');
        t.ok(w.count > 0 && w.count <= b.limits.wsize);
        t.equal(w.verf.length, 8);
        off += w.count;
      }
      const verf = await b.commit(f.fh);
      t.equal(verf.length, 8);
      t.same(await readFile(at('data.bin')), payload, 'bytes on the server\'s disk');
      const chunks: Buffer[] = [];
      for (let pos = 0; ; ) {
        const r = await b.read(f.fh, pos, b.limits.rsize);
        chunks.push(Buffer.from(r.data));
        pos += r.data.length;
        if (r.eof || r.data.length === 0) break;
      }
      t.same(Buffer.concat(chunks), payload, 'read back');
      const w = await b.write(f.fh, 0, Buffer.from('SYNC'), 'file');
      t.equal(w.committed, 'file');
      t.equal((await readFile(at('data.bin'))).subarray(0, 4).toString(), 'SYNC');
    });

    t.test('setattr: chmod, chown, truncate, utimes', async (t) => {
      const f = await b.create(dir, 'attrs', { mode: 'guarded', attrs: { mode: 0o600 } });
      await writeFile(at('attrs'), 'some bytes here');
      let a = await b.setattr(f.fh, { mode: 0o751 });
      t.equal(a?.mode, 0o751);
      t.equal((await stat(at('attrs'))).mode & 0o7777, 0o751);
      a = await b.setattr(f.fh, { uid: 12345, gid: 54321 });
      const s = await stat(at('attrs'));
      t.same([s.uid, s.gid], [12345, 54321], 'chown reached the disk');
      t.same([a?.uid, a?.gid], [12345, 54321], 'numeric owners come back numeric');
      a = await b.setattr(f.fh, { size: 4 });
      t.equal(a?.size, 4);
      t.equal((await readFile(at('attrs'))).toString(), 'some', 'truncated with the anonymous stateid');
      await b.setattr(f.fh, { atime: { sec: 1_000_000_000, nsec: 0 }, mtime: { sec: 1_200_000_000, nsec: 500_000_000 } });
      const s2 = await stat(at('attrs'));
      t.equal(Math.round(s2.atimeMs / 1000), 1_000_000_000);
      t.equal(s2.mtimeMs, 1_200_000_000_500);
      await b.setattr(f.fh, { mtime: 'server' });
      t.ok((await stat(at('attrs'))).mtimeMs > 1_300_000_000_000, 'server time');
    });

    t.test('symlink, readlink, link, rename', async (t) => {
      const s = await b.symlink(dir, 'ln', 'target/of/link', {});
      t.equal(s.attrs?.kind, 'symlink');
      t.equal(await readlink(at('ln')), 'target/of/link');
      t.equal(await b.readlink(s.fh), 'target/of/link');
      const f = await b.create(dir, 'orig', { mode: 'guarded', attrs: { mode: 0o644 } });
      await b.link(f.fh, dir, 'hard');
      t.equal((await stat(at('orig'))).nlink, 2);
      t.equal((await stat(at('hard'))).ino, (await stat(at('orig'))).ino);
      await fails(t, b.link(f.fh, dir, 'hard'), 'EEXIST', 'OP_LINK');
      const sub = await b.mkdir(dir, 'sub', { mode: 0o700 });
      await b.rename(dir, 'orig', sub.fh, 'moved');
      t.equal((await stat(at('sub', 'moved'))).ino, (await stat(at('hard'))).ino);
      await t.rejects(stat(at('orig')));
      await fails(t, b.rename(dir, 'orig', dir, 'x'), 'ENOENT', 'OP_RENAME');
    });

    t.test('remove and rmdir refuse the wrong type, as Linux does', async (t) => {
      await mkdir(at('rd', 'full'), { recursive: true });
      await writeFile(at('rd', 'full', 'x'), 'x');
      await writeFile(at('rd', 'file'), 'x');
      await mkdir(at('rd', 'empty'));
      const rd = await b.lookup(dir, 'rd');
      await fails(t, b.remove(rd.fh, 'empty'), 'EISDIR', 'OP_REMOVE', 'remove of a directory');
      t.ok((await stat(at('rd', 'empty'))).isDirectory(), 'still there');
      await fails(t, b.rmdir(rd.fh, 'file'), 'ENOTDIR', 'OP_REMOVE', 'rmdir of a file');
      t.ok((await stat(at('rd', 'file'))).isFile(), 'still there');
      await fails(t, b.rmdir(rd.fh, 'full'), 'ENOTEMPTY', 'OP_REMOVE');
      await fails(t, b.remove(rd.fh, 'nothing'), 'ENOENT', 'OP_LOOKUP');
      await b.remove(rd.fh, 'file');
      await t.rejects(lstat(at('rd', 'file')), { code: 'ENOENT' });
      await b.rmdir(rd.fh, 'empty');
      await t.rejects(lstat(at('rd', 'empty')), { code: 'ENOENT' });
      await b.symlink(rd.fh, 'dirlink', 'full', {});
      await b.remove(rd.fh, 'dirlink');
      t.ok((await stat(at('rd', 'full'))).isDirectory(), 'removing a symlink to a directory removes the link');
    });

    t.test('readdir: cookie loop over many small replies, with and without attributes', async (t) => {
      await mkdir(at('many'));
      const names = Array.from({ length: 300 }, (_, i) => `entry-${String(i).padStart(4, '0')}-${'x'.repeat(i % 40)}`);
      await Promise.all(names.map((n) => writeFile(at('many', n), n)));
      const small = await mount(minor, { rsize: 4096 });
      t.teardown(() => small.close());
      const m = await small.lookup(dir, 'many');
      const plain = await listAll(small, m.fh, false);
      t.ok(plain.batches > 1, `${plain.batches} READDIRs`);
      t.same(plain.entries.map((e) => e.name).sort(), names);
      t.equal(new Set(plain.entries.map((e) => e.fileid)).size, 300, 'fileids');
      const full = await listAll(small, m.fh, true);
      t.same(full.entries.map((e) => e.name).sort(), names);
      const e = full.entries.find((x) => x.name === names[7])!;
      t.equal(e.attrs?.kind, 'file');
      t.equal(e.attrs?.size, names[7]!.length);
      t.equal(e.fileid, BigInt((await stat(at('many', names[7]!))).ino));
      t.ok(e.fh && (await small.getattr(e.fh)).fileid === e.fileid, 'entries carry usable handles');
      t.same((await listAll(b, (await b.mkdir(dir, 'void', {})).fh, true)).entries, [], 'empty directory');
    });

    t.test('resolvePath: a whole path in one COMPOUND', async (t) => {
      await mkdir(at('p', 'q', 'r'), { recursive: true });
      await writeFile(at('p', 'q', 'r', 'leaf'), 'leaf!');
      const before = b.stats.compounds;
      const r = await b.resolvePath([name, 'p', 'q', 'r', 'leaf']);
      t.equal(b.stats.compounds - before, 1, 'one round trip');
      t.equal(r.attrs?.size, 5);
      t.equal(r.attrs?.fileid, BigInt((await stat(at('p', 'q', 'r', 'leaf'))).ino));
      t.same(r.fh, (await b.lookup((await b.resolvePath([name, 'p', 'q', 'r'])).fh, 'leaf')).fh);
      t.same((await b.resolvePath(['', name, '.', 'p', '..', 'p', 'q'])).attrs?.fileid, BigInt((await stat(at('p', 'q'))).ino), "'' and '.' skipped, '..' walks up");
      t.same((await b.resolvePath([])).fh, b.rootFh);
      const from = await b.resolvePath(['q', 'r'], (await b.lookup(dir, 'p')).fh);
      t.equal(from.attrs?.kind, 'directory', 'from a given start handle');

      let e = await fails(t, b.resolvePath([name, 'p', 'nope', 'leaf']), 'ENOENT', 'OP_LOOKUP');
      t.ok(e instanceof Nfs4PathError);
      t.equal((e as Nfs4PathError).index, 2, 'names the failing component');
      t.equal((e as Nfs4PathError).component, 'nope');
      e = await fails(t, b.resolvePath([name, 'p', 'q', 'r', 'leaf', 'deeper']), 'ENOTDIR', 'OP_LOOKUP');
      t.equal((e as Nfs4PathError).index, 5);
      t.equal((e as Nfs4PathError).symlink, undefined, 'a file, not a symlink');

      await b.symlink((await b.resolvePath([name, 'p'])).fh, 'jump', 'q/r', {});
      const last = await b.resolvePath([name, 'p', 'jump']);
      t.equal(last.attrs?.kind, 'symlink', 'a final symlink is not followed');
      e = await fails(t, b.resolvePath([name, 'p', 'jump', 'leaf']), 'ELOOP', 'OP_LOOKUP');
      const link = (e as Nfs4PathError).symlink;
      t.ok(link, 'symlink in the middle is described');
      t.equal(link?.index, 2);
      t.equal(link?.target, 'q/r');
      t.equal(link?.attrs.kind, 'symlink');
      t.same(link?.dirFh, (await b.resolvePath([name, 'p'])).fh, 'with the directory holding it');
      const cont = await b.resolvePath(['q', 'r', 'leaf'], link!.dirFh);
      t.equal(cont.attrs?.size, 5, 'the fs layer can read on from there');

      const deep = Array.from({ length: 150 }, () => 'd');
      await mkdir(at(...deep), { recursive: true });
      const d = await b.resolvePath([name, ...deep]);
      t.equal(d.attrs?.fileid, BigInt((await stat(at(...deep))).ino), 'longer than one COMPOUND allows: chained');
    });

    t.test('open state: open, read and write with real stateids, close', async (t) => {
      const st = await b.open(dir, 'opened', { read: true, write: true, create: { mode: 'guarded', attrs: { mode: 0o600 } } });
      t.equal(b.openStates, 1);
      t.equal(st.attrs?.kind, 'file');
      t.equal(st.stateid.other.length, 12);
      t.not(st.stateid.other.toString('hex'), '0'.repeat(24), 'a real stateid');
      await b.write(st.fh, 0, Buffer.from('stateful bytes'), 'file', undefined, st);
      t.equal(await readFile(at('opened'), 'utf8'), 'stateful bytes');
      t.equal((await b.read(st.fh, 0, 100, undefined, st)).data.toString(), 'stateful bytes');
      await b.setattr(st.fh, { size: 8 }, undefined, st);
      t.equal(await readFile(at('opened'), 'utf8'), 'stateful');
      await b.closeState(st);
      t.equal(b.openStates, 0);
      await b.closeState(st);
      t.pass('closing twice is harmless');
      await fails(t, b.read(st.fh, 0, 10, undefined, st.stateid), 'EIO', 'OP_READ', 'a closed stateid');

      const ro = await b.open(dir, 'opened', { read: true, write: false });
      t.equal((await b.read(ro.fh, 0, 100, undefined, ro)).data.toString(), 'stateful');
      await fails(t, b.write(ro.fh, 0, Buffer.from('x'), 'file', undefined, ro), 'EBADF', 'OP_WRITE', 'writing through a read-only open');
      await b.closeState(ro);

      const tr = await b.open(dir, 'opened', { read: false, write: true, truncate: true });
      t.equal(tr.attrs?.size, 0, 'truncated on open');
      t.equal((await stat(at('opened'))).size, 0);
      await b.closeState(tr);
      await writeFile(at('recreated'), 'old contents');
      const ct = await b.open(dir, 'recreated', { read: true, write: true, create: { mode: 'unchecked', attrs: { mode: 0o600 } }, truncate: true });
      t.equal(ct.attrs?.size, 0, "O_CREAT|O_TRUNC of an existing file truncates it");
      t.equal((await stat(at('recreated'))).size, 0);
      await b.closeState(ct);
      await fails(t, b.open(dir, 'absent', { read: true, write: false }), 'ENOENT', 'OP_OPEN');

      if (minor === 0) {
        await fails(t, b.open(tr.fh, undefined, { read: true, write: false }), 'EINVAL', 'OP_OPEN', '4.0 cannot open by handle');
      } else {
        const byFh = await b.open(tr.fh, undefined, { read: true, write: true });
        await b.write(byFh.fh, 0, Buffer.from('claim fh'), 'file', undefined, byFh);
        await b.closeState(byFh);
        t.equal(await readFile(at('opened'), 'utf8'), 'claim fh', 'CLAIM_FH');
      }
      // Opens left open are closed by close().
      const left = await b.open(dir, 'opened', { read: true, write: false });
      t.equal(b.openStates, 1);
      void left;
    });

    t.test('locks: two clients contend for one range', async (t) => {
      await writeFile(at('locked'), Buffer.alloc(1000));
      const other = await mount(minor);
      t.teardown(() => other.close());
      t.not(other.clientid, b.clientid, 'two client owners in one process');
      const mine = await b.open(dir, 'locked', { read: true, write: true });
      const theirs = await other.open(dir, 'locked', { read: true, write: true });
      t.teardown(async () => {
        await b.closeState(mine);
        await other.closeState(theirs);
      });

      await b.lock(mine, 0, 100, { exclusive: true });
      const denied = await fails(t, other.lock(theirs, 50, 10, { exclusive: true }), 'EAGAIN', 'OP_LOCK', 'exclusive conflict');
      t.ok(denied instanceof Nfs4LockDeniedError);
      const c = (denied as Nfs4LockDeniedError).conflict;
      t.same(c && [c.exclusive, c.start, c.length], [true, 0, 100], 'the conflicting lock');
      t.equal(c?.clientid, b.clientid, 'held by the other client');
      await fails(t, other.lock(theirs, 99, 1, { exclusive: false }), 'EAGAIN', 'OP_LOCK', 'shared vs exclusive');
      const probe = await other.testLock(theirs, 0, 0, false);
      t.same(probe && [probe.exclusive, probe.start, probe.length], [true, 0, 100], 'LOCKT sees the holder');
      t.equal(await other.testLock(theirs, 100, 50, true), undefined, 'outside the range: free');
      await other.lock(theirs, 100, 50, { exclusive: true });
      t.pass('a disjoint range is granted');
      await b.lock(mine, 0, 100, { exclusive: true });
      t.pass('re-locking our own range is fine');

      let granted = false;
      const waiter = other.lock(theirs, 0, 100, { exclusive: true, wait: true }).then(() => {
        granted = true;
      });
      // The holder still holds: a LOCKT round trip later the waiter must still wait.
      t.ok(await other.testLock(theirs, 0, 100, true), 'still held');
      t.equal(granted, false, 'mutual exclusion: the waiter waits');
      await b.unlock(mine, 0, 100);
      await waiter;
      t.equal(granted, true, 'the waiter gets the lock after unlock');
      await fails(t, b.lock(mine, 10, 1, { exclusive: false }), 'EAGAIN', 'OP_LOCK', 'now the first client is locked out');

      const ac = new AbortController();
      const aborted = b.lock(mine, 0, 10, { exclusive: true, wait: true, signal: ac.signal });
      ac.abort();
      await t.rejects(aborted, { name: 'AbortError' }, 'a wait can be aborted');

      await other.unlock(theirs, 0, 0);
      await b.lock(mine, 0, 0, { exclusive: false });
      await other.lock(theirs, 0, 0, { exclusive: false });
      t.pass('shared locks coexist');
      await other.closeState(theirs);
      await b.unlock(mine, 0, 0);
      await b.lock(mine, 0, 0, { exclusive: true });
      t.pass('closing an open releases its locks');
    });

    t.test('NFSv4.2 COPY, SEEK, ALLOCATE, DEALLOCATE: the effect, or a clean ENOTSUP', async (t) => {
      const src = await b.open(dir, 'src', { read: true, write: true, create: { mode: 'guarded', attrs: { mode: 0o644 } } });
      const dst = await b.open(dir, 'dst', { read: true, write: true, create: { mode: 'guarded', attrs: { mode: 0o644 } } });
      t.teardown(async () => {
        await b.closeState(src);
        await b.closeState(dst);
      });
      const body = randomBytes(100_000);
      await b.write(src.fh, 0, body, 'file', undefined, src);
      await b.write(src.fh, 3 << 20, Buffer.from('tail'), 'file', undefined, src);

      const notsup = async (what: string, p: Promise<unknown>): Promise<boolean> => {
        try {
          await p;
          return false;
        } catch (err) {
          t.equal((err as NfsStatusError).errnoCode, 'ENOTSUP', `${what}: ENOTSUP`);
          t.ok(err instanceof NfsStatusError, `${what}: an NfsStatusError`);
          return true;
        }
      };

      let copied: { count: number } | undefined;
      if (!(await notsup('COPY', b.copy(src, dst, 0, 0, body.length).then((r) => (copied = r))))) {
        t.ok(copied!.count > 0 && copied!.count <= body.length);
        t.same((await readFile(at('dst'))).subarray(0, copied!.count), body.subarray(0, copied!.count), 'copied server-side');
      }

      let hole: { offset: number } | undefined;
      if (!(await notsup('SEEK', b.seek(src, 0, 'hole').then((r) => (hole = r))))) {
        t.ok(hole!.offset >= body.length - 4096 && hole!.offset < 3 << 20, `first hole at ${hole!.offset}`);
        t.equal((await b.seek(src, 1 << 20, 'data')).offset, 3 << 20, 'next data after the hole');
        await fails(t, b.seek(src, (3 << 20) + 100, 'data'), 'ENXIO', 'OP_SEEK', 'SEEK_DATA past the end');
      }

      const blocks = async () => (await stat(at('dst'))).blocks;
      const before = await blocks();
      if (!(await notsup('ALLOCATE', b.allocate(dst, 0, 1 << 20)))) {
        t.ok((await blocks()) * 512 >= 1 << 20, 'space reserved on disk');
        t.ok((await blocks()) > before);
      }
      await b.write(dst.fh, 0, Buffer.alloc(256 << 10, 0xaa), 'file', undefined, dst);
      const full = await blocks();
      if (!(await notsup('DEALLOCATE', b.deallocate(dst, 0, 128 << 10)))) {
        t.ok((await blocks()) < full, 'blocks freed');
        const back = await readFile(at('dst'));
        t.ok(back.subarray(0, 128 << 10).every((x) => x === 0), 'the hole reads as zeros');
        t.equal(back[(128 << 10) + 1], 0xaa, 'the rest is intact');
      }
      if (minor < 2) t.pass(`NFSv4.${minor} answers ENOTSUP without asking the server`);
    });
  });
}

const LEASE = await mount(1).then(async (b) => {
  await b.close();
  return b.leaseTime;
});
const leaseSkip =
  LEASE > 15 && process.env.MOUNTLESS_NFS4_LEASE_TEST !== '1'
    ? `the server's lease is ${LEASE} s; set MOUNTLESS_NFS4_LEASE_TEST=1 to idle that long (the renewal logic is unit-tested with a fake clock)`
    : false;

t.test('lease renewal keeps idle opens and locks valid past the lease (4.0, 4.1, 4.2 at once)', { skip: leaseSkip }, async (t) => {
  const bs = await Promise.all(([0, 1, 2] as const).map((m) => mount(m)));
  t.teardown(() => Promise.all(bs.map((b) => b.close())));
  const lease = Math.max(...bs.map((b) => b.leaseTime));
  const name = `nfs4-lease-${process.pid}-${randomBytes(3).toString('hex')}`;
  t.teardown(() => rm(join(EXPORT_DIR, name), { recursive: true, force: true }));
  const dir = (await bs[0]!.mkdir(bs[0]!.rootFh, name, { mode: 0o777 })).fh;
  const opened = await Promise.all(
    bs.map(async (b, m) => {
      const st = await b.open(dir, `idle-${m}`, { read: true, write: true, create: { mode: 'guarded', attrs: { mode: 0o644 } } });
      await b.lock(st, 0, 10, { exclusive: true });
      return { b, st, renewals: b.stats.renewals };
    }),
  );
  await new Promise((r) => setTimeout(r, (lease * 1.5 + 2) * 1000));
  for (const [m, { b, st, renewals }] of opened.entries()) {
    t.ok(b.stats.renewals > renewals, `4.${m}: ${b.stats.renewals - renewals} renewals while idle`);
    await b.write(st.fh, 0, Buffer.from('still open'), 'file', undefined, st);
    t.equal((await b.read(st.fh, 0, 100, undefined, st)).data.toString(), 'still open', `4.${m}: the open's stateid still works`);
    const other = await mount(m as MinorVersion);
    const theirs = await other.open(dir, `idle-${m}`, { read: true, write: true });
    await fails(t, other.lock(theirs, 0, 10, { exclusive: true }), 'EAGAIN', 'OP_LOCK', `4.${m}: the idle lock is still held`);
    await other.closeState(theirs);
    await other.close();
    await b.closeState(st);
  }
});
