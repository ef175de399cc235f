/**
 * The WebDAV If header (RFC 4918 §10.4):
 *
 *   If = 1*No-tag-list | 1*Tagged-list
 *   Tagged-list = "<" Resource-Tag ">" 1*List
 *   List = "(" 1*Condition ")"
 *   Condition = ["Not"] ( "<" state-token ">" | "[" entity-tag "]" )
 *
 * Parsing is separate from evaluation: evaluation needs the state (ETag and
 * applicable lock tokens) of each resource the lists name, which the caller
 * looks up.
 */

export interface IfCondition {
  not: boolean;
  /** A state token (a lock token, or e.g. DAV:no-lock). */
  token?: string;
  /** An entity tag, quotes included. */
  etag?: string;
}

export interface IfList {
  /** The resource tag (a URI as written), or undefined for a no-tag list (the request URI). */
  tag: string | undefined;
  conditions: IfCondition[];
}

export class IfHeaderError extends Error {
  constructor(message: string) {
    super(`bad If header: ${message}`);
    this.name = 'IfHeaderError';
  }
}

export function parseIfHeader(value: string): IfList[] {
  const lists: IfList[] = [];
  let i = 0;
  let tag: string | undefined;
  let tagged: boolean | undefined;
  const s = value;
  const space = () => {
    while (i < s.length && /\s/.test(s[i]!)) i++;
  };
  const until = (close: string) => {
    const end = s.indexOf(close, i);
    if (end < 0) throw new IfHeaderError(`missing '${close}'`);
    const v = s.slice(i, end);
    i = end + 1;
    return v;
  };
  for (;;) {
    space();
    if (i >= s.length) break;
    if (s[i] === '<') {
      if (tagged === false) throw new IfHeaderError('tagged and untagged lists mixed');
      tagged = true;
      i++;
      tag = until('>');
      if (tag === '') throw new IfHeaderError('empty resource tag');
      space();
      if (s[i] !== '(') throw new IfHeaderError('a resource tag must be followed by a list');
      continue;
    }
    if (s[i] !== '(') throw new IfHeaderError(`unexpected '${s[i]}'`);
    if (tagged === undefined) tagged = false;
    i++;
    const conditions: IfCondition[] = [];
    for (;;) {
      space();
      if (s[i] === ')') {
        i++;
        break;
      }
      let not = false;
      if (/^not\b/i.test(s.slice(i, i + 4))) {
        not = true;
        i += 3;
        space();
      }
      if (s[i] === '<') {
        i++;
        const token = until('>');
        if (token === '') throw new IfHeaderError('empty state token');
        conditions.push({ not, token });
      } else if (s[i] === '[') {
        i++;
        const etag = until(']').trim();
        if (etag === '') throw new IfHeaderError('empty entity tag');
        conditions.push({ not, etag });
      } else throw new IfHeaderError(i >= s.length ? 'unterminated list' : `unexpected '${s[i]}' in a list`);
    }
    if (conditions.length === 0) throw new IfHeaderError('empty list');
    lists.push({ tag: tagged ? tag : undefined, conditions });
  }
  if (lists.length === 0) throw new IfHeaderError('no lists');
  return lists;
}

/** The state of one resource, as conditions see it. */
export interface ResourceState {
  /** Current ETag; undefined if the resource does not exist. */
  etag: string | undefined;
  /** Tokens of the locks that apply to the resource. */
  tokens: ReadonlySet<string>;
}

export interface IfOutcome {
  /** The header as a whole holds (some list holds). */
  ok: boolean;
  /**
   * Lock tokens submitted with the request: the positive token conditions
   * of the lists that held. Only these satisfy a lock (§7.5/§10.4).
   */
  submitted: Set<string>;
}

function etagEqual(a: string, b: string): boolean {
  const strip = (x: string) => (x.startsWith('W/') ? x.slice(2) : x);
  return strip(a) === strip(b);
}

/**
 * Evaluates parsed lists. `state(tag)` returns the state of the resource a
 * tag names (undefined tag: the request URI), or undefined when the tag
 * names something outside this server, whose conditions then fail.
 */
export async function evaluateIf(lists: readonly IfList[], state: (tag: string | undefined) => Promise<ResourceState | undefined>): Promise<IfOutcome> {
  const submitted = new Set<string>();
  const cache = new Map<string, Promise<ResourceState | undefined>>();
  let ok = false;
  for (const list of lists) {
    const key = list.tag ?? '';
    let p = cache.get(key);
    if (!p) {
      p = state(list.tag);
      cache.set(key, p);
    }
    const st = await p;
    // A list about a resource we cannot evaluate (another server, outside the jail) never holds.
    const holds =
      st !== undefined &&
      list.conditions.every((c) => {
        const v = c.token !== undefined ? st.tokens.has(c.token) : st.etag !== undefined && etagEqual(c.etag!, st.etag);
        return c.not ? !v : v;
      });
    if (holds) {
      ok = true;
      for (const c of list.conditions) if (!c.not && c.token !== undefined) submitted.add(c.token);
    }
  }
  return { ok, submitted };
}

/** The single token of a Lock-Token header (`<token>`). */
export function parseLockTokenHeader(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*<([^>]+)>\s*$/.exec(value);
  return m ? m[1] : undefined;
}
