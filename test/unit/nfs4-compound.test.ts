// COMPOUND encoding and op-by-op result decoding, against replies built by hand.
import t from 'tap';
import { XdrReader, XdrWriter } from '../../src/xdr/index.js';
import { NfsStatusError } from '../../src/errors.js';
import {
  ANONYMOUS_STATEID,
  bitmap4,
  bitmap4Bytes,
  decodeCompound,
  decodeLed,
  encodeCompound,
  FATTR4_SIZE,
  FATTR4_TYPE,
  Nfs4OpError,
  NF4DIR,
  nfsstat4,
  okResults,
  opAccess,
  opGetattr,
  opGetfh,
  opLock,
  opLookup,
  opOpen,
  opPutfh,
  opRead,
  opReaddir,
  opSeek,
  opSequence,
  opSetattr,
  opWrite,
  OP_ACCESS,
  OP_GETATTR,
  OP_GETFH,
  OP_ILLEGAL,
  OP_LOCK,
  OP_LOOKUP,
  OP_OPEN,
  OP_PUTFH,
  OP_READ,
  OP_READDIR,
  OP_SEEK,
  OP_SEQUENCE,
  OP_SETATTR,
  OP_WRITE,
  CLAIM_NULL,
  GUARDED4,
  WRITE_LT,
  type AnyOp,
} from '../../src/nfs4/index.js';

const FH = Buffer.from('0123456789abcdef', 'hex');
const STAT = bitmap4Bytes(bitmap4(FATTR4_TYPE, FATTR4_SIZE));

function encode(tag: string, minor: number, ops: readonly AnyOp[]): XdrReader {
  const w = new XdrWriter();
  encodeCompound(w, tag, minor, ops);
  return new XdrReader(w.toBuffer());
}

/** COMPOUND4res: status, tag, then [resop, status, body] per result. */
function reply(status: number, results: [number, number, ((w: XdrWriter) => void)?][], tag = 't'): XdrReader {
  const w = new XdrWriter();
  w.u32(status).string(tag).u32(results.length);
  for (const [op, st, body] of results) {
    w.u32(op).u32(st);
    body?.(w);
  }
  return new XdrReader(w.toBuffer());
}

const fattrTypeSize = (w: XdrWriter) => {
  w.u32(1).u32((1 << FATTR4_TYPE) | (1 << FATTR4_SIZE));
  w.opaque(new XdrWriter().u32(NF4DIR).u64(4096).toBuffer());
};

t.test('COMPOUND4args: tag, minorversion, then opnum + args per op', async (t) => {
  const r = encode('lookup', 1, [opPutfh(FH), opLookup('a b'), opGetfh(), opGetattr(STAT)]);
  t.equal(r.string(), 'lookup');
  t.equal(r.u32(), 1);
  t.equal(r.u32(), 4);
  t.equal(r.u32(), OP_PUTFH);
  t.same([...r.opaque()], [...FH]);
  t.equal(r.u32(), OP_LOOKUP);
  t.equal(r.string(), 'a b');
  t.equal(r.u32(), OP_GETFH);
  t.equal(r.u32(), OP_GETATTR);
  t.same(r.count(8, 4), 1);
  t.equal(r.u32(), (1 << FATTR4_TYPE) | (1 << FATTR4_SIZE));
  r.done();
});

t.test('args that change between attempts are read when encoded', async (t) => {
  let seqid = 7;
  const open = opOpen({
    seqid: () => seqid,
    shareAccess: 3,
    shareDeny: 0,
    owner: { clientid: 5n, owner: Buffer.from('o') },
    how: { create: true, mode: GUARDED4, attrs: { mode: 0o600 } },
    claim: { claim: CLAIM_NULL, name: 'f' },
  });
  const first = encode('', 0, [open]);
  seqid = 8;
  const second = encode('', 0, [open]);
  for (const [r, want] of [
    [first, 7],
    [second, 8],
  ] as const) {
    r.string();
    r.u32();
    r.u32();
    t.equal(r.u32(), OP_OPEN);
    t.equal(r.u32(), want, 'seqid');
  }
});

t.test('argument checks happen before anything is sent', async (t) => {
  t.throws(() => opLookup(''), RangeError);
  t.throws(() => encode('', 0, [opPutfh(Buffer.alloc(129))]), RangeError);
  t.throws(() => encode('', 0, [opPutfh(Buffer.alloc(0))]), RangeError);
  t.throws(() => encode('', 0, [opRead({ seqid: 0, other: Buffer.alloc(11) }, 0, 1)]), RangeError);
  t.throws(() => opRead(ANONYMOUS_STATEID, -1, 1), RangeError);
});

