import { Type } from '@sinclair/typebox';
import { MAX_PACKS_PER_LINE, MAX_PURCHASE_LINES, PURCHASE_STATUSES } from '../../core/purchases.js';
import { Cents, Id, list, nullable, oneOf, ref, Replay, Time } from './common.js';

/** Packs bought through the payment provider. */

export const PurchaseLine = Type.Object(
  {
    pack: Type.String(),
    unitCredits: Type.Integer({ description: 'Credits of one pack.' }),
    unitPriceCents: Cents('Price of one pack in minor units.'),
    count: Type.Integer({ description: 'How many of the pack.' }),
    credits: Type.Integer({ description: 'The line: count x unitCredits.' }),
    priceCents: Cents('The line: count x unitPriceCents.'),
  },
  { $id: 'PurchaseLine' },
);

export const Purchase = Type.Object(
  {
    accountId: Type.String(),
    id: Type.String(),
    pack: Type.String({
      description:
        'The pack of a one-pack purchase; a combination reads e.g. "pack-50x2+pack-20" (its lines are in lines).',
    }),
    lines: list(ref(PurchaseLine), {
      description: 'What is bought, one line per pack; credits and priceCents are their sums.',
    }),
    credits: Type.Integer(),
    priceCents: Cents('Price in minor units.'),
    currency: Type.String(),
    provider: Type.String(),
    checkoutRef: nullable(Type.String()),
    paymentRef: nullable(Type.String()),
    status: oneOf(PURCHASE_STATUSES),
    grantId: nullable(Type.String({ description: 'The grant made once the payment arrived.' })),
    refundedCredits: Type.Integer(),
    refundedCents: Cents('Money paid back.'),
    refundRef: nullable(Type.String()),
    createdAt: Time('When the purchase was made.'),
    paidAt: nullable(Time('When the payment was confirmed.')),
    cancelledAt: nullable(
      Time('When the customer cancelled it while pending (a payment still arriving is granted).'),
    ),
    origin: oneOf(['customer', 'autotopup'] as const, {
      description: "Who asked: the customer (or an operator), or the account's auto top-up rule.",
    }),
  },
  { $id: 'Purchase' },
);

export const BuyRequest = Type.Object(
  {
    accountId: Id('The account that buys.'),
    pack: Type.Optional(Id('A pack of the active catalog, e.g. pack-50 (or name packs).')),
    packs: Type.Optional(
      Type.Array(
        Type.Object(
          {
            pack: Id('A pack of the active catalog.'),
            count: Type.Integer({ minimum: 1, maximum: MAX_PACKS_PER_LINE }),
          },
          { additionalProperties: false },
        ),
        {
          minItems: 1,
          maxItems: MAX_PURCHASE_LINES,
          description:
            "Several packs in one payment (e.g. the advice's combination), one line per pack; instead of pack.",
        },
      ),
    ),
  },
  { additionalProperties: false },
);

export const BuyResult = Type.Object(
  {
    purchase: ref(Purchase),
    checkoutUrl: nullable(
      Type.String({
        description:
          'Where the customer pays (Stripe Checkout); null with the manual provider, where an operator confirms.',
      }),
    ),
    replay: Replay,
  },
  { $id: 'BuyResult' },
);

export const PurchaseResult = Type.Object(
  {
    purchase: ref(Purchase),
    transactionId: nullable(Type.String()),
    replay: Replay,
  },
  { $id: 'PurchaseResult' },
);

export const PurchaseList = Type.Object(
  { purchases: list(ref(Purchase)) },
  { $id: 'PurchaseList' },
);

export const PurchaseParams = Type.Object({ purchaseId: Id('The purchase.') });

export const ConfirmRequest = Type.Object(
  {
    paymentRef: Type.Optional(
      Type.String({
        pattern: '^[\\x21-\\x7e]{1,255}$',
        description: "The payment's reference, e.g. a bank transfer id.",
      }),
    ),
  },
  { additionalProperties: false },
);

export const RefundRequest = Type.Object(
  {
    full: Type.Optional(
      Type.Boolean({ description: 'Pay back the whole price (default: the unspent share).' }),
    ),
  },
  { additionalProperties: false },
);

export const WebhookResult = Type.Object(
  {
    received: Type.Boolean(),
    result: Type.String({ description: 'What was done: granted, already processed, ignored.' }),
  },
  { $id: 'WebhookResult' },
);
