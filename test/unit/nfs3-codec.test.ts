import t from 'tap';
import { XdrReader, XdrWriter } from '../../src/xdr/index.js';
import type { RpcClient } from '../../src/rpc/client.js';
import type { CallLabel } from '../../src/rpc/message.js';
import {
  decodeAccess3res,
  decodeCommit3res,
  decodeCreate3res,
  decodeFsinfo3res,
  decodeGetattr3res,
  decodeLookup3res,
  decodePathconf3res,
  decodeRead3res,
  decodeReaddir3res,
  decodeReaddirplus3res,
  decodeWrite3res,
  encodeName,
  encodeSattr3,
  ftype3,
  NFS3_ERRNO,
  nfs3Create,
  nfs3Getattr,
  nfs3Lookup,
  nfs3Mknod,
  nfs3Readdir,
  nfs3Setattr,
  nfs3Write,
  nfsstat3,
  nfsstat3Errno,
  nfsstat3Name,
  stable_how,
  type Fattr3,
  type Nfs3Fh,
} from '../../src/nfs3/index.js';

// ---- reply builders, straight from the RFC 1813 XDR ------------------------

function fattr3(over: Partial<Fattr3> = {}): Fattr3 {
  return {
    type: ftype3.NF3REG,
    mode: 0o100644,
    nlink: 1,
    uid: 1000,
    gid: 100,
    size: 12345,
    used: 16384,
    rdev: { specdata1: 0, specdata2: 0 },
    fsid: 0x1234n,
    fileid: 42n,
    atime: { seconds: 1_700_000_000, nseconds: 1 },
    mtime: { seconds: 1_700_000_001, nseconds: 999_999_999 },
    ctime: { seconds: 1_700_000_002, nseconds: 500 },
    ...over,
  };
}

function putFattr3(w: XdrWriter, a: Fattr3): void {
  w.u32(a.type).u32(a.mode).u32(a.nlink).u32(a.uid).u32(a.gid);
  w.u64(a.size).u64(a.used);
  w.u32(a.rdev.specdata1).u32(a.rdev.specdata2);
  w.u64(a.fsid).u64(a.fileid);
  for (const tm of [a.atime, a.mtime, a.ctime]) w.u32(tm.seconds).u32(tm.nseconds);
}

function putPostOpAttr(w: XdrWriter, a: Fattr3 | undefined): void {
  w.bool(a !== undefined);
  if (a) putFattr3(w, a);
}

function putWcc(w: XdrWriter, before: boolean, after: Fattr3 | undefined): void {
  w.bool(before);
  if (before) w.u64(100).u32(1).u32(2).u32(3).u32(4);
  putPostOpAttr(w, after);
}

function reader(w: XdrWriter): XdrReader {
  return new XdrReader(w.toBuffer());
}

const FH = Buffer.from('0123456789abcdef0123', 'latin1');
const VERF = Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]);

// ---- fattr3 ------------------------------------------------------------------

t.test('GETATTR: fattr3 values survive, identities above 2^53 stay exact', async (t) => {
  const big = (1n << 60n) + 7n;
  const a = fattr3({ fileid: big, fsid: (1n << 64n) - 1n, size: 2 ** 40 + 3, used: 2 ** 41, rdev: { specdata1: 8, specdata2: 1 } });
  const w = new XdrWriter();
  w.u32(nfsstat3.NFS3_OK);
  putFattr3(w, a);
  const res = decodeGetattr3res(reader(w));
  t.equal(res.ok, true);
  if (!res.ok) return;
  t.same(res.attributes, a);
  t.equal(typeof res.attributes.fileid, 'bigint');
  t.equal(res.attributes.fileid, big);
  t.equal(res.attributes.fsid, 18446744073709551615n);
  t.equal(res.attributes.size, 2 ** 40 + 3);
});

t.test('GETATTR failure arm is void; unknown status still decodes', async (t) => {
  const w = new XdrWriter();
  w.u32(nfsstat3.NFS3ERR_STALE);
  const res = decodeGetattr3res(reader(w));
  t.same(res, { ok: false, status: 70 });
  const w2 = new XdrWriter();
  w2.u32(12345);
  const res2 = decodeGetattr3res(reader(w2));
  t.equal(res2.ok, false);
  t.equal(nfsstat3Name(res2.status), 'NFS3ERR_UNKNOWN_12345');
  t.equal(nfsstat3Errno(res2.status), 'EIO');
});

