// nconnect: several TCP connections under one mount, calls spread over them
// (NFSv4.1+: each extra connection bound to the session with BIND_CONN_TO_SESSION).
import { createHash, randomBytes } from 'node:crypto';
import t from 'tap';
import { connect } from '../../src/index.js';
import { scratch, urlWith } from './_env.js';

type Conn = { stats: { calls: number; connects: number } };

for (const version of ['3', '4.0', '4.1']) {
  t.test(`nconnect=4 over NFSv${version} spreads parallel calls over four connections, with correct results`, async (t) => {
    const s = await scratch(t, `nconnect-v${version.replace('.', '')}`);
    const files = Array.from({ length: 16 }, (_, i) => ({ name: `n${i}`, data: randomBytes(300_000 + i) }));
    await Promise.all(files.map((f) => s.nfs.writeFile(s.at(f.name), f.data)));
    const nfs = await connect(urlWith(s.dir.slice(1), `nconnect=4&version=${version}`), { noac: true, rsize: 65536 });
    t.teardown(() => nfs.close());
    const back = await Promise.all(files.map((f) => nfs.readFile(`/${f.name}`) as Promise<Buffer>));
    files.forEach((f, i) => t.equal(createHash('sha256').update(back[i]!).digest('hex'), createHash('sha256').update(f.data).digest('hex'), `${f.name} intact`));
    const b = nfs.backend as unknown as { conns?: Conn[]; rpc: Conn; extraRpcs?: Conn[] };
    const conns = b.conns ?? [b.rpc, ...(b.extraRpcs ?? [])];
    t.equal(conns.length, 4);
    t.ok(conns.every((c) => c.stats.calls > 0 && c.stats.connects === 1), `every connection carried calls (${conns.map((c) => c.stats.calls).join(', ')})`);
    await nfs.writeFile('/written-over-4', 'x'.repeat(100_000));
    t.equal((await nfs.stat('/written-over-4')).size, 100_000);
  });
}

t.test('nconnect out of range is refused', async (t) => {
  await t.rejects(connect(urlWith('', 'nconnect=17')), { code: 'ERR_INVALID_URL', message: /nconnect must be an integer from 1 to 16, got '17'/ });
  await t.rejects(connect(urlWith('', 'nconnect=0')), { code: 'ERR_INVALID_URL' });
  await t.rejects(connect(urlWith(''), { nconnect: 17 }), { code: 'ERR_OUT_OF_RANGE' });
  await t.rejects(connect(urlWith(''), { nconnect: 0 }), { code: 'ERR_OUT_OF_RANGE' });
});
