// `mountless volume` against the real server, through volumeCommand() with
// its output captured: a volume's life (create with a template and labels,
// list, usage, df, snapshot to a file, restore from it, delete) in --json,
// and the exit statuses a script relies on.
import t from 'tap';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { volumeCommand, type CliIo } from '../../src/cli/volume.js';
import { NFS_URL, scratch, urlWith } from './_env.js';

function capture(): { io: CliIo; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (s) => out.push(s), err: (s) => err.push(s), stdout: new PassThrough(), stdin: Readable.from([]), tty: false } };
}

t.test('a volume through the CLI, --json at every step', async (t) => {
  const s = await scratch(t, 'vol-cli');
  const common = ['--url', NFS_URL, '--base', s.dir];
  const run = async (...argv: string[]) => {
    const c = capture();
    const code = await volumeCommand([...argv, ...common], c.io);
    return { code, json: argv.includes('--json') && c.out.length ? JSON.parse(c.out.join('\n')) : undefined, out: c.out.join('\n'), err: c.err.join('\n') };
  };

  const created = await run('create', '--template', '${namespace}/${pvc}', '--var', 'namespace=team', '--var', 'pvc=db', '--mode', '2770', '--gid', '2000', '--label', 'app=pg', '--label', 'tier=data', '--size', '10Gi', '--json');
  t.equal(created.code, 0, created.err);
  t.match(created.json, { name: 'team/db', created: true, marker: { labels: { app: 'pg', tier: 'data' }, requestedBytes: 10 * 2 ** 30, mode: 0o2770, gid: 2000 } });
  const st = await stat(s.localAt('team/db'));
  t.equal(st.mode & 0o7777, 0o2770);
  t.equal(st.gid, 2000);
  t.match((await run('create', 'team/db', '--json')).json, { created: false }, 'idempotent');

  await mkdir(s.localAt('orphan'));
  const list = await run('list', '--json');
  t.equal(list.code, 0);
  t.match(list.json, [
    { kind: 'orphan', path: 'orphan' },
    { kind: 'managed', path: 'team/db', usage: { files: 1 } },
  ]);
  t.match((await run('usage', 'team/db', '--json')).json, { files: 1, dirs: 1 });
  t.match((await run('df', '--json')).json, { totalBytes: Number, availBytes: Number });

  const file = join(s.local, '..', `${s.dir.slice(1)}.tar`);
  t.teardown(() => import('node:fs/promises').then((f) => f.rm(file, { force: true })));
  const snap = await run('snapshot', 'team/db', '--out', file, '--json');
  t.equal(snap.code, 0, snap.err);
  t.match(snap.json, { entries: 2, files: 1 });
  t.ok((await stat(file)).size > 0);
  const restored = await run('restore', '--from', file, '--to', 'team/copy', '--json');
  t.equal(restored.code, 0, restored.err);
  t.match(restored.json, { name: 'team/copy', files: 1, replaced: false });
  t.equal((await stat(s.localAt('team/copy'))).mode & 0o7777, 0o2770, 'mode restored');

  const onExport = await run('snapshot', 'team/db', '--keep', '1', '--json');
  t.match(onExport.json, { id: String, archive: String });
  t.match((await run('snapshots', 'team/db', '--json')).json, [{ id: onExport.json.id }]);

  const archived = await run('delete', 'team/copy', '--on-delete', 'archive', '--json');
  t.match(archived.json, { action: 'archived', archivedTo: /^archived-team\/copy-/ });
  const deleted = await run('delete', 'team/db', '--json');
  t.match(deleted.json, { action: 'deleted', removedParents: ['team'], stats: { failed: [] } });
  t.match((await run('delete', 'team/db', '--json')).json, { action: 'absent' }, 'a second delete: absent, exit 0');

  const refused = await run('delete', 'orphan');
  t.equal(refused.code, 1, 'an unmanaged directory: exit 1');
  t.match(refused.err, /not a managed volume/);
  t.ok((await stat(s.localAt('orphan'))).isDirectory());
  const forced = await run('delete', 'orphan', '--force');
  t.equal(forced.code, 0);
  t.match(forced.out, /^deleted orphan: 0 files and 1 directories removed/, 'human output');
  t.same((await readdir(s.local)).sort(), ['.mountless-snapshots', '.mountless-trash', 'archived-team']);

  const purge = await run('purge', '--json');
  t.match(purge.json, { trash: [], staging: [] });
});

t.test('a server that is not there: exit 1, the error on stderr and as JSON', async (t) => {
  const c = capture();
  t.equal(await volumeCommand(['df', '--url', 'nfs://127.0.0.1/x?nfsport=1&mountport=1', '--json'], c.io), 1);
  t.match(c.err.join('\n'), /ECONNREFUSED/);
  t.match(JSON.parse(c.out.join('\n')), { error: { message: /ECONNREFUSED/ } });
});

t.test('migrate --delete into a directory that does not exist yet: made, copied, extras removed on the next run', async (t) => {
  const s = await scratch(t, 'vol-cli-migrate');
  await mkdir(s.localAt('src/sub'), { recursive: true });
  await writeFile(s.localAt('src/sub/f'), 'payload');
  const srcUrl = urlWith(`${s.dir}/src`);
  const dstUrl = urlWith(`${s.dir}/new/dst`);
  const dry = capture();
  t.equal(await volumeCommand(['migrate', srcUrl, dstUrl, '--delete', '--dry-run', '--json'], dry.io), 0, dry.err.join('\n'));
  t.match(JSON.parse(dry.out.join('\n')), { dryRun: true, copied: { files: 1, dirs: 1 } }, 'a dry run counts everything');
  t.notOk(existsSync(s.localAt('new')), 'and makes nothing');
  const c = capture();
  t.equal(await volumeCommand(['migrate', srcUrl, dstUrl, '--delete', '--json'], c.io), 0, c.err.join('\n'));
  t.match(JSON.parse(c.out.join('\n')), { copied: { files: 1, dirs: 1 }, verify: { differences: [] } });
  t.equal(await readFile(s.localAt('new/dst/sub/f'), 'utf8'), 'payload');
  t.equal((await stat(s.localAt('new/dst'))).mode & 0o7777, (await stat(s.localAt('src'))).mode & 0o7777, "the target's mode is the source's");
  await writeFile(s.localAt('new/dst/extra'), 'x');
  const again = capture();
  t.equal(await volumeCommand(['migrate', srcUrl, dstUrl, '--delete', '--json'], again.io), 0, again.err.join('\n'));
  t.match(JSON.parse(again.out.join('\n')), { removed: 1 }, '--delete removed what the source does not have');
  t.notOk(existsSync(s.localAt('new/dst/extra')));
});

t.test('a base that does not exist: create makes it, other commands say so in words', async (t) => {
  const s = await scratch(t, 'vol-cli-base');
  const base = ['--url', NFS_URL, '--base', `${s.dir}/vols/deep`];
  const list = capture();
  t.equal(await volumeCommand(['list', ...base], list.io), 1);
  t.match(list.err.join('\n'), /the base directory .*\/vols\/deep does not exist/);
  const c = capture();
  t.equal(await volumeCommand(['create', 'v1', ...base], c.io), 0, c.err.join('\n'));
  t.ok((await stat(s.localAt('vols/deep/v1'))).isDirectory());
});
