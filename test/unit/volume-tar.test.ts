// The tar codec: headers written and read back (ustar prefix split, pax for
// what ustar cannot hold, symlinks, hard links, devices), the parser fed
// whole, byte by byte and split at every boundary, interoperability with
// GNU tar in both directions (when it is installed), and refusal of broken
// input.
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { closeSync, linkSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  alignRegions,
  BLOCK,
  encodeHeader,
  sparseDataSize,
  formatPaxTime,
  MAX_META_SIZE,
  padding,
  parsePaxTime,
  paxRecord,
  TAR_END,
  TarFormatError,
  TarParser,
  tarEvents,
  type SparseRegion,
  type TarEvent,
  type TarHeader,
} from '../../src/volume/tar.js';

interface Parsed {
  header: TarHeader;
  data: Buffer;
  /** The file as the data events' offsets lay it out (holes as zeros). */
  file: Buffer;
}

function archive(entries: { h: TarHeader; data?: Buffer }[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    parts.push(encodeHeader(e.h));
    if (e.data) parts.push(e.data, padding(e.data.length));
  }
  parts.push(TAR_END);
  return Buffer.concat(parts);
}

/** Collects parser events into entries; checks the event grammar (entry data* entry-end)* end. */
function collect(events: TarEvent[]): Parsed[] {
  const out: Parsed[] = [];
  let cur: { header: TarHeader; parts: Buffer[]; offsets: number[] } | undefined;
  let ended = false;
  for (const ev of events) {
    if (ended) throw new Error('event after end');
    if (ev.type === 'entry') {
      if (cur) throw new Error('entry inside entry');
      cur = { header: ev.header, parts: [], offsets: [] };
    } else if (ev.type === 'data') {
      if (!cur) throw new Error('data outside entry');
      cur.parts.push(Buffer.from(ev.data));
      cur.offsets.push(ev.offset);
    } else if (ev.type === 'entry-end') {
      if (!cur) throw new Error('entry-end outside entry');
      const data = Buffer.concat(cur.parts);
      let file = data;
      if (cur.header.sparse) {
        file = Buffer.alloc(cur.header.size);
        cur.parts.forEach((p, i) => p.copy(file, cur!.offsets[i]!));
      } else {
        let at = 0;
        cur.parts.forEach((p, i) => {
          if (cur!.offsets[i] !== at) throw new Error(`data at offset ${cur!.offsets[i]}, expected ${at}`);
          at += p.length;
        });
      }
      out.push({ header: cur.header, data, file });
      cur = undefined;
    } else ended = true;
  }
  if (!ended || cur) throw new Error('no end');
  return out;
}

function parseWhole(b: Buffer): Parsed[] {
  const p = new TarParser();
  return collect([...p.push(b), ...p.end()]);
}

function parseSplit(b: Buffer, sizes: (i: number) => number): Parsed[] {
  const p = new TarParser();
  const evs: TarEvent[] = [];
  let i = 0;
  for (let pos = 0; pos < b.length; i++) {
    const n = Math.max(1, sizes(i));
    evs.push(...p.push(b.subarray(pos, pos + n)));
    pos += n;
  }
  evs.push(...p.end());
  return collect(evs);
}

const T0 = { sec: 1_700_000_000, nsec: 0 };
const base = { mode: 0o644, uid: 1000, gid: 1000, size: 0, mtime: T0 };
const long = (n: number, c = 'a') => c.repeat(n);

