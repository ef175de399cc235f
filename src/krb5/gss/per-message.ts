import { enctypeOf, KeyUsage } from '../crypto/index.js';
import { Krb5Error } from '../errors.js';
import type { EncryptionKey } from '../messages/types.js';

/**
 * RFC 4121 section 4.2 per-message tokens. Both start with a 16-byte header:
 *
 *   MIC  (TOK_ID 04 04): flags(1) filler ff*5              SND_SEQ(8) | checksum
 *   Wrap (TOK_ID 05 04): flags(1) filler ff  EC(2) RRC(2)  SND_SEQ(8) | data
 *
 * flags: 0x01 SentByAcceptor, 0x02 Sealed, 0x04 AcceptorSubkey.
 * Sealed Wrap: encrypt(plaintext | EC filler bytes | header with RRC=0),
 * then the whole ciphertext rotated right by RRC. Unsealed Wrap: plaintext |
 * checksum over (plaintext | header with EC=RRC=0); EC is the checksum length.
 * We send EC=0 and RRC=0, and accept any RRC (Windows uses 28).
 */
export const TOK_MIC = 0x0404;
export const TOK_WRAP = 0x0504;
export const FLAG_SENT_BY_ACCEPTOR = 0x01;
export const FLAG_SEALED = 0x02;
export const FLAG_ACCEPTOR_SUBKEY = 0x04;

export interface TokenKeys {
  key: EncryptionKey;
  /** Set in every token when `key` is the acceptor's subkey. */
  acceptorSubkey: boolean;
}

function header(tokId: number, flags: number, ec: number, rrc: number, seq: bigint): Buffer {
  const h = Buffer.alloc(16, 0xff);
  h.writeUInt16BE(tokId, 0);
  h[2] = flags;
  if (tokId === TOK_WRAP) {
    h.writeUInt16BE(ec, 4);
    h.writeUInt16BE(rrc, 6);
  }
  h.writeBigUInt64BE(seq, 8);
  return h;
}

function usage(fromAcceptor: boolean, seal: boolean): number {
  if (fromAcceptor) return seal ? KeyUsage.GSS_ACCEPTOR_SEAL : KeyUsage.GSS_ACCEPTOR_SIGN;
  return seal ? KeyUsage.GSS_INITIATOR_SEAL : KeyUsage.GSS_INITIATOR_SIGN;
}

function fail(detail: string): never {
  throw new Krb5Error('ERR_KRB5_GSS', `krb5 GSS: ${detail}`);
}

export function makeMic(keys: TokenKeys, fromAcceptor: boolean, seq: bigint, message: Uint8Array): Buffer {
  const flags = (fromAcceptor ? FLAG_SENT_BY_ACCEPTOR : 0) | (keys.acceptorSubkey ? FLAG_ACCEPTOR_SUBKEY : 0);
  const h = header(TOK_MIC, flags, 0, 0, seq);
  const e = enctypeOf(keys.key.keytype);
  return Buffer.concat([h, e.checksum(keys.key.keyvalue, usage(fromAcceptor, false), Buffer.concat([message, h]))]);
}

/** Checks a MIC token from the peer (`fromAcceptor` says who the peer is) and returns its sequence number. */
export function verifyMic(keys: TokenKeys, fromAcceptor: boolean, message: Uint8Array, token: Uint8Array): bigint {
  const t = Buffer.from(token.buffer, token.byteOffset, token.byteLength);
  if (t.length < 16) fail(`MIC token of ${t.length} bytes is shorter than its header`);
  if (t.readUInt16BE(0) !== TOK_MIC) fail(`not a MIC token (TOK_ID ${t.readUInt16BE(0).toString(16)})`);
  const h = t.subarray(0, 16);
  checkFlags(h[2]!, fromAcceptor, keys, false);
  if (!h.subarray(3, 8).equals(Buffer.alloc(5, 0xff))) fail('MIC token filler is not ff ff ff ff ff');
  const e = enctypeOf(keys.key.keytype);
  if (!e.verifyChecksum(keys.key.keyvalue, usage(fromAcceptor, false), Buffer.concat([message, h]), t.subarray(16))) {
    throw new Krb5Error('ERR_KRB5_INTEGRITY', 'krb5 GSS: MIC token checksum does not verify (GSS_S_BAD_SIG)');
  }
  return h.readBigUInt64BE(8);
}

