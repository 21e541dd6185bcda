import { Type } from '@sinclair/typebox';
import { GRANT_SOURCES } from '../../core/grants.js';
import {
  HOLD_LIFETIME_MAX_MS,
  HOLD_STATUSES,
  HOLD_TTL_MAX_MS,
  HOLD_TTL_MIN_MS,
  MAX_LABELS,
} from '../../core/holds.js';
import { BOOKS, TRANSACTION_KINDS } from '../../core/journal.js';
import { ACCOUNT_KINDS, ROLES } from '../../core/teams.js';
import { MAX_CREDITS } from '../../core/credits.js';
import { OVERDRAFT_MODES } from '../../core/overdraft.js';
import { ACCOUNT_STATUSES, MAX_HISTORY_PAGE, MAX_SUMMARY_PAGE } from '../../ledger/ledger.js';
import { MAX_KEY_TTL_SECONDS, MIN_KEY_TTL_SECONDS } from '../../service/api-keys.js';
import { QuoteItems, Quote } from './catalog.js';
import { SubscriptionResult } from './plans.js';
import { Credits, Id, list, nullable, oneOf, ref, Replay, Time } from './common.js';

/** Accounts, grants, holds, charges, balance and history. */

export const Account = Type.Object(
  {
    id: Type.String(),
    plan: nullable(
      Type.String({ description: "The active subscription's plan; null without one." }),
    ),
    createdAt: Time('When the account was created.'),
    kind: oneOf(ACCOUNT_KINDS, {
      description: 'An organization pools credits that its members spend within budgets.',
    }),
    name: nullable(Type.String()),
    testClockId: nullable(
      Type.String({
        description:
          'The test clock the account was made on: its time is the clock’s (a simulation; it cannot pay through a live provider). null: real time.',
      }),
    ),
  },
  { $id: 'Account' },
);

export const AccountResult = Type.Object(
  {
    account: ref(Account),
    /** With plan: the subscription made (or replayed) and its first credits; else null. */
    subscription: nullable(ref(SubscriptionResult)),
    replay: Replay,
  },
  { $id: 'AccountResult' },
);

export const AccountList = Type.Object(
  {
    accounts: list(ref(Account)),
    nextCursor: nullable(Type.String({ description: 'Pass as cursor for the next page.' })),
  },
  { $id: 'AccountList' },
);

export const CreateAccountRequest = Type.Object(
  {
    id: Id('The new account id (your customer or team id). Creating it again is a no-op.'),
    plan: Type.Optional(
      nullable(
        Id(
          "Subscribe the account to this plan at once, with its first cycle's credits (by the Idempotency-Key, default create-<id>).",
        ),
      ),
    ),
    testClockId: Type.Optional(
      nullable(
        Id('Make the account on this test clock (POST /v1/test-clocks): it runs on its time.'),
      ),
    ),
  },
  { additionalProperties: false },
);

export const AccountListQuery = Type.Object({
  cursor: Type.Optional(Id('The nextCursor of the previous page.')),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  search: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 100,
      description: 'Only accounts whose id or name contains this text, ignoring case.',
    }),
  ),
});

export const AccountSummary = Type.Object(
  {
    account: ref(Account),
    available: Type.Integer({
      description: 'Spendable credits now, less any debt (as the balance).',
    }),
    held: Type.Integer({ description: 'Credits reserved by open holds.' }),
    debt: Type.Integer({ description: 'Credits owed past zero (the overdraft).' }),
    status: oneOf(ACCOUNT_STATUSES, {
      description:
        'active: on a plan; ending: cancelled, the plan ends at endsAt; no_plan: packs and grants only.',
    }),
    endsAt: nullable(Time('When a cancelled plan ends; null otherwise.')),
    lastActivityAt: nullable(
      Time("The newest journal transaction's time (grant, charge, renewal, ...); null: none."),
    ),
  },
  { $id: 'AccountSummary' },
);

export const AccountSummaryList = Type.Object(
  {
    summaries: list(ref(AccountSummary)),
    nextCursor: nullable(Type.String({ description: 'Pass as cursor for the next page.' })),
  },
  { $id: 'AccountSummaryList' },
);

