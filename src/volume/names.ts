/**
 * Volume names, the templates they come from, and the reserved names the
 * volume layer keeps for itself under the base directory:
 *
 *   <base>/
 *     ns/pvc/                      a managed volume (holds MARKER)
 *     ns/.mountless-new-<rand>/    a volume being created, renamed into place when complete
 *     archived-ns/pvc-<stamp>/     an archived volume ('archived-' + name + '-' + stamp)
 *     .mountless-trash/<key>@<stamp>-<rand>/       a volume being deleted
 *     .mountless-snapshots/<key>@<stamp>/<key>.tar.gz   snapshots, csi-driver-nfs's layout
 *
 * `key` is the name flattened into one component ('/' → %2F), or a hash of it
 * when that would not fit in a file name.
 */
import { createHash, randomBytes } from 'node:crypto';
import { VolumeError } from './errors.js';

/** The marker file that makes a directory a managed volume. */
export const MARKER = '.mountless.json';
/** Directory under the base where deleted volumes wait to be removed (a delete renames into it first). */
export const TRASH_DIR = '.mountless-trash';
/** Directory under the base holding snapshots on the export, one sub-directory per snapshot id. */
export const SNAPSHOT_DIR = '.mountless-snapshots';
/** Prefix of a volume directory under construction, next to where it will be renamed to. */
export const STAGING_PREFIX = '.mountless-new-';
/** Prefix of the top directory a volume deleted with `onDelete: 'archive'` is renamed to. */
export const ARCHIVE_PREFIX = 'archived-';
/** Read-only snapshot directories some filers show inside every directory (NetApp, Isilon). */
export const SNAPSHOT_DIRNAME = '.snapshot';

const NAME_MAX = 255;
export const MAX_DEPTH = 8;
/** Room kept in the last component for '-<stamp>-<n>' when it is archived. */
const ARCHIVE_SUFFIX_ROOM = 24;
/** Longest flattened name used verbatim in trash and snapshot names; longer ones are hashed. */
const FLAT_MAX = 200;

const CONTROL = /[\x00-\x1f\x7f]/;
const VAR = /\$\{([A-Za-z0-9_.-]+)\}/g;

/**
 * Expands `${var}` references, as the NFS provisioners' path patterns do
 * (`${namespace}/${pvc}`). Names are looked up verbatim in `vars`, so
 * `${pvc.metadata.name}` works with a flat record. A value may not contain
 * '/': a claim's name must not be able to add path components.
 */
export function expandTemplate(template: string, vars: Readonly<Record<string, string | undefined>>): string {
  if (typeof template !== 'string' || template === '') throw new VolumeError('ERR_VOLUME_TEMPLATE', 'the template is empty');
  const rest = template.replace(VAR, '');
  if (rest.includes('${')) throw new VolumeError('ERR_VOLUME_TEMPLATE', `malformed \${...} in template '${template}'`);
  return template.replace(VAR, (_, key: string) => {
    const v = Object.prototype.hasOwnProperty.call(vars, key) ? vars[key] : undefined;
    if (typeof v !== 'string') throw new VolumeError('ERR_VOLUME_TEMPLATE', `template '${template}' needs \${${key}}, which was not given`);
    if (v.includes('/')) throw new VolumeError('ERR_VOLUME_TEMPLATE', `\${${key}} = '${v}' contains '/'`);
    return v;
  });
}

/**
 * Validates a volume name and returns its components. A name is relative to
 * the base: no leading or doubled '/', no '.' or '..', no control
 * characters, at most MAX_DEPTH components of at most 255 bytes (less room
 * for the archive suffix in the last one), and none of the names the volume
 * layer reserves (MARKER, '.mountless*', '.snapshot', a first component
 * starting 'archived-').
 */
