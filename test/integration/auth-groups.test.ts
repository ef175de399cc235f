// AUTH_SYS carries at most 16 supplementary groups (RFC 5531 appendix A):
// with more, the first 16 are sent and a warning says which were not, so an
// access that would have come through group 17 fails loudly, not
// mysteriously. Checked on the real server: a directory only its group may
// enter, that group listed 17th, then 1st.
import { chmod, chown, mkdir, writeFile } from 'node:fs/promises';
import t from 'tap';
import { connect, GROUPS_WARNING } from '../../src/index.js';
import { NFS_URL, scratch } from './_env.js';
import { warningsDuring } from './_warnings.js';

const LOCAL = new URL(NFS_URL).hostname === '127.0.0.1' && !process.env.MOUNTLESS_TEST_URL;
const GROUP = 47_017;
const OTHERS = Array.from({ length: 16 }, (_, i) => 40_001 + i);


t.test('more than 16 groups: the first 16 are sent, and a warning says the rest are not', { skip: !LOCAL && 'needs the server disk' }, async (t) => {
  const s = await scratch(t, 'groups');
  const dir = s.localAt('group-only');
  await mkdir(dir);
  await writeFile(`${dir}/inside`, 'x');
  await chown(dir, 0, GROUP);
  await chmod(dir, 0o770);
  const ids = { uid: 54_321, gid: 54_321, noac: true };

  const late = await warningsDuring(() => connect(NFS_URL, { ...ids, gids: [...OTHERS, GROUP] }));
  t.teardown(() => late.value.close());
  const w = late.warnings.filter((x) => x.code === GROUPS_WARNING);
  t.equal(w.length, 1, 'one warning for the connect');
  t.match(w[0]?.message, /sending the first 16 of 17; access granted only through groups 47017 will be refused/);
  await t.rejects(late.value.readdir(s.at('group-only')), { code: 'EACCES' }, 'the 17th group never reached the server');

  const early = await warningsDuring(() => connect(NFS_URL, { ...ids, gids: [GROUP, ...OTHERS] }));
  t.teardown(() => early.value.close());
  t.equal(early.warnings.filter((x) => x.code === GROUPS_WARNING).length, 1, 'still more than 16: still said');
  t.same(await early.value.readdir(s.at('group-only')), ['inside'], 'listed first, the group grants access');

  const few = await warningsDuring(() => connect(NFS_URL, { ...ids, gids: [GROUP] }));
  t.teardown(() => few.value.close());
  t.equal(few.warnings.filter((x) => x.code === GROUPS_WARNING).length, 0, 'no warning when all fit');
  t.same(await few.value.readdir(s.at('group-only')), ['inside']);
});
