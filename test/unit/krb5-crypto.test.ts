import t from 'tap';
import { nfold } from '../../src/krb5/crypto/nfold.js';
import { ctsDecrypt, ctsEncrypt } from '../../src/krb5/crypto/aes-cts.js';
import { aes128CtsHmacSha196, aes256CtsHmacSha196 } from '../../src/krb5/crypto/aes-sha1.js';
import { aes128CtsHmacSha256128, aes256CtsHmacSha384192, kdfHmacSha2 } from '../../src/krb5/crypto/aes-sha2.js';
import { usageConstant } from '../../src/krb5/crypto/dk.js';
import { enctypeOf } from '../../src/krb5/crypto/index.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');

// RFC 3961 appendix A.1.
t.test('n-fold, RFC 3961 A.1', async (t) => {
  const cases: [number, Buffer, string][] = [
    [64, ascii('012345'), 'be072631276b1955'],
    [56, ascii('password'), '78a07b6caf85fa'],
    [64, ascii('Rough Consensus, and Running Code'), 'bb6ed30870b7f0e0'],
    [168, ascii('password'), '59e4a8ca7c0385c3c37b3f6d2000247cb6e6bd5b3e'],
    [192, ascii('MASSACHVSETTS INSTITVTE OF TECHNOLOGY'), 'db3b0d8f0b061e603282b308a50841229ad798fab9540c1b'],
    [168, ascii('Q'), '518a54a215a8452a518a54a215a8452a518a54a215'],
    [168, ascii('ba'), 'fb25d531ae8974499f52fd92ea9857c4ba24cf297e'],
    [64, ascii('kerberos'), '6b65726265726f73'],
    [128, ascii('kerberos'), '6b65726265726f737b9b5b2b93132b93'],
    [168, ascii('kerberos'), '8372c236344e5f1550cd0747e15d62ca7a5a3bcea4'],
    [256, ascii('kerberos'), '6b65726265726f737b9b5b2b93132b935c9bdcdad95c9899c4cae4dee6d6cae4'],
  ];
  for (const [bits, input, want] of cases) t.equal(nfold(input, bits / 8).toString('hex'), want, `${bits}-fold(${JSON.stringify(input.toString('latin1'))})`);
});

// RFC 3962 appendix B: AES-128 CBC-CTS with a zero IV.
t.test('AES-CTS, RFC 3962 B', async (t) => {
  const key = ascii('chicken teriyaki');
  const plain = ascii('I would like the General Gau\'s Chicken, please, and wonton soup.');
  const cases: [number, string][] = [
    [17, 'c6353568f2bf8cb4d8a580362da7ff7f97'],
    [31, 'fc00783e0efdb2c1d445d4c8eff7ed2297687268d6ecccc0c07b25e25ecfe5'],
    [32, '39312523a78662d5be7fcbcc98ebf5a897687268d6ecccc0c07b25e25ecfe584'],
    [47, '97687268d6ecccc0c07b25e25ecfe584b3fffd940c16a18c1b5549d2f838029e39312523a78662d5be7fcbcc98ebf5'],
    [48, '97687268d6ecccc0c07b25e25ecfe5849dad8bbb96c4cdc03bc103e1a194bbd839312523a78662d5be7fcbcc98ebf5a8'],
    [64, '97687268d6ecccc0c07b25e25ecfe58439312523a78662d5be7fcbcc98ebf5a84807efe836ee89a526730dbc2f7bc8409dad8bbb96c4cdc03bc103e1a194bbd8'],
  ];
  for (const [len, want] of cases) {
    const c = ctsEncrypt(key, plain.subarray(0, len));
    t.equal(c.toString('hex'), want, `encrypt ${len} bytes`);
    t.same(ctsDecrypt(key, c), plain.subarray(0, len), `decrypt ${len} bytes`);
  }
  t.throws(() => ctsEncrypt(key, plain.subarray(0, 15)), RangeError);
});

