import type { Stats } from '../fs/stats.js';
import { httpDate } from './conditional.js';
import { etagOfStats, header, mapLimit, readBody, sendXml, statOf, type Ctx } from './context.js';
import { authorizeWrite, XML_BODY_MAX } from './dav-locks.js';
import { DAV, lockDiscoveryContent, multistatus, propContent, propElement, responseXml, SUPPORTED_LOCK_CONTENT, type PropStat } from './dav-xml.js';
import { HttpError } from './http-errors.js';
import { fsPath, hrefOf, RESERVED_PREFIX } from './jail.js';
import { contentTypeOf } from './mime.js';
import { propTime, setTimes, timeProp, type SetTimes } from './mtime.js';
import { propKey, propsFileOf, PROPS_DIR, type DeadProp, type PropOp } from './props.js';
import { elements, escapeText, parseXml, XmlError, type XmlElement } from './xml.js';

interface PropName {
  ns: string;
  local: string;
}

type PropfindRequest = { kind: 'allprop'; include: PropName[] } | { kind: 'propname' } | { kind: 'prop'; names: PropName[] };

/** DAV: properties the server computes; PROPPATCH cannot change them (RFC 4918 §15). */
const LIVE = ['creationdate', 'getcontentlength', 'getcontenttype', 'getetag', 'getlastmodified', 'resourcetype', 'lockdiscovery', 'supportedlock'] as const;
const LIVE_SET = new Set<string>(LIVE);
/**
 * RFC 4331 quota properties of collections, from the file system's FSSTAT
 * (the whole export's: NFS knows no per-directory quota). Computed, so
 * returned only when asked for by name, never in allprop (RFC 4331 §3).
 * davfs2 asks at mount time (for df), as do Finder and `rclone about`.
 */
const QUOTA = new Set(['quota-available-bytes', 'quota-used-bytes']);
const isLive = (n: PropName) => n.ns === DAV && (LIVE_SET.has(n.local) || QUOTA.has(n.local));

type Quota = Map<string, string>;

async function quotaOf(ctx: Ctx): Promise<Quota | undefined> {
  try {
    const fs = await ctx.s.nfs.statfs(ctx.fsp);
    return new Map([
      ['quota-available-bytes', String(fs.bavail * fs.bsize)],
      ['quota-used-bytes', String(Math.max(0, fs.blocks - fs.bfree) * fs.bsize)],
    ]);
  } catch {
    // No figures is an answer (404 for the properties), not a failed PROPFIND.
    return undefined;
  }
}
/** Members stat'ed at once for Depth 1 (mostly cache hits after READDIRPLUS). */
const STAT_PARALLEL = 32;

function parseBodyXml(body: Buffer): XmlElement {
  try {
    return parseXml(body, { maxBytes: XML_BODY_MAX });
  } catch (err) {
    if (err instanceof XmlError) throw new HttpError(400, `bad XML: ${err.message}`);
    throw err;
  }
}

export function parsePropfind(body: Buffer): PropfindRequest {
  if (body.length === 0) return { kind: 'allprop', include: [] };
  const root = parseBodyXml(body);
  if (root.ns !== DAV || root.local !== 'propfind') throw new HttpError(400, 'expected a DAV:propfind body');
  const kids = elements(root).filter((e) => e.ns === DAV);
  const prop = kids.find((e) => e.local === 'prop');
  if (kids.some((e) => e.local === 'propname')) return { kind: 'propname' };
  if (kids.some((e) => e.local === 'allprop')) {
    const inc = kids.find((e) => e.local === 'include');
    return { kind: 'allprop', include: inc ? elements(inc).map((e) => ({ ns: e.ns, local: e.local })) : [] };
  }
  if (prop) return { kind: 'prop', names: elements(prop).map((e) => ({ ns: e.ns, local: e.local })) };
  throw new HttpError(400, 'DAV:propfind needs DAV:prop, DAV:allprop or DAV:propname');
}

/** The live properties of a resource, serialized, by name. */
function liveProps(st: Stats, name: string): Map<string, string> {
  const m = new Map<string, string>();
  const dir = st.isDirectory();
  m.set('creationdate', escapeText(st.birthtime.toISOString()));
  if (!dir) {
    m.set('getcontentlength', String(st.size));
    m.set('getcontenttype', escapeText(contentTypeOf(name)));
  }
  m.set('getetag', escapeText(etagOfStats(st)));
  m.set('getlastmodified', escapeText(httpDate(st.mtimeMs)));
  m.set('resourcetype', dir ? '<D:collection/>' : '');
  return m;
}

