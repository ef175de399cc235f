// Nfs4Backend's READDIR cookie loop and mount walk against a scripted
// in-process NFSv4.0 server (no sockets): listings that loop or never end
// are cut off with EIO, as nfs3/backend.ts does.
import t from 'tap';
import { resolveOptions } from '../../src/options.js';
import { XdrReader, XdrWriter } from '../../src/xdr/index.js';
import type { Decoder, Encoder, RpcClient } from '../../src/rpc/client.js';
import { authNone } from '../../src/rpc/auth.js';
import type { DirEntry } from '../../src/fs/backend.js';
import {
  FATTR4_FILEID,
  FATTR4_LEASE_TIME,
  FATTR4_RDATTR_ERROR,
  FATTR4_TYPE,
  NF4DIR,
  NF4REG,
  Nfs4Backend,
  nfsstat4,
  OP_GETATTR,
  OP_GETFH,
  OP_LOOKUP,
  OP_PUTFH,
  OP_PUTROOTFH,
  OP_READDIR,
  OP_SETCLIENTID,
  OP_SETCLIENTID_CONFIRM,
  bitmap4,
  type Clock,
} from '../../src/nfs4/index.js';

interface Entry {
  cookie: bigint;
  name: string;
  /** Attributes unreadable: rdattr_error set, nothing else. */
  broken?: boolean;
}
interface Page {
  entries: Entry[];
  eof: boolean;
}

const stillClock: Clock = { now: () => 0, setTimeout: () => 0, clearTimeout: () => undefined };

function fattr(items: [number, (w: XdrWriter) => void][]): (w: XdrWriter) => void {
  return (w) => {
    const words = bitmap4(...items.map(([a]) => a));
    w.u32(words.length);
    for (const x of words) w.u32(x);
    const v = new XdrWriter();
    for (const [, put] of items) put(v);
    w.opaque(v.toBuffer());
  };
}

/** Answers SETCLIENTID(+CONFIRM), the mount walk, and READDIR from `pages`, one page per call. */
function fakeServer(pages: Page[]) {
  const seen: { cookie: bigint; verf: Buffer }[] = [];
  const lookups: string[] = [];
  const call = async <T>(_l: unknown, encode: Encoder, decode: Decoder<T>): Promise<T> => {
    const req = new XdrWriter();
    encode!(req);
    const r = new XdrReader(req.toBuffer());
    const tag = r.string();
    r.u32();
    const n = r.u32();
    const out: ((w: XdrWriter) => void)[] = [];
    let status = 0;
    for (let i = 0; i < n && status === 0; i++) {
      const op = r.u32();
      const ok = (body?: (w: XdrWriter) => void) => out.push((w) => (w.u32(op).u32(0), body?.(w)));
      switch (op) {
        case OP_SETCLIENTID:
          r.fixed(8);
          r.opaque();
          r.u32();
          r.string();
          r.string();
          r.u32();
          ok((w) => w.u64(7n).fixed(Buffer.alloc(8)));
          break;
        case OP_SETCLIENTID_CONFIRM:
          r.u64();
          r.fixed(8);
          ok();
          break;
        case OP_PUTROOTFH:
          ok();
          break;
        case OP_PUTFH:
          r.opaque();
          ok();
          break;
        case OP_LOOKUP: {
          const name = r.string();
          lookups.push(name);
          if (name === 'missing') {
            out.push((w) => w.u32(op).u32(nfsstat4.NFS4ERR_NOENT));
            status = nfsstat4.NFS4ERR_NOENT;
          } else ok();
          break;
        }
        case OP_GETFH:
          ok((w) => w.opaque(Buffer.from('root-fh')));
          break;
        case OP_GETATTR:
          for (let k = r.u32(); k > 0; k--) r.u32();
          ok(fattr([
            [FATTR4_TYPE, (w) => w.u32(NF4DIR)],
            [FATTR4_LEASE_TIME, (w) => w.u32(90)],
          ]));
          break;
        case OP_READDIR: {
          const cookie = r.u64();
          const verf = Buffer.from(r.fixed(8));
          r.u32();
          r.u32();
          for (let k = r.u32(); k > 0; k--) r.u32();
          seen.push({ cookie, verf });
          const page = pages.shift();
          if (!page) throw new Error('fake server: READDIR beyond the script');
          ok((w) => {
            w.fixed(Buffer.alloc(8, 0x5a));
            for (const e of page.entries) {
              w.bool(true).u64(e.cookie).string(e.name);
              fattr(
                e.broken
                  ? [[FATTR4_RDATTR_ERROR, (x) => x.u32(nfsstat4.NFS4ERR_ACCESS)]]
                  : [
                      [FATTR4_TYPE, (x) => x.u32(NF4REG)],
                      [FATTR4_FILEID, (x) => x.u64(e.cookie * 10n)],
                    ],
              )(w);
            }
            w.bool(false).bool(page.eof);
          });
          break;
        }
        default:
          throw new Error(`fake server: op ${op} not scripted`);
      }
    }
    const w = new XdrWriter();
    w.u32(status).string(tag).u32(out.length);
    for (const put of out) put(w);
    return decode(new XdrReader(w.toBuffer()));
  };
  const rpc = { call, close: async () => undefined } as unknown as RpcClient;
  return { rpc, seen, lookups };
}

