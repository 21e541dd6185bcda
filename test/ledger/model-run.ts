/**
 * Model-based property test of the ledger (STYLE.md, "Tests"): fast-check generates sequences
 * of grants, holds, captures, releases, charges, overdraft settings, long-hold writes (hold
 * extensions, partial captures, hold increases, and long jobs that keep a hold alive for weeks
 * and bill it in parts), clock moves, sweeps, replays and reused keys; each command runs against the real Ledger and against the reference
 * model (reference-model.ts), and after each command the outcome, the raw rows (grants, open
 * holds, the account's overdraft), the balance and the journal totals must agree.
 *
 * This module holds the whole test; each store runs it from its own file, so the test runner
 * runs the stores in parallel: model.test.ts (SQLite) and model-postgres.test.ts (PostgreSQL).
 * Both run the same sequences: NUM_RUNS of them, generated from the same fixed seed.
 *
 * One store and one ledger serve every sequence of a shard; each sequence gets a fresh account,
 * which isolates its state (two in three open with an overdraft limit: openingArb). The fake
 * clock only moves forward, so every time is relative to "now". SQLite runs as one shard in the
 * test's thread; PostgreSQL, where a command costs a few dozen round trips, shares the
 * sequences between worker threads (model-worker.ts), each with its own database (see Shard).
 *
 * Reproduce a failure with the seed and path printed in the failure message, which also names
 * the store and the test file to run:
 *   AMISI_PROPERTY_SEED=<seed> AMISI_PROPERTY_PATH=<path> AMISI_PROPERTY_REPLAY_PATH=<replayPath> \
 *     node scripts/run-tests.mjs ledger/model.test        (SQLite)
 *     node scripts/run-tests.mjs ledger/model-postgres    (PostgreSQL)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import * as fc from 'fast-check';
import { isAmisiError } from '../../src/core/errors.js';
import { Ledger } from '../../src/ledger/ledger.js';
import { FakeClock } from '../../src/ledger/ports.js';
import { checkAccount, verify } from '../../src/ledger/verify.js';
import type { Store } from '../../src/ledger/store.js';
import { defaultCatalog } from '../helpers.js';
import { openModelStore, type ModelStore, type ModelStoreName } from './model-stores.js';
import {
  HOLD_LIFETIME_MAX_MS,
  namesHold,
  ReferenceModel,
  SOURCES,
  type Amount,
  type ModelHold,
  type ItemRequest,
  type OverdraftRequest,
  type Prediction,
  type Source,
  type WriteRequest,
} from './reference-model.js';

const DEFAULT_SEED = 0x5eed_2026;
const SEED = envInt('AMISI_PROPERTY_SEED') ?? DEFAULT_SEED;
/** Sequences per run; the default is the floor the issue asks for. */
const NUM_RUNS = envInt('AMISI_PROPERTY_RUNS') ?? 10_000;
const PATH = process.env.AMISI_PROPERTY_PATH;
const REPLAY_PATH = process.env.AMISI_PROPERTY_REPLAY_PATH;
const MAX_COMMANDS = 30;

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function envInt(name: string): number | undefined {
  const text = process.env[name];
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be an integer, got ${text}`);
  return value;
}

// ---------------------------------------------------------------------------------------------
// The system under test and the per-sequence context

interface Env {
  readonly ledger: Ledger;
  readonly store: Store;
  readonly clock: FakeClock;
  readonly catalogVersion: string;
  sequences: number;
  close(): Promise<void>;
}

async function openEnv(open: () => Promise<ModelStore>): Promise<Env> {
  const opened = await open();
  const store = opened.store;
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const ledger = new Ledger({ store, clock });
  const { catalog } = await ledger.loadCatalog(defaultCatalog());
  return {
    ledger,
    store,
    clock,
    catalogVersion: catalog.version,
    sequences: 0,
    async close() {
      // The ledger waits for its committer; the opener closes the store and removes it.
      await ledger.idle();
      await opened.close();
    },
  };
}

interface Real {
  readonly ledger: Ledger;
  readonly store: Store;
  readonly clock: FakeClock;
  readonly accountId: string;
}

interface Written {
  readonly request: WriteRequest;
  /** The ledger's answer the first time: what every replay must answer again. */
  readonly result: unknown;
}

/** fast-check's "model": the reference model plus what the test remembers about the run. */
interface Ctx {
  readonly ref: ReferenceModel;
  readonly startedAt: number;
  readonly written: Written[];
  readonly byKey: Map<string, Written>;
  nextKey: number;
  /** Journal transactions of the account after the previous command. */
  transactions: number;
}

async function startSequence(env: Env): Promise<{ model: Ctx; real: Real }> {
  env.sequences += 1;
  const accountId = `model-${env.sequences}`;
  await env.ledger.createAccount({ accountId });
  const model: Ctx = {
    ref: new ReferenceModel(accountId, env.catalogVersion),
    startedAt: env.clock.now(),
    written: [],
    byKey: new Map(),
    nextKey: 1,
    transactions: 0,
  };
  return { model, real: { ledger: env.ledger, store: env.store, clock: env.clock, accountId } };
}

type Cmd = fc.AsyncCommand<Ctx, Real>;

/** How often each outcome happened over the run: the test checks that it reached them all. */
const coverage = new Map<string, number>();
function seen(what: string): void {
  coverage.set(what, (coverage.get(what) ?? 0) + 1);
}

// ---------------------------------------------------------------------------------------------
// Sending a write and comparing the answer with the model's prediction

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** What a command sends: a keyed write, or an unkeyed setting (setOverdraft). */
type Request = WriteRequest | OverdraftRequest;

function isKeyed(r: Request): r is WriteRequest {
  return r.op !== 'overdraft';
}

function send(real: Real, r: Request): Promise<unknown> {
  const { ledger, accountId } = real;
  switch (r.op) {
    case 'grant':
      return ledger.grant({
        accountId,
        key: r.key,
        credits: r.credits,
        source: r.source,
        expiresAt: r.expiresAt,
        ...(r.startsAt === undefined ? {} : { startsAt: r.startsAt }),
      });
    case 'hold':
      return ledger.hold({ accountId, key: r.key, ttlMs: r.ttlMs, ...r.amount });
    case 'capture':
      return ledger.capture({
        holdId: r.holdId,
        key: r.key,
        ...(r.credits === undefined ? {} : { credits: r.credits }),
        ...(r.final === undefined ? {} : { final: r.final }),
      });
    case 'extend':
      return ledger.extendHold({ holdId: r.holdId, key: r.key, ttlMs: r.ttlMs });
    case 'increase':
      return ledger.increaseHold({ holdId: r.holdId, key: r.key, ...r.amount });
    case 'release':
      return ledger.release({ holdId: r.holdId, key: r.key });
    case 'charge':
      return ledger.charge({ accountId, key: r.key, ...r.amount });
    case 'overdraft':
      return ledger.setOverdraft({
        accountId,
        limit: r.limit,
        ...(r.mode === undefined ? {} : { mode: r.mode }),
      });
  }
}

async function attempt(run: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: true, value: await run() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** The id of the grant or hold a fresh write created, as the ledger named it. */
function createdId(request: Request, outcome: Outcome): string {
  if (outcome.ok && (request.op === 'grant' || request.op === 'hold')) {
    const v = outcome.value as { grant?: { id?: unknown }; hold?: { id?: unknown } };
    const id = request.op === 'grant' ? v.grant?.id : v.hold?.id;
    if (typeof id === 'string') return id;
  }
  return isKeyed(request) ? `none-${request.key}` : 'none';
}

function json(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (v instanceof Error ? v.message : v));
}

function showOutcome(o: Outcome): string {
  if (o.ok) return `ok ${json(o.value)}`;
  if (isAmisiError(o.error))
    return `error ${o.error.code} ${json(o.error.data)}: ${o.error.message}`;
  return `thrown ${o.error instanceof Error ? (o.error.stack ?? o.error.message) : String(o.error)}`;
}

/**
 * `exact` is false inside a burst, where setOverdraft's answer (the balance's overdraft, read
 * after its commit) may already show the burst's later writes: there only its success counts.
 */
function compareOutcome(
  ctx: Ctx,
  real: Real,
  p: Prediction,
  o: Outcome,
  where: string,
  exact: boolean,
): void {
  if (p.kind === 'error') {
    const got = o.ok ? undefined : o.error;
    assert.ok(isAmisiError(got), `${where}: expected ${p.code}, got ${showOutcome(o)}`);
    assert.equal(got.code, p.code, `${where}: expected ${p.code}, got ${showOutcome(o)}`);
    for (const [k, v] of Object.entries(p.data)) {
      assert.deepEqual(got.data[k], v, `${where}: ${p.code} data.${k}`);
    }
    return;
  }
  assert.ok(o.ok, `${where}: expected ${p.kind}, got ${showOutcome(o)}`);
  const v = o.value as Record<string, unknown> & { replay?: unknown };
  if (p.kind === 'overdraft') {
    if (exact) assert.deepEqual(v, p.view, `${where}: the overdraft as set`);
    return;
  }
  if (p.kind === 'replay') {
    const original = ctx.byKey.get(p.key);
    assert.ok(original, `${where}: the test remembers key ${p.key}`);
    const expected = { ...(JSON.parse(JSON.stringify(original.result)) as object), replay: true };
    assert.deepEqual(v, expected, `${where}: a replay answers the original result`);
    return;
  }
  assert.equal(v.replay, false, `${where}: a fresh write is no replay`);
  switch (p.kind) {
    case 'grant':
      assert.deepEqual(v.grant, { accountId: real.accountId, ...p.grant }, `${where}: grant`);
      return;
    case 'hold':
      assert.deepEqual(
        holdView(v.hold),
        modelHoldView(p.hold),
        `${where}: hold (draws in spend order)`,
      );
      return;
    case 'change':
      // An extension, a part or an increase: the hold as it stands after it (what it still
      // holds, in the order a capture takes it), and the result's own figures.
      assert.deepEqual(
        { hold: holdView(v.hold), ...pick(v, Object.keys(p.result)) },
        { hold: modelHoldView(p.hold), ...p.result },
        `${where}: the hold as changed`,
      );
      return;
    case 'resolve': {
      const h = v.hold as Record<string, unknown>;
      assert.deepEqual(
        {
          id: h.id,
          status: h.status,
          capturedCredits: h.capturedCredits,
          draws: h.draws,
          resolvedAt: h.resolvedAt,
          captured: v.capturedCredits,
          released: v.releasedCredits,
        },
        {
          id: p.hold.id,
          status: p.hold.status,
          // Over the hold's life: the parts and this capture.
          capturedCredits: p.hold.captured,
          // What it held just before it resolved.
          draws: p.hold.draws,
          resolvedAt: p.hold.resolvedAt,
          captured: p.captured,
          released: p.released,
        },
        `${where}: resolution`,
      );
      return;
    }
    case 'charge':
      assert.deepEqual(
        pick(v, ['credits', 'draws', 'catalogVersion', 'createdAt']),
        {
          credits: p.credits,
          draws: p.draws,
          catalogVersion: p.catalogVersion,
          createdAt: real.clock.now(),
        },
        `${where}: charge (draws in spend order)`,
      );
      return;
  }
}

const HOLD_ROW_FIELDS = [
  'id',
  'status',
  'credits',
  'capturedCredits',
  'draws',
  'expiresAt',
  'resolvedAt',
] as const;

const HOLD_FIELDS = [
  'id',
  'status',
  'credits',
  'draws',
  'expiresAt',
  'createdAt',
  'resolvedAt',
  'catalogVersion',
] as const;

/** A hold as an answer shows it, in the terms of the model. */
function holdView(hold: unknown): Record<string, unknown> {
  const h = hold as Record<string, unknown> & { quote: { credits: number } | null };
  return {
    ...pick(h, HOLD_FIELDS),
    capturedCredits: h.capturedCredits,
    quoted: h.quote?.credits ?? null,
  };
}

function modelHoldView(h: Readonly<ModelHold>): Record<string, unknown> {
  return {
    ...pick(h, HOLD_FIELDS),
    capturedCredits: h.captured,
    // A hold priced by items keeps its quote, increases' lines included.
    quoted: h.catalogVersion === null ? null : h.credits,
  };
}

const OVERDRAFT_FIELDS = ['overdraftLimit', 'overdraftMode', 'debt', 'overdraftHeld'] as const;

function pick(o: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, o[k]]));
}

/** verify negates the issued book, so an account with no grant reports granted -0. */
function noNegativeZero<T extends object>(totals: T): T {
  return Object.fromEntries(Object.entries(totals).map(([k, v]) => [k, v === 0 ? 0 : v])) as T;
}

function byId<T extends { id: string }>(a: T, b: T): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Rows as stored (no lazy expiry on this path), then, unless `settle` is false, the balance
 * (which settles whatever is due), then the journal as verify recomputes it.
 */
async function compareState(ctx: Ctx, real: Real, where: string, settle: boolean): Promise<void> {
  const { ref } = ctx;
  const now = real.clock.now();
  const grants = await real.store.find(
    'grants',
    { accountId: real.accountId },
    { order: ['createdAt desc', 'id desc'] },
  );
  assert.deepEqual(
    grants.map(({ accountId: _a, ...g }) => g).sort(byId),
    [...ref.grants.values()].map((g) => ({ ...g })).sort(byId),
    `${where}: grant rows (id, source, amount, remaining, times)`,
  );
  const holds = await real.store.find(
    'holds',
    { accountId: real.accountId },
    { order: ['expiresAt', 'id'] },
  );
  const row = (h: Readonly<Record<string, unknown>>) => pick(h, HOLD_ROW_FIELDS);
  assert.deepEqual(
    holds
      .map((h) => ({ ...h }))
      .sort(byId)
      .map(row),
    [...ref.holds.values()]
      .map((h) => ({ ...h, capturedCredits: h.captured }))
      .sort(byId)
      .map(row),
    `${where}: hold rows (status, credits, captured, what each still holds, times)`,
  );
  if (settle) {
    if (ref.isDue(now)) seen('lazy expiry on balance');
    const balance = await real.ledger.balance(real.accountId);
    ref.settle(now);
    assert.equal(balance.asOf, now, `${where}: balance asOf`);
    assert.deepEqual(
      {
        available: balance.available,
        held: balance.held,
        // rollsOver is an outlook of the next renewal (core/rollover-outlook.ts, tested by
        // test/core/rollover-outlook.test.ts), not part of the ledger's state: the reference
        // model checks what each grant holds, not what a renewal will keep.
        grants: [...balance.grants].map(({ rollsOver: _outlook, ...g }) => g).sort(byId),
        nextExpiry: balance.nextExpiry,
        overdraft: balance.overdraft,
      },
      ref.balance(now),
      `${where}: balance`,
    );
  }
  const account = await real.store.get('accounts', { id: real.accountId });
  assert.ok(account, `${where}: the account row`);
  assert.deepEqual(
    pick(account as unknown as Record<string, unknown>, OVERDRAFT_FIELDS),
    ref.overdraftRow(),
    `${where}: the account's overdraft (limit, mode, debt, held past zero)`,
  );
  const audit = await real.store.accountAudit(real.accountId);
  const { violations, totals } = checkAccount(real.accountId, audit);
  assert.deepEqual(violations, [], `${where}: checkAccount`);
  assert.deepEqual(noNegativeZero(totals), ref.totals(), `${where}: journal totals`);
  ctx.transactions = audit.transactionCount;
}

