/**
 * A small NFSv4.0 server over FakeRpcServer (TCP, 127.0.0.1) serving an
 * in-memory tree of directories whose listings a test scripts freely, so
 * the client can be fed READDIR replies no real server would send (names
 * with '/', NUL, '../../x', repeats, loops) through connect() and the CLI.
 *
 * It speaks just enough for a mount, stat, readdir and walk: SETCLIENTID
 * (+CONFIRM), RENEW, PUTROOTFH, PUTFH, LOOKUP, LOOKUPP, GETFH, GETATTR
 * (type, lease_time, fileid, mode), ACCESS and READDIR. Any other op is a
 * handler error (SYSTEM_ERR, recorded in `server.errors`), so a test sees
 * when the client asked for something unexpected. File handles are the
 * node's path; `ops` records every op the client sent.
 * COMPOUND bodies are read and written with src/xdr (as
 * test/unit/nfs4-readdir.test.ts does); the RPC framing is FakeRpcServer's own.
 */
import { XdrReader, XdrWriter } from '../../src/xdr/index.js';
import {
  FATTR4_FILEID,
  FATTR4_LEASE_TIME,
  FATTR4_MODE,
  FATTR4_TYPE,
  NF4DIR,
  NF4REG,
  nfsstat4,
  OP_ACCESS,
  OP_GETATTR,
  OP_GETFH,
  OP_LOOKUP,
  OP_LOOKUPP,
  OP_PUTFH,
  OP_PUTROOTFH,
  OP_READDIR,
  OP_RENEW,
  OP_SETCLIENTID,
  OP_SETCLIENTID_CONFIRM,
  bitmap4,
} from '../../src/nfs4/index.js';
import { FakeRpcServer } from './fake-rpc-server.js';

export interface FakeEntry {
  name: string;
  cookie: bigint;
}

export interface FakePage {
  entries: FakeEntry[];
  eof: boolean;
}

export interface FakeNode {
  kind: 'dir' | 'file';
  /** READDIR's reply for a request starting after `cookie`; default: the node's children, all in one page. */
  list?: (cookie: bigint) => FakePage;
}

const NFS_PROGRAM = 100003;
const COMPOUND = 1;

/** The parent of an absolute path ('/' is its own parent). */
function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