async function mounted(pages: Page[], path = '/export/sub') {
  const f = fakeServer(pages);
  const b = await Nfs4Backend.mount({ host: 'fake', path, auth: authNone(), rpc: f.rpc, clock: stillClock }, resolveOptions({}, { version: '4.0' }));
  return { b, ...f };
}

async function list(b: Nfs4Backend, withAttrs: boolean): Promise<DirEntry[]> {
  const all: DirEntry[] = [];
  for await (const batch of b.readdir(b.rootFh, withAttrs)) all.push(...batch);
  return all;
}

t.test('mount walks the path in one COMPOUND from PUTROOTFH', async (t) => {
  const { b, lookups } = await mounted([]);
  t.same(lookups, ['export', 'sub']);
  t.same(b.rootFh, Buffer.from('root-fh'));
  t.equal(b.leaseTime, 90);
  t.equal(b.version, '4.0');
  await b.close();
  await t.rejects(mounted([], '/export/missing'), { name: 'Nfs4PathError', errnoCode: 'ENOENT', component: 'missing' });
});

t.test('the cookie loop follows cookies and the cookie verifier to eof', async (t) => {
  const { b, seen } = await mounted([
    { entries: [{ cookie: 3n, name: 'a' }, { cookie: 4n, name: '.' }], eof: false },
    { entries: [{ cookie: 5n, name: 'b' }, { cookie: 6n, name: '..' }, { cookie: 7n, name: 'c', broken: true }], eof: true },
  ]);
  const all = await list(b, true);
  t.same(all.map((e) => e.name), ['a', 'b', 'c'], "'.' and '..' are not listed");
  t.same(all.map((e) => e.fileid), [30n, 50n, 0n]);
  t.equal(all[0]!.attrs?.kind, 'file');
  t.equal(all[2]!.attrs, undefined, 'an entry whose attributes failed is listed without them');
  t.same(
    seen.map((s) => s.cookie),
    [0n, 4n],
    'the next READDIR starts after the last cookie',
  );
  t.same([...seen[0]!.verf], [0, 0, 0, 0, 0, 0, 0, 0]);
  t.same([...seen[1]!.verf], [0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a], 'the cookieverf is sent back');
  await b.close();
});

t.test('a repeated cookie ends the listing with EIO', async (t) => {
  const { b } = await mounted([
    { entries: [{ cookie: 3n, name: 'a' }, { cookie: 4n, name: 'b' }], eof: false },
    { entries: [{ cookie: 4n, name: 'b' }], eof: false },
  ]);
  await t.rejects(list(b, false), { name: 'NfsStatusError', errnoCode: 'EIO', status: 'NFS4ERR_BAD_COOKIE', op: 'OP_READDIR' });
  await b.close();
});

t.test('a page with no entries and no eof ends the listing with EIO', async (t) => {
  const { b } = await mounted([
    { entries: [{ cookie: 3n, name: 'a' }], eof: false },
    { entries: [], eof: false },
  ]);
  await t.rejects(list(b, false), { name: 'NfsStatusError', errnoCode: 'EIO', op: 'OP_READDIR', message: /no entries and no eof/ });
  await b.close();
});

t.test('an empty directory is one READDIR', async (t) => {
  const { b, seen } = await mounted([{ entries: [], eof: true }]);
  t.same(await list(b, false), []);
  t.equal(seen.length, 1);
  await b.close();
});