t.test('invalid ftype3 is a decode error', async (t) => {
  for (const type of [0, 8, 0xffffffff]) {
    const w = new XdrWriter();
    w.u32(0);
    putFattr3(w, fattr3({ type }));
    t.throws(() => decodeGetattr3res(reader(w)), { code: 'ERR_XDR_DECODE', what: 'fattr3.type' }, `type ${type}`);
  }
});

t.test('trailing bytes after a reply are a decode error', async (t) => {
  const w = new XdrWriter();
  w.u32(0);
  putFattr3(w, fattr3());
  w.u32(0);
  t.throws(() => decodeGetattr3res(reader(w)), { code: 'ERR_XDR_DECODE', message: /trailing bytes after NFSPROC3_GETATTR reply/ });
});

// ---- LOOKUP: handles -----------------------------------------------------------

t.test('LOOKUP: handle is a copy, attributes optional, failure keeps dir attributes', async (t) => {
  const w = new XdrWriter();
  w.u32(0).opaque(FH);
  putPostOpAttr(w, fattr3());
  putPostOpAttr(w, undefined);
  const buf = w.toBuffer();
  const res = decodeLookup3res(new XdrReader(buf));
  t.equal(res.ok, true);
  if (!res.ok) return;
  t.same(res.object, FH);
  t.equal(res.dirAttributes, undefined);
  t.equal(res.objAttributes?.fileid, 42n);
  buf.fill(0xee);
  t.same(res.object, FH, 'handle does not alias the record');

  const f = new XdrWriter();
  f.u32(nfsstat3.NFS3ERR_NOENT);
  putPostOpAttr(f, fattr3({ type: ftype3.NF3DIR }));
  const fail = decodeLookup3res(reader(f));
  t.equal(fail.ok, false);
  t.equal(fail.status, 2);
  t.equal(fail.dirAttributes?.type, ftype3.NF3DIR);
});

t.test('a file handle longer than NFS3_FHSIZE is refused, both ways', async (t) => {
  const w = new XdrWriter();
  w.u32(0).opaque(Buffer.alloc(65, 1));
  putPostOpAttr(w, undefined);
  putPostOpAttr(w, undefined);
  t.throws(() => decodeLookup3res(reader(w)), { code: 'ERR_XDR_DECODE', message: /length 65 exceeds maximum 64/ });

  const w64 = new XdrWriter();
  w64.u32(0).opaque(Buffer.alloc(64, 1));
  putPostOpAttr(w64, undefined);
  putPostOpAttr(w64, undefined);
  const ok = decodeLookup3res(reader(w64));
  t.equal(ok.ok && ok.object.length, 64);

  const { rpc, calls } = fakeRpc();
  await t.rejects(nfs3Getattr(rpc, Buffer.alloc(65)), RangeError);
  await t.rejects(nfs3Getattr(rpc, Buffer.alloc(0)), RangeError);
  await t.rejects(nfs3Getattr(rpc, 'abc' as unknown as Buffer), TypeError);
  t.equal(calls.length, 0, 'nothing was sent');
});

// ---- READDIR / READDIRPLUS ---------------------------------------------------

t.test('READDIRPLUS: three entries and eof', async (t) => {
  const w = new XdrWriter();
  w.u32(0);
  putPostOpAttr(w, fattr3({ type: ftype3.NF3DIR, fileid: 1n }));
  w.fixed(VERF);
  const names = ['a', 'bcd', 'ünïcødé'];
  names.forEach((name, i) => {
    w.bool(true);
    w.u64(BigInt(100 + i)).string(name).u64(BigInt(1000 + i));
    putPostOpAttr(w, i === 1 ? undefined : fattr3({ fileid: BigInt(100 + i) }));
    w.bool(i !== 2);
    if (i !== 2) w.opaque(Buffer.from(`handle-${i}`));
  });
  w.bool(false).bool(true);
  const buf = w.toBuffer();
  const res = decodeReaddirplus3res(new XdrReader(buf));
  t.equal(res.ok, true);
  if (!res.ok) return;
  t.equal(res.eof, true);
  t.same(res.cookieverf, VERF);
  t.equal(res.dirAttributes?.fileid, 1n);
  t.same(
    res.entries.map((e) => [e.name, e.fileid, e.cookie, e.attributes?.fileid, e.handle?.toString()]),
    [
      ['a', 100n, 1000n, 100n, 'handle-0'],
      ['bcd', 101n, 1001n, undefined, 'handle-1'],
      ['ünïcødé', 102n, 1002n, 102n, undefined],
    ],
  );
  buf.fill(0);
  t.equal(res.entries[0]!.handle!.toString(), 'handle-0', 'handles are copies');
  t.same(res.cookieverf, VERF, 'cookieverf is a copy');
});

