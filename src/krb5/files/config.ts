import { readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { Krb5Error } from '../errors.js';

/**
 * krb5.conf (MIT profile syntax): `[section]` headers, `name = value`
 * relations, `name = { ... }` subsections nested to any depth, comments
 * starting with '#' or ';'. A trailing '*' on a name or a closing brace
 * marks it final in MIT; we read the value and drop the marker. `include
 * FILE` and `includedir DIR` lines are collected for loadConfig() to follow.
 * Relations repeat (a realm lists several `kdc =`), so every value is a list.
 */
export interface ProfileNode {
  [name: string]: (string | ProfileNode)[];
}

export type Profile = Record<string, ProfileNode>;

/** `include` / `includedir` directives of one file, in order (they must start a line, as in MIT). */
export type Include = { kind: 'include' | 'includedir'; path: string };

const MAX_NESTING = 16;
const MAX_INCLUDE_DEPTH = 8;

export function parseProfile(text: string, what = 'krb5.conf', includes?: Include[]): Profile {
  const out: Profile = {};
  let section: ProfileNode | undefined;
  const stack: ProfileNode[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    const where = `${what}:${i + 1}`;
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const inc = /^(include|includedir)\s+(.+)$/.exec(raw.trimEnd());
    if (inc && raw.startsWith(inc[1]!)) {
      includes?.push({ kind: inc[1] as Include['kind'], path: inc[2]!.trim() });
      return;
    }
    if (line.startsWith('module ')) return;
    const sec = /^\[([^\]]+)\]\s*$/.exec(line);
    if (sec) {
      if (stack.length) throw new Krb5Error('ERR_KRB5_CONFIG', `krb5: ${where}: section [${sec[1]}] starts inside an unclosed { }`);
      section = out[sec[1]!] ??= {};
      return;
    }
    if (/^}\s*\*?$/.test(line)) {
      if (!stack.length) throw new Krb5Error('ERR_KRB5_CONFIG', `krb5: ${where}: '}' without an open '{'`);
      stack.pop();
      return;
    }
    if (!section) throw new Krb5Error('ERR_KRB5_CONFIG', `krb5: ${where}: relation before any [section]`);
    const rel = /^([^=\s]+?)\s*\*?\s*=\s*(.*)$/.exec(line);
    if (!rel) throw new Krb5Error('ERR_KRB5_CONFIG', `krb5: ${where}: expected 'name = value', found ${JSON.stringify(line)}`);
    const node = stack[stack.length - 1] ?? section;
    const name = rel[1]!;
    const value = rel[2]!.trim();
    if (value === '{') {
      if (stack.length >= MAX_NESTING) throw new Krb5Error('ERR_KRB5_CONFIG', `krb5: ${where}: nested deeper than ${MAX_NESTING} levels`);
      const child: ProfileNode = {};
      (node[name] ??= []).push(child);
      stack.push(child);
      return;
    }
    (node[name] ??= []).push(unquote(value));
  });
  if (stack.length) throw new Krb5Error('ERR_KRB5_CONFIG', `krb5: ${what}: ${stack.length} '{' never closed`);
  return out;
}

function unquote(v: string): string {
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) {
    return v.slice(1, -1).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c === 'b' ? '\b' : c));
  }
  return v;
}

/** Merge profiles in order; an earlier file's relations come first, as MIT's first-found-wins lookups expect. */
export function mergeProfiles(profiles: Profile[]): Profile {
  const out: Profile = {};
  for (const p of profiles) {
    for (const [sec, node] of Object.entries(p)) {
      const target = (out[sec] ??= {});
      for (const [k, v] of Object.entries(node)) (target[k] ??= []).push(...v);
    }
  }
  return out;
}

/** The settings the mechanism uses, looked up once. */
export interface Krb5Config {
  defaultRealm?: string;
  /** realm -> "host[:port]" list, in the order written. */
  realms: Map<string, { kdc: string[] }>;
  /** Allowed clock skew in seconds (libdefaults clockskew, default 300). */
  clockskew: number;
  /** libdefaults dns_canonicalize_hostname etc. are not used: we never resolve host names for principals. */
  defaultClientKeytab?: string;
  defaultCCacheName?: string;
  udpPreferenceLimit?: number;
}

function firstString(node: ProfileNode | undefined, key: string): string | undefined {
  const v = node?.[key]?.find((x): x is string => typeof x === 'string');
  return v;
}

