// The readahead of FileHandle.read loops, against a fake fetch over an in-memory file.
import t from 'tap';
import { Readahead } from '../../src/fs/readahead.js';

function file(size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 7 + (i >> 10)) & 0xff;
  return b;
}

function setup(data: { bytes: Buffer }, opts: { failAt?: number } = {}) {
  const fetches: Array<{ at: number; want: number }> = [];
  const tracked: Promise<unknown>[] = [];
  const ra = new Readahead(
    async (buf, at, want) => {
      fetches.push({ at, want });
      await new Promise((r) => setImmediate(r));
      if (opts.failAt !== undefined && at <= opts.failAt && opts.failAt < at + want) throw Object.assign(new Error('EIO'), { code: 'EIO' });
      const n = Math.max(0, Math.min(want, data.bytes.length - at));
      data.bytes.copy(buf, 0, at, at + n);
      return n;
    },
    (p) => tracked.push(p),
  );
  /** What a FileHandle does: the readahead, or a direct read when it declines. */
  const read = async (len: number, at: number): Promise<Buffer> => {
    const out = Buffer.alloc(len);
    const p = ra.read(out, 0, len, at);
    let n: number;
    if (p) n = await p;
    else {
      fetches.push({ at, want: len });
      n = Math.max(0, Math.min(len, data.bytes.length - at));
      data.bytes.copy(out, 0, at, at + n);
    }
    return out.subarray(0, n);
  };
  return { ra, read, fetches, tracked };
}

t.test('sequential small reads: the right bytes, far fewer fetches, a clean end of file', async (t) => {
  const data = { bytes: file(3 * 1024 * 1024 + 1234) };
  const { ra, read, fetches, tracked } = setup(data);
  const got: Buffer[] = [];
  let at = 0;
  for (;;) {
    const b = await read(4096, at);
    if (b.length === 0) break;
    got.push(b);
    at += b.length;
  }
  t.ok(Buffer.concat(got).equals(data.bytes), 'the file, byte for byte');
  t.ok(fetches.length < 20, `${fetches.length} fetches for ${Math.ceil(data.bytes.length / 4096)} reads`);
  t.ok(ra.windows >= 3, 'windows grew and followed the reader');
  t.ok(Math.max(...fetches.map((f) => f.want)) > 256 * 1024, 'windows grow past the first size');
  await Promise.all(tracked);
});

t.test('random reads fetch nothing ahead', async (t) => {
  const data = { bytes: file(1024 * 1024) };
  const { ra, read, fetches } = setup(data);
  for (const at of [4096 * 10, 4096 * 3, 4096 * 200, 4096 * 7, 4096 * 100]) t.ok((await read(4096, at)).equals(data.bytes.subarray(at, at + 4096)));
  t.equal(ra.windows, 0);
  t.equal(fetches.length, 5, 'one direct read each');
});

t.test('drop(): a change is seen by the next read', async (t) => {
  const data = { bytes: file(1024 * 1024) };
  const { ra, read } = setup(data);
  for (let at = 0; at < 5 * 4096; at += 4096) await read(4096, at);
  t.ok(ra.windows > 0, 'reading ahead');
  data.bytes = Buffer.from(data.bytes);
  data.bytes.fill(0x42, 5 * 4096, 6 * 4096);
  t.not((await read(4096, 5 * 4096))[0], 0x42, 'without drop the window is served (as a page cache would)');
  ra.drop();
  t.ok((await read(4096, 5 * 4096)).every((x) => x === 0x42), 'after drop, the new bytes');
});

t.test('a window that fails is replaced by a direct read of the caller range, which reports its own error', async (t) => {
  const data = { bytes: file(2 * 1024 * 1024) };
  const { read } = setup(data, { failAt: 600 * 1024 });
  let at = 0;
  let err: unknown;
  try {
    for (; at < data.bytes.length; at += 4096) {
      const b = await read(4096, at);
      t.ok(b.equals(data.bytes.subarray(at, at + 4096)), `bytes at ${at}`, { diagnostic: false });
    }
  } catch (e) {
    err = e;
  }
  t.match(err, { code: 'EIO' }, 'the error reaches the reader');
  t.ok(at <= 600 * 1024 && at > 300 * 1024, `failed at ${at}, in the range that cannot be read`);
});

t.test('windows older than a second are fetched again', async (t) => {
  const data = { bytes: file(1024 * 1024) };
  const { read, fetches } = setup(data);
  for (let at = 0; at < 4 * 4096; at += 4096) await read(4096, at);
  const before = fetches.length;
  await read(4096, 4 * 4096);
  t.equal(fetches.length, before, 'served from the window');
  await new Promise((r) => setTimeout(r, 1100));
  data.bytes = Buffer.from(data.bytes);
  data.bytes.fill(7, 5 * 4096, 6 * 4096);
  t.ok((await read(4096, 5 * 4096)).every((x) => x === 7), 'a stale window is not served');
});
