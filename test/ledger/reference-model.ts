/**
 * A small reference model of one account's credits, written from the documented rules
 * (shared/PRODUCT.md and the model-test brief), not from src/: plain maps, no journal, no store.
 *
 * It is lazy in the same places the ledger promises to be: grants past their expiry and holds
 * past their ttl are settled only when the account is accessed (a write, a balance, a sweep).
 * The test calls `settle(now)` at exactly those moments, so the model's raw state (grant
 * remaining, open holds) can be compared row for row with the store's.
 *
 * Overdraft (docs/adr/0014-overdraft.md): an account may draw past zero up to the limit in
 * force. What a charge or a capture takes past zero is a debt; what an open hold reserves past
 * zero is held past zero until the hold resolves. A debt is repaid from spendable credits, in
 * spend order, whenever the account is accessed (a write, or a read that settles) and after
 * every write: so once settled, an account owes only while it has nothing spendable.
 *
 * Long holds (docs/adr/0015-long-holds.md): a hold still held can be extended (a new ttl from
 * now, at most 30 days from when it was made), captured in parts (each part consumed at once,
 * past zero: a debt) and increased (more credits by the same spend plan as a hold). A model hold
 * keeps what it still holds as its draws, in the order a capture takes them: a part takes from
 * the front, an increase merges its draws in (grant draws first, the part past zero last).
 */

export type Source = 'allocation' | 'rollover' | 'purchase' | 'promotion' | 'adjustment';

export const SOURCES: readonly Source[] = [
  'allocation',
  'rollover',
  'purchase',
  'promotion',
  'adjustment',
];

/** The documented tie-break among grants that expire together: free credits first, paid last. */
export const SOURCE_RANK: Readonly<Record<Source, number>> = {
  promotion: 0,
  allocation: 1,
  rollover: 2,
  adjustment: 3,
  purchase: 4,
};

export type OverdraftMode = 'hard' | 'soft';

/** The draw of a hold or a charge past zero: always after the grant draws. */
export const OVERDRAFT_DRAW = 'overdraft';

export interface ModelGrant {
  readonly id: string;
  readonly source: Source;
  readonly amount: number;
  remaining: number;
  readonly startsAt: number;
  readonly expiresAt: number | null;
  readonly createdAt: number;
}

export interface ModelDraw {
  readonly grantId: string;
  readonly credits: number;
}

export type ModelHoldStatus = 'held' | 'captured' | 'released' | 'expired';

export interface ModelHold {
  readonly id: string;
  /** Credits reserved over the hold's life: as made, plus increases. */
  credits: number;
  /**
   * What the hold still reserves (sum: credits - captured while held), in the order a capture
   * takes them; a resolved hold keeps what it held just before it resolved.
   */
  draws: readonly ModelDraw[];
  status: ModelHoldStatus;
  /** Captured so far: the parts, then the final capture. */
  captured: number;
  expiresAt: number;
  /** The expiry as made, before any extension (coverage: held past it). */
  readonly firstExpiresAt: number;
  readonly createdAt: number;
  resolvedAt: number | null;
  /** Set when priced by items (the catalog's version); such a hold is increased by items. */
  readonly catalogVersion: string | null;
}

/** The longest a hold may live, from when it was made, whatever its extensions (30 days). */
export const HOLD_LIFETIME_MAX_MS = 30 * 24 * 60 * 60 * 1000;
const HOLD_TTL_MIN_MS = 1000;
const HOLD_TTL_MAX_MS = 7 * 24 * 60 * 60 * 1000;

export interface ItemRequest {
  readonly operation: string;
  readonly params?: Readonly<Record<string, string>>;
  readonly count?: number;
}

export type Amount = { readonly credits: number } | { readonly items: readonly ItemRequest[] };

/** One write as the test sends it; the key is the idempotency key, the rest is "the request". */
export type WriteRequest =
  | {
      readonly op: 'grant';
      readonly key: string;
      readonly credits: number;
      readonly source: Source;
      readonly expiresAt: number | null;
      readonly startsAt?: number;
    }
  | { readonly op: 'hold'; readonly key: string; readonly amount: Amount; readonly ttlMs: number }
  | {
      readonly op: 'capture';
      readonly key: string;
      readonly holdId: string;
      readonly credits?: number;
      /** false: a part (the rest stays held); absent: the final capture. */
      readonly final?: false;
    }
  | { readonly op: 'release'; readonly key: string; readonly holdId: string }
  | { readonly op: 'charge'; readonly key: string; readonly amount: Amount }
  | { readonly op: 'extend'; readonly key: string; readonly holdId: string; readonly ttlMs: number }
  | {
      readonly op: 'increase';
      readonly key: string;
      readonly holdId: string;
      readonly amount: Amount;
    };

