import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Store } from '../../src/ledger/store.js';
import { Ledger } from '../../src/ledger/ledger.js';
import { FakeClock } from '../../src/ledger/ports.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { WebhookDeliverer, newWebhookSecret } from '../../src/service/webhooks/deliverer.js';
import { sign, verifySignature } from '../../src/service/webhooks/signature.js';
import { isSpecialAddress } from '../../src/service/webhooks/target.js';
import { defaultCatalog, tempDir } from '../helpers.js';
import { freshDatabase, postgresSkip } from '../pg-helpers.js';

const T0 = Date.UTC(2027, 5, 1);
const HOUR = 3_600_000;

interface Received {
  readonly body: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly verified: boolean;
}

/** A receiver on 127.0.0.1 that checks every signature; `failures` answers 500 that many times. */
class Receiver {
  readonly received: Received[] = [];
  failures = 0;
  secret = '';
  private server: Server | undefined;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const header = req.headers['amisi-signature'];
        const verified = verifySignature(
          this.secret,
          body,
          typeof header === 'string' ? header : undefined,
        ).ok;
        this.received.push({ body, headers: req.headers, verified });
        if (this.failures > 0) {
          this.failures -= 1;
          res.writeHead(500).end('try later');
          return;
        }
        res.writeHead(verified ? 200 : 400).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  events(): { id: string; type: string; accountId: string; data: Record<string, unknown> }[] {
    return this.received.filter((r) => r.verified).map((r) => JSON.parse(r.body));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server!.close(() => resolve()));
  }
}

/** A store that can be opened again on the same database (a restart). */
interface Reopenable {
  open(): Promise<Store>;
  drop(): Promise<void>;
}

async function sqliteDb(): Promise<Reopenable> {
  const { dir, cleanup } = tempDir('amisi-webhooks-');
  return {
    async open() {
      const s = new SqliteStore({ path: join(dir, 'hooks.db') });
      await s.migrate();
      return s;
    },
    drop: async () => cleanup(),
  };
}

async function postgresDb(): Promise<Reopenable> {
  const db = await freshDatabase();
  return {
    async open() {
      const s = new PostgresStore({ url: db.url });
      await s.migrate();
      return s;
    },
    drop: db.drop,
  };
}

const DATABASES: readonly [string, () => Promise<Reopenable>, string | false][] = [
  ['sqlite', sqliteDb, false],
  ['postgres', postgresDb, postgresSkip],
];

let receiver: Receiver;
before(async () => {
  receiver = new Receiver();
  await receiver.start();
});
after(async () => {
  await receiver.close();
});

