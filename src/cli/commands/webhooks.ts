import type { Command } from 'commander';
import { DELIVERY_STATUSES, type Delivery, type DeliveryStatus } from '../../core/webhooks.js';
import { AmisiError } from '../../core/errors.js';
import { newWebhookSecret, WebhookDeliverer } from '../../service/webhooks/deliverer.js';
import { withLedger, type GlobalOptions } from '../context.js';
import { iso, pairs, table } from '../output.js';

type Globals = () => GlobalOptions;

function deliveryTable(
  rows: readonly Delivery[],
  types: ReadonlyMap<string, string>,
  withEventId = false,
): string {
  return table(rows, [
    { header: 'delivery', value: (d) => d.id },
    { header: 'account', value: (d) => d.accountId },
    { header: 'endpoint', value: (d) => d.endpointId },
    { header: 'event', value: (d) => types.get(d.eventId) ?? d.eventId },
    ...(withEventId ? [{ header: 'event id', value: (d: Delivery) => d.eventId }] : []),
    { header: 'status', value: (d) => d.status },
    { header: 'attempts', value: (d) => d.attempts },
    { header: 'last', value: (d) => d.lastStatusCode ?? d.lastError ?? '' },
    {
      header: 'next / delivered',
      value: (d) =>
        d.status === 'delivered'
          ? iso(d.deliveredAt ?? d.createdAt)
          : d.status === 'pending'
            ? iso(d.nextAttemptAt)
            : '',
    },
  ]);
}

export function registerWebhooks(program: Command, globals: Globals): void {
  const webhooks = program
    .command('webhooks')
    .description('webhook endpoints, their deliveries and retries');
  webhooks
    .command('add <url>')
    .description('register an endpoint; prints its signing secret once')
    .requiredOption(
      '--events <types>',
      'comma-separated event types, e.g. charge.created,balance.low',
    )
    .requiredOption(
      '--key <key>',
      'idempotency key: the same key again answers the same endpoint and secret',
    )
    .option('--account <id>', "only this account's events (default: every account)")
    .action(async (url: string, o: { events: string; key: string; account?: string }) => {
      await withLedger(globals(), async (ledger, out) => {
        const endpoint = await ledger.registerWebhook({
          url,
          secret: newWebhookSecret(),
          eventTypes: o.events.split(',').map((t) => t.trim()),
          accountId: o.account ?? null,
          key: o.key,
        });
        out.print(
          () =>
            pairs([
              ['endpoint', endpoint.id],
              ['url', endpoint.url],
              ['events', endpoint.eventTypes.join(', ')],
              ['account', endpoint.accountId ?? 'every account'],
              ['secret', `${endpoint.secret}  (shown once: verify Amisi-Signature with it)`],
              ...(endpoint.replay
                ? ([['replay', 'yes: the endpoint this key registered']] as [string, string][])
                : []),
            ]),
          endpoint,
        );
      });
    });
  webhooks
    .command('list')
    .description('registered endpoints (secrets not shown)')
    .action(async () => {
      await withLedger(globals(), async (ledger, out) => {
        const rows = await ledger.webhookEndpoints(null);
        out.print(
          () =>
            table(rows, [
              { header: 'endpoint', value: (e) => e.id },
              { header: 'url', value: (e) => e.url },
              { header: 'events', value: (e) => e.eventTypes.join(',') },
              { header: 'account', value: (e) => e.accountId ?? '*' },
              { header: 'status', value: (e) => (e.disabledAt === null ? 'active' : 'disabled') },
            ]),
          rows,
        );
      });
    });
  webhooks
    .command('remove <endpoint>')
    .description('disable an endpoint (its delivery history stays)')
    .action(async (endpoint: string) => {
      await withLedger(globals(), async (ledger, out) => {
        await ledger.disableWebhook(endpoint);
        out.print(() => `endpoint ${endpoint} disabled`, { endpoint, disabled: true });
      });
    });
  webhooks
    .command('deliveries')
    .description('deliveries, newest first, with their attempts (--delivery for one)')
    .option('--account <id>')
    .option('--endpoint <id>')
    .option('--status <status>', DELIVERY_STATUSES.join(' | '))
    .option('--delivery <id>', 'one delivery and every attempt')
    .option('--limit <n>', 'at most this many', '50')
    .action(
      async (o: {
        account?: string;
        endpoint?: string;
        status?: string;
        delivery?: string;
        limit: string;
      }) => {
        await withLedger(globals(), async (ledger, out) => {
          if (o.delivery !== undefined) {
            const { delivery: d, attempts } = await ledger.deliveryDetail(
              (await ledger.getDelivery(o.delivery)).id,
            );
            const types = await ledger.eventTypes([d]);
            out.print(
              () =>
                `${deliveryTable([d], types, true)}\n\n${table(attempts, [
                  { header: 'attempt', value: (a) => a.attempt },
                  { header: 'at', value: (a) => iso(a.at) },
                  { header: 'status', value: (a) => a.statusCode ?? '' },
                  { header: 'error', value: (a) => a.error ?? '' },
                  { header: 'ms', value: (a) => a.durationMs, align: 'right' },
                ])}`,
              { delivery: d, attempts },
            );
            return;
          }
          if (
            o.status !== undefined &&
            !(DELIVERY_STATUSES as readonly string[]).includes(o.status)
          ) {
            throw new AmisiError(
              'invalid_argument',
              `status must be ${DELIVERY_STATUSES.join(', ')}`,
              {
                field: 'status',
                value: o.status,
              },
            );
          }
          const limit = Number(o.limit);
          if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) {
            throw new AmisiError('invalid_argument', 'limit must be from 1 to 1000', {
              field: 'limit',
              value: o.limit,
            });
          }
          const rows = await ledger.listDeliveries({
            limit,
            ...(o.account === undefined ? {} : { accountId: o.account }),
            ...(o.endpoint === undefined ? {} : { endpointId: o.endpoint }),
            ...(o.status === undefined ? {} : { status: o.status as DeliveryStatus }),
          });
          const types = await ledger.eventTypes(rows);
          out.print(() => deliveryTable(rows, types), rows);
        });
      },
    );
  webhooks
    .command('redeliver <delivery>')
    .description("send that delivery's event to its endpoint again (a new delivery, due now)")
    .action(async (delivery: string) => {
      await withLedger(globals(), async (ledger, out) => {
        const d = await ledger.redeliver(delivery);
        out.print(() => `delivery ${d.id} queued (event ${d.eventId})`, d);
      });
    });
  webhooks
    .command('deliver')
    .description('post every delivery due now, once (amisi serve does this continuously)')
    .action(async () => {
      await withLedger(globals(), async (ledger, out) => {
        let failed = 0;
        const deliverer = new WebhookDeliverer(ledger, {
          allowPrivate: process.env.AMISI_WEBHOOK_ALLOW_PRIVATE === '1',
          onAttempt: (d) => {
            if (d.status !== 'delivered') failed += 1;
          },
        });
        const attempts = await deliverer.runOnce();
        out.print(() => `${attempts} attempt(s), ${failed} not delivered yet`, {
          attempts,
          failed,
        });
      });
    });
}
