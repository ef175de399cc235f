/**
 * Derived keys (Kc, Ke, Ki per key usage) remembered per base key object.
 * Deriving costs several AES or HMAC operations (tens of microseconds with
 * node:crypto's per-call setup), more than sealing a 4 KiB message, and a
 * GSS context derives the same few keys for every token. Keyed weakly by the
 * base key's object, so a key's cache goes when the key does; base keys are
 * never modified in place.
 */
const cache = new WeakMap<Uint8Array, Map<string, Buffer>>();

export function cachedDerive(key: Uint8Array, label: string, derive: () => Buffer): Buffer {
  let m = cache.get(key);
  if (!m) {
    m = new Map();
    cache.set(key, m);
  }
  let v = m.get(label);
  if (!v) {
    v = derive();
    m.set(label, v);
  }
  return v;
}
