// Range parsing (RFC 9110 §14), ETags and the precondition order (§13.2.2).
import t from 'tap';
import { checkPreconditions, etagOf, httpDate, ifRangeHolds, parseEtagList, strongMatch, weakMatch } from '../../src/sidecar/conditional.js';
import { contentRange, MAX_RANGES, multipartFraming, parseRange } from '../../src/sidecar/range.js';

t.test('single ranges: a-b, a-, -n', async (t) => {
  t.same(parseRange('bytes=0-99', 1000), { kind: 'ranges', ranges: [{ start: 0, end: 99 }] });
  t.same(parseRange('bytes=900-', 1000), { kind: 'ranges', ranges: [{ start: 900, end: 999 }] });
  t.same(parseRange('bytes=-100', 1000), { kind: 'ranges', ranges: [{ start: 900, end: 999 }] }, 'suffix');
  t.same(parseRange('bytes=-5000', 1000), { kind: 'ranges', ranges: [{ start: 0, end: 999 }] }, 'suffix longer than the file');
  t.same(parseRange('bytes=990-5000', 1000), { kind: 'ranges', ranges: [{ start: 990, end: 999 }] }, 'end clamped');
  t.same(parseRange('Bytes = 5-5', 10), { kind: 'ranges', ranges: [{ start: 5, end: 5 }] }, 'unit is case-insensitive, spaces allowed');
});

t.test('unsatisfiable ranges', async (t) => {
  t.same(parseRange('bytes=1000-', 1000), { kind: 'unsatisfiable' });
  t.same(parseRange('bytes=1000-2000', 1000), { kind: 'unsatisfiable' });
  t.same(parseRange('bytes=-0', 1000), { kind: 'unsatisfiable' });
  t.same(parseRange('bytes=0-', 0), { kind: 'unsatisfiable' }, 'nothing to send from an empty file');
  t.same(parseRange('bytes=-10', 0), { kind: 'unsatisfiable' });
  t.same(parseRange('bytes=2000-3000, 5000-', 1000), { kind: 'unsatisfiable' });
});

t.test('invalid or unsupported Range headers are ignored (200 with everything)', async (t) => {
  for (const h of ['items=0-5', 'bytes=', 'bytes=5-1', 'bytes=a-b', 'bytes=--5', 'bytes=1-2-3', 'bytes 0-5', 'bytes=99999999999999999999-']) {
    t.same(parseRange(h, 1000), { kind: 'none' }, h);
  }
  t.same(parseRange(undefined, 1000), { kind: 'none' });
  const many = 'bytes=' + Array.from({ length: MAX_RANGES + 1 }, (_, k) => `${k * 10}-${k * 10 + 1}`).join(',');
  t.same(parseRange(many, 100000), { kind: 'none' }, 'too many ranges');
});

t.test('several ranges: satisfiable ones kept, overlapping ones coalesced, sorted', async (t) => {
  t.same(parseRange('bytes=0-9, 20-29', 100), { kind: 'ranges', ranges: [{ start: 0, end: 9 }, { start: 20, end: 29 }] });
  t.same(parseRange('bytes=20-29,0-9', 100).kind, 'ranges');
  t.same(parseRange('bytes=0-9,5-15,16-20', 100), { kind: 'ranges', ranges: [{ start: 0, end: 20 }] }, 'overlap and adjacency merge');
  t.same(parseRange('bytes=0-9,500-600', 100), { kind: 'ranges', ranges: [{ start: 0, end: 9 }] }, 'the unsatisfiable one is dropped');
  t.same(parseRange('bytes=-10,0-4', 100), { kind: 'ranges', ranges: [{ start: 0, end: 4 }, { start: 90, end: 99 }] });
});

t.test('Content-Range and multipart framing', async (t) => {
  t.equal(contentRange({ start: 0, end: 9 }, 100), 'bytes 0-9/100');
  const f = multipartFraming([{ start: 0, end: 1 }, { start: 5, end: 7 }], 10, 'text/plain', 'BND');
  t.equal(f.heads[0], '--BND\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/10\r\n\r\n');
  t.equal(f.heads[1], '\r\n--BND\r\nContent-Type: text/plain\r\nContent-Range: bytes 5-7/10\r\n\r\n');
  t.equal(f.tail, '\r\n--BND--\r\n');
  t.equal(f.length, f.heads[0]!.length + 2 + f.heads[1]!.length + 3 + f.tail.length, 'length counts framing and data');
});

