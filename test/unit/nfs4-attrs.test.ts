// bitmap4 and fattr4 codec: requests, replies built by hand from the RFC 7530 XDR.
import t, { type Test } from 'tap';
import { XdrReader, XdrWriter } from '../../src/xdr/index.js';
import {
  attrList,
  bitmap4,
  bitmap4Bytes,
  decodeAttrs,
  decodeBitmap4,
  decodeFattr4,
  encodeSetAttrs,
  fattr4ToAttrs,
  fattr4TypeBytes,
  fsidToBigint,
  hasAttr,
  MAX_BITMAP_WORDS,
  ownerToId,
  STAT_ATTRS,
  FATTR4_FILEID,
  FATTR4_FSID,
  FATTR4_MODE,
  FATTR4_NUMLINKS,
  FATTR4_OWNER,
  FATTR4_OWNER_GROUP,
  FATTR4_RAWDEV,
  FATTR4_SIZE,
  FATTR4_SPACE_USED,
  FATTR4_TIME_ACCESS,
  FATTR4_TIME_ACCESS_SET,
  FATTR4_TIME_METADATA,
  FATTR4_TIME_MODIFY,
  FATTR4_TIME_MODIFY_SET,
  FATTR4_TYPE,
  FATTR4_ACL,
  FATTR4_LEASE_TIME,
  FATTR4_FILEHANDLE,
  NF4DIR,
  NF4CHR,
  NF4LNK,
  NF4REG,
} from '../../src/nfs4/index.js';

/** fattr4 from (attribute, value writer) pairs, which must come in ascending order. */
function fattr4(items: [number, (w: XdrWriter) => void][]): Buffer {
  const v = new XdrWriter();
  for (const [, put] of items) put(v);
  const w = new XdrWriter();
  const words = bitmap4(...items.map(([a]) => a));
  w.u32(words.length);
  for (const x of words) w.u32(x);
  w.opaque(v.toBuffer());
  return w.toBuffer();
}

const time = (sec: number, nsec: number) => (w: XdrWriter) => w.i64(BigInt(sec)).u32(nsec);

function statItems(over: { type?: number; owner?: string; group?: string } = {}): [number, (w: XdrWriter) => void][] {
  return [
    [FATTR4_TYPE, (w) => w.u32(over.type ?? NF4REG)],
    [FATTR4_SIZE, (w) => w.u64(12345)],
    [FATTR4_FSID, (w) => w.u64(0x11n).u64(0x2n)],
    [FATTR4_FILEID, (w) => w.u64(0x1_0000_0001n)],
    [FATTR4_MODE, (w) => w.u32(0o104755)],
    [FATTR4_NUMLINKS, (w) => w.u32(3)],
    [FATTR4_OWNER, (w) => w.string(over.owner ?? '1000')],
    [FATTR4_OWNER_GROUP, (w) => w.string(over.group ?? '100@example.com')],
    [FATTR4_RAWDEV, (w) => w.u32(8).u32(0x123)],
    [FATTR4_SPACE_USED, (w) => w.u64(16384)],
    [FATTR4_TIME_ACCESS, time(1_700_000_000, 1)],
    [FATTR4_TIME_METADATA, time(1_700_000_002, 500)],
    [FATTR4_TIME_MODIFY, time(-2, 999_999_999)],
  ];
}

t.test('bitmap4 words, membership and order', async (t) => {
  t.same(bitmap4(), []);
  t.same(bitmap4(FATTR4_TYPE, FATTR4_SIZE), [0b10010]);
  t.same(bitmap4(FATTR4_MODE), [0, 1 << 1]);
  t.same(bitmap4(31), [0x8000_0000], 'bit 31 stays unsigned');
  const w = bitmap4(FATTR4_TIME_MODIFY, FATTR4_TYPE, 75);
  t.ok(hasAttr(w, FATTR4_TIME_MODIFY));
  t.ok(hasAttr(w, 75));
  t.notOk(hasAttr(w, FATTR4_SIZE));
  t.notOk(hasAttr(w, 200), 'beyond the words');
  t.same(attrList(w), [FATTR4_TYPE, FATTR4_TIME_MODIFY, 75], 'ascending');
  t.throws(() => bitmap4(-1), RangeError);
  t.throws(() => bitmap4(MAX_BITMAP_WORDS * 32), RangeError);
});

t.test('bitmap4 encodes as a counted array and decodes back', async (t) => {
  const words = bitmap4(FATTR4_TYPE, FATTR4_MODE, FATTR4_TIME_MODIFY);
  const b = bitmap4Bytes(words);
  t.same([...b], [0, 0, 0, 2, 0, 0, 0, 2, 0, 0x20, 0, 0x02]);
  t.same(decodeBitmap4(new XdrReader(b)), words);
});

