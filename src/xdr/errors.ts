/**
 * A reply did not decode: truncated, a length beyond its limit or the record,
 * an enum value the spec does not allow. `what` names the field being read.
 */
export class XdrDecodeError extends Error {
  readonly code = 'ERR_XDR_DECODE';
  constructor(message: string, readonly what?: string) {
    super(message);
    this.name = 'XdrDecodeError';
  }
}
