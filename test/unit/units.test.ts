// One size parser for the whole project (src/units.ts): volume --size, bench
// --bs/--size and the sidecar's --max-body all read "500M" as 500 MiB.
import t from 'tap';
import { parseBytes } from '../../src/units.js';
import { parseSize as benchSize } from '../../src/bench/options.js';
import { parseSize as sidecarSize } from '../../src/sidecar/config.js';
import { parseSize as volumeSize } from '../../src/cli/volume.js';

t.test('every suffix is 1024-based, in every spelling', async (t) => {
  const MiB = 2 ** 20;
  for (const s of ['500M', '500m', '500MB', '500mb', '500MiB', '500Mi', '500 M']) t.equal(parseBytes(s), 500 * MiB, s);
  t.equal(parseBytes('0'), 0);
  t.equal(parseBytes('512'), 512);
  t.equal(parseBytes('512B'), 512);
  t.equal(parseBytes('4k'), 4096);
  t.equal(parseBytes('1.5G'), 1.5 * 2 ** 30);
  t.equal(parseBytes('2T'), 2 * 2 ** 40);
  t.equal(parseBytes('1P'), 2 ** 50);
  for (const bad of ['', 'M', '-1', '1.5', '0x10', '4kk', '1Xi', '1 G B', '10 parsecs', '1e3', '9999999P']) t.throws(() => parseBytes(bad), RangeError, `'${bad}' is refused`);
});

t.test('volume, bench and the sidecar agree', async (t) => {
  for (const s of ['500M', '4k', '10G', '1048576', '3TiB']) {
    const n = parseBytes(s);
    t.equal(volumeSize(s), n, `volume ${s}`);
    t.equal(benchSize(s), n, `bench ${s}`);
    t.equal(sidecarSize(s, '--max-body'), n, `sidecar ${s}`);
  }
});