t.test('ETags: strong, change with id, size and mtime', async (t) => {
  const a = etagOf({ ino: 42, size: 10, mtimeMs: 1700000000123.456 });
  t.match(a, /^"[0-9a-f]+-[0-9a-f]+-[0-9a-f]+"$/);
  t.not(a, etagOf({ ino: 43, size: 10, mtimeMs: 1700000000123.456 }));
  t.not(a, etagOf({ ino: 42, size: 11, mtimeMs: 1700000000123.456 }));
  t.not(a, etagOf({ ino: 42, size: 10, mtimeMs: 1700000000123.457 }), 'microseconds count');
  t.equal(a, etagOf({ ino: 42, size: 10, mtimeMs: 1700000000123.456 }));
  t.ok(strongMatch('"x"', '"x"'));
  t.notOk(strongMatch('W/"x"', '"x"'));
  t.ok(weakMatch('W/"x"', '"x"'));
  t.same(parseEtagList('"a", W/"b" ,"c"'), [
    { weak: false, opaque: '"a"' },
    { weak: true, opaque: '"b"' },
    { weak: false, opaque: '"c"' },
  ]);
  t.equal(parseEtagList(' * '), '*');
});

t.test('preconditions in RFC 9110 order', async (t) => {
  const mtimeMs = Date.parse('2024-05-01T12:00:00.500Z');
  const cur = { etag: '"e1"', mtimeMs };
  const before = httpDate(mtimeMs - 60_000);
  const same = httpDate(mtimeMs);
  const after = httpDate(mtimeMs + 60_000);
  t.equal(checkPreconditions({}, 'GET', cur), undefined);
  t.equal(checkPreconditions({ 'if-none-match': '"e1"' }, 'GET', cur), 304);
  t.equal(checkPreconditions({ 'if-none-match': 'W/"e1"' }, 'HEAD', cur), 304, 'weak comparison for If-None-Match');
  t.equal(checkPreconditions({ 'if-none-match': '"other"' }, 'GET', cur), undefined);
  t.equal(checkPreconditions({ 'if-none-match': '"e1"' }, 'PUT', cur), 412, 'unsafe methods get 412');
  t.equal(checkPreconditions({ 'if-none-match': '*' }, 'PUT', cur), 412, 'create-only PUT over an existing file');
  t.equal(checkPreconditions({ 'if-none-match': '*' }, 'PUT', undefined), undefined, 'create-only PUT of a new file');
  t.equal(checkPreconditions({ 'if-match': '"e1"' }, 'PUT', cur), undefined);
  t.equal(checkPreconditions({ 'if-match': '"nope", "e1"' }, 'PUT', cur), undefined);
  t.equal(checkPreconditions({ 'if-match': 'W/"e1"' }, 'PUT', cur), 412, 'If-Match needs a strong match');
  t.equal(checkPreconditions({ 'if-match': '"x"' }, 'GET', cur), 412);
  t.equal(checkPreconditions({ 'if-match': '*' }, 'PUT', undefined), 412, 'If-Match: * with nothing there');
  t.equal(checkPreconditions({ 'if-modified-since': same }, 'GET', cur), 304, 'not modified since its own date (second resolution)');
  t.equal(checkPreconditions({ 'if-modified-since': after }, 'GET', cur), 304);
  t.equal(checkPreconditions({ 'if-modified-since': before }, 'GET', cur), undefined);
  t.equal(checkPreconditions({ 'if-modified-since': before }, 'PUT', cur), undefined, 'ignored for PUT');
  t.equal(checkPreconditions({ 'if-modified-since': 'garbage' }, 'GET', cur), undefined, 'an invalid date is ignored');
  t.equal(checkPreconditions({ 'if-none-match': '"other"', 'if-modified-since': after }, 'GET', cur), undefined, 'If-None-Match wins over If-Modified-Since');
  t.equal(checkPreconditions({ 'if-unmodified-since': before }, 'PUT', cur), 412);
  t.equal(checkPreconditions({ 'if-unmodified-since': same }, 'PUT', cur), undefined);
  t.equal(checkPreconditions({ 'if-match': '"e1"', 'if-unmodified-since': before }, 'PUT', cur), undefined, 'If-Match wins over If-Unmodified-Since');
});

t.test('If-Range: strong ETag or exact date', async (t) => {
  const cur = { etag: '"e1"', mtimeMs: Date.parse('2024-05-01T12:00:00Z') };
  t.ok(ifRangeHolds(undefined, cur));
  t.ok(ifRangeHolds('"e1"', cur));
  t.notOk(ifRangeHolds('"e2"', cur));
  t.notOk(ifRangeHolds('W/"e1"', cur), 'weak tags never satisfy If-Range');
  t.ok(ifRangeHolds(httpDate(cur.mtimeMs), cur));
  t.notOk(ifRangeHolds(httpDate(cur.mtimeMs - 1000), cur));
});
