import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebhookDeliverer } from '../../src/service/webhooks/deliverer.js';
import { verifySignature } from '../../src/service/webhooks/signature.js';
import { BOTH_STORES } from '../pg-helpers.js';
import { ok, problem, startServer, type TestServer } from './http-helpers.js';

const json = (b: unknown) => b as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('webhooks and auto top-up over HTTP', () => {
  let s: TestServer;
  let receiver: Server;
  let hookUrl = '';
  const bodies: { body: string; signature: string }[] = [];
  before(async () => {
    // The receiver is on 127.0.0.1, which account keys may only reach when allowed.
    s = await startServer({ allowPrivateWebhooks: true });
    for (const id of ['ann', 'ben']) {
      ok(await s.call('POST', '/v1/accounts', { body: { id } }), 201);
      ok(
        await s.call('POST', '/v1/grants', {
          idem: `g-${id}`,
          body: { accountId: id, credits: 100, source: 'promotion' },
        }),
        201,
      );
    }
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.push({
          body: Buffer.concat(chunks).toString('utf8'),
          signature: String(req.headers['amisi-signature']),
        });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
  });
  after(async () => {
    await s?.close();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  it('an account key registers for its own account, sees only its endpoints and deliveries', async () => {
    const annKey = await s.keyFor('ann');
    const created = json(
      ok(
        await s.call('POST', '/v1/webhooks', {
          idem: 'wh-52',
          key: annKey,
          body: { url: hookUrl, eventTypes: ['charge.created', 'balance.low'] },
        }),
        201,
      ),
    );
    assert.equal(created.endpoint.accountId, 'ann', 'bound to the key’s account');
    assert.match(created.secret, /^whsec_/);
    ok(
      await s.call('POST', '/v1/webhooks', {
        idem: 'wh-62',
        body: { url: hookUrl, eventTypes: ['charge.created'], accountId: 'ben' },
      }),
      201,
    );
    const mine = json(ok(await s.call('GET', '/v1/webhooks', { key: annKey })));
    assert.deepEqual(
      mine.endpoints.map((e: { id: string }) => e.id),
      [created.endpoint.id],
    );
    assert.ok(
      mine.endpoints.every((e: object) => !('secret' in e)),
      'secrets never listed',
    );
    const all = json(ok(await s.call('GET', '/v1/webhooks')));
    assert.equal(all.endpoints.length, 2, 'the operator sees every endpoint');

    ok(
      await s.call('POST', '/v1/charges', {
        key: annKey,
        idem: 'c1',
        body: { accountId: 'ann', credits: 95 },
      }),
      201,
    );
    ok(
      await s.call('POST', '/v1/charges', { idem: 'c2', body: { accountId: 'ben', credits: 1 } }),
      201,
    );
    await new WebhookDeliverer(s.ledger).runOnce();
    const annDeliveries = json(ok(await s.call('GET', '/v1/webhooks/deliveries', { key: annKey })));
    assert.deepEqual(
      annDeliveries.deliveries.map((d: { status: string; accountId: string }) => [
        d.accountId,
        d.status,
      ]),
      [
        ['ann', 'delivered'],
        ['ann', 'delivered'],
      ],
      'charge.created and balance.low (100 -> 5)',
    );
    const events = bodies.map((b) => JSON.parse(b.body) as { type: string; accountId: string });
    assert.deepEqual(events.map((e) => `${e.accountId}:${e.type}`).sort(), [
      'ann:balance.low',
      'ann:charge.created',
      'ben:charge.created',
    ]);
    for (const b of bodies.filter((x) => JSON.parse(x.body).accountId === 'ann')) {
      assert.ok(verifySignature(created.secret, b.body, b.signature).ok);
    }
    const one = annDeliveries.deliveries[0];
    const detail = json(
      ok(await s.call('GET', `/v1/webhooks/deliveries/${one.id}`, { key: annKey })),
    );
    assert.deepEqual(
      detail.attempts.map((a: { statusCode: number }) => a.statusCode),
      [204],
    );
    const again = json(
      ok(await s.call('POST', `/v1/webhooks/deliveries/${one.id}/redeliver`, { key: annKey }), 201),
    );
    assert.equal(again.delivery.eventId, one.eventId);
    assert.equal(again.delivery.status, 'pending');
    ok(await s.call('DELETE', `/v1/webhooks/${created.endpoint.id}`, { key: annKey }), 204);
    problem(
      await s.call('DELETE', `/v1/webhooks/${created.endpoint.id}`, { key: annKey }),
      404,
      'unknown_webhook',
    );
  });

  it('bad registrations are refused with their codes and register nothing', async () => {
    const before = json(ok(await s.call('GET', '/v1/webhooks'))).endpoints.length;
    for (const body of [
      { url: 'ftp://example.com', eventTypes: ['charge.created'] },
      { url: 'not a url', eventTypes: ['charge.created'] },
      { url: hookUrl, eventTypes: [] },
      { url: hookUrl, eventTypes: ['charge.made'] },
      { url: hookUrl, eventTypes: ['charge.created'], extra: 1 },
    ]) {
      problem(
        await s.call('POST', '/v1/webhooks', { idem: 'wh-143', body }),
        400,
        'invalid_argument',
      );
    }
    problem(
      await s.call('POST', '/v1/webhooks', {
        idem: 'wh-146',
        body: { url: hookUrl, eventTypes: ['charge.created'], accountId: 'ghost' },
      }),
      404,
      'unknown_account',
    );
    assert.equal(json(ok(await s.call('GET', '/v1/webhooks'))).endpoints.length, before);
  });

  it('auto top-up: set, read, refused when bad, cleared', async () => {
    const benKey = await s.keyFor('ben');
    problem(await s.call('GET', '/v1/accounts/ben/autotopup', { key: benKey }), 404, 'not_found');
    const rule = json(
      ok(
        await s.call('PUT', '/v1/accounts/ben/autotopup', {
          key: benKey,
          body: { pack: 'pack-20', thresholdCredits: 10, maxPerPeriod: 2, period: 'week' },
        }),
      ),
    );
    assert.deepEqual([rule.pack, rule.period, rule.armed], ['pack-20', 'week', true]);
    problem(
      await s.call('PUT', '/v1/accounts/ben/autotopup', {
        key: benKey,
        body: { pack: 'pack-7', thresholdCredits: 10, maxPerPeriod: 2 },
      }),
      400,
      'unknown_pack',
    );
    problem(
      await s.call('PUT', '/v1/accounts/ben/autotopup', {
        key: benKey,
        body: { pack: 'pack-20', thresholdCredits: 0, maxPerPeriod: 2 },
      }),
      400,
      'invalid_argument',
    );
    assert.equal(
      json(ok(await s.call('GET', '/v1/accounts/ben/autotopup', { key: benKey }))).thresholdCredits,
      10,
    );
    ok(await s.call('DELETE', '/v1/accounts/ben/autotopup', { key: benKey }), 204);
    problem(await s.call('GET', '/v1/accounts/ben/autotopup', { key: benKey }), 404, 'not_found');
  });
});

describe('webhook targets of account keys', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
    ok(await s.call('POST', '/v1/accounts', { body: { id: 'ann' } }), 201);
  });
  after(async () => s?.close());

  it("an account key cannot point the server at the operator's network; an operator can", async () => {
    const annKey = await s.keyFor('ann');
    for (const url of [
      'http://127.0.0.1:5432/',
      'http://localhost:8787/v1/verify',
      'http://10.1.2.3/hooks',
      'http://192.168.0.10/hooks',
      'http://169.254.169.254/latest/meta-data/',
      'http://[::1]:8080/',
      'http://[fd00::1]/',
      'http://[::ffff:127.0.0.1]/',
    ]) {
      const body = { url, eventTypes: ['charge.created'] };
      const refused = problem(
        await s.call('POST', '/v1/webhooks', { idem: 'wh-214', key: annKey, body }),
        400,
        'invalid_argument',
      );
      assert.match(String(refused.detail), /public address/, url);
    }
    assert.equal(json(ok(await s.call('GET', '/v1/webhooks'))).endpoints.length, 0);
    ok(
      await s.call('POST', '/v1/webhooks', {
        idem: 'wh-222',
        body: { url: 'http://127.0.0.1:9/hooks', eventTypes: ['charge.created'] },
      }),
      201,
    );
  });
});

