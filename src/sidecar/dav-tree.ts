import type { NfsClient } from '../fs/client.js';
import { checkPreconditions } from './conditional.js';
import { code, header, etagOfStats, hasBody, parentOf, send, statOf, type Ctx } from './context.js';
import { authorizeWrite, type Touch } from './dav-locks.js';
import { HttpError } from './http-errors.js';
import { fsPath, isWithin, parseDestination, type VolPath } from './jail.js';
import { OC_MTIME_ACCEPTED, ocMtime, setTimes } from './mtime.js';
import { PROPS_TMP_PREFIX } from './props.js';
import { UPLOAD_PREFIX } from './put.js';

/** DELETE: a file, or a collection and everything in it (RFC 4918 §9.6). */
export async function handleDelete(ctx: Ctx, submitted: ReadonlySet<string>): Promise<void> {
  const { nfs, props, locks } = ctx.s;
  if (ctx.path.parts.length === 0) throw new HttpError(403, 'the volume root cannot be deleted');
  const st = await lstatOf(nfs, ctx.fsp);
  if (!st) throw new HttpError(404);
  const pre = checkPreconditions(ctx.req.headers, 'DELETE', { etag: etagOfStats(st), mtimeMs: st.mtimeMs });
  if (pre !== undefined) throw new HttpError(412);
  authorizeWrite(ctx, submitted, [
    { parts: ctx.path.parts, kind: 'tree' },
    { parts: parentOf(ctx.path.parts), kind: 'membership' },
  ]);
  await removeAny(nfs, ctx.fsp, st.isDirectory());
  await props.remove(ctx.path.parts);
  locks.removeTree(ctx.fsp);
  send(ctx.res, 204);
}

/** MKCOL (RFC 4918 §9.3): no body, parent must exist, nothing there yet. */
export async function handleMkcol(ctx: Ctx, submitted: ReadonlySet<string>): Promise<void> {
  const { nfs } = ctx.s;
  if (hasBody(ctx.req)) throw new HttpError(415, 'MKCOL with a body is not supported');
  if (ctx.path.parts.length === 0) throw new HttpError(405, 'the volume root exists');
  const st = await lstatOf(nfs, ctx.fsp);
  if (st) throw new HttpError(405, 'something exists at this URL', { headers: { Allow: allowFor(st.isDirectory()) } });
  authorizeWrite(ctx, submitted, [
    { parts: ctx.path.parts, kind: 'resource' },
    { parts: parentOf(ctx.path.parts), kind: 'membership' },
  ]);
  try {
    await nfs.mkdir(ctx.fsp);
  } catch (err) {
    const c = code(err);
    if (c === 'ENOENT' || c === 'ENOTDIR') throw new HttpError(409, 'the parent collection does not exist');
    if (c === 'EEXIST') throw new HttpError(405, 'something exists at this URL');
    throw err;
  }
  send(ctx.res, 201);
}

function allowFor(dir: boolean): string {
  return dir ? 'OPTIONS, GET, HEAD, DELETE, PROPFIND, PROPPATCH, COPY, MOVE, LOCK, UNLOCK' : 'OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, COPY, MOVE, LOCK, UNLOCK';
}

