// The one options table (src/options.ts): every option resolves to its
// documented default, URL and code agree, validation comes from the table,
// and the README's option table is the one the table generates.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { OPTIONS, optionsMarkdown, resolveOptions, URL_KEYS, DEFAULT_POLICY, type ConnectOptions } from '../../src/options.js';
import { parseNfsUrl } from '../../src/url.js';

t.test('with nothing given, every option is at the default the table documents', async (t) => {
  const r = resolveOptions({});
  t.equal(r.version, '3');
  t.equal(r.uid, process.getuid!());
  t.equal(r.gid, process.getgid!());
  t.same(r.gids, []);
  t.equal(r.machineName, hostname());
  t.equal(r.nfsport, undefined, 'NFSv3 asks rpcbind');
  t.equal(r.portmapPort, 111);
  t.equal(r.timeoMs, 60_000, 'timeo 600 tenths');
  t.equal(r.retrans, 2);
  t.equal(r.hard, true);
  t.equal(r.connectTimeout, 10_000);
  t.equal(r.closeTimeout, 5000);
  t.equal(r.rsize, 1024 * 1024);
  t.equal(r.wsize, 1024 * 1024);
  t.equal(r.readonly, false);
  t.equal(r.nconnect, 1);
  t.equal(r.maxInFlight, 128);
  t.same(r.cache, DEFAULT_POLICY);
  t.equal(r.tls, undefined);
  t.equal(r.xprtsec, undefined);
  t.equal(r.umask, process.umask());
  t.same(r.sec, ['sys']);
  t.same(r.krb5, {});
  // Each default the README states is the one resolved above.
  const documented: Partial<Record<keyof typeof OPTIONS, unknown>> = { portmapPort: 111, retrans: 2, connectTimeout: 10000, closeTimeout: 5000, rsize: 1048576, wsize: 1048576, nconnect: 1, maxInFlight: 128, acregmin: 3, acregmax: 60, acdirmin: 30, acdirmax: 60 };
  for (const [k, v] of Object.entries(documented)) t.equal(OPTIONS[k as keyof typeof OPTIONS].defaultDoc, String(v), `${k}'s documented default`);
});

t.test('resvport: given on, required; given off, off; unset, on (preferred) only as root, as the kernel does', async (t) => {
  t.equal(resolveOptions({}, { resvport: true }).resvport, 'required');
  t.equal(resolveOptions(parseNfsUrl('nfs://h/e?resvport=1').options).resvport, 'required');
  t.equal(resolveOptions({}, { resvport: false }).resvport, undefined);
  t.equal(resolveOptions({}).resvport, process.getuid?.() === 0 ? 'preferred' : undefined);
  t.throws(() => resolveOptions({}, { resvport: 1 as unknown as boolean }), { code: 'ERR_INVALID_ARG_TYPE' });
});

t.test('NFSv4 defaults to port 2049; the URL port and nfsport name the same port, code wins', async (t) => {
  t.equal(resolveOptions({ version: '4.1' }).nfsport, 2049);
  t.equal(resolveOptions({ version: '4.1' }, {}, 3049).nfsport, 3049);
  t.equal(resolveOptions({}, { nfsport: 3049 }, 3049).nfsport, 3049);
  t.equal(resolveOptions({}, { nfsport: 2050 }, 3049).nfsport, 2050, 'code overrides the URL, the port too');
});

t.test('code overrides the URL; undefined leaves the URL value', async (t) => {
  const u = parseNfsUrl('nfs://h/e?timeo=5&uid=7&noac');
  const r = resolveOptions(u.options, { timeo: 9, uid: undefined });
  t.equal(r.timeoMs, 900);
  t.equal(r.uid, 7);
  t.equal(r.cache, undefined, 'noac: no caching');
});

t.test('cache timeouts: actimeo sets all four, a single one overrides it, max never below min', async (t) => {
  t.same(resolveOptions({}, { actimeo: 7 }).cache, { ...DEFAULT_POLICY, acregmin: 7, acregmax: 7, acdirmin: 7, acdirmax: 7 });
  t.same(resolveOptions({}, { actimeo: 7, acregmax: 20 }).cache, { ...DEFAULT_POLICY, acregmin: 7, acregmax: 20, acdirmin: 7, acdirmax: 7 });
  t.equal(resolveOptions({}, { acregmin: 90 }).cache!.acregmax, 90);
  t.equal(resolveOptions({}, { actimeo: 0 }).cache, undefined, 'all zero is no caching');
});

