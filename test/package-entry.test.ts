import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as entry from '../src/index.js';

describe('the package entry (amisi-credits)', () => {
  it('exports the Ledger API and the way to open a store', () => {
    for (const name of ['Ledger', 'openStore', 'SqliteStore', 'verify', 'AmisiError', 'FakeClock'])
      assert.ok(name in entry, `${name} is exported`);
  });

  it('exports none of the engine internals', () => {
    const internals = ['Batch', 'Committer', 'charge', 'hold', 'once', 'requestHash', 'grant'];
    assert.deepEqual(
      internals.filter((name) => name in entry),
      [],
      'the unit of work, commands and the committer stay behind the Ledger',
    );
  });
});