/** Predicts one write with the model, checks the ledger's answer, remembers what succeeded. */
function judge(
  ctx: Ctx,
  real: Real,
  request: Request,
  outcome: Outcome,
  where: string,
  firstInBatch = true,
  exact = true,
) {
  const now = real.clock.now();
  const prediction = isKeyed(request)
    ? ctx.ref.write(request, now, createdId(request, outcome), firstInBatch)
    : ctx.ref.setOverdraft(request, now, firstInBatch);
  compareOutcome(ctx, real, prediction, outcome, where, exact);
  const op = writeLabel(request);
  if (prediction.kind === 'error') {
    seen(prediction.code);
    seen(`${op}:${prediction.code}`);
  } else seen(`${op}:${prediction.kind}`);
  if (isKeyed(request) && prediction.kind !== 'error' && prediction.kind !== 'replay') {
    const written = { request, result: outcome.ok ? outcome.value : undefined };
    ctx.written.push(written);
    ctx.byKey.set(request.key, written);
  }
  return prediction.kind;
}

/** What the coverage calls a write: its op, a partial capture "part". */
function writeLabel(r: Request): string {
  return r.op === 'capture' && r.final === false ? 'part' : r.op;
}

/** Refusals of bad input (and of an unknown hold), which come before the account is loaded. */
function refusedBeforeLoad(request: Request, outcome: Outcome): boolean {
  if (outcome.ok) return false;
  const code = (outcome.error as { code?: string }).code;
  if (code === 'invalid_credits') return true;
  if (code === 'unknown_hold') return isKeyed(request) && namesHold(request);
  // A setting's bad mode, a part naming no credits, a ttl out of bounds: checked with the
  // input. (An increase by the wrong kind of amount, or a grant's expiry, needs the account.)
  if (code === 'invalid_argument')
    return request.op === 'overdraft' || request.op === 'capture' || request.op === 'extend';
  return false;
}

