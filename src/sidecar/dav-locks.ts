import { code, header, etagOfStats, hasBody, parentOf, readBody, sendXml, statOf, type Ctx } from './context.js';
import { activeLockXml, DAV, lockRootHref } from './dav-xml.js';
import { HttpError } from './http-errors.js';
import { evaluateIf, IfHeaderError, parseIfHeader, parseLockTokenHeader, type ResourceState } from './if-header.js';
import { fsPath, JailError, parseDestination } from './jail.js';
import { LockLimitError, type Lock, type LockDepth, type LockScope } from './locks.js';
import { child, elements, parseXml, XmlError, type XmlElement } from './xml.js';

/** Largest XML request body (PROPFIND, PROPPATCH, LOCK). */
export const XML_BODY_MAX = 1024 * 1024;

/**
 * Evaluates the If header, when there is one (RFC 4918 §10.4): 412 if it
 * does not hold, 400 if it does not parse. Returns the lock tokens it
 * submits (empty without the header).
 */
export async function evaluateIfHeader(ctx: Ctx): Promise<Set<string>> {
  const h = header(ctx.req, 'if');
  if (h === undefined) return new Set();
  let lists;
  try {
    lists = parseIfHeader(h);
  } catch (err) {
    if (err instanceof IfHeaderError) throw new HttpError(400, err.message);
    throw err;
  }
  const state = async (tag: string | undefined): Promise<ResourceState | undefined> => {
    let parts: string[];
    if (tag === undefined) parts = ctx.path.parts;
    else {
      try {
        const p = parseDestination(tag, ctx.req.headers.host);
        if (p === 'other-server') return undefined;
        parts = p.parts;
      } catch (err) {
        if (err instanceof JailError) return undefined;
        throw err;
      }
    }
    const p = fsPath(parts);
    const st = await statOf(ctx.s.nfs, p);
    return { etag: st ? etagOfStats(st) : undefined, tokens: new Set(ctx.s.locks.covering(p).map((l) => l.token)) };
  };
  const out = await evaluateIf(lists, state);
  if (!out.ok) throw new HttpError(412, 'the If header does not hold');
  return out.submitted;
}

/** How a write touches a path: its content, its membership (as a collection), or the whole tree below it. */
export interface Touch {
  parts: readonly string[];
  kind: 'resource' | 'membership' | 'tree';
}

/**
 * Checks that every lock protecting what the request changes had its token
 * submitted (RFC 4918 §7): 423 with DAV:lock-token-submitted otherwise.
 */
export function authorizeWrite(ctx: Ctx, submitted: ReadonlySet<string>, touches: readonly Touch[]): void {
  const missing = new Set<Lock>();
  for (const t of touches) {
    const p = fsPath(t.parts);
    const ls = ctx.s.locks.covering(p);
    if (t.kind === 'tree') ls.push(...ctx.s.locks.below(p));
    for (const l of ls) if (!submitted.has(l.token)) missing.add(l);
  }
  if (missing.size > 0) {
    const hrefs = [...new Set([...missing].map(lockRootHref))];
    throw new HttpError(423, 'the resource is locked', { davCondition: 'lock-token-submitted', davHrefs: hrefs });
  }
}

function parseDepth(h: string | undefined): LockDepth {
  if (h === undefined || /^infinity$/i.test(h.trim())) return 'infinity';
  if (h.trim() === '0') return 0;
  throw new HttpError(400, `Depth must be 0 or infinity for LOCK, not '${h}'`);
}

interface LockInfo {
  scope: LockScope;
  owner: XmlElement['children'] | undefined;
}

export function parseLockInfo(body: Buffer): LockInfo {
  let root: XmlElement;
  try {
    root = parseXml(body, { maxBytes: XML_BODY_MAX });
  } catch (err) {
    if (err instanceof XmlError) throw new HttpError(400, `bad XML: ${err.message}`);
    throw err;
  }
  if (root.ns !== DAV || root.local !== 'lockinfo') throw new HttpError(400, 'expected a DAV:lockinfo body');
  const scopeEl = child(root, DAV, 'lockscope');
  const scopeKind = scopeEl && elements(scopeEl).find((e) => e.ns === DAV && (e.local === 'exclusive' || e.local === 'shared'));
  if (!scopeKind) throw new HttpError(400, 'DAV:lockscope must be exclusive or shared');
  const typeEl = child(root, DAV, 'locktype');
  if (!typeEl || !child(typeEl, DAV, 'write')) throw new HttpError(400, 'DAV:locktype must be write');
  const owner = child(root, DAV, 'owner');
  return { scope: scopeKind.local as LockScope, owner: owner?.children };
}

