// `readonly` holds below every caller: the volumes layer (which works by
// handle, not through the fs methods), the handle-level API and every
// modifying fs method fail with EROFS, on NFSv3 and NFSv4.1, and nothing
// reaches the server: its disk is checked before and after.
import t from 'tap';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from '../../src/index.js';
import { openVolumes } from '../../src/volume/index.js';
import { NFS_URL, scratch } from './_env.js';

/** Every entry under `dir` on the server's disk with its type, mode, size, owner, mtime and (files) content. */
async function diskState(dir: string): Promise<string[]> {
  const out: string[] = [];
  const stack = [''];
  while (stack.length > 0) {
    const rel = stack.pop()!;
    for (const name of (await readdir(join(dir, rel))).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const st = await lstat(join(dir, r));
      const content = st.isFile() ? (await readFile(join(dir, r))).toString('base64') : '';
      out.push(`${r} ${st.mode.toString(8)} ${st.size} ${st.uid}:${st.gid} ${st.mtimeMs} ${st.nlink} ${content}`);
      if (st.isDirectory()) stack.push(r);
    }
  }
  return out.sort();
}

for (const version of ['3', '4.1'] as const) {
  t.test(`NFSv${version}: a read-only client changes nothing, whoever calls`, async (t) => {
    const s = await scratch(t, `readonly-v${version.replace('.', '')}`, { version });
    await s.nfs.writeFile(s.at('f'), 'original');
    await s.nfs.mkdir(s.at('d'));
    await s.nfs.mkdir(s.at('vols'));
    await s.nfs.symlink('f', s.at('l'));
    const before = await diskState(s.local);

    const ro = await connect(NFS_URL, { version, readonly: true });
    t.teardown(() => ro.close());

    // The volumes layer walks by handle: its MKDIR, SETATTR, CREATE, WRITE and RENAME went past the fs methods' check.
    const vols = await openVolumes(ro, { base: s.at('vols') });
    await t.rejects(vols.create('team/data', { mode: 0o2770 }), { code: 'EROFS' }, 'volume create: EROFS');
    await t.rejects(vols.create('flat', {}), { code: 'EROFS' }, 'a volume without parents: EROFS');
    t.same(await readdir(s.localAt('vols')), [], 'no volume, staging directory or marker on the server');

    // The handle-level API refuses too.
    const h = ro.handles;
    const root = (await h.lookup(h.rootFh, s.dir.slice(1))).fh;
    const file = (await h.lookup(root, 'f')).fh;
    await t.rejects(h.mkdir(root, 'x', { mode: 0o755 }), { name: 'NfsStatusError', errnoCode: 'EROFS' }, 'handles.mkdir');
    await t.rejects(h.create(root, 'x', { mode: 'guarded', attrs: {} }), { name: 'NfsStatusError', errnoCode: 'EROFS' }, 'handles.create');
    await t.rejects(h.write(file, 0, Buffer.from('x'), 'file'), { name: 'NfsStatusError', errnoCode: 'EROFS' }, 'handles.write');
    await t.rejects(h.setattr(file, { size: 0 }), { name: 'NfsStatusError', errnoCode: 'EROFS' }, 'handles.setattr');
    await t.rejects(h.commit(file), { name: 'NfsStatusError', errnoCode: 'EROFS' }, 'handles.commit');
    await t.rejects(h.remove(root, 'f'), { name: 'NfsStatusError', errnoCode: 'EROFS' }, 'handles.remove');
    await t.rejects(h.rmdir(root, 'd'), { name: 'NfsStatusError', errnoCode: 'EROFS' }, 'handles.rmdir');
    await t.rejects(h.rename(root, 'f', root, 'g'), { name: 'NfsStatusError', errnoCode: 'EROFS' }, 'handles.rename');
    await t.rejects(h.link(file, root, 'g'), { name: 'NfsStatusError', errnoCode: 'EROFS' }, 'handles.link');
    await t.rejects(h.symlink(root, 'g', 'f', {}), { name: 'NfsStatusError', errnoCode: 'EROFS' }, 'handles.symlink');
    if (h.open) await t.rejects(h.open(file, undefined, { read: true, write: true }), { name: 'NfsStatusError', errnoCode: 'EROFS' }, 'handles.open for write');

    // Every modifying fs method.
    const p = (rel: string) => s.at(rel);
    const refused: [string, () => Promise<unknown>][] = [
      ['writeFile (existing)', () => ro.writeFile(p('f'), 'changed')],
      ['writeFile (new)', () => ro.writeFile(p('new'), 'x')],
      ['appendFile', () => ro.appendFile(p('f'), 'more')],
      ['mkdir', () => ro.mkdir(p('nd'))],
      ['mkdir recursive', () => ro.mkdir(p('a/b/c'), { recursive: true })],
      ['rmdir', () => ro.rmdir(p('d'))],
      ['rm', () => ro.rm(p('f'))],
      ['rm recursive', () => ro.rm(p('d'), { recursive: true })],
      ['unlink', () => ro.unlink(p('f'))],
      ['rename', () => ro.rename(p('f'), p('g'))],
      ['link', () => ro.link(p('f'), p('g'))],
      ['symlink', () => ro.symlink('f', p('g'))],
      ['chmod', () => ro.chmod(p('f'), 0o600)],
      ['chown', () => ro.chown(p('f'), 1234, 1234)],
      ['lchown', () => ro.lchown(p('l'), 1234, 1234)],
      ['utimes', () => ro.utimes(p('f'), 1, 1)],
      ['lutimes', () => ro.lutimes(p('l'), 1, 1)],
      ['truncate', () => ro.truncate(p('f'), 0)],
      ['copyFile', () => ro.copyFile(p('f'), p('copy'))],
      ["open 'r+'", () => ro.open(p('f'), 'r+')],
      ["open 'w'", () => ro.open(p('f'), 'w')],
      ["open 'a'", () => ro.open(p('f'), 'a')],
      ["open 'wx' (new)", () => ro.open(p('new'), 'wx')],
      ['createWriteStream', () => new Promise((resolve, reject) => ro.createWriteStream(p('f')).on('error', reject).on('close', resolve).end('x'))],
    ];
    for (const [what, fn] of refused) await t.rejects(fn(), { code: 'EROFS' }, `${what}: EROFS`);

    // Reads still work, and fsync of a handle open for reading (nothing to COMMIT).
    t.equal(await ro.readFile(p('f'), 'utf8'), 'original');
    const rh = await ro.open(p('f'), 'r');
    t.equal((await rh.read(Buffer.alloc(8), 0, 8, 0)).bytesRead, 8);
    await rh.sync();
    await rh.close();
    t.same((await ro.readdir(s.dir)).sort(), ['d', 'f', 'l', 'vols']);
    t.same(await diskState(s.local), before, "the server's disk is unchanged");
  });
}