interface Target {
  parts: string[];
  st: Stats;
}

/** PROPFIND, Depth 0 or 1; infinity is refused (RFC 4918 §9.1: DAV:propfind-finite-depth). */
export async function handlePropfind(ctx: Ctx): Promise<void> {
  const { nfs } = ctx.s;
  const depthH = header(ctx.req, 'depth')?.trim().toLowerCase() ?? 'infinity';
  if (depthH !== '0' && depthH !== '1') {
    if (depthH === 'infinity') throw new HttpError(403, 'Depth: infinity is not supported', { davCondition: 'propfind-finite-depth' });
    throw new HttpError(400, 'Depth must be 0, 1 or infinity');
  }
  const body = await readBody(ctx, XML_BODY_MAX);
  const request = parsePropfind(body);
  const st = await statOf(nfs, ctx.fsp);
  if (!st) throw new HttpError(404);
  const targets: Target[] = [{ parts: ctx.path.parts, st }];
  let stored: Set<string> | undefined;
  if (depthH === '1' && st.isDirectory()) {
    const base = ctx.fsp === '/' ? '' : ctx.fsp;
    const names = (await nfs.readdir(ctx.fsp)).filter((n) => !n.startsWith(RESERVED_PREFIX)).sort();
    const stats = await mapLimit(names, STAT_PARALLEL, (n) => statOf(nfs, `${base}/${n}`).catch(() => undefined));
    names.forEach((n, k) => {
      const s = stats[k];
      if (s) targets.push({ parts: [...ctx.path.parts, n], st: s });
    });
    // Which members have dead properties: one READDIR instead of one lookup per member.
    if (request.kind !== 'prop' || request.names.some((p) => !isLive(p))) {
      stored = new Set(await nfs.readdir(`${base}/${PROPS_DIR}`).catch(() => [] as string[]));
    }
  }
  const quota = request.kind === 'prop' && request.names.some((n) => n.ns === DAV && QUOTA.has(n.local)) ? await quotaOf(ctx) : undefined;
  const responses: string[] = [];
  for (const t of targets) responses.push(await propfindResponse(ctx, t, request, t === targets[0] ? undefined : stored, quota));
  sendXml(ctx.res, 207, multistatus(responses));
}

async function propfindResponse(ctx: Ctx, t: Target, request: PropfindRequest, stored: Set<string> | undefined, quota: Quota | undefined): Promise<string> {
  const { locks, props } = ctx.s;
  const dir = t.st.isDirectory();
  const href = hrefOf(t.parts, dir);
  const p = fsPath(t.parts);
  const name = t.parts[t.parts.length - 1] ?? '';
  const live = liveProps(t.st, name);
  const needDead = request.kind !== 'prop' || request.names.some((n) => !isLive(n));
  let dead: DeadProp[] = [];
  if (needDead) {
    const file = propsFileOf(t.parts);
    const known = stored === undefined || stored.has(file.slice(file.lastIndexOf('/') + 1));
    if (known) dead = await props.get(t.parts);
  }
  const deadMap = new Map(dead.map((d) => [propKey(d.ns, d.local), d]));
  const liveValue = (local: string): string | undefined => {
    if (local === 'lockdiscovery') return lockDiscoveryContent(locks.covering(p), locks);
    if (local === 'supportedlock') return SUPPORTED_LOCK_CONTENT;
    if (QUOTA.has(local)) return dir ? quota?.get(local) : undefined;
    return live.get(local);
  };
  if (request.kind === 'propname') {
    const names = [...live.keys(), 'lockdiscovery', 'supportedlock'].map((l) => propElement(DAV, l));
    for (const d of dead) names.push(propElement(d.ns, d.local));
    return responseXml(href, [{ status: 200, props: names }]);
  }
  const ok: string[] = [];
  const missing: string[] = [];
  const want: PropName[] =
    request.kind === 'prop'
      ? request.names
      : [...[...live.keys(), 'lockdiscovery', 'supportedlock'].map((l) => ({ ns: DAV, local: l })), ...dead.map((d) => ({ ns: d.ns, local: d.local })), ...request.include];
  const seen = new Set<string>();
  for (const n of want) {
    const k = propKey(n.ns, n.local);
    if (seen.has(k)) continue;
    seen.add(k);
    const v = isLive(n) ? liveValue(n.local) : undefined;
    if (v !== undefined) ok.push(propElement(DAV, n.local, v));
    else {
      const d = deadMap.get(k);
      if (d) ok.push(propElement(d.ns, d.local, propContent(d.ns, d.value)));
      else missing.push(propElement(n.ns, n.local));
    }
  }
  const stats: PropStat[] = [{ status: 200, props: ok }];
  if (missing.length > 0 && request.kind === 'prop') stats.push({ status: 404, props: missing });
  return responseXml(href, stats);
}