for (const [storeName, open, skip] of BOTH_STORES) {
  describe(`webhook registration is idempotent on ${storeName}`, { skip }, () => {
    let s: TestServer;
    before(async () => {
      s = await startServer({ open, allowPrivateWebhooks: true });
      ok(await s.call('POST', '/v1/accounts', { body: { id: 'ann' } }), 201);
    });
    after(async () => s?.close());

    it('five identical POSTs with one key make one endpoint; each replay is the first answer, secret included', async () => {
      const annKey = await s.keyFor('ann');
      const body = { url: 'https://hooks.example.com/amisi', eventTypes: ['charge.created'] };
      const first = json(
        ok(await s.call('POST', '/v1/webhooks', { key: annKey, idem: 'w-1', body }), 201),
      );
      assert.equal(first.replay, false);
      for (let i = 0; i < 4; i++) {
        const again = await s.call('POST', '/v1/webhooks', { key: annKey, idem: 'w-1', body });
        ok(again, 201);
        assert.equal(again.headers.get('idempotent-replayed'), 'true');
        assert.deepEqual(again.body, { ...first, replay: true });
      }
      const mine = json(ok(await s.call('GET', '/v1/webhooks', { key: annKey }))).endpoints;
      assert.equal(mine.length, 1);
      // The operator's key on the same account and key is the same request: a replay too.
      const operator = json(
        ok(
          await s.call('POST', '/v1/webhooks', {
            idem: 'w-1',
            body: { ...body, accountId: 'ann' },
          }),
          201,
        ),
      );
      assert.equal(operator.endpoint.id, first.endpoint.id);
    });

    it('the same key with another body is idempotency_key_reused; no key is invalid_argument; nothing is made', async () => {
      const annKey = await s.keyFor('ann');
      const before = json(ok(await s.call('GET', '/v1/webhooks'))).endpoints.length;
      const body = { url: 'https://hooks.example.com/other', eventTypes: ['charge.created'] };
      problem(
        await s.call('POST', '/v1/webhooks', { key: annKey, idem: 'w-1', body }),
        422,
        'idempotency_key_reused',
      );
      const missing = problem(
        await s.call('POST', '/v1/webhooks', { key: annKey, body }),
        400,
        'invalid_argument',
      );
      assert.equal(missing.field, 'Idempotency-Key');
      assert.equal(json(ok(await s.call('GET', '/v1/webhooks'))).endpoints.length, before);
    });

    it("an operator's endpoints for every account have their own keys", async () => {
      const body = { url: 'https://hooks.example.com/all', eventTypes: ['grant.created'] };
      const a = json(ok(await s.call('POST', '/v1/webhooks', { idem: 'w-all', body }), 201));
      const b = json(ok(await s.call('POST', '/v1/webhooks', { idem: 'w-all', body }), 201));
      assert.equal(b.replay, true);
      assert.equal(b.endpoint.id, a.endpoint.id);
      assert.equal(b.secret, a.secret);
      assert.equal(a.endpoint.accountId, null);
      // A replay after the endpoint was removed still answers the first answer.
      assert.equal((await s.call('DELETE', `/v1/webhooks/${a.endpoint.id}`)).status, 204);
      const c = json(ok(await s.call('POST', '/v1/webhooks', { idem: 'w-all', body }), 201));
      assert.deepEqual(c, b);
    });
  });
}