t.test('a successful COMPOUND decodes every result by its op', async (t) => {
  const ops = [opPutfh(FH), opLookup('x'), opGetfh(), opGetattr(STAT), opAccess(0x3f)] as const;
  const res = decodeCompound(
    reply(0, [
      [OP_PUTFH, 0],
      [OP_LOOKUP, 0],
      [OP_GETFH, 0, (w) => w.opaque(Buffer.from([9, 9]))],
      [OP_GETATTR, 0, fattrTypeSize],
      [OP_ACCESS, 0, (w) => w.u32(0x3f).u32(0x03)],
    ]),
    ops,
  );
  t.equal(res.failure, undefined);
  const [, , fh, attrs, access] = okResults(res);
  t.same([...fh], [9, 9]);
  t.equal(attrs.type, NF4DIR);
  t.equal(attrs.size, 4096);
  t.same(access, { supported: 0x3f, access: 3 });
  t.same(res.statuses, [0, 0, 0, 0, 0]);
});

t.test('the first failing op is reported by name and mapped to errno by name', async (t) => {
  const ops = [opPutfh(FH), opLookup('missing'), opGetfh(), opGetattr(STAT)] as const;
  const res = decodeCompound(
    reply(nfsstat4.NFS4ERR_NOENT, [
      [OP_PUTFH, 0],
      [OP_LOOKUP, nfsstat4.NFS4ERR_NOENT],
    ]),
    ops,
  );
  t.same(res.failure, { index: 1, opnum: OP_LOOKUP, op: 'OP_LOOKUP', status: nfsstat4.NFS4ERR_NOENT });
  t.equal(res.results[2], undefined);
  const err = t.throws(() => okResults(res)) as Nfs4OpError;
  t.ok(err instanceof NfsStatusError, 'what the fs layer converts');
  t.equal(err.status, 'NFS4ERR_NOENT');
  t.equal(err.errnoCode, 'ENOENT');
  t.equal(err.op, 'OP_LOOKUP');
  t.equal(err.failure.index, 1);
});

t.test('failure arms with a body are decoded: LOCK denied, SETATTR attrsset', async (t) => {
  const lock = opLock(WRITE_LT, false, 0n, 10n, { newLockOwner: false, lockStateid: () => ANONYMOUS_STATEID, lockSeqid: () => 0 });
  const res = decodeCompound(
    reply(nfsstat4.NFS4ERR_DENIED, [
      [OP_PUTFH, 0],
      [OP_LOCK, nfsstat4.NFS4ERR_DENIED, (w) => w.u64(5n).u64(0xffff_ffff_ffff_ffffn).u32(WRITE_LT).u64(77n).opaque(Buffer.from('other'))],
    ]),
    [opPutfh(FH), lock],
  );
  t.equal(res.failure?.status, nfsstat4.NFS4ERR_DENIED);
  t.same(res.failure?.detail, { offset: 5n, length: 0xffff_ffff_ffff_ffffn, locktype: WRITE_LT, owner: { clientid: 77n, owner: Buffer.from('other') } });

  const sa = decodeCompound(
    reply(nfsstat4.NFS4ERR_PERM, [
      [OP_PUTFH, 0],
      [OP_SETATTR, nfsstat4.NFS4ERR_PERM, (w) => w.u32(1).u32(1 << 4)],
    ]),
    [opPutfh(FH), opSetattr(ANONYMOUS_STATEID, { size: 0 })],
  );
  t.same(sa.failure?.detail, [1 << 4]);
});

t.test('OP_ILLEGAL in place of an op the server does not know', async (t) => {
  const res = decodeCompound(
    reply(nfsstat4.NFS4ERR_OP_ILLEGAL, [
      [OP_PUTFH, 0],
      [OP_ILLEGAL, nfsstat4.NFS4ERR_OP_ILLEGAL],
    ]),
    [opPutfh(FH), opSeek(ANONYMOUS_STATEID, 0, 0)],
  );
  t.same(res.failure, { index: 1, opnum: OP_SEEK, op: 'OP_SEEK', status: nfsstat4.NFS4ERR_OP_ILLEGAL });
  t.equal(new Nfs4OpError(res.failure!).errnoCode, 'ENOTSUP', 'callers fall back on ENOTSUP');
});

t.test('a COMPOUND-level failure with no results (minor version mismatch)', async (t) => {
  const res = decodeCompound(reply(nfsstat4.NFS4ERR_MINOR_VERS_MISMATCH, []), [opPutfh(FH)]);
  t.same(res.failure, { index: 0, opnum: -1, op: 'NFSPROC4_COMPOUND', status: nfsstat4.NFS4ERR_MINOR_VERS_MISMATCH });
});

