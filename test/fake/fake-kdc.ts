// An in-process KDC for hostile-reply tests: it speaks the TCP framing of
// RFC 4120 section 7.2.2 and lets each test decide what to answer, down to
// raw bytes, a closed connection or silence.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { enctypeOf, KeyUsage } from '../../src/krb5/crypto/index.js';
import { parseDer } from '../../src/krb5/der.js';
import { decKdcReq, encEncKdcRepPart, encEtypeInfo2, encKdcRep, PaType } from '../../src/krb5/messages/kdc.js';
import { encKrbError, KrbErrorCode } from '../../src/krb5/messages/krb-error.js';
import { encEncTicketPart, encTicket } from '../../src/krb5/messages/ticket.js';
import { decEncryptedData, encPaData, parsePrincipal, type Principal } from '../../src/krb5/messages/types.js';
import { seqOf } from '../../src/krb5/der.js';

/** What to do with one request: bytes to write as they are, close at once, or never answer. */
export type KdcAction = Buffer | 'close' | 'hang' | { chunks: Buffer[] };

export class FakeKdc {
  readonly requests: Buffer[] = [];
  private readonly sockets = new Set<Socket>();
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(handle: (req: Buffer) => KdcAction): Promise<FakeKdc> {
    let kdc: FakeKdc | undefined;
    const server = createServer((sock) => {
      kdc!.sockets.add(sock);
      sock.on('close', () => kdc!.sockets.delete(sock));
      let buf = Buffer.alloc(0);
      sock.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length < 4 || buf.length < 4 + buf.readUInt32BE(0)) return;
        const req = buf.subarray(4, 4 + buf.readUInt32BE(0));
        kdc!.requests.push(req);
        const action = handle(req);
        if (action === 'close') sock.destroy();
        else if (action === 'hang') return;
        else if (Buffer.isBuffer(action)) sock.write(action);
        else void writeSlowly(sock, action.chunks);
      });
    }).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    kdc = new FakeKdc(server, (server.address() as AddressInfo).port);
    return kdc;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server.close(r));
  }
}

async function writeSlowly(sock: Socket, chunks: Buffer[]): Promise<void> {
  for (const c of chunks) {
    sock.write(c);
    await new Promise((r) => setImmediate(r));
  }
}

export function framed(msg: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt32BE(msg.length, 0);
  return Buffer.concat([h, msg]);
}

export interface AsRealm {
  client: Principal;
  password: string;
  etype: number;
  salt: string;
  s2kparams?: Buffer;
  /** Change the reply before it is sealed: the hostile cases. */
  tamper?: { nonce?: (n: number) => number; sname?: Principal };
}

/**
 * A minimal AS service for one password principal: PREAUTH_REQUIRED with
 * ETYPE-INFO2 first, then an AS-REP sealed in the password's key when the
 * encrypted timestamp decrypts, PREAUTH_FAILED when it does not.
 */
export function asService(realm: AsRealm): (req: Buffer) => KdcAction {
  const e = enctypeOf(realm.etype);
  const key = e.stringToKey(realm.password, realm.salt, realm.s2kparams);
  const tgs = parsePrincipal(`krbtgt/${realm.client.realm}@${realm.client.realm}`);
  const error = (code: number, eData?: Buffer): Buffer =>
    framed(encKrbError({ stime: new Date(Math.floor(Date.now() / 1000) * 1000), susec: 0, errorCode: code, realm: realm.client.realm, sname: tgs.name, ...(eData ? { eData } : {}) }));
  return (raw) => {
    const req = decKdcReq(raw);
    const ts = req.padata.find((p) => p.padataType === PaType.PA_ENC_TIMESTAMP);
    if (!ts) {
      const info = encEtypeInfo2([{ etype: realm.etype, salt: realm.salt, ...(realm.s2kparams ? { s2kparams: realm.s2kparams } : {}) }]);
      return error(KrbErrorCode.KDC_ERR_PREAUTH_REQUIRED, seqOf([encPaData({ padataType: PaType.PA_ETYPE_INFO2, padataValue: info }), encPaData({ padataType: PaType.PA_ENC_TIMESTAMP, padataValue: Buffer.alloc(0) })]));
    }
    try {
      e.decrypt(key, KeyUsage.AS_REQ_PA_ENC_TIMESTAMP, decEncryptedData(parseDer(ts.padataValue, 'PA-ENC-TIMESTAMP'), 'PA-ENC-TIMESTAMP').cipher);
    } catch {
      return error(KrbErrorCode.KDC_ERR_PREAUTH_FAILED);
    }
    const now = new Date(Math.floor(Date.now() / 1000) * 1000);
    const endtime = new Date(now.getTime() + 3600_000);
    const session = { keytype: realm.etype, keyvalue: e.randomKey() };
    const sname = realm.tamper?.sname ?? tgs;
    const ticketDer = encTicket(tgs, { etype: realm.etype, kvno: 1, cipher: e.encrypt(e.randomKey(), KeyUsage.KDC_REP_TICKET, encEncTicketPart({ flags: 0, key: session, client: realm.client, authtime: now, endtime })) });
    const part = encEncKdcRepPart({ key: session, nonce: realm.tamper?.nonce?.(req.nonce) ?? req.nonce, flags: 0, authtime: now, endtime, srealm: sname.realm, sname: sname.name });
    return framed(encKdcRep(11, { crealm: realm.client.realm, cname: realm.client.name, ticketDer, encPart: { etype: realm.etype, cipher: e.encrypt(key, KeyUsage.AS_REP_ENCPART, part) } }));
  };
}
