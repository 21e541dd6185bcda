import type { FastifyRequest } from 'fastify';
import { cycleStart } from '../../core/cycles.js';
import { AmisiError, isAmisiError } from '../../core/errors.js';
import { HOLD_TTL_MIN_MS, type Hold } from '../../core/holds.js';
import type { Subscription } from '../../core/subscriptions.js';
import {
  CHECK_BLOCKS,
  LEDGER_PROBLEMS as L,
  type Balance,
  type CheckResult,
  type Ledger,
} from '../../ledger/ledger.js';
import type { App, Deps } from '../app.js';
import { replayed } from '../app.js';
import {
  accountInScope,
  attributionOf,
  holdInScope,
  principalOf,
  SCOPE_PROBLEMS as S,
} from '../auth.js';
import {
  AUTUMN_CREDITS_FEATURE,
  AutumnCheckRequest,
  AutumnCheckResult,
  AutumnCustomer,
  AutumnCustomerParams,
  AutumnCustomerQuery,
  AutumnFinalizeRequest,
  AutumnFinalizeResult,
  AutumnTrackRequest,
  AutumnTrackResult,
  IDEMPOTENCY_HEADER,
  OptionalIdempotencyHeaders,
  problems,
  ref,
} from '../schemas/index.js';

/**
 * Autumn-shaped endpoints (useautumn's API) over Amisi's use-cases, so that an app written
 * against Autumn can point at Amisi: check (with lock: a hold), track (a charge), the lock's
 * finalize (capture or release) and the customer read (balance and plan). Mounted under
 * /autumn/v1 so they never meet Amisi's own /v1 routes; each is authorized exactly as the
 * Amisi route it stands for. docs/autumn.md has the mapping and what is left out.
 *
 * Autumn's lock ids are the caller's: the hold is made under the idempotency key
 * `autumn-lock:<lock_id>` and found again by it (ledger.findHoldByKey), so Amisi keeps no
 * table of its own for them.
 */

export const AUTUMN_PREFIX = '/autumn/v1';

/** Autumn holds a lock until it is finalized; Amisi's hold for it lives this long at most. */
export const LOCK_TTL_MAX_MS = 24 * 60 * 60 * 1000;

const lockKey = (lockId: string) => `autumn-lock:${lockId}`;
const finalizeKey = (lockId: string, action: 'confirm' | 'release') => `autumn-${action}:${lockId}`;

type Amount =
  | { readonly credits: number }
  | { readonly items: readonly { readonly operation: string; readonly count: number }[] };

/** A feature's units as an Amisi amount: plain credits, or a count of a catalog operation. */
function amountOf(featureId: string, units: number): Amount {
  return featureId === AUTUMN_CREDITS_FEATURE
    ? { credits: units }
    : { items: [{ operation: featureId, count: units }] };
}

/** Autumn's entity is a seat: the member the spend is attributed to. */
function spendOf(
  request: FastifyRequest,
  accountId: string,
  featureId: string,
  units: number,
  entityId: string | undefined,
) {
  const given = entityId === undefined ? undefined : { member: entityId };
  return { accountId, ...amountOf(featureId, units), attribution: attributionOf(request, given) };
}
type Spend = ReturnType<typeof spendOf>;

const invalid = (field: string, message: string) =>
  new AmisiError('invalid_argument', message, { field });

/** The hold's ttl for a lock: until expires_at (from now), else the longest a lock lives. */
function ttlOf(expiresAt: number | undefined, now: number): number {
  if (expiresAt === undefined) return LOCK_TTL_MAX_MS;
  const ttlMs = expiresAt - now;
  if (ttlMs < HOLD_TTL_MIN_MS || ttlMs > LOCK_TTL_MAX_MS) {
    throw invalid(
      'lock.expires_at',
      `lock.expires_at must be between ${HOLD_TTL_MIN_MS} ms and 24 hours from now`,
    );
  }
  return ttlMs;
}

/** What the check answers under `amisi`. */
interface Decision {
  readonly allowed: boolean;
  readonly credits: number;
  readonly blocked_by: CheckResult['blockedBy'];
  readonly available_after: number;
  readonly hold_id: string | null;
  readonly transaction_id: string | null;
  readonly replay: boolean;
}

function decisionOf(r: CheckResult): Decision {
  return {
    allowed: r.allowed,
    credits: r.credits,
    blocked_by: r.blockedBy,
    available_after: r.availableAfter,
    hold_id: r.hold?.id ?? null,
    transaction_id: r.transactionId,
    replay: r.replay,
  };
}