t.test('every option with a URL key parses from the URL to the same value as given in code', async (t) => {
  const samples: Record<string, [string, unknown]> = {
    version: ['4.1', '4.1'], uid: ['5', 5], gid: ['6', 6], gids: ['1,2', [1, 2]], nfsport: ['2049', 2049], mountport: ['20048', 20048], portmapPort: ['1111', 1111], resvport: ['0', false],
    timeo: ['7', 7], retrans: ['3', 3], hard: ['1', true], soft: ['0', false], connectTimeout: ['100', 100], closeTimeout: ['0', 0], rsize: ['65536', 65536], wsize: ['8192', 8192],
    readonly: ['', true], nconnect: ['4', 4], maxInFlight: ['16', 16], noac: ['yes', true], actimeo: ['1', 1], acregmin: ['1', 1], acregmax: ['2', 2], acdirmin: ['3', 3], acdirmax: ['4', 4],
    tls: ['true', true], xprtsec: ['none', 'none'], sec: ['krb5p:krb5i', ['krb5p', 'krb5i']],
  };
  for (const [key, name] of URL_KEYS) {
    const s = samples[name];
    if (!s) {
      t.fail(`no sample for ${name}`);
      continue;
    }
    const u = parseNfsUrl(`nfs://h/e?${key}=${encodeURIComponent(s[0])}`);
    t.same(u.options, { [name]: s[1] }, `${key}=${s[0]}`);
    t.doesNotThrow(() => resolveOptions({}, { [name]: s[1] } as ConnectOptions), `${name} in code`);
  }
  t.same(new Set(Object.keys(samples)), new Set(URL_KEYS.values()), 'a sample for each URL key');
});

t.test('validation in code comes from the table: types, ranges, unknown names, contradictions', async (t) => {
  t.throws(() => resolveOptions({}, { timeo: 0 }), { code: 'ERR_OUT_OF_RANGE', message: /"options\.timeo" is out of range\. It must be >= 1/ });
  t.throws(() => resolveOptions({}, { rsize: 1000 }), { code: 'ERR_OUT_OF_RANGE', message: /"options\.rsize" is out of range\. It must be >= 4096 && <= 4194304/ });
  t.throws(() => resolveOptions({}, { nconnect: 17 }), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => resolveOptions({}, { uid: 1.5 }), { code: 'ERR_INVALID_ARG_TYPE', message: /"options\.uid" property must be an integer/ });
  t.throws(() => resolveOptions({}, { readonly: 'yes' as unknown as boolean }), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => resolveOptions({}, { version: '5' as '3' }), { code: 'ERR_INVALID_ARG_VALUE' });
  t.throws(() => resolveOptions({}, { gids: Array.from({ length: 65537 }, (_, i) => i) }), { code: 'ERR_OUT_OF_RANGE', message: /length of "options\.gids"/ });
  t.same(resolveOptions({}, { gids: Array.from({ length: 20 }, (_, i) => i) }).gids.length, 20, 'more than AUTH_SYS carries is accepted (connect sends 16 and warns)');
  t.throws(() => resolveOptions({}, { bogus: 1 } as ConnectOptions), { code: 'ERR_INVALID_ARG_VALUE', message: /Unknown option 'bogus'/ });
  t.throws(() => resolveOptions({}, { soft: true, hard: true }), { code: 'ERR_INVALID_ARG_VALUE', message: /soft and hard exclude each other/ });
  t.throws(() => resolveOptions({}, null as unknown as ConnectOptions), { code: 'ERR_INVALID_ARG_TYPE' });
});

t.test('the README option table is the one generated from the table', async (t) => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const table = optionsMarkdown();
  t.ok(readme.includes(table), 'README.md holds optionsMarkdown() verbatim (regenerate: node -e "import(\'./dist/options.js\').then(m => console.log(m.optionsMarkdown()))")');
  for (const name of Object.keys(OPTIONS)) t.match(table, new RegExp(`\\| \`${name}\` \\|`), `${name} has a row`);
});

t.test('sec: one flavor or a list tried in order, from the URL or code; krb5 credentials only in code', async (t) => {
  t.same(resolveOptions(parseNfsUrl('nfs://h/e?sec=krb5').options).sec, ['krb5']);
  t.same(resolveOptions({}, { sec: 'krb5p:krb5i' }).sec, ['krb5p', 'krb5i']);
  t.same(resolveOptions({}, { sec: ['krb5i', 'sys'] }).sec, ['krb5i', 'sys']);
  t.throws(() => parseNfsUrl('nfs://h/e?sec=krb4'), /sec must be one of sys, krb5, krb5i, krb5p/);
  t.throws(() => resolveOptions({}, { sec: 'krb5:' }), { code: 'ERR_INVALID_ARG_VALUE' });
  t.throws(() => resolveOptions({}, { sec: [] }), { code: 'ERR_INVALID_ARG_VALUE' });
  t.same(resolveOptions({}, { krb5: { principal: 'alice', keytab: '/k', kdc: ['a', 'b'] } }).krb5, { principal: 'alice', keytab: '/k', kdc: ['a', 'b'] });
  t.throws(() => resolveOptions({}, { krb5: { user: 'x' } as never }), { code: 'ERR_INVALID_ARG_VALUE', message: /Unknown option 'krb5.user'/ });
  t.throws(() => resolveOptions({}, { krb5: { keytab: 3 } as never }), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => resolveOptions({}, { krb5: 'alice' as never }), { code: 'ERR_INVALID_ARG_TYPE' });
});
