// OC-Checksum as ownCloud clients send it: SHA1 and MD5 are checked, other
// algorithms ignored, a malformed header refused.
import t from 'tap';
import { createHash } from 'node:crypto';
import { uploadChecksum, verifyChecksum } from '../../src/sidecar/upload-checksum.js';

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');
const md5 = (s: string) => createHash('md5').update(s).digest('hex');

t.test('a matching digest passes, a different body fails with 400', async (t) => {
  for (const [alg, f] of [['SHA1', sha1], ['md5', md5]] as const) {
    const ok = uploadChecksum(`${alg}:${f('hello')}`)!;
    ok.hash.update('hel');
    ok.hash.update('lo');
    t.doesNotThrow(() => verifyChecksum(ok), `${alg}: the body hashed in pieces matches`);
    const upper = uploadChecksum(`${alg}:${f('hello').toUpperCase()}`)!;
    upper.hash.update('hello');
    t.doesNotThrow(() => verifyChecksum(upper), `${alg}: hex in capitals`);
    const bad = uploadChecksum(`${alg}:${f('hello')}`)!;
    bad.hash.update('hellO');
    t.throws(() => verifyChecksum(bad), { name: 'HttpError', status: 400 }, `${alg}: another body`);
  }
});

t.test('absent or another algorithm: nothing to check; malformed: 400', async (t) => {
  t.equal(uploadChecksum(undefined), undefined);
  t.equal(uploadChecksum('ADLER32:084b021f'), undefined);
  for (const v of ['', 'SHA1', 'SHA1:', `SHA1:${sha1('x')}00`, 'MD5:zz' + md5('x').slice(2), 'SHA1 abc']) {
    t.throws(() => uploadChecksum(v), { name: 'HttpError', status: 400 }, JSON.stringify(v));
  }
});
