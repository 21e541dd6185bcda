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

interface Created {
  account: { id: string; plan: string | null };
  subscription: { credits: number; subscription: { id: string; plan: string } } | null;
  replay: boolean;
}

describe('amisi accounts create --plan', () => {
  it('subscribes: plan show, advise, balance and accounts list all say pro', () => {
    const made = json<Created>('accounts', 'create', 'alice', '--plan', 'pro');
    assert.deepEqual(
      [made.account.plan, made.subscription?.credits, made.replay],
      ['pro', 300, false],
    );
    const shown = run('plan', 'show', 'alice');
    assert.equal(shown.status, 0, shown.stderr);
    assert.match(shown.stdout, /^plan\s+pro$/m);
    assert.match(run('advise', 'alice').stdout, /^plan\s+pro$/m);
    assert.equal(json<{ available: number }>('balance', 'alice').available, 300);
    const list = run('accounts', 'list');
    assert.match(list.stdout, /^alice\s+pro\s/m);
  });

  it('the same command again is a replay and grants nothing; another plan is refused, nothing written', () => {
    const before = snapshot(db);
    const again = run('accounts', 'create', 'alice', '--plan', 'pro');
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /replay/);
    assert.equal(snapshot(db), before);
    const other = run('accounts', 'create', 'alice', '--plan', 'starter');
    assert.equal(other.status, 4);
    assert.match(other.stderr, /^error \[idempotency_key_reused\]/);
    const newKey = run('accounts', 'create', 'alice', '--plan', 'starter', '--key', 'k2');
    assert.equal(newKey.status, 4);
    assert.match(newKey.stderr, /^error \[account_exists\]/);
    const unknown = run('accounts', 'create', 'carol', '--plan', 'platinum');
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /^error \[invalid_parameter\]/);
    assert.equal(snapshot(db), before, 'nothing written, carol not created');
  });

  it('accounts list shows the plan of accounts subscribed later, and none without one', () => {
    json('accounts', 'create', 'bob');
    json('accounts', 'create', 'dan');
    json('subscribe', 'bob', 'starter', '--key', 'sub-bob');
    const rows = json<{ id: string; plan: string | null }[]>('accounts', 'list');
    assert.deepEqual(
      rows.map((a) => [a.id, a.plan]),
      [
        ['alice', 'pro'],
        ['bob', 'starter'],
        ['dan', null],
      ],
    );
  });

  it('accounts list --summary adds balances, status and last activity; --search narrows it', () => {
    json('grant', 'dan', '7', '--source', 'promotion', '--key', 'g-dan');
    const rows = json<
      {
        account: { id: string };
        available: number;
        held: number;
        status: string;
        lastActivityAt: string | null;
      }[]
    >('accounts', 'list', '--summary');
    assert.deepEqual(
      rows.map((r) => [r.account.id, r.available, r.held, r.status]),
      [
        ['alice', 300, 0, 'active'],
        ['bob', 100, 0, 'active'],
        ['dan', 7, 0, 'no_plan'],
      ],
    );
    assert.ok(rows.every((r) => r.lastActivityAt !== null));
    const text = run('accounts', 'list', '--summary', '--search', 'DA');
    assert.equal(text.status, 0, text.stderr);
    assert.match(
      text.stdout,
      /^account\s+name\s+plan\s+status\s+available\s+held\s+owes\s+last activity\n/,
    );
    assert.match(text.stdout, /^dan\s+-\s+-\s+no plan\s+7\s+0\s+0\s+\d{4}-/m);
    assert.equal(text.stdout.trim().split('\n').length, 2, 'the header and dan');
    const tooMany = run('accounts', 'list', '--summary', '--limit', '101');
    assert.equal(tooMany.status, 2);
    assert.match(tooMany.stderr, /^error \[invalid_argument\]: limit must be from 1 to 100/);
  });

  it('--key names the subscription', () => {
    const made = json<Created>('accounts', 'create', 'eve', '--plan', 'starter', '--key', 'on-eve');
    const history = json<{ transactions: { id: string; idempotencyKey: string }[] }>(
      'history',
      'eve',
    );
    assert.deepEqual(
      history.transactions.map((t) => t.idempotencyKey),
      ['on-eve'],
    );
    assert.equal(made.subscription?.subscription.plan, 'starter');
  });
});
