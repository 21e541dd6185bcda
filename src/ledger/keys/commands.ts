import { AmisiError } from '../../core/errors.js';
import type { Member } from '../../core/teams.js';
import { loadTeam } from '../teams/budgets.js';
import type { UnitOfWork } from '../unit-of-work.js';
import { onceRef, type Replayable } from '../idempotency.js';
import * as teams from '../teams/commands.js';
import { EVERY_ACCOUNT_SCOPE } from '../webhooks/commands.js';
import type { ApiKeyRecord } from '../store.js';

/**
 * API-key writes go through the committer like every other write: issuing a key is checked
 * against the account and member under the account's lock, and accepting an invitation and
 * issuing the member's first key are one command, one transaction.
 */

/** The idempotency key of an issue: the key's id, which is random and made once per issue. */
function issueKey(record: ApiKeyRecord): string {
  return `api-key-${record.id}`;
}

/**
 * Issues a key (the service made its id and the hash of its secret). A member key needs an
 * active member of an organization. Idempotent by the key's id: the same record again is a
 * replay.
 */
export async function issueApiKey(
  uow: UnitOfWork,
  record: ApiKeyRecord,
): Promise<Replayable<{ record: ApiKeyRecord }>> {
  if (record.accountId !== null) await requireHolder(uow, record.accountId, record.memberId);
  const { createdAt: _at, ...request } = record;
  return onceRef(
    uow,
    record.accountId ?? EVERY_ACCOUNT_SCOPE,
    issueKey(record),
    { op: 'issue_api_key', ...request },
    async () => {
      await uow.insertApiKey(record);
      return { result: { record }, ref: record.id };
    },
    // The same fingerprint is the same record: the replay answers it as it was issued.
    async () => ({ record }),
  );
}

/** The account exists and, for a member key, the member is an active member of it. */
async function requireHolder(
  uow: UnitOfWork,
  accountId: string,
  memberId: string | null,
): Promise<void> {
  const state = await uow.account(accountId);
  if (memberId === null) return;
  const team = await loadTeam(uow, state);
  const member: Member | undefined = team.members.get(memberId);
  if (!member) {
    throw new AmisiError('unknown_member', `unknown member "${memberId}" of ${accountId}`, {
      accountId,
      memberId,
    });
  }
  // A key for an invited member would be refused on every request until the invitation is
  // accepted: refuse to make it, and say what to do.
  if (member.status !== 'active') {
    throw new AmisiError(
      'member_not_active',
      `member "${memberId}" of ${accountId} is ${member.status}, not active: a key for it would be refused until the invitation is accepted`,
      { accountId, memberId, status: member.status },
    );
  }
}

/** Revokes a key at `uow.now`; false when there is no such key or it was revoked already. */
export async function revokeApiKey(uow: UnitOfWork, keyId: string): Promise<boolean> {
  return uow.revokeApiKey(keyId);
}

export interface AcceptWithKeyInput {
  readonly accountId: string;
  readonly memberId: string;
  readonly codeHash: string;
  /** The member's first key, made by the service (its secret is the caller's alone). */
  readonly key: ApiKeyRecord;
}

/** An invited member accepts and gets its first key, in one transaction. */
export async function acceptInvitationWithKey(
  uow: UnitOfWork,
  input: AcceptWithKeyInput,
): Promise<{ member: Member; record: ApiKeyRecord }> {
  const { key, ...invitation } = input;
  const { member } = await teams.acceptInvitation(uow, invitation);
  const { record } = await issueApiKey(uow, key);
  return { member, record };
}