async function runWrite(
  ctx: Ctx,
  real: Real,
  request: Request,
  label: string,
): Promise<Prediction['kind']> {
  const now = real.clock.now();
  const where = `${label} at +${now - ctx.startedAt}ms`;
  const settledBefore = !ctx.ref.isDue(now);
  if (!settledBefore) seen('lazy expiry on a write');
  const transactionsBefore = ctx.transactions;
  const outcome = await attempt(() => send(real, request));
  const kind = judge(ctx, real, request, outcome, where);
  await compareState(ctx, real, where, true);
  if (settledBefore && (kind === 'error' || kind === 'replay' || kind === 'overdraft')) {
    // Nothing was due, so not even lazy expiry may have written: the journal is unchanged (a
    // setting is no journal transaction).
    assert.equal(ctx.transactions, transactionsBefore, `${where}: ${kind} wrote nothing`);
  }
  return kind;
}

// ---------------------------------------------------------------------------------------------
// Generated specs: what a command asks for, resolved against the model when it runs

/** A capture's credits, of what the hold still holds. */
type CaptureHow =
  | { readonly kind: 'full' }
  | { readonly kind: 'exact' }
  | { readonly kind: 'part'; readonly percent: number }
  | { readonly kind: 'exceed'; readonly by: number };

/**
 * A partial capture's credits, of what the hold still holds: a share (0%: none, refused), all
 * of it (the final capture), more than it holds, or none named (refused).
 */
type PartHow =
  | { readonly kind: 'percent'; readonly percent: number }
  | { readonly kind: 'all' }
  | { readonly kind: 'exceed'; readonly by: number }
  | { readonly kind: 'unnamed' };

/**
 * An extension's ttl: a fixed one (some out of bounds), or to the end of the hold's 30-day
 * lifetime plus `delta` (1: just past it), a week when that is no ttl (too early or too late).
 */
type ExtendTtl =
  | { readonly kind: 'ms'; readonly ms: number }
  | { readonly kind: 'lifetime'; readonly delta: number };

/**
 * The limit a setOverdraft asks for: a number, null (the plan's: none here), what is used past
 * zero now plus `delta` (at, just below, just above), the current setting again, or bad input.
 */
type LimitHow =
  | { readonly kind: 'set'; readonly limit: number }
  | { readonly kind: 'plan' }
  | { readonly kind: 'used'; readonly delta: number }
  | { readonly kind: 'same' }
  | { readonly kind: 'bad'; readonly value: number };

interface OverdraftSpec {
  readonly op: 'overdraft';
  readonly limit: LimitHow;
  readonly mode: string | undefined;
}

/** A write sent with an idempotency key. */
type KeyedSpec =
  | {
      readonly op: 'grant';
      readonly credits: number;
      readonly source: Source;
      readonly expiresIn: number | null;
      /**
       * Expires with the sequence's latest grant still to expire, from the same source (a
       * cycle's second grant): the spend order's tie-breaks past expiry and source.
       */
      readonly twin: boolean;
      readonly startsIn: number | null;
    }
  | { readonly op: 'hold'; readonly amount: Amount; readonly ttlMs: number }
  | { readonly op: 'capture'; readonly pick: number; readonly how: CaptureHow }
  | { readonly op: 'release'; readonly pick: number }
  | { readonly op: 'charge'; readonly amount: Amount }
  | { readonly op: 'part'; readonly pick: number; readonly how: PartHow }
  | { readonly op: 'extend'; readonly pick: number; readonly ttl: ExtendTtl }
  | {
      readonly op: 'increase';
      readonly pick: number;
      /** Sent as credits to a hold of plain credits, as items to one priced by items... */
      readonly credits: number;
      readonly items: readonly ItemRequest[];
      /** ...or the other way round: refused. */
      readonly mismatch: boolean;
    };

type WriteSpec = KeyedSpec | OverdraftSpec;

function needsHold(spec: WriteSpec): boolean {
  return (
    spec.op !== 'grant' && spec.op !== 'hold' && spec.op !== 'charge' && spec.op !== 'overdraft'
  );
}

/**
 * A hold of the sequence; with `preferOpen`, seven times in eight one still held (as the model
 * has it: one past its ttl and not yet settled counts), so that long-hold writes mostly meet a
 * hold they can change.
 */
function pickHold(ctx: Readonly<Ctx>, index: number, preferOpen = false): Readonly<ModelHold> {
  const holds = [...ctx.ref.holds.values()];
  const open = holds.filter((h) => h.status === 'held');
  const from = preferOpen && open.length > 0 && index % 8 !== 0 ? open : holds;
  const h = from[index % from.length];
  assert.ok(h, 'check() guarantees a hold');
  return h;
}

/** What a hold still holds (for one resolved already, what it reserved: any figure will do). */
function stillHeld(h: Readonly<ModelHold>): number {
  return h.status === 'held' ? h.credits - h.captured : h.credits;
}

/** An extension's ttl at `now`. */
function ttlOf(h: Readonly<ModelHold>, ttl: ExtendTtl, now: number): number {
  if (ttl.kind === 'ms') return ttl.ms;
  const toEnd = h.createdAt + HOLD_LIFETIME_MAX_MS - now + ttl.delta;
  return toEnd >= SECOND && toEnd <= 7 * DAY ? toEnd : 7 * DAY;
}

/** An increase of a hold by the kind of amount it was made with (or, refused, the other). */
function increaseAmount(
  h: Readonly<ModelHold>,
  credits: number,
  items: readonly ItemRequest[],
  mismatch: boolean,
): Amount {
  return (h.catalogVersion !== null) !== mismatch ? { items } : { credits };
}

/** The request a spec makes now; a keyed one takes the next key. */
function nextRequest(ctx: Ctx, spec: WriteSpec, now: number): Request {
  return spec.op === 'overdraft'
    ? toSetting(ctx, spec)
    : toRequest(ctx, spec, `k${ctx.nextKey++}`, now);
}

function toSetting(ctx: Ctx, spec: OverdraftSpec): OverdraftRequest {
  const { ref } = ctx;
  const how = spec.limit;
  if (how.kind === 'same') {
    const mode = ref.overdraftMode ?? undefined;
    return { op: 'overdraft', limit: ref.overdraftLimit, ...(mode === undefined ? {} : { mode }) };
  }
  const limit =
    how.kind === 'set'
      ? how.limit
      : how.kind === 'plan'
        ? null
        : how.kind === 'used'
          ? Math.max(0, ref.debt + ref.heldPastZero() + how.delta)
          : how.value;
  return { op: 'overdraft', limit, ...(spec.mode === undefined ? {} : { mode: spec.mode }) };
}

