import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyReply,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { Ledger } from '../ledger/ledger.js';
import type { ApiKeys } from '../service/api-keys.js';
import type { PurchaseService } from '../service/purchases.js';
import type { Metrics } from './metrics.js';

/** The server with the TypeBox type provider: handlers see typed bodies, params and replies. */
export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** The use-cases the handlers call; the server owns none of them. */
export interface Deps {
  readonly ledger: Ledger;
  readonly purchases: PurchaseService;
  readonly keys: ApiKeys;
  readonly metrics: Metrics;
  /** Let account keys register webhooks to private and loopback addresses (default: no). */
  readonly allowPrivateWebhooks?: boolean;
}

/** Marks an idempotent replay the way Stripe does, besides `replay` in the body. */
export function replayed(reply: FastifyReply, replay: boolean): void {
  if (replay) reply.header('idempotent-replayed', 'true');
}