// RFC 3962 appendix B: PBKDF2 + DK("kerberos").
t.test('aes-sha1 string-to-key, RFC 3962 B', async (t) => {
  const gclef = hex('f09d849e').toString('utf8');
  const cases: [number, string, string | Buffer, string, string][] = [
    [1, 'password', 'ATHENA.MIT.EDUraeburn', '42263c6e89f4fc28b8df68ee09799f15', 'fe697b52bc0d3ce14432ba036a92e65bbb52280990a2fa27883998d72af30161'],
    [2, 'password', 'ATHENA.MIT.EDUraeburn', 'c651bf29e2300ac27fa469d693bdda13', 'a2e16d16b36069c135d5e9d2e25f896102685618b95914b467c67622225824ff'],
    [1200, 'password', 'ATHENA.MIT.EDUraeburn', '4c01cd46d632d01e6dbe230a01ed642a', '55a6ac740ad17b4846941051e1e8b0a7548d93b0ab30a8bc3ff16280382b8c2a'],
    [5, 'password', hex('1234567878563412'), 'e9b23d52273747dd5c35cb55be619d8e', '97a4e786be20d81a382d5ebc96d5909cabcdadc87ca48f574504159f16c36e31'],
    [1200, 'X'.repeat(64), 'pass phrase equals block size', '59d1bb789a828b1aa54ef9c2883f69ed', '89adee3608db8bc71f1bfbfe459486b05618b70cbae22092534e56c553ba4b34'],
    [1200, 'X'.repeat(65), 'pass phrase exceeds block size', 'cb8005dc5f90179a7f02104c0018751d', 'd78c5c9cb872a8c9dad4697f0bb5b2d21496c82beb2caeda2112fceea057401b'],
    [50, gclef, 'EXAMPLE.COMpianist', 'f149c1f2e154a73452d43e7fe62a56e5', '4b6d9839f84406df1f09cc166db4b83c571848b784a3d6bdc346589a3e393f9e'],
  ];
  for (const [iter, pw, salt, k128, k256] of cases) {
    const p = Buffer.alloc(4);
    p.writeUInt32BE(iter, 0);
    t.equal(aes128CtsHmacSha196.stringToKey(pw, salt, p).toString('hex'), k128, `aes128 ${iter} iterations, salt ${String(salt)}`);
    t.equal(aes256CtsHmacSha196.stringToKey(pw, salt, p).toString('hex'), k256, `aes256 ${iter} iterations, salt ${String(salt)}`);
  }
});

t.test('aes-sha1 encrypt/decrypt/checksum round trips and rejects tampering', async (t) => {
  for (const e of [aes128CtsHmacSha196, aes256CtsHmacSha196]) {
    const key = e.randomKey();
    for (const len of [0, 1, 15, 16, 17, 100]) {
      const plain = Buffer.alloc(len, 0x41 + len);
      const c = e.encrypt(key, 7, plain);
      t.equal(c.length, len + e.overhead);
      t.same(e.decrypt(key, 7, c), plain, `${e.name} ${len} bytes`);
      const bad = Buffer.from(c);
      bad[0]! ^= 1;
      t.throws(() => e.decrypt(key, 7, bad), { code: 'ERR_KRB5_INTEGRITY' });
      t.throws(() => e.decrypt(key, 8, c), { code: 'ERR_KRB5_INTEGRITY' }, 'another key usage does not decrypt');
    }
    const ck = e.checksum(key, 10, Buffer.from('abc'));
    t.equal(ck.length, 12);
    t.ok(e.verifyChecksum(key, 10, Buffer.from('abc'), ck));
    t.notOk(e.verifyChecksum(key, 10, Buffer.from('abd'), ck));
    t.throws(() => e.decrypt(key, 7, Buffer.alloc(27)), { code: 'ERR_KRB5_DECODE' });
  }
});

// RFC 8009 appendix A.
t.test('aes-sha2 string-to-key, RFC 8009 A', async (t) => {
  const salt = Buffer.concat([hex('10DF9DD783E5BC8ACEA1730E74355F61'), ascii('ATHENA.MIT.EDUraeburn')]);
  const p = hex('00008000');
  t.equal(aes128CtsHmacSha256128.stringToKey('password', salt, p).toString('hex'), '089bca48b105ea6ea77ca5d2f39dc5e7');
  t.equal(aes256CtsHmacSha384192.stringToKey('password', salt, p).toString('hex'), '45bd806dbf6a833a9cffc1c94589a222367a79bc21c413718906e9f578a78467');
  t.equal(aes128CtsHmacSha256128.stringToKey('password', salt).toString('hex'), '089bca48b105ea6ea77ca5d2f39dc5e7', '32768 iterations is the default');
});

t.test('aes-sha2 key derivation, RFC 8009 A', async (t) => {
  const k128 = hex('3705d96080c17728a0e800eab6e0d23c');
  t.equal(kdfHmacSha2('sha256', k128, usageConstant(2, 0x99), 128).toString('hex'), 'b31a018a48f54776f403e9a396325dc3');
  t.equal(kdfHmacSha2('sha256', k128, usageConstant(2, 0xaa), 128).toString('hex'), '9b197dd1e8c5609d6e67c3e37c62c72e');
  t.equal(kdfHmacSha2('sha256', k128, usageConstant(2, 0x55), 128).toString('hex'), '9fda0e56ab2d85e1569a688696c26a6c');
  const k256 = hex('6d404d37faf79f9df0d33568d320669800eb4836472ea8a026d16b7182460c52');
  t.equal(kdfHmacSha2('sha384', k256, usageConstant(2, 0x99), 192).toString('hex'), 'ef5718be86cc84963d8bbb5031e9f5c4ba41f28faf69e73d');
  t.equal(kdfHmacSha2('sha384', k256, usageConstant(2, 0xaa), 256).toString('hex'), '56ab22bee63d82d7bc5227f6773f8ea7a5eb1c825160c38312980c442e5c7e49');
  t.equal(kdfHmacSha2('sha384', k256, usageConstant(2, 0x55), 192).toString('hex'), '69b16514e3cd8e56b82010d5c73012b622c4d00ffc23ed1f');
});

