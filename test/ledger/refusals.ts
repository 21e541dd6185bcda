import assert from 'node:assert/strict';
import { AmisiError } from '../../src/core/errors.js';
import type { Store } from '../../src/ledger/store.js';
import { verify } from '../../src/ledger/verify.js';

/** The refusal's code, message and data, or a failure if the promise did not refuse. */
export async function refusal(
  p: Promise<unknown>,
): Promise<{ code: string; message: string; data: unknown }> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof AmisiError, String(e));
    return { code: e.code, message: e.message, data: e.data };
  }
  assert.fail('expected a refusal');
}

/** verify finds nothing wrong in the store. */
export async function clean(store: Store): Promise<void> {
  assert.deepEqual((await verify(store)).violations, []);
}