for (const [name, makeDb, skip] of DATABASES) {
  describe(`webhooks on ${name}`, { skip }, () => {
    it('events are written with the change, signed, retried with backoff, across a restart', async () => {
      const db = await makeDb();
      const clock = new FakeClock(T0);
      let ledger = new Ledger({ store: await db.open(), clock });
      try {
        receiver.received.length = 0;
        receiver.secret = newWebhookSecret();
        await ledger.loadCatalog(defaultCatalog());
        await ledger.createAccount({ accountId: 'ann' });
        await ledger.createAccount({ accountId: 'bob' });
        const all = await ledger.registerWebhook({
          url: receiver.url,
          secret: receiver.secret,
          key: 'hook-128',
          eventTypes: ['charge.created', 'grant.created', 'hold.captured', 'balance.low'],
        });
        await ledger.grant({ accountId: 'ann', key: 'g', credits: 30, source: 'promotion' });
        await ledger.charge({ accountId: 'ann', key: 'c1', credits: 25 });
        // Refused: nothing happened, so no event either.
        await assert.rejects(ledger.charge({ accountId: 'ann', key: 'c2', credits: 99 }), {
          code: 'insufficient_credits',
        });
        const pending = await ledger.listDeliveries({ limit: 10, status: 'pending' });
        // grant.created, charge.created, and balance.low (30 -> 5 crosses 10).
        assert.equal(pending.length, 3);

        // The receiver fails twice: the first attempt is retried 10 s later, then 20 s later.
        receiver.failures = 2;
        const deliverer = () => new WebhookDeliverer(ledger, { concurrency: 1 });
        assert.equal(await deliverer().runOnce(), 3);
        let rows = await ledger.listDeliveries({ limit: 10 });
        const retrying = rows.filter((d) => d.status === 'pending');
        assert.equal(retrying.length, 2);
        for (const d of retrying) assert.equal(d.nextAttemptAt, T0 + 10_000);
        assert.equal(await deliverer().runOnce(), 0, 'nothing due before the backoff');
        clock.advance(10_000);
        receiver.failures = 1;
        await deliverer().runOnce();
        rows = await ledger.listDeliveries({ limit: 10, status: 'pending' });
        assert.equal(rows.length, 1);
        assert.equal(rows[0]!.nextAttemptAt, T0 + 10_000 + 20_000, 'the delay doubles');

        // A restart: a new process on the same database finishes the job.
        await ledger.close();
        clock.advance(20_000);
        ledger = new Ledger({ store: await db.open(), clock });
        assert.equal(await deliverer().runOnce(), 1);
        rows = await ledger.listDeliveries({ limit: 10 });
        assert.deepEqual(
          rows.map((d) => d.status),
          ['delivered', 'delivered', 'delivered'],
        );
        const events = receiver.events();
        assert.deepEqual(
          new Set(events.map((e) => e.type)),
          new Set(['grant.created', 'charge.created', 'balance.low']),
        );
        assert.ok(
          receiver.received.every((r) => r.verified),
          'every request was signed',
        );
        const charge = events.find((e) => e.type === 'charge.created')!;
        assert.equal(charge.accountId, 'ann');
        assert.equal(
          (charge.data.transaction as { detail: { credits: number } }).detail.credits,
          25,
        );
        // Every attempt is on record.
        const retried = rows.find((d) => d.attempts === 3)!;
        const attempts = (await ledger.deliveryDetail(retried.id)).attempts;
        assert.deepEqual(
          attempts.map((a) => a.statusCode),
          [500, 500, 200],
        );

        // An account's endpoint hears only its account; disabled endpoints hear nothing.
        receiver.received.length = 0;
        await ledger.registerWebhook({
          url: receiver.url,
          secret: receiver.secret,
          key: 'hook-194',
          eventTypes: ['charge.created'],
          accountId: 'bob',
        });
        await ledger.disableWebhook(all.id);
        await assert.rejects(ledger.disableWebhook(all.id), { code: 'unknown_webhook' });
        await ledger.grant({ accountId: 'bob', key: 'g', credits: 5, source: 'promotion' });
        await ledger.charge({ accountId: 'bob', key: 'c', credits: 1 });
        await ledger.charge({ accountId: 'ann', key: 'c3', credits: 1 });
        await deliverer().runOnce();
        assert.deepEqual(
          receiver.events().map((e) => [e.type, e.accountId]),
          [['charge.created', 'bob']],
        );
      } finally {
        await ledger.close();
        await db.drop();
      }
    });

    it('after 24 hours of failures a delivery fails; redeliver sends it again', async () => {
      const db = await makeDb();
      const clock = new FakeClock(T0);
      const ledger = new Ledger({ store: await db.open(), clock });
      try {
        receiver.received.length = 0;
        receiver.secret = newWebhookSecret();
        await ledger.loadCatalog(defaultCatalog());
        await ledger.createAccount({ accountId: 'ann' });
        await ledger.registerWebhook({
          url: receiver.url,
          secret: receiver.secret,
          key: 'hook-225',
          eventTypes: ['grant.created'],
        });
        await ledger.grant({ accountId: 'ann', key: 'g', credits: 5, source: 'promotion' });
        receiver.failures = 1000;
        const deliverer = new WebhookDeliverer(ledger);
        let tries = 0;
        for (; tries < 100; tries++) {
          const [d] = await ledger.listDeliveries({ limit: 1 });
          if (d!.status !== 'pending') break;
          clock.set(Math.max(clock.now(), d!.nextAttemptAt));
          await deliverer.runOnce();
        }
        const [failed] = await ledger.listDeliveries({ limit: 1 });
        assert.equal(failed!.status, 'failed');
        assert.ok(clock.now() - T0 <= 24 * HOUR, 'no attempt after 24 hours');
        assert.ok(failed!.attempts >= 10 && failed!.attempts < 40, `${failed!.attempts} attempts`);
        receiver.failures = 0;
        const again = await ledger.redeliver(failed!.id);
        await assert.rejects(ledger.redeliver('dlv_nope'), { code: 'unknown_delivery' });
        await deliverer.runOnce();
        const redelivered = await ledger.getDelivery(again.id);
        assert.equal(redelivered?.status, 'delivered');
        assert.equal(receiver.events().at(-1)?.id, failed!.eventId, 'the same event id');
      } finally {
        await ledger.close();
        await db.drop();
      }
    });

    it('grant.expiring is announced once per grant, 7 days ahead', async () => {
      const db = await makeDb();
      const clock = new FakeClock(T0);
      const ledger = new Ledger({ store: await db.open(), clock });
      try {
        await ledger.loadCatalog(defaultCatalog());
        await ledger.createAccount({ accountId: 'ann' });
        await ledger.registerWebhook({
          url: receiver.url,
          secret: 'whsec_x',
          key: 'hook-264',
          eventTypes: ['grant.expiring'],
        });
        const day = 24 * HOUR;
        await ledger.grant({
          accountId: 'ann',
          key: 'soon',
          credits: 5,
          source: 'promotion',
          expiresAt: T0 + 3 * day,
        });
        await ledger.grant({
          accountId: 'ann',
          key: 'later',
          credits: 5,
          source: 'promotion',
          expiresAt: T0 + 30 * day,
        });
        assert.equal(await ledger.announceExpiringGrants(), 1);
        assert.equal(await ledger.announceExpiringGrants(), 0, 'once per grant');
        clock.advance(24 * day);
        assert.equal(await ledger.announceExpiringGrants(), 1, 'the later one, 6 days ahead');
      } finally {
        await ledger.close();
        await db.drop();
      }
    });
  });
}

