// Two clients on one export, as two pods sharing a NAS: after the writer
// closes a file, a reader that opens it sees the new bytes (close-to-open),
// even though the reader had the old attributes cached.
import t from 'tap';
import { connect } from '../../src/index.js';
import { scratch, urlWith } from './_env.js';

for (const version of ['3', '4.1']) {
  t.test(`close-to-open between two clients over NFSv${version}`, async (t) => {
    const s = await scratch(t, `cto-v${version.replace('.', '')}`);
    const url = urlWith(s.dir.slice(1), `version=${version}&actimeo=60`);
    const [writer, reader] = await Promise.all([connect(url), connect(url)]);
    t.teardown(() => Promise.all([writer.close(), reader.close()]));
    await writer.writeFile('/shared.txt', 'version 1');
    t.equal(await reader.readFile('/shared.txt', 'utf8'), 'version 1');
    t.equal((await reader.stat('/shared.txt')).size, 9, 'the reader now caches size 9');

    const w = await writer.open('/shared.txt', 'r+');
    await w.write('version 2, longer', 0);
    await w.close(); // COMMIT: the writer's close is the publication point

    const r = await reader.open('/shared.txt', 'r');
    t.equal((await r.stat()).size, 17, 'open revalidated the attributes');
    t.equal(await r.readFile({ encoding: 'utf8' }), 'version 2, longer', 'and the reader sees the new bytes');
    await r.close();
  });
}

// What the README promises a caching client sees after another client's
// rename, write and delete (issue 11, defect 5). The old file stays alive on
// the server (the writer keeps it open), as with git refs and editors'
// atomic saves: a stale handle would still read, so only the name tells.
// NFSv3 has no open state, so a second link is what keeps it alive there.
for (const version of ['3', '4.1', '4.0']) {
  t.test(`NFSv${version}: a file replaced by rename is seen on the first open after it`, async (t) => {
    const s = await scratch(t, `cto-rename-v${version.replace('.', '')}`);
    const url = urlWith(s.dir.slice(1), `version=${version}&actimeo=60`);
    const [other, cached] = await Promise.all([connect(url), connect(url)]);
    t.teardown(() => Promise.all([other.close(), cached.close()]));
    await other.mkdir('/refs');
    await other.writeFile('/refs/main', 'old commit');
    t.equal(await cached.readFile('/refs/main', 'utf8'), 'old commit', 'cached client reads and caches the name');
    t.equal((await cached.stat('/refs/main')).size, 10);
    await other.link('/refs/main', '/refs/main.old'); // the old file stays alive

    await other.writeFile('/refs/main.tmp', 'new commit!');
    await other.rename('/refs/main.tmp', '/refs/main');

    t.equal(await cached.readFile('/refs/main', 'utf8'), 'new commit!', 'readFile by path: the new file at once');
    const h = await cached.open('/refs/main', 'r');
    t.equal((await h.stat()).size, 11, 'open: the new file');
    await h.close();
    t.equal((await cached.stat('/refs/main')).size, 11, 'and a stat after that open sees it too');
  });

  t.test(`NFSv${version}: readdir that lists a replaced name makes the next open see it`, async (t) => {
    const s = await scratch(t, `cto-readdir-v${version.replace('.', '')}`);
    const url = urlWith(s.dir.slice(1), `version=${version}&actimeo=60`);
    const [other, cached] = await Promise.all([connect(url), connect(url)]);
    t.teardown(() => Promise.all([other.close(), cached.close()]));
    await other.writeFile('/f', 'one');
    t.equal(await cached.readFile('/f', 'utf8'), 'one');
    await other.link('/f', '/f.old');
    await other.writeFile('/g', 'two!');
    await other.rename('/g', '/f');
    t.same((await cached.readdir('/', { withFileTypes: true })).map((d) => d.name).sort(), ['f', 'f.old']);
    t.equal(await cached.readFile('/f', 'utf8'), 'two!');
  });

  t.test(`NFSv${version}: another client's delete and write are seen on open`, async (t) => {
    const s = await scratch(t, `cto-del-v${version.replace('.', '')}`);
    const url = urlWith(s.dir.slice(1), `version=${version}&actimeo=60`);
    const [other, cached] = await Promise.all([connect(url), connect(url)]);
    t.teardown(() => Promise.all([other.close(), cached.close()]));
    await other.writeFile('/gone', 'x');
    await other.writeFile('/grown', 'abc');
    t.equal(await cached.readFile('/gone', 'utf8'), 'x');
    t.equal(await cached.readFile('/grown', 'utf8'), 'abc');
    await other.unlink('/gone');
    await other.appendFile('/grown', 'def');
    await t.rejects(cached.readFile('/gone'), { code: 'ENOENT' }, 'a deleted file is ENOENT on open, not a stale read');
    t.equal(await cached.readFile('/grown', 'utf8'), 'abcdef', 'a file written elsewhere is read whole');
    await other.writeFile('/gone', 'back');
    t.equal(await cached.readFile('/gone', 'utf8'), 'back', 'a name created again after a cached ENOENT is found on open');
  });
}
