// A hostile NFSv4 server's READDIR replies, through connect() and the CLI:
// names no directory can hold (empty, with '/' or NUL, '../../x') end the
// listing with EIO, a repeated name is listed once, a page of names already
// listed ends it, and `get -r` / `cp -r` never write outside their
// destination. The same guard as NFSv3's (src/core/listing.ts).
import t from 'tap';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { connect } from '../../src/index.js';
import { run } from '../../src/cli/run.js';
import type { CliIo } from '../../src/cli/io.js';
import { FakeNfs4Server, type FakeNode, type FakePage } from './fake-nfs4-server.js';

const BAD_NAMES = ['', 'a/b', '../../x', '../x', '/abs', 'nul\0x', '..\0'];

/** A directory listing `names` in one page, cookies 1, 2, ... */
const listing = (...names: string[]): FakeNode => ({ kind: 'dir', list: () => ({ entries: names.map((name, i) => ({ name, cookie: BigInt(i + 1) })), eof: true }) });

t.test('READDIR from a hostile NFSv4 server through the fs layer', async (t) => {
  let loopPages = 0;
  const tree: Record<string, FakeNode> = {
    '/dup': listing('a', 'b', 'a', '.', '..', 'b'),
    // Fresh cookies, the same names again and again, never eof.
    '/loop': {
      kind: 'dir',
      list: (c): FakePage => {
        loopPages++;
        return { entries: [{ name: 'a', cookie: c + 1n }, { name: 'b', cookie: c + 2n }], eof: false };
      },
    },
  };
  BAD_NAMES.forEach((name, i) => (tree[`/bad${i}`] = listing('fine', name, 'after')));
  const server = await FakeNfs4Server.start(tree);
  t.teardown(() => server.close());
  const nfs = await connect(server.url, { noac: true });
  t.teardown(() => nfs.close());

  for (const [i, name] of BAD_NAMES.entries()) {
    for (const how of ['readdir', 'withFileTypes', 'opendir'] as const) {
      const p =
        how === 'opendir'
          ? (async () => {
              const out: string[] = [];
              for await (const d of await nfs.opendir(`/bad${i}`)) out.push(d.name);
              return out;
            })()
          : nfs.readdir(`/bad${i}`, { withFileTypes: how === 'withFileTypes' });
      await t.rejects(p, { code: 'EIO', syscall: 'scandir', path: `/bad${i}`, cause: { message: /impossible name/ } }, `${JSON.stringify(name)}, ${how}: EIO`);
    }
  }
  t.same(await nfs.readdir('/dup'), ['a', 'b'], "a name listed twice is passed on once; '.' and '..' are left out");
  await t.rejects(nfs.readdir('/loop'), { code: 'EIO', syscall: 'scandir', cause: { message: /already listed/ } }, 'a page of names already listed ends the listing');
  t.ok(loopPages <= 2, `cut off after ${loopPages} pages`);
  t.same(server.rpc.errors, [], 'the client asked only for what the fake serves');
});

function captureIo(): { io: CliIo; out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const o: Buffer[] = [];
  const e: Buffer[] = [];
  stdout.on('data', (c: Buffer) => o.push(c));
  stderr.on('data', (c: Buffer) => e.push(c));
  return {
    io: { stdout, stderr, stdin: Readable.from([]), env: {} },
    out: () => Buffer.concat(o).toString(),
    err: () => Buffer.concat(e).toString(),
  };
}

/** Every path under `dir`, relative, sorted (directories with a trailing '/'). */
async function localTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const stack = [''];
  while (stack.length > 0) {
    const rel = stack.pop()!;
    for (const e of await readdir(join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      out.push(e.isDirectory() ? r + '/' : r);
      if (e.isDirectory()) stack.push(r);
    }
  }
  return out.sort();
}

t.test('get -r and cp -r from a hostile NFSv4 server never write outside the destination', async (t) => {
  // '/a/b/d' lists '../../escape': on the server that is '/a/escape' (inside
  // the export, so it resolves), joined onto the local copy of d it is two
  // levels above the destination.
  const server = await FakeNfs4Server.start({
    '/a': { kind: 'dir' },
    '/a/b': { kind: 'dir' },
    '/a/b/d': listing('sub', '../../escape'),
    '/a/b/d/sub': { kind: 'dir' },
    '/a/escape': { kind: 'dir' },
  });
  t.teardown(() => server.close());
  const top = await mkdtemp(join(tmpdir(), 'mountless-hostile-'));
  t.teardown(() => rm(top, { recursive: true, force: true }));

  for (const argv of [
    ['get', '-r', '-q', '/a/b/d'],
    ['cp', '-r', '-q', ':/a/b/d'],
  ]) {
    const dest = join(top, argv[0]!, 'x', 'dest');
    await mkdir(dest, { recursive: true });
    const c = captureIo();
    const status = await run(['--url', server.url, ...argv, dest], c.io);
    t.equal(status, 1, `${argv[0]}: fails`);
    t.match(c.err(), /input\/output error|EIO/i, `${argv[0]}: says why: ${c.err().trim()}`);
    t.same(await localTree(join(top, argv[0]!)), ['x/', 'x/dest/', 'x/dest/d/'], `${argv[0]}: nothing written outside ${dest}`);
  }
  t.same(server.rpc.errors, []);
});
