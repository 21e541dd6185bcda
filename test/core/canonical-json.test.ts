import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { canonicalJson } from '../../src/core/canonical-json.js';

/** The first form: JSON.stringify over objects rebuilt with sorted keys (what digests used). */
function rebuilt(value: unknown): string {
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

describe('canonicalJson', () => {
  it('writes the same text as the first form, for any JSON-like value', () => {
    const key = fc.oneof(
      fc.string(),
      fc.constantFrom(
        '0',
        '1',
        '2',
        '10',
        '9',
        '01',
        '-1',
        '4294967295',
        '4294967294',
        'toString',
        'constructor',
      ),
    );
    const value = fc.letrec((tie) => ({
      leaf: fc.oneof(
        fc.constant(null),
        fc.constant(undefined),
        fc.boolean(),
        fc.integer(),
        fc.double(),
        fc.string(),
      ),
      node: fc.oneof(
        { depthSize: 'small' },
        tie('leaf'),
        fc.array(tie('node'), { maxLength: 4 }),
        fc.dictionary(key, tie('node'), { maxKeys: 5 }),
      ),
    })).node;
    fc.assert(
      fc.property(value, (v) => canonicalJson(v) === rebuilt(v)),
      { numRuns: 2000 },
    );
  });

  it('sorts keys at every depth, keeps arrays in order, leaves undefined out', () => {
    const text = canonicalJson({ b: [3, { z: 1, a: undefined, y: 2 }], a: 'x', 10: 1, 9: 2 });
    assert.equal(text, '{"9":2,"10":1,"a":"x","b":[3,{"y":2,"z":1}]}');
    assert.equal(canonicalJson({ at: new Date(0) }), '{"at":"1970-01-01T00:00:00.000Z"}');
    const proto = JSON.parse('{"b":1,"__proto__":{"y":1,"x":2},"a":{"c":3}}') as unknown;
    assert.equal(canonicalJson(proto), '{"__proto__":{"x":2,"y":1},"a":{"c":3},"b":1}');
  });
});
