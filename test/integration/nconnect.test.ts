// nconnect: several TCP connections under one mount, calls spread over them.
import { createHash, randomBytes } from 'node:crypto';
import t from 'tap';
import { connect } from '../../src/index.js';
import { scratch, urlWith } from './_env.js';

t.test('nconnect=4 spreads parallel calls over four connections, with correct results', async (t) => {
  const s = await scratch(t, 'nconnect');
  const files = Array.from({ length: 16 }, (_, i) => ({ name: `n${i}`, data: randomBytes(300_000 + i) }));
  await Promise.all(files.map((f) => s.nfs.writeFile(s.at(f.name), f.data)));
  const nfs = await connect(urlWith(s.dir.slice(1), 'nconnect=4'), { noac: true, rsize: 65536 });
  t.teardown(() => nfs.close());
  const back = await Promise.all(files.map((f) => nfs.readFile(`/${f.name}`) as Promise<Buffer>));
  files.forEach((f, i) => t.equal(createHash('sha256').update(back[i]!).digest('hex'), createHash('sha256').update(f.data).digest('hex'), `${f.name} intact`));
  const conns = (nfs.backend as unknown as { conns: Array<{ stats: { calls: number; connects: number } }> }).conns;
  t.equal(conns.length, 4);
  t.ok(conns.every((c) => c.stats.calls > 0 && c.stats.connects === 1), `every connection carried calls (${conns.map((c) => c.stats.calls).join(', ')})`);
  await t.rejects(connect(urlWith(s.dir.slice(1), 'nconnect=17')), { code: 'ERR_OUT_OF_RANGE' });
  await t.rejects(connect(urlWith(s.dir.slice(1), 'nconnect=2&version=4.1')), { code: 'ERR_INVALID_ARG_VALUE' });
});
