import { Type } from '@sinclair/typebox';
import { AUTO_TOPUP_PERIODS } from '../../core/autotopup.js';
import { DELIVERY_STATUSES, WEBHOOK_EVENT_TYPES } from '../../core/webhooks.js';
import { Credits, Id, list, nullable, oneOf, ref, Replay, Time } from './common.js';

/** Webhook endpoints and deliveries; auto top-up rules. */

const EventType = oneOf(WEBHOOK_EVENT_TYPES);

export const WebhookEndpoint = Type.Object(
  {
    id: Type.String(),
    url: Type.String(),
    eventTypes: list(EventType),
    accountId: nullable(
      Type.String({ description: "Only this account's events; null for every account." }),
    ),
    publicOnly: Type.Boolean({
      description:
        'Delivered to public addresses only, checked at each delivery on the address connected to (an account key registered it).',
    }),
    createdAt: Time('When it was registered.'),
    disabledAt: nullable(Time('When it was removed.')),
  },
  { $id: 'WebhookEndpoint' },
);

export const WebhookEndpointCreated = Type.Object(
  {
    endpoint: ref(WebhookEndpoint),
    secret: Type.String({
      description:
        'The signing secret, shown only here (and in a replay of this registration): verify Amisi-Signature (HMAC-SHA256 of `<t>.<body>`) with it.',
    }),
    replay: Replay,
  },
  { $id: 'WebhookEndpointCreated' },
);

export const WebhookEndpointList = Type.Object(
  { endpoints: list(ref(WebhookEndpoint)) },
  { $id: 'WebhookEndpointList' },
);

export const RegisterWebhookRequest = Type.Object(
  {
    url: Type.String({ maxLength: 2000, description: 'An http or https URL.' }),
    eventTypes: Type.Array(EventType, { minItems: 1, uniqueItems: true }),
    accountId: Type.Optional(
      Id("Only this account's events. An account key always registers for its own account."),
    ),
  },
  { additionalProperties: false },
);

export const EndpointParams = Type.Object({ endpointId: Id('The endpoint.') });
export const DeliveryParams = Type.Object({ deliveryId: Id('The delivery.') });

export const Delivery = Type.Object(
  {
    accountId: Type.String(),
    id: Type.String(),
    endpointId: Type.String(),
    eventId: Type.String({ description: 'The same on every retry: receivers dedupe by it.' }),
    status: oneOf(DELIVERY_STATUSES),
    attempts: Type.Integer(),
    nextAttemptAt: Time('When the next attempt is due (pending), or the last one was made.'),
    createdAt: Time('When the event was made.'),
    deliveredAt: nullable(Time('When the endpoint answered 2xx.')),
    lastStatusCode: nullable(Type.Integer()),
    lastError: nullable(Type.String()),
  },
  { $id: 'Delivery' },
);

export const DeliveryAttempt = Type.Object(
  {
    attempt: Type.Integer(),
    at: Time('When it was made.'),
    statusCode: nullable(Type.Integer()),
    error: nullable(Type.String()),
    durationMs: Type.Integer(),
  },
  { $id: 'DeliveryAttempt' },
);

export const DeliveryList = Type.Object(
  { deliveries: list(ref(Delivery)) },
  { $id: 'DeliveryList' },
);

export const DeliveryDetail = Type.Object(
  { delivery: ref(Delivery), attempts: list(ref(DeliveryAttempt)) },
  { $id: 'DeliveryDetail' },
);

export const DeliveryQuery = Type.Object(
  {
    accountId: Type.Optional(Id('Only this account (an account key sees only its own).')),
    endpointId: Type.Optional(Id('Only this endpoint.')),
    status: Type.Optional(oneOf(DELIVERY_STATUSES)),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  },
  { additionalProperties: false },
);

export const AutoTopup = Type.Object(
  {
    accountId: Type.String(),
    pack: Type.String(),
    thresholdCredits: Type.Integer({ description: 'Buys when available credits fall below it.' }),
    maxPerPeriod: Type.Integer(),
    period: oneOf(AUTO_TOPUP_PERIODS),
    provider: Type.String(),
    armed: Type.Boolean({
      description: 'false after it fired, until the balance is back at or above the threshold.',
    }),
    periodStartsAt: Time('Start of the period the count is for (UTC).'),
    firedInPeriod: Type.Integer(),
    lastFiredAt: nullable(Time('When it last bought a pack.')),
    updatedAt: Time('When it last changed.'),
  },
  { $id: 'AutoTopup' },
);

export const AutoTopupRequest = Type.Object(
  {
    pack: Id('A pack of the active catalog.'),
    thresholdCredits: Credits('Buy when the available credits fall below this.'),
    maxPerPeriod: Type.Integer({ minimum: 1, maximum: 1000, description: 'Purchases per period.' }),
    period: Type.Optional(oneOf(AUTO_TOPUP_PERIODS, { default: 'month' })),
  },
  { additionalProperties: false },
);
