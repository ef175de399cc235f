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
