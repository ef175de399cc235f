// nfs:// URLs as libnfs spells them: every argument, hosts, ports, paths and the errors.
import t from 'tap';
import { parseNfsUrl } from '../../src/url.js';
import { InvalidArgError } from '../../src/errors.js';

/** tap pattern for a URL refused with a message matching `why`. */
function badUrl(why: RegExp) {
  return { name: 'TypeError', code: 'ERR_INVALID_URL', message: why };
}

t.test('host, export path and no options', async (t) => {
  const u = parseNfsUrl('nfs://server.example/export');
  t.same(u, { host: 'server.example', path: '/export', options: {} });
  t.equal(u.port, undefined);
  t.equal(u.user, undefined);
  t.notOk('port' in u, 'no port key when the URL has none');
});

t.test('a path below the export, and the bare root', async (t) => {
  t.equal(parseNfsUrl('nfs://h/export/dir/sub').path, '/export/dir/sub');
  t.equal(parseNfsUrl('nfs://h/').path, '/');
  t.equal(parseNfsUrl('nfs://h').path, '/');
});

t.test('every argument, with its option name and type', async (t) => {
  const u = parseNfsUrl(
    'nfs://h/export?version=3&uid=1000&gid=100&gids=4,24,27&nfsport=2049&mountport=20048&timeo=15&retrans=4&rsize=65536&wsize=131072&readonly&connecttimeout=2500&maxinflight=32',
  );
  t.same(u.options, {
    version: '3',
    uid: 1000,
    gid: 100,
    gids: [4, 24, 27],
    nfsport: 2049,
    mountport: 20048,
    timeo: 15,
    retrans: 4,
    rsize: 65536,
    wsize: 131072,
    readonly: true,
    connectTimeout: 2500,
    maxInFlight: 32,
  });
  t.equal(u.path, '/export', 'the query is not part of the path');
});

t.test('each argument alone', async (t) => {
  const cases: [string, Record<string, unknown>][] = [
    ['uid=0', { uid: 0 }],
    ['uid=4294967295', { uid: 4294967295 }],
    ['gid=65534', { gid: 65534 }],
    ['gids=', { gids: [] }],
    ['gids=7', { gids: [7] }],
    ['nfsport=1', { nfsport: 1 }],
    ['mountport=65535', { mountport: 65535 }],
    ['timeo=1', { timeo: 1 }],
    ['retrans=0', { retrans: 0 }],
    ['rsize=4096', { rsize: 4096 }],
    ['wsize=1048576', { wsize: 1048576 }],
    ['readonly', { readonly: true }],
    ['readonly=', { readonly: true }],
    ['readonly=1', { readonly: true }],
    ['readonly=true', { readonly: true }],
    ['readonly=yes', { readonly: true }],
    ['readonly=0', { readonly: false }],
    ['readonly=false', { readonly: false }],
    ['readonly=no', { readonly: false }],
    ['connectTimeout=100', { connectTimeout: 100 }],
    ['maxInFlight=1', { maxInFlight: 1 }],
    ['UID=5', { uid: 5 }],
    ['uid=007', { uid: 7 }],
  ];
  for (const [q, want] of cases) t.same(parseNfsUrl(`nfs://h/e?${q}`).options, want, q);
});

t.test('version: 3, 4, 4.0, 4.1, 4.2 are kept as strings', async (t) => {
  for (const v of ['3', '4', '4.0', '4.1', '4.2']) t.equal(parseNfsUrl(`nfs://h/e?version=${v}`).options.version, v, v);
});

t.test('version other than those is refused, naming the value', async (t) => {
  for (const v of ['2', '5', '3.0', '4.3', 'v3', '', 'nfs4']) {
    t.throws(() => parseNfsUrl(`nfs://h/e?version=${v}`), badUrl(new RegExp(`version must be one of 3, 4, 4\\.0, 4\\.1, 4\\.2, got '${v.replace('.', '\\.')}'`)), `version=${v}`);
  }
});

t.test('the URL port is the NFS port', async (t) => {
  const u = parseNfsUrl('nfs://h:2050/export');
  t.equal(u.port, 2050);
  t.equal(u.options.nfsport, undefined, 'kept apart from nfsport; connect() uses it when nfsport is absent');
  t.equal(parseNfsUrl('nfs://h:2050/export?nfsport=2050').port, 2050, 'agreeing port and nfsport are fine');
});