function toRequest(ctx: Ctx, spec: KeyedSpec, key: string, now: number): WriteRequest {
  switch (spec.op) {
    case 'grant': {
      const startsAt = spec.startsIn === null ? undefined : now + spec.startsIn;
      const twin = spec.twin
        ? [...ctx.ref.grants.values()]
            .filter((g) => g.expiresAt !== null && g.expiresAt > now)
            .pop()
        : undefined;
      return {
        op: 'grant',
        key,
        credits: spec.credits,
        source: twin?.source ?? spec.source,
        expiresAt: twin ? twin.expiresAt : spec.expiresIn === null ? null : now + spec.expiresIn,
        ...(startsAt === undefined ? {} : { startsAt }),
      };
    }
    case 'hold':
      return { op: 'hold', key, amount: spec.amount, ttlMs: spec.ttlMs };
    case 'charge':
      return { op: 'charge', key, amount: spec.amount };
    case 'release':
      return { op: 'release', key, holdId: pickHold(ctx, spec.pick).id };
    case 'capture': {
      const h = pickHold(ctx, spec.pick);
      const held = stillHeld(h);
      const how = spec.how;
      const credits =
        how.kind === 'full'
          ? undefined
          : how.kind === 'exact'
            ? held
            : how.kind === 'part'
              ? Math.floor((held * how.percent) / 100)
              : held + how.by;
      return { op: 'capture', key, holdId: h.id, ...(credits === undefined ? {} : { credits }) };
    }
    case 'part': {
      const h = pickHold(ctx, spec.pick, true);
      const held = stillHeld(h);
      const how = spec.how;
      const credits =
        how.kind === 'unnamed'
          ? undefined
          : how.kind === 'all'
            ? held
            : how.kind === 'percent'
              ? Math.floor((held * how.percent) / 100)
              : held + how.by;
      return {
        op: 'capture',
        key,
        holdId: h.id,
        ...(credits === undefined ? {} : { credits }),
        final: false,
      };
    }
    case 'extend': {
      const h = pickHold(ctx, spec.pick, true);
      return { op: 'extend', key, holdId: h.id, ttlMs: ttlOf(h, spec.ttl, now) };
    }
    case 'increase': {
      const h = pickHold(ctx, spec.pick, true);
      const amount = increaseAmount(h, spec.credits, spec.items, spec.mismatch);
      return { op: 'increase', key, holdId: h.id, amount };
    }
  }
}

function showTime(ms: number | null): string {
  if (ms === null) return 'never';
  const sign = ms < 0 ? '-' : '+';
  const abs = Math.abs(ms);
  for (const [unit, size] of [
    ['d', DAY],
    ['h', HOUR],
    ['m', MINUTE],
    ['s', SECOND],
  ] as const) {
    if (abs >= size && abs % size === 0) return `${sign}${abs / size}${unit}`;
  }
  return `${sign}${abs}ms`;
}

function showTtl(t: ExtendTtl): string {
  return t.kind === 'ms'
    ? `ttl ${showTime(t.ms)}`
    : `to its lifetime's end ${t.delta >= 0 ? '+' : ''}${t.delta}ms`;
}

function showAmount(a: Amount): string {
  return 'credits' in a ? String(a.credits) : json(a.items);
}

function showSpec(s: WriteSpec): string {
  switch (s.op) {
    case 'grant':
      return `grant(${s.credits} ${s.source} expires ${s.twin ? 'with the latest' : showTime(s.expiresIn)}${s.startsIn === null ? '' : ` starts ${showTime(s.startsIn)}`})`;
    case 'hold':
      return `hold(${showAmount(s.amount)} ttl ${showTime(s.ttlMs)})`;
    case 'charge':
      return `charge(${showAmount(s.amount)})`;
    case 'release':
      return `release(hold #${s.pick})`;
    case 'capture':
      return `capture(hold #${s.pick}, ${s.how.kind === 'part' ? `${s.how.percent}%` : s.how.kind === 'exceed' ? `+${s.how.by}` : s.how.kind})`;
    case 'part':
      return `capturePart(hold #${s.pick}, ${s.how.kind === 'percent' ? `${s.how.percent}%` : s.how.kind === 'exceed' ? `+${s.how.by}` : s.how.kind})`;
    case 'extend':
      return `extend(hold #${s.pick}, ${showTtl(s.ttl)})`;
    case 'increase':
      return `increase(hold #${s.pick}, ${s.credits} or ${json(s.items)}${s.mismatch ? ', mismatched' : ''})`;
    case 'overdraft': {
      const l = s.limit;
      const limit =
        l.kind === 'set'
          ? String(l.limit)
          : l.kind === 'plan'
            ? 'null'
            : l.kind === 'used'
              ? `used${l.delta < 0 ? '' : '+'}${l.delta}`
              : l.kind === 'same'
                ? 'same again'
                : `bad ${l.value}`;
      return `setOverdraft(${limit}${s.mode === undefined ? '' : ` ${s.mode}`})`;
    }
  }
}

function showRequest(r: Request): string {
  return isKeyed(r) ? `key ${r.key}` : `limit ${r.limit} mode ${r.mode ?? '-'}`;
}

// ---------------------------------------------------------------------------------------------
// Commands

class WriteCommand implements Cmd {
  constructor(readonly spec: WriteSpec) {}
  check(ctx: Readonly<Ctx>): boolean {
    return !needsHold(this.spec) || ctx.ref.holds.size > 0;
  }
  async run(ctx: Ctx, real: Real): Promise<void> {
    const request = nextRequest(ctx, this.spec, real.clock.now());
    await runWrite(ctx, real, request, `${this.toString()} ${showRequest(request)}`);
  }
  toString(): string {
    return showSpec(this.spec);
  }
}

/** Sends an earlier successful write again, same key, same request: the original answer. */
class ReplayCommand implements Cmd {
  constructor(readonly pick: number) {}
  check(ctx: Readonly<Ctx>): boolean {
    return ctx.written.length > 0;
  }
  async run(ctx: Ctx, real: Real): Promise<void> {
    const { request, result } = ctx.written[this.pick % ctx.written.length]!;
    const label = `${this.toString()} of ${request.op} key ${request.key}`;
    // A replay answers the hold as it stood then, however it changed since (ADR 0015).
    const then = (result as { hold?: { id: string } & Record<string, unknown> }).hold;
    const h = then && ctx.ref.holds.get(then.id);
    if (h && json(modelHoldView(h)) !== json(holdView(then)))
      seen(`${writeLabel(request)}: replay after the hold changed`);
    const kind = await runWrite(ctx, real, request, label);
    assert.equal(kind, 'replay', `${label}: the model sees a replay`);
  }
  toString(): string {
    return `replay(write #${this.pick})`;
  }
}

/**
 * Sends another request under an earlier successful write's key: idempotency_key_reused. (A
 * setting has no key to reuse.)
 */
class ReuseKeyCommand implements Cmd {
  constructor(
    readonly pick: number,
    readonly spec: KeyedSpec,
  ) {}
  check(ctx: Readonly<Ctx>): boolean {
    return ctx.written.length > 0 && (!needsHold(this.spec) || ctx.ref.holds.size > 0);
  }
  async run(ctx: Ctx, real: Real): Promise<void> {
    const { request: original } = ctx.written[this.pick % ctx.written.length]!;
    const request = toRequest(ctx, this.spec, original.key, real.clock.now());
    await runWrite(ctx, real, request, `${this.toString()} key ${original.key}`);
  }
  toString(): string {
    return `reuseKey(write #${this.pick}, ${showSpec(this.spec)})`;
  }
}