function childOf(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

function putFattr(w: XdrWriter, requested: number[], node: FakeNode, fileid: bigint): void {
  const want = new Set<number>();
  requested.forEach((word, i) => {
    for (let b = 0; b < 32; b++) if (word & (1 << b)) want.add(i * 32 + b);
  });
  const have = [FATTR4_TYPE, FATTR4_LEASE_TIME, FATTR4_FILEID, FATTR4_MODE].filter((a) => want.has(a));
  const words = bitmap4(...have);
  w.u32(words.length);
  for (const x of words) w.u32(x);
  const v = new XdrWriter();
  for (const a of have) {
    if (a === FATTR4_TYPE) v.u32(node.kind === 'dir' ? NF4DIR : NF4REG);
    else if (a === FATTR4_LEASE_TIME) v.u32(90);
    else if (a === FATTR4_FILEID) v.u64(fileid);
    else if (a === FATTR4_MODE) v.u32(node.kind === 'dir' ? 0o755 : 0o644);
  }
  w.opaque(v.toBuffer());
}

export class FakeNfs4Server {
  /** Every op the client sent (OP_* numbers), in order. */
  readonly ops: number[] = [];

  private constructor(
    readonly rpc: FakeRpcServer,
    /** Path → node; '/' must be a directory. */
    readonly tree: Map<string, FakeNode>,
  ) {}

  get port(): number {
    return this.rpc.port;
  }

  /** nfs://127.0.0.1:PORT/?version=4.0 */
  get url(): string {
    return `nfs://127.0.0.1:${this.rpc.port}/?version=4.0`;
  }

  static async start(tree: Record<string, FakeNode>): Promise<FakeNfs4Server> {
    const map = new Map(Object.entries(tree));
    if (map.get('/')?.kind !== 'dir') map.set('/', { kind: 'dir' });
    let self: FakeNfs4Server | undefined;
    const rpc = await FakeRpcServer.start((call) => {
      if (call.prog !== NFS_PROGRAM || call.proc === 0) return Buffer.alloc(0);
      if (call.proc !== COMPOUND) throw new Error(`fake NFSv4 server: procedure ${call.proc}`);
      return self!.compound(call.args);
    });
    self = new FakeNfs4Server(rpc, map);
    return self;
  }

  close(): Promise<void> {
    return this.rpc.close();
  }

  private fileid(path: string): bigint {
    return BigInt([...this.tree.keys()].indexOf(path) + 1);
  }

  /** Children of `dir` by path, one page with cookies 1, 2, ... */
  private children(dir: string): FakePage {
    const prefix = dir === '/' ? '/' : `${dir}/`;
    const names = [...this.tree.keys()].filter((p) => p !== dir && p.startsWith(prefix) && !p.slice(prefix.length).includes('/')).map((p) => p.slice(prefix.length));
    return { entries: names.map((name, i) => ({ name, cookie: BigInt(i + 1) })), eof: true };
  }

  private compound(args: Buffer): Buffer {
    const r = new XdrReader(args);
    const tag = r.string();
    r.u32();
    const n = r.u32();
    const out = new XdrWriter();
    const results: ((w: XdrWriter) => void)[] = [];
    let status = 0;
    let cur = '/';
    for (let i = 0; i < n && status === 0; i++) {
      const op = r.u32();
      this.ops.push(op);
      const ok = (body?: (w: XdrWriter) => void) => results.push((w) => (w.u32(op).u32(0), body?.(w)));
      const fail = (st: number) => {
        results.push((w) => w.u32(op).u32(st));
        status = st;
      };
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
        case OP_RENEW:
          r.u64();
          ok();
          break;
        case OP_PUTROOTFH:
          cur = '/';
          ok();
          break;
        case OP_PUTFH: {
          const fh = Buffer.from(r.opaque()).toString();
          if (!this.tree.has(fh)) fail(nfsstat4.NFS4ERR_STALE);
          else {
            cur = fh;
            ok();
          }
          break;
        }
        case OP_LOOKUP: {
          const next = childOf(cur, r.string());
          if (this.tree.get(cur)?.kind !== 'dir') fail(nfsstat4.NFS4ERR_NOTDIR);
          else if (!this.tree.has(next)) fail(nfsstat4.NFS4ERR_NOENT);
          else {
            cur = next;
            ok();
          }
          break;
        }
        case OP_LOOKUPP:
          cur = parentOf(cur);
          ok();
          break;
        case OP_GETFH: {
          const fh = Buffer.from(cur);
          ok((w) => w.opaque(fh));
          break;
        }
        case OP_GETATTR: {
          const req: number[] = [];
          for (let k = r.u32(); k > 0; k--) req.push(r.u32());
          const path = cur;
          ok((w) => putFattr(w, req, this.tree.get(path)!, this.fileid(path)));
          break;
        }
        case OP_ACCESS: {
          const mask = r.u32();
          ok((w) => w.u32(mask).u32(mask));
          break;
        }
        case OP_READDIR: {
          const cookie = r.u64();
          r.fixed(8);
          r.u32();
          r.u32();
          const req: number[] = [];
          for (let k = r.u32(); k > 0; k--) req.push(r.u32());
          const node = this.tree.get(cur)!;
          if (node.kind !== 'dir') {
            fail(nfsstat4.NFS4ERR_NOTDIR);
            break;
          }
          const page = node.list ? node.list(cookie) : this.children(cur);
          const dir = cur;
          ok((w) => {
            w.fixed(Buffer.alloc(8, 0x5a));
            for (const e of page.entries) {
              w.bool(true).u64(e.cookie).string(e.name);
              // Attributes of the entry as LOOKUP would find it (a file if no such node).
              const path = childOf(dir, e.name);
              putFattr(w, req, this.tree.get(path) ?? { kind: 'file' }, e.cookie * 10n);
            }
            w.bool(false).bool(page.eof);
          });
          break;
        }
        default:
          throw new Error(`fake NFSv4 server: op ${op} not scripted`);
      }
    }
    out.u32(status).string(tag).u32(results.length);
    for (const put of results) put(out);
    return out.toBuffer();
  }
}
