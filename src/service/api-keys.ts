import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { AmisiError } from '../core/errors.js';
import {
  LEDGER_PROBLEMS as L,
  type ApiKeyView,
  type KeyForCheck,
  type Ledger,
} from '../ledger/ledger.js';
import { codes, INPUT, STORE, type UseCaseProblems } from '../ledger/problems.js';
import { systemClock, type Clock } from '../ledger/ports.js';
import type { ApiKeyRecord } from '../ledger/store.js';
import { requireId } from '../ledger/validate.js';
import { can, type Action, type Member, type Role } from '../core/teams.js';

/**
 * API keys for the HTTP API. A key is `amk_<id>_<secret>`: the id is public (it names the key
 * in listings and logs), the secret is 256 random bits. Only the SHA-256 of the whole key is
 * stored: a fast hash is right for a random secret of that size (nothing to brute-force), and it
 * keeps the check cheap on every request.
 */

export const API_KEY_PREFIX = 'amk_';
const KEY_PATTERN = /^amk_([0-9a-z]{12})_([A-Za-z0-9_-]{43})$/;
const ID_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const ID_LENGTH = 12;
const SECRET_BYTES = 32;
const MAX_NAME_LENGTH = 100;
/** How long a looked-up key is trusted before it is read again (a revocation's delay). */
export const KEY_CACHE_MS = 5000;
/** Most keys kept in the cache; past it the cache starts over. */
const MAX_CACHED_KEYS = 10_000;

/**
 * Who is calling, as an API key says. Every scope check switches over `kind`, so a new kind
 * (a team member's key: organization + member + role) does not compile until each check
 * decides what it may do.
 */
export type Principal = OperatorPrincipal | AccountPrincipal | MemberPrincipal;

interface PrincipalBase {
  readonly keyId: string;
  /** A read-only key may read but never change anything. */
  readonly readOnly: boolean;
  /** When a short-lived key stops working; null: when it is revoked. */
  readonly expiresAt: number | null;
}

/** The platform's own key: every account. */
export interface OperatorPrincipal extends PrincipalBase {
  readonly kind: 'operator';
}

/** One account's key: that account's credits only. */
export interface AccountPrincipal extends PrincipalBase {
  readonly kind: 'account';
  readonly accountId: string;
}

/**
 * A member's key: the organization's credits, as far as the member's role allows. The role is
 * read with the key (and cached as long), so a role change or removal applies within seconds.
 */
export interface MemberPrincipal extends PrincipalBase {
  readonly kind: 'member';
  readonly accountId: string;
  readonly memberId: string;
  readonly role: Role;
}

/** Whether the principal may read and act on this account's credits. */
export function canActOn(principal: Principal, accountId: string): boolean {
  switch (principal.kind) {
    case 'operator':
      return true;
    case 'account':
    case 'member':
      return principal.accountId === accountId;
    default:
      return unreachable(principal);
  }
}

/** Whether the principal's role allows the action (operator and account keys: everything). */
export function allows(principal: Principal, action: Action): boolean {
  switch (principal.kind) {
    case 'operator':
    case 'account':
      return true;
    case 'member':
      return can(principal.role, action);
    default:
      return unreachable(principal);
  }
}

/** The role the ledger checks owner changes against: null (no limit) for non-member keys. */
export function actorOf(principal: Principal): Role | null {
  return principal.kind === 'member' ? principal.role : null;
}

function unreachable(value: never): never {
  throw new Error(`unknown principal ${JSON.stringify(value)}`);
}

export interface CreateKeyInput {
  /** 'operator', or the account the key acts on (and, for a member key, the member). */
  readonly scope: 'operator' | { readonly accountId: string; readonly memberId?: string | null };
  readonly readOnly?: boolean;
  readonly name?: string | null;
  /**
   * A short-lived key: it stops working this many seconds after it is made (MIN_KEY_TTL_SECONDS
   * to MAX_KEY_TTL_SECONDS). What a platform's backend mints for a customer's browser, such as
   * the embedded components (web/embed). Absent: the key works until it is revoked.
   */
  readonly ttlSeconds?: number;
}

/** A short-lived key lasts at least a minute and at most 30 days. */
export const MIN_KEY_TTL_SECONDS = 60;
export const MAX_KEY_TTL_SECONDS = 30 * 86_400;