t.test('a port and an nfsport that disagree are refused', async (t) => {
  t.throws(() => parseNfsUrl('nfs://h:2050/export?nfsport=2049'), badUrl(/port \(2050\) and nfsport \(2049\) disagree/));
});

t.test('ports out of range', async (t) => {
  t.throws(() => parseNfsUrl('nfs://h:0/export'), badUrl(/port must be 1-65535, got 0/));
  t.throws(() => parseNfsUrl('nfs://h:65536/export'), badUrl(/port must be 1-65535, got 65536/));
  t.throws(() => parseNfsUrl('nfs://[::1]:99999/export'), badUrl(/port must be 1-65535, got 99999/));
  t.throws(() => parseNfsUrl('nfs://h/e?nfsport=0'), badUrl(/nfsport must be a port number from 1 to 65535, got '0'/));
  t.throws(() => parseNfsUrl('nfs://h/e?mountport=65536'), badUrl(/mountport must be a port number from 1 to 65535, got '65536'/));
});

t.test('IPv6 hosts lose their brackets', async (t) => {
  t.same(parseNfsUrl('nfs://[::1]/export'), { host: '::1', path: '/export', options: {} });
  const u = parseNfsUrl('nfs://[fd00::1:2]:2049/export?uid=1');
  t.equal(u.host, 'fd00::1:2');
  t.equal(u.port, 2049);
  t.same(u.options, { uid: 1 });
});

t.test('IPv4 hosts and names', async (t) => {
  t.equal(parseNfsUrl('nfs://127.0.0.1/export').host, '127.0.0.1');
  t.equal(parseNfsUrl('nfs://nas-1.lan/export').host, 'nas-1.lan');
});

t.test('percent-encoded paths are decoded', async (t) => {
  t.equal(parseNfsUrl('nfs://h/export/my%20dir/%C3%A9t%C3%A9').path, '/export/my dir/été');
  t.equal(parseNfsUrl('nfs://h/export/a%3Fb%23c').path, '/export/a?b#c', 'encoded ? and # are path characters');
  t.equal(parseNfsUrl('nfs://h/export/100%25').path, '/export/100%');
});

t.test('bad percent-encoding and NUL in the path', async (t) => {
  t.throws(() => parseNfsUrl('nfs://h/export/%zz'), badUrl(/bad percent-encoding in path/));
  t.throws(() => parseNfsUrl('nfs://h/export/%C3'), badUrl(/bad percent-encoding in path/));
  t.throws(() => parseNfsUrl('nfs://h/export/a%00b'), badUrl(/NUL in path/));
});

t.test('user name', async (t) => {
  const u = parseNfsUrl('nfs://alice@h/export');
  t.equal(u.user, 'alice');
  t.equal(u.host, 'h');
  t.equal(parseNfsUrl('nfs://j%20doe@h/export').user, 'j doe');
  t.throws(() => parseNfsUrl('nfs://%zz@h/export'), badUrl(/bad percent-encoding in user name/));
  t.throws(() => parseNfsUrl('nfs://alice:secret@h/export'), badUrl(/passwords are not supported/));
});

