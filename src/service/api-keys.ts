import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { AmisiError } from '../core/errors.js';
import { systemClock, type Clock } from '../ledger/ports.js';
import type { ApiKeyRecord, Store } from '../ledger/store.js';
import { requireId } from '../ledger/validate.js';

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
export type Principal = OperatorPrincipal | AccountPrincipal;

interface PrincipalBase {
  readonly keyId: string;
  /** A read-only key may read but never change anything. */
  readonly readOnly: boolean;
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

/** Whether the principal may read and act on this account's credits. */
export function canActOn(principal: Principal, accountId: string): boolean {
  switch (principal.kind) {
    case 'operator':
      return true;
    case 'account':
      return principal.accountId === accountId;
    default:
      return unreachable(principal);
  }
}

function unreachable(value: never): never {
  throw new Error(`unknown principal ${JSON.stringify(value)}`);
}

export interface CreateKeyInput {
  /** 'operator', or the account the key acts on. */
  readonly scope: 'operator' | { readonly accountId: string };
  readonly readOnly?: boolean;
  readonly name?: string | null;
}

export interface ApiKeysOptions {
  readonly clock?: Clock;
  /** How long a key read from the store is trusted (default KEY_CACHE_MS; 0: always read). */
  readonly cacheMs?: number;
}

function hashKey(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

function newKeyId(): string {
  const bytes = randomBytes(ID_LENGTH);
  let id = '';
  for (const b of bytes) id += ID_ALPHABET[b % 32];
  return id;
}

function principalOf(record: ApiKeyRecord): Principal {
  if (record.scope === 'operator') {
    return { kind: 'operator', keyId: record.id, readOnly: record.readOnly };
  }
  return {
    kind: 'account',
    keyId: record.id,
    readOnly: record.readOnly,
    accountId: record.accountId!,
  };
}

/** The key's id from `amk_<id>`, `amk_<id>_<secret>` or a bare id. */
export function keyIdOf(text: string): string {
  const bare = text.startsWith(API_KEY_PREFIX) ? text.slice(API_KEY_PREFIX.length) : text;
  return bare.slice(0, ID_LENGTH);
}

/**
 * Creating, listing, revoking and checking keys. Creating and revoking write through the store
 * directly (keys are credentials, not ledger state), so they run where no ledger is writing to
 * the same store object: the `amisi keys` commands.
 */
export class ApiKeys {
  private readonly clock: Clock;
  private readonly cacheMs: number;
  private readonly cache = new Map<string, { record: ApiKeyRecord; until: number }>();

  constructor(
    private readonly store: Store,
    options: ApiKeysOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.cacheMs = options.cacheMs ?? KEY_CACHE_MS;
  }

  /** Makes a key; the returned `key` is the only time the secret exists outside the caller. */
  async create(input: CreateKeyInput): Promise<{ key: string; record: ApiKeyRecord }> {
    const name = checkName(input.name ?? null);
    let accountId: string | null = null;
    if (input.scope !== 'operator') {
      accountId = requireId(input.scope.accountId, 'account');
      if (!(await this.store.getAccount(accountId))) {
        throw new AmisiError('unknown_account', `unknown account "${accountId}"`, { accountId });
      }
    }
    const id = newKeyId();
    const key = `${API_KEY_PREFIX}${id}_${randomBytes(SECRET_BYTES).toString('base64url')}`;
    const record: ApiKeyRecord = {
      id,
      secretHash: hashKey(key).toString('hex'),
      scope: accountId === null ? 'operator' : 'account',
      accountId,
      readOnly: input.readOnly === true,
      name,
      createdAt: this.clock.now(),
      revokedAt: null,
    };
    await this.store.write((tx) => tx.insertApiKey(record));
    return { key, record };
  }

  list(): Promise<ApiKeyRecord[]> {
    return this.store.listApiKeys();
  }

  /** Revokes a key at once (servers notice within their cache time); revoking twice is a no-op. */
  async revoke(idOrKey: string): Promise<{ record: ApiKeyRecord; revoked: boolean }> {
    const id = keyIdOf(idOrKey);
    const revoked = await this.store.write((tx) => tx.revokeApiKey(id, this.clock.now()));
    this.cache.delete(id);
    const record = await this.store.getApiKey(id);
    if (!record) {
      throw new AmisiError('unknown_api_key', `unknown API key "${idOrKey.slice(0, 20)}"`, {
        keyId: id,
      });
    }
    return { record, revoked };
  }

  /** The principal of a presented key, or null when it is malformed, unknown or revoked. */
  async authenticate(presented: string): Promise<Principal | null> {
    const match = KEY_PATTERN.exec(presented);
    if (!match) return null;
    const record = await this.lookup(match[1]!);
    if (!record || record.revokedAt !== null) return null;
    const expected = Buffer.from(record.secretHash, 'hex');
    const actual = hashKey(presented);
    // Constant time, so the answer's timing says nothing about how much of the hash matched.
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return null;
    return principalOf(record);
  }

  private async lookup(id: string): Promise<ApiKeyRecord | undefined> {
    const now = this.clock.now();
    const cached = this.cache.get(id);
    if (cached && cached.until > now) return cached.record;
    const record = await this.store.getApiKey(id);
    if (record && this.cacheMs > 0) {
      if (this.cache.size >= MAX_CACHED_KEYS) this.cache.clear();
      this.cache.set(id, { record, until: now + this.cacheMs });
    }
    return record;
  }
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
