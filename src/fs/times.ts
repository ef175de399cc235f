import { invalidArgType } from '../errors.js';
import type { SetAttrs, Time } from './backend.js';

/** node's toUnixTimestamp: seconds (fractional) from a number, numeric string or Date. */
export function toTime(t: unknown, name: string): Time {
  let secs: number;
  if (t instanceof Date) secs = t.getTime() / 1000;
  else if (typeof t === 'number') secs = t;
  else if (typeof t === 'string' && t.trim() !== '' && Number.isFinite(Number(t))) secs = Number(t);
  else if (typeof t === 'bigint') secs = Number(t);
  else throw invalidArgType(name, 'of type number or an instance of Date', t);
  // node maps non-finite times to now
  if (!Number.isFinite(secs)) secs = Date.now() / 1000;
  let sec = Math.floor(secs);
  let nsec = Math.round((secs - sec) * 1e9);
  if (nsec >= 1e9) {
    sec += 1;
    nsec -= 1e9;
  }
  return { sec, nsec };
}

export function toSetAttrsTimes(atime: unknown, mtime: unknown): SetAttrs {
  return { atime: toTime(atime, 'atime'), mtime: toTime(mtime, 'mtime') };
}
