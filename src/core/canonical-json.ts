/**
 * JSON with every object's keys sorted, so equal content has equal text whatever order its keys
 * were written in: the digest of a catalog, the fingerprint of a request (idempotency). Arrays
 * keep their order (it is content). Undefined values are left out, as JSON.stringify does.
 *
 * The text is exactly what JSON.stringify gives for an object rebuilt with sorted keys (keys that
 * are array indexes come first, in numeric order, as JavaScript enumerates them), so digests and
 * fingerprints already stored keep matching. It is written in one pass without rebuilding any
 * object: a request's fingerprint is computed on every write.
 */
export function canonicalJson(value: unknown): string {
  return write(value) as string;
}

/** An array index as JavaScript orders own keys: a canonical integer below 2^32 - 1. */
const INDEX = /^(?:0|[1-9]\d{0,9})$/;
const isIndex = (k: string) => INDEX.test(k) && Number(k) < 4294967295;

function sortedKeys(o: object): string[] {
  const keys = Object.keys(o).sort();
  if (!keys.some(isIndex)) return keys;
  const indexes = keys.filter(isIndex).sort((a, b) => Number(a) - Number(b));
  return [...indexes, ...keys.filter((k) => !isIndex(k))];
}

/** The JSON of a value, or undefined where JSON.stringify leaves a property out. */
function write(value: unknown): string | undefined {
  let v = value;
  if (
    v !== null &&
    typeof v === 'object' &&
    typeof (v as { toJSON?: unknown }).toJSON === 'function'
  )
    v = (v as { toJSON: () => unknown }).toJSON();
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) {
    let out = '[';
    for (let i = 0; i < v.length; i++) out += (i > 0 ? ',' : '') + (write(v[i]) ?? 'null');
    return out + ']';
  }
  const o = v as Record<string, unknown>;
  let out = '{';
  let first = true;
  for (const k of sortedKeys(o)) {
    const text = write(o[k]);
    if (text === undefined) continue;
    out += (first ? '' : ',') + JSON.stringify(k) + ':' + text;
    first = false;
  }
  return out + '}';
}
