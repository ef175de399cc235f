// The ranges a lock-owner holds, kept to reclaim them after a server
// restart: POSIX replace-on-overlap and split-on-unlock, as the server does.
import t from 'tap';
import { NFS4_UINT64_MAX } from '../../src/nfs4/constants.js';
import { LockRanges } from '../../src/nfs4/lock-ranges.js';
import { OpenOwnerPool } from '../../src/nfs4/owners.js';

const show = (r: LockRanges) => r.list().map((h) => `${h.exclusive ? 'W' : 'R'}${h.offset}+${h.length === NFS4_UINT64_MAX ? 'eof' : h.length}`);

t.test('a lock over part of another replaces that part, whatever the type', async (t) => {
  const r = new LockRanges();
  r.add(0n, 100n, true);
  r.add(40n, 20n, false);
  t.same(show(r), ['W0+40', 'R40+20', 'W60+40']);
  r.add(0n, 100n, false);
  t.same(show(r), ['R0+100'], 'a covering lock swallows all of it');
});

t.test('unlock splits, trims and removes', async (t) => {
  const r = new LockRanges();
  r.add(10n, 90n, true);
  r.remove(30n, 10n);
  t.same(show(r), ['W10+20', 'W40+60'], 'a hole in the middle');
  r.remove(0n, 15n);
  t.same(show(r), ['W15+15', 'W40+60'], 'trimmed at the front');
  r.remove(90n, 1000n);
  t.same(show(r), ['W15+15', 'W40+50'], 'trimmed at the back');
  r.remove(0n, NFS4_UINT64_MAX);
  t.equal(r.size, 0, 'to end of file removes everything');
});

t.test('to end of file stays to end of file', async (t) => {
  const r = new LockRanges();
  r.add(100n, NFS4_UINT64_MAX, true);
  r.remove(200n, 10n);
  t.same(show(r), ['W100+100', 'W210+eof']);
  r.add(0n, 50n, false);
  t.same(show(r), ['R0+50', 'W100+100', 'W210+eof'], 'kept in offset order');
  t.equal(r.size, 3);
  r.clear();
  t.same(r.list(), []);
});

t.test('an open-owner holding a file open is not picked for another open of it', async (t) => {
  for (const sequenced of [false, true]) {
    const pool = new OpenOwnerPool({ clientid: 1n, stateEpoch: 0 }, sequenced);
    const a = pool.pick(['fh:aa']);
    a.files.add('fh:aa');
    const b = pool.pick(['fh:aa']);
    t.not(b, a, `${sequenced ? '4.0' : '4.1'}: a second open of the file gets another owner`);
    t.equal(pool.pick(['fh:bb']), a, `${sequenced ? '4.0' : '4.1'}: another file may share the first owner`);
    a.files.delete('fh:aa');
    t.equal(pool.pick(['fh:aa']), a, 'once closed, the owner serves the file again');
  }
});