t.test('READDIR: 200 000 entries decode iteratively', async (t) => {
  const n = 200_000;
  const w = new XdrWriter(n * 32 + 64);
  w.u32(0);
  putPostOpAttr(w, undefined);
  w.fixed(VERF);
  for (let i = 0; i < n; i++) {
    w.bool(true);
    w.u64(BigInt(i + 1)).string(`f${i}`).u64(BigInt(i + 1));
  }
  w.bool(false).bool(false);
  const res = decodeReaddir3res(reader(w));
  t.equal(res.ok, true);
  if (!res.ok) return;
  t.equal(res.entries.length, n);
  t.equal(res.eof, false);
  t.equal(res.entries[n - 1]!.name, `f${n - 1}`);
  t.equal(res.entries[n - 1]!.cookie, BigInt(n));
});

t.test('READDIR: a name longer than the reply limit is refused', async (t) => {
  const w = new XdrWriter();
  w.u32(0);
  putPostOpAttr(w, undefined);
  w.fixed(VERF);
  w.bool(true).u64(1).string('x'.repeat(4097)).u64(1);
  w.bool(false).bool(true);
  t.throws(() => decodeReaddir3res(reader(w)), { code: 'ERR_XDR_DECODE', what: 'filename3' });
});

// ---- truncation at every byte ---------------------------------------------

function sampleReaddirplus(): Buffer {
  const w = new XdrWriter();
  w.u32(0);
  putPostOpAttr(w, fattr3({ type: ftype3.NF3DIR }));
  w.fixed(VERF);
  for (let i = 0; i < 2; i++) {
    w.bool(true).u64(BigInt(i)).string(`name${i}x`).u64(BigInt(i + 10));
    putPostOpAttr(w, fattr3());
    w.bool(true).opaque(FH);
  }
  w.bool(false).bool(true);
  return w.toBuffer();
}

function sampleWrite(): Buffer {
  const w = new XdrWriter();
  w.u32(0);
  putWcc(w, true, fattr3());
  w.u32(4096).u32(stable_how.FILE_SYNC).fixed(VERF);
  return w.toBuffer();
}

function sampleRead(): Buffer {
  const w = new XdrWriter();
  w.u32(0);
  putPostOpAttr(w, fattr3());
  w.u32(5).bool(true).opaque(Buffer.from('hello'));
  return w.toBuffer();
}

function sampleFsinfo(): Buffer {
  const w = new XdrWriter();
  w.u32(0);
  putPostOpAttr(w, fattr3({ type: ftype3.NF3DIR }));
  w.u32(1 << 20).u32(1 << 20).u32(4096).u32(1 << 20).u32(1 << 20).u32(4096).u32(65536);
  w.u64(2 ** 53 - 1).u32(0).u32(1).u32(0x1b);
  return w.toBuffer();
}

for (const [name, sample, decode] of [
  ['READDIRPLUS', sampleReaddirplus, decodeReaddirplus3res],
  ['WRITE', sampleWrite, decodeWrite3res],
  ['WRITE (wcc skipped)', sampleWrite, (r: XdrReader) => decodeWrite3res(r, false)],
  ['READ', sampleRead, decodeRead3res],
  ['FSINFO', sampleFsinfo, decodeFsinfo3res],
] as const) {
  t.test(`${name}: truncation at every byte is a decode error`, async (t) => {
    const buf = sample();
    t.doesNotThrow(() => decode(new XdrReader(buf)), 'the whole reply decodes');
    let failures = 0;
    for (let k = 0; k < buf.length; k++) {
      try {
        decode(new XdrReader(buf, 0, k));
        t.fail(`decoded from ${k} of ${buf.length} bytes`);
      } catch (err) {
        if ((err as { code?: string }).code === 'ERR_XDR_DECODE' && (err as Error).name === 'XdrDecodeError') failures++;
        else t.fail(`at ${k}: ${String(err)}`);
      }
    }
    t.equal(failures, buf.length);
  });
}