/**
 * PROPPATCH (RFC 4918 §9.2): all or nothing, in document order; live DAV:
 * properties are protected, except that setting a time property
 * (mtime.ts: DAV:getlastmodified, ownCloud's DAV:lastmodified, Windows'
 * Win32LastModifiedTime and Win32LastAccessTime) sets the file's time. Other
 * Win32 properties (Win32CreationTime, which NFS cannot set, and
 * Win32FileAttributes) are kept as dead properties, so Windows gets its 200
 * and reads back what it wrote.
 */
export async function handleProppatch(ctx: Ctx, submitted: ReadonlySet<string>): Promise<void> {
  const { nfs, props } = ctx.s;
  const body = await readBody(ctx, XML_BODY_MAX);
  if (body.length === 0) throw new HttpError(400, 'PROPPATCH needs a DAV:propertyupdate body');
  const root = parseBodyXml(body);
  if (root.ns !== DAV || root.local !== 'propertyupdate') throw new HttpError(400, 'expected a DAV:propertyupdate body');
  const st = await statOf(nfs, ctx.fsp);
  if (!st) throw new HttpError(404);
  authorizeWrite(ctx, submitted, [{ parts: ctx.path.parts, kind: 'resource' }]);
  const ops: PropOp[] = [];
  const names: PropName[] = [];
  const refused = new Map<string, { name: PropName; status: 403 | 409 }>();
  const times: SetTimes = {};
  for (const instr of elements(root)) {
    if (instr.ns !== DAV || (instr.local !== 'set' && instr.local !== 'remove')) continue;
    for (const prop of elements(instr).filter((e) => e.ns === DAV && e.local === 'prop')) {
      for (const p of elements(prop)) {
        const name = { ns: p.ns, local: p.local };
        names.push(name);
        const time = instr.local === 'set' ? timeProp(p.ns, p.local) : undefined;
        if (time) {
          const ms = propTime(p.children);
          if (ms === undefined) refused.set(propKey(p.ns, p.local), { name, status: 409 });
          else times[time] = ms;
        } else if (isLive(name)) refused.set(propKey(p.ns, p.local), { name, status: 403 });
        else ops.push(instr.local === 'set' ? { op: 'set', prop: { ns: p.ns, local: p.local, value: p.children } } : { op: 'remove', ns: p.ns, local: p.local });
      }
    }
  }
  const href = hrefOf(ctx.path.parts, st.isDirectory());
  const unique = (ns: PropName[]) => [...new Map(ns.map((n) => [propKey(n.ns, n.local), n])).values()];
  if (refused.size > 0) {
    const others = unique(names).filter((n) => !refused.has(propKey(n.ns, n.local)));
    const byStatus = (status: number) => [...refused.values()].filter((r) => r.status === status).map((r) => propElement(r.name.ns, r.name.local));
    const stats: PropStat[] = [
      { status: 403, props: byStatus(403) },
      { status: 409, props: byStatus(409) },
      { status: 424, props: others.map((n) => propElement(n.ns, n.local)) },
    ].filter((s) => s.props.length > 0);
    const why = byStatus(403).length > 0 ? 'protected properties cannot be changed' : 'a time property holds no time (seconds since the epoch or an HTTP date)';
    sendXml(ctx.res, 207, multistatus([responseXml(href, stats, why)]));
    return;
  }
  // The time first: it is one SETATTR, and the dead properties' write is the step more likely to fail.
  await setTimes(nfs, ctx.fsp, times);
  if (ops.length > 0) await props.patch(ctx.path.parts, ops);
  sendXml(ctx.res, 207, multistatus([responseXml(href, [{ status: 200, props: unique(names).map((n) => propElement(n.ns, n.local)) }])]));
}