export interface ApiKeysOptions {
  readonly clock?: Clock;
  /** How long a key read from the store is trusted (default KEY_CACHE_MS; 0: always read). */
  readonly cacheMs?: number;
}

/** SHA-256 of the key, one shot (a third of createHash's cost: it runs on every request). */
function hashKey(key: string): Buffer {
  return hash('sha256', key, 'buffer');
}

function newKeyId(): string {
  const bytes = randomBytes(ID_LENGTH);
  let id = '';
  for (const b of bytes) id += ID_ALPHABET[b % 32];
  return id;
}

function principalOf(record: ApiKeyRecord, member: Member | undefined): Principal | null {
  if (record.scope === 'operator') {
    return {
      kind: 'operator',
      keyId: record.id,
      readOnly: record.readOnly,
      expiresAt: record.expiresAt,
    };
  }
  if (record.memberId !== null) {
    // A member who left, or has not accepted yet, has no access.
    if (!member || member.status !== 'active') return null;
    return {
      kind: 'member',
      keyId: record.id,
      readOnly: record.readOnly,
      expiresAt: record.expiresAt,
      accountId: record.accountId!,
      memberId: record.memberId,
      role: member.role,
    };
  }
  return {
    kind: 'account',
    keyId: record.id,
    readOnly: record.readOnly,
    expiresAt: record.expiresAt,
    accountId: record.accountId!,
  };
}

/** The key's id from `amk_<id>`, `amk_<id>_<secret>` or a bare id. */
export function keyIdOf(text: string): string {
  const bare = text.startsWith(API_KEY_PREFIX) ? text.slice(API_KEY_PREFIX.length) : text;
  return bare.slice(0, ID_LENGTH);
}

/** The problem codes of each use-case of ApiKeys (src/ledger/problems.ts). */
export const API_KEYS_PROBLEMS = {
  create: codes(INPUT, L.issueApiKey),
  acceptInvitation: codes(INPUT, L.acceptInvitationWithKey),
  forgetAccount: [],
  list: L.listApiKeys,
  revoke: codes(INPUT, L.revokeApiKey, L.getApiKey, 'unknown_api_key'),
  authenticate: codes(STORE, L.keyForCheck),
} as const satisfies UseCaseProblems<ApiKeys>;

/**
 * Creating, listing, revoking and checking keys. The keys are made here (only their hash leaves
 * this class) and stored through the ledger's write path, like every other write, so issuing a
 * key and accepting an invitation with its first key are each one idempotent command.
 */
export class ApiKeys {
  private readonly clock: Clock;
  private readonly cacheMs: number;
  private readonly cache = new Map<
    string,
    { record: ApiKeyRecord; member: Member | undefined; until: number }
  >();

  constructor(
    private readonly ledger: Ledger,
    options: ApiKeysOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.cacheMs = options.cacheMs ?? KEY_CACHE_MS;
  }

  /** Makes a key; the returned `key` is the only time the secret exists outside the caller. */
  async create(input: CreateKeyInput): Promise<{ key: string; record: ApiKeyView }> {
    const name = checkName(input.name ?? null);
    let accountId: string | null = null;
    let memberId: string | null = null;
    if (input.scope !== 'operator') {
      accountId = requireId(input.scope.accountId, 'account');
      if (input.scope.memberId != null) memberId = requireId(input.scope.memberId, 'member');
    }
    const ttl = checkTtl(input.ttlSeconds);
    const { key, record } = this.make(accountId, memberId, input.readOnly === true, name, ttl);
    // The ledger checks the account and member in the same transaction as it stores the key.
    const issued = await this.ledger.issueApiKey(record);
    return { key, record: issued.record };
  }

  /**
   * Accepts an invitation and makes the member's first key, in one transaction: a refused
   * invitation makes no key, and an accepted one always has its key.
   */
  async acceptInvitation(input: {
    accountId: string;
    memberId: string;
    code: string;
    keyName?: string | null;
  }): Promise<{ key: string; member: Member; record: ApiKeyView }> {
    const name = checkName(input.keyName ?? null);
    const { accountId, memberId, code } = input;
    // The ledger checks the invitation first (a bad code is invalid_invitation, whatever else).
    const { key, record } = this.make(accountId, memberId, false, name);
    const accepted = await this.ledger.acceptInvitationWithKey({
      accountId,
      memberId,
      code,
      key: record,
    });
    return { key, ...accepted };
  }

