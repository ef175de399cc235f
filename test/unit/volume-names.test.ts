// Volume names: templates as the NFS provisioners write them, the validation
// that keeps every name inside the base directory, and the reserved names
// (archives, trash, staging, snapshots) built from them.
import t from 'tap';
import { VolumeError } from '../../src/volume/errors.js';
import {
  archiveParts,
  expandTemplate,
  isSillyRename,
  keyName,
  parseStamp,
  parseTrashEntry,
  stamp,
  stagingName,
  trashEntry,
  volumeKey,
  volumeParts,
} from '../../src/volume/names.js';

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof VolumeError ? err.code : `not a VolumeError: ${String(err)}`;
  }
};

t.test('expandTemplate: variables, nested paths, literal text', async (t) => {
  t.equal(expandTemplate('${namespace}/${pvc}', { namespace: 'team-a', pvc: 'data' }), 'team-a/data');
  t.equal(expandTemplate('${pvc.metadata.namespace}-${pvc.metadata.name}', { 'pvc.metadata.namespace': 'ns', 'pvc.metadata.name': 'n' }), 'ns-n');
  t.equal(expandTemplate('static/${a}/x${b}y', { a: '1', b: '2' }), 'static/1/x2y');
  t.equal(expandTemplate('no-vars', {}), 'no-vars');
  t.equal(expandTemplate('cost$5/${a}', { a: 'z' }), 'cost$5/z', "a '$' not followed by '{' is literal");
});

t.test('expandTemplate: refuses what would change the path shape', async (t) => {
  t.equal(code(() => expandTemplate('${namespace}/${pvc}', { namespace: 'ns' })), 'ERR_VOLUME_TEMPLATE', 'missing variable');
  t.equal(code(() => expandTemplate('${pvc}', { pvc: '../etc' })), 'ERR_VOLUME_TEMPLATE', "a value with '/' cannot add components");
  t.equal(code(() => expandTemplate('${pvc', { pvc: 'x' })), 'ERR_VOLUME_TEMPLATE', 'unterminated');
  t.equal(code(() => expandTemplate('${}', {})), 'ERR_VOLUME_TEMPLATE', 'empty variable name');
  t.equal(code(() => expandTemplate('', {})), 'ERR_VOLUME_TEMPLATE');
  t.equal(code(() => expandTemplate('${toString}', {})), 'ERR_VOLUME_TEMPLATE', 'prototype keys are not variables');
  // A value of '..' passes the template but not the name check.
  t.equal(code(() => volumeParts(expandTemplate('${ns}/${pvc}', { ns: '..', pvc: 'x' }))), 'ERR_VOLUME_NAME');
});

t.test('volumeParts: valid names', async (t) => {
  t.same(volumeParts('pvc-1'), ['pvc-1']);
  t.same(volumeParts('ns/pvc'), ['ns', 'pvc']);
  t.same(volumeParts('a/b/c/d'), ['a', 'b', 'c', 'd']);
  t.same(volumeParts('.hidden-ok/x'), ['.hidden-ok', 'x']);
  t.same(volumeParts('ünïcødé/日本'), ['ünïcødé', '日本']);
  t.same(volumeParts('ns/archived-x'), ['ns', 'archived-x'], "'archived-' is only reserved at the top");
});

t.test('volumeParts: everything that could leave the base or hit reserved names is refused', async (t) => {
  const bad: unknown[] = [
    '',
    '/abs',
    '/',
    'a//b',
    'a/',
    '.',
    '..',
    'a/..',
    '../x',
    'a/./b',
    'a/../../etc',
    'x\0y',
    'x\ny',
    'tab\there',
    '.mountless.json',
    'ns/.mountless.json',
    '.mountless-trash',
    '.mountless-trash/x',
    '.mountless-snapshots',
    'ns/.mountless-new-abc',
    '.snapshot',
    'ns/.snapshot',
    'archived-pvc',
    'archived-ns/pvc',
    'a/b/c/d/e/f/g/h/i',
    'x'.repeat(250),
    'ns/' + 'y'.repeat(240),
    42,
    undefined,
    null,
  ];
  for (const name of bad) t.equal(code(() => volumeParts(name)), 'ERR_VOLUME_NAME', JSON.stringify(name) ?? String(name));
  t.same(volumeParts('ns/' + 'x'.repeat(231)), ['ns', 'x'.repeat(231)], 'the longest last component leaves room for the archive suffix');
  t.same(volumeParts('x'.repeat(222)), ['x'.repeat(222)], 'a single component leaves room for prefix and suffix');
  t.equal(code(() => volumeParts('x'.repeat(223))), 'ERR_VOLUME_NAME');
});

t.test('archive names: archived-<name>-<stamp>, nested under archived-<first>', async (t) => {
  const when = new Date('2025-01-02T03:04:05.678Z');
  t.equal(stamp(when), '20250102T030405Z');
  t.same(parseStamp('20250102T030405Z'), new Date('2025-01-02T03:04:05Z'));
  t.equal(parseStamp('2025-01-02'), undefined);
  t.same(archiveParts(['pvc'], when), ['archived-pvc-20250102T030405Z']);
  t.same(archiveParts(['ns', 'pvc'], when), ['archived-ns', 'pvc-20250102T030405Z']);
  t.same(archiveParts(['a', 'b', 'c'], when, 2), ['archived-a', 'b', 'c-20250102T030405Z-2']);
  for (const longest of [volumeParts('ns/' + 'z'.repeat(231)), volumeParts('z'.repeat(222)), volumeParts('y'.repeat(246) + '/z')]) {
    for (const c of archiveParts(longest, when, 99)) t.ok(Buffer.byteLength(c) <= 255, `archive component of ${c.length} bytes fits NAME_MAX`);
  }
});

t.test('trash entries: the key gives the name back; long names are hashed', async (t) => {
  const when = new Date('2025-06-07T08:09:10Z');
  for (const name of ['pvc', 'ns/pvc', 'a%b/c@d', 'x/y/z']) {
    const e = trashEntry(name, when);
    t.match(e, /@20250607T080910Z-[0-9a-f]{8}$/);
    t.notOk(e.includes('/'), 'one component');
    const p = parseTrashEntry(e)!;
    t.equal(p.name, name, `${name} round-trips`);
    t.equal(p.key, volumeKey(name));
    t.same(p.when, when);
  }
  t.not(trashEntry('a', when), trashEntry('a', when), 'two deletes of one name in one second do not collide');
  const long = ['a'.repeat(200), 'b'.repeat(200)].join('/');
  const key = volumeKey(long);
  t.match(key, /^#[0-9a-f]{40}$/);
  t.equal(keyName(key), undefined);
  t.equal(volumeKey(long), key, 'stable');
  t.ok(Buffer.byteLength(trashEntry(long)) <= 255);
  t.equal(parseTrashEntry('no-at-sign'), undefined);
  t.equal(parseTrashEntry('x@notastamp-00'), undefined);
  t.not(volumeKey('a/b'), volumeKey('a%2Fb'), "'%' is escaped too, so keys are unambiguous");
});

t.test('staging names and silly renames', async (t) => {
  t.match(stagingName(), /^\.mountless-new-[0-9a-f]{12}$/);
  t.not(stagingName(), stagingName());
  t.ok(isSillyRename('.nfs000000000012345600000001'));
  t.ok(isSillyRename('.nfsABCDEF0123'));
  t.notOk(isSillyRename('.nfs'));
  t.notOk(isSillyRename('.nfsrc'));
  t.notOk(isSillyRename('x.nfs00000000'));
});
