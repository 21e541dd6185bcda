import type { Command } from 'commander';
import { AmisiError, errorTable } from '../../core/errors.js';
import type { QuoteLine } from '../../core/quote.js';
import type { CheckResult } from '../../ledger/ledger.js';
import { withLedger, type GlobalOptions } from '../context.js';
import { credits as creditsText, iso, pairs } from '../output.js';
import {
  amountFrom,
  attributionFrom,
  collect,
  parseDuration,
  type AttributionOptions,
  type PricedOptions,
} from '../parse.js';

type Globals = () => GlobalOptions;

type CheckOptions = PricedOptions &
  AttributionOptions & { hold?: boolean; key?: string; ttl?: string };

function lineText(l: QuoteLine): string {
  const params = Object.entries(l.params).map(([k, v]) => `${k}=${v}`);
  return [l.operation, ...params, `x${l.count} = ${creditsText(l.credits)}`].join(' ');
}

type Pair = [string, string | number | null];

/** The check as aligned pairs: allowed, the lines, what blocks it, the balance after. */
export function checkPairs(r: CheckResult): string {
  const b = r.blockedBy;
  const rows: Pair[] = [
    ['account', r.accountId],
    ['allowed', r.allowed ? 'yes' : 'no'],
  ];
  for (const l of r.quote?.lines ?? []) rows.push(['line', lineText(l)]);
  rows.push(['credits', r.credits]);
  if (b !== null) rows.push(['blocked by', `${b.reason} (${b.code}): ${b.message}`]);
  rows.push(['available', r.available], ['available after', r.availableAfter]);
  if (r.hold !== null) {
    rows.push(['hold', r.hold.id], ['expires', iso(r.hold.expiresAt)]);
    rows.push(['transaction', r.transactionId]);
  }
  if (r.replay) rows.push(['replay', 'yes: the original result of this key']);
  return pairs(rows);
}

/**
 * `amisi check <account> [operation]`: may this request run now (ledger.check). Not allowed is
 * a check that succeeded: the table (or JSON) is printed, and the exit code is the one of the
 * code that blocks it (the error table's), as the hold's refusal would exit.
 */
export function registerCheck(program: Command, globals: Globals): void {
  program
    .command('check <account> [operation]')
    .description('may this request run now: its price, what blocks it, the balance after')
    .option('--resolution <r>', 'resolution parameter (image operations)')
    .option('--count <n>', 'how many units (images, edits, ...)')
    .option('--param <k=v>', 'another parameter of the operation (repeatable)', collect, [])
    .option('--credits <n>', 'a plain amount of credits instead of an operation')
    .option('--member <id>', 'the team member the credits are for')
    .option('--project <id>', 'the project the credits are for')
    .option('--label <k=v>', 'a free-form label (repeatable)', collect, [])
    .option('--hold', 'reserve at once when allowed (needs --key)')
    .option('--key <key>', 'idempotency key of the hold (with --hold)')
    .option('--ttl <duration>', 'with --hold: released by itself after this long (default 15m)')
    .action(async (account: string, operation: string | undefined, o: CheckOptions) => {
      const hold = o.hold === true;
      if (!hold && (o.key !== undefined || o.ttl !== undefined)) {
        throw new AmisiError('invalid_argument', '--key and --ttl go with --hold', {
          field: o.key !== undefined ? 'key' : 'ttl',
        });
      }
      const input = {
        accountId: account,
        attribution: attributionFrom(o),
        ...amountFrom(operation, o),
        ...(hold ? { hold, ...(o.key === undefined ? {} : { key: o.key }) } : {}),
        ...(o.ttl === undefined ? {} : { ttlMs: parseDuration(o.ttl, 'ttl') }),
      };
      await withLedger(globals(), async (ledger, out) => {
        const r = await ledger.check(input);
        out.print(() => checkPairs(r), r);
        if (r.blockedBy !== null) process.exitCode = errorTable[r.blockedBy.code].exit;
      });
    });
}
