import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { FileHandle } from '../fs/file-handle.js';
import type { Stats } from '../fs/stats.js';
import { checkPreconditions, httpDate, ifRangeHolds, type Current } from './conditional.js';
import { etagOfStats, send, statOf, type Ctx } from './context.js';
import { HttpError } from './http-errors.js';
import { hrefOf } from './jail.js';
import { listDirectory, listingHtml, wantsJson } from './listing.js';
import { contentTypeOf } from './mime.js';
import { contentRange, multipartFraming, parseRange, type ByteRange } from './range.js';

/** Bytes per READ while streaming a file out; also what one download holds in memory. */
export const READ_CHUNK = 256 * 1024;

/** GET and HEAD: a file (ranges, validators, conditionals) or a directory listing. */
export async function handleGet(ctx: Ctx): Promise<void> {
  const { nfs } = ctx.s;
  const head = ctx.method === 'HEAD';
  let st = await statOf(nfs, ctx.fsp);
  if (!st) throw new HttpError(404);
  if (st.isDirectory()) return sendListing(ctx, head);
  if (ctx.path.slash) throw new HttpError(404);
  if (!st.isFile()) throw new HttpError(403, 'not a regular file');
  // Opening revalidates attributes with the server (close-to-open), so GET
  // and HEAD see other clients' changes; the handle's attributes are what
  // the validators describe.
  const handle = await nfs.open(ctx.fsp, 'r');
  try {
    st = await handle.stat();
    await sendFile(ctx, st, head ? undefined : handle);
  } finally {
    await handle.close().catch(() => {});
  }
}

async function sendFile(ctx: Ctx, st: Stats, handle: FileHandle | undefined): Promise<void> {
  const { req, res } = ctx;
  const cur: Current = { etag: etagOfStats(st), mtimeMs: st.mtimeMs };
  const validators = { ETag: cur.etag, 'Last-Modified': httpDate(st.mtimeMs) };
  const pre = checkPreconditions(req.headers, ctx.method, cur);
  if (pre === 304) return send(res, 304, undefined, validators);
  if (pre === 412) throw new HttpError(412, 'precondition failed', { headers: validators });
  const size = st.size;
  const type = contentTypeOf(ctx.path.parts[ctx.path.parts.length - 1] ?? '');
  for (const [k, v] of Object.entries(validators)) res.setHeader(k, v);
  res.setHeader('Accept-Ranges', 'bytes');
  const range = req.headers.range !== undefined && ifRangeHolds(req.headers['if-range'] as string | undefined, cur) ? parseRange(req.headers.range, size) : { kind: 'none' as const };
  if (range.kind === 'unsatisfiable') {
    throw new HttpError(416, 'range not satisfiable', { headers: { 'Content-Range': `bytes */${size}` } });
  }
  if (range.kind === 'none') {
    res.statusCode = 200;
    res.setHeader('Content-Type', type);
    res.setHeader('Content-Length', size);
    return body(ctx, handle, [{ start: 0, end: size - 1 }]);
  }
  res.statusCode = 206;
  if (range.ranges.length === 1) {
    const r = range.ranges[0]!;
    res.setHeader('Content-Type', type);
    res.setHeader('Content-Range', contentRange(r, size));
    res.setHeader('Content-Length', r.end - r.start + 1);
    return body(ctx, handle, [r]);
  }
  const boundary = randomBytes(12).toString('hex');
  const framing = multipartFraming(range.ranges, size, type, boundary);
  res.setHeader('Content-Type', `multipart/byteranges; boundary=${boundary}`);
  res.setHeader('Content-Length', framing.length);
  return body(ctx, handle, range.ranges, framing);
}

/** Streams the ranges (with multipart framing around them when given); HEAD sends headers only. */
async function body(ctx: Ctx, handle: FileHandle | undefined, ranges: ByteRange[], framing?: { heads: string[]; tail: string }): Promise<void> {
  const { res } = ctx;
  if (!handle) {
    res.end();
    return;
  }
  for (let k = 0; k < ranges.length; k++) {
    const r = ranges[k]!;
    if (framing) res.write(framing.heads[k]!);
    if (r.end < r.start) continue;
    const rs = handle.createReadStream({ start: r.start, end: r.end, highWaterMark: READ_CHUNK, autoClose: false });
    await pipeline(rs, res, { end: false });
    // The file shrank since its size was sent: the response cannot be completed honestly.
    if (rs.bytesRead !== r.end - r.start + 1) {
      ctx.s.log.warn('file shrank while being sent: response cut short', { path: ctx.fsp, sent: rs.bytesRead, expected: r.end - r.start + 1 });
      ctx.cut = 500;
      res.destroy();
      return;
    }
  }
  if (framing) res.write(framing.tail);
  res.end();
}

async function sendListing(ctx: Ctx, head: boolean): Promise<void> {
  const { req, res } = ctx;
  const entries = await listDirectory(ctx.s.nfs, ctx.fsp);
  const q = req.url?.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '';
  let text: string;
  if (wantsJson(req.headers.accept, q)) {
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    text = JSON.stringify({ path: hrefOf(ctx.path.parts, true), entries }) + '\n';
  } else {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    text = listingHtml(ctx.path.parts, entries);
  }
  res.setHeader('Vary', 'Accept');
  res.setHeader('Cache-Control', 'no-cache');
  const b = Buffer.from(text);
  res.statusCode = 200;
  res.setHeader('Content-Length', b.length);
  res.end(head ? undefined : b);
}