const isBlock = (e: unknown) =>
  isAmisiError(e) && (CHECK_BLOCKS as readonly string[]).includes(e.code);

/**
 * A check with lock is the check with hold under the lock's key. A retry of it names the same
 * expires_at, which is a shorter ttl by then: the hold already made answers with its own ttl,
 * so the retry is the very same request (a replay) and a different one is refused as reused.
 */
async function lockCheck(
  ledger: Ledger,
  spend: Spend,
  lock: { lock_id: string; expires_at?: number },
) {
  const key = lockKey(lock.lock_id);
  const made = await ledger.findHoldByKey(spend.accountId, key);
  const ttlMs = made ? made.expiresAt - made.createdAt : ttlOf(lock.expires_at, ledger.clock.now());
  return decisionOf(await ledger.check({ ...spend, hold: true, key, ttlMs }));
}

/** send_event: a charge when allowed, else the check's answer (nothing charged). */
async function chargeCheck(ledger: Ledger, spend: Spend, key: string | undefined) {
  if (key === undefined) {
    throw invalid(IDEMPOTENCY_HEADER, 'send_event charges: it needs an Idempotency-Key header');
  }
  try {
    const c = await ledger.charge({ ...spend, key });
    const after = (await ledger.balance(spend.accountId)).available;
    return {
      allowed: true,
      credits: c.credits,
      blocked_by: null,
      available_after: after,
      hold_id: null,
      transaction_id: c.transactionId,
      replay: c.replay,
    } satisfies Decision;
  } catch (e) {
    if (!isBlock(e)) throw e;
    const checked = await ledger.check(spend);
    if (checked.allowed) throw e;
    return decisionOf(checked);
  }
}

/** A customer's credits in Autumn's balance shape: one feature, "credits", grant by grant. */
function autumnBalance(b: Balance, sub: Subscription | undefined) {
  const plan = sub?.status === 'active' ? sub : undefined;
  const resetsAt = plan ? plan.nextRenewalAt : null;
  const reset = plan ? { interval: 'month' as const, resets_at: resetsAt } : null;
  const breakdown = b.grants.map((g) => {
    const remaining = g.remaining - g.held;
    const allocation = g.source === 'allocation';
    return {
      id: g.id,
      plan_id: allocation ? (plan?.plan ?? null) : null,
      source: g.source,
      included_grant: g.source === 'purchase' ? 0 : g.amount,
      prepaid_grant: g.source === 'purchase' ? g.amount : 0,
      remaining,
      usage: g.amount - remaining,
      unlimited: false,
      reset: allocation ? reset : null,
      price: null,
      expires_at: g.expiresAt,
    };
  });
  const granted = b.grants.reduce((sum, g) => sum + g.amount, 0);
  return {
    feature_id: AUTUMN_CREDITS_FEATURE,
    unlimited: false,
    granted,
    remaining: b.available,
    usage: granted - b.available,
    overage_allowed: b.overdraft.limit > 0,
    max_purchase: null,
    next_reset_at: resetsAt,
    reset,
    breakdown,
  };
}

async function balanceOf(ledger: Ledger, accountId: string) {
  const b = await ledger.balance(accountId);
  return autumnBalance(b, await ledger.findSubscription(accountId));
}

/** The plan as Autumn's subscriptions: the active one, and a downgrade waiting for renewal. */
function subscriptionsOf(sub: Subscription | undefined) {
  if (sub?.status !== 'active') return [];
  const base = {
    auto_enable: false,
    add_on: false,
    past_due: false,
    canceled_at: sub.cancelAt,
    expires_at: sub.cancelAt,
    trial_ends_at: null,
    quantity: 1,
    scope: 'customer' as const,
  };
  const active = {
    ...base,
    id: sub.id,
    plan_id: sub.plan,
    status: 'active' as const,
    started_at: sub.createdAt,
    current_period_start: cycleStart(sub.anchorAt, sub.cycleIndex),
    current_period_end: sub.nextRenewalAt,
  };
  if (sub.pendingPlan === null) return [active];
  const scheduled = {
    ...base,
    id: `${sub.id}:next`,
    plan_id: sub.pendingPlan,
    status: 'scheduled' as const,
    started_at: sub.nextRenewalAt,
    current_period_start: null,
    current_period_end: null,
  };
  return [active, scheduled];
}

