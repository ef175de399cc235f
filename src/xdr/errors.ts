/**
 * A reply did not decode: truncated, a length beyond its limit or the record,
 * an enum value the spec does not allow. `what` names the field being read.
 */
export class XdrDecodeError extends Error {
  /** Always `ERR_XDR_DECODE`. */
  readonly code = 'ERR_XDR_DECODE';
  /** @param what The field that was being decoded when the reply ran out or broke a rule. */
  constructor(message: string, readonly what?: string) {
    super(message);
    this.name = 'XdrDecodeError';
  }
}
