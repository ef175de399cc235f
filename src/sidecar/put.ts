import { randomBytes } from 'node:crypto';
import type { FileHandle } from '../fs/file-handle.js';
import { checkPreconditions, httpDate } from './conditional.js';
import { continueBody, etagOfStats, parentOf, send, statOf, type Ctx } from './context.js';
import { authorizeWrite } from './dav-locks.js';
import { HttpError } from './http-errors.js';
import { fsPath, RESERVED_PREFIX } from './jail.js';
import { OC_MTIME_ACCEPTED, ocMtime, setHandleMtime } from './mtime.js';
import { uploadChecksum, verifyChecksum, type UploadChecksum } from './upload-checksum.js';

/** Upload data is written in WRITEs of this size (one in flight while the next fills). */
export const WRITE_BATCH = 256 * 1024;
/**
 * Unstable data is COMMITted every this many bytes. Until then the client
 * keeps a copy (to resend if the server restarts and loses it), so this
 * bounds what one upload holds in memory.
 */
export const COMMIT_EVERY = 2 * 1024 * 1024;

export const UPLOAD_PREFIX = `${RESERVED_PREFIX}upload-`;

/**
 * PUT: the body is streamed to a temporary name in the target's directory,
 * COMMITted, then RENAMEd over the final name. A failed or aborted upload
 * removes the temporary file, so the final name holds either the old
 * content or the complete new content, never a part. A replaced file's
 * mode is carried over to the new one.
 *
 * Without Content-Length (chunked), macOS Finder states the size in
 * `X-Expected-Entity-Length`: a body of another length is refused (400)
 * rather than stored, as it is for Content-Length. `X-OC-Mtime` sets the
 * new file's mtime (mtime.ts); an `OC-Checksum` the body does not match
 * is refused (upload-checksum.ts).
 */
export async function handlePut(ctx: Ctx, submitted: ReadonlySet<string>): Promise<void> {
  const { nfs, config } = ctx.s;
  const { req, res } = ctx;
  if (ctx.path.parts.length === 0 || ctx.path.slash) throw new HttpError(405, 'cannot PUT a collection', { headers: { Allow: 'GET, HEAD, OPTIONS, PROPFIND' } });
  if (req.headers['content-range'] !== undefined) throw new HttpError(400, 'partial PUT (Content-Range) is not supported');
  const declared = req.headers['content-length'] !== undefined ? Number(req.headers['content-length']) : undefined;
  if (declared !== undefined && declared > config.maxBody) throw new HttpError(413, `request body larger than ${config.maxBody} bytes`);
  const expected = declared === undefined ? expectedLength(req.headers['x-expected-entity-length']) : undefined;
  if (expected !== undefined && expected > config.maxBody) throw new HttpError(413, `request body larger than ${config.maxBody} bytes`);
  const mtime = ocMtime(req.headers['x-oc-mtime']);
  const checksum = uploadChecksum(req.headers['oc-checksum']);

  const parentParts = parentOf(ctx.path.parts);
  const [parent, existing] = await Promise.all([statOf(nfs, fsPath(parentParts)), statOf(nfs, ctx.fsp)]);
  if (!parent?.isDirectory()) throw new HttpError(409, 'the parent collection does not exist');
  if (existing?.isDirectory()) throw new HttpError(405, 'a collection exists at this URL');
  const pre = checkPreconditions(req.headers, 'PUT', existing ? { etag: etagOfStats(existing), mtimeMs: existing.mtimeMs } : undefined);
  if (pre !== undefined) throw new HttpError(412, 'precondition failed');
  authorizeWrite(ctx, submitted, existing ? [{ parts: ctx.path.parts, kind: 'resource' }] : [{ parts: ctx.path.parts, kind: 'resource' }, { parts: parentParts, kind: 'membership' }]);

  const tmp = `${fsPath(parentParts).replace(/\/$/, '')}/${UPLOAD_PREFIX}${randomBytes(8).toString('hex')}`;
  const h = await nfs.open(tmp, 'wx', 0o666);
  let ok = false;
  try {
    continueBody(ctx);
    const received = await receive(ctx, h, config.maxBody, checksum);
    if (expected !== undefined && received !== expected) {
      throw new HttpError(400, `the body has ${received} bytes, X-Expected-Entity-Length said ${expected}`);
    }
    if (checksum) verifyChecksum(checksum);
    if (existing) await h.chmod(existing.mode & 0o7777);
    if (mtime !== undefined) await setHandleMtime(h, mtime);
    const st = await h.stat();
    await h.close();
    await nfs.rename(tmp, ctx.fsp);
    ok = true;
    send(res, existing ? 204 : 201, undefined, { ETag: etagOfStats(st), 'Last-Modified': httpDate(st.mtimeMs), ...(mtime !== undefined ? OC_MTIME_ACCEPTED : {}) });
  } finally {
    if (!ok) {
      await h.close().catch(() => {});
      await nfs.unlink(tmp).catch(() => {});
    }
  }
}

/** `X-Expected-Entity-Length`: a byte count, or undefined when absent; anything else is a 400. */
function expectedLength(h: string | string[] | undefined): number | undefined {
  if (h === undefined) return undefined;
  const v = (Array.isArray(h) ? h[0]! : h).trim();
  if (!/^\d{1,15}$/.test(v)) throw new HttpError(400, 'X-Expected-Entity-Length must be a byte count');
  return Number(v);
}

/** Copies the request body into the handle: batched WRITEs, one in flight, COMMIT every COMMIT_EVERY bytes. Returns the bytes received. */
async function receive(ctx: Ctx, h: FileHandle, max: number, checksum: UploadChecksum | undefined): Promise<number> {
  let pos = 0;
  let sinceCommit = 0;
  let bufs: Buffer[] = [];
  let buffered = 0;
  let inflight: Promise<void> | undefined;
  const flush = async (data: Buffer, at: number) => {
    await h.write(data, 0, data.length, at);
    sinceCommit += data.length;
    if (sinceCommit >= COMMIT_EVERY) {
      sinceCommit = 0;
      await h.sync();
    }
  };
  const start = async () => {
    const data = bufs.length === 1 ? bufs[0]! : Buffer.concat(bufs, buffered);
    bufs = [];
    const at = pos;
    pos += buffered;
    buffered = 0;
    if (inflight) await inflight;
    inflight = flush(data, at);
    // Observed at the next await; never an unhandled rejection meanwhile.
    inflight.catch(() => {});
  };
  let received = 0;
  // destroyOnReturn false: leaving early (413) must not reset the connection before the answer is sent.
  for await (const chunk of ctx.req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    received += chunk.length;
    ctx.bytesIn += chunk.length;
    if (received > max) throw new HttpError(413, `request body larger than ${max} bytes`);
    checksum?.hash.update(chunk);
    bufs.push(chunk);
    buffered += chunk.length;
    if (buffered >= WRITE_BATCH) await start();
  }
  if (!ctx.req.complete) throw new HttpError(400, 'the request body ended early');
  if (buffered > 0) await start();
  if (inflight) await inflight;
  return received;
}