t.test('bitmap4 longer than the limit is refused before allocation', async (t) => {
  const w = new XdrWriter();
  w.u32(MAX_BITMAP_WORDS + 1);
  for (let i = 0; i <= MAX_BITMAP_WORDS; i++) w.u32(0);
  t.throws(() => decodeBitmap4(new XdrReader(w.toBuffer())), { code: 'ERR_XDR_DECODE' });
  const huge = new XdrWriter().u32(0xffff_ffff).toBuffer();
  t.throws(() => decodeBitmap4(new XdrReader(huge)), { code: 'ERR_XDR_DECODE' });
});

t.test('fattr4 with every Stats attribute decodes to Attrs', async (t) => {
  const f = decodeFattr4(new XdrReader(fattr4(statItems())));
  t.equal(f.size, 12345);
  t.equal(f.fileid, 0x1_0000_0001n);
  t.equal(f.owner, '1000');
  t.same(f.timeModify, { sec: -2, nsec: 999_999_999 }, 'negative nfstime4 seconds');
  const a = fattr4ToAttrs(f);
  t.equal(a.kind, 'file');
  t.equal(a.mode, 0o4755, 'file type bits dropped, setuid kept');
  t.equal(a.nlink, 3);
  t.equal(a.uid, 1000);
  t.equal(a.gid, 100, 'N@domain is numeric');
  t.equal(a.used, 16384);
  t.equal(a.rdev, (8 << 8) | 0x23 | (0x100 << 12), 'Linux makedev of specdata1/2');
  t.equal(a.fsid, fsidToBigint({ major: 0x11n, minor: 0x2n }));
  t.equal(a.fsid, (0x11n << 32n) ^ 0x2n);
  t.same(a.atime, { sec: 1_700_000_000, nsec: 1 });
  t.same(a.ctime, { sec: 1_700_000_002, nsec: 500 });
});

t.test('fattr4 types map to kinds; a missing or unknown type is refused', async (t) => {
  t.equal(fattr4ToAttrs(decodeFattr4(new XdrReader(fattr4(statItems({ type: NF4DIR }))))).kind, 'directory');
  t.equal(fattr4ToAttrs(decodeFattr4(new XdrReader(fattr4(statItems({ type: NF4LNK }))))).kind, 'symlink');
  t.equal(fattr4ToAttrs(decodeFattr4(new XdrReader(fattr4(statItems({ type: NF4CHR }))))).kind, 'char');
  t.throws(() => fattr4ToAttrs(decodeFattr4(new XdrReader(fattr4(statItems({ type: 99 }))))), { code: 'ERR_XDR_DECODE' });
  t.throws(() => fattr4ToAttrs(decodeFattr4(new XdrReader(fattr4([[FATTR4_SIZE, (w) => w.u64(1)]])))), { code: 'ERR_XDR_DECODE' });
});

t.test('attr_vals must be filled exactly', async (t) => {
  // One u32 too many inside attr_vals.
  const extra = fattr4([
    [FATTR4_TYPE, (w) => w.u32(NF4REG).u32(0)],
  ]);
  t.throws(() => decodeFattr4(new XdrReader(extra)), /trailing/);
  // attr_vals shorter than the bitmap promises.
  const short = fattr4([
    [FATTR4_TYPE, (w) => w.u32(NF4REG)],
    [FATTR4_SIZE, () => undefined],
  ]);
  t.throws(() => decodeFattr4(new XdrReader(short)), /truncated/);
  // attr_vals length beyond the record.
  const w = new XdrWriter().u32(1).u32(1 << FATTR4_TYPE).u32(4096).u32(NF4REG);
  t.throws(() => decodeFattr4(new XdrReader(w.toBuffer())), { code: 'ERR_XDR_DECODE' });
});

t.test('an attribute this client cannot decode ends the decode', async (t) => {
  const b = fattr4([
    [FATTR4_TYPE, (w) => w.u32(NF4REG)],
    [FATTR4_ACL, (w) => w.u32(0)],
  ]);
  t.throws(() => decodeFattr4(new XdrReader(b)), /attribute 12/);
});

t.test('handles in fattr4 are copies, limited to NFS4_FHSIZE', async (t) => {
  const buf = fattr4([
    [FATTR4_LEASE_TIME, (w) => w.u32(90)],
    [FATTR4_FILEHANDLE, (w) => w.opaque(Buffer.from([1, 2, 3]))],
  ]);
  const f = decodeFattr4(new XdrReader(buf));
  t.equal(f.leaseTime, 90);
  t.same([...f.filehandle!], [1, 2, 3]);
  buf.fill(0);
  t.same([...f.filehandle!], [1, 2, 3], 'not a view of the reply');
  const big = fattr4([[FATTR4_FILEHANDLE, (w) => w.opaque(Buffer.alloc(129))]]);
  t.throws(() => decodeFattr4(new XdrReader(big)), { code: 'ERR_XDR_DECODE' });
});

