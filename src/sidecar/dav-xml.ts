import { STATUS_CODES } from 'node:http';
import { escapeText, serializeNodes, type XmlNode } from './xml.js';
import { hrefOf } from './jail.js';
import type { Lock, LockManager } from './locks.js';

/**
 * WebDAV response bodies (RFC 4918 §14). Every document declares DAV: as
 * the prefix `D` and leaves the default namespace unset, so a property in
 * any other namespace (or none) is written unprefixed with its own `xmlns`.
 */

export const DAV = 'DAV:';

export function statusLine(status: number): string {
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`.trimEnd();
}

/** An element for a property name, empty or with (already serialized) content. */
export function propElement(ns: string, local: string, content = ''): string {
  if (ns === DAV) return content === '' ? `<D:${local}/>` : `<D:${local}>${content}</D:${local}>`;
  const decl = ns === '' ? '' : ` xmlns="${escapeAttrValue(ns)}"`;
  return content === '' ? `<${local}${decl}/>` : `<${local}${decl}>${content}</${local}>`;
}

function escapeAttrValue(s: string): string {
  return s.replace(/[&<>"\t\n\r]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A stored property value, serialized for use inside the element `propElement(ns, …)` writes. */
export function propContent(ns: string, value: readonly XmlNode[]): string {
  // Inside <D:x> the default namespace is still unset; inside <x xmlns="ns"> it is ns.
  return serializeNodes(value, ns === DAV ? '' : ns);
}

export interface PropStat {
  status: number;
  /** Serialized property elements. */
  props: string[];
}

export function responseXml(href: string, propstats: readonly PropStat[], description?: string): string {
  let out = `<D:response><D:href>${escapeText(href)}</D:href>`;
  for (const ps of propstats) {
    if (ps.props.length === 0) continue;
    out += `<D:propstat><D:prop>${ps.props.join('')}</D:prop><D:status>${statusLine(ps.status)}</D:status></D:propstat>`;
  }
  if (description) out += `<D:responsedescription>${escapeText(description)}</D:responsedescription>`;
  return out + '</D:response>';
}

export function statusResponseXml(href: string, status: number): string {
  return `<D:response><D:href>${escapeText(href)}</D:href><D:status>${statusLine(status)}</D:status></D:response>`;
}

export function multistatus(responses: readonly string[]): string {
  return `<D:multistatus xmlns:D="DAV:">${responses.join('')}</D:multistatus>`;
}

/** A DAV:error body naming a precondition or postcondition (RFC 4918 §16). */
export function errorXml(condition: string, hrefs: readonly string[] = []): string {
  const inner = hrefs.map((h) => `<D:href>${escapeText(h)}</D:href>`).join('');
  return `<D:error xmlns:D="DAV:">${inner ? `<D:${condition}>${inner}</D:${condition}>` : `<D:${condition}/>`}</D:error>`;
}

export function lockRootHref(l: Lock): string {
  return hrefOf(l.root === '/' ? [] : l.root.slice(1).split('/'), false);
}

export function activeLockXml(l: Lock, locks: LockManager): string {
  const left = locks.remaining(l);
  const owner = l.owner && l.owner.length > 0 ? `<D:owner>${serializeNodes(l.owner, '')}</D:owner>` : '';
  return (
    '<D:activelock>' +
    '<D:locktype><D:write/></D:locktype>' +
    `<D:lockscope><D:${l.scope}/></D:lockscope>` +
    `<D:depth>${l.depth === 0 ? '0' : 'infinity'}</D:depth>` +
    owner +
    `<D:timeout>${left === Infinity ? 'Infinite' : `Second-${left}`}</D:timeout>` +
    `<D:locktoken><D:href>${escapeText(l.token)}</D:href></D:locktoken>` +
    `<D:lockroot><D:href>${escapeText(lockRootHref(l))}</D:href></D:lockroot>` +
    '</D:activelock>'
  );
}

export function lockDiscoveryContent(ls: readonly Lock[], locks: LockManager): string {
  return ls.map((l) => activeLockXml(l, locks)).join('');
}

export const SUPPORTED_LOCK_CONTENT =
  '<D:lockentry><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockentry>' +
  '<D:lockentry><D:lockscope><D:shared/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockentry>';