t.test('replies that break the rules are decode errors', async (t) => {
  const ops = [opPutfh(FH), opGetfh()] as const;
  t.throws(() => decodeCompound(reply(0, [[OP_PUTFH, 0], [OP_LOOKUP, 0]]), ops), /OP_LOOKUP, but OP_GETFH was sent/);
  t.throws(() => decodeCompound(reply(0, [[OP_PUTFH, 0]]), ops), /NFS4_OK with 1 results for 2 ops/);
  t.throws(
    () =>
      decodeCompound(
        reply(nfsstat4.NFS4ERR_IO, [
          [OP_PUTFH, nfsstat4.NFS4ERR_IO],
          [OP_GETFH, 0, (w) => w.opaque(FH)],
        ]),
        ops,
      ),
    /failed but 1 more results follow/,
  );
  t.throws(() => decodeCompound(reply(0, [[OP_PUTFH, 0], [OP_GETFH, 0, (w) => w.opaque(FH)], [OP_GETFH, 0, (w) => w.opaque(FH)]]), ops), { code: 'ERR_XDR_DECODE' }, 'more results than ops');
  const trailing = new XdrWriter().u32(0).string('').u32(1).u32(OP_PUTFH).u32(0).u32(0xdead).toBuffer();
  t.throws(() => decodeCompound(new XdrReader(trailing), [opPutfh(FH)]), /trailing/);
  const hugeCount = new XdrWriter().u32(0).string('').u32(0x7fff_ffff).toBuffer();
  t.throws(() => decodeCompound(new XdrReader(hugeCount), [opPutfh(FH)]), { code: 'ERR_XDR_DECODE' });
});

t.test('READ data is a view bounded by the count asked for', async (t) => {
  const ok = decodeCompound(reply(0, [[OP_PUTFH, 0], [OP_READ, 0, (w) => w.bool(true).opaque(Buffer.from('abc'))]]), [opPutfh(FH), opRead(ANONYMOUS_STATEID, 0, 3)]);
  t.same(okResults(ok)[1], { eof: true, data: Buffer.from('abc') });
  t.throws(
    () => decodeCompound(reply(0, [[OP_PUTFH, 0], [OP_READ, 0, (w) => w.bool(false).opaque(Buffer.from('abcd'))]]), [opPutfh(FH), opRead(ANONYMOUS_STATEID, 0, 3)]),
    { code: 'ERR_XDR_DECODE' },
  );
});

t.test('WRITE: a count beyond what was sent is refused', async (t) => {
  const data = Buffer.from('hello');
  const w = (count: number) => (x: XdrWriter) => x.u32(count).u32(2).fixed(Buffer.alloc(8, 1));
  const ok = decodeCompound(reply(0, [[OP_PUTFH, 0], [OP_WRITE, 0, w(5)]]), [opPutfh(FH), opWrite(ANONYMOUS_STATEID, 0, 2, data)]);
  t.same(okResults(ok)[1], { count: 5, committed: 2, verf: Buffer.alloc(8, 1) });
  t.throws(() => decodeCompound(reply(0, [[OP_PUTFH, 0], [OP_WRITE, 0, w(6)]]), [opPutfh(FH), opWrite(ANONYMOUS_STATEID, 0, 2, data)]), /claims 6 bytes/);
});

t.test('READDIR entries are read iteratively with their attributes', async (t) => {
  const n = 5000;
  const body = (w: XdrWriter) => {
    w.fixed(Buffer.alloc(8, 7));
    for (let i = 0; i < n; i++) {
      w.bool(true).u64(BigInt(i + 3)).string(`f${i}`);
      fattrTypeSize(w);
    }
    w.bool(false).bool(true);
  };
  const res = decodeCompound(reply(0, [[OP_PUTFH, 0], [OP_READDIR, 0, body]]), [opPutfh(FH), opReaddir(0n, Buffer.alloc(8), 1024, 65536, STAT)]);
  const [, d] = okResults(res);
  t.equal(d.entries.length, n);
  t.equal(d.entries[4999]!.name, 'f4999');
  t.equal(d.entries[0]!.cookie, 3n);
  t.equal(d.entries[0]!.attrs.type, NF4DIR);
  t.ok(d.eof);
  t.same([...d.cookieverf], [7, 7, 7, 7, 7, 7, 7, 7]);
});

