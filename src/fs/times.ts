import type { Backend, SetAttrs, Time } from './backend.js';
import { argType } from './args.js';

/**
 * node's toUnixTimestamp (node >= 20): seconds, fractional, from a number, a
 * numeric string or a Date.
 *
 * - A negative number means now, as node maps it.
 * - NaN, ±Infinity and anything not a number, numeric string or Date are
 *   refused with node's ERR_INVALID_ARG_TYPE.
 * - A numeric string is taken as is (node's test is `+s == s`, so '' is 0).
 * - An invalid Date, or a string reading Infinity, has no time to set:
 *   undefined here; the caller fails with EINVAL as utimes(2) does in node,
 *   after resolving the path (a missing path is ENOENT first).
 *
 * Dates are exact to their millisecond; seconds are kept to the microsecond.
 */
export function toTime(t: unknown): Time | undefined {
  let secs: number;
  if (typeof t === 'string' && !Number.isNaN(Number(t))) secs = Number(t);
  else if (typeof t === 'number' && Number.isFinite(t)) secs = t < 0 ? Date.now() / 1000 : t;
  else if (t instanceof Date) {
    const ms = t.getTime();
    if (!Number.isFinite(ms)) return undefined;
    // Whole milliseconds: exact, without going through a fractional double.
    const sec = Math.floor(ms / 1000);
    return { sec, nsec: (ms - sec * 1000) * 1e6 };
  } else throw argType('time', 'an instance of Date or an Time in seconds', t);
  if (!Number.isFinite(secs)) return undefined;
  // A double holds present-day seconds to a fraction of a microsecond, so
  // finer digits are noise: round to the microsecond (libuv truncates to it).
  const us = Math.round(secs * 1e6);
  const sec = Math.floor(us / 1e6);
  return { sec, nsec: (us - sec * 1e6) * 1000 };
}

/** Both times, or undefined when either has none to set (see toTime). */
export function toSetAttrsTimes(atime: unknown, mtime: unknown): SetAttrs | undefined {
  const a = toTime(atime);
  const m = toTime(mtime);
  return a && m ? { atime: a, mtime: m } : undefined;
}

/**
 * The seconds a time attribute can hold on this backend, the range Linux
 * gives a mount (s_time_min/s_time_max: 0..U32_MAX for NFSv3, int64 for
 * NFSv4), as the backend declares it in its limits.
 */
export function timeRange(b: Backend): { min: number; max: number } | undefined {
  return b.limits.timeRange;
}

/**
 * Times outside what the server can store are clamped to its range, as the
 * kernel's timestamp_truncate() does for utimensat(2) on such a mount: a date
 * before 1970 set over NFSv3 becomes the epoch instead of failing.
 */
export function clampTimes(s: SetAttrs, b: Backend): SetAttrs {
  const r = timeRange(b);
  if (!r) return s;
  const clamp = (t: Time | 'server' | undefined): Time | 'server' | undefined => {
    if (t === undefined || t === 'server') return t;
    if (t.sec < r.min) return { sec: r.min, nsec: 0 };
    if (t.sec > r.max) return { sec: r.max, nsec: 0 };
    return t;
  };
  const out: SetAttrs = { ...s };
  if (s.atime !== undefined) out.atime = clamp(s.atime)!;
  if (s.mtime !== undefined) out.mtime = clamp(s.mtime)!;
  return out;
}
