import { describeType, InvalidArgError } from '../errors.js';

/**
 * Argument errors worded as node words them, so a caller (or a library
 * matching on messages) cannot tell them from node:fs's: a dotted name is a
 * "property" (options.recursive), any other an "argument".
 */
export function argType(name: string, expected: string, actual: unknown): InvalidArgError {
  const what = name.includes('.') ? 'property' : 'argument';
  return new InvalidArgError('ERR_INVALID_ARG_TYPE', `The "${name}" ${what} must be ${expected}. Received ${describeType(actual)}`);
}

export function outOfRange(name: string, range: string, actual: unknown): InvalidArgError {
  return new InvalidArgError('ERR_OUT_OF_RANGE', `The value of "${name}" is out of range. It must be ${range}. Received ${String(actual)}`);
}

export function argValue(name: string, reason: string, actual: unknown): InvalidArgError {
  const shown = typeof actual === 'string' ? `'${actual}'` : String(actual);
  return new InvalidArgError('ERR_INVALID_ARG_VALUE', `The argument '${name}' ${reason}. Received ${shown}`);
}

export function checkBoolean(v: unknown, name: string): void {
  if (v !== undefined && typeof v !== 'boolean') throw argType(name, 'of type boolean', v);
}

/** An integer in [min, max], as node's validateInteger. */
export function checkInteger(v: unknown, name: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): asserts v is number {
  if (typeof v !== 'number') throw argType(name, 'of type number', v);
  if (!Number.isInteger(v)) throw outOfRange(name, 'an integer', v);
  if (v < min || v > max) throw outOfRange(name, `>= ${min} && <= ${max}`, v);
}

/**
 * The mode of access() and copyFile(), taken as node's getValidMode takes
 * it: not a number is a TypeError in node's own words, outside 0..7 a
 * RangeError, a fraction is cut to its integer part (as the binding does).
 */
export function validMode(mode: unknown): number {
  if (mode === undefined || mode === null) return 0;
  if (typeof mode !== 'number') throw new InvalidArgError('ERR_INVALID_ARG_TYPE', 'mode must be int32 or null/undefined');
  if (!(mode >= 0 && mode <= 7)) throw new InvalidArgError('ERR_OUT_OF_RANGE', 'mode is out of range: >= 0 && <= 7');
  return Math.trunc(mode);
}
