// The sidecar's path jail: every way of spelling "above the volume root" is
// refused before anything reaches NFS, and plain names decode exactly once.
import t, { type Test } from 'tap';
import { fsPath, hrefOf, isWithin, JailError, parseDestination, parseRequestPath } from '../../src/sidecar/jail.js';

/** What a refusal looks like, for t.throws (matched by name and code). */
function jailError(why: string): Error {
  return { name: 'JailError', why } as unknown as Error;
}

function refused(t: Test, target: string, why?: string) {
  t.throws(() => parseRequestPath(target), why ? jailError(why) : JailError, `refused: ${JSON.stringify(target)}`);
}

t.test('plain paths decode to names', async (t) => {
  t.same(parseRequestPath('/'), { parts: [], slash: true });
  t.same(parseRequestPath('/a/b'), { parts: ['a', 'b'], slash: false });
  t.same(parseRequestPath('/a/b/'), { parts: ['a', 'b'], slash: true });
  t.same(parseRequestPath('/a//b'), { parts: ['a', 'b'], slash: false }, 'empty segments are skipped');
  t.same(parseRequestPath('/res-%e2%82%ac?x=1').parts, ['res-€'], 'UTF-8 percent-encoding, query dropped');
  t.same(parseRequestPath('/a%20b/c%2Bd').parts, ['a b', 'c+d']);
  t.same(parseRequestPath('/...').parts, ['...'], "'...' is an ordinary name");
  t.same(parseRequestPath('/.hidden/..x/x..').parts, ['.hidden', '..x', 'x..']);
  t.same(parseRequestPath('*'), { parts: [], slash: true }, 'OPTIONS *');
  t.equal(fsPath(parseRequestPath('/a/b/')), '/a/b');
  t.equal(fsPath([]), '/');
});

t.test('dot segments, literal and encoded, are refused', async (t) => {
  for (const p of ['/..', '/../etc/passwd', '/a/../../x', '/a/..', '/./a', '/a/.', '/%2e%2e/x', '/%2E%2E/x', '/.%2e/x', '/%2e./x', '/a/%2e', '/%2e%2e%2f%2e%2e/x']) {
    refused(t, p, 'traversal');
  }
});

t.test('encoded slashes, NUL and raw backslashes are refused', async (t) => {
  refused(t, '/a%2fb', 'traversal');
  refused(t, '/a%2Fb', 'traversal');
  refused(t, '/..%2f', 'traversal');
  refused(t, '/..%2Fetc', 'traversal');
  refused(t, '/%2e%2e/', 'traversal');
  refused(t, '/a\\b', 'traversal');
  refused(t, '/..\\..\\x', 'traversal');
  refused(t, '/a%00b', 'bad-name');
  refused(t, '/%00', 'bad-name');
});

t.test('names another NFS client may make are plain names: decoded once, never again', async (t) => {
  // What a client sends with encodeURIComponent per segment (rclone does the same) is the name itself.
  const names = ['back\\slash.txt', 'C:\\dir\\file.txt', '%2e%2e.txt', 'v1%2E2.txt', '%2e%2e', '%2F', '%00', '..%2f', '..\\..\\x', '%252e', 'line\nbreak', 'tab\there', 'del\u007f'];
  for (const n of names) {
    t.same(parseRequestPath('/dir/' + encodeURIComponent(n)).parts, ['dir', n], `${JSON.stringify(n)} round-trips`);
    t.same(parseRequestPath(hrefOf(['dir', n], false)).parts, ['dir', n], `${JSON.stringify(n)} round-trips through hrefOf`);
  }
  t.same(parseRequestPath('/%252e%252e/x').parts, ['%2e%2e', 'x'], "a double-encoded '..' is the literal name '%2e%2e', inside the volume");
  t.same(parseRequestPath('/a%5C..%5Cb').parts, ['a\\..\\b'], 'an encoded backslash is part of a name, not a separator');
});