t.test('owner strings: numeric, N@domain, well-known names, fallback 65534', async (t) => {
  t.equal(ownerToId('0'), 0);
  t.equal(ownerToId('1000'), 1000);
  t.equal(ownerToId('1000@example.com'), 1000);
  t.equal(ownerToId('root@localdomain'), 0);
  t.equal(ownerToId('root'), 0);
  t.equal(ownerToId('nobody@x'), 65534);
  t.equal(ownerToId('1234abc@x'), 1234, 'leading digits');
  t.equal(ownerToId('alice@example.com'), 65534);
  t.equal(ownerToId(''), 65534);
  t.equal(ownerToId('99999999999'), 65534, 'beyond uint32');
  const seen: [string, boolean][] = [];
  const a = fattr4ToAttrs(decodeFattr4(new XdrReader(fattr4(statItems({ owner: 'alice@x', group: 'staff@x' })))), (s, g) => {
    seen.push([s, g]);
    return g ? 50 : 501;
  });
  t.equal(a.uid, 501);
  t.equal(a.gid, 50);
  t.same(seen, [
    ['alice@x', false],
    ['staff@x', true],
  ]);
});

t.test('SETATTR fattr4: attributes in order, ids as numeric strings, settime4', async (t) => {
  const w = new XdrWriter();
  encodeSetAttrs(w, { mode: 0o100644, uid: 1000, gid: 7, size: 5, atime: 'server', mtime: { sec: 1_700_000_000, nsec: 9 } });
  const r = new XdrReader(w.toBuffer());
  const words = decodeBitmap4(r);
  t.same(attrList(words), [FATTR4_SIZE, FATTR4_MODE, FATTR4_OWNER, FATTR4_OWNER_GROUP, FATTR4_TIME_ACCESS_SET, FATTR4_TIME_MODIFY_SET]);
  const v = new XdrReader(r.opaque());
  t.equal(v.u64n(), 5);
  t.equal(v.u32(), 0o644, 'only permission bits are sent');
  t.equal(v.string(), '1000');
  t.equal(v.string(), '7');
  t.equal(v.u32(), 0, 'SET_TO_SERVER_TIME4');
  t.equal(v.u32(), 1, 'SET_TO_CLIENT_TIME4');
  t.equal(v.i64(), 1_700_000_000n);
  t.equal(v.u32(), 9);
  v.done();
  r.done();
});

t.test('SETATTR with nothing to set is an empty fattr4', async (t) => {
  const w = new XdrWriter();
  encodeSetAttrs(w, {});
  t.same([...w.toBuffer()], [0, 0, 0, 0, 0, 0, 0, 0]);
});

t.test('SETATTR refuses values the wire cannot carry', async (t) => {
  t.throws(() => encodeSetAttrs(new XdrWriter(), { uid: -1 }), RangeError);
  t.throws(() => encodeSetAttrs(new XdrWriter(), { gid: 2 ** 32 }), RangeError);
  t.throws(() => encodeSetAttrs(new XdrWriter(), { atime: { sec: 1, nsec: 1e9 } }), RangeError);
  t.throws(() => encodeSetAttrs(new XdrWriter(), { size: -1 }), RangeError);
});

t.test('VERIFY fattr4 carries only the type', async (t) => {
  const r = new XdrReader(fattr4TypeBytes(NF4DIR));
  const f = decodeFattr4(r);
  r.done();
  t.same(f, { mask: bitmap4(FATTR4_TYPE), type: NF4DIR });
});

t.test('STAT_ATTRS asks for exactly what fattr4ToAttrs reads', async (t) => {
  t.same(attrList(STAT_ATTRS), [
    FATTR4_TYPE,
    FATTR4_SIZE,
    FATTR4_FSID,
    FATTR4_FILEID,
    FATTR4_MODE,
    FATTR4_NUMLINKS,
    FATTR4_OWNER,
    FATTR4_OWNER_GROUP,
    FATTR4_RAWDEV,
    FATTR4_SPACE_USED,
    FATTR4_TIME_ACCESS,
    FATTR4_TIME_METADATA,
    FATTR4_TIME_MODIFY,
  ]);
});

