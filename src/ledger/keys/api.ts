import type { Member } from '../../core/teams.js';
import type { Replayable } from '../idempotency.js';
import type { LedgerContext } from '../context.js';
import type { ApiKeyInfo, ApiKeyRecord } from '../store.js';
import { checkInvitation, TEAMS_PROBLEMS } from '../teams/api.js';
import * as keys from './commands.js';
import { ACCOUNT, codes, STORE, type UseCaseProblems } from '../problems.js';

/** An API key as listings show it: everything but the hash of its secret. */
export type ApiKeyView = ApiKeyInfo;

/** A key as the key check reads it: with its secret's hash, and its member for a member key. */
export interface KeyForCheck {
  readonly record: ApiKeyRecord;
  readonly member: Member | undefined;
}

function view(record: ApiKeyRecord): ApiKeyView {
  const { secretHash: _hash, ...rest } = record;
  return rest;
}

/** The problem codes of each use-case below (src/ledger/problems.ts). */
export const KEYS_PROBLEMS = {
  // An account's key: the account must exist, and a member's key an active member of it.
  issueApiKey: codes(ACCOUNT, 'unknown_member', 'member_not_active'),
  revokeApiKey: STORE,
  // The member it accepts is active, so its key is issued.
  acceptInvitationWithKey: TEAMS_PROBLEMS.acceptInvitation,
  listApiKeys: STORE,
  getApiKey: STORE,
  keyForCheck: STORE,
} as const satisfies UseCaseProblems<KeysApi>;

/**
 * API keys, through the ledger's write path: issue (idempotent by the key's id), revoke, and an
 * invitation's acceptance with the member's first key. The service (service/api-keys.ts) makes
 * keys and checks them; only its check reads a key's hash.
 */
export class KeysApi {
  constructor(private readonly ctx: LedgerContext) {}

  /** Stores a key the service made; the answer carries no hash. */
  async issueApiKey(record: ApiKeyRecord): Promise<Replayable<{ record: ApiKeyView }>> {
    const r = await this.ctx.committer.submit(
      (b) => keys.issueApiKey(b, record),
      record.accountId === null ? {} : { accountId: record.accountId },
    );
    return { record: view(r.record), replay: r.replay };
  }

  /** Revokes a key; false when there is no such key or it was revoked already. */
  revokeApiKey(keyId: string): Promise<boolean> {
    return this.ctx.committer.submit((b) => keys.revokeApiKey(b, keyId));
  }

  /** Accepts an invitation and issues the member's first key, in one transaction. */
  async acceptInvitationWithKey(input: {
    accountId: string;
    memberId: string;
    code: string;
    key: ApiKeyRecord;
  }): Promise<{ member: Member; record: ApiKeyView }> {
    const checked = { ...checkInvitation(input), key: input.key };
    const r = await this.ctx.committer.submit((b) => keys.acceptInvitationWithKey(b, checked), {
      accountId: checked.accountId,
    });
    return { member: r.member, record: view(r.record) };
  }

  /** Every key (revoked ones too), without hashes. */
  async listApiKeys(): Promise<ApiKeyView[]> {
    return this.ctx.store.find('api_keys', {}, { order: ['createdAt', 'id'] });
  }

  /** One key without its hash, or undefined. */
  async getApiKey(keyId: string): Promise<ApiKeyView | undefined> {
    return this.ctx.store.get('api_keys', { id: keyId });
  }

  /** The key check's read: the key with its hash, and its member. Nothing else reads the hash. */
  async keyForCheck(keyId: string): Promise<KeyForCheck | undefined> {
    const record = await this.ctx.store.keyForCheck(keyId);
    if (!record) return undefined;
    const member =
      record.memberId !== null && record.accountId !== null
        ? await this.ctx.store.get('members', { accountId: record.accountId, id: record.memberId })
        : undefined;
    return { record, member };
  }
}
