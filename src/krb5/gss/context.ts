import { randomInt } from 'node:crypto';
import { Krb5Error } from '../errors.js';
import type { EncryptionKey, Principal } from '../messages/types.js';
import { makeMic, makeWrap, unwrap, verifyMic, type TokenKeys } from './per-message.js';

/** GSS context flags as the 0x8003 authenticator checksum carries them (RFC 4121 section 4.1.1.1). */
export const GssFlags = {
  DELEG: 1,
  MUTUAL: 2,
  REPLAY: 4,
  SEQUENCE: 8,
  CONF: 16,
  INTEG: 32,
} as const;

/** How many recent sequence numbers replay detection remembers. */
const REPLAY_WINDOW = 1024n;

/**
 * What an established krb5 GSS context has on either side: the key per
 * RFC 4121 section 2 (the acceptor's subkey if it sent one, else the
 * initiator's, else the ticket session key), our next sequence number, and
 * the peer's sequence numbers for replay and order checks when the context
 * flags ask for them. RPCSEC_GSS asks for neither: its replies may arrive in
 * any order and it has its own sequence window.
 */
export abstract class GssContext {
  protected keys?: TokenKeys;
  /** Our next SND_SEQ (64-bit in RFC 4121 tokens; starts below 2^30 as MIT's does). */
  protected sendSeq = BigInt(randomInt(0, 0x3fffffff));
  /** The peer's first sequence number and what we have seen of it. */
  protected recvBase = 0n;
  private recvNext = 0n;
  private readonly seen = new Set<bigint>();
  flags = 0;
  protected abstract readonly isAcceptor: boolean;
  abstract readonly peer: Principal;

  get established(): boolean {
    return this.keys !== undefined;
  }

  /** The key tokens are made with (for RPCSEC_GSS and tests). */
  get sessionKey(): EncryptionKey {
    return this.need().key;
  }

  protected setKeys(keys: TokenKeys, peerSeq: number | bigint): void {
    this.keys = keys;
    this.recvBase = BigInt(peerSeq);
    this.recvNext = this.recvBase;
  }

  private need(): TokenKeys {
    if (!this.keys) throw new Krb5Error('ERR_KRB5_GSS', 'krb5 GSS: the security context is not established yet');
    return this.keys;
  }

  getMic(message: Uint8Array): Buffer {
    return makeMic(this.need(), this.isAcceptor, this.sendSeq++, message);
  }

  /** Throws unless `token` is the peer's MIC of `message`; returns its sequence number. */
  verifyMic(message: Uint8Array, token: Uint8Array): bigint {
    const seq = verifyMic(this.need(), !this.isAcceptor, message, token);
    this.checkSeq(seq);
    return seq;
  }

  wrap(message: Uint8Array, conf = true): Buffer {
    return makeWrap(this.need(), this.isAcceptor, this.sendSeq++, message, conf);
  }

  unwrap(token: Uint8Array): { message: Buffer; conf: boolean; seq: bigint } {
    const out = unwrap(this.need(), !this.isAcceptor, token);
    this.checkSeq(out.seq);
    return out;
  }

  private checkSeq(seq: bigint): void {
    if (!(this.flags & (GssFlags.REPLAY | GssFlags.SEQUENCE))) return;
    if (this.seen.has(seq)) throw new Krb5Error('ERR_KRB5_GSS', `krb5 GSS: sequence number ${seq} seen before (GSS_S_DUPLICATE_TOKEN)`);
    if (seq + REPLAY_WINDOW < this.recvNext) throw new Krb5Error('ERR_KRB5_GSS', `krb5 GSS: sequence number ${seq} is too old (GSS_S_OLD_TOKEN)`);
    if (this.flags & GssFlags.SEQUENCE && seq !== this.recvNext) {
      throw new Krb5Error('ERR_KRB5_GSS', `krb5 GSS: sequence number ${seq} out of order, expected ${this.recvNext} (${seq < this.recvNext ? 'GSS_S_UNSEQ_TOKEN' : 'GSS_S_GAP_TOKEN'})`);
    }
    this.seen.add(seq);
    if (seq >= this.recvNext) this.recvNext = seq + 1n;
    for (const s of this.seen) if (s + REPLAY_WINDOW < this.recvNext) this.seen.delete(s);
  }
}
