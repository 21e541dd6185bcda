import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { amisi, snapshot } from './cli-helpers.js';

const { dir, cleanup } = tempDir('amisi-cli-accounts-');
const db = join(dir, 'amisi.db');
const run = (...args: string[]) => amisi(db, args);
const json = <T = Record<string, unknown>>(...args: string[]) => {
  const r = amisi(db, ['--json', ...args]);
  assert.equal(r.status, 0, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return r.json<T>();
};

before(() => {
  assert.equal(run('init').status, 0);
});
after(cleanup);

interface Registered {
  id: string;
  url: string;
  secret: string;
  replay: boolean;
}

describe('amisi webhooks add', () => {
  it('takes --key: the same key again answers the same endpoint and secret, and makes no second', () => {
    const url = 'https://hooks.example.com/amisi';
    const first = json<Registered>(
      'webhooks',
      'add',
      url,
      '--events',
      'charge.created',
      '--key',
      'wh-1',
    );
    assert.equal(first.replay, false);
    assert.match(first.secret, /^whsec_/);
    const again = json<Registered>(
      'webhooks',
      'add',
      url,
      '--events',
      'charge.created',
      '--key',
      'wh-1',
    );
    assert.deepEqual(again, { ...first, replay: true });
    const human = run('webhooks', 'add', url, '--events', 'charge.created', '--key', 'wh-1');
    assert.equal(human.status, 0, human.stderr);
    assert.match(human.stdout, /replay\s+yes/);
    assert.match(human.stdout, new RegExp(first.secret));
    assert.equal(json<unknown[]>('webhooks', 'list').length, 1);
  });

  it('the same key for another endpoint is idempotency_key_reused; no key is a usage error; nothing written', () => {
    const before = snapshot(db);
    const reused = run(
      'webhooks',
      'add',
      'https://hooks.example.com/other',
      '--events',
      'charge.created',
      '--key',
      'wh-1',
    );
    assert.notEqual(reused.status, 0);
    assert.match(reused.stderr, /^error \[idempotency_key_reused\]/);
    const missing = run(
      'webhooks',
      'add',
      'https://hooks.example.com/other',
      '--events',
      'charge.created',
    );
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /--key/);
    assert.equal(snapshot(db), before);
  });
});
