/**
 * JSON with every object's keys sorted, so equal content has equal text whatever order its keys
 * were written in: the digest of a catalog, the fingerprint of a request (idempotency). Arrays
 * keep their order (it is content). Undefined values are left out, as JSON.stringify does.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      return Object.fromEntries(
        Object.keys(o)
          .sort()
          .map((k) => [k, o[k]]),
      );
    }
    return v;
  });
}
