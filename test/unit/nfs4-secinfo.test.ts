// SECINFO's result (RFC 7530 16.31.2) as RFC 2623 pseudo-flavors: what the
// WRONGSEC error names. The krb5 OID comes as DER (the RFC) or as its
// content bytes alone (NFS-Ganesha 4.3); another mechanism stays flavor 6.
import t from 'tap';
import { opSecinfo, opSecinfoNoName, SECINFO_STYLE4_CURRENT_FH, SECINFO_STYLE4_PARENT } from '../../src/nfs4/ops.js';
import { XdrReader } from '../../src/xdr/reader.js';
import { XdrWriter } from '../../src/xdr/writer.js';

function secinfo(entries: ({ flavor: number } | { oid: Buffer; service: number })[]): Buffer {
  const w = new XdrWriter();
  w.u32(entries.length);
  for (const e of entries) {
    if ('flavor' in e) w.u32(e.flavor);
    else w.u32(6).opaque(e.oid).u32(0).u32(e.service);
  }
  return w.toBuffer();
}

const DER = Buffer.from('06092a864886f712010202', 'hex');

t.test('krb5 entries become 390003..390005 whichever way the OID is spelt; others pass through', async (t) => {
  const op = opSecinfo('export');
  const body = secinfo([{ oid: DER, service: 3 }, { oid: DER.subarray(2), service: 2 }, { oid: DER, service: 1 }, { flavor: 1 }, { oid: Buffer.from('2b0601050502', 'hex'), service: 1 }]);
  t.same(op.decode(new XdrReader(body)), [390005, 390004, 390003, 1, 6]);
  t.equal(op.name, 'OP_SECINFO');
});

t.test('a krb5 entry with a service outside 1..3 is not taken for one', async (t) => {
  t.same(opSecinfo('e').decode(new XdrReader(secinfo([{ oid: DER, service: 4 }]))), [6]);
});

t.test('SECINFO_NO_NAME (NFSv4.1): the style is its only argument; the result decodes as SECINFO\'s', async (t) => {
  for (const style of [SECINFO_STYLE4_CURRENT_FH, SECINFO_STYLE4_PARENT]) {
    const op = opSecinfoNoName(style);
    const w = new XdrWriter();
    op.encode(w);
    t.same([...w.toBuffer()], [0, 0, 0, style], `style ${style}`);
    t.equal(op.opnum, 52);
    t.equal(op.name, 'OP_SECINFO_NO_NAME');
  }
  const w = new XdrWriter();
  opSecinfoNoName().encode(w);
  t.same([...w.toBuffer()], [0, 0, 0, 0], 'current filehandle by default');
  t.same(opSecinfoNoName().decode(new XdrReader(secinfo([{ oid: DER, service: 2 }, { flavor: 1 }]))), [390004, 1]);
});