export function configFromProfile(p: Profile): Krb5Config {
  const lib = p['libdefaults'];
  const realms = new Map<string, { kdc: string[] }>();
  for (const [realm, vals] of Object.entries(p['realms'] ?? {})) {
    const kdc: string[] = [];
    for (const v of vals) if (typeof v !== 'string') for (const k of v['kdc'] ?? []) if (typeof k === 'string') kdc.push(...k.split(/\s+/).filter(Boolean));
    const prev = realms.get(realm);
    if (prev) prev.kdc.push(...kdc);
    else realms.set(realm, { kdc });
  }
  const skew = firstString(lib, 'clockskew');
  const cfg: Krb5Config = { realms, clockskew: skew && /^\d+$/.test(skew) ? Number(skew) : 300 };
  const dr = firstString(lib, 'default_realm');
  if (dr) cfg.defaultRealm = dr;
  const kt = firstString(lib, 'default_client_keytab_name');
  if (kt) cfg.defaultClientKeytab = kt;
  const cc = firstString(lib, 'default_ccache_name');
  if (cc) cfg.defaultCCacheName = cc;
  const udp = firstString(lib, 'udp_preference_limit');
  if (udp && /^\d+$/.test(udp)) cfg.udpPreferenceLimit = Number(udp);
  return cfg;
}

/** Read the files KRB5_CONFIG names (':'-separated, as MIT), skipping the ones that do not exist, following include/includedir. */
export function loadConfig(paths: string[]): Krb5Config {
  const profiles: Profile[] = [];
  const seen = new Set<string>();
  const load = (path: string, depth: number, mustExist: boolean): void => {
    if (depth > MAX_INCLUDE_DEPTH) throw new Krb5Error('ERR_KRB5_CONFIG', `krb5: ${path}: includes nested deeper than ${MAX_INCLUDE_DEPTH}`);
    if (seen.has(path)) return;
    seen.add(path);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !mustExist) return;
      throw new Krb5Error('ERR_KRB5_CONFIG', `krb5: cannot read ${path}: ${(err as Error).message}`, { cause: err });
    }
    const includes: Include[] = [];
    profiles.push(parseProfile(text, path, includes));
    for (const inc of includes) {
      if (!isAbsolute(inc.path)) throw new Krb5Error('ERR_KRB5_CONFIG', `krb5: ${path}: ${inc.kind} path ${inc.path} is not absolute`);
      if (inc.kind === 'include') {
        load(inc.path, depth + 1, true);
        continue;
      }
      let names: string[];
      try {
        names = readdirSync(inc.path);
      } catch (err) {
        throw new Krb5Error('ERR_KRB5_CONFIG', `krb5: ${path}: cannot read includedir ${inc.path}: ${(err as Error).message}`, { cause: err });
      }
      // MIT's rule: only names of letters, digits, '-' and '_', or ending in .conf (so editor backups are skipped).
      for (const n of names.filter((n) => /^[A-Za-z0-9_-]+$/.test(n) || n.endsWith('.conf')).sort()) load(join(inc.path, n), depth + 1, true);
    }
  };
  for (const path of paths) load(path, 0, false);
  return configFromProfile(mergeProfiles(profiles));
}

/** A KDC address `host`, `host:port`, `[v6]:port`, or with a `tcp/`/`udp/` prefix as MIT allows; port 88 by default. */
export function parseKdcAddress(s: string): { host: string; port: number; transport?: 'tcp' | 'udp' } {
  let rest = s;
  let transport: 'tcp' | 'udp' | undefined;
  const t = /^(tcp|udp)\/(.*)$/i.exec(rest);
  if (t) {
    transport = t[1]!.toLowerCase() as 'tcp' | 'udp';
    rest = t[2]!;
  }
  let host = rest;
  let port = 88;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  if (v6) {
    host = v6[1]!;
    if (v6[2]) port = Number(v6[2]);
  } else {
    const hp = /^([^:]+):(\d+)$/.exec(rest);
    if (hp) {
      host = hp[1]!;
      port = Number(hp[2]);
    }
  }
  if (!host || port < 1 || port > 65535) throw new Krb5Error('ERR_KRB5_CONFIG', `krb5: KDC address ${JSON.stringify(s)} is not host[:port]`);
  return transport ? { host, port, transport } : { host, port };
}