function checkFlags(flags: number, fromAcceptor: boolean, keys: TokenKeys, sealedAllowed: boolean): void {
  if (Boolean(flags & FLAG_SENT_BY_ACCEPTOR) !== fromAcceptor) fail(`token direction is wrong: SentByAcceptor is ${flags & FLAG_SENT_BY_ACCEPTOR ? 'set' : 'clear'} in a token from the ${fromAcceptor ? 'acceptor' : 'initiator'}`);
  if (!sealedAllowed && flags & FLAG_SEALED) fail('Sealed flag set in a MIC token');
  // A token under the acceptor's subkey cannot be checked with another key, and vice versa.
  if (Boolean(flags & FLAG_ACCEPTOR_SUBKEY) !== keys.acceptorSubkey) fail(`AcceptorSubkey flag is ${flags & FLAG_ACCEPTOR_SUBKEY ? 'set' : 'clear'} but the context ${keys.acceptorSubkey ? 'has' : 'has no'} acceptor subkey`);
}

export function makeWrap(keys: TokenKeys, fromAcceptor: boolean, seq: bigint, message: Uint8Array, conf: boolean): Buffer {
  const e = enctypeOf(keys.key.keytype);
  const flags = (fromAcceptor ? FLAG_SENT_BY_ACCEPTOR : 0) | (conf ? FLAG_SEALED : 0) | (keys.acceptorSubkey ? FLAG_ACCEPTOR_SUBKEY : 0);
  if (conf) {
    const h = header(TOK_WRAP, flags, 0, 0, seq);
    return Buffer.concat([h, e.encrypt(keys.key.keyvalue, usage(fromAcceptor, true), Buffer.concat([message, h]))]);
  }
  const ck = e.checksum(keys.key.keyvalue, usage(fromAcceptor, true), Buffer.concat([message, header(TOK_WRAP, flags, 0, 0, seq)]));
  return Buffer.concat([header(TOK_WRAP, flags, ck.length, 0, seq), message, ck]);
}

/** Opens a Wrap token from the peer: the plaintext, whether it was encrypted, and its sequence number. */
export function unwrap(keys: TokenKeys, fromAcceptor: boolean, token: Uint8Array): { message: Buffer; conf: boolean; seq: bigint } {
  const t = Buffer.from(token.buffer, token.byteOffset, token.byteLength);
  if (t.length < 16) fail(`Wrap token of ${t.length} bytes is shorter than its header`);
  if (t.readUInt16BE(0) !== TOK_WRAP) fail(`not a Wrap token (TOK_ID ${t.readUInt16BE(0).toString(16)})`);
  const h = t.subarray(0, 16);
  const flags = h[2]!;
  checkFlags(flags, fromAcceptor, keys, true);
  if (h[3] !== 0xff) fail('Wrap token filler is not ff');
  const ec = h.readUInt16BE(4);
  const rrc = h.readUInt16BE(6);
  const seq = h.readBigUInt64BE(8);
  const e = enctypeOf(keys.key.keytype);
  const body = unrotate(t.subarray(16), rrc);
  if (flags & FLAG_SEALED) {
    const plain = e.decrypt(keys.key.keyvalue, usage(fromAcceptor, true), body);
    if (plain.length < ec + 16) fail(`sealed Wrap token too short for EC ${ec} and its header copy`);
    const inner = plain.subarray(plain.length - 16);
    // The encrypted header copy has RRC 0; everything else must match what was sent in clear.
    const expect = Buffer.from(h);
    expect.writeUInt16BE(0, 6);
    if (!inner.equals(expect)) throw new Krb5Error('ERR_KRB5_INTEGRITY', 'krb5 GSS: the encrypted header copy of a Wrap token does not match its header');
    return { message: Buffer.from(plain.subarray(0, plain.length - 16 - ec)), conf: true, seq };
  }
  if (ec !== e.checksumBytes) fail(`unsealed Wrap token EC ${ec} is not the checksum length ${e.checksumBytes}`);
  if (body.length < ec) fail('unsealed Wrap token shorter than its checksum');
  const message = body.subarray(0, body.length - ec);
  const zeroed = Buffer.from(h);
  zeroed.writeUInt32BE(0, 4);
  if (!e.verifyChecksum(keys.key.keyvalue, usage(fromAcceptor, true), Buffer.concat([message, zeroed]), body.subarray(body.length - ec))) {
    throw new Krb5Error('ERR_KRB5_INTEGRITY', 'krb5 GSS: Wrap token checksum does not verify (GSS_S_BAD_SIG)');
  }
  return { message: Buffer.from(message), conf: false, seq };
}

/** Undo a right rotation by `rrc` bytes (RFC 4121 section 4.2.5). */
function unrotate(b: Buffer, rrc: number): Buffer {
  if (b.length === 0) return b;
  const r = rrc % b.length;
  if (r === 0) return b;
  return Buffer.concat([b.subarray(r), b.subarray(0, r)]);
}