// ---- READ / WRITE / COMMIT ---------------------------------------------------

t.test('READ: data is a zero-copy view and count must equal its length', async (t) => {
  const buf = sampleRead();
  const res = decodeRead3res(new XdrReader(buf));
  t.equal(res.ok, true);
  if (!res.ok) return;
  t.equal(res.data.toString(), 'hello');
  t.equal(res.eof, true);
  t.equal(res.data.buffer, buf.buffer, 'a view of the record');

  const w = new XdrWriter();
  w.u32(0);
  putPostOpAttr(w, undefined);
  w.u32(6).bool(false).opaque(Buffer.from('hello'));
  t.throws(() => decodeRead3res(reader(w)), { code: 'ERR_XDR_DECODE', what: 'count' });
});

t.test('WRITE: verifier copied, committed validated; COMMIT verf', async (t) => {
  const buf = sampleWrite();
  const res = decodeWrite3res(new XdrReader(buf));
  t.equal(res.ok, true);
  if (!res.ok) return;
  t.equal(res.count, 4096);
  t.equal(res.committed, stable_how.FILE_SYNC);
  t.equal(res.fileWcc.before?.size, 100);
  t.same(res.fileWcc.before?.mtime, { seconds: 1, nseconds: 2 });
  t.same(res.verf, VERF);
  buf.fill(0);
  t.same(res.verf, VERF);

  const skipped = decodeWrite3res(new XdrReader(sampleWrite()), false);
  t.ok(skipped.ok && skipped.count === 4096 && skipped.committed === stable_how.FILE_SYNC, 'the rest decodes the same with wcc skipped');
  t.same(skipped.fileWcc, { before: undefined, after: undefined }, 'wcc_data skipped');

  const bad = new XdrWriter();
  bad.u32(0);
  putWcc(bad, false, undefined);
  bad.u32(1).u32(3).fixed(VERF);
  t.throws(() => decodeWrite3res(reader(bad)), { code: 'ERR_XDR_DECODE', what: 'committed' });

  const c = new XdrWriter();
  c.u32(0);
  putWcc(c, false, fattr3());
  c.fixed(VERF);
  const cr = decodeCommit3res(reader(c));
  t.ok(cr.ok && cr.verf.equals(VERF));

  const cf = new XdrWriter();
  cf.u32(nfsstat3.NFS3ERR_IO);
  putWcc(cf, false, undefined);
  t.same(decodeCommit3res(reader(cf)), { ok: false, status: 5, fileWcc: { before: undefined, after: undefined } });
});

t.test('CREATE result: post_op_fh3 may be absent', async (t) => {
  const w = new XdrWriter();
  w.u32(0).bool(false);
  putPostOpAttr(w, undefined);
  putWcc(w, false, fattr3({ type: ftype3.NF3DIR }));
  const res = decodeCreate3res(reader(w));
  t.equal(res.ok, true);
  t.ok(res.ok && res.obj === undefined && res.dirWcc.after?.type === ftype3.NF3DIR);
});

t.test('ACCESS and PATHCONF decode', async (t) => {
  const a = new XdrWriter();
  a.u32(0);
  putPostOpAttr(a, undefined);
  a.u32(0x3f);
  const ar = decodeAccess3res(reader(a));
  t.ok(ar.ok && ar.access === 0x3f);

  const p = new XdrWriter();
  p.u32(0);
  putPostOpAttr(p, undefined);
  p.u32(32000).u32(255).bool(true).bool(true).bool(false).bool(true);
  const pr = decodePathconf3res(reader(p));
  t.match(pr, { ok: true, linkmax: 32000, nameMax: 255, noTrunc: true, chownRestricted: true, caseInsensitive: false, casePreserving: true });

  const bb = new XdrWriter();
  bb.u32(0);
  putPostOpAttr(bb, undefined);
  bb.u32(1).u32(255).u32(2).bool(true).bool(true).bool(true);
  t.throws(() => decodePathconf3res(reader(bb)), { code: 'ERR_XDR_DECODE' }, 'boolean 2 is refused');
});