t.test('unknown arguments are errors that list the known ones', async (t) => {
  t.throws(() => parseNfsUrl('nfs://h/e?vers=3'), badUrl(/unknown argument 'vers' \(known: version, uid, gid/));
  t.throws(() => parseNfsUrl('nfs://h/e?uid=1&secure=1'), badUrl(/unknown argument 'secure'/));
});

t.test('bad numbers name the argument and the value', async (t) => {
  for (const [q, re] of [
    ['uid=-1', /uid must be an integer from 0 to 4294967295, got '-1'/],
    ['uid=abc', /uid must be an integer from 0 to 4294967295, got 'abc'/],
    ['gid=1.5', /gid must be an integer from 0 to 4294967295, got '1\.5'/],
    ['timeo=', /timeo must be an integer from 1 to 4294967295, got ''/],
    ['timeo=0', /timeo must be an integer from 1 to 4294967295, got '0'/],
    ['retrans=0x2', /retrans must be an integer from 0 to 1000, got '0x2'/],
    ['rsize=4294967296', /rsize must be an integer from 4096 to 4194304, got '4294967296'/],
    ['rsize=1024', /rsize must be an integer from 4096 to 4194304, got '1024'/],
    ['wsize=1e6', /wsize must be an integer from 4096 to 4194304, got '1e6'/],
    ['nconnect=17', /nconnect must be an integer from 1 to 16, got '17'/],
    ['maxinflight=0', /maxinflight must be an integer from 1 to 1024, got '0'/],
    ['uid=%201', /uid must be an integer from 0 to 4294967295, got ' 1'/],
    ['nfsport=20x', /nfsport must be a port number from 1 to 65535, got '20x'/],
    ['readonly=maybe', /readonly must be 1\/0\/true\/false, got 'maybe'/],
    ['gids=1,x', /gids must be a comma-separated list of integers from 0 to 4294967295, got '1,x'/],
    ['gids=4294967296', /gids must be a comma-separated list/],
    ['gids=' + Array.from({ length: 65537 }, (_, i) => i % 10).join(','), /gids may list at most 65536 groups, got 65537/],
  ] as const) {
    t.throws(() => parseNfsUrl(`nfs://h/e?${q}`), badUrl(re), q);
  }
});

t.test('an argument given twice is refused', async (t) => {
  t.throws(() => parseNfsUrl('nfs://h/e?uid=1&uid=2'), badUrl(/argument 'uid' given more than once/));
  t.throws(() => parseNfsUrl('nfs://h/e?version=3&VERSION=4'), badUrl(/given more than once/));
});

t.test('wrong scheme, missing host, fragments, not a URL', async (t) => {
  t.throws(() => parseNfsUrl('http://h/export'), badUrl(/scheme must be nfs:, got http:/));
  t.throws(() => parseNfsUrl('smb://h/export'), badUrl(/scheme must be nfs:, got smb:/));
  t.throws(() => parseNfsUrl('nfs:///export'), badUrl(/no host/));
  t.throws(() => parseNfsUrl('nfs:/export'), badUrl(/no host/));
  t.throws(() => parseNfsUrl('nfs://h/export#frag'), badUrl(/fragments are not supported/));
  t.throws(() => parseNfsUrl('h/export'), badUrl(/not a URL/));
  t.throws(() => parseNfsUrl(''), badUrl(/not a URL/));
  t.throws(() => parseNfsUrl('nfs://[::1/export'), badUrl(/not a URL/));
});

t.test('the message quotes the URL', async (t) => {
  const err = t.throws(() => parseNfsUrl('nfs://h/e?uid=x')) as InvalidArgError;
  t.ok(err instanceof InvalidArgError);
  t.ok(err instanceof TypeError, 'a TypeError, as node reports ERR_INVALID_URL');
  t.match(err.message, /^Invalid NFS URL 'nfs:\/\/h\/e\?uid=x': /);
});

t.test('a non-string URL is ERR_INVALID_ARG_TYPE', async (t) => {
  for (const v of [undefined, null, 42, new URL('nfs://h/e'), {}]) {
    t.throws(() => parseNfsUrl(v as unknown as string), { code: 'ERR_INVALID_ARG_TYPE', message: /The "url" argument must be of type string/ });
  }
});

t.test('IPv6 zones: as written (fe80::1%eth0) and as RFC 6874 encodes them (%25)', async (t) => {
  t.same(parseNfsUrl('nfs://[fe80::1%eth0]/export'), { host: 'fe80::1%eth0', path: '/export', options: {} });
  const u = parseNfsUrl('nfs://[fe80::1%25eth0]:2049/export?version=4.1');
  t.equal(u.host, 'fe80::1%eth0');
  t.equal(u.port, 2049);
  t.same(u.options, { version: '4.1' });
  t.equal(parseNfsUrl('nfs://me@[fe80::1%25en0]/e').user, 'me');
  t.throws(() => parseNfsUrl('nfs://[fe80::1%e/th]/e'), badUrl(/bad IPv6 zone 'e\/th'/));
  t.throws(() => parseNfsUrl('nfs://[fe80::1%]/e'), badUrl(/not a URL|bad IPv6 zone/));
});
