import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createClient, isAmisiApiError, type AmisiClient } from '../../src/client/index.js';
import { SIGNATURE_HEADER, verifySignature, type VerifyResult } from '../../src/client/webhooks.js';
import { WebhookDeliverer } from '../../src/service/webhooks/deliverer.js';
import {
  rejection,
  startProxy,
  startSdkServer,
  type SdkServer,
  type Step,
} from './client-helpers.js';

/**
 * Webhook endpoints, deliveries and auto top-up rules through the SDK, and a receiver that
 * checks every delivery with amisi-credits/webhooks.
 */

interface Received {
  readonly eventId: string;
  readonly type: string;
  readonly verified: VerifyResult;
}

async function startReceiver(secret: () => string) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const header = req.headers[SIGNATURE_HEADER];
      const verified = verifySignature(
        secret(),
        body,
        typeof header === 'string' ? header : undefined,
      );
      const event = JSON.parse(body) as { id: string; type: string };
      received.push({ eventId: event.id, type: event.type, verified });
      res.writeHead(verified.ok ? 200 : 400).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return { url, received, close: () => new Promise((r) => server.close(r)) };
}

describe('webhooks and auto top-up through the SDK', () => {
  let sdk: SdkServer;
  let client: AmisiClient;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let secret = '';

  before(async () => {
    sdk = await startSdkServer();
    client = sdk.client();
    receiver = await startReceiver(() => secret);
    await client.accounts.create({ id: 'hooked' });
    await client.grants.create({ accountId: 'hooked', credits: 100, source: 'promotion' });
  });
  after(async () => {
    await receiver?.close();
    await sdk?.close();
    assert.deepEqual(sdk?.specViolations ?? [], []);
  });

  it('register, list, deliveries, delivery, redeliver, remove; the receiver verifies', async () => {
    const created = await client.webhooks.register({
      url: receiver.url,
      eventTypes: ['charge.created'],
      accountId: 'hooked',
    });
    secret = created.secret;
    assert.match(secret, /^whsec_/);
    const listed = await client.webhooks.list();
    assert.deepEqual(
      listed.endpoints.map((e) => [e.id, e.url]),
      [[created.endpoint.id, receiver.url]],
    );

    await client.charges.create({ accountId: 'hooked', credits: 3 });
    const pending = await client.webhooks.deliveries({ accountId: 'hooked' });
    assert.deepEqual(
      pending.deliveries.map((d) => d.status),
      ['pending'],
    );
    const deliverer = new WebhookDeliverer(sdk.s.ledger);
    assert.equal(await deliverer.runOnce(), 1);
    const first = pending.deliveries[0]!;
    const detail = await client.webhooks.delivery(first.id);
    assert.deepEqual([detail.delivery.status, detail.attempts.length], ['delivered', 1]);

    const again = await client.webhooks.redeliver(first.id);
    assert.notEqual(again.delivery.id, first.id);
    assert.equal(await deliverer.runOnce(), 1);
    assert.deepEqual(
      receiver.received.map((r) => [r.eventId, r.type, r.verified.ok]),
      [
        [first.eventId, 'charge.created', true],
        [first.eventId, 'charge.created', true],
      ],
    );

    assert.equal(await client.webhooks.remove(created.endpoint.id), undefined);
    const gone = await rejection(() => client.webhooks.remove(created.endpoint.id));
    assert.ok(isAmisiApiError(gone, 'unknown_webhook'), String(gone));
    const missing = await rejection(() => client.webhooks.delivery('dlv_missing'));
    assert.ok(isAmisiApiError(missing, 'unknown_delivery'), String(missing));
  });

  it('auto top-up: set, get, clear; get without a rule is not_found', async () => {
    const rule = await client.autoTopup.set('hooked', {
      pack: 'pack-50',
      thresholdCredits: 10,
      maxPerPeriod: 2,
    });
    assert.deepEqual(
      [rule.pack, rule.thresholdCredits, rule.maxPerPeriod, rule.period, rule.armed],
      ['pack-50', 10, 2, 'month', true],
    );
    assert.deepEqual(await client.autoTopup.get('hooked'), rule);
    assert.equal(await client.autoTopup.clear('hooked'), undefined);
    const none = await rejection(() => client.autoTopup.get('hooked'));
    assert.ok(isAmisiApiError(none, 'not_found'), String(none));
    const bad = await rejection(() =>
      client.autoTopup.set('hooked', { pack: 'pack-7', thresholdCredits: 10, maxPerPeriod: 1 }),
    );
    assert.ok(isAmisiApiError(bad, 'unknown_pack'), String(bad));
  });

  it("an account key sees its own account's deliveries and no other account", async () => {
    await client.accounts.create({ id: 'other' });
    const own = sdk.client(await sdk.s.keyFor('hooked'));
    const mine = await own.webhooks.deliveries();
    assert.ok(mine.deliveries.length >= 2);
    assert.ok(mine.deliveries.every((d) => d.accountId === 'hooked'));
    const foreign = await rejection(() => own.webhooks.deliveries({ accountId: 'other' }));
    assert.ok(isAmisiApiError(foreign, 'unknown_account'), String(foreign));
  });

  it('registering is idempotent: a lost answer is retried with the same key and answers the same endpoint and secret', async () => {
    const busy: Step = {
      status: 503,
      headers: { 'content-type': 'application/problem+json', 'retry-after': '0' },
      body: JSON.stringify({
        code: 'store_busy',
        retryable: true,
        status: 503,
        title: 'Store busy',
        detail: 'locked',
        type: 'urn:amisi:error:store_busy',
      }),
    };
    const proxy = await startProxy(sdk.s.url, ['drop-after-forward', busy]);
    try {
      const viaProxy = createClient({ baseUrl: proxy.url, apiKey: sdk.s.operatorKey });
      const before = (await client.webhooks.list()).endpoints.length;
      const input = { url: receiver.url, eventTypes: ['grant.created' as const] };
      const created = await viaProxy.webhooks.register(input);
      assert.equal(proxy.requests.length, 3, 'lost, busy, then answered');
      const keys = new Set(proxy.requests.map((r) => r.idempotencyKey));
      assert.equal(keys.size, 1, 'one key, reused by every retry');
      assert.notEqual([...keys][0], null);
      assert.equal(created.replay, true, 'the third attempt answers the first registration');
      assert.match(created.secret, /^whsec_/);
      assert.equal((await client.webhooks.list()).endpoints.length, before + 1);
      const again = await client.webhooks.register(input, { idempotencyKey: [...keys][0]! });
      assert.deepEqual(again, created, 'a replay is the first answer, secret included');
      const other = await client.webhooks.register(input);
      assert.equal(other.replay, false, 'a new call is a new key and a new endpoint');
      assert.notEqual(other.endpoint.id, created.endpoint.id);
      assert.equal((await client.webhooks.list()).endpoints.length, before + 2);
    } finally {
      await proxy.close();
    }
  });
});
