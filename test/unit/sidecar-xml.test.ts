// The WebDAV XML parser and serializer: namespaces, entities, refusals and limits.
import t from 'tap';
import { child, elements, parseXml, serializeElement, serializeNodes, textOf, XmlError, type XmlElement } from '../../src/sidecar/xml.js';

t.test('elements, namespaces and text', async (t) => {
  const x = parseXml('<?xml version="1.0" encoding="utf-8"?>\n<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/><x:foo xmlns:x="urn:x">hi</x:foo></D:prop></D:propfind>');
  t.equal(x.ns, 'DAV:');
  t.equal(x.local, 'propfind');
  const prop = child(x, 'DAV:', 'prop')!;
  t.same(
    elements(prop).map((e) => [e.ns, e.local]),
    [
      ['DAV:', 'getetag'],
      ['urn:x', 'foo'],
    ],
  );
  t.equal(textOf(elements(prop)[1]!), 'hi');
});

t.test('default namespace, undeclaring it, and unprefixed attributes', async (t) => {
  const x = parseXml(`<propertyupdate xmlns="DAV:"><set><prop><nonamespace xmlns="">v</nonamespace><a b="1" xmlns:p="urn:p" p:c="2"/></prop></set></propertyupdate>`);
  const prop = child(child(x, 'DAV:', 'set')!, 'DAV:', 'prop')!;
  const [nn, a] = elements(prop) as [XmlElement, XmlElement];
  t.equal(nn.ns, '', 'xmlns="" leaves the element in no namespace');
  t.equal(a.ns, 'DAV:');
  t.same(a.attrs, [
    { ns: '', local: 'b', value: '1' },
    { ns: 'urn:p', local: 'c', value: '2' },
  ]);
});

t.test('entities, character references and CDATA', async (t) => {
  const x = parseXml(`<a>&lt;&gt;&amp;&apos;&quot; &#65; &#x42; &#65536; <![CDATA[<raw> & ]]></a>`);
  t.equal(textOf(x), `<>&'" A B \u{10000} <raw> & `);
  t.equal(textOf(parseXml('<a>x\r\ny\rz</a>')), 'x\ny\nz', 'line ends normalised');
  t.equal(parseXml('<a v="x&#10;y\tz"/>').attrs[0]!.value, 'x\ny z', 'attribute value normalisation keeps char refs');
  t.equal(textOf(parseXml(Buffer.from('\ufeff<a>bom</a>'))), 'bom', 'BOM skipped');
});

t.test('refused: not well-formed, DTDs, bad namespaces', async (t) => {
  const bad = [
    '<foo>',
    '<a></b>',
    '<a><b></a></b>',
    '',
    'text',
    '<a/><b/>',
    '<a/>junk',
    '<a x="1" x="2"/>',
    '<a x=1/>',
    '<a>&unknown;</a>',
    '<a>&#0;</a>',
    '<a>&#xD800;</a>',
    '<a>\u0001</a>',
    '<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>',
    '<!DOCTYPE a SYSTEM "file:///etc/passwd"><a/>',
    '<a><!ENTITY x "y"></a>',
    '<D:propfind xmlns:D="DAV:"><D:prop><bar:foo xmlns:bar=""/></D:prop></D:propfind>',
    '<x:a/>',
    '<a xmlns:xmlns="urn:x"/>',
    '<a xmlns:xml="urn:not-xml"/>',
    '<a xmlns:p="urn:p" xmlns:q="urn:p" p:x="1" q:x="2"/>',
    '<a><?xml version="1.0"?></a>',
    '<?xml version="1.0" encoding="iso-8859-1"?><a/>',
    '<a b="<"/>',
  ];
  for (const s of bad) t.throws(() => parseXml(s), XmlError, JSON.stringify(s));
  t.throws(() => parseXml(Buffer.from([0x3c, 0x61, 0x3e, 0xff, 0x3c, 0x2f, 0x61, 0x3e])), { message: /UTF-8/ });
});

t.test('limits: size, depth, nodes, attributes', async (t) => {
  t.throws(() => parseXml('<a>' + 'x'.repeat(2000) + '</a>', { maxBytes: 1000 }), { message: /larger than 1000 bytes/ });
  const deep = '<a>'.repeat(65) + '</a>'.repeat(65);
  t.throws(() => parseXml(deep), { message: /nesting deeper than 64/ });
  t.doesNotThrow(() => parseXml('<a>'.repeat(64) + '</a>'.repeat(64)));
  t.throws(() => parseXml('<a>' + '<b/>'.repeat(50) + '</a>', { maxNodes: 20 }), { message: /more than 20 nodes/ });
  t.throws(() => parseXml(`<a ${Array.from({ length: 65 }, (_, k) => `x${k}="1"`).join(' ')}/>`), { message: /more than 64 attributes/ });
  // Deep nesting is parsed without recursion: a huge depth limit does not overflow the stack.
  const n = 50_000;
  t.doesNotThrow(() => parseXml('<a>'.repeat(n) + '</a>'.repeat(n), { maxDepth: n + 1, maxNodes: n + 1, maxBytes: 1e7 }));
});

t.test('comments and processing instructions are skipped', async (t) => {
  const x = parseXml('<!-- c --><?pi x?><a><!-- in --><b/><?p?></a><!-- after -->');
  t.same(elements(x).map((e) => e.local), ['b']);
});

t.test('serializing keeps meaning without prefixes', async (t) => {
  const x = parseXml(`<t:valnspace xmlns:t="http://webdav.org/neon/litmus/"><foo xmlns="bar"/>text &amp; more<t:inner a="&quot;q&quot;" xmlns:z="urn:z" z:k="v"/></t:valnspace>`);
  const inner = serializeNodes(x.children, x.ns);
  t.equal(inner, `<foo xmlns="bar"/>text &amp; more<inner a="&#34;q&#34;" xmlns:a0="urn:z" a0:k="v"/>`);
  // Round trip: re-parse inside an element of the same default namespace; same tree.
  const again = parseXml(`<w xmlns="${x.ns}">${inner}</w>`);
  t.same(again.children, x.children);
  t.equal(serializeElement({ ns: '', local: 'n', attrs: [], children: ['v'] }, ''), '<n>v</n>');
  t.equal(serializeElement({ ns: '', local: 'n', attrs: [], children: [] }, 'urn:d'), '<n xmlns=""/>', 'leaving a default namespace needs xmlns=""');
  t.equal(serializeNodes(['a\rb<'], ''), 'a&#13;b&lt;');
});
