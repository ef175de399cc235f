// kill -9, then a restart INTO a grace period (scripts/local-nas with
// MOUNTLESS_NAS_GRACE): open files and their byte-range locks are reclaimed
// (CLAIM_PREVIOUS and LOCK with reclaim, before RECLAIM_COMPLETE on 4.1+),
// so the same FileHandles write on and another client still finds the
// ranges locked once the grace period is over. The server is put back in
// its normal, graceless config at the end, whatever happened.
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { connect, type FileHandle, type NfsClient } from '../../src/index.js';
import { EXPORT_DIR, NFS_URL, scratch, urlWith } from './_env.js';

const LOCAL_NAS = join(dirname(fileURLToPath(import.meta.url)), '../../scripts/local-nas');
const LOCAL = new URL(NFS_URL).hostname === '127.0.0.1' && !process.env.MOUNTLESS_TEST_URL;
/** Seconds of grace: longer than the 10 s lease, as servers require, and short because other runs share the server. */
const GRACE = 15;

function nasPid(): number {
  const m = /^MOUNTLESS_NAS_PID=(\d+)$/m.exec(execFileSync(LOCAL_NAS, ['env'], { encoding: 'utf8' }));
  if (!m) throw new Error('no NFS-Ganesha pid from scripts/local-nas env');
  return Number(m[1]);
}

function nas(cmd: 'start' | 'restart', grace?: number): void {
  const env = { ...process.env };
  delete env.MOUNTLESS_NAS_GRACE;
  if (grace) env.MOUNTLESS_NAS_GRACE = String(grace);
  execFileSync(LOCAL_NAS, [cmd], { stdio: ['ignore', 'ignore', 'inherit'], env });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('restart into a grace period: opens and locks are reclaimed on 4.0, 4.1 and 4.2', { skip: !LOCAL && 'needs the local NFS-Ganesha' }, async (t) => {
  const s = await scratch(t, 'grace');
  const versions = ['4.0', '4.1', '4.2'] as const;
  const held: Array<{ version: string; c: NfsClient; h: FileHandle; name: string }> = [];
  t.teardown(() => Promise.all(held.map((x) => x.c.close())));
  for (const version of versions) {
    const c = await connect(urlWith(s.dir.slice(1), `version=${version}`));
    const name = `f-${version}`;
    const h = await c.open(`/${name}`, 'w+');
    held.push({ version, c, h, name });
    await h.write('before ', 0);
    await h.lock(0, 100, { exclusive: true });
    await h.lock(200, 0, { exclusive: true });
    await h.unlock(50, 10);
  }

  const started = Date.now();
  process.kill(nasPid(), 'SIGKILL');
  await sleep(300);
  try {
    nas('start', GRACE);
    for (const { version, c, h } of held) {
      await h.write('after', 7);
      t.equal(await h.readFile({ encoding: 'utf8' }), 'before after', `${version}: the handle reads and writes on`);
      const v4 = (c.backend as unknown as { inner: { stats: { reclaims: number; reopens: number } } }).inner;
      t.equal(v4.stats.reclaims, 1, `${version}: its open was reclaimed in grace (CLAIM_PREVIOUS)`);
    }
    // Another client: its LOCK waits out the grace period (NFS4ERR_GRACE, retried), then must be refused.
    const other = await connect(urlWith(s.dir.slice(1), 'version=4.1'));
    t.teardown(() => other.close());
    for (const { version, name } of held) {
      const o = await other.open(`/${name}`, 'r+');
      await t.rejects(o.lock(10, 1, { exclusive: true }), { code: 'EAGAIN' }, `${version}: [0, 50) is still locked`);
      await t.rejects(o.lock(300, 1, { exclusive: true }), { code: 'EAGAIN' }, `${version}: [200, eof) is still locked`);
      await o.lock(55, 1, { exclusive: true });
      await o.close();
    }
    t.ok(Date.now() - started >= GRACE * 1000 - 1000, 'the refusals came after the grace period');
    for (const { h } of held) await h.close();
    for (const { version, name } of held) t.equal(await readFile(join(EXPORT_DIR, s.dir, name), 'utf8'), 'before after', `${version}: on the server's disk`);
  } finally {
    // Back to the normal config for everyone else.
    nas('restart');
  }
});