/**
 * Several writes sent at once, so the committer carries them in one database transaction
 * (group commit); the model applies them in the order they were sent. With `repeatFirst` the
 * first request goes twice: the second answer is a replay from inside the same batch.
 */
class BurstCommand implements Cmd {
  constructor(
    readonly specs: readonly WriteSpec[],
    readonly repeatFirst: boolean,
  ) {}
  check(ctx: Readonly<Ctx>): boolean {
    return this.specs.every((s) => !needsHold(s) || ctx.ref.holds.size > 0);
  }
  async run(ctx: Ctx, real: Real): Promise<void> {
    const now = real.clock.now();
    const requests = this.specs.map((spec) => nextRequest(ctx, spec, now));
    if (this.repeatFirst) requests.push(requests[0]!);
    const outcomes = await Promise.all(requests.map((r) => attempt(() => send(real, r))));
    const where = `${this.toString()} at +${now - ctx.startedAt}ms`;
    // The ledger settles the account once per batch, at the first write that loads it; writes
    // refused before that (bad input, an unknown hold) do not count.
    let loaded = false;
    const kinds = requests.map((r, i) => {
      const w = `${where}, write ${i} ${showRequest(r)}`;
      const kind = judge(ctx, real, r, outcomes[i]!, w, !loaded, false);
      if (!refusedBeforeLoad(r, outcomes[i]!)) loaded = true;
      return kind;
    });
    if (this.repeatFirst && kinds[kinds.length - 1] === 'replay') seen('replay inside one batch');
    requests.forEach((r, i) => {
      if (isKeyed(r) && namesHold(r) && kinds[i] !== 'error') seen(`${writeLabel(r)} in a burst`);
    });
    await compareState(ctx, real, where, true);
  }
  toString(): string {
    return `burst(${this.specs.map(showSpec).join(', ')}${this.repeatFirst ? ', first again' : ''})`;
  }
}

/** One round of a long job: see LongJobCommand. */
interface JobRound {
  /** How long before the hold's expiry the round comes (0: at it, too late). */
  readonly marginMs: number;
  /** A part of what the hold still holds (at least 1), or none this round. */
  readonly partPercent: number | null;
  /** More credits (as credits or items, as the hold was made), or none this round. */
  readonly increase: number | null;
  readonly ttl: ExtendTtl;
}

/**
 * A long job on one open hold, billed as it goes: each round the clock moves to just before
 * the hold expires, the job captures a part of it, perhaps reserves more, and extends it.
 * Rounds of a week's extension carry a hold past its 30-day lifetime in about five rounds: the
 * round that asks past it is refused (hold_lifetime_exceeded) and the hold then expires,
 * keeping its parts. The job stops when the hold is no longer held.
 */
class LongJobCommand implements Cmd {
  constructor(
    readonly pick: number,
    readonly rounds: readonly JobRound[],
  ) {}
  check(ctx: Readonly<Ctx>): boolean {
    return [...ctx.ref.holds.values()].some((h) => h.status === 'held');
  }
  async run(ctx: Ctx, real: Real): Promise<void> {
    const open = [...ctx.ref.holds.values()].filter((h) => h.status === 'held');
    const id = open[this.pick % open.length]!.id;
    seen('long job');
    for (const [i, round] of this.rounds.entries()) {
      const label = `${this.toString()} round ${i + 1} of hold ${id}`;
      const h = ctx.ref.holds.get(id)!;
      if (h.status !== 'held') break;
      const to = h.expiresAt - round.marginMs;
      if (to > real.clock.now()) {
        real.clock.advance(to - real.clock.now());
        await compareState(ctx, real, `${label}: advanced to +${to - ctx.startedAt}ms`, false);
      }
      if (round.partPercent !== null) {
        const credits = Math.max(1, Math.floor((stillHeld(h) * round.partPercent) / 100));
        const request: WriteRequest = {
          op: 'capture',
          key: `k${ctx.nextKey++}`,
          holdId: id,
          credits,
          final: false,
        };
        await runWrite(ctx, real, request, `${label}: part of ${credits}`);
      }
      if (round.increase !== null && ctx.ref.holds.get(id)!.status === 'held') {
        const n = round.increase;
        const amount = increaseAmount(h, n, [{ operation: 'image.edit', count: n }], false);
        const request: WriteRequest = {
          op: 'increase',
          key: `k${ctx.nextKey++}`,
          holdId: id,
          amount,
        };
        await runWrite(ctx, real, request, `${label}: increase by ${n}`);
      }
      const now = real.clock.now();
      const ttlMs = ttlOf(h, round.ttl, now);
      const request: WriteRequest = { op: 'extend', key: `k${ctx.nextKey++}`, holdId: id, ttlMs };
      await runWrite(ctx, real, request, `${label}: extend by ${showTime(ttlMs)}`);
    }
  }
  toString(): string {
    const rounds = this.rounds.map(
      (r) =>
        `[${showTime(r.marginMs)} before${r.partPercent === null ? '' : `, part ${r.partPercent}%`}${r.increase === null ? '' : `, +${r.increase}`}, ${showTtl(r.ttl)}]`,
    );
    return `longJob(hold #${this.pick}, ${rounds.join(' ')})`;
  }
}

type Step =
  | { readonly kind: 'by'; readonly ms: number }
  | { readonly kind: 'next'; readonly delta: -1 | 0 | 1 };

/** Moves the clock; touches nothing, so whatever falls due stays due until the next access. */
class AdvanceCommand implements Cmd {
  constructor(readonly step: Step) {}
  check(): boolean {
    return true;
  }
  async run(ctx: Ctx, real: Real): Promise<void> {
    const now = real.clock.now();
    let ms: number;
    if (this.step.kind === 'by') ms = this.step.ms;
    else {
      const next = ctx.ref.nextEvent(now);
      ms = next === null ? SECOND : Math.max(0, next - now + this.step.delta);
    }
    real.clock.advance(ms);
    await compareState(
      ctx,
      real,
      `${this.toString()} to +${real.clock.now() - ctx.startedAt}ms`,
      false,
    );
  }
  toString(): string {
    return this.step.kind === 'by'
      ? `advance(${showTime(this.step.ms)})`
      : `advance(to next expiry ${this.step.delta >= 0 ? '+' : ''}${this.step.delta}ms)`;
  }
}

/** Reads the balance, which settles whatever fell due since the last access. */
class BalanceCommand implements Cmd {
  check(): boolean {
    return true;
  }
  async run(ctx: Ctx, real: Real): Promise<void> {
    await compareState(ctx, real, `balance at +${real.clock.now() - ctx.startedAt}ms`, true);
  }
  toString(): string {
    return 'balance()';
  }
}

/** The explicit sweep: settles every account with something due, this one included. */
class SweepCommand implements Cmd {
  check(): boolean {
    return true;
  }
  async run(ctx: Ctx, real: Real): Promise<void> {
    const now = real.clock.now();
    const where = `sweep at +${now - ctx.startedAt}ms`;
    // The sweep settles expiries, and a debt that credits started since can repay.
    const due = ctx.ref.isDue(now);
    if (due) seen('lazy expiry on sweep');
    const settled = await real.ledger.sweep();
    if (due) ctx.ref.settle(now);
    assert.ok(settled >= (due ? 1 : 0), `${where}: settled ${settled} accounts, this one was due`);
    assert.deepEqual(await real.store.accountsDue(now, 10), [], `${where}: nothing left due`);
    await compareState(ctx, real, where, true);
  }
  toString(): string {
    return 'sweep()';
  }
}

// ---------------------------------------------------------------------------------------------
// Arbitraries

const OPERATIONS: readonly { operation: string; param: string | null; values: string[] }[] = [
  { operation: 'image.generate', param: 'resolution', values: ['720p', '1080p', '4k', '8k'] },
  { operation: 'image.upscale', param: 'target', values: ['1080p', '4k', '8k'] },
  { operation: 'image.variations', param: 'resolution', values: ['720p', '1080p'] },
  { operation: 'image.edit', param: null, values: [] },
];

