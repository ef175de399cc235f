// WebDAV pieces without a server: the If header, the lock manager, dead-property file naming.
import t from 'tap';
import { evaluateIf, IfHeaderError, parseIfHeader, parseLockTokenHeader, type ResourceState } from '../../src/sidecar/if-header.js';
import { ancestorsOf, LockLimitError, LockManager } from '../../src/sidecar/locks.js';
import { propsFileOf } from '../../src/sidecar/props.js';

t.test('If header: untagged and tagged lists, Not, etags', async (t) => {
  t.same(parseIfHeader('(<opaquelocktoken:abc> ["e1"])'), [{ tag: undefined, conditions: [{ not: false, token: 'opaquelocktoken:abc' }, { not: false, etag: '"e1"' }] }]);
  t.same(parseIfHeader('(<t1>) (Not <DAV:no-lock>)'), [
    { tag: undefined, conditions: [{ not: false, token: 't1' }] },
    { tag: undefined, conditions: [{ not: true, token: 'DAV:no-lock' }] },
  ]);
  t.same(parseIfHeader('<http://h/a> (<t1>) (["x"]) <http://h/b> (Not ["y"])'), [
    { tag: 'http://h/a', conditions: [{ not: false, token: 't1' }] },
    { tag: 'http://h/a', conditions: [{ not: false, etag: '"x"' }] },
    { tag: 'http://h/b', conditions: [{ not: true, etag: '"y"' }] },
  ]);
  t.same(parseIfHeader('(NOT<t>)')[0]!.conditions[0], { not: true, token: 't' }, 'Not is case-insensitive');
  for (const bad of ['', '()', '(<t>', '<http://h/a>', '(<t>) <http://h/a> (<u>)', 'garbage', '(<>)', '([])', '(x)']) {
    t.throws(() => parseIfHeader(bad), IfHeaderError, JSON.stringify(bad));
  }
});

t.test('If header evaluation: any list holds; submitted tokens come from lists that held', async (t) => {
  const states: Record<string, ResourceState> = {
    '': { etag: '"e1"', tokens: new Set(['tok']) },
    'http://h/coll/': { etag: '"c"', tokens: new Set(['ctok']) },
  };
  const state = async (tag: string | undefined) => states[tag ?? ''];
  const ev = (h: string) => evaluateIf(parseIfHeader(h), state);
  t.same(await ev('(<tok> ["e1"])'), { ok: true, submitted: new Set(['tok']) });
  t.same(await ev('(<DAV:no-lock> ["e1"])'), { ok: false, submitted: new Set() });
  t.same(await ev('(<tok>) (Not <DAV:no-lock>)'), { ok: true, submitted: new Set(['tok']) });
  t.same(await ev('(<tokx>) (Not <DAV:no-lock>)'), { ok: true, submitted: new Set() }, 'holds, but submits no real token (423 follows)');
  t.same(await ev('(<tok> ["e2"]) (Not <DAV:no-lock> ["e2"])'), { ok: false, submitted: new Set() });
  t.same(await ev('(Not ["e1"])'), { ok: false, submitted: new Set() });
  t.same(await ev('<http://h/coll/> (<ctok>)'), { ok: true, submitted: new Set(['ctok']) }, 'a tagged list is evaluated on its resource');
  t.same(await ev('<http://elsewhere/> (Not <x>)'), { ok: false, submitted: new Set() }, 'a resource we cannot see fails its conditions');
  t.same(await ev('(W/"e1")'.replace('W/"e1"', '[W/"e1"]')), { ok: true, submitted: new Set() }, 'weak etag compares by opaque value');
  t.equal(parseLockTokenHeader(' <opaquelocktoken:x> '), 'opaquelocktoken:x');
  t.equal(parseLockTokenHeader('opaquelocktoken:x'), undefined);
  t.equal(parseLockTokenHeader(undefined), undefined);
});

