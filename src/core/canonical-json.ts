/**
 * JSON with every object's keys sorted, so equal content has equal text whatever order its keys
 * were written in: the digest of a catalog, the fingerprint of a request (idempotency). Arrays
 * keep their order (it is content). Undefined values are left out, as JSON.stringify does.
 *
 * The text is exactly what JSON.stringify gives for an object rebuilt with sorted keys (keys that
 * are array indexes come first, in numeric order, as JavaScript enumerates them), so digests and
 * fingerprints already stored keep matching. It is written in one pass, no object rebuilt: a
 * request's fingerprint is computed on every write.
 */
export function canonicalJson(value: unknown): string {
  return write(value) as string;
}

/** An array index as JavaScript orders own keys: a canonical integer below 2^32 - 1. */
const INDEX = /^(?:0|[1-9]\d{0,9})$/;
function isIndex(k: string): boolean {
  const c = k.charCodeAt(0);
  return c >= 48 && c <= 57 && INDEX.test(k) && Number(k) < 4294967295;
}

/** The object's keys in canonical order (most are few, and often sorted already). */
function sortedKeys(o: object): string[] {
  const keys = Object.keys(o);
  let sorted = true;
  let index = false;
  for (let i = 0; i < keys.length; i++) {
    if (i > 0 && keys[i - 1]! > keys[i]!) sorted = false;
    if (!index && isIndex(keys[i]!)) index = true;
  }
  if (!sorted) keys.sort();
  if (!index) return keys;
  const indexes = keys.filter(isIndex).sort((a, b) => Number(a) - Number(b));
  return [...indexes, ...keys.filter((k) => !isIndex(k))];
}

/** The JSON of a value, or undefined where JSON.stringify leaves a property out. */
function write(value: unknown): string | undefined {
  let v = value;
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  const toJSON = (v as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    v = (toJSON as () => unknown).call(v);
    if (v === null || typeof v !== 'object') return JSON.stringify(v);
  }
  if (Array.isArray(v)) {
    let out = '[';
    for (let i = 0; i < v.length; i++) out += (i > 0 ? ',' : '') + (write(v[i]) ?? 'null');
    return out + ']';
  }
  const o = v as Record<string, unknown>;
  let out = '{';
  for (const k of sortedKeys(o)) {
    const text = write(o[k]);
    if (text === undefined) continue;
    out += (out.length > 1 ? ',' : '') + JSON.stringify(k) + ':' + text;
  }
  return out + '}';
}