/** The writes that name a hold (refused with unknown_hold before anything is loaded). */
export type HoldWrite = Extract<WriteRequest, { holdId: string }>;

export function namesHold(request: WriteRequest): request is HoldWrite {
  return 'holdId' in request;
}

/**
 * The account's own overdraft limit (null: back to its plan's, none here: the model's accounts
 * have no plan). A replace with no idempotency key: the same setting twice is the same state.
 * Bad input is sent as it is (a negative or fractional limit, an unknown mode).
 */
export interface OverdraftRequest {
  readonly op: 'overdraft';
  readonly limit: number | null;
  readonly mode?: string;
}

/** The overdraft as the balance (and setOverdraft's answer) shows it. */
export interface OverdraftView {
  readonly limit: number;
  readonly mode: OverdraftMode;
  readonly from: 'account' | 'none';
  readonly debt: number;
  readonly held: number;
  readonly remaining: number;
}

/** The overdraft columns of the account's row. */
export interface OverdraftRow {
  readonly overdraftLimit: number | null;
  readonly overdraftMode: OverdraftMode | null;
  readonly debt: number;
  readonly overdraftHeld: number;
}

export type Prediction =
  | {
      readonly kind: 'error';
      readonly code: string;
      /** Fields of the error's data that must match (a subset). */
      readonly data: Readonly<Record<string, unknown>>;
    }
  | { readonly kind: 'replay'; readonly key: string }
  | { readonly kind: 'grant'; readonly grant: Readonly<ModelGrant> }
  | { readonly kind: 'hold'; readonly hold: Readonly<ModelHold> }
  | {
      readonly kind: 'resolve';
      readonly hold: Readonly<ModelHold>;
      /** Credits this capture took and this resolution returned. */
      readonly captured: number;
      readonly released: number;
    }
  | {
      /** A hold still held after an extension, a part or an increase. */
      readonly kind: 'change';
      readonly hold: Readonly<ModelHold>;
      /** The result's own fields: capturedCredits and releasedCredits of a part, credits of an increase. */
      readonly result: Readonly<Record<string, number>>;
    }
  | {
      readonly kind: 'charge';
      readonly credits: number;
      readonly draws: readonly ModelDraw[];
      readonly catalogVersion: string | null;
    }
  | { readonly kind: 'overdraft'; readonly view: OverdraftView };

export interface GrantView {
  readonly id: string;
  readonly source: Source;
  readonly amount: number;
  readonly remaining: number;
  readonly held: number;
  readonly startsAt: number;
  readonly expiresAt: number | null;
}

export interface BalanceView {
  readonly available: number;
  readonly held: number;
  readonly grants: readonly GrantView[];
  readonly nextExpiry: { readonly at: number; readonly credits: number } | null;
  readonly overdraft: OverdraftView;
}

export interface TotalsView {
  readonly granted: number;
  readonly consumed: number;
  readonly breakage: number;
  readonly refunded: number;
  readonly held: number;
  readonly available: number;
  readonly overdrawn: number;
}

interface PriceRule {
  readonly param: string | null;
  readonly defaultValue: string | null;
  readonly table: Readonly<Record<string, number>>;
  readonly maxCount: number;
}

/** The default catalog's prices (the seed's image table and the shipped examples). */
export const PRICES: Readonly<Record<string, PriceRule>> = {
  'image.generate': {
    param: 'resolution',
    defaultValue: '1080p',
    table: { '720p': 1, '1080p': 2, '4k': 3, '8k': 4 },
    maxCount: 100,
  },
  'image.upscale': {
    param: 'target',
    defaultValue: '4k',
    table: { '1080p': 1, '4k': 2, '8k': 3 },
    maxCount: 100,
  },
  'image.variations': {
    param: 'resolution',
    defaultValue: '720p',
    table: { '720p': 1, '1080p': 2 },
    maxCount: 16,
  },
  'image.edit': { param: null, defaultValue: null, table: { flat: 1 }, maxCount: 50 },
};