const SAMPLE: { h: TarHeader; data?: Buffer }[] = [
  { h: { ...base, path: './', type: 'directory', mode: 0o2775 } },
  { h: { ...base, path: './file.txt', type: 'file', size: 5 }, data: Buffer.from('hello') },
  { h: { ...base, path: './empty', type: 'file', size: 0 }, data: Buffer.alloc(0) },
  { h: { ...base, path: './block-sized', type: 'file', size: 1024 }, data: Buffer.alloc(1024, 7) },
  { h: { ...base, path: './odd', type: 'file', size: 1000, mode: 0o4755, uid: 0, gid: 0 }, data: Buffer.alloc(1000, 'z') },
  { h: { ...base, path: './link', type: 'symlink', linkname: '../outside/target', mode: 0o777 } },
  { h: { ...base, path: './hard', type: 'link', linkname: './file.txt' } },
  { h: { ...base, path: './dev', type: 'char', devmajor: 1, devminor: 3 } },
  { h: { ...base, path: './pipe', type: 'fifo' } },
  { h: { ...base, path: `./${long(90)}/${long(95, 'b')}`, type: 'file', size: 3 }, data: Buffer.from('pfx') },
  { h: { ...base, path: `./${long(300, 'c')}`, type: 'file', size: 1, mtime: { sec: 1_600_000_000, nsec: 123_456_789 } }, data: Buffer.from('x') },
  { h: { ...base, path: './ln2', type: 'symlink', linkname: long(150, 'd') } },
  { h: { ...base, path: './big-ids', type: 'file', size: 0, uid: 4_000_000_000, gid: 3_000_000, atime: { sec: 1, nsec: 500 } }, data: Buffer.alloc(0) },
  { h: { ...base, path: './ünïcødé-日本.txt', type: 'file', size: 2 }, data: Buffer.from('ok') },
  { h: { ...base, path: './dir/', type: 'directory', mode: 0o1777 } },
];

function expectSame(t: Test, got: Parsed[], want: { h: TarHeader; data?: Buffer }[]): void {
  t.equal(got.length, want.length, 'entry count');
  want.forEach((w, i) => {
    const g = got[i]!;
    t.match(g.header, { ...w.h, pax: undefined }, `header ${i} ${w.h.path.slice(0, 40)}`);
    t.same(g.data, w.data ?? Buffer.alloc(0), `data ${i}`);
  });
}

t.test('round trip: every entry type, prefix split, pax paths/links/times/ids, unicode', async (t) => {
  const bytes = archive(SAMPLE);
  t.equal(bytes.length % BLOCK, 0);
  expectSame(t, parseWhole(bytes), SAMPLE);
});

t.test('headers: ustar when it fits, pax only when needed', async (t) => {
  t.equal(encodeHeader({ ...base, path: './short', type: 'file' }).length, BLOCK, 'no pax for a plain entry');
  const split = encodeHeader({ ...base, path: `./${long(90)}/${long(95, 'b')}`, type: 'file' });
  t.equal(split.length, BLOCK, 'a 188-byte path fits prefix + name');
  t.equal(split.toString('latin1', 345, 345 + 92), `./${long(90)}`, 'prefix field');
  t.ok(encodeHeader({ ...base, path: `./${long(200)}`, type: 'file' }).length > BLOCK, 'a 202-byte single component needs pax');
  t.ok(encodeHeader({ ...base, path: './x', type: 'file', mtime: { sec: 1, nsec: 1 } }).length > BLOCK, 'sub-second mtime needs pax');
  t.equal(encodeHeader({ ...base, path: './x', type: 'file', uid: 2_097_151 }).length, BLOCK, 'largest octal uid');
  t.ok(encodeHeader({ ...base, path: './x', type: 'file', uid: 2_097_152 }).length > BLOCK, 'past it: pax');
  t.throws(() => encodeHeader({ ...base, path: './d', type: 'directory', size: 3 }), RangeError, 'only files carry data');
});

t.test('parser: byte by byte, at every split point, and in odd chunk sizes', async (t) => {
  const small = archive(SAMPLE.slice(0, 7));
  const want = SAMPLE.slice(0, 7);
  expectSame(t, parseSplit(small, () => 1), want);
  let ok = true;
  for (let cut = 1; cut < small.length; cut++) {
    const p = new TarParser();
    const got = collect([...p.push(small.subarray(0, cut)), ...p.push(small.subarray(cut)), ...p.end()]);
    if (got.length !== want.length || !got[1]!.data.equals(want[1]!.data!) || got[4]!.header.mode !== 0o4755) {
      ok = false;
      t.fail(`split at ${cut}`);
      break;
    }
  }
  t.ok(ok, `all ${small.length - 1} split points`);
  const all = archive(SAMPLE);
  expectSame(t, parseSplit(all, (i) => [7, 511, 513, 1, 4096, 100][i % 6]!), SAMPLE);
});

t.test('data events are views of the input, not copies', async (t) => {
  const bytes = archive([{ h: { ...base, path: './f', type: 'file', size: 5000 }, data: Buffer.alloc(5000, 1) }]);
  const p = new TarParser();
  const evs = p.push(bytes);
  const data = evs.find((e) => e.type === 'data') as { data: Buffer };
  t.equal(data.data.buffer, bytes.buffer, 'same memory');
});