t.test('locks: coverage by depth, conflicts by scope', async (t) => {
  const lm = new LockManager();
  t.same(ancestorsOf('/a/b/c'), ['/a/b/c', '/a/b', '/a', '/']);
  t.same(ancestorsOf('/'), ['/']);
  const coll = lm.create('/coll', 'infinity', 'exclusive', undefined, 60);
  const file = lm.create('/other/f', 0, 'shared', undefined, 60);
  t.match(coll.token, /^opaquelocktoken:[0-9a-f-]{36}$/);
  t.same(lm.covering('/coll/x/y').map((l) => l.token), [coll.token], 'depth infinity covers descendants');
  t.same(lm.covering('/coll'), [coll]);
  t.same(lm.covering('/collx'), [], 'a name prefix is not a descendant');
  t.same(lm.covering('/other'), [], 'a depth-0 lock does not cover its parent');
  t.same(lm.covering('/other/f/g'), [], 'nor anything below it');
  t.same(lm.below('/other'), [file]);
  t.same(lm.below('/'), [coll, file].sort((a, b) => a.root.localeCompare(b.root)));
  t.same(lm.conflicts('/coll/x', 0, 'shared'), [coll], 'exclusive blocks shared below it');
  t.same(lm.conflicts('/other/f', 0, 'shared'), [], 'shared + shared');
  t.same(lm.conflicts('/other/f', 0, 'exclusive'), [file]);
  t.same(lm.conflicts('/other', 'infinity', 'exclusive'), [file], 'an infinite lock conflicts with locks below it');
  t.same(lm.conflicts('/other', 0, 'exclusive'), [], 'a depth-0 lock on the parent does not');
  t.ok(lm.unlock(file.token));
  t.notOk(lm.unlock(file.token));
  lm.removeTree('/coll');
  t.equal(lm.size, 0);
});

t.test('locks: timeouts granted, refreshed, expired', async (t) => {
  let now = 1_000_000;
  const lm = new LockManager({ defaultTimeout: 100, maxTimeout: 3600, now: () => now });
  t.equal(lm.grantTimeout(undefined), 100);
  t.equal(lm.grantTimeout('Second-60'), 60);
  t.equal(lm.grantTimeout('Second-99999'), 3600, 'capped');
  t.equal(lm.grantTimeout('Infinite, Second-4100000000'), 3600, 'Infinite is the cap');
  t.equal(lm.grantTimeout('Bogus, Second-30'), 30, 'first usable value');
  const l = lm.create('/f', 0, 'exclusive', undefined, 60);
  t.equal(lm.remaining(l), 60);
  now += 59_000;
  t.equal(lm.get(l.token), l);
  lm.refresh(l, 60);
  now += 59_000;
  t.equal(lm.get(l.token), l, 'refresh restarted the clock');
  now += 2_000;
  t.equal(lm.get(l.token), undefined, 'expired');
  t.same(lm.covering('/f'), []);
  t.equal(lm.size, 0, 'and dropped');
});

t.test('locks: a cap on how many', async (t) => {
  const lm = new LockManager({ maxLocks: 2 });
  lm.create('/a', 0, 'shared', undefined, 10);
  lm.create('/b', 0, 'shared', undefined, 10);
  t.throws(() => lm.create('/c', 0, 'shared', undefined, 10), LockLimitError);
});

t.test('dead properties live beside the resource, under a reserved name', async (t) => {
  t.equal(propsFileOf(['a', 'b.txt']), '/a/.mountless-props/b.txt.json');
  t.equal(propsFileOf(['top']), '/.mountless-props/top.json');
  t.equal(propsFileOf([]), '/.mountless-props/.mountless-root.json');
  const long = 'n'.repeat(251);
  t.match(propsFileOf(['d', long]), /^\/d\/\.mountless-props\/\.mountless-h-[0-9a-f]{64}\.json$/, 'long names hashed to fit NAME_MAX');
  t.not(propsFileOf(['d', long]), propsFileOf(['d', long + 'x']));
});