/** LOCK: a new lock (with a lockinfo body) or a refresh (no body, If header naming the lock). */
export async function handleLock(ctx: Ctx, submitted: ReadonlySet<string>): Promise<void> {
  const { locks, nfs } = ctx.s;
  const timeout = locks.grantTimeout(header(ctx.req, 'timeout'));
  const body = hasBody(ctx.req) ? await readBody(ctx, XML_BODY_MAX) : Buffer.alloc(0);
  if (body.length === 0) {
    if (header(ctx.req, 'if') === undefined) throw new HttpError(400, 'a LOCK refresh needs the lock token in an If header');
    const mine = locks.covering(ctx.fsp).filter((l) => submitted.has(l.token));
    if (mine.length === 0) throw new HttpError(412, 'no lock on this resource matches the If header', { davCondition: 'lock-token-matches-request-uri' });
    for (const l of mine) locks.refresh(l, timeout);
    sendXml(ctx.res, 200, `<D:prop xmlns:D="DAV:"><D:lockdiscovery>${activeLockXml(mine[0]!, locks)}</D:lockdiscovery></D:prop>`);
    return;
  }
  const info = parseLockInfo(body);
  const depth = parseDepth(header(ctx.req, 'depth'));
  const st = await statOf(nfs, ctx.fsp);
  const conflicts = locks.conflicts(ctx.fsp, depth, info.scope);
  if (conflicts.length > 0) {
    throw new HttpError(423, 'a conflicting lock is held', { davCondition: 'no-conflicting-lock', davHrefs: [...new Set(conflicts.map(lockRootHref))] });
  }
  if (!st) {
    // A lock on an unmapped URL creates an empty resource (RFC 4918 §7.3).
    if (ctx.path.parts.length === 0) throw new HttpError(409);
    authorizeWrite(ctx, submitted, [{ parts: parentOf(ctx.path.parts), kind: 'membership' }]);
    const parent = await statOf(nfs, fsPath(parentOf(ctx.path.parts)));
    if (!parent?.isDirectory()) throw new HttpError(409, 'the parent collection does not exist');
    if (ctx.path.slash) throw new HttpError(409, 'cannot create a collection with LOCK');
    try {
      await nfs.writeFile(ctx.fsp, '', { flag: 'wx' });
    } catch (err) {
      if (code(err) !== 'EEXIST') throw err;
    }
  }
  let lock: Lock;
  try {
    lock = locks.create(ctx.fsp, depth, info.scope, info.owner, timeout);
  } catch (err) {
    if (err instanceof LockLimitError) throw new HttpError(503, err.message);
    throw err;
  }
  sendXml(ctx.res, st ? 200 : 201, `<D:prop xmlns:D="DAV:"><D:lockdiscovery>${activeLockXml(lock, locks)}</D:lockdiscovery></D:prop>`, {
    'Lock-Token': `<${lock.token}>`,
  });
}

/** UNLOCK: the Lock-Token header must name a lock that applies to the request URI. */
export async function handleUnlock(ctx: Ctx): Promise<void> {
  const token = parseLockTokenHeader(header(ctx.req, 'lock-token'));
  if (token === undefined) throw new HttpError(400, 'UNLOCK needs a Lock-Token header');
  const { locks } = ctx.s;
  const l = locks.get(token);
  if (!l || !locks.covering(ctx.fsp).includes(l)) {
    throw new HttpError(409, 'the lock token does not match a lock on this resource', { davCondition: 'lock-token-matches-request-uri' });
  }
  locks.unlock(token);
  ctx.res.statusCode = 204;
  ctx.res.end();
}
