import { enctypeOf, KeyUsage } from '../crypto/index.js';
import type { Credentials } from '../credentials.js';
import { parseDer } from '../der.js';
import { Krb5Error } from '../errors.js';
import { ApOptions, decApRep, decEncApRepPart, encApReq, encAuthenticator } from '../messages/ap.js';
import { decKrbError, krbErrorToError } from '../messages/krb-error.js';
import { principalToString, type EncryptionKey, type Principal } from '../messages/types.js';
import { GssContext, GssFlags } from './context.js';
import { frameContextToken, TokId, unframeContextToken } from './framing.js';

export interface InitiatorOptions {
  /** GSS flags to request; default MUTUAL | INTEG | CONF. */
  flags?: number;
  now?: () => Date;
  /** 16-byte channel bindings hash (RFC 4121 4.1.1.2); zeros when there are none. */
  channelBindings?: Buffer;
}

/** The 0x8003 authenticator checksum (RFC 4121 section 4.1.1): Lgth, Bnd, Flags, little-endian. */
export const GSS_CHECKSUM_TYPE = 0x8003;

/**
 * The initiator (client) side of a krb5 GSS context. `initialToken()` gives
 * the AP-REQ token to send; with mutual authentication the acceptor's reply
 * goes to `step()`, which verifies the AP-REP and takes the acceptor's
 * subkey and sequence number. Without it the context is ready at once.
 */
export class GssInitiator extends GssContext {
  protected readonly isAcceptor = false;
  readonly peer: Principal;
  private readonly creds: Credentials;
  private readonly subkey: EncryptionKey;
  private readonly initialSeq: number;
  private ctime?: { d: Date; usec: number };
  private readonly opts: InitiatorOptions;

  constructor(creds: Credentials, opts: InitiatorOptions = {}) {
    super();
    this.creds = creds;
    this.opts = opts;
    this.peer = creds.server;
    this.flags = opts.flags ?? GssFlags.MUTUAL | GssFlags.INTEG | GssFlags.CONF;
    const e = enctypeOf(creds.sessionKey.keytype);
    this.subkey = { keytype: e.etype, keyvalue: e.randomKey() };
    this.initialSeq = Number(this.sendSeq);
  }

  initialToken(): Buffer {
    const e = enctypeOf(this.creds.sessionKey.keytype);
    const ms = (this.opts.now?.() ?? new Date()).getTime();
    this.ctime = { d: new Date(Math.floor(ms / 1000) * 1000), usec: (ms % 1000) * 1000 };
    const ck = Buffer.alloc(24);
    ck.writeUInt32LE(16, 0);
    (this.opts.channelBindings ?? Buffer.alloc(16)).copy(ck, 4, 0, 16);
    ck.writeUInt32LE(this.flags, 20);
    const authenticator = encAuthenticator({
      client: this.creds.client,
      cksum: { cksumtype: GSS_CHECKSUM_TYPE, checksum: ck },
      cusec: this.ctime.usec,
      ctime: this.ctime.d,
      subkey: this.subkey,
      seqNumber: this.initialSeq,
    });
    const apReq = encApReq(this.flags & GssFlags.MUTUAL ? ApOptions.mutual_required : 0, this.creds.ticket.der, {
      etype: e.etype,
      cipher: e.encrypt(this.creds.sessionKey.keyvalue, KeyUsage.AP_REQ_AUTH, authenticator),
    });
    // Without mutual authentication the acceptor uses our subkey and our sequence numbers.
    if (!(this.flags & GssFlags.MUTUAL)) this.setKeys({ key: this.subkey, acceptorSubkey: false }, this.initialSeq);
    return frameContextToken(TokId.KRB_AP_REQ, apReq);
  }

  /** Process the acceptor's reply token (AP-REP, or KRB-ERROR which becomes a named error). */
  step(token: Uint8Array): void {
    if (this.established) throw new Krb5Error('ERR_KRB5_GSS', 'krb5 GSS: context already established');
    if (!this.ctime) throw new Krb5Error('ERR_KRB5_GSS', 'krb5 GSS: step() before initialToken()');
    const { tokId, message } = unframeContextToken(token);
    const who = `GSS context with ${principalToString(this.peer)}`;
    if (tokId === TokId.KRB_ERROR) throw krbErrorToError(decKrbError(parseDer(message, 'KRB-ERROR')), who);
    if (tokId !== TokId.KRB_AP_REP) throw new Krb5Error('ERR_KRB5_GSS', `krb5 GSS: ${who}: expected an AP-REP token, got TOK_ID ${tokId.toString(16)}`);
    const enc = decApRep(message);
    const e = enctypeOf(this.creds.sessionKey.keytype);
    let part;
    try {
      part = decEncApRepPart(e.decrypt(this.creds.sessionKey.keyvalue, KeyUsage.AP_REP_ENCPART, enc.cipher));
    } catch (err) {
      throw new Krb5Error('ERR_KRB5_AP_ERROR', `krb5: ${who}: mutual authentication failed, the AP-REP is not from the holder of the service key (KRB_AP_ERR_MUT_FAIL)`, { krbError: 'KRB_AP_ERR_MUT_FAIL', krbErrorCode: 46, cause: err });
    }
    // The acceptor proves it read our authenticator by echoing its time.
    if (part.ctime.getTime() !== this.ctime.d.getTime() || part.cusec !== this.ctime.usec) {
      throw new Krb5Error('ERR_KRB5_AP_ERROR', `krb5: ${who}: AP-REP time does not echo our authenticator (KRB_AP_ERR_MUT_FAIL)`, { krbError: 'KRB_AP_ERR_MUT_FAIL', krbErrorCode: 46 });
    }
    if (part.subkey) enctypeOf(part.subkey.keytype);
    const keys = part.subkey ? { key: part.subkey, acceptorSubkey: true } : { key: this.subkey, acceptorSubkey: false };
    this.setKeys(keys, part.seqNumber ?? this.initialSeq);
  }
}