describe('webhook URLs that do not parse', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
    ok(await s.call('POST', '/v1/accounts', { body: { id: 'ann' } }), 201);
  });
  after(async () => s?.close());

  it('are invalid_argument naming url, from an account key and from the operator, never a 500', async () => {
    const annKey = await s.keyFor('ann');
    let n = 0;
    for (const url of ['http://a b/', 'http://%zz/', 'http://127.0.0.1%09/', 'http://[::1/']) {
      for (const key of [annKey, s.operatorKey]) {
        const body = { url, eventTypes: ['charge.created'] };
        const refused = problem(
          await s.call('POST', '/v1/webhooks', { key, idem: `u-${n++}`, body }),
          400,
          'invalid_argument',
        );
        assert.equal(refused.field, 'url', url);
        assert.match(String(refused.detail), /url must be an http or https URL/, url);
      }
    }
    assert.equal(json(ok(await s.call('GET', '/v1/webhooks'))).endpoints.length, 0);
  });
});

describe('webhook IPv6 and special-purpose targets of account keys', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
    ok(await s.call('POST', '/v1/accounts', { body: { id: 'ann' } }), 201);
  });
  after(async () => s?.close());

  it('embedded private IPv4 and the special-purpose ranges are refused; a public address is not', async () => {
    const annKey = await s.keyFor('ann');
    let n = 0;
    for (const url of [
      'http://[::127.0.0.1]/',
      'http://[64:ff9b::a9fe:a9fe]/',
      'http://[2002:7f00:1::]/',
      'http://[::ffff:0:7f00:1]/',
      'http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/',
      'http://[2001:db8::1]/',
      'http://[fe80::1]/',
      'http://192.0.0.8/',
      'http://192.0.2.10/',
      'http://198.51.100.7/',
      'http://203.0.113.9/',
      'http://192.88.99.1/',
      'http://240.0.0.1/',
      'http://255.255.255.255/',
      'http://0x7f.1/',
      'http://localhost./',
    ]) {
      const body = { url, eventTypes: ['charge.created'] };
      const refused = problem(
        await s.call('POST', '/v1/webhooks', { key: annKey, idem: `t-${n++}`, body }),
        400,
        'invalid_argument',
      );
      assert.match(String(refused.detail), /public address/, url);
      assert.equal(refused.field, 'url');
    }
    const made = json(
      ok(
        await s.call('POST', '/v1/webhooks', {
          key: annKey,
          idem: 't-public',
          body: { url: 'http://[2606:4700:4700::1111]/hooks', eventTypes: ['charge.created'] },
        }),
        201,
      ),
    );
    assert.equal(made.endpoint.publicOnly, true, "an account key's endpoint is checked again");
    assert.equal(json(ok(await s.call('GET', '/v1/webhooks'))).endpoints.length, 1);
  });
});