export function volumeParts(name: unknown): string[] {
  const bad = (why: string): never => {
    throw new VolumeError('ERR_VOLUME_NAME', `invalid volume name ${JSON.stringify(name)}: ${why}`, typeof name === 'string' ? name : undefined);
  };
  if (typeof name !== 'string') return bad('not a string');
  if (name === '') return bad('empty');
  if (name.startsWith('/')) return bad('absolute (names are relative to the base directory)');
  if (CONTROL.test(name)) return bad('control characters');
  const parts = name.split('/');
  if (parts.length > MAX_DEPTH) bad(`more than ${MAX_DEPTH} components`);
  parts.forEach((p, i) => {
    if (p === '') bad(i === parts.length - 1 ? "ends in '/'" : "empty component ('//')");
    if (p === '.' || p === '..') bad(`'${p}' component`);
    // Archiving prefixes the first component and suffixes the last (one component may be both).
    const room = NAME_MAX - (i === parts.length - 1 ? ARCHIVE_SUFFIX_ROOM : 0) - (i === 0 ? ARCHIVE_PREFIX.length : 0);
    if (Buffer.byteLength(p) > room) bad(`component longer than ${room} bytes`);
    if (p === MARKER || p === SNAPSHOT_DIRNAME || p.startsWith('.mountless')) bad(`'${p}' is reserved`);
  });
  if (parts[0]!.startsWith(ARCHIVE_PREFIX)) bad(`'${ARCHIVE_PREFIX}*' is reserved for archives`);
  return parts;
}

/** UTC, second resolution, sortable and safe in file names: 20250102T030405Z. */
export function stamp(d: Date = new Date()): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** Parses stamp() back; undefined if `s` is not one. */
export function parseStamp(s: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return undefined;
  const d = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** The components of `name`'s archive: 'ns/pvc' → ['archived-ns', 'pvc-<stamp>'], 'pvc' → ['archived-pvc-<stamp>']. `n` > 0 adds '-n' after a collision. */
export function archiveParts(parts: readonly string[], when: Date, n = 0): string[] {
  const suffix = `-${stamp(when)}${n > 0 ? `-${n}` : ''}`;
  const out = parts.slice();
  out[0] = ARCHIVE_PREFIX + out[0];
  out[out.length - 1] += suffix;
  return out;
}

/** One file-name component standing for a whole volume name, reversible while short enough. */
export function volumeKey(name: string): string {
  const flat = name.replace(/[%/@]/g, (c) => (c === '%' ? '%25' : c === '/' ? '%2F' : '%40'));
  if (Buffer.byteLength(flat) <= FLAT_MAX) return flat;
  return '#' + createHash('sha256').update(name).digest('hex').slice(0, 40);
}

/** The name a key stands for; undefined for a hashed key (the name is then only in the marker). */
export function keyName(key: string): string | undefined {
  if (key.startsWith('#')) return undefined;
  return key.replace(/%(2F|25|40)/gi, (_, h: string) => (h === '2F' || h === '2f' ? '/' : h === '25' ? '%' : '@'));
}

/** A trash entry for `name`: '<key>@<stamp>-<rand>'. */
export function trashEntry(name: string, when: Date = new Date()): string {
  return `${volumeKey(name)}@${stamp(when)}-${randomBytes(4).toString('hex')}`;
}

export interface ParsedTrashEntry {
  key: string;
  /** Undefined when the key is a hash. */
  name: string | undefined;
  when: Date | undefined;
}

export function parseTrashEntry(entry: string): ParsedTrashEntry | undefined {
  const at = entry.lastIndexOf('@');
  if (at <= 0) return undefined;
  const m = /^(\d{8}T\d{6}Z)-[0-9a-f]+$/.exec(entry.slice(at + 1));
  if (!m) return undefined;
  const key = entry.slice(0, at);
  return { key, name: keyName(key), when: parseStamp(m[1]!) };
}

/** A staging directory name: '.mountless-new-<rand>'. */
export function stagingName(): string {
  return STAGING_PREFIX + randomBytes(6).toString('hex');
}

/** Whether `name` is a silly-renamed file: the Linux client's '.nfs' + hex for a file unlinked while open. */
export function isSillyRename(name: string): boolean {
  return /^\.nfs[0-9a-fA-F]{8,}$/.test(name);
}
