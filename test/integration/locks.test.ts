// FileHandle.lock between two clients (two lock owners) of the real server,
// over NFSv3 (NLM) and NFSv4.1 (LOCK/LOCKU): mutual exclusion, waiting, abort.
import t from 'tap';
import { connect } from '../../src/index.js';
import { scratch, urlWith } from './_env.js';

for (const version of ['3', '4.0', '4.1']) {
  t.test(`two clients contend for a byte range over NFSv${version}`, async (t) => {
    const s = await scratch(t, `locks-v${version.replace('.', '')}`);
    await s.nfs.writeFile(s.at('shared'), Buffer.alloc(4096));
    const url = urlWith(s.dir.slice(1), `version=${version}`);
    const [c1, c2] = await Promise.all([connect(url), connect(url)]);
    t.teardown(() => Promise.all([c1.close(), c2.close()]));
    const f1 = await c1.open('/shared', 'r+');
    const f2 = await c2.open('/shared', 'r+');

    await f1.lock(0, 1024, { exclusive: true });
    await t.rejects(f2.lock(100, 10), { code: 'EAGAIN' }, 'exclusive: the second client is refused');
    t.match(await f2.getLock(0, 1), { exclusive: true }, 'and sees who holds it');
    await f2.lock(2048, 10, { exclusive: true });

    const order: string[] = [];
    const waiting = f2.lock(0, 10, { wait: true }).then(() => order.push('granted'));
    await new Promise((r) => setTimeout(r, 200));
    order.push('unlocking');
    await f1.unlock(0, 1024);
    await waiting;
    t.same(order, ['unlocking', 'granted'], 'the waiter got the lock only after it was released');

    const ac = new AbortController();
    const aborted = f1.lock(0, 10, { wait: true, signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    await t.rejects(aborted, { name: 'AbortError' }, 'a waiting lock is aborted by its signal');

    const r1 = await c1.open('/shared', 'r');
    const r2 = await c2.open('/shared', 'r');
    await r1.lock(3000, 10, { exclusive: false });
    await r2.lock(3000, 10, { exclusive: false });
    t.pass('shared locks coexist');
    await t.rejects(r1.lock(3000, 1, { exclusive: true }), { code: 'EBADF' }, 'a write lock needs a handle open for writing');

    await f2.close(); // releases its locks
    await f1.lock(0, 10);
    t.pass('closing a handle released its locks');
    await Promise.all([f1.close(), r1.close(), r2.close()]);
  });
}