t.test('a lead op (SEQUENCE) is encoded first and its result kept apart', async (t) => {
  const seq = opSequence({ sessionid: Buffer.alloc(16, 7), sequenceid: 9, slotid: 2, highestSlotid: 3, cachethis: false });
  const w = new XdrWriter();
  encodeCompound(w, 'read', 1, [opPutfh(FH)], seq);
  const r = new XdrReader(w.toBuffer());
  t.equal(r.string(), 'read');
  t.equal(r.u32(), 1);
  t.equal(r.u32(), 2, 'the lead counts as an op');
  t.equal(r.u32(), OP_SEQUENCE);
  r.fixed(16);
  t.same([r.u32(), r.u32(), r.u32(), r.bool()], [9, 2, 3, false]);
  t.equal(r.u32(), OP_PUTFH);

  const seqOk = (x: XdrWriter) => x.fixed(Buffer.alloc(16, 7)).u32(9).u32(2).u32(3).u32(5).u32(0);
  const ok = decodeLed(reply(0, [[OP_SEQUENCE, 0, seqOk], [OP_PUTFH, 0], [OP_READ, 0, (x) => x.bool(true).opaque(Buffer.from('ab'))]], 'read'), seq, [opPutfh(FH), opRead(ANONYMOUS_STATEID, 0, 2)], false, 'read');
  t.equal(ok.leadStatus, 0);
  t.same(ok.leadResult, { sequenceid: 9, slotid: 2, highestSlotid: 3, targetHighestSlotid: 5, statusFlags: 0 });
  t.same(ok.statuses, [0, 0], 'statuses of the caller\'s ops only');
  t.equal((ok.results[1] as { data: Buffer }).data.toString(), 'ab');
  t.equal(ok.failure, undefined);
  t.equal(ok.tag, 'read');

  const seqBad = decodeLed(reply(nfsstat4.NFS4ERR_BADSESSION, [[OP_SEQUENCE, nfsstat4.NFS4ERR_BADSESSION]]), seq, [opPutfh(FH)], false, 'x');
  t.equal(seqBad.leadStatus, nfsstat4.NFS4ERR_BADSESSION);
  t.same(seqBad.statuses, []);
  t.same(seqBad.failure, { index: -1, opnum: OP_SEQUENCE, op: 'OP_SEQUENCE', status: nfsstat4.NFS4ERR_BADSESSION }, 'a failing lead is index -1');

  const opBad = decodeLed(reply(nfsstat4.NFS4ERR_STALE, [[OP_SEQUENCE, 0, seqOk], [OP_PUTFH, nfsstat4.NFS4ERR_STALE]]), seq, [opPutfh(FH), opGetfh()], false, 'x');
  t.same(opBad.statuses, [nfsstat4.NFS4ERR_STALE]);
  t.same(opBad.failure, { index: 0, opnum: OP_PUTFH, op: 'OP_PUTFH', status: nfsstat4.NFS4ERR_STALE });

  const before = decodeLed(reply(nfsstat4.NFS4ERR_MINOR_VERS_MISMATCH, []), seq, [opPutfh(FH)], false, 'x');
  t.equal(before.leadStatus, undefined, 'the COMPOUND failed before the lead ran');
  t.same(before.failure, { index: -1, opnum: -1, op: 'NFSPROC4_COMPOUND', status: nfsstat4.NFS4ERR_MINOR_VERS_MISMATCH });

  t.throws(() => decodeLed(reply(0, [[OP_PUTFH, 0], [OP_PUTFH, 0]]), seq, [opPutfh(FH)], false, 'x'), /result 0 is for OP_PUTFH, but OP_SEQUENCE was sent/);
  const longTag = new XdrWriter().u32(0).u32(0xffff_fff0).toBuffer();
  t.throws(() => decodeCompound(new XdrReader(longTag), [opPutfh(FH)]), { code: 'ERR_XDR_DECODE' }, 'a tag longer than the limit');
});

t.test('LOOKUP names encode as component4 strings, kept or not', async (t) => {
  // Lengths around the padding boundary, multi-byte UTF-8, and more names than are kept at once.
  const names = ['a', 'ab', 'abc', 'abcd', 'abcde', 'f\u00e9', '\u{1f600}x', 'x'.repeat(255)];
  for (let i = 0; i < 5000; i++) names.push(`f${i}`);
  for (const round of [1, 2]) {
    for (const name of names) {
      const w = new XdrWriter();
      opLookup(name).encode(w);
      const want = new XdrWriter().string(name).toBuffer();
      if (!w.toBuffer().equals(want)) {
        t.fail(`round ${round}: LOOKUP '${name}' encodes as ${w.toBuffer().toString('hex')}, want ${want.toString('hex')}`);
        return;
      }
    }
  }
  t.pass(`${names.length} names, twice, each as XdrWriter.string encodes it`);
});