t.test('aes-sha2 encryption and checksums, RFC 8009 A', async (t) => {
  const k128 = hex('3705d96080c17728a0e800eab6e0d23c');
  const k256 = hex('6d404d37faf79f9df0d33568d320669800eb4836472ea8a026d16b7182460c52');
  const plain = hex('000102030405060708090a0b0c0d0e0f1011121314');
  const cases: [typeof aes128CtsHmacSha256128, Buffer, number, string, string][] = [
    [aes128CtsHmacSha256128, k128, 0, '7e5895eaf2672435bad817f545a37148', 'ef85fb890bb8472f4dab20394dca781dad877eda39d50c870c0d5a0a8e48c718'],
    [aes128CtsHmacSha256128, k128, 6, '7bca285e2fd4130fb55b1a5c83bc5b24', '84d7f30754ed987bab0bf3506beb09cfb55402cef7e6877ce99e247e52d16ed4421dfdf8976c'],
    [aes128CtsHmacSha256128, k128, 16, '56ab21713ff62c0a1457200f6fa9948f', '3517d640f50ddc8ad3628722b3569d2ae07493fa8263254080ea65c1008e8fc295fb4852e7d83e1e7c48c37eebe6b0d3'],
    [aes128CtsHmacSha256128, k128, 21, 'a7a4e29a4728ce10664fb64e49ad3fac', '720f73b18d9859cd6ccb4346115cd336c70f58edc0c4437c5573544c31c813bce1e6d072c186b39a413c2f92ca9b8334a287ffcbfc'],
    [aes256CtsHmacSha384192, k256, 0, 'f764e9fa15c276478b2c7d0c4e5f58e4', '41f53fa5bfe7026d91faf9be959195a058707273a96a40f0a01960621ac612748b9bbfbe7eb4ce3c'],
    [aes256CtsHmacSha384192, k256, 6, 'b80d3251c1f6471494256ffe712d0b9a', '4ed7b37c2bcac8f74f23c1cf07e62bc7b75fb3f637b9f559c7f664f69eab7b6092237526ea0d1f61cb20d69d10f2'],
    [aes256CtsHmacSha384192, k256, 16, '53bf8a0d105265d4e276428624ce5e63', 'bc47ffec7998eb91e8115cf8d19dac4bbbe2e163e87dd37f49beca92027764f68cf51f14d798c2273f35df574d1f932e40c4ff255b36a266'],
    [aes256CtsHmacSha384192, k256, 21, '763e65367e864f02f55153c7e3b58af1', '40013e2df58e8751957d2878bcd2d6fe101ccfd556cb1eae79db3c3ee86429f2b2a602ac86fef6ecb647d6295fae077a1feb517508d2c16b4192e01f62'],
  ];
  for (const [e, key, len, conf, want] of cases) {
    const c = e.encrypt(key, 2, plain.subarray(0, len), hex(conf));
    t.equal(c.toString('hex'), want, `${e.name} encrypt ${len} bytes`);
    t.same(e.decrypt(key, 2, c), plain.subarray(0, len), `${e.name} decrypt ${len} bytes`);
    const bad = Buffer.from(c);
    bad[bad.length - 1]! ^= 0x80;
    t.throws(() => e.decrypt(key, 2, bad), { code: 'ERR_KRB5_INTEGRITY' });
  }
  t.equal(aes128CtsHmacSha256128.checksum(k128, 2, plain).toString('hex'), 'd78367186643d67b411cba9139fc1dee');
  t.equal(aes256CtsHmacSha384192.checksum(k256, 2, plain).toString('hex'), '45ee791567eefca37f4ac1e0222de80d43c3bfa06699672a');
  t.ok(aes256CtsHmacSha384192.verifyChecksum(k256, 2, plain, hex('45ee791567eefca37f4ac1e0222de80d43c3bfa06699672a')));
});

t.test('enctype registry names unsupported types', async (t) => {
  t.equal(enctypeOf(18).name, 'aes256-cts-hmac-sha1-96');
  t.equal(enctypeOf(20).name, 'aes256-cts-hmac-sha384-192');
  t.throws(() => enctypeOf(23), { code: 'ERR_KRB5_UNSUPPORTED', message: /23/ });
  t.throws(() => aes128CtsHmacSha196.stringToKey('x', 'y', hex('00000000')), { code: 'ERR_KRB5_UNSUPPORTED' });
});