for (const [storeName, open, skip] of BOTH_STORES) {
  describe(`webhook delivery checks the address again on ${storeName}`, { skip }, () => {
    let s: TestServer;
    let receiver: Server;
    let port = 0;
    let received = 0;
    before(async () => {
      s = await startServer({ open });
      ok(await s.call('POST', '/v1/accounts', { body: { id: 'ann' } }), 201);
      receiver = createServer((_req, res) => {
        received += 1;
        res.writeHead(204).end();
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      port = (receiver.address() as AddressInfo).port;
    });
    after(async () => {
      await s?.close();
      await new Promise((resolve) => receiver?.close(resolve));
    });

    it("a customer's endpoint whose name now resolves to 127.0.0.1 fails with the reason and is not sent; an operator's is delivered", async () => {
      const annKey = await s.keyFor('ann');
      // A name that passed the check at registration and resolves to loopback now (rebinding):
      // written as the route writes an account key's endpoint, since the route refuses it today.
      await s.ledger.registerWebhook({
        url: `http://localhost:${port}/hooks`,
        secret: 'whsec_rebound',
        eventTypes: ['grant.created'],
        accountId: 'ann',
        key: 'rebound',
        publicOnly: true,
      });
      ok(
        await s.call('POST', '/v1/webhooks', {
          idem: 'op',
          body: {
            url: `http://localhost:${port}/operator`,
            eventTypes: ['grant.created'],
            accountId: 'ann',
          },
        }),
        201,
      );
      ok(
        await s.call('POST', '/v1/grants', {
          idem: 'g',
          body: { accountId: 'ann', credits: 5, source: 'promotion' },
        }),
        201,
      );
      await new WebhookDeliverer(s.ledger).runOnce();
      assert.equal(received, 1, "only the operator's endpoint was posted to");
      const deliveries = json(ok(await s.call('GET', '/v1/webhooks/deliveries', { key: annKey })))
        .deliveries as { status: string; lastError: string | null; attempts: number }[];
      const byStatus = deliveries.map((d) => d.status).sort();
      assert.deepEqual(byStatus, ['delivered', 'failed']);
      const failed = deliveries.find((d) => d.status === 'failed')!;
      assert.match(String(failed.lastError), /^refused: localhost resolves to 127\.0\.0\.1/);
      assert.equal(failed.attempts, 1, 'failed at once, not retried for 24 hours');
    });

    it('AMISI_WEBHOOK_ALLOW_PRIVATE (the deliverer option) lifts the check', async () => {
      received = 0;
      const failed = json(ok(await s.call('GET', '/v1/webhooks/deliveries?status=failed')))
        .deliveries as { id: string }[];
      ok(await s.call('POST', `/v1/webhooks/deliveries/${failed[0]!.id}/redeliver`, {}), 201);
      await new WebhookDeliverer(s.ledger, { allowPrivate: true }).runOnce();
      assert.equal(received, 1);
    });
  });
}
