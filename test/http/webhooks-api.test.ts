import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebhookDeliverer } from '../../src/service/webhooks/deliverer.js';
import { verifySignature } from '../../src/service/webhooks/signature.js';
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
      problem(await s.call('POST', '/v1/webhooks', { body }), 400, 'invalid_argument');
    }
    problem(
      await s.call('POST', '/v1/webhooks', {
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
        await s.call('POST', '/v1/webhooks', { key: annKey, body }),
        400,
        'invalid_argument',
      );
      assert.match(String(refused.detail), /public address/, url);
    }
    assert.equal(json(ok(await s.call('GET', '/v1/webhooks'))).endpoints.length, 0);
    ok(
      await s.call('POST', '/v1/webhooks', {
        body: { url: 'http://127.0.0.1:9/hooks', eventTypes: ['charge.created'] },
      }),
      201,
    );
  });
});