/** JSON with sorted keys: two requests are the same request when this text is equal. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      return Object.fromEntries(
        Object.keys(o)
          .sort()
          .map((k) => [k, o[k]]),
      );
    }
    return v;
  });
}

export function requestIdentity(request: WriteRequest): string {
  const { key: _key, ...rest } = request;
  return stableJson(rest);
}

function isExpired(expiresAt: number | null, now: number): boolean {
  return expiresAt !== null && expiresAt <= now;
}

/** The documented spend order; a total order because ids are unique. */
export function compareSpend(a: ModelGrant, b: ModelGrant): number {
  const ae = a.expiresAt ?? Number.POSITIVE_INFINITY;
  const be = b.expiresAt ?? Number.POSITIVE_INFINITY;
  if (ae !== be) return ae < be ? -1 : 1;
  if (SOURCE_RANK[a.source] !== SOURCE_RANK[b.source]) {
    return SOURCE_RANK[a.source] - SOURCE_RANK[b.source];
  }
  if (a.createdAt !== b.createdAt) return a.createdAt - b.createdAt;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

type Priced =
  { ok: true; credits: number; catalogVersion: string | null } | { ok: false; code: string };

type Spend =
  | { ok: true; draws: ModelDraw[]; overdrawn: number }
  | { ok: false; code: string; data: Record<string, unknown> };

/** The largest credit amount (a limit too) the ledger accepts. */
const MAX_CREDITS = 1_000_000_000_000;

export class ReferenceModel {
  readonly grants = new Map<string, ModelGrant>();
  readonly holds = new Map<string, ModelHold>();
  /** Idempotency: key -> identity of the request that succeeded with it. */
  readonly keys = new Map<string, string>();
  granted = 0;
  consumed = 0;
  breakage = 0;
  /** The account's own overdraft limit and mode; null: none of its own (and no plan here). */
  overdraftLimit: number | null = null;
  overdraftMode: OverdraftMode | null = null;
  /** Credits taken past zero by charges and captures, not yet repaid. */
  debt = 0;
  /** Whether the account ever owed (the test counts how many sequences reach a debt). */
  everOwed = false;
  /** What happened, counted, so the test can show it reached every rule (coverage). */
  readonly events = new Map<string, number>();

  constructor(
    readonly accountId: string,
    readonly catalogVersion: string,
  ) {}

  private note(event: string): void {
    this.events.set(event, (this.events.get(event) ?? 0) + 1);
  }

  private spendable(g: ModelGrant, now: number): boolean {
    return g.remaining > 0 && g.startsAt <= now && !isExpired(g.expiresAt, now);
  }

  /** Whether lazy expiry has something to do at `now`: what the sweep looks for. */
  expiryDue(now: number): boolean {
    for (const h of this.holds.values()) if (h.status === 'held' && h.expiresAt <= now) return true;
    for (const g of this.grants.values())
      if (g.remaining > 0 && isExpired(g.expiresAt, now)) return true;
    return false;
  }

  /**
   * Whether an access at `now` has something to write: lazy expiry, or a debt that credits
   * started since can repay (what the sweep looks for).
   */
  isDue(now: number): boolean {
    return this.expiryDue(now) || (this.debt > 0 && this.available(now) > 0);
  }

  /**
   * Lazy expiry on access: holds past their ttl give their credits back (to breakage when the
   * grant expired meanwhile: a reservation outlives its grant, the credits do not), then
   * expired grants lose what remains to breakage.
   */
  settle(now: number): void {
    for (const h of this.holds.values()) {
      if (h.status !== 'held' || h.expiresAt > now) continue;
      this.giveBack(h.draws, now);
      this.note('hold past its ttl');
      if (h.captured > 0) this.note('long hold: expired after parts, keeping what they took');
      // The expiry is dated when the ttl ended, not when it was noticed.
      h.status = 'expired';
      h.resolvedAt = h.expiresAt;
    }
    for (const g of this.grants.values()) {
      if (g.remaining > 0 && isExpired(g.expiresAt, now)) {
        this.note('grant expired with credits left');
        // Credits that became spendable since the last access (a grant started, a hold gave
        // back) and expire before the next access or sweep: they go to breakage and the debt
        // stays.
        if (this.debt > 0) this.note('overdraft: credits expired unrepaid while a debt was owed');
        this.breakage += g.remaining;
        g.remaining = 0;
      }
    }
    this.repay(now);
  }

  /** Pays the debt from what is spendable, in spend order (a `repayment` transaction). */
  private repay(now: number): void {
    const pay = Math.min(this.debt, this.available(now));
    if (pay === 0) return;
    this.take(this.plan(pay, now)!);
    this.debt -= pay;
    this.note(
      this.debt === 0 ? 'overdraft: debt repaid in full' : 'overdraft: debt repaid in part',
    );
  }

  /** Credits open holds reserve past zero: the overdraft draw of what each still holds. */
  heldPastZero(): number {
    let held = 0;
    for (const h of this.holds.values()) {
      if (h.status !== 'held') continue;
      for (const d of h.draws) if (d.grantId === OVERDRAFT_DRAW) held += d.credits;
    }
    return held;
  }

  /** The limit in force: the account's own, else none (the model's accounts have no plan). */
  overdraftInForce(): { limit: number; mode: OverdraftMode } {
    if (this.overdraftLimit === null) return { limit: 0, mode: 'hard' };
    return { limit: this.overdraftLimit, mode: this.overdraftMode ?? 'hard' };
  }

  overdraftView(): OverdraftView {
    const { limit, mode } = this.overdraftInForce();
    const held = this.heldPastZero();
    return {
      limit,
      mode,
      from: this.overdraftLimit === null ? 'none' : 'account',
      debt: this.debt,
      held,
      remaining: Math.max(0, limit - this.debt - held),
    };
  }

  overdraftRow(): OverdraftRow {
    return {
      overdraftLimit: this.overdraftLimit,
      overdraftMode: this.overdraftMode,
      debt: this.debt,
      overdraftHeld: this.heldPastZero(),
    };
  }

  /** Draws given back: to their grants (breakage if expired); the part past zero to nothing. */
  private giveBack(draws: readonly ModelDraw[], now: number): void {
    for (const d of draws) {
      if (d.grantId === OVERDRAFT_DRAW) {
        this.note('overdraft: held past zero given back');
        continue;
      }
      const g = this.grants.get(d.grantId);
      if (!g) throw new Error(`model: unknown grant ${d.grantId}`);
      if (isExpired(g.expiresAt, now)) {
        this.note('held credits of an expired grant to breakage');
        this.breakage += d.credits;
      } else g.remaining += d.credits;
    }
  }

  available(now: number): number {
    let total = 0;
    for (const g of this.grants.values()) if (this.spendable(g, now)) total += g.remaining;
    return total;
  }

  private plan(credits: number, now: number): ModelDraw[] | null {
    const order = [...this.grants.values()]
      .filter((g) => this.spendable(g, now))
      .sort(compareSpend);
    const draws: ModelDraw[] = [];
    let left = credits;
    for (const g of order) {
      if (left === 0) break;
      const take = Math.min(left, g.remaining);
      draws.push({ grantId: g.id, credits: take });
      left -= take;
    }
    if (left === 0) this.noteTieBreaks(order.slice(0, draws.length + 1));
    return left === 0 ? draws : null;
  }

  /** Which rule of the spend order decided between neighbours that mattered to a draw. */
  private noteTieBreaks(order: readonly ModelGrant[]): void {
    for (let i = 1; i < order.length; i++) {
      const a = order[i - 1]!;
      const b = order[i]!;
      if (a.expiresAt !== b.expiresAt) {
        this.note(
          b.expiresAt === null ? 'spend order: never-expiring last' : 'spend order: expiry',
        );
      } else if (a.source !== b.source) this.note('spend order: source rank');
      else if (a.createdAt !== b.createdAt) this.note('spend order: createdAt');
      else this.note('spend order: id');
    }
  }

  private price(amount: Amount): Priced {
    if ('credits' in amount) return { ok: true, credits: amount.credits, catalogVersion: null };
    let credits = 0;
    for (const item of amount.items) {
      const rule = PRICES[item.operation];
      if (!rule) return { ok: false, code: 'unknown_operation' };
      const count = item.count ?? 1;
      if (!Number.isSafeInteger(count) || count < 1 || count > rule.maxCount) {
        return { ok: false, code: 'invalid_parameter' };
      }
      const given = Object.entries(item.params ?? {});
      if (given.some(([name]) => name !== rule.param))
        return { ok: false, code: 'invalid_parameter' };
      let unit: number | undefined;
      if (rule.param === null) unit = rule.table.flat;
      else unit = rule.table[item.params?.[rule.param] ?? rule.defaultValue ?? ''];
      if (unit === undefined) return { ok: false, code: 'invalid_parameter' };
      credits += unit * count;
    }
    return { ok: true, credits, catalogVersion: this.catalogVersion };
  }

  private take(draws: readonly ModelDraw[]): void {
    for (const d of draws)
      if (d.grantId !== OVERDRAFT_DRAW) this.grants.get(d.grantId)!.remaining -= d.credits;
  }

  /**
   * A hold's or a charge's draws: the spendable grants in spend order, then the shortfall past
   * zero if the limit in force has room for it (a soft limit always has). Refused past a hard
   * limit: overdraft_limit_reached with a limit, insufficient_credits without one.
   */
  private planSpend(credits: number, now: number): Spend {
    const available = this.available(now);
    if (credits <= available) return { ok: true, draws: this.plan(credits, now)!, overdrawn: 0 };
    const { limit, mode } = this.overdraftInForce();
    const held = this.heldPastZero();
    const room = mode === 'soft' ? Number.POSITIVE_INFINITY : Math.max(0, limit - this.debt - held);
    const overdrawn = credits - available;
    if (overdrawn > room) {
      const limited = limit > 0;
      if (limited) this.note('overdraft: refused past a hard limit');
      return {
        ok: false,
        code: limited ? 'overdraft_limit_reached' : 'insufficient_credits',
        data: {
          accountId: this.accountId,
          required: credits,
          available,
          overdraft: limited ? { limit, debt: this.debt, held, remaining: room } : undefined,
        },
      };
    }
    if (overdrawn === room) this.note('overdraft: a hard limit used to the last credit');
    if (mode === 'soft' && this.debt + held + overdrawn > limit)
      this.note('overdraft: past a soft limit');
    if (available > 0) this.note('overdraft: credits first, then past zero');
    const draws = available > 0 ? this.plan(available, now)! : [];
    return {
      ok: true,
      draws: [...draws, { grantId: OVERDRAFT_DRAW, credits: overdrawn }],
      overdrawn,
    };
  }

  /**
   * Predicts one write at `now` and applies it to the model. `newId` names the grant or hold
   * the write creates (the ledger picks ids; the model only needs them to be unique and, for
   * the spend order's last tie-break, comparable). `settle` is false for the second and later
   * writes of one group commit: the ledger settles an account once per batch, on first access.
   * That only shows in the raw rows; outcomes never depend on it, since an expired grant is
   * never spendable and returns to it go to breakage either way.
   */
  write(request: WriteRequest, now: number, newId: string, settle = true): Prediction {
    const bad = badInput(request);
    if (bad) return bad;
    if (namesHold(request) && !this.holds.has(request.holdId)) {
      // Refused before the account is even loaded: no lazy expiry either.
      return error('unknown_hold', { holdId: request.holdId });
    }
    if (settle) this.settle(now);
    if (namesHold(request)) {
      const h = this.holds.get(request.holdId)!;
      if (h.status === 'held' && now >= h.firstExpiresAt)
        this.note('long hold: held past its first ttl');
    }
    const identity = requestIdentity(request);
    const seen = this.keys.get(request.key);
    if (seen !== undefined) {
      if (seen === identity) return { kind: 'replay', key: request.key };
      return error('idempotency_key_reused', { key: request.key, accountId: this.accountId });
    }
    const prediction = this.fresh(request, now, newId);
    if (prediction.kind !== 'error') {
      this.keys.set(request.key, identity);
      // After every command: a debt is paid from new credits before anything can spend them.
      this.repay(now);
      if (this.debt > 0) this.everOwed = true;
    }
    return prediction;
  }

  /**
   * Predicts setOverdraft at `now` and applies it. Bad input is refused before anything is
   * loaded; otherwise the account is settled (`settle`: as for write) and the limit that would
   * be in force may not be below what is used past zero (debt plus held past zero).
   */
  setOverdraft(request: OverdraftRequest, now: number, settle = true): Prediction {
    const { limit, mode } = request;
    if (limit !== null && limit !== 0) {
      if (!Number.isSafeInteger(limit) || limit < 0 || limit > MAX_CREDITS)
        return error('invalid_credits', { field: 'limit', value: limit });
    }
    if (mode !== undefined && mode !== 'hard' && mode !== 'soft')
      return error('invalid_argument', { field: 'mode', value: mode });
    if (settle) this.settle(now);
    const inForce = limit ?? 0;
    const held = this.heldPastZero();
    if (inForce < this.debt + held) {
      return error('overdraft_below_used', { limit: inForce, debt: this.debt, held });
    }
    if (limit !== null && limit === this.debt + held && limit > 0)
      this.note('overdraft: a limit set to exactly what is used');
    this.overdraftLimit = limit;
    this.overdraftMode = limit === null ? null : (mode ?? 'hard');
    return { kind: 'overdraft', view: this.overdraftView() };
  }

  private fresh(request: WriteRequest, now: number, newId: string): Prediction {
    switch (request.op) {
      case 'grant': {
        const startsAt = request.startsAt ?? now;
        if (request.expiresAt !== null && request.expiresAt <= Math.max(startsAt, now)) {
          return error('invalid_argument', { field: 'expires' });
        }
        const g: ModelGrant = {
          id: newId,
          source: request.source,
          amount: request.credits,
          remaining: request.credits,
          startsAt,
          expiresAt: request.expiresAt,
          createdAt: now,
        };
        this.grants.set(g.id, g);
        this.granted += g.amount;
        return { kind: 'grant', grant: { ...g } };
      }
      case 'hold':
      case 'charge': {
        const priced = this.price(request.amount);
        if (!priced.ok) return error(priced.code, {});
        const spend = this.planSpend(priced.credits, now);
        if (!spend.ok) return error(spend.code, spend.data);
        const { draws, overdrawn } = spend;
        this.take(draws);
        if (overdrawn > 0) this.note(`overdraft: ${request.op} past zero`);
        if (request.op === 'charge') {
          this.consumed += priced.credits;
          this.debt += overdrawn;
          return {
            kind: 'charge',
            credits: priced.credits,
            draws,
            catalogVersion: priced.catalogVersion,
          };
        }
        const h: ModelHold = {
          id: newId,
          credits: priced.credits,
          draws,
          status: 'held',
          captured: 0,
          expiresAt: now + request.ttlMs,
          firstExpiresAt: now + request.ttlMs,
          createdAt: now,
          resolvedAt: null,
          catalogVersion: priced.catalogVersion,
        };
        this.holds.set(h.id, h);
        return { kind: 'hold', hold: { ...h } };
      }
      case 'capture':
      case 'release':
        return this.resolve(request, now);
      case 'extend':
        return this.extend(request, now);
      case 'increase':
        return this.increase(request, now);
    }
  }

  /** The hold a write names, or the refusal of a hold resolved already. */
  private heldHold(holdId: string): ModelHold | Prediction {
    const h = this.holds.get(holdId)!;
    if (h.status === 'held') return h;
    const code =
      h.status === 'captured'
        ? 'hold_already_captured'
        : h.status === 'released'
          ? 'hold_already_released'
          : 'hold_expired';
    return error(code, { holdId: h.id, status: h.status });
  }

  /**
   * Capture (all it still holds unless credits say less), a part (final: false, less than it
   * still holds: the rest stays held) or a release. Captured credits come from the front of
   * what the hold still holds; at the final capture or release the rest of each draw goes back
   * to its grant, or to breakage if that grant has expired meanwhile. What is captured past
   * zero becomes a debt.
   */
  private resolve(
    request: Extract<WriteRequest, { op: 'capture' | 'release' }>,
    now: number,
  ): Prediction {
    const h = this.heldHold(request.holdId);
    if ('kind' in h) return h;
    const held = h.credits - h.captured;
    const captured = request.op === 'release' ? 0 : (request.credits ?? held);
    if (captured > held) {
      return error('capture_exceeds_hold', { holdId: h.id, held, requested: captured });
    }
    const part = request.op === 'capture' && request.final === false;
    const { consumed, returned } = splitDraws(h.draws, captured);
    const overdrawn = consumed.find((d) => d.grantId === OVERDRAFT_DRAW)?.credits ?? 0;
    if (overdrawn > 0) {
      this.note('overdraft: captured past zero into debt');
      if (part && captured < held) this.note('long hold: a part captured past zero into debt');
      this.debt += overdrawn;
    }
    this.consumed += captured;
    const before = h.captured;
    h.captured += captured;
    if (part && captured < held) {
      h.draws = returned;
      this.note(before > 0 ? 'long hold: another part' : 'long hold: a first part');
      return {
        kind: 'change',
        hold: { ...h },
        result: { capturedCredits: captured, releasedCredits: 0 },
      };
    }
    if (part) this.note('long hold: a part that takes all still held is the final capture');
    if (before > 0) {
      this.note(
        request.op === 'release'
          ? 'long hold: released after parts'
          : 'long hold: final capture after parts',
      );
    }
    this.giveBack(returned, now);
    h.status = request.op === 'release' ? 'released' : 'captured';
    h.resolvedAt = now;
    return { kind: 'resolve', hold: { ...h }, captured, released: held - captured };
  }

  /** A new ttl from now, refused past HOLD_LIFETIME_MAX_MS from when the hold was made. */
  private extend(request: Extract<WriteRequest, { op: 'extend' }>, now: number): Prediction {
    const h = this.heldHold(request.holdId);
    if ('kind' in h) return h;
    const expiresAt = now + request.ttlMs;
    const latest = h.createdAt + HOLD_LIFETIME_MAX_MS;
    if (expiresAt > latest) {
      return error('hold_lifetime_exceeded', {
        holdId: h.id,
        createdAt: h.createdAt,
        latest,
        requested: expiresAt,
      });
    }
    if (expiresAt === latest) this.note('long hold: extended to the last moment of its lifetime');
    if (expiresAt < h.expiresAt) this.note('long hold: extension shortens the ttl');
    h.expiresAt = expiresAt;
    return { kind: 'change', hold: { ...h }, result: {} };
  }

  /**
   * More credits on the hold, all or nothing, by the same spend plan as a hold: a hold of
   * plain credits by credits, a hold priced by items by items.
   */
  private increase(request: Extract<WriteRequest, { op: 'increase' }>, now: number): Prediction {
    const h = this.heldHold(request.holdId);
    if ('kind' in h) return h;
    const byItems = !('credits' in request.amount);
    if (byItems !== (h.catalogVersion !== null)) {
      return error('invalid_argument', {
        field: h.catalogVersion === null ? 'credits' : 'items',
        holdId: h.id,
      });
    }
    const priced = this.price(request.amount);
    if (!priced.ok) return error(priced.code, {});
    const spend = this.planSpend(priced.credits, now);
    if (!spend.ok) {
      this.note(`long hold: increase refused (${spend.code})`);
      return error(spend.code, spend.data);
    }
    this.take(spend.draws);
    if (spend.overdrawn > 0) this.note('overdraft: increase past zero');
    const pastZero = h.draws.some((d) => d.grantId === OVERDRAFT_DRAW);
    if (pastZero && spend.draws.some((d) => d.grantId !== OVERDRAFT_DRAW))
      this.note('long hold: increase draws grants ahead of the part past zero');
    if (spend.draws.some((d) => h.draws.some((e) => e.grantId === d.grantId)))
      this.note('long hold: increase merged into a draw it holds');
    if (h.captured > 0) this.note('long hold: increased after parts');
    h.credits += priced.credits;
    h.draws = addDraws(h.draws, spend.draws);
    return { kind: 'change', hold: { ...h }, result: { credits: priced.credits } };
  }

  /** What ledger.balance() should answer once the account is settled at `now`. */
  balance(now: number): BalanceView {
    const heldByGrant = new Map<string, number>();
    let held = 0;
    for (const h of this.holds.values()) {
      if (h.status !== 'held') continue;
      held += h.credits - h.captured;
      for (const d of h.draws)
        heldByGrant.set(d.grantId, (heldByGrant.get(d.grantId) ?? 0) + d.credits);
    }
    const grants: GrantView[] = [];
    let nextExpiry: { at: number; credits: number } | null = null;
    for (const g of this.grants.values()) {
      const onHold = heldByGrant.get(g.id) ?? 0;
      if (g.remaining === 0 && onHold === 0) continue;
      grants.push({
        id: g.id,
        source: g.source,
        amount: g.amount,
        remaining: g.remaining,
        held: onHold,
        startsAt: g.startsAt,
        expiresAt: g.expiresAt,
      });
      if (!this.spendable(g, now) || g.expiresAt === null) continue;
      if (nextExpiry === null || g.expiresAt < nextExpiry.at)
        nextExpiry = { at: g.expiresAt, credits: 0 };
      if (g.expiresAt === nextExpiry.at) nextExpiry.credits += g.remaining;
    }
    grants.sort((a, b) => (a.id < b.id ? -1 : 1));
    // Less what is owed: negative only in debt.
    return {
      available: this.available(now) - this.debt,
      held,
      grants,
      nextExpiry,
      overdraft: this.overdraftView(),
    };
  }

  /** The journal's totals as verify recomputes them (raw: nothing settled here). */
  totals(): TotalsView {
    let held = 0;
    for (const h of this.holds.values()) if (h.status === 'held') held += h.credits - h.captured;
    let available = 0;
    for (const g of this.grants.values()) available += g.remaining;
    return {
      granted: this.granted,
      consumed: this.consumed,
      breakage: this.breakage,
      refunded: 0,
      held,
      available,
      overdrawn: this.debt + this.heldPastZero(),
    };
  }

  /** The next moment something starts or expires, after `now`; null when nothing will. */
  nextEvent(now: number): number | null {
    let next: number | null = null;
    const consider = (t: number | null) => {
      if (t !== null && t > now && (next === null || t < next)) next = t;
    };
    for (const h of this.holds.values()) if (h.status === 'held') consider(h.expiresAt);
    for (const g of this.grants.values()) {
      if (g.remaining > 0 || this.isReserved(g.id)) consider(g.expiresAt);
      if (g.remaining > 0) consider(g.startsAt);
    }
    return next;
  }

  private isReserved(grantId: string): boolean {
    for (const h of this.holds.values()) {
      if (h.status === 'held' && h.draws.some((d) => d.grantId === grantId)) return true;
    }
    return false;
  }
}

/** `credits` taken from the front of a hold's draws, and what is left of them, in order. */
function splitDraws(
  draws: readonly ModelDraw[],
  credits: number,
): { consumed: ModelDraw[]; returned: ModelDraw[] } {
  let left = credits;
  const consumed: ModelDraw[] = [];
  const returned: ModelDraw[] = [];
  for (const d of draws) {
    const take = Math.min(left, d.credits);
    left -= take;
    if (take > 0) consumed.push({ grantId: d.grantId, credits: take });
    if (d.credits > take) returned.push({ grantId: d.grantId, credits: d.credits - take });
  }
  return { consumed, returned };
}

/**
 * An increase's draws merged into what a hold holds: one draw per grant, in the order each
 * grant first came, the part past zero last (so a capture takes grants first).
 */
function addDraws(draws: readonly ModelDraw[], more: readonly ModelDraw[]): ModelDraw[] {
  const merged: ModelDraw[] = [];
  for (const d of [...draws, ...more]) {
    const i = merged.findIndex((m) => m.grantId === d.grantId);
    if (i < 0) merged.push(d);
    else merged[i] = { grantId: d.grantId, credits: merged[i]!.credits + d.credits };
  }
  return [
    ...merged.filter((d) => d.grantId !== OVERDRAFT_DRAW),
    ...merged.filter((d) => d.grantId === OVERDRAFT_DRAW),
  ];
}

/** Bad input, refused with the input, before the account (or the hold) is looked up. */
function badInput(request: WriteRequest): Prediction | null {
  if (request.op === 'capture') {
    if (request.final === false && (request.credits === undefined || request.credits === 0)) {
      // A part names what it takes, at least 1.
      return error('invalid_argument', { field: 'credits', value: request.credits ?? null });
    }
    // A capture of nothing is a release.
    if (request.credits === 0) return error('invalid_credits', { field: 'credits', value: 0 });
  }
  if (request.op === 'extend') {
    const ttl = request.ttlMs;
    if (!Number.isSafeInteger(ttl) || ttl < HOLD_TTL_MIN_MS || ttl > HOLD_TTL_MAX_MS)
      return error('invalid_argument', { field: 'ttl', value: ttl });
  }
  return null;
}

function error(code: string, data: Record<string, unknown>): Prediction {
  return { kind: 'error', code, data };
}
