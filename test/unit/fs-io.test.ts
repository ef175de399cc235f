// readInto/writeFrom over a stub backend: short READs and WRITEs are continued,
// verifiers are tracked across the pieces, and failures are rejections.
import t from 'tap';
import { readInto, writeFrom } from '../../src/fs/io.js';
import type { Backend, WriteResult } from '../../src/fs/backend.js';

const FH = Buffer.from('fh');

function source(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + 1) & 0xff;
  return b;
}

/** A backend whose READs return at most `per` bytes of `file`, and whose WRITEs take at most `per`, with the verifiers given in turn. */
function stub(opts: { file?: Buffer; per: number; rsize?: number; wsize?: number; verfs?: string[]; stable?: 'unstable' | 'file'; failAt?: number }) {
  const file = opts.file ?? Buffer.alloc(0);
  const written = Buffer.alloc(1 << 16);
  const calls: Array<[number, number]> = [];
  let n = 0;
  const b = {
    limits: { rsize: opts.rsize ?? 1 << 20, wsize: opts.wsize ?? 1 << 20 },
    read(_fh: Buffer, offset: number, length: number) {
      calls.push([offset, length]);
      const data = file.subarray(offset, Math.min(file.length, offset + Math.min(length, opts.per)));
      return Promise.resolve({ data: Buffer.from(data), eof: offset + data.length >= file.length });
    },
    write(_fh: Buffer, offset: number, data: Buffer): Promise<WriteResult> {
      calls.push([offset, data.length]);
      if (opts.failAt !== undefined && n === opts.failAt) throw new Error('thrown by the backend');
      const count = Math.min(data.length, opts.per);
      data.copy(written, offset, 0, count);
      const verf = Buffer.from(opts.verfs?.[Math.min(n, opts.verfs.length - 1)] ?? 'verf0001');
      n++;
      return Promise.resolve({ count, committed: opts.stable ?? 'unstable', verf });
    },
  } as unknown as Backend;
  return { b, calls, written };
}

t.test('a short READ is continued from where it stopped, until the length or EOF', async (t) => {
  const file = source(10_000);
  const { b, calls } = stub({ file, per: 3000 });
  const target = Buffer.alloc(9000, 0xee);
  const n = await readInto(b, FH, target, 100, 8000, 500);
  t.equal(n, 8000);
  t.same(target.subarray(100, 8100), file.subarray(500, 8500));
  t.equal(target[99], 0xee);
  t.equal(target[8100], 0xee);
  t.same(calls, [[500, 8000], [3500, 5000], [6500, 2000]], 'each READ asks for the rest');
  const short = Buffer.alloc(4000);
  t.equal(await readInto(stub({ file, per: 3000 }).b, FH, short, 0, 4000, 8000), 2000, 'stops at EOF');
});

t.test('a READ that throws is a rejection, not a throw', async (t) => {
  const b = { limits: { rsize: 4096 }, read: () => { throw new Error('no'); } } as unknown as Backend;
  const p = readInto(b, FH, Buffer.alloc(10), 0, 10, 0);
  t.type(p, Promise);
  await t.rejects(p, /no/);
});

t.test('a short WRITE is continued with the rest; the outcome counts every byte', async (t) => {
  const data = source(10_000);
  const { b, calls, written } = stub({ per: 4000 });
  const out = await writeFrom(b, FH, data, 100, 'unstable');
  t.equal(out.bytes, 10_000);
  t.same(calls, [[100, 10_000], [4100, 6000], [8100, 2000]]);
  t.same(written.subarray(100, 10_100), data);
  t.same(out.verf, Buffer.from('verf0001'));
  t.equal(out.verfChanged, false);
});

t.test('verifiers that differ between the pieces of one write say the server restarted', async (t) => {
  const { b } = stub({ per: 4000, verfs: ['verf0001', 'verf0002'] });
  const out = await writeFrom(b, FH, source(6000), 0, 'unstable');
  t.equal(out.bytes, 6000);
  t.equal(out.verfChanged, true);
  const split = await writeFrom(stub({ per: 1 << 20, wsize: 2000, verfs: ['verf0001', 'verf0001', 'verf0003'] }).b, FH, source(6000), 0, 'unstable');
  t.equal(split.verfChanged, true, 'across parallel WRITEs of a split too');
});

t.test('a stable WRITE has no verifier to keep', async (t) => {
  const out = await writeFrom(stub({ per: 1 << 20, stable: 'file' }).b, FH, source(100), 0, 'file');
  t.same(out, { bytes: 100, verf: undefined, verfChanged: false });
});

t.test('a WRITE of 0 bytes is EIO, and a throwing backend a rejection', async (t) => {
  await t.rejects(writeFrom(stub({ per: 0 }).b, FH, source(10), 0, 'unstable'), { code: 'EIO' });
  const p = writeFrom(stub({ per: 10, failAt: 0 }).b, FH, source(10), 0, 'unstable');
  t.type(p, Promise);
  await t.rejects(p, /thrown by the backend/);
  t.same(await writeFrom(stub({ per: 10 }).b, FH, Buffer.alloc(0), 0, 'unstable'), { bytes: 0, verf: undefined, verfChanged: false });
});
