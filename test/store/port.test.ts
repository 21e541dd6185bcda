/**
 * The port stays one you can read in one sitting (issue 15): at most 45 methods across Store
 * and WriteTx, a method both inherit from one shared interface counted once. The lists are
 * checked against the interfaces by the compiler (recording.ts), so the count is the port's.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PORT_METHODS, SHARED_METHODS, STORE_METHODS, WRITE_TX_METHODS } from './recording.js';

describe('the Store port', () => {
  it('has at most 45 methods, each declared once', () => {
    assert.equal(new Set(PORT_METHODS).size, PORT_METHODS.length, 'no method is listed twice');
    console.log(
      `port methods: ${PORT_METHODS.length} (shared ${SHARED_METHODS.length}, Store ${STORE_METHODS.length}, WriteTx ${WRITE_TX_METHODS.length})`,
    );
    assert.ok(PORT_METHODS.length <= 45, `${PORT_METHODS.length} methods`);
  });
});
