import type { Command } from 'commander';
import type { Hold } from '../../core/holds.js';
import type { Quote, QuoteLine } from '../../core/quote.js';
import { parseCredits } from '../../core/credits.js';
import { AmisiError } from '../../core/errors.js';
import { MAX_SUMMARY_PAGE, type AccountSummary } from '../../ledger/ledger.js';
import { withLedger, type GlobalOptions } from '../context.js';
import { credits as creditsText, iso, pairs, table } from '../output.js';
import {
  amountFrom,
  attributionFrom,
  collect,
  parseCount,
  parseDuration,
  parseTime,
  type AttributionOptions,
  type PricedOptions,
} from '../parse.js';

type Globals = () => GlobalOptions;

/** The parameters of a priced line; "(default)" marks those the request left to the catalog. */
function paramsText(l: QuoteLine, given: ReadonlySet<string>): string {
  return Object.entries(l.params)
    .map(([k, v]) => `${k}=${v}${given.has(k) ? '' : ' (default)'}`)
    .join(' ');
}

/** The parameter names a one-item request gave (--resolution and --param). */
function givenParams(amount: ReturnType<typeof amountFrom>): ReadonlySet<string> {
  return new Set('items' in amount ? Object.keys(amount.items[0]?.params ?? {}) : []);
}

/** What a hold or charge was priced at, one line per quote line (none for --credits). */
function pricedRows(q: Quote | null, given: ReadonlySet<string>): [string, string][] {
  return (q?.lines ?? []).map((l) => [
    'priced',
    [l.operation, paramsText(l, given), `x${l.count} = ${creditsText(l.credits)}`]
      .filter((part) => part !== '')
      .join(' '),
  ]);
}

function quoteTable(q: Quote, given: ReadonlySet<string>): string {
  return [
    table(q.lines, [
      { header: 'operation', value: (l) => l.operation },
      { header: 'parameters', value: (l) => paramsText(l, given) },
      { header: 'unit credits', value: (l) => l.unitCredits },
      { header: 'count', value: (l) => l.count },
      { header: 'credits', value: (l) => l.credits },
    ]),
    `total ${creditsText(q.credits)} (catalog ${q.catalogVersion})`,
  ].join('\n');
}

function holdPairs(h: Hold, extra: [string, string | number | null][] = []): string {
  return pairs([
    ['hold', h.id],
    ['account', h.accountId],
    ['status', h.status],
    ['credits', h.credits],
    ['captured', h.capturedCredits],
    // Captured in part and still open: what it still reserves.
    ...(h.status === 'held' && h.capturedCredits > 0
      ? [['still held', h.credits - h.capturedCredits] as [string, number]]
      : []),
    ['expires', iso(h.expiresAt)],
    ['catalog', h.catalogVersion],
    ...extra,
  ]);
}

const replayNote = (replay: boolean): [string, string][] =>
  replay ? [['replay', 'yes: the original result of this key']] : [];

function pricedOptions(cmd: Command, credits = true): Command {
  cmd
    .option('--resolution <r>', 'resolution parameter (image operations)')
    .option('--count <n>', 'how many units (images, edits, ...)')
    .option('--param <k=v>', 'another parameter of the operation (repeatable)', collect, []);
  return credits
    ? cmd.option('--credits <n>', 'a plain amount of credits instead of an operation')
    : cmd;
}

function attributionOptions(cmd: Command): Command {
  return cmd
    .option('--member <id>', 'the team member the credits are for')
    .option('--project <id>', 'the project the credits are for')
    .option('--label <k=v>', 'a free-form label (repeatable)', collect, []);
}

const STATUS_TEXT: Record<AccountSummary['status'], string> = {
  active: 'active',
  ending: 'ending',
  no_plan: 'no plan',
};

/** The operator's account list, as the dashboard's Accounts page shows it. */
function summaryTable(rows: readonly AccountSummary[]): string {
  return table(rows, [
    { header: 'account', value: (r) => r.account.id },
    { header: 'name', value: (r) => r.account.name },
    { header: 'plan', value: (r) => r.account.plan },
    { header: 'status', value: (r) => STATUS_TEXT[r.status] },
    { header: 'available', value: (r) => r.available, align: 'right' },
    { header: 'held', value: (r) => r.held, align: 'right' },
    { header: 'owes', value: (r) => r.debt, align: 'right' },
    { header: 'last activity', value: (r) => iso(r.lastActivityAt) ?? 'none yet' },
  ]);
}

