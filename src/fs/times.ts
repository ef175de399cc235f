import { InvalidArgError, invalidArgType } from '../errors.js';
import type { SetAttrs, Time } from './backend.js';

/**
 * node's toUnixTimestamp (node >= 20): seconds, fractional, from a number, a
 * numeric string or a Date.
 *
 * - A negative number means now, as node maps it.
 * - NaN and ±Infinity numbers are refused with ERR_INVALID_ARG_TYPE, as node
 *   refuses them (node before 10 mapped them to now).
 * - A numeric string is taken as is (node's test is `+s == s`, so '' is 0).
 * - An invalid Date, or a string reading Infinity, has no time to set: node
 *   fails those with EINVAL from utimes(2); here they are ERR_INVALID_ARG_VALUE
 *   before anything is sent.
 *
 * Dates are exact to their millisecond; seconds are kept to the microsecond.
 */
export function toTime(t: unknown, name: string): Time {
  let secs: number;
  if (typeof t === 'string' && !Number.isNaN(Number(t))) secs = Number(t);
  else if (typeof t === 'number' && Number.isFinite(t)) secs = t < 0 ? Date.now() / 1000 : t;
  else if (t instanceof Date) {
    const ms = t.getTime();
    if (Number.isFinite(ms)) {
      // Whole milliseconds: exact, without going through a fractional double.
      const sec = Math.floor(ms / 1000);
      return { sec, nsec: (ms - sec * 1000) * 1e6 };
    }
    secs = NaN;
  } else throw invalidArgType(name, 'an instance of Date or a time in seconds', t);
  if (!Number.isFinite(secs)) {
    throw new InvalidArgError('ERR_INVALID_ARG_VALUE', `The argument '${name}' is not a valid time. Received ${t instanceof Date ? 'Invalid Date' : `'${String(t)}'`}`);
  }
  // A double holds present-day seconds to a fraction of a microsecond, so
  // finer digits are noise: round to the microsecond (libuv truncates to it).
  const us = Math.round(secs * 1e6);
  const sec = Math.floor(us / 1e6);
  return { sec, nsec: (us - sec * 1e6) * 1000 };
}

export function toSetAttrsTimes(atime: unknown, mtime: unknown): SetAttrs {
  return { atime: toTime(atime, 'atime'), mtime: toTime(mtime, 'mtime') };
}