t.test('tarEvents: async iterable source, stops at the end marker', async (t) => {
  const bytes = Buffer.concat([archive(SAMPLE), Buffer.alloc(8192), Buffer.from('trailing garbage after the end')]);
  const chunks = Array.from({ length: Math.ceil(bytes.length / 777) }, (_, i) => bytes.subarray(i * 777, (i + 1) * 777));
  const evs: TarEvent[] = [];
  for await (const ev of tarEvents(Readable.from(chunks))) evs.push(ev);
  expectSame(t, collect(evs), SAMPLE);
});

t.test('an archive cut at an entry boundary without zero blocks is accepted; mid-entry is not', async (t) => {
  const one = Buffer.concat([encodeHeader({ ...base, path: './f', type: 'file', size: 3 }), Buffer.from('abc'), padding(3)]);
  t.equal(parseWhole(one).length, 1);
  const p = new TarParser();
  p.push(one.subarray(0, 600));
  t.throws(() => p.end(), TarFormatError);
  const q = new TarParser();
  q.push(one.subarray(0, 100));
  t.throws(() => q.end(), TarFormatError, 'inside a header');
});

t.test('refuses: bad checksum, bad octal, huge pax record, malformed pax', async (t) => {
  const h = encodeHeader({ ...base, path: './f', type: 'file' });
  const bad = Buffer.from(h);
  bad[0] = 0x41;
  t.throws(() => new TarParser().push(bad), /checksum/);
  const text = Buffer.alloc(BLOCK, 'x');
  t.throws(() => new TarParser().push(text), TarFormatError, 'not a tar at all');
  // A pax header claiming more than the limit.
  const ph = encodeHeader({ ...base, path: './p', type: 'file', mtime: { sec: 1, nsec: 1 } }).subarray(0, BLOCK);
  const huge = Buffer.from(ph);
  huge.write((MAX_META_SIZE + 1).toString(8).padStart(11, '0') + '\0', 124, 'latin1');
  fixChecksum(huge);
  t.throws(() => new TarParser().push(huge), /limit/);
  const rec = Buffer.from('9 x=\n');
  const mal = Buffer.from(ph);
  mal.write(rec.length.toString(8).padStart(11, '0') + '\0', 124, 'latin1');
  fixChecksum(mal);
  t.throws(() => new TarParser().push(Buffer.concat([mal, rec, padding(rec.length)])), /pax record/);
});