t.test('bad encodings, fragments, relative targets', async (t) => {
  refused(t, '/a%zz', 'bad-encoding');
  refused(t, '/a%', 'bad-encoding');
  refused(t, '/a%e2%82', 'bad-encoding');
  refused(t, '/%c0%ae%c0%ae/x', 'bad-encoding');
  refused(t, '/frag/#ment', 'bad-name');
  refused(t, 'a/b', 'bad-name');
  refused(t, 'http://h/a', 'bad-name');
});

t.test('reserved names and limits', async (t) => {
  refused(t, '/.mountless-props/x.json', 'reserved');
  refused(t, '/a/.mountless-upload-1234', 'reserved');
  refused(t, '/a/%2emountless-props', 'reserved');
  refused(t, '/' + 'x'.repeat(256), 'too-long');
  t.same(parseRequestPath('/' + 'x'.repeat(255)).parts.length, 1, '255 bytes is fine');
  refused(t, '/' + 'a/'.repeat(200), 'too-long');
});

t.test('Destination headers: same server only, same jail', async (t) => {
  t.same(parseDestination('http://127.0.0.1:8080/a/b', '127.0.0.1:8080'), { parts: ['a', 'b'], slash: false });
  t.same(parseDestination('/a/b/', '127.0.0.1:8080'), { parts: ['a', 'b'], slash: true }, 'an absolute path (RFC 4918)');
  t.same(parseDestination('HTTP://LOCALHOST:80/x', 'localhost'), { parts: ['x'], slash: false }, 'scheme and host case, default port');
  t.same(parseDestination('http://h', 'h'), { parts: [], slash: true });
  t.equal(parseDestination('http://evil.example/x', '127.0.0.1:8080'), 'other-server');
  t.equal(parseDestination('http://127.0.0.1:9999/x', '127.0.0.1:8080'), 'other-server');
  t.equal(parseDestination('ftp://127.0.0.1:8080/x', '127.0.0.1:8080'), 'other-server');
  t.equal(parseDestination('http://127.0.0.1:8080/x', undefined), 'other-server');
  t.throws(() => parseDestination('http://127.0.0.1:8080/a/../../etc', '127.0.0.1:8080'), jailError('traversal'));
  t.throws(() => parseDestination('http://127.0.0.1:8080/%2e%2e/etc', '127.0.0.1:8080'), jailError('traversal'));
  t.throws(() => parseDestination('http://127.0.0.1:8080/..%2f..%2fetc', '127.0.0.1:8080'), jailError('traversal'));
  t.throws(() => parseDestination('/..\\..\\etc', '127.0.0.1:8080'), jailError('traversal'));
  t.same(parseDestination('http://127.0.0.1:8080/%252e%252e/etc', '127.0.0.1:8080'), { parts: ['%2e%2e', 'etc'], slash: false }, 'decoded once: a literal name');
  t.same(parseDestination('/..%5c..%5cetc', '127.0.0.1:8080'), { parts: ['..\\..\\etc'], slash: false }, 'one name with backslashes');
  t.throws(() => parseDestination('http://127.0.0.1:8080/.mountless-props/x', '127.0.0.1:8080'), jailError('reserved'));
});

t.test('hrefs encode names and round-trip', async (t) => {
  t.equal(hrefOf([], true), '/');
  t.equal(hrefOf(['a b', 'c#d', 'e?f', '€'], false), '/a%20b/c%23d/e%3Ff/%E2%82%AC');
  t.equal(hrefOf(['dir'], true), '/dir/');
  const names = ['sp ace', 'pct%25', 'hash#', 'q?', 'uni-€-😀', "quote'\"", '&amp;'];
  t.same(parseRequestPath(hrefOf(names, false)).parts, names);
  t.ok(isWithin(['a', 'b'], ['a']));
  t.ok(isWithin(['a'], ['a']));
  t.notOk(isWithin(['ab'], ['a']));
  t.notOk(isWithin(['a'], ['a', 'b']));
  t.ok(isWithin(['x'], []), 'everything is within the root');
});
