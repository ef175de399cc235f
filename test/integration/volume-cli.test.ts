// `mountless volume` against the real server, through volumeCommand() with
// its output captured: a volume's life (create with a template and labels,
// list, usage, df, snapshot to a file, restore from it, delete) in --json,
// and the exit statuses a script relies on.
import t from 'tap';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { volumeCommand, type CliIo } from '../../src/cli/volume.js';
import { NFS_URL, scratch } from './_env.js';

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