// ---- encoders ------------------------------------------------------------------

interface RecordedCall {
  label: CallLabel;
  args: Buffer;
}

/** Stands in for RpcClient: runs the encoder as call() does (a throw becomes a rejection) and records the bytes. */
function fakeRpc(): { rpc: RpcClient; calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  const fake = {
    call(label: CallLabel, encode: ((w: XdrWriter) => void) | null) {
      const w = new XdrWriter();
      try {
        if (encode) encode(w);
      } catch (err) {
        return Promise.reject(err);
      }
      calls.push({ label, args: w.toBuffer() });
      return new Promise(() => {});
    },
  };
  return { rpc: fake as unknown as RpcClient, calls };
}

t.test('encodeName refuses what must not reach the wire', async (t) => {
  const w = new XdrWriter();
  t.throws(() => encodeName(w, 'a/b'), { code: 'EINVAL' });
  t.throws(() => encodeName(w, 'a\0b'), { code: 'EINVAL' });
  t.throws(() => encodeName(w, ''), { code: 'EINVAL' });
  t.throws(() => encodeName(w, 'x'.repeat(256)), { code: 'ENAMETOOLONG', name: 'Nfs3ArgumentError' });
  t.throws(() => encodeName(w, 'é'.repeat(128)), { code: 'ENAMETOOLONG' }, '256 bytes in 128 characters');
  t.throws(() => encodeName(w, 42 as unknown as string), TypeError);
  try {
    encodeName(w, 'x'.repeat(256));
  } catch (err) {
    t.ok(err instanceof RangeError, 'a RangeError subclass');
  }
  t.equal(w.length, 0, 'nothing was written');
  encodeName(w, 'x'.repeat(255));
  t.equal(w.length, 4 + 256);

  const { rpc, calls } = fakeRpc();
  const fh = Buffer.alloc(8, 7);
  await t.rejects(nfs3Lookup(rpc, fh, '../etc'), { code: 'EINVAL' });
  await t.rejects(nfs3Create(rpc, fh, 'ok', { mode: 'EXCLUSIVE', verf: Buffer.alloc(7) }), RangeError);
  t.equal(calls.length, 0);
});

t.test('sattr3 layout: absent fields are set_it FALSE / DONT_CHANGE', async (t) => {
  const w = new XdrWriter();
  encodeSattr3(w, {});
  t.same(w.toBuffer(), Buffer.alloc(24));

  const w2 = new XdrWriter();
  encodeSattr3(w2, { mode: 0o755, size: 2n ** 40n, atime: 'server', mtime: { seconds: 10, nseconds: 20 } });
  const r = new XdrReader(w2.toBuffer());
  t.same(
    [r.u32(), r.u32(), r.u32(), r.u32(), r.u32(), r.u64(), r.u32(), r.u32(), r.u32(), r.u32()],
    [1, 0o755, 0, 0, 1, 2n ** 40n, 1, 2, 10, 20],
    'mode set, uid/gid unset, size set, atime SET_TO_SERVER_TIME, mtime SET_TO_CLIENT_TIME',
  );
  r.done();

  t.throws(() => encodeSattr3(new XdrWriter(), { mode: -1 }), RangeError);
  t.throws(() => encodeSattr3(new XdrWriter(), { uid: 2 ** 32 }), RangeError);
  t.throws(() => encodeSattr3(new XdrWriter(), { size: -1n }), RangeError);
  t.throws(() => encodeSattr3(new XdrWriter(), { mtime: { seconds: 0, nseconds: 1e9 } }), RangeError);
});