t.test('owner names decoded once are reused only for the same bytes', async (t) => {
  // Same length, different bytes, and more names than the reuse keeps: each decode is its own.
  const names = ['1000', '1001', 'abcd', '1000', 'ab\u00e9', '1001', 'zzzz', 'yyyy', 'xxxx', '1000'];
  for (const n of names) {
    const f = decodeFattr4(new XdrReader(fattr4(statItems({ owner: n, group: n }))));
    t.equal(f.owner, n);
    t.equal(f.ownerGroup, n);
  }
  const long = 'u'.repeat(200) + '@example.com';
  t.equal(decodeFattr4(new XdrReader(fattr4(statItems({ owner: long })))).owner, long, 'a long name is decoded, not kept');
  const bad = fattr4([[FATTR4_TYPE, (w) => w.u32(NF4REG)], [FATTR4_OWNER, (w) => w.u32(8).u32(0x31303030)]]);
  t.throws(() => decodeFattr4(new XdrReader(bad)), { code: 'ERR_XDR_DECODE' }, 'a name longer than attr_vals');
});

t.test('fileid: both halves of the uint64', async (t) => {
  for (const id of [0n, 1n, 0xffff_ffffn, 0x1_0000_0000n, 0xffff_ffff_ffff_ffffn]) {
    const f = decodeFattr4(new XdrReader(fattr4([[FATTR4_TYPE, (w) => w.u32(NF4REG)], [FATTR4_FILEID, (w) => w.u64(id)]])));
    t.equal(f.fileid, id);
  }
});

/** decodeAttrs against decodeFattr4 + fattr4ToAttrs on the same bytes: the same Attrs, the same bytes consumed, or both refusing. */
function sameAsGeneric(t: Test, buf: Buffer, what: string): void {
  const fast = new XdrReader(buf);
  const slow = new XdrReader(buf);
  let want: unknown;
  let wantErr: unknown;
  try {
    want = fattr4ToAttrs(decodeFattr4(slow), ownerToId);
  } catch (err) {
    wantErr = err;
  }
  if (wantErr) {
    t.throws(() => decodeAttrs(fast, ownerToId), { code: 'ERR_XDR_DECODE' }, `${what}: refused as decodeFattr4 refuses it`);
    return;
  }
  t.same(decodeAttrs(fast, ownerToId), want, `${what}: same Attrs`);
  t.equal(fast.pos, slow.pos, `${what}: same bytes consumed`);
}

t.test('decodeAttrs reads a STAT_ATTRS reply as fattr4ToAttrs(decodeFattr4()) does', async (t) => {
  for (const type of [NF4REG, NF4DIR, NF4LNK, NF4CHR]) sameAsGeneric(t, fattr4(statItems({ type })), `type ${type}`);
  sameAsGeneric(t, fattr4(statItems({ owner: 'root@example.com', group: 'nobody' })), 'named owners');
  sameAsGeneric(t, Buffer.concat([fattr4(statItems()), Buffer.from([0, 0, 0, 7])]), 'bytes after the fattr4 are left alone');
  // Not the STAT_ATTRS mask: the generic way, whatever the server chose to send.
  sameAsGeneric(t, fattr4(statItems().filter(([a]) => a !== FATTR4_RAWDEV)), 'an attribute missing');
  sameAsGeneric(t, fattr4([[FATTR4_TYPE, (w) => w.u32(NF4DIR)], [FATTR4_LEASE_TIME, (w) => w.u32(90)]]), 'another mask');
  const threeWords = new XdrWriter().u32(3).u32(STAT_ATTRS[0]!).u32(STAT_ATTRS[1]!).u32(0);
  const vals = fattr4(statItems()).subarray(12);
  sameAsGeneric(t, Buffer.concat([threeWords.toBuffer(), vals]), 'the mask with a trailing zero word');
});

t.test('decodeAttrs refuses what decodeFattr4 refuses', async (t) => {
  sameAsGeneric(t, fattr4(statItems({ type: 99 })), 'unknown type');
  const good = fattr4(statItems());
  // attr_vals one word short, one word long (length and body changed together), cut off, or claiming more than is there.
  const len = good.readUInt32BE(12);
  const short = Buffer.from(good.subarray(0, good.length - 4));
  short.writeUInt32BE(len - 4, 12);
  sameAsGeneric(t, short, 'attr_vals a word short');
  const long = Buffer.concat([good, Buffer.alloc(4)]);
  long.writeUInt32BE(len + 4, 12);
  sameAsGeneric(t, long, 'attr_vals a word long');
  sameAsGeneric(t, good.subarray(0, good.length - 8), 'cut off');
  const claim = Buffer.from(good);
  claim.writeUInt32BE(0xffff_fff0, 12);
  sameAsGeneric(t, claim, 'attr_vals length beyond the record');
  // An owner string whose length runs past attr_vals.
  const items = statItems();
  items[6] = [FATTR4_OWNER, (w) => w.u32(4096)];
  sameAsGeneric(t, fattr4(items), 'owner length past attr_vals');
  sameAsGeneric(t, good.subarray(0, 10), 'shorter than the mask');
});
