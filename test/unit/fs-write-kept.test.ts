// Unstable writes kept for re-sending: FileHandle.write keeps a copy (its caller
// may reuse the buffer at once); writeKept keeps the caller's buffer itself. Both
// are written again, FILE_SYNC, when the COMMIT's verifier shows a server restart.
import t from 'tap';
import { FileHandle, writeKept } from '../../src/fs/file-handle.js';
import { parseFlags } from '../../src/fs/flags.js';
import type { Backend } from '../../src/fs/backend.js';

function stubBackend() {
  const writes: Array<{ offset: number; data: Buffer; stable: string }> = [];
  let verf = Buffer.from('verf-one');
  const b = {
    version: 'stub',
    limits: { rsize: 1 << 20, wsize: 1 << 20 },
    write(_fh: Buffer, offset: number, data: Buffer, stable: string) {
      writes.push({ offset, data, stable });
      return Promise.resolve({ count: data.length, committed: stable === 'file' ? 'file' : 'unstable', verf });
    },
    // The server "restarted" between the WRITEs and the COMMIT.
    commit() {
      verf = Buffer.from('verf-two');
      return Promise.resolve(verf);
    },
  } as unknown as Backend;
  return { b, writes };
}

t.test('writeKept: re-sent from the caller\'s own buffer, not a copy', async (t) => {
  const { b, writes } = stubBackend();
  const fh = new FileHandle(b, Buffer.from('fh'), parseFlags('r+'), '/f', 4096);
  const data = Buffer.alloc(8192, 7);
  t.equal(await writeKept(fh, data, 0), 8192);
  t.equal(await writeKept(fh, data, 8192), 8192);
  await fh.close();
  const resent = writes.filter((w) => w.stable === 'file');
  t.same(resent.map((w) => w.offset), [0, 8192], 'both written again, stably, in order');
  for (const w of resent) t.equal(w.data.buffer, data.buffer, 'the same memory as the caller\'s buffer');
  t.equal(fh.resentWrites, 2);
});

t.test('FileHandle.write: re-sent from its copy, whatever the caller did to its buffer since', async (t) => {
  const { b, writes } = stubBackend();
  const fh = new FileHandle(b, Buffer.from('fh'), parseFlags('r+'), '/f', 4096);
  const data = Buffer.alloc(8192, 7);
  await fh.write(data, 0, 8192, 0);
  data.fill(9); // reused at once, as node allows
  await fh.close();
  const resent = writes.filter((w) => w.stable === 'file');
  t.equal(resent.length, 1);
  t.not(resent[0]!.data.buffer, data.buffer, 'a copy');
  t.ok(resent[0]!.data.every((x) => x === 7), 'the bytes as written, not as changed since');
});

t.test('writeKept on a closed handle is EBADF', async (t) => {
  const { b } = stubBackend();
  const fh = new FileHandle(b, Buffer.from('fh'), parseFlags('r+'), '/f', 4096);
  await fh.close();
  await t.rejects(async () => writeKept(fh, Buffer.alloc(1), 0), { code: 'EBADF' });
});