function fixChecksum(b: Buffer): void {
  b.fill(0x20, 148, 156);
  let s = 0;
  for (let i = 0; i < BLOCK; i++) s += b[i]!;
  b.write(s.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
}

t.test('pax records and times', async (t) => {
  t.equal(paxRecord('path', 'a').toString(), '9 path=a\n');
  t.equal(paxRecord('path', 'abc').toString(), '12 path=abc\n', 'the length grows a digit');
  const r = paxRecord('x', 'y'.repeat(94));
  t.equal(r.length, Number(r.toString().split(' ')[0]), 'length crossing 99 → 100 counts its own digits');
  for (const tm of [
    { sec: 0, nsec: 0 },
    { sec: 1, nsec: 5 },
    { sec: 1_700_000_000, nsec: 999_999_999 },
    { sec: -1, nsec: 500_000_000 },
    { sec: -2, nsec: 0 },
  ]) {
    t.same(parsePaxTime(formatPaxTime(tm)), tm, formatPaxTime(tm));
  }
  t.same(parsePaxTime('12.5'), { sec: 12, nsec: 500_000_000 });
  t.same(parsePaxTime('12.1234567891'), { sec: 12, nsec: 123_456_789 }, 'extra digits cut');
  t.throws(() => parsePaxTime('abc'), TarFormatError);
});

// ---- GNU tar, both directions ----

let gnuTar = false;
try {
  gnuTar = /GNU tar/.test(execFileSync('tar', ['--version'], { encoding: 'utf8' }));
} catch {
  gnuTar = false;
}

t.test('GNU tar lists and extracts what we write', { skip: !gnuTar && 'GNU tar not installed' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mountless-tar-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const entries = SAMPLE.filter((e) => e.h.type !== 'char' && e.h.type !== 'fifo');
  writeFileSync(join(dir, 'a.tar'), archive(entries));
  const listing = execFileSync('tar', ['-tvf', join(dir, 'a.tar'), '--numeric-owner', '--full-time'], { encoding: 'utf8' });
  t.match(listing, /\.\/file\.txt/);
  t.match(listing, new RegExp(`\\./${long(300, 'c')}`), 'pax path');
  t.match(listing, new RegExp(`-> ${long(150, 'd')}`), 'pax linkpath');
  t.match(listing, /4000000000\/3000000/, 'pax uid/gid');
  t.match(listing, /2020-09-13 12:26:40\.123456789/, 'pax mtime with nanoseconds');
  t.match(listing, /\.\/hard link to \.\/file\.txt/);
  const x = join(dir, 'x');
  mkdirSync(x);
  // The 300-byte component is fine in tar but not on a local disk (NAME_MAX): extract the rest.
  writeFileSync(join(dir, 'b.tar'), archive(entries.filter((e) => !e.h.path.includes(long(300, 'c')))));
  execFileSync('tar', ['-xf', join(dir, 'b.tar'), '-C', x, '--no-same-owner']);
  t.equal(readFileSync(join(x, 'file.txt'), 'utf8'), 'hello');
  t.equal(readFileSync(join(x, long(90), long(95, 'b')), 'utf8'), 'pfx');
  t.equal(readFileSync(join(x, 'ünïcødé-日本.txt'), 'utf8'), 'ok');
});

t.test('we read what GNU tar writes: gnu, posix (pax) and ustar formats', { skip: !gnuTar && 'GNU tar not installed' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mountless-tar-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const src = join(dir, 'src');
  const deep = join(src, long(120, 'p'), long(120, 'q'));
  mkdirSync(deep, { recursive: true });
  writeFileSync(join(deep, 'f.txt'), 'deep content');
  writeFileSync(join(src, 'big.bin'), Buffer.alloc(70_000, 9));
  symlinkSync(long(120, 'r'), join(src, 'longlink'));
  linkSync(join(src, 'big.bin'), join(src, 'big.hard'));
  utimesSync(join(src, 'big.bin'), 1_500_000_000.25, 1_500_000_000.25);
  for (const format of ['gnu', 'posix', 'ustar']) {
    const out = join(dir, `${format}.tar`);
    try {
      execFileSync('tar', ['-cf', out, `--format=${format}`, '--sort=name', '-C', src, '.'], { stdio: 'pipe' });
    } catch (err) {
      // ustar cannot hold a 120-byte component: GNU tar refuses, which is the point of pax.
      t.equal(format, 'ustar', `tar --format=${format} failed: ${String(err)}`);
      continue;
    }
    const got = parseSplit(readFileSync(out), (i) => 1000 + i);
    const byPath = new Map(got.map((e) => [e.header.path.replace(/^\.\//, ''), e]));
    const f = byPath.get(`${long(120, 'p')}/${long(120, 'q')}/f.txt`);
    t.ok(f, `${format}: long path`);
    t.equal(f?.data.toString(), 'deep content', `${format}: content`);
    t.equal(byPath.get('longlink')?.header.linkname, long(120, 'r'), `${format}: long symlink target`);
    t.equal(byPath.get('longlink')?.header.type, 'symlink');
    const hard = [byPath.get('big.bin'), byPath.get('big.hard')];
    t.same(hard.map((e) => e?.header.type).sort(), ['file', 'link'], `${format}: one file, one hard link`);
    const content = hard.find((e) => e?.header.type === 'file');
    t.equal(content?.data.length, 70_000);
    t.ok(byPath.get(`${long(120, 'p')}/`)?.header.type === 'directory', `${format}: directory`);
    if (format === 'posix') t.equal(byPath.get('big.bin')?.header.mtime.nsec ?? byPath.get('big.hard')?.header.mtime.nsec, 250_000_000, 'pax mtime fraction');
  }
});

// ---- sparse files (GNU sparse 1.0 in pax) ----

/** A file of `size` bytes whose regions hold a recognisable pattern and everything else zeros. */
function sparseFile(size: number, regions: SparseRegion[]): { file: Buffer; stored: Buffer } {
  const file = Buffer.alloc(size);
  for (const r of regions) for (let i = 0; i < r.length; i++) file[r.offset + i] = 1 + ((r.offset + i) % 251);
  return { file, stored: Buffer.concat(regions.map((r) => file.subarray(r.offset, r.offset + r.length))) };
}

const SPARSE_CASES: { name: string; size: number; regions: SparseRegion[] }[] = [
  { name: 'holes-between', size: 300_000, regions: [{ offset: 0, length: 4096 }, { offset: 65_536, length: 1024 }, { offset: 200_000, length: 100_000 }] },
  { name: 'trailing-hole', size: 1_000_000, regions: [{ offset: 8192, length: 4096 }] },
  { name: 'all-hole', size: 77_777, regions: [] },
  { name: 'leading-hole', size: 10_000, regions: [{ offset: 9000, length: 1000 }] },
];

function sparseArchive(cases = SPARSE_CASES, dir = '.'): Buffer {
  const parts: Buffer[] = [];
  for (const c of cases) {
    const { stored } = sparseFile(c.size, c.regions);
    const h: TarHeader = { ...base, path: `${dir}/${c.name}`, type: 'file', size: c.size, sparse: c.regions, mtime: { sec: 1_600_000_000, nsec: 5 } };
    t.equal(sparseDataSize(h), stored.length);
    parts.push(encodeHeader(h), stored, padding(stored.length));
  }
  parts.push(encodeHeader({ ...base, path: './after', type: 'file', size: 2 }), Buffer.from('ok'), padding(2), TAR_END);
  return Buffer.concat(parts);
}

function checkSparse(t: Test, got: Parsed[], cases = SPARSE_CASES, dir = '.'): void {
  t.equal(got.length, cases.length + 1, 'entry count');
  cases.forEach((c, i) => {
    const g = got[i]!;
    t.equal(g.header.path, `${dir}/${c.name}`, `${c.name}: the real name, not the placeholder`);
    t.equal(g.header.size, c.size, `${c.name}: the real size`);
    t.same(g.header.sparse, c.regions, `${c.name}: regions`);
    t.equal(g.header.pax, undefined, `${c.name}: no GNU.sparse records left over`);
    t.ok(g.file.equals(sparseFile(c.size, c.regions).file), `${c.name}: content laid out by offset`);
  });
  t.equal(got[cases.length]!.data.toString(), 'ok', 'the entry after the sparse ones');
}

t.test('sparse: written as GNU 1.0 (map in the data), read back whole and at every split', async (t) => {
  const bytes = sparseArchive();
  const stored = SPARSE_CASES.reduce((n, c) => n + c.regions.reduce((m, r) => m + r.length, 0), 0);
  t.ok(bytes.length < stored + 24 * BLOCK, `holes are not stored (${bytes.length} bytes for ${SPARSE_CASES.reduce((n, c) => n + c.size, 0)} bytes of files)`);
  checkSparse(t, parseWhole(bytes));
  checkSparse(t, parseSplit(bytes, () => 1), undefined);
  const small = sparseArchive([SPARSE_CASES[1]!, SPARSE_CASES[3]!]);
  let bad = 0;
  for (let cut = 1; cut < small.length; cut++) {
    const p = new TarParser();
    const got = collect([...p.push(small.subarray(0, cut)), ...p.push(small.subarray(cut)), ...p.end()]);
    if (!got[0]!.file.equals(sparseFile(SPARSE_CASES[1]!.size, SPARSE_CASES[1]!.regions).file) || !got[1]!.file.equals(sparseFile(10_000, SPARSE_CASES[3]!.regions).file)) bad++;
  }
  t.equal(bad, 0, `all ${small.length - 1} split points`);
  t.throws(() => encodeHeader({ ...base, path: './x', type: 'file', size: 10, sparse: [{ offset: 5, length: 6 }] }), RangeError, 'a region past the size');
  t.throws(() => encodeHeader({ ...base, path: './x', type: 'file', size: 10, sparse: [{ offset: 4, length: 2 }, { offset: 5, length: 1 }] }), RangeError, 'overlapping regions');
  t.throws(() => encodeHeader({ ...base, path: './x', type: 'file', size: 5000, sparse: [{ offset: 0, length: 100 }, { offset: 4096, length: 1 }] }), RangeError, 'a region before the last that is not whole blocks');
  t.same(
    alignRegions([{ offset: 100, length: 10 }, { offset: 600, length: 1 }, { offset: 4000, length: 0 }, { offset: 5000, length: 300 }], 5200),
    [{ offset: 0, length: 1024 }, { offset: 4608, length: 592 }],
    'alignRegions: widened to blocks, merged, empty dropped, capped at the size',
  );
});

t.test('sparse: a map that disagrees with the stored bytes, or runs past the size, is refused', async (t) => {
  const good = sparseArchive([SPARSE_CASES[1]!]);
  // The map is the first data block after the pax header (512 + records block) and the ustar header.
  const mapAt = good.indexOf(Buffer.from('2\n8192\n4096\n'));
  t.ok(mapAt > 0, 'map found');
  const tamper = (text: string) => {
    const b = Buffer.from(good);
    b.fill(0, mapAt, mapAt + BLOCK);
    b.write(text, mapAt, 'latin1');
    return b;
  };
  t.throws(() => parseWhole(tamper('1\n8192\n4000\n')), TarFormatError, 'stored 4096, map says 4000');
  t.throws(() => parseWhole(tamper('1\n999999999\n4096\n')), TarFormatError, 'a region past the real size');
  t.throws(() => parseWhole(tamper('2\n0\n100\n8192\n3996\n')), TarFormatError, 'a region before the last that is not whole blocks');
  t.throws(() => parseWhole(tamper('2\n8192\n4096\n0\n4096\n')), TarFormatError, 'regions out of order');
  t.throws(() => parseWhole(tamper('x\n')), TarFormatError, 'not a number');
});

t.test('GNU tar extracts our sparse entries: content and size right, holes kept', { skip: !gnuTar && 'GNU tar not installed' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mountless-tar-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cases = [...SPARSE_CASES, { name: 'big-hole', size: 64 * 2 ** 20, regions: [{ offset: 0, length: 4096 }, { offset: 32 * 2 ** 20, length: 8192 }] }];
  writeFileSync(join(dir, 's.tar'), sparseArchive(cases));
  const listing = execFileSync('tar', ['-tvf', join(dir, 's.tar'), '--numeric-owner'], { encoding: 'utf8' });
  t.notMatch(listing, /GNUSparseFile/, 'GNU tar lists the real names');
  t.match(listing, / 67108864 .*\.\/big-hole/, 'and the real size');
  const x = join(dir, 'x');
  mkdirSync(x);
  execFileSync('tar', ['-xf', join(dir, 's.tar'), '-C', x, '--no-same-owner']);
  for (const c of cases) {
    const got = readFileSync(join(x, c.name));
    t.ok(got.equals(sparseFile(c.size, c.regions).file), `${c.name}: content and size`);
  }
  const st = statSync(join(x, 'big-hole'));
  t.ok(st.blocks * 512 < 1024 * 1024, `64 MiB with 12 KiB of data extracted sparse (${st.blocks} blocks)`);
});

t.test('we read GNU tar\'s sparse formats 1.0 and 0.1, and refuse 0.0', { skip: !gnuTar && 'GNU tar not installed' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mountless-tar-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const src = join(dir, 'src');
  mkdirSync(src);
  const size = 5 * 2 ** 20;
  const f = join(src, 'sparse.bin');
  execFileSync('truncate', ['-s', String(size), f]);
  const fd = openSync(f, 'r+');
  writeSync(fd, Buffer.alloc(4096, 'a'), 0, 4096, 1 * 2 ** 20);
  writeSync(fd, Buffer.alloc(10, 'b'), 0, 10, size - 10);
  closeSync(fd);
  const want = readFileSync(f);
  for (const v of ['1.0', '0.1', '0.0']) {
    const out = join(dir, `${v}.tar`);
    execFileSync('tar', ['-cSf', out, '--format=posix', `--sparse-version=${v}`, '-C', src, 'sparse.bin']);
    if (v === '0.0') {
      t.throws(() => parseWhole(readFileSync(out)), TarFormatError, '0.0 refused, not extracted wrong');
      continue;
    }
    const got = parseSplit(readFileSync(out), (i) => 700 + i);
    t.equal(got.length, 1, `${v}: one entry`);
    t.equal(got[0]!.header.path, 'sparse.bin', `${v}: real name`);
    t.equal(got[0]!.header.size, size, `${v}: real size`);
    t.ok((got[0]!.header.sparse?.length ?? 0) >= 2, `${v}: regions (${JSON.stringify(got[0]!.header.sparse)})`);
    t.ok(got[0]!.file.equals(want), `${v}: content`);
  }
});