/** Items the catalog refuses: unknown operation, unknown value, stray parameter, count too high. */
const BAD_ITEMS: readonly ItemRequest[] = [
  { operation: 'video.generate' },
  { operation: 'image.generate', params: { resolution: '16k' } },
  { operation: 'image.edit', params: { resolution: '720p' } },
  { operation: 'image.variations', count: 17 },
];

const goodItemArb: fc.Arbitrary<ItemRequest> = fc.oneof(
  ...OPERATIONS.map(({ operation, param, values }) =>
    fc
      .record({
        value:
          param === null
            ? fc.constant(undefined)
            : fc.option(fc.constantFrom(...values), { nil: undefined }),
        count: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
      })
      .map(({ value, count }): ItemRequest => ({
        operation,
        ...(param !== null && value !== undefined ? { params: { [param]: value } } : {}),
        ...(count === undefined ? {} : { count }),
      })),
  ),
);

const itemArb = fc.oneof(
  { weight: 15, arbitrary: goodItemArb },
  { weight: 1, arbitrary: fc.constantFrom(...BAD_ITEMS) },
);

const amountArb: fc.Arbitrary<Amount> = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 30 }).map((credits) => ({ credits })) },
  {
    weight: 2,
    arbitrary: fc.array(itemArb, { minLength: 1, maxLength: 3 }).map((items) => ({ items })),
  },
);

const grantSpecArb: fc.Arbitrary<KeyedSpec> = fc.record({
  op: fc.constant('grant' as const),
  credits: fc.integer({ min: 1, max: 60 }),
  source: fc.constantFrom(...SOURCES),
  expiresIn: fc.oneof(
    { weight: 3, arbitrary: fc.constant(null) },
    { weight: 8, arbitrary: fc.constantFrom(SECOND, MINUTE, 15 * MINUTE, HOUR, DAY, 30 * DAY) },
    // Not after the start: refused with invalid_argument (or, backdated, already expired).
    { weight: 1, arbitrary: fc.constantFrom(0, -HOUR) },
  ),
  startsIn: fc.oneof(
    { weight: 8, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.constantFrom(0, MINUTE, DAY, -DAY) },
  ),
  twin: fc.oneof(
    { weight: 7, arbitrary: fc.constant(false) },
    { weight: 1, arbitrary: fc.constant(true) },
  ),
});

const holdSpecArb: fc.Arbitrary<KeyedSpec> = fc.record({
  op: fc.constant('hold' as const),
  amount: amountArb,
  ttlMs: fc.constantFrom(SECOND, MINUTE, 15 * MINUTE, HOUR, 7 * DAY),
});

const captureHowArb: fc.Arbitrary<CaptureHow> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: 'full' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'exact' as const }) },
  {
    weight: 4,
    arbitrary: fc
      .integer({ min: 0, max: 100 })
      .map((percent) => ({ kind: 'part' as const, percent })),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 1, max: 3 }).map((by) => ({ kind: 'exceed' as const, by })),
  },
);

const captureSpecArb: fc.Arbitrary<KeyedSpec> = fc.record({
  op: fc.constant('capture' as const),
  pick: fc.nat({ max: 50 }),
  how: captureHowArb,
});

const releaseSpecArb: fc.Arbitrary<KeyedSpec> = fc.record({
  op: fc.constant('release' as const),
  pick: fc.nat({ max: 50 }),
});

const chargeSpecArb: fc.Arbitrary<KeyedSpec> = fc.record({
  op: fc.constant('charge' as const),
  amount: amountArb,
});

const partHowArb: fc.Arbitrary<PartHow> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .integer({ min: 0, max: 100 })
      .map((percent) => ({ kind: 'percent' as const, percent })),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'all' as const }) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 1, max: 3 }).map((by) => ({ kind: 'exceed' as const, by })),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'unnamed' as const }) },
);

const partSpecArb: fc.Arbitrary<KeyedSpec> = fc.record({
  op: fc.constant('part' as const),
  pick: fc.nat({ max: 50 }),
  how: partHowArb,
});

const extendTtlArb: fc.Arbitrary<ExtendTtl> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .constantFrom(SECOND, MINUTE, HOUR, DAY, 7 * DAY)
      .map((ms) => ({ kind: 'ms' as const, ms })),
  },
  // Out of bounds: refused as bad input.
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(0, SECOND - 1, 7 * DAY + 1)
      .map((ms) => ({ kind: 'ms' as const, ms })),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(0, 1).map((delta) => ({ kind: 'lifetime' as const, delta })),
  },
);

const extendSpecArb: fc.Arbitrary<KeyedSpec> = fc.record({
  op: fc.constant('extend' as const),
  pick: fc.nat({ max: 50 }),
  ttl: extendTtlArb,
});

const increaseSpecArb: fc.Arbitrary<KeyedSpec> = fc.record({
  op: fc.constant('increase' as const),
  pick: fc.nat({ max: 50 }),
  credits: fc.integer({ min: 1, max: 30 }),
  items: fc.array(itemArb, { minLength: 1, maxLength: 2 }),
  mismatch: fc.oneof(
    { weight: 9, arbitrary: fc.constant(false) },
    { weight: 1, arbitrary: fc.constant(true) },
  ),
});

const jobRoundArb: fc.Arbitrary<JobRound> = fc.record({
  marginMs: fc.oneof(
    { weight: 1, arbitrary: fc.constant(0) },
    { weight: 8, arbitrary: fc.constantFrom(1, MINUTE, HOUR, 6 * HOUR) },
    { weight: 1, arbitrary: fc.constant(DAY) },
  ),
  partPercent: fc.option(fc.integer({ min: 0, max: 100 }), { nil: null, freq: 3 }),
  increase: fc.option(fc.integer({ min: 1, max: 15 }), { nil: null, freq: 1 }),
  ttl: fc.oneof(
    { weight: 6, arbitrary: fc.constant({ kind: 'ms' as const, ms: 7 * DAY }) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(HOUR, DAY).map((ms) => ({ kind: 'ms' as const, ms })),
    },
    // A week while the hold is young; near its 30 days, exactly to the end or just past it.
    {
      weight: 4,
      arbitrary: fc.constantFrom(0, 1).map((delta) => ({ kind: 'lifetime' as const, delta })),
    },
  ),
});

const limitHowArb: fc.Arbitrary<LimitHow> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.integer({ min: 0, max: 20 }).map((limit) => ({ kind: 'set' as const, limit })),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'plan' as const }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(-1, 0, 1).map((delta) => ({ kind: 'used' as const, delta })),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'same' as const }) },
  // Refused as bad input: a limit is 0 or a whole number of credits.
  {
    weight: 1,
    arbitrary: fc.constantFrom(-1, 1.5).map((value) => ({ kind: 'bad' as const, value })),
  },
);

const overdraftSpecArb: fc.Arbitrary<OverdraftSpec> = fc.record({
  op: fc.constant('overdraft' as const),
  limit: limitHowArb,
  mode: fc.oneof(
    { weight: 4, arbitrary: fc.constant(undefined) },
    { weight: 3, arbitrary: fc.constant('hard') },
    { weight: 4, arbitrary: fc.constant('soft') },
    { weight: 1, arbitrary: fc.constant('medium') },
  ),
});

/**
 * How a sequence opens: two accounts in three have an overdraft limit from the start, as a
 * platform gives its good customers one, so that spends past zero, debts and repayments come
 * early and often (a setOverdraft among the commands alone comes too late in many sequences:
 * with it, about a quarter of the sequences reach a debt and nearly half draw past zero).
 */
const openingArb: fc.Arbitrary<OverdraftSpec | null> = fc.option(
  fc.record({
    op: fc.constant('overdraft' as const),
    limit: fc.integer({ min: 1, max: 30 }).map((limit) => ({ kind: 'set' as const, limit })),
    mode: fc.constantFrom(undefined, 'hard', 'soft'),
  }),
  { nil: null, freq: 3 },
);