describe('webhook signatures', () => {
  const secret = 'whsec_test';
  const body = '{"id":"evt_1"}';
  const now = 1_800_000_000;
  it('a signature made with the secret verifies; a tampered body or another secret does not', () => {
    const header = sign(secret, body, now);
    assert.deepEqual(verifySignature(secret, body, header, now), { ok: true, timestamp: now });
    assert.deepEqual(verifySignature(secret, '{"id":"evt_2"}', header, now), {
      ok: false,
      reason: 'mismatch',
    });
    assert.deepEqual(verifySignature('whsec_other', body, header, now), {
      ok: false,
      reason: 'mismatch',
    });
  });
  it('an old timestamp is refused even with a valid signature', () => {
    const header = sign(secret, body, now - 301);
    assert.deepEqual(verifySignature(secret, body, header, now), { ok: false, reason: 'too_old' });
  });
  it('malformed headers are refused', () => {
    for (const header of [undefined, '', 'v1=abc', 't=1', 't=x,v1=00', 'nonsense']) {
      assert.equal(verifySignature(secret, body, header, now).ok, false, String(header));
    }
  });
  it('a rotated secret: any of several v1 values may match', () => {
    const header = `${sign('whsec_old', body, now)},v1=${sign(secret, body, now).split('v1=')[1]}`;
    assert.equal(verifySignature(secret, body, header, now).ok, true);
  });
});

describe('webhook targets', () => {
  // The IANA IPv4 and IPv6 special-purpose registries: each block's first and last address.
  const SPECIAL: readonly string[] = [
    '0.0.0.0',
    '0.255.255.255',
    '10.0.0.0',
    '10.255.255.255',
    '100.64.0.0',
    '100.127.255.255',
    '127.0.0.1',
    '127.255.255.255',
    '169.254.0.0',
    '169.254.255.255',
    '172.16.0.0',
    '172.31.255.255',
    '192.0.0.0',
    '192.0.0.255',
    '192.0.2.0',
    '192.0.2.255',
    '192.88.99.0',
    '192.88.99.255',
    '192.168.0.0',
    '192.168.255.255',
    '198.18.0.0',
    '198.19.255.255',
    '198.51.100.0',
    '198.51.100.255',
    '203.0.113.0',
    '203.0.113.255',
    '224.0.0.0',
    '239.255.255.255',
    '240.0.0.0',
    '255.255.255.255',
    '::',
    '::1',
    '::127.0.0.1',
    '::8.8.8.8',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:0:7f00:1',
    '::ffff:0:a00:1',
    '64:ff9b::a9fe:a9fe',
    '64:ff9b::808:808',
    '64:ff9b:1::1',
    '100::1',
    '100::ffff:ffff:ffff:ffff',
    '2001::1',
    '2001:0:4136:e378:8000:63bf:80ff:fffe',
    '2001:1ff:ffff::1',
    '2001:db8::1',
    '2001:db8:ffff:ffff::1',
    '2002:7f00:1::',
    '2002:a00:1::1',
    '2002:c0a8:101::1',
    'fc00::1',
    'fdff:ffff::1',
    'fe80::1',
    'febf::1',
    'fec0::1',
    'ff02::1',
    'ffff::1',
    'FE80::1',
    'fe80::1%eth0',
  ];
  const PUBLIC: readonly string[] = [
    '1.1.1.1',
    '8.8.8.8',
    '9.255.255.255',
    '11.0.0.0',
    '100.63.255.255',
    '100.128.0.0',
    '126.255.255.255',
    '128.0.0.0',
    '169.253.255.255',
    '172.15.255.255',
    '172.32.0.0',
    '192.0.1.0',
    '192.0.3.0',
    '192.88.98.255',
    '192.167.255.255',
    '192.169.0.0',
    '198.17.255.255',
    '198.20.0.0',
    '203.0.112.255',
    '223.255.255.255',
    '::ffff:808:808',
    '::ffff:8.8.8.8',
    '2001:4860:4860::8888',
    '2606:4700:4700::1111',
    '2002:808:808::1',
    '2001:200::1',
    '2a00:1450:4001::1',
  ];
  it('the special-purpose registries, block edges included; public addresses pass', () => {
    for (const a of SPECIAL) assert.equal(isSpecialAddress(a), true, a);
    for (const a of PUBLIC) assert.equal(isSpecialAddress(a), false, a);
  });

  it('special addresses are told from public ones, v4, v6 and v4 mapped into v6', () => {
    for (const a of ['127.0.0.1', '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.1']) {
      assert.equal(isSpecialAddress(a), true, a);
    }
    for (const a of ['169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '::1', 'fd12::1']) {
      assert.equal(isSpecialAddress(a), true, a);
    }
    for (const a of ['fe80::1', '::ffff:10.0.0.1', '::ffff:7f00:1', '::']) {
      assert.equal(isSpecialAddress(a), true, a);
    }
    for (const a of [
      '8.8.8.8',
      '172.32.0.1',
      '100.128.0.1',
      '2001:4860:4860::8888',
      '::ffff:808:808',
    ]) {
      assert.equal(isSpecialAddress(a), false, a);
    }
  });
});
