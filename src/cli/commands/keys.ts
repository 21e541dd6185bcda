import type { Command } from 'commander';
import { AmisiError } from '../../core/errors.js';
import type { ApiKeyView } from '../../ledger/ledger.js';
import { API_KEY_PREFIX, ApiKeys, type CreateKeyInput } from '../../service/api-keys.js';
import { withLedger, type GlobalOptions } from '../context.js';
import { iso, pairs, table } from '../output.js';
import { parseSeconds } from '../parse.js';

type Globals = () => GlobalOptions;

/** --scope operator | account:ID | member:ORG/MEMBER */
function parseScope(text: string): CreateKeyInput['scope'] {
  if (text === 'operator') return 'operator';
  if (text.startsWith('account:') && text.length > 'account:'.length) {
    return { accountId: text.slice('account:'.length) };
  }
  const member = /^member:([^/]+)\/(.+)$/.exec(text);
  if (member) return { accountId: member[1]!, memberId: member[2]! };
  throw new AmisiError(
    'invalid_argument',
    `scope must be operator, account:ID or member:ORG/MEMBER, got "${text}"`,
    { field: 'scope', value: text },
  );
}

/** What is safe to print about a key: everything but its hash. */
function shown(k: ApiKeyView) {
  return {
    id: k.id,
    prefix: `${API_KEY_PREFIX}${k.id}`,
    scope: k.scope,
    accountId: k.accountId,
    memberId: k.memberId,
    readOnly: k.readOnly,
    name: k.name,
    createdAt: k.createdAt,
    revokedAt: k.revokedAt,
    expiresAt: k.expiresAt,
  };
}

function scopeText(k: ApiKeyView): string {
  if (k.scope === 'operator') return 'operator';
  return k.memberId === null ? `account:${k.accountId}` : `member:${k.accountId}/${k.memberId}`;
}

export function registerKeys(program: Command, globals: Globals): void {
  const keys = program.command('keys').description('API keys for the HTTP API (amisi serve)');
  keys
    .command('create')
    .description('make a key; it is shown once and only its hash is stored')
    .requiredOption(
      '--scope <scope>',
      "operator (every account), account:ID (that account) or member:ORG/MEMBER (the member's role)",
    )
    .option('--read-only', 'the key may read but never change anything')
    .option('--name <name>', 'what the key is for, shown in listings')
    .option('--ttl <duration>', 'a short-lived key: it stops working after 1m to 30d (e.g. 1h)')
    .action(async (o: { scope: string; readOnly?: boolean; name?: string; ttl?: string }) => {
      const input: CreateKeyInput = {
        scope: parseScope(o.scope),
        readOnly: o.readOnly === true,
        name: o.name ?? null,
        ...(o.ttl === undefined ? {} : { ttlSeconds: parseSeconds(o.ttl, 'ttl') }),
      };
      await withLedger(globals(), async (ledger, out) => {
        const { key, record } = await new ApiKeys(ledger).create(input);
        out.print(
          () =>
            [
              pairs([
                ['key', key],
                ['id', record.id],
                ['scope', scopeText(record)],
                ['read-only', record.readOnly ? 'yes' : 'no'],
                ['name', record.name],
                ['expires', record.expiresAt === null ? 'never' : iso(record.expiresAt)],
              ]),
              '',
              'This is the only time the key is shown: store it now. Send it as',
              `Authorization: Bearer ${API_KEY_PREFIX}...`,
            ].join('\n'),
          { key, ...shown(record) },
        );
      });
    });

  keys
    .command('list')
    .description('every key (revoked ones too), without secrets')
    .action(async () => {
      await withLedger(globals(), async (ledger, out) => {
        const all = await new ApiKeys(ledger).list();
        out.print(
          () =>
            all.length === 0
              ? 'no API keys (amisi keys create --scope operator)'
              : table(all, [
                  { header: 'id', value: (k) => k.id },
                  { header: 'scope', value: (k) => scopeText(k) },
                  { header: 'read-only', value: (k) => (k.readOnly ? 'yes' : 'no') },
                  { header: 'name', value: (k) => k.name },
                  { header: 'created', value: (k) => iso(k.createdAt) },
                  { header: 'revoked', value: (k) => iso(k.revokedAt) },
                  { header: 'expires', value: (k) => iso(k.expiresAt) },
                ]),
          all.map(shown),
        );
      });
    });

  keys
    .command('revoke <id>')
    .description('revoke a key (running servers refuse it within 5 seconds)')
    .action(async (id: string) => {
      await withLedger(globals(), async (ledger, out) => {
        const { record, revoked } = await new ApiKeys(ledger).revoke(id);
        out.print(() => `key ${record.id} ${revoked ? 'revoked' : 'was already revoked'}`, {
          ...shown(record),
          revoked,
        });
      });
    });
}