export const AccountSummaryQuery = Type.Object({
  cursor: Type.Optional(Id('The nextCursor of the previous page.')),
  limit: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: MAX_SUMMARY_PAGE,
      default: 50,
      description: "Each row reads its account's balance: at most 100 a page.",
    }),
  ),
  search: AccountListQuery.properties.search,
});

/** A short-lived key's lifetime (src/service/api-keys.ts checks the same range). */
export const KeyTtl = Type.Integer({
  minimum: MIN_KEY_TTL_SECONDS,
  maximum: MAX_KEY_TTL_SECONDS,
  description:
    'A short-lived key: it stops working this many seconds after it is made (60 to 2,592,000, 30 days); what a backend mints for a browser, such as the embedded components. Absent: until revoked.',
});

export const CreateAccountKeyRequest = Type.Object(
  {
    name: Type.Optional(
      Type.String({ minLength: 1, maxLength: 100, description: 'Shown in key listings.' }),
    ),
    readOnly: Type.Optional(Type.Boolean({ description: 'Reads only (every POST is forbidden).' })),
    ttlSeconds: Type.Optional(KeyTtl),
  },
  { additionalProperties: false },
);

export const AccountKey = Type.Object(
  {
    accountId: Type.String(),
    keyId: Type.String(),
    key: Type.String({ description: 'The API key, shown only here: only its hash is kept.' }),
    readOnly: Type.Boolean(),
    name: nullable(Type.String()),
    expiresAt: nullable(Time('When a short-lived key stops working; null: when it is revoked.')),
  },
  { $id: 'AccountKey' },
);

/** Who an API key is: what the dashboard asks first. */
export const Me = Type.Object(
  {
    keyId: Type.String(),
    scope: oneOf(['operator', 'account', 'member'] as const, {
      description:
        'operator: every account; account: one account; member: one organization, as its role allows.',
    }),
    accountId: nullable(Type.String({ description: 'The account of an account or member key.' })),
    memberId: nullable(Type.String({ description: 'The member of a member key.' })),
    role: nullable(oneOf(ROLES, { description: "A member key's role, read with the key." })),
    readOnly: Type.Boolean(),
    expiresAt: nullable(Time('When this key stops working by itself; null: when it is revoked.')),
  },
  { $id: 'Me' },
);

export const Grant = Type.Object(
  {
    accountId: Type.String(),
    id: Type.String(),
    source: oneOf(GRANT_SOURCES),
    amount: Type.Integer(),
    remaining: Type.Integer(),
    startsAt: Time('When the credits become spendable.'),
    expiresAt: nullable(Time('When the credits expire; null: never.')),
    createdAt: Time('When the grant was made.'),
  },
  { $id: 'Grant' },
);

export const GrantRequest = Type.Object(
  {
    accountId: Id('The account to credit.'),
    credits: Credits(),
    source: oneOf(GRANT_SOURCES),
    expiresAt: Type.Optional(nullable(Time('When the credits expire (default: never).'))),
    startsAt: Type.Optional(Time('When they become spendable (default: now).')),
    reason: Type.Optional(Type.String({ maxLength: 500, description: 'Why, for the journal.' })),
  },
  { additionalProperties: false },
);

export const GrantResult = Type.Object(
  { grant: ref(Grant), transactionId: Type.String(), replay: Replay },
  { $id: 'GrantResult' },
);

export const Attribution = Type.Object(
  {
    member: nullable(Type.String()),
    project: nullable(Type.String()),
    labels: Type.Record(Type.String(), Type.String()),
  },
  { $id: 'Attribution', description: 'Who and what the credits are for (audits, budgets).' },
);

/** Who and what a hold, charge or batch is for, as given (inlined in request bodies). */
export const AttributionInput = Type.Object(
  {
    member: Type.Optional(nullable(Id('The team member.'))),
    project: Type.Optional(nullable(Id('The project.'))),
    labels: Type.Optional(
      Type.Record(Type.String(), Type.String({ maxLength: 256 }), {
        maxProperties: MAX_LABELS,
        description: 'Free-form labels; keys are lower-case names.',
      }),
    ),
  },
  { additionalProperties: false },
);