  /** A new key and its record (only the hash of the key is kept). */
  private make(
    accountId: string | null,
    memberId: string | null,
    readOnly: boolean,
    name: string | null,
    ttlSeconds: number | null = null,
  ): { key: string; record: ApiKeyRecord } {
    const id = newKeyId();
    const now = this.clock.now();
    const key = `${API_KEY_PREFIX}${id}_${randomBytes(SECRET_BYTES).toString('base64url')}`;
    const record: ApiKeyRecord = {
      id,
      secretHash: hashKey(key).toString('hex'),
      scope: accountId === null ? 'operator' : 'account',
      accountId,
      readOnly,
      name,
      createdAt: now,
      revokedAt: null,
      memberId,
      expiresAt: ttlSeconds === null ? null : now + ttlSeconds * 1000,
    };
    return { key, record };
  }

  /**
   * Forgets the cached keys of an account, so a member's new role or removal applies to the
   * next request here (other servers notice within their cache time).
   */
  forgetAccount(accountId: string): void {
    for (const [id, entry] of this.cache) {
      if (entry.record.accountId === accountId) this.cache.delete(id);
    }
  }

  list(): Promise<ApiKeyView[]> {
    return this.ledger.listApiKeys();
  }

  /** Revokes a key at once (servers notice within their cache time); revoking twice is a no-op. */
  async revoke(idOrKey: string): Promise<{ record: ApiKeyView; revoked: boolean }> {
    const id = keyIdOf(idOrKey);
    const revoked = await this.ledger.revokeApiKey(id);
    this.cache.delete(id);
    const record = await this.ledger.getApiKey(id);
    if (!record) {
      throw new AmisiError('unknown_api_key', `unknown API key "${idOrKey.slice(0, 20)}"`, {
        keyId: id,
      });
    }
    return { record, revoked };
  }

  /** The principal of a presented key, or null when it is malformed, unknown, revoked or expired. */
  async authenticate(presented: string): Promise<Principal | null> {
    const match = KEY_PATTERN.exec(presented);
    if (!match) return null;
    const found = await this.lookup(match[1]!);
    if (!found || found.record.revokedAt !== null) return null;
    // Checked on every request, cached or not: a key ends at its time, not a cache time later.
    if (found.record.expiresAt !== null && found.record.expiresAt <= this.clock.now()) return null;
    const { record, member } = found;
    const expected = Buffer.from(record.secretHash, 'hex');
    const actual = hashKey(presented);
    // Constant time, so the answer's timing says nothing about how much of the hash matched.
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return null;
    return principalOf(record, member);
  }

  private async lookup(id: string): Promise<KeyForCheck | undefined> {
    const now = this.clock.now();
    const cached = this.cache.get(id);
    if (cached && cached.until > now) return cached;
    const found = await this.ledger.keyForCheck(id);
    if (!found) return undefined;
    const { record, member } = found;
    if (this.cacheMs > 0) {
      if (this.cache.size >= MAX_CACHED_KEYS) this.cache.clear();
      this.cache.set(id, { record, member, until: now + this.cacheMs });
    }
    return { record, member };
  }
}

function checkTtl(ttlSeconds: number | undefined): number | null {
  if (ttlSeconds === undefined) return null;
  if (
    !Number.isSafeInteger(ttlSeconds) ||
    ttlSeconds < MIN_KEY_TTL_SECONDS ||
    ttlSeconds > MAX_KEY_TTL_SECONDS
  ) {
    throw new AmisiError(
      'invalid_argument',
      `ttlSeconds must be a whole number from ${MIN_KEY_TTL_SECONDS} to ${MAX_KEY_TTL_SECONDS} (30 days)`,
      { field: 'ttlSeconds', value: ttlSeconds },
    );
  }
  return ttlSeconds;
}

function checkName(name: string | null): string | null {
  if (name === null) return null;
  const control = [...name].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
  if (name.length === 0 || name.length > MAX_NAME_LENGTH || control) {
    throw new AmisiError(
      'invalid_argument',
      `name must be 1-${MAX_NAME_LENGTH} characters without control characters`,
      { field: 'name' },
    );
  }
  return name;
}
