import t from 'tap';
import { driverArgs, libnfsRelease } from '../../src/bench/peer-libnfs.js';
import { expandJobs, parseBenchArgs } from '../../src/bench/options.js';

t.test('libnfs release from pkg-config version: soname from 5.0 on, the release itself before', async (t) => {
  t.equal(libnfsRelease('4.0.0', false), '4.0.0', "Debian's 4.0 names its release");
  t.equal(libnfsRelease('17.0.0', true), '7.0', '7.0 installs soname 17');
  t.equal(libnfsRelease('16.2.0', true), '6.0', '6.x installs soname 16');
  t.equal(libnfsRelease('14.0.0', false), '14.0.0', 'an old API with a soname is left as it is');
});

t.test('--libnfs PREFIX is a run option, not a job option', async (t) => {
  const o = parseBenchArgs(['--url', 'nfs://h/e', '--rw', 'read', '--compare', 'libnfs', '--libnfs', '/opt/libnfs7']);
  if (o === 'help') throw new Error('help');
  t.equal(o.libnfs, '/opt/libnfs7');
  t.notOk('libnfs' in o.base.given, 'not listed among the job options fio JSON reports');
  const d = parseBenchArgs(['--url', 'nfs://h/e', '--rw', 'read']);
  if (d === 'help') throw new Error('help');
  t.equal(d.libnfs, undefined, "the system's libnfs by default");
});

t.test('the driver runs the NFS version of the URL: v3, or libnfs 4.0 for any 4.x (never v3 behind a v4 run)', async (t) => {
  const argsFor = (url: string) => {
    const o = parseBenchArgs(['--url', url, '--rw', 'randread', '--compare', 'libnfs']);
    if (o === 'help') throw new Error('help');
    return driverArgs(expandJobs(o)[0]!, url);
  };
  const version = (a: string[]) => (a.includes('--nfsversion') ? a[a.indexOf('--nfsversion') + 1] : '3');
  t.equal(version(argsFor('nfs://h/e')), '3');
  t.equal(version(argsFor('nfs://h/e?version=3')), '3');
  for (const v of ['4', '4.0', '4.1', '4.2']) t.equal(version(argsFor(`nfs://h/e?version=${v}`)), '4', `version=${v}`);
});