/**
 * The account a lock is finalized on: an account or member key's own; an operator key names
 * it (Autumn finds a lock by its id alone, Amisi keeps a key per account).
 */
function lockAccount(request: FastifyRequest, given: string | undefined): string {
  const p = principalOf(request);
  if (p.kind !== 'operator') return accountInScope(request, given ?? p.accountId);
  if (given === undefined) {
    throw invalid(
      'customer_id',
      'with an operator key, finalize names the customer_id of the lock',
    );
  }
  return given;
}

/** Credits of `units` of what the hold reserved: per unit of its operation, or credits. */
function creditsOf(hold: Hold, units: number): number {
  const line = hold.quote?.lines[0];
  return line === undefined ? units : line.unitCredits * units;
}

async function finalize(
  ledger: Ledger,
  request: FastifyRequest,
  body: {
    lock_id: string;
    action: 'confirm' | 'release';
    override_value?: number;
    customer_id?: string;
  },
) {
  const units = body.override_value;
  if (body.action === 'release' && units !== undefined) {
    throw invalid('override_value', 'override_value cannot be given with action release');
  }
  const accountId = lockAccount(request, body.customer_id);
  const made = await ledger.findHoldByKey(accountId, lockKey(body.lock_id));
  if (!made) {
    throw new AmisiError('unknown_hold', `unknown lock "${body.lock_id}"`, {
      lockId: body.lock_id,
    });
  }
  const hold = await holdInScope(request, ledger, made.id);
  const credits = units === undefined ? undefined : creditsOf(hold, units);
  if (body.action === 'release' || credits === 0) {
    return ledger.release({ holdId: hold.id, key: finalizeKey(body.lock_id, body.action) });
  }
  return ledger.capture({
    holdId: hold.id,
    key: finalizeKey(body.lock_id, 'confirm'),
    ...(credits === undefined ? {} : { credits }),
  });
}

export async function autumnRoutes(app: App, deps: Deps): Promise<void> {
  registerCheck(app, deps);
  registerTrack(app, deps);
  registerFinalize(app, deps);
  registerCustomer(app, deps);
}

/** POST /check and its RPC name: authorized as POST /v1/check (with lock or send_event, a spend). */
function registerCheck(app: App, { ledger }: Deps): void {
  for (const path of ['/check', '/balances.check']) {
    app.post(
      `${AUTUMN_PREFIX}${path}`,
      {
        config: { access: 'account', action: 'spend' },
        schema: {
          summary: "Autumn's check: may the customer use the feature now (lock: reserve it)",
          description:
            "POST /v1/check in Autumn's shape. A plain check writes nothing. With lock it is the check with hold (under the key autumn-lock:<lock_id>; finalize names the lock). With send_event it charges when allowed (needs an Idempotency-Key). Not allowed is 200 with allowed false and amisi.blocked_by.",
          tags: ['autumn'],
          headers: OptionalIdempotencyHeaders,
          body: AutumnCheckRequest,
          response: {
            200: ref(AutumnCheckResult),
            ...problems(
              'account',
              true,
              S.account,
              S.attribution,
              L.check,
              L.charge,
              L.balance,
              L.findHoldByKey,
              L.findSubscription,
            ),
          },
        },
      },
      async (request, reply) => {
        const b = request.body;
        const accountId = accountInScope(request, b.customer_id);
        const units = b.required_balance ?? 1;
        const spend = spendOf(request, accountId, b.feature_id, units, b.entity_id);
        const decision = b.lock
          ? await lockCheck(ledger, spend, b.lock)
          : b.send_event
            ? await chargeCheck(ledger, spend, request.headers[IDEMPOTENCY_HEADER])
            : decisionOf(await ledger.check(spend));
        replayed(reply, decision.replay);
        return {
          allowed: decision.allowed,
          customer_id: accountId,
          entity_id: b.entity_id ?? null,
          required_balance: units,
          balance: await balanceOf(ledger, accountId),
          amisi: decision,
        };
      },
    );
  }
}