export const Draw = Type.Object(
  { grantId: Type.String(), credits: Type.Integer() },
  { $id: 'Draw', description: 'Credits taken from one grant.' },
);

export const Hold = Type.Object(
  {
    accountId: Type.String(),
    id: Type.String(),
    status: oneOf(HOLD_STATUSES),
    credits: Type.Integer({
      description: 'Credits reserved over the hold’s life (as made, plus any increases).',
    }),
    capturedCredits: Type.Integer({
      description: 'Credits captured so far (in parts while held, then the final capture).',
    }),
    draws: list(ref(Draw), {
      description:
        'The grants still reserved, in the order a capture takes them (credits - capturedCredits while held).',
    }),
    expiresAt: Time('When the hold releases itself (an extension moves it).'),
    createdAt: Time('When the hold was made.'),
    resolvedAt: nullable(Time('When it was captured, released or expired.')),
    catalogVersion: nullable(Type.String()),
    quote: nullable(ref(Quote)),
    attribution: ref(Attribution),
  },
  { $id: 'Hold' },
);

const amountDescription =
  'Give either credits (a plain amount) or items (priced by the active catalog).';

export const HoldRequest = Type.Object(
  {
    accountId: Id('The account to reserve credits from.'),
    credits: Type.Optional(Credits()),
    items: Type.Optional(QuoteItems),
    ttlMs: Type.Optional(
      Type.Integer({
        minimum: HOLD_TTL_MIN_MS,
        maximum: HOLD_TTL_MAX_MS,
        description: 'Released by itself after this long (default 15 minutes).',
      }),
    ),
    attribution: Type.Optional(AttributionInput),
  },
  { additionalProperties: false, description: amountDescription },
);

export const HoldResult = Type.Object(
  { hold: ref(Hold), transactionId: Type.String(), replay: Replay },
  { $id: 'HoldResult' },
);

export const HoldParams = Type.Object({ holdId: Id('The hold.') });

export const CaptureRequest = Type.Object(
  {
    credits: Type.Optional(
      Credits('Credits to take (default: all the hold still holds); the rest returns.'),
    ),
    final: Type.Optional(
      Type.Boolean({
        description:
          'false: take these credits now and keep the rest held (a long job billed as it goes; credits required). Default true: the capture ends the hold.',
      }),
    ),
  },
  { additionalProperties: false },
);

export const ExtendRequest = Type.Object(
  {
    ttlMs: Type.Integer({
      minimum: HOLD_TTL_MIN_MS,
      maximum: HOLD_TTL_MAX_MS,
      description: `The hold now releases itself this long from now; at most ${HOLD_LIFETIME_MAX_MS / 86_400_000} days after it was made.`,
    }),
  },
  { additionalProperties: false },
);

export const IncreaseRequest = Type.Object(
  { credits: Type.Optional(Credits()), items: Type.Optional(QuoteItems) },
  {
    additionalProperties: false,
    description:
      'More credits on the same hold, all or nothing: items for a hold priced by items, credits for a hold of plain credits.',
  },
);

export const IncreaseResult = Type.Object(
  {
    hold: ref(Hold),
    transactionId: Type.String(),
    credits: Type.Integer({ description: 'Credits this increase reserved.' }),
    replay: Replay,
  },
  { $id: 'IncreaseResult' },
);

export const ReleaseRequest = Type.Object({}, { additionalProperties: false });

export const ResolveResult = Type.Object(
  {
    hold: ref(Hold),
    transactionId: Type.String(),
    capturedCredits: Type.Integer({ description: 'Credits this capture took (0: a release).' }),
    releasedCredits: Type.Integer({
      description: 'Credits this returned (0: a partial capture, the rest still held).',
    }),
    replay: Replay,
  },
  { $id: 'ResolveResult' },
);

export const ChargeRequest = Type.Object(
  {
    accountId: Id('The account to charge.'),
    credits: Type.Optional(Credits()),
    items: Type.Optional(QuoteItems),
    attribution: Type.Optional(AttributionInput),
  },
  { additionalProperties: false, description: amountDescription },
);