/** COPY and MOVE (RFC 4918 §9.8, §9.9); `X-OC-Mtime` sets a copied or moved file's mtime (mtime.ts). */
export async function handleCopyMove(ctx: Ctx, submitted: ReadonlySet<string>): Promise<void> {
  const { nfs, props, locks } = ctx.s;
  const move = ctx.method === 'MOVE';
  const destHeader = header(ctx.req, 'destination');
  if (destHeader === undefined) throw new HttpError(400, 'a Destination header is required');
  const dest: VolPath | 'other-server' = parseDestination(destHeader, ctx.req.headers.host);
  if (dest === 'other-server') throw new HttpError(502, 'the Destination is on another server');
  const overwriteH = (header(ctx.req, 'overwrite') ?? 'T').trim().toUpperCase();
  if (overwriteH !== 'T' && overwriteH !== 'F') throw new HttpError(400, 'Overwrite must be T or F');
  const mtime = ocMtime(ctx.req.headers['x-oc-mtime']);
  const depthH = header(ctx.req, 'depth')?.trim().toLowerCase();
  let deep: boolean;
  if (depthH === undefined || depthH === 'infinity') deep = true;
  else if (depthH === '0' && !move) deep = false;
  else throw new HttpError(400, move ? 'MOVE takes Depth: infinity only' : 'COPY takes Depth 0 or infinity');

  const src = ctx.path.parts;
  const dst = dest.parts;
  if (src.length === 0) throw new HttpError(403, `the volume root cannot be ${move ? 'moved' : 'copied'}`);
  if (dst.length === 0) throw new HttpError(403, 'the volume root cannot be overwritten');
  if (isWithin(dst, src) || isWithin(src, dst)) throw new HttpError(403, 'the source and destination overlap');

  const sst = await lstatOf(nfs, ctx.fsp);
  if (!sst) throw new HttpError(404);
  const pre = checkPreconditions(ctx.req.headers, ctx.method, { etag: etagOfStats(sst), mtimeMs: sst.mtimeMs });
  if (pre !== undefined) throw new HttpError(412);
  const dstPath = fsPath(dst);
  const dparent = await statOf(nfs, fsPath(parentOf(dst)));
  if (!dparent?.isDirectory()) throw new HttpError(409, 'the destination collection does not exist');
  const dst0 = await lstatOf(nfs, dstPath);
  if (dst0 && overwriteH === 'F') throw new HttpError(412, 'the destination exists and Overwrite is F');

  const touches: Touch[] = [
    { parts: dst, kind: dst0 ? 'tree' : 'resource' },
    { parts: parentOf(dst), kind: 'membership' },
  ];
  if (move) touches.push({ parts: src, kind: 'tree' }, { parts: parentOf(src), kind: 'membership' });
  authorizeWrite(ctx, submitted, touches);

  const srcDir = sst.isDirectory();
  if (move) {
    // A file over a file is one atomic RENAME; anything else clears the destination first.
    if (dst0 && (srcDir || dst0.isDirectory())) {
      await removeAny(nfs, dstPath, dst0.isDirectory());
      locks.removeTree(dstPath);
    }
    await nfs.rename(ctx.fsp, dstPath);
    await props.move(src, dst);
    locks.removeTree(ctx.fsp);
  } else {
    if (dst0) {
      await removeAny(nfs, dstPath, dst0.isDirectory());
      await props.remove(dst);
    }
    if (srcDir) await copyTree(nfs, ctx.fsp, dstPath, deep);
    else if (sst.isSymbolicLink()) await nfs.symlink(await nfs.readlink(ctx.fsp), dstPath);
    else await nfs.copyFile(ctx.fsp, dstPath);
    await props.copy(src, dst);
  }
  // Files only: a collection's mtime follows its members, and utimes would follow a symlink out of the copy.
  const timed = mtime !== undefined && sst.isFile();
  if (timed) await setTimes(nfs, dstPath, { mtime });
  send(ctx.res, dst0 ? 204 : 201, undefined, timed ? OC_MTIME_ACCEPTED : {});
}

/** lstat, or undefined when nothing is there. */
async function lstatOf(nfs: NfsClient, path: string) {
  try {
    return await nfs.lstat(path);
  } catch (err) {
    const c = code(err);
    if (c === 'ENOENT' || c === 'ENOTDIR') return undefined;
    throw err;
  }
}

async function removeAny(nfs: NfsClient, path: string, dir: boolean): Promise<void> {
  try {
    if (dir) await nfs.rm(path, { recursive: true });
    else await nfs.unlink(path);
  } catch (err) {
    if (code(err) !== 'ENOENT') throw err;
  }
}

/**
 * Copies a directory: with `deep`, everything below it (with an explicit
 * stack, not recursion), including the dead-property stores; otherwise the
 * directory alone. Uploads in progress are not copied. Symlinks are copied
 * as symlinks.
 */
async function copyTree(nfs: NfsClient, from: string, to: string, deep: boolean): Promise<void> {
  await nfs.mkdir(to);
  if (!deep) return;
  const stack: Array<[string, string]> = [[from, to]];
  while (stack.length > 0) {
    const [s, d] = stack.pop()!;
    for (const e of await nfs.readdir(s, { withFileTypes: true })) {
      if (e.name.startsWith(UPLOAD_PREFIX) || e.name.startsWith(PROPS_TMP_PREFIX)) continue;
      const sp = `${s}/${e.name}`;
      const dp = `${d}/${e.name}`;
      if (e.isDirectory()) {
        await nfs.mkdir(dp);
        stack.push([sp, dp]);
      } else if (e.isSymbolicLink()) await nfs.symlink(await nfs.readlink(sp), dp);
      else if (e.isFile()) await nfs.copyFile(sp, dp);
    }
  }
}