/** POST /track and its RPC name: a charge, authorized as POST /v1/charges. */
function registerTrack(app: App, { ledger }: Deps): void {
  for (const path of ['/track', '/balances.track']) {
    app.post(
      `${AUTUMN_PREFIX}${path}`,
      {
        config: { access: 'account', action: 'spend' },
        schema: {
          summary: "Autumn's track: record usage (a charge, once per idempotency key)",
          description:
            "POST /v1/charges in Autumn's shape: value units of the feature, charged once per key (the Idempotency-Key header, or Autumn's idempotency_key). A track without a key is refused: the server never makes one up. Not enough credits is the charge's problem.",
          tags: ['autumn'],
          headers: OptionalIdempotencyHeaders,
          body: AutumnTrackRequest,
          response: {
            200: ref(AutumnTrackResult),
            ...problems(
              'account',
              true,
              S.account,
              S.attribution,
              L.charge,
              L.balance,
              L.findSubscription,
            ),
          },
        },
      },
      async (request, reply) => {
        const b = request.body;
        const accountId = accountInScope(request, b.customer_id);
        const featureId = trackedFeature(b.feature_id, b.event_name);
        const key = trackKey(request.headers[IDEMPOTENCY_HEADER], b.idempotency_key);
        const units = b.value ?? 1;
        const spend = spendOf(request, accountId, featureId, units, b.entity_id);
        const c = await ledger.charge({ ...spend, key });
        replayed(reply, c.replay);
        return {
          customer_id: accountId,
          entity_id: b.entity_id ?? null,
          feature_id: featureId,
          value: units,
          balance: await balanceOf(ledger, accountId),
          amisi: { credits: c.credits, transaction_id: c.transactionId, replay: c.replay },
        };
      },
    );
  }
}

function trackedFeature(featureId: string | undefined, eventName: string | undefined): string {
  if ((featureId === undefined) === (eventName === undefined)) {
    throw invalid('feature_id', 'give either feature_id or event_name');
  }
  return (featureId ?? eventName)!;
}

function trackKey(header: string | undefined, body: string | undefined): string {
  if (header !== undefined && body !== undefined && header !== body) {
    throw invalid('idempotency_key', 'the Idempotency-Key header and idempotency_key differ');
  }
  const key = header ?? body;
  if (key === undefined) {
    throw invalid(
      'idempotency_key',
      'track charges: it needs an Idempotency-Key header or an idempotency_key',
    );
  }
  return key;
}

/** POST /balances.finalize: confirm is a capture, release a release, as POST /v1/holds/... */
function registerFinalize(app: App, { ledger }: Deps): void {
  app.post(
    `${AUTUMN_PREFIX}/balances.finalize`,
    {
      config: { access: 'account', action: 'spend' },
      schema: {
        summary:
          "Autumn's finalize: confirm a lock (capture, partly with override_value) or release it",
        description:
          'The lock is the hold made by a check with lock, found by its lock_id. confirm captures it (override_value: the units used, the rest returns), release returns it. Idempotent by lock and action. With an operator key, give customer_id (an Amisi addition).',
        tags: ['autumn'],
        body: AutumnFinalizeRequest,
        response: {
          200: ref(AutumnFinalizeResult),
          ...problems(
            'account',
            true,
            S.account,
            S.hold,
            L.findHoldByKey,
            'unknown_hold',
            L.capture,
            L.release,
          ),
        },
      },
    },
    async (request, reply) => {
      const r = await finalize(ledger, request, request.body);
      replayed(reply, r.replay);
      return { success: true as const, amisi: r };
    },
  );
}

/** GET /customers/:customer_id: the balance and plan, authorized as GET /v1/accounts/:id/balance. */
function registerCustomer(app: App, { ledger }: Deps): void {
  app.get(
    `${AUTUMN_PREFIX}/customers/:customer_id`,
    {
      config: { access: 'account', action: 'read' },
      schema: {
        summary: "Autumn's customer: the account's credits as a balance, its plan as subscriptions",
        tags: ['autumn'],
        params: AutumnCustomerParams,
        querystring: AutumnCustomerQuery,
        response: {
          200: ref(AutumnCustomer),
          ...problems('account', false, S.account, L.getAccount, L.balance, L.findSubscription),
        },
      },
    },
    async (request) => {
      const account = await ledger.getAccount(accountInScope(request, request.params.customer_id));
      const b = await ledger.balance(account.id);
      const sub = await ledger.findSubscription(account.id);
      return {
        id: account.id,
        name: account.name,
        email: null,
        created_at: account.createdAt,
        fingerprint: null,
        stripe_id: null,
        env: account.testClockId === null ? ('live' as const) : ('sandbox' as const),
        metadata: {},
        subscriptions: subscriptionsOf(sub),
        purchases: [],
        balances: { [AUTUMN_CREDITS_FEATURE]: autumnBalance(b, sub) },
      };
    },
  );
}