export function registerCredits(program: Command, globals: Globals): void {
  const accounts = program.command('accounts').description('create and list accounts');
  accounts
    .command('create <id>')
    .description('create an account (repeating the same command is a no-op)')
    .option(
      '--plan <plan>',
      "subscribe it to this catalog plan now, with the first cycle's credits (like amisi subscribe)",
    )
    .option('--key <key>', 'idempotency key of the subscription (default create-<id>)')
    .option(
      '--test-clock <clock>',
      'make it on this test clock (amisi clocks): it runs on its time',
    )
    .action(async (id: string, o: { plan?: string; key?: string; testClock?: string }) => {
      await withLedger(globals(), async (ledger, out) => {
        const r = await ledger.createAccount({
          accountId: id,
          plan: o.plan ?? null,
          ...(o.key === undefined ? {} : { key: o.key }),
          ...(o.testClock === undefined ? {} : { testClockId: o.testClock }),
        });
        const sub = r.subscription;
        out.print(
          () =>
            pairs([
              ['account', r.account.id],
              ['plan', r.account.plan],
              ['created', iso(r.account.createdAt)],
              ...(r.account.testClockId
                ? [['test clock', r.account.testClockId] as [string, string]]
                : []),
              ...(sub === null
                ? []
                : ([
                    ['subscription', sub.subscription.id],
                    ['credits granted now', sub.credits],
                    ['next renewal', iso(sub.subscription.nextRenewalAt)],
                  ] as [string, string | number][])),
              ...replayNote(r.replay),
            ]),
          r,
        );
      });
    });
  accounts
    .command('list')
    .description('accounts in id order; --summary adds balances, plan status and last activity')
    .option('--after <id>', 'start after this account id')
    .option('--limit <n>', `how many (default 100; with --summary at most ${MAX_SUMMARY_PAGE})`)
    .option('--search <text>', 'only accounts whose id or name contains it (any case)')
    .option('--summary', "each account's available, held and owed credits, status, last activity")
    .action(async (o: { after?: string; limit?: string; search?: string; summary?: boolean }) => {
      const max = o.summary === true ? MAX_SUMMARY_PAGE : 1000;
      const limit = o.limit === undefined ? Math.min(100, max) : parseCount(o.limit, 'limit');
      if (limit < 1 || limit > max) {
        throw new AmisiError('invalid_argument', `limit must be from 1 to ${max}, got ${limit}`, {
          field: 'limit',
        });
      }
      const query = {
        afterId: o.after ?? null,
        limit,
        ...(o.search === undefined ? {} : { search: o.search }),
      };
      await withLedger(globals(), async (ledger, out) => {
        if (o.summary === true) {
          const rows = await ledger.accountSummaries(query);
          out.print(() => summaryTable(rows), rows);
          return;
        }
        const rows = await ledger.listAccounts(query);
        out.print(
          () =>
            table(rows, [
              { header: 'account', value: (a) => a.id },
              { header: 'plan', value: (a) => a.plan },
              { header: 'created', value: (a) => iso(a.createdAt) },
            ]),
          rows,
        );
      });
    });

  program
    .command('grant <account> <credits>')
    .description('give an account credits from a source')
    .requiredOption(
      '--source <source>',
      'allocation, rollover, purchase, promotion, adjustment or trial',
    )
    .requiredOption('--key <key>', 'idempotency key: a retry with the same key never grants twice')
    .option('--expires <iso>', 'when the credits expire (default: never)')
    .option('--starts <iso>', 'when the credits become spendable (default: now)')
    .option('--reason <text>', 'why, for the journal')
    .action(
      async (
        account: string,
        credits: string,
        o: { source: string; key: string; expires?: string; starts?: string; reason?: string },
      ) => {
        const input = {
          accountId: account,
          credits: parseCredits(credits),
          source: o.source,
          key: o.key,
          expiresAt: o.expires === undefined ? null : parseTime(o.expires, 'expires'),
          ...(o.starts === undefined ? {} : { startsAt: parseTime(o.starts, 'starts') }),
          ...(o.reason === undefined ? {} : { reason: o.reason }),
        };
        await withLedger(globals(), async (ledger, out) => {
          const r = await ledger.grant(input);
          const g = r.grant;
          out.print(
            () =>
              pairs([
                ['grant', g.id],
                ['account', g.accountId],
                ['source', g.source],
                ['credits', g.amount],
                ['starts', iso(g.startsAt)],
                ['expires', iso(g.expiresAt) ?? 'never'],
                ['transaction', r.transactionId],
                ...replayNote(r.replay),
              ]),
            r,
          );
        });
      },
    );

  pricedOptions(
    program.command('quote <operation>').description('price a request before running it'),
    false,
  ).action(async (operation: string, o: PricedOptions) => {
    const amount = amountFrom(operation, o);
    await withLedger(globals(), async (ledger, out) => {
      const q = await ledger.quote('items' in amount ? amount.items : []);
      out.print(() => quoteTable(q, givenParams(amount)), q);
    });
  });

  attributionOptions(pricedOptions(program.command('hold <account> [operation]')))
    .description('reserve credits before a job runs (all or nothing)')
    .requiredOption('--key <key>', 'idempotency key')
    .option('--ttl <duration>', 'released by itself after this long (default 15m)', '15m')
    .action(
      async (
        account: string,
        operation: string | undefined,
        o: PricedOptions & AttributionOptions & { key: string; ttl: string },
      ) => {
        const amount = amountFrom(operation, o);
        const input = {
          accountId: account,
          key: o.key,
          ttlMs: parseDuration(o.ttl, 'ttl'),
          attribution: attributionFrom(o),
          ...amount,
        };
        await withLedger(globals(), async (ledger, out) => {
          const r = await ledger.hold(input);
          out.print(
            () =>
              holdPairs(r.hold, [
                ...pricedRows(r.hold.quote, givenParams(amount)),
                ['transaction', r.transactionId],
                ...replayNote(r.replay),
              ]),
            r,
          );
        });
      },
    );

  program
    .command('capture <hold>')
    .description('take all of a hold, or part of it (--credits) and return the rest')
    .option('--credits <n>', 'credits to take (default: all still held)')
    .option('--partial', 'take --credits now and keep the rest held (a long job billed as it goes)')
    .requiredOption('--key <key>', 'idempotency key')
    .action(async (hold: string, o: { credits?: string; key: string; partial?: boolean }) => {
      const input = {
        holdId: hold,
        key: o.key,
        ...(o.credits === undefined ? {} : { credits: parseCredits(o.credits) }),
        ...(o.partial ? { final: false } : {}),
      };
      await withLedger(globals(), async (ledger, out) => {
        const r = await ledger.capture(input);
        out.print(
          () =>
            holdPairs(r.hold, [
              ['released', r.releasedCredits],
              ['transaction', r.transactionId],
              ...replayNote(r.replay),
            ]),
          r,
        );
      });
    });

  program
    .command('extend <hold>')
    .description('give a hold still held a new ttl from now (at most 30 days after it was made)')
    .requiredOption('--ttl <duration>', 'released by itself after this long from now (at most 7d)')
    .requiredOption('--key <key>', 'idempotency key')
    .action(async (hold: string, o: { ttl: string; key: string }) => {
      const input = { holdId: hold, key: o.key, ttlMs: parseDuration(o.ttl, 'ttl') };
      await withLedger(globals(), async (ledger, out) => {
        const r = await ledger.extendHold(input);
        out.print(
          () => holdPairs(r.hold, [['transaction', r.transactionId], ...replayNote(r.replay)]),
          r,
        );
      });
    });

  pricedOptions(program.command('increase <hold> [operation]'))
    .description('reserve more on a hold still held, all or nothing (a job bigger than quoted)')
    .requiredOption('--key <key>', 'idempotency key')
    .action(
      async (hold: string, operation: string | undefined, o: PricedOptions & { key: string }) => {
        const amount = amountFrom(operation, o);
        await withLedger(globals(), async (ledger, out) => {
          const r = await ledger.increaseHold({ holdId: hold, key: o.key, ...amount });
          out.print(
            () =>
              holdPairs(r.hold, [
                ['increased by', r.credits],
                ['transaction', r.transactionId],
                ...replayNote(r.replay),
              ]),
            r,
          );
        });
      },
    );

  program
    .command('release <hold>')
    .description('return all of a hold (the job failed)')
    .requiredOption('--key <key>', 'idempotency key')
    .action(async (hold: string, o: { key: string }) => {
      await withLedger(globals(), async (ledger, out) => {
        const r = await ledger.release({ holdId: hold, key: o.key });
        out.print(
          () =>
            holdPairs(r.hold, [
              ['released', r.releasedCredits],
              ['transaction', r.transactionId],
              ...replayNote(r.replay),
            ]),
          r,
        );
      });
    });

  attributionOptions(pricedOptions(program.command('charge <account> [operation]')))
    .description('hold and capture in one step')
    .requiredOption('--key <key>', 'idempotency key')
    .action(
      async (
        account: string,
        operation: string | undefined,
        o: PricedOptions & AttributionOptions & { key: string },
      ) => {
        const amount = amountFrom(operation, o);
        const input = {
          accountId: account,
          key: o.key,
          attribution: attributionFrom(o),
          ...amount,
        };
        await withLedger(globals(), async (ledger, out) => {
          const r = await ledger.charge(input);
          out.print(
            () =>
              pairs([
                ['account', r.accountId],
                ['credits', r.credits],
                ...pricedRows(r.quote, givenParams(amount)),
                ['from grants', r.draws.map((d) => `${d.grantId} (${d.credits})`).join(', ')],
                ['catalog', r.catalogVersion],
                ['transaction', r.transactionId],
                ...replayNote(r.replay),
              ]),
            r,
          );
        });
      },
    );
}