export const ChargeResult = Type.Object(
  {
    accountId: Type.String(),
    transactionId: Type.String(),
    credits: Type.Integer(),
    draws: list(ref(Draw)),
    catalogVersion: nullable(Type.String()),
    quote: nullable(ref(Quote)),
    attribution: ref(Attribution),
    createdAt: Time('When the charge was made.'),
    replay: Replay,
  },
  { $id: 'ChargeResult' },
);

export const GrantBalance = Type.Object(
  {
    id: Type.String(),
    source: oneOf(GRANT_SOURCES),
    amount: Type.Integer(),
    remaining: Type.Integer(),
    held: Type.Integer(),
    startsAt: Time('When the credits become spendable.'),
    expiresAt: nullable(Time('When they expire; null: never.')),
    rollsOver: Type.Integer({
      description:
        "Credits of remaining that the next renewal rolls over within the plan's cap, as things stand: they do not expire then (the rest of a cycle's allocation does).",
    }),
  },
  { $id: 'GrantBalance' },
);

export const Overdraft = Type.Object(
  {
    limit: Type.Integer({
      description: 'How far below zero the account may go (0: not at all).',
    }),
    mode: oneOf(OVERDRAFT_MODES, {
      description:
        'hard: a spend past the limit is refused; soft: allowed past it, with an overdraft.limit_passed webhook.',
    }),
    from: oneOf(['account', 'plan', 'none'] as const, {
      description: "Whose limit: the account's own, its plan's, or none.",
    }),
    debt: Type.Integer({
      description: 'Credits spent past zero: owed, paid first by the next grant.',
    }),
    held: Type.Integer({ description: 'Credits open holds reserve past zero.' }),
    remaining: Type.Integer({ description: 'What the limit still allows past zero.' }),
  },
  { $id: 'Overdraft' },
);

export const OverdraftRequest = Type.Object(
  {
    limit: nullable(
      Type.Integer({
        minimum: 0,
        maximum: MAX_CREDITS,
        description: "The account's own limit; null: its plan's again (none without one).",
      }),
    ),
    mode: Type.Optional(oneOf(OVERDRAFT_MODES, { default: 'hard' })),
  },
  { additionalProperties: false },
);

export const Balance = Type.Object(
  {
    accountId: Type.String(),
    asOf: Time('The moment of this balance.'),
    available: Type.Integer(),
    held: Type.Integer(),
    grants: list(ref(GrantBalance)),
    nextExpiry: nullable(
      Type.Object({ at: Time('When.'), credits: Type.Integer({ description: 'How many.' }) }),
    ),
    overdraft: ref(Overdraft),
  },
  { $id: 'Balance' },
);

export const Entry = Type.Object(
  {
    book: oneOf(BOOKS),
    grantId: nullable(Type.String()),
    holdId: nullable(Type.String()),
    credits: Type.Integer({ description: 'Signed: positive flows into the book.' }),
  },
  { $id: 'Entry' },
);

export const Transaction = Type.Object(
  {
    accountId: Type.String(),
    id: Type.String(),
    kind: oneOf(TRANSACTION_KINDS),
    createdAt: Time('When it was committed.'),
    idempotencyKey: nullable(Type.String()),
    holdId: nullable(Type.String()),
    grantId: nullable(Type.String()),
    catalogVersion: nullable(Type.String()),
    detail: Type.Record(Type.String(), Type.Unknown(), {
      description: 'What a person reading history needs: quote lines, attribution, reasons.',
    }),
    entries: list(ref(Entry)),
  },
  { $id: 'Transaction' },
);

export const HistoryPage = Type.Object(
  {
    transactions: list(ref(Transaction)),
    nextCursor: nullable(Type.String({ description: 'Pass as cursor for the next (older) page.' })),
  },
  { $id: 'HistoryPage' },
);

export const HistoryQuery = Type.Object({
  kind: Type.Optional(
    Type.Array(oneOf(TRANSACTION_KINDS), {
      description: 'Only these kinds (repeat the parameter).',
    }),
  ),
  since: Type.Optional(Time('From this time (inclusive).')),
  until: Type.Optional(Time('Before this time.')),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_HISTORY_PAGE, default: 50 })),
  cursor: Type.Optional(Id('The nextCursor of the previous page.')),
});