const keyedSpecArb: fc.Arbitrary<KeyedSpec> = fc.oneof(
  grantSpecArb,
  holdSpecArb,
  captureSpecArb,
  releaseSpecArb,
  chargeSpecArb,
  partSpecArb,
  extendSpecArb,
  increaseSpecArb,
);

const anySpecArb: fc.Arbitrary<WriteSpec> = fc.oneof(
  grantSpecArb,
  holdSpecArb,
  captureSpecArb,
  releaseSpecArb,
  chargeSpecArb,
  overdraftSpecArb,
  partSpecArb,
  extendSpecArb,
  increaseSpecArb,
);

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .constantFrom(0, SECOND - 1, SECOND, MINUTE, 15 * MINUTE, HOUR, DAY, 8 * DAY)
      .map((ms) => ({ kind: 'by' as const, ms })),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(-1, 0, 1).map((delta) => ({ kind: 'next' as const, delta: delta })),
  },
);

const commandArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 8, arbitrary: grantSpecArb.map((s) => new WriteCommand(s)) },
  { weight: 7, arbitrary: holdSpecArb.map((s) => new WriteCommand(s)) },
  { weight: 5, arbitrary: captureSpecArb.map((s) => new WriteCommand(s)) },
  { weight: 3, arbitrary: releaseSpecArb.map((s) => new WriteCommand(s)) },
  { weight: 3, arbitrary: chargeSpecArb.map((s) => new WriteCommand(s)) },
  { weight: 4, arbitrary: overdraftSpecArb.map((s) => new WriteCommand(s)) },
  { weight: 4, arbitrary: partSpecArb.map((s) => new WriteCommand(s)) },
  { weight: 3, arbitrary: extendSpecArb.map((s) => new WriteCommand(s)) },
  { weight: 3, arbitrary: increaseSpecArb.map((s) => new WriteCommand(s)) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.nat({ max: 50 }), fc.array(jobRoundArb, { minLength: 1, maxLength: 8 }))
      .map(([pick, rounds]) => new LongJobCommand(pick, rounds)),
  },
  { weight: 4, arbitrary: stepArb.map((s) => new AdvanceCommand(s)) },
  { weight: 2, arbitrary: fc.constant(new SweepCommand()) },
  { weight: 1, arbitrary: fc.constant(new BalanceCommand()) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.array(anySpecArb, { minLength: 1, maxLength: 4 }), fc.boolean())
      .map(([specs, repeatFirst]) => new BurstCommand(specs, repeatFirst)),
  },
  { weight: 2, arbitrary: fc.nat({ max: 50 }).map((n) => new ReplayCommand(n)) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.nat({ max: 50 }), keyedSpecArb)
      .map(([n, s]) => new ReuseKeyCommand(n, s)),
  },
);

const commandsArb = fc.commands([commandArb], {
  maxCommands: MAX_COMMANDS,
  size: 'max',
  ...(REPLAY_PATH === undefined ? {} : { replayPath: REPLAY_PATH }),
});

// ---------------------------------------------------------------------------------------------
// The test

/** Outcomes and rules a full run must reach, or the generators have gone blind somewhere. */
const REQUIRED_COVERAGE = [
  'grant:grant',
  'hold:hold',
  'capture:resolve',
  'release:resolve',
  'charge:charge',
  'grant:replay',
  'hold:replay',
  'capture:replay',
  'release:replay',
  'charge:replay',
  'insufficient_credits',
  'hold_already_captured',
  'hold_already_released',
  'hold_expired',
  'capture_exceeds_hold',
  'idempotency_key_reused',
  'invalid_argument',
  'invalid_parameter',
  'unknown_operation',
  'replay inside one batch',
  'lazy expiry on a write',
  'lazy expiry on balance',
  'lazy expiry on sweep',
  'hold past its ttl',
  'grant expired with credits left',
  'held credits of an expired grant to breakage',
  'spend order: expiry',
  'spend order: never-expiring last',
  'spend order: source rank',
  'spend order: createdAt',
  'spend order: id',
  'overdraft:overdraft',
  'overdraft_below_used',
  'overdraft_limit_reached',
  'invalid_credits',
  'overdraft: hold past zero',
  'overdraft: charge past zero',
  'overdraft: credits first, then past zero',
  'overdraft: captured past zero into debt',
  'overdraft: held past zero given back',
  'overdraft: debt repaid in full',
  'overdraft: debt repaid in part',
  'overdraft: refused past a hard limit',
  'overdraft: a hard limit used to the last credit',
  'overdraft: past a soft limit',
  'overdraft: a limit set to exactly what is used',
  'sequence reached a debt',
  // Long holds (docs/adr/0015-long-holds.md).
  'extend:change',
  'part:change',
  'increase:change',
  'part:resolve',
  'extend:replay',
  'part:replay',
  'increase:replay',
  'extend:idempotency_key_reused',
  'part:idempotency_key_reused',
  'increase:idempotency_key_reused',
  'extend in a burst',
  'part in a burst',
  'increase in a burst',
  'long job',
  'hold_lifetime_exceeded',
  'extend:hold_expired',
  'extend:hold_already_captured',
  'extend:hold_already_released',
  'extend:invalid_argument',
  'part:capture_exceeds_hold',
  'part:invalid_argument',
  'part:hold_expired',
  'increase:insufficient_credits',
  'increase:overdraft_limit_reached',
  'increase:invalid_argument',
  'increase:unknown_operation',
  'increase:hold_expired',
  'long hold: held past its first ttl',
  'long hold: extended to the last moment of its lifetime',
  'long hold: extension shortens the ttl',
  'long hold: a first part',
  'long hold: another part',
  'long hold: a part that takes all still held is the final capture',
  'long hold: final capture after parts',
  'long hold: released after parts',
  'long hold: expired after parts, keeping what they took',
  'long hold: a part captured past zero into debt',
  'long hold: increased after parts',
  'long hold: increase merged into a draw it holds',
  'long hold: increase draws grants ahead of the part past zero',
  'overdraft: increase past zero',
  'hold: replay after the hold changed',
  'part: replay after the hold changed',
  'increase: replay after the hold changed',
];

/** Which store a run is on, how to rerun just its test file, and how many threads share it. */
export interface ModelRun {
  readonly store: ModelStoreName;
  /** The run-tests.mjs filter that selects this store's test file alone. */
  readonly filter: string;
  /**
   * Worker threads that share the sequences, each with its own store (0: this thread, one
   * store). AMISI_PROPERTY_WORKERS overrides it; a run with AMISI_PROPERTY_PATH uses none.
   */
  readonly workers: number;
}

function reproduceHint(run: ModelRun, message: string): string {
  const path = /path: "([^"]*)"/.exec(message)?.[1];
  const replayPath = /replayPath="([^"]*)"/.exec(message)?.[1];
  return (
    `model test failed on ${run.store} with seed ${SEED}${path === undefined ? '' : ` at path ${path}`}; reproduce with\n` +
    `  AMISI_PROPERTY_SEED=${SEED}` +
    (path === undefined ? '' : ` AMISI_PROPERTY_PATH=${path}`) +
    (replayPath === undefined ? '' : ` AMISI_PROPERTY_REPLAY_PATH='${replayPath}'`) +
    ` node scripts/run-tests.mjs ${run.filter}\n`
  );
}

/** What one shard reports after its sequences. */
export interface ShardReport {
  readonly sequences: number;
  readonly coverage: readonly (readonly [string, number])[];
  readonly elapsedMs: number;
}

/**
 * One share of the run: a fresh store and ledger for the sequences whose index i (0 to
 * NUM_RUNS - 1, as fast-check generates them from SEED) has i mod `shards` = `shard`. Every
 * shard generates all NUM_RUNS sequences and runs its own, so the run as a whole runs the same
 * sequences from the same seed however many shards share it; a failing sequence is reported
 * with its own index (fast-check's path) and replays alone with AMISI_PROPERTY_PATH.
 */
