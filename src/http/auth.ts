import type { FastifyRequest } from 'fastify';
import { AmisiError, isAmisiError } from '../core/errors.js';
import type { Hold } from '../core/holds.js';
import type { Purchase } from '../core/purchases.js';
import type { PlanUpgrade } from '../core/upgrades.js';
import type { RequestBatch } from '../core/batches.js';
import { LEDGER_PROBLEMS as L, type Ledger } from '../ledger/ledger.js';
import { codes } from '../ledger/problems.js';
import { allows, canActOn, type ApiKeys, type Principal } from '../service/api-keys.js';
import type { Action } from '../core/teams.js';
import type { Attribution } from '../core/holds.js';
import type { Access } from './schemas/problems.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route; a route without it is operator-only. */
    access?: Access;
    /** What an account route does, for member keys: the member's role must allow it. */
    action?: Action;
  }
  interface FastifyRequest {
    /** The caller, once the API key checked out (null on public routes). */
    principal: Principal | null;
    /** Why the request is refused (set by `authenticate`, answered by `refuseUnauthorized`). */
    refused: AmisiError | null;
    /** The real key of a refused request, so the refusal counts against that key. */
    rateLimitKeyId: string | null;
  }
}

const READS = new Set(['GET', 'HEAD']);

/** The key in `Authorization: Bearer <key>`; null when the header is absent or not that form. */
function bearer(header: string | undefined): string | null {
  if (header === undefined) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1]! : null;
}

/**
 * The problem codes of the scope checks below, which routes add to their use-case's: another
 * account's account, hold, purchase or batch fails exactly like an unknown one, and a member
 * key spends only as its own member.
 */
export const SCOPE_PROBLEMS = {
  account: codes('unknown_account'),
  hold: codes('unknown_hold', L.getHold),
  purchase: codes('unknown_purchase', L.getPurchase),
  upgrade: codes('unknown_upgrade', L.getUpgrade),
  batch: codes('unknown_batch', L.findBatch),
  attribution: codes('forbidden'),
} as const;

/** The caller behind the request's key; throws unauthorized when there is none. */
async function identify(keys: ApiKeys, header: string | undefined): Promise<Principal> {
  if (header === undefined) {
    throw new AmisiError('unauthorized', 'an API key is required: Authorization: Bearer amk_...');
  }
  const presented = bearer(header);
  if (presented === null) {
    // Says nothing about any key, so it can tell the caller what is wrong with the header.
    throw new AmisiError(
      'unauthorized',
      'the Authorization header must be "Bearer <key>", for example Authorization: Bearer amk_...',
      { reason: 'malformed_authorization' },
    );
  }
  const principal = await keys.authenticate(presented);
  if (!principal) {
    throw new AmisiError('unauthorized', 'the API key is not valid or has been revoked');
  }
  return principal;
}

/** What the principal may not do on this route (null: it may). */
function refusal(request: FastifyRequest, principal: Principal): AmisiError | null {
  const access = request.routeOptions.config.access ?? 'operator';
  if (access === 'operator' && principal.kind !== 'operator') {
    return new AmisiError('forbidden', 'this needs an operator key');
  }
  if (principal.readOnly && !READS.has(request.method)) {
    return new AmisiError('forbidden', 'a read-only key cannot change anything');
  }
  if (principal.kind === 'member') {
    // Deny by default: a route that names no action is not open to member keys.
    const action = request.routeOptions.config.action;
    if (!action || !allows(principal, action)) {
      return new AmisiError(
        'forbidden',
        `the ${principal.role} role of member "${principal.memberId}" does not allow this`,
        { role: principal.role, action: action ?? null },
      );
    }
  }
  return null;
}

/**
 * The onRequest hook: a key is required unless the route is public; operator-only routes need
 * an operator key; read-only keys may only read. Everything else about scope is per resource
 * (the helpers below), since only the handler knows whose resource it is.
 *
 * A refusal is recorded, not thrown: the rate limit (a route-level onRequest hook, so it runs
 * after this one) must count refused requests too, by key or by address (ADR 0005), or guessing
 * keys would be unlimited. `refuseUnauthorized` throws it right after, before the body is read.
 */
export function authenticate(keys: ApiKeys) {
  return async (request: FastifyRequest): Promise<void> => {
    if (request.is404) return;
    if (request.routeOptions.config.access === 'public') return;
    try {
      const principal = await identify(keys, request.headers.authorization);
      const refused = refusal(request, principal);
      if (refused) {
        // The key is real: the refusal counts against the key, not the address.
        request.rateLimitKeyId = principal.keyId;
        throw refused;
      }
      request.principal = principal;
    } catch (e) {
      if (!isAmisiError(e)) throw e;
      request.refused = e;
    }
  };
}

