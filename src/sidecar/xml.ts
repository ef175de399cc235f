/**
 * A small XML parser and serializer for WebDAV request and response bodies
 * (RFC 4918 §14): elements, attributes, namespaces (XML Namespaces 1.0),
 * text, CDATA, character and the five predefined entity references.
 *
 * Safe by construction: a DOCTYPE is refused, so there are no entity
 * definitions to expand (no "billion laughs", no external entities), and the
 * input size, nesting depth, node and attribute counts are capped.
 * Comments and processing instructions are skipped.
 */

export const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';

export interface XmlAttr {
  ns: string;
  local: string;
  value: string;
}

export interface XmlElement {
  /** Namespace URI; '' for none. */
  ns: string;
  local: string;
  attrs: XmlAttr[];
  children: XmlNode[];
}

export type XmlNode = XmlElement | string;

export class XmlError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} (at offset ${offset})`);
    this.name = 'XmlError';
  }
}

export interface XmlLimits {
  /** Bytes of input. Default 1 MiB. */
  maxBytes: number;
  /** Element nesting. Default 64. */
  maxDepth: number;
  /** Elements and text nodes. Default 100 000. */
  maxNodes: number;
  /** Attributes on one element. Default 64. */
  maxAttrs: number;
}

export const DEFAULT_XML_LIMITS: XmlLimits = { maxBytes: 1024 * 1024, maxDepth: 64, maxNodes: 100_000, maxAttrs: 64 };

// Approximations of XML 1.0's NameStartChar / NameChar, wide enough for every real name.
const NAME_START = /[A-Za-z_:\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\uD800-\uDBFF]/;
const NAME_CHAR = /[A-Za-z0-9_:.\-\u00B7\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u037D\u037F-\u1FFF\u200C\u200D\u203F\u2040\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\uD800-\uDFFF]/;

function isXmlChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

interface Frame {
  el: XmlElement;
  qname: string;
  /** prefix → namespace in scope at this element ('' is the default namespace). */
  scope: Map<string, string>;
}

/** Parses one XML document and returns its root element. Throws XmlError. */
export function parseXml(input: string | Buffer, limits: Partial<XmlLimits> = {}): XmlElement {
  const lim = { ...DEFAULT_XML_LIMITS, ...limits };
  let s: string;
  if (typeof input === 'string') {
    if (Buffer.byteLength(input) > lim.maxBytes) throw new XmlError(`document larger than ${lim.maxBytes} bytes`, 0);
    s = input;
  } else {
    if (input.length > lim.maxBytes) throw new XmlError(`document larger than ${lim.maxBytes} bytes`, 0);
    try {
      s = new TextDecoder('utf-8', { fatal: true }).decode(input);
    } catch {
      throw new XmlError('not valid UTF-8', 0);
    }
  }
  return new Parser(s, lim).document();
}

class Parser {
  private i = 0;
  private nodes = 0;

  constructor(
    private readonly s: string,
    private readonly lim: XmlLimits,
  ) {}

  private fail(msg: string): never {
    throw new XmlError(msg, this.i);
  }

  private startsWith(t: string): boolean {
    return this.s.startsWith(t, this.i);
  }

  private skipSpace(): void {
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i);
      if (c !== 0x20 && c !== 0x9 && c !== 0xa && c !== 0xd) break;
      this.i++;
    }
  }

  private name(): string {
    const start = this.i;
    if (this.i >= this.s.length || !NAME_START.test(this.s[this.i]!)) this.fail('expected a name');
    this.i++;
    while (this.i < this.s.length && NAME_CHAR.test(this.s[this.i]!)) this.i++;
    return this.s.slice(start, this.i);
  }

  /** Skips a comment or processing instruction at i, if there is one. */
  private misc(): boolean {
    if (this.startsWith('<!--')) {
      const end = this.s.indexOf('-->', this.i + 4);
      if (end < 0) this.fail('unterminated comment');
      this.i = end + 3;
      return true;
    }
    if (this.startsWith('<?')) {
      const end = this.s.indexOf('?>', this.i + 2);
      if (end < 0) this.fail('unterminated processing instruction');
      this.i = end + 2;
      return true;
    }
    return false;
  }

  document(): XmlElement {
    if (this.s.charCodeAt(0) === 0xfeff) this.i = 1;
    if (this.startsWith('<?xml') && /[\s?]/.test(this.s[this.i + 5] ?? '')) {
      const end = this.s.indexOf('?>', this.i);
      if (end < 0) this.fail('unterminated XML declaration');
      const decl = this.s.slice(this.i, end);
      const enc = /encoding\s*=\s*["']([^"']*)["']/.exec(decl)?.[1];
      if (enc !== undefined && !/^(utf-?8|us-ascii)$/i.test(enc)) this.fail(`unsupported encoding '${enc}'`);
      this.i = end + 2;
    }
    for (;;) {
      this.skipSpace();
      if (this.startsWith('<!DOCTYPE') || this.startsWith('<!doctype')) this.fail('DOCTYPE is not accepted');
      if (!this.misc()) break;
    }
    if (!this.startsWith('<')) this.fail('expected the root element');
    const root = this.element();
    for (;;) {
      this.skipSpace();
      if (this.i >= this.s.length) break;
      if (!this.misc()) this.fail('content after the root element');
    }
    return root;
  }

  /** Parses the element starting at i (iteratively, with an explicit stack). */
  private element(): XmlElement {
    const stack: Frame[] = [];
    let root: XmlElement | undefined;
    const rootScope = new Map<string, string>([['xml', XML_NS]]);
    let text = '';
    const flushText = () => {
      if (text === '') return;
      const top = stack[stack.length - 1];
      if (!top) {
        if (text.trim() !== '') this.fail('text outside the root element');
      } else {
        this.count();
        const kids = top.el.children;
        const last = kids[kids.length - 1];
        if (typeof last === 'string') kids[kids.length - 1] = last + text;
        else kids.push(text);
      }
      text = '';
    };
    do {
      if (this.i >= this.s.length) this.fail('unexpected end of document');
      const c = this.s[this.i]!;
      if (c === '<') {
        if (this.startsWith('</')) {
          flushText();
          this.i += 2;
          const qn = this.name();
          this.skipSpace();
          if (this.s[this.i] !== '>') this.fail('expected >');
          this.i++;
          const top = stack.pop();
          if (!top || top.qname !== qn) this.fail(`mismatched end tag </${qn}>`);
          continue;
        }
        if (this.startsWith('<![CDATA[')) {
          const end = this.s.indexOf(']]>', this.i + 9);
          if (end < 0) this.fail('unterminated CDATA section');
          if (stack.length === 0) this.fail('CDATA outside the root element');
          text += this.checkChars(this.s.slice(this.i + 9, end));
          this.i = end + 3;
          continue;
        }
        if (this.startsWith('<!--') || this.startsWith('<?')) {
          if (this.startsWith('<?xml') && /[\s?]/.test(this.s[this.i + 5] ?? '')) this.fail('XML declaration not at the start');
          this.misc();
          continue;
        }
        if (this.startsWith('<!')) this.fail('markup declarations are not accepted');
        flushText();
        if (stack.length >= this.lim.maxDepth) this.fail(`nesting deeper than ${this.lim.maxDepth}`);
        const parentScope = stack[stack.length - 1]?.scope ?? rootScope;
        const { frame, selfClosing } = this.startTag(parentScope);
        if (stack.length === 0) root = frame.el;
        else stack[stack.length - 1]!.el.children.push(frame.el);
        if (!selfClosing) stack.push(frame);
        continue;
      }
      if (stack.length === 0) this.fail('text outside the root element');
      if (c === '&') {
        text += this.reference();
        continue;
      }
      let end = this.i;
      while (end < this.s.length && this.s[end] !== '<' && this.s[end] !== '&') end++;
      text += this.checkChars(this.s.slice(this.i, end).replace(/\r\n?/g, '\n'));
      this.i = end;
    } while (stack.length > 0);
    return root!;
  }

  private count(): void {
    if (++this.nodes > this.lim.maxNodes) this.fail(`more than ${this.lim.maxNodes} nodes`);
  }

  private checkChars(t: string): string {
    for (const ch of t) {
      if (!isXmlChar(ch.codePointAt(0)!)) this.fail('character not allowed in XML');
    }
    return t;
  }

  private startTag(parentScope: Map<string, string>): { frame: Frame; selfClosing: boolean } {
    this.count();
    this.i++; // '<'
    const qname = this.name();
    const raw: Array<{ qn: string; value: string }> = [];
    let selfClosing = false;
    for (;;) {
      const before = this.i;
      this.skipSpace();
      if (this.startsWith('/>')) {
        this.i += 2;
        selfClosing = true;
        break;
      }
      if (this.s[this.i] === '>') {
        this.i++;
        break;
      }
      if (this.i === before) this.fail('expected whitespace, > or />');
      const qn = this.name();
      this.skipSpace();
      if (this.s[this.i] !== '=') this.fail('expected =');
      this.i++;
      this.skipSpace();
      const q = this.s[this.i];
      if (q !== '"' && q !== "'") this.fail('expected a quoted attribute value');
      this.i++;
      let value = '';
      for (;;) {
        if (this.i >= this.s.length) this.fail('unterminated attribute value');
        const ch = this.s[this.i]!;
        if (ch === q) {
          this.i++;
          break;
        }
        if (ch === '<') this.fail('< in attribute value');
        if (ch === '&') {
          value += this.reference();
          continue;
        }
        value += ch === '\t' || ch === '\n' || ch === '\r' ? ' ' : ch;
        this.i++;
      }
      this.checkChars(value);
      if (raw.some((a) => a.qn === qn)) this.fail(`duplicate attribute ${qn}`);
      raw.push({ qn, value });
      if (raw.length > this.lim.maxAttrs) this.fail(`more than ${this.lim.maxAttrs} attributes`);
    }
    let scope = parentScope;
    for (const a of raw) {
      if (a.qn === 'xmlns' || a.qn.startsWith('xmlns:')) {
        if (scope === parentScope) scope = new Map(parentScope);
        const prefix = a.qn === 'xmlns' ? '' : a.qn.slice(6);
        if (prefix === 'xmlns') this.fail('the xmlns prefix cannot be declared');
        if (prefix === 'xml' ? a.value !== XML_NS : a.value === XML_NS || a.value === XMLNS_NS) this.fail(`reserved namespace misuse for prefix '${prefix}'`);
        // XML Namespaces 1.0 §2.2: only the default namespace may be undeclared.
        if (prefix !== '' && a.value === '') this.fail(`empty namespace name for prefix '${prefix}'`);
        if (prefix.includes(':')) this.fail(`bad prefix '${prefix}'`);
        scope.set(prefix, a.value);
      }
    }
    const el: XmlElement = { ...this.resolve(qname, scope, true), attrs: [], children: [] };
    const seen = new Set<string>();
    for (const a of raw) {
      if (a.qn === 'xmlns' || a.qn.startsWith('xmlns:')) continue;
      const n = this.resolve(a.qn, scope, false);
      const key = `${n.ns}\u0000${n.local}`;
      if (seen.has(key)) this.fail(`duplicate attribute {${n.ns}}${n.local}`);
      seen.add(key);
      el.attrs.push({ ...n, value: a.value });
    }
    return { frame: { el, qname, scope }, selfClosing };
  }

  private resolve(qn: string, scope: Map<string, string>, isElement: boolean): { ns: string; local: string } {
    const colon = qn.indexOf(':');
    if (colon < 0) return { ns: isElement ? (scope.get('') ?? '') : '', local: qn };
    const prefix = qn.slice(0, colon);
    const local = qn.slice(colon + 1);
    if (prefix === '' || local === '' || local.includes(':')) this.fail(`bad qualified name '${qn}'`);
    const ns = scope.get(prefix);
    if (ns === undefined) this.fail(`undeclared namespace prefix '${prefix}'`);
    return { ns, local };
  }

  private reference(): string {
    const end = this.s.indexOf(';', this.i);
    if (end < 0 || end - this.i > 12) this.fail('bad entity reference');
    const body = this.s.slice(this.i + 1, end);
    this.i = end + 1;
    switch (body) {
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'amp':
        return '&';
      case 'apos':
        return "'";
      case 'quot':
        return '"';
    }
    let cp: number;
    if (/^#x[0-9a-fA-F]+$/.test(body)) cp = parseInt(body.slice(2), 16);
    else if (/^#[0-9]+$/.test(body)) cp = parseInt(body.slice(1), 10);
    else this.fail(`undefined entity &${body};`);
    if (!isXmlChar(cp)) this.fail(`character reference &${body}; is not an XML character`);
    return String.fromCodePoint(cp);
  }
}

// ---- serializing ----

export function escapeText(s: string): string {
  return s.replace(/[&<>\r]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&#13;'));
}

export function escapeAttr(s: string): string {
  return s.replace(/[&<>"\t\n\r]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Serializes nodes as the content of an element whose default namespace is
 * `defaultNs`, with no prefixes: an element whose namespace differs from the
 * enclosing default declares its own (`xmlns="…"`), so the output is
 * well-formed wherever it is placed and means what the input meant.
 */
export function serializeNodes(nodes: readonly XmlNode[], defaultNs: string): string {
  let out = '';
  for (const n of nodes) out += typeof n === 'string' ? escapeText(n) : serializeElement(n, defaultNs);
  return out;
}

export function serializeElement(el: XmlElement, defaultNs: string): string {
  let out = `<${el.local}`;
  if (el.ns !== defaultNs) out += ` xmlns="${escapeAttr(el.ns)}"`;
  const prefixes = new Map<string, string>();
  for (const a of el.attrs) {
    let name = a.local;
    if (a.ns === XML_NS) name = `xml:${a.local}`;
    else if (a.ns !== '') {
      let p = prefixes.get(a.ns);
      if (p === undefined) {
        p = `a${prefixes.size}`;
        prefixes.set(a.ns, p);
        out += ` xmlns:${p}="${escapeAttr(a.ns)}"`;
      }
      name = `${p}:${a.local}`;
    }
    out += ` ${name}="${escapeAttr(a.value)}"`;
  }
  if (el.children.length === 0) return out + '/>';
  return `${out}>${serializeNodes(el.children, el.ns)}</${el.local}>`;
}

/** The element children of `el` (text and whitespace dropped). */
export function elements(el: XmlElement): XmlElement[] {
  return el.children.filter((c): c is XmlElement => typeof c !== 'string');
}

/** The first child element with this namespace and local name. */
export function child(el: XmlElement, ns: string, local: string): XmlElement | undefined {
  return elements(el).find((c) => c.ns === ns && c.local === local);
}

/** Concatenated text content of a node and its descendants. */
export function textOf(n: XmlNode): string {
  if (typeof n === 'string') return n;
  let s = '';
  const stack: XmlNode[] = [n];
  while (stack.length) {
    const x = stack.pop()!;
    if (typeof x === 'string') s += x;
    else for (let k = x.children.length - 1; k >= 0; k--) stack.push(x.children[k]!);
  }
  return s;
}