t.test('procedure stubs: labels reused, arguments laid out per RFC 1813', async (t) => {
  const { rpc, calls } = fakeRpc();
  const fh: Nfs3Fh = Buffer.from([9, 9, 9, 9, 9]);
  const payload = Buffer.alloc(5000, 0xab);
  nfs3Write(rpc, fh, 2n ** 40n, payload, stable_how.UNSTABLE);
  nfs3Write(rpc, fh, 0, Buffer.from('x'), stable_how.FILE_SYNC);
  t.equal(calls[0]!.label, calls[1]!.label, 'one label object per procedure');
  t.match(calls[0]!.label, { prog: 100003, vers: 3, proc: 7, name: 'NFSPROC3_WRITE' });
  const r = new XdrReader(calls[0]!.args);
  t.same(r.opaque(), fh);
  t.equal(r.u64(), 2n ** 40n);
  t.equal(r.u32(), 5000, 'count');
  t.equal(r.u32(), stable_how.UNSTABLE);
  t.same(r.opaque(), payload);
  r.done();
  await t.rejects(nfs3Write(rpc, fh, -1, payload, stable_how.UNSTABLE), RangeError);
  await t.rejects(nfs3Write(rpc, fh, 0, payload, 3), RangeError);

  nfs3Setattr(rpc, fh, { size: 0 }, { seconds: 5, nseconds: 6 });
  const s = new XdrReader(calls.at(-1)!.args);
  s.opaque();
  t.same([s.u32(), s.u32(), s.u32(), s.u32(), s.u64(), s.u32(), s.u32()], [0, 0, 0, 1, 0n, 0, 0]);
  t.same([s.u32(), s.u32(), s.u32()], [1, 5, 6], 'guard');
  s.done();

  nfs3Readdir(rpc, fh, 77n, VERF, 4096);
  const d = new XdrReader(calls.at(-1)!.args);
  d.opaque();
  t.equal(d.u64(), 77n);
  t.same(d.fixed(8), VERF);
  t.equal(d.u32(), 4096);
  d.done();
  await t.rejects(nfs3Readdir(rpc, fh, 1 as unknown as bigint, VERF, 4096), TypeError);

  nfs3Mknod(rpc, fh, 'dev', { type: ftype3.NF3CHR, attributes: { mode: 0o600 }, spec: { specdata1: 1, specdata2: 3 } });
  const m = new XdrReader(calls.at(-1)!.args);
  m.opaque();
  t.equal(m.string(), 'dev');
  t.equal(m.u32(), ftype3.NF3CHR);
  m.skip(4 * 7, 'sattr3'); // set_mode3 TRUE + mode, uid/gid/size FALSE, atime/mtime DONT_CHANGE
  t.same([m.u32(), m.u32()], [1, 3]);
  m.done();
  nfs3Mknod(rpc, fh, 'd', { type: ftype3.NF3DIR });
  t.equal(calls.at(-1)!.args.length, 12 + 8 + 4, 'fh, name, type: no arm for NF3DIR');

  nfs3Create(rpc, fh, 'x', { mode: 'EXCLUSIVE', verf: VERF });
  const c = new XdrReader(calls.at(-1)!.args);
  c.opaque();
  c.string();
  t.equal(c.u32(), 2);
  t.same(c.fixed(8), VERF);
  c.done();
});

// ---- status ↔ errno ----------------------------------------------------------

t.test('nfsstat3 → errno, by name', async (t) => {
  t.equal(nfsstat3.NFS3ERR_NOTEMPTY, 66);
  t.equal(nfsstat3Name(66), 'NFS3ERR_NOTEMPTY');
  t.equal(NFS3_ERRNO.NFS3ERR_NOTEMPTY, 'ENOTEMPTY');
  t.equal(nfsstat3Errno(66), 'ENOTEMPTY');
  t.equal(nfsstat3Name(63), 'NFS3ERR_NAMETOOLONG');
  t.equal(nfsstat3Errno(63), 'ENAMETOOLONG');
  t.equal(nfsstat3Errno(nfsstat3.NFS3ERR_STALE), 'ESTALE');
  t.equal(nfsstat3Errno(nfsstat3.NFS3ERR_JUKEBOX), 'EAGAIN');
  t.equal(nfsstat3Errno(nfsstat3.NFS3ERR_NOTSUPP), 'ENOTSUP');
  t.equal(nfsstat3Name(0), 'NFS3_OK');
  for (const name of Object.keys(nfsstat3)) {
    if (name === 'NFS3_OK') continue;
    t.match(NFS3_ERRNO[name], /^E[A-Z]+$/, `${name} has an errno`);
  }
  t.equal(Object.keys(NFS3_ERRNO).length, Object.keys(nfsstat3).length - 1, 'no stray entries');
});