/** The preParsing hook that answers what `authenticate` refused (after the rate limit). */
export async function refuseUnauthorized(request: FastifyRequest): Promise<void> {
  if (request.refused) throw request.refused;
}

export function principalOf(request: FastifyRequest): Principal {
  const p = request.principal;
  if (!p) throw new Error('invariant violated: an authenticated route has a principal');
  return p;
}

/*
 * Out of scope looks exactly like unknown: an account key asking for another account's
 * resource gets the same status and body as for an id that does not exist, so a key cannot
 * even learn what exists. These errors repeat the ledger's own wording for unknown ids.
 */

const unknownAccount = (accountId: string) =>
  new AmisiError('unknown_account', `unknown account "${accountId}"`, { accountId });
const unknownHold = (holdId: string) =>
  new AmisiError('unknown_hold', `unknown hold "${holdId}"`, { holdId });
const unknownPurchase = (purchaseId: string) =>
  new AmisiError('unknown_purchase', `unknown purchase "${purchaseId}"`, { purchaseId });

/** The account id, if the caller may act on it; otherwise unknown_account. */
export function accountInScope(request: FastifyRequest, accountId: string): string {
  if (!canActOn(principalOf(request), accountId)) throw unknownAccount(accountId);
  return accountId;
}

/** Loads a resource for a scoped caller; a missing one and a foreign one fail the same way. */
async function inScope<T extends { readonly accountId: string }>(
  request: FastifyRequest,
  load: () => Promise<T>,
  code: 'unknown_hold' | 'unknown_purchase' | 'unknown_batch' | 'unknown_upgrade',
  unknown: () => AmisiError,
): Promise<T> {
  const principal = principalOf(request);
  if (principal.kind === 'operator') return load();
  let found: T | undefined;
  try {
    found = await load();
  } catch (e) {
    if (!(isAmisiError(e) && e.code === code)) throw e;
  }
  if (found && canActOn(principal, found.accountId)) return found;
  throw unknown();
}

/** Whether a member key is limited to its own usage (a role without usage.all). */
export function ownUsageOnly(request: FastifyRequest): string | null {
  const p = principalOf(request);
  return p.kind === 'member' && !allows(p, 'usage.all') ? p.memberId : null;
}

/**
 * The attribution of a hold or charge made by this caller: a member key spends as its member
 * (naming another member is forbidden); other keys name whom they spend for.
 */
export function attributionOf(
  request: FastifyRequest,
  given: Partial<Attribution> | undefined,
): Partial<Attribution> {
  const p = principalOf(request);
  if (p.kind !== 'member') return given ?? {};
  if (given?.member != null && given.member !== p.memberId) {
    throw new AmisiError('forbidden', `member "${p.memberId}" cannot spend as "${given.member}"`, {
      memberId: p.memberId,
    });
  }
  return { ...given, member: p.memberId };
}

export async function holdInScope(request: FastifyRequest, ledger: Ledger, holdId: string) {
  const hold = await inScope<Hold>(
    request,
    () => ledger.getHold(holdId),
    'unknown_hold',
    () => unknownHold(holdId),
  );
  // A member without usage.all sees and resolves only its own holds; others look unknown.
  const own = ownUsageOnly(request);
  if (own !== null && hold.attribution.member !== own) throw unknownHold(holdId);
  return hold;
}

export function purchaseInScope(request: FastifyRequest, ledger: Ledger, purchaseId: string) {
  return inScope<Purchase>(
    request,
    () => ledger.getPurchase(purchaseId),
    'unknown_purchase',
    () => unknownPurchase(purchaseId),
  );
}

/** The upgrade, if the caller may reach it; another account's looks unknown. */
export function upgradeInScope(request: FastifyRequest, ledger: Ledger, upgradeId: string) {
  return inScope<PlanUpgrade>(
    request,
    () => ledger.getUpgrade(upgradeId),
    'unknown_upgrade',
    () => new AmisiError('unknown_upgrade', `unknown upgrade "${upgradeId}"`, { upgradeId }),
  );
}

const unknownBatch = (batchId: string) =>
  new AmisiError('unknown_batch', `unknown batch "${batchId}"`, { batchId });

/** The batch (as stored), if the caller may reach it; another account's looks unknown. */
export async function batchInScope(
  request: FastifyRequest,
  ledger: Ledger,
  batchId: string,
): Promise<RequestBatch> {
  const batch = await inScope<RequestBatch>(
    request,
    () => ledger.findBatch(batchId),
    'unknown_batch',
    () => unknownBatch(batchId),
  );
  // A member without usage.all sees and resolves only its own batches, like its own holds.
  const own = ownUsageOnly(request);
  if (own !== null && batch.attribution.member !== own) throw unknownBatch(batchId);
  return batch;
}