export class Shard {
  private constructor(
    private readonly run: ModelRun,
    private readonly env: Env,
  ) {}

  static async open(run: ModelRun): Promise<Shard> {
    return new Shard(run, await openEnv(() => openModelStore(run.store)));
  }

  /**
   * Runs this shard's sequences against the reference model. `stop`, shared by the shards, is
   * set when one fails; the others then skip the rest of theirs.
   */
  async model(shard: number, shards: number, stop: Int32Array): Promise<ShardReport> {
    const { env } = this;
    coverage.clear();
    let index = -1;
    let failing = false;
    const property = fc.asyncProperty(openingArb, commandsArb, async (opening, cmds) => {
      index += 1;
      // Once a sequence fails, fast-check calls again only to shrink it: run every call.
      if (!failing && (index % shards !== shard || Atomics.load(stop, 0) !== 0)) return;
      try {
        let started: { model: Ctx; real: Real } | undefined;
        const setup = async () => {
          started = await startSequence(env);
          if (opening) await new WriteCommand(opening).run(started.model, started.real);
          return started;
        };
        await fc.asyncModelRun(setup, cmds);
        assert.ok(started, 'the sequence ran');
        const { model, real } = started;
        for (const [event, n] of model.ref.events)
          coverage.set(event, (coverage.get(event) ?? 0) + n);
        if (model.ref.everOwed) seen('sequence reached a debt');
        const audit = await real.store.accountAudit(real.accountId);
        const { violations, totals } = checkAccount(real.accountId, audit);
        assert.deepEqual(violations, [], 'checkAccount at the end of the sequence');
        assert.deepEqual(noNegativeZero(totals), model.ref.totals(), 'journal totals at the end');
      } catch (error) {
        failing = true;
        Atomics.store(stop, 0, 1);
        throw error;
      }
    });
    const started = Date.now();
    try {
      await fc.assert(property, {
        seed: SEED,
        numRuns: NUM_RUNS,
        ...(PATH === undefined ? {} : { path: PATH }),
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(reproduceHint(this.run, message) + message, { cause: error });
    }
    return { sequences: env.sequences, coverage: [...coverage], elapsedMs: Date.now() - started };
  }

  /** verify(store) over every account of this shard, before and after a final sweep. */
  async verify(): Promise<void> {
    const { env } = this;
    const first = await verify(env.store);
    assert.deepEqual(first.violations.slice(0, 10), [], 'verify violations');
    assert.ok(first.ok, 'verify ok');
    assert.equal(first.accounts, env.sequences, 'one account per sequence');
    await env.ledger.sweep();
    assert.deepEqual(
      await env.store.accountsDue(env.clock.now(), 10),
      [],
      'nothing due after the sweep',
    );
    const second = await verify(env.store);
    assert.ok(second.ok, 'verify ok after the sweep');
    assert.equal(second.totals.granted, first.totals.granted, 'a sweep grants nothing');
    assert.equal(second.totals.consumed, first.totals.consumed, 'a sweep spends nothing');
  }

  close(): Promise<void> {
    return this.env.close();
  }
}

/** A shard as the test drives it: in this thread, or in a worker thread (model-worker.ts). */
interface ShardHandle {
  model(shard: number, shards: number, stop: Int32Array): Promise<ShardReport>;
  verify(): Promise<void>;
  close(): Promise<void>;
}

/** Messages of model-worker.ts: a request names its step; the answer carries its result. */
export type WorkerRequest =
  | {
      readonly step: 'model';
      readonly shard: number;
      readonly shards: number;
      /** On a SharedArrayBuffer: every shard sees the same flag. */
      readonly stop: Int32Array;
    }
  | { readonly step: 'verify' }
  | { readonly step: 'close' };
export type WorkerAnswer =
  | { readonly step: 'open' | 'verify' | 'close'; readonly error?: string }
  | { readonly step: 'model'; readonly report?: ShardReport; readonly error?: string };

async function inWorker(run: ModelRun): Promise<ShardHandle> {
  const worker = new Worker(new URL('./model-worker.js', import.meta.url), { workerData: run });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  let waiting: ((answer: WorkerAnswer) => void) | undefined;
  let failed: Error | undefined;
  const answered = (answer: WorkerAnswer) => {
    const w = waiting;
    waiting = undefined;
    w?.(answer);
  };
  worker.on('message', answered);
  worker.on('error', (error) => {
    failed = error;
    answered({ step: 'close', error: error.stack ?? error.message });
  });
  worker.on('exit', (code) => {
    failed ??= new Error(`the model worker exited with code ${code}`);
    answered({ step: 'close', error: failed.message });
  });
  const next = () =>
    new Promise<WorkerAnswer>((resolve) => {
      if (failed) resolve({ step: 'close', error: failed.stack ?? failed.message });
      else waiting = resolve;
    });
  const ask = async (request: WorkerRequest | null): Promise<WorkerAnswer> => {
    const answer = next();
    if (request) worker.postMessage(request);
    const a = await answer;
    if (a.error !== undefined) throw new Error(a.error);
    return a;
  };
  await ask(null);
  return {
    async model(shard, shards, stop) {
      const a = await ask({ step: 'model', shard, shards, stop });
      assert.ok(a.step === 'model' && a.report, 'the worker reports its shard');
      return a.report;
    },
    async verify() {
      await ask({ step: 'verify' });
    },
    async close() {
      if (!failed) await ask({ step: 'close' });
      await exited;
    },
  };
}

/** The model-based property test on one store: NUM_RUNS sequences from SEED. */
export function modelBasedTest(run: ModelRun): void {
  const workers = PATH === undefined ? (envInt('AMISI_PROPERTY_WORKERS') ?? run.workers) : 0;
  const shards = Math.max(workers, 1);
  const how = workers === 0 ? '' : `, ${workers} worker threads`;
  describe(`ledger: model-based property test on ${run.store}${how}`, () => {
    let handles: ShardHandle[] = [];
    before(async () => {
      handles = await Promise.all(
        Array.from({ length: shards }, () => (workers === 0 ? Shard.open(run) : inWorker(run))),
      );
    });
    after(async () => {
      await Promise.all(handles.map((h) => h.close()));
    });

    it(`agrees with the reference model over ${NUM_RUNS} sequences (seed ${SEED})`, async () => {
      const stop = new Int32Array(new SharedArrayBuffer(4));
      // Every shard ends before the test does (a failing one stops the others early), so
      // nothing is still running when the verify step or the close comes.
      const settled = await Promise.allSettled(
        handles.map((h, shard) => h.model(shard, shards, stop)),
      );
      const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) throw failed.reason;
      const reports = settled.map((s) => (s as PromiseFulfilledResult<ShardReport>).value);
      const total = new Map<string, number>();
      for (const r of reports)
        for (const [what, n] of r.coverage) total.set(what, (total.get(what) ?? 0) + n);
      if (process.env.AMISI_PROPERTY_STATS) {
        for (const r of reports)
          console.log(`${run.store}: ${r.sequences} sequences in ${r.elapsedMs} ms`);
        for (const [what, n] of [...total].sort()) console.log(`  ${what}: ${n}`);
      }
      if (PATH === undefined) {
        const ran = reports.reduce((n, r) => n + r.sequences, 0);
        assert.equal(ran, NUM_RUNS, 'the shards ran every sequence once');
      }
      if (PATH === undefined && NUM_RUNS >= 1000) {
        const missed = REQUIRED_COVERAGE.filter((what) => !total.has(what));
        assert.deepEqual(missed, [], 'the generated sequences reach every rule the model knows');
        // The overdraft is no corner case: about a quarter of the sequences owe at some point.
        const owed = total.get('sequence reached a debt') ?? 0;
        assert.ok(owed >= NUM_RUNS / 5, `${owed} of ${NUM_RUNS} sequences reached a debt`);
      }
    });

    it('verify(store) finds every account consistent, before and after a final sweep', async () => {
      await Promise.all(handles.map((h) => h.verify()));
    });
  });
}
