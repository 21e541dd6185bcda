import type { Command } from 'commander';
import type { BatchItemRequest, BatchQuote, BatchView } from '../../core/batches.js';
import { parseCredits } from '../../core/credits.js';
import { AmisiError } from '../../core/errors.js';
import { readJsonFile, withLedger, type GlobalOptions } from '../context.js';
import { iso, pairs, table } from '../output.js';
import {
  attributionFrom,
  collect,
  parseCount,
  parseItemCount,
  parseDuration,
  parsePairs,
  type AttributionOptions,
} from '../parse.js';

type Globals = () => GlobalOptions;

interface ItemOptions {
  readonly item?: string[];
  readonly file?: string;
}

const params = (p: Readonly<Record<string, string>>) =>
  Object.entries(p)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');

/**
 * One --item: "OPERATION [k=v]...", where count=N is how many units, ref=NAME your name for the
 * item, label.K=V a label of its hold, and every other k=v a parameter of the operation.
 */
export function parseItem(text: string): BatchItemRequest {
  const [operation, ...rest] = text.trim().split(/\s+/);
  if (!operation || operation.includes('=')) {
    throw new AmisiError(
      'invalid_argument',
      `--item must start with an operation (see amisi catalog show), got ${JSON.stringify(text)}`,
      { field: 'item', value: text },
    );
  }
  const pairsGiven = parsePairs(rest, 'item');
  const out: { params: Record<string, string>; labels: Record<string, string> } = {
    params: {},
    labels: {},
  };
  let count: number | undefined;
  let ref: string | undefined;
  for (const [k, v] of Object.entries(pairsGiven)) {
    if (k === 'count') count = parseItemCount(v);
    else if (k === 'ref') ref = v;
    else if (k.startsWith('label.')) out.labels[k.slice('label.'.length)] = v;
    else out.params[k] = v;
  }
  return {
    operation,
    params: out.params,
    ...(count === undefined ? {} : { count }),
    ...(ref === undefined ? {} : { ref }),
    ...(Object.keys(out.labels).length > 0 ? { labels: out.labels } : {}),
  };
}

/** The items of --item (repeated) or --file (a JSON list, or an object with `items`). */
function itemsFrom(o: ItemOptions): BatchItemRequest[] {
  const given = o.item ?? [];
  if (given.length > 0 === (o.file !== undefined)) {
    throw new AmisiError('invalid_argument', 'give the items with --item (repeatable) or --file', {
      field: 'item',
    });
  }
  if (o.file === undefined) return given.map(parseItem);
  const body = readJsonFile(o.file, 'invalid_argument');
  const list = Array.isArray(body)
    ? body
    : typeof body === 'object' &&
        body !== null &&
        Array.isArray((body as { items?: unknown }).items)
      ? (body as { items: unknown[] }).items
      : undefined;
  if (!list) {
    throw new AmisiError(
      'invalid_argument',
      `${o.file} must hold a list of items, or an object with "items"`,
      { field: 'file', value: o.file },
    );
  }
  return list as BatchItemRequest[];
}

function itemOptions(cmd: Command): Command {
  return cmd
    .option(
      '--item <request>',
      'a request: "OPERATION k=v ..." (count=N, ref=NAME, label.K=V; repeatable, in order)',
      collect,
      [],
    )
    .option('--file <items.json>', 'the requests as JSON: [{"operation": ..., "params": {...}}]');
}

function quoteTable(q: BatchQuote): string {
  return [
    table(q.items, [
      { header: 'item', value: (i) => i.index },
      { header: 'ref', value: (i) => i.ref },
      { header: 'operation', value: (i) => i.operation },
      { header: 'parameters', value: (i) => params(i.params) },
      { header: 'unit credits', value: (i) => i.unitCredits },
      { header: 'count', value: (i) => i.count },
      { header: 'credits', value: (i) => i.credits },
    ]),
    `total ${q.credits} credits for ${q.items.length} items (catalog ${q.catalogVersion})`,
  ].join('\n');
}

function batchText(b: BatchView, extra: [string, string | number | null][] = []): string {
  return [
    pairs([
      ['batch', b.id],
      ['account', b.accountId],
      ['status', b.status],
      ['credits', b.credits],
      ['held', b.held],
      ['captured', b.captured],
      ['released', b.released],
      ['expired', b.expired],
      ['expires', iso(b.expiresAt)],
      ['catalog', b.catalogVersion],
      ...extra,
    ]),
    '',
    table(b.items, [
      { header: 'item', value: (i) => i.index },
      { header: 'ref', value: (i) => i.ref },
      { header: 'operation', value: (i) => i.operation },
      { header: 'parameters', value: (i) => params(i.params) },
      { header: 'credits', value: (i) => i.credits },
      { header: 'status', value: (i) => i.status },
      { header: 'captured', value: (i) => i.captured },
      { header: 'released', value: (i) => i.released + i.expired },
      { header: 'hold', value: (i) => i.holdId },
    ]),
  ].join('\n');
}

const replayNote = (replay: boolean): [string, string][] =>
  replay ? [['replay', 'yes: the original result of this key']] : [];

/** amisi batch quote | hold | capture | release | show */
export function registerBatches(program: Command, globals: Globals): void {
  const batch = program
    .command('batch')
    .description('many requests quoted and held together, all or nothing, resolved item by item');

  itemOptions(
    batch.command('quote').description('price a list of requests: each and the total'),
  ).action(async (o: ItemOptions) => {
    const items = itemsFrom(o);
    await withLedger(globals(), async (ledger, out) => {
      const q = await ledger.quoteBatch(items);
      out.print(() => quoteTable(q), q);
    });
  });

  itemOptions(batch.command('hold <account>'))
    .description('hold every request or none (the error names the item at fault)')
    .requiredOption('--key <key>', 'idempotency key: a retry with the same key holds nothing twice')
    .option('--ttl <duration>', 'items still held release themselves after this long', '15m')
    .option('--member <id>', 'the team member the credits are for')
    .option('--project <id>', 'the project the credits are for')
    .option('--label <k=v>', 'a label of every item (repeatable)', collect, [])
    .action(
      async (
        account: string,
        o: ItemOptions & AttributionOptions & { key: string; ttl: string },
      ) => {
        const input = {
          accountId: account,
          key: o.key,
          items: itemsFrom(o),
          ttlMs: parseDuration(o.ttl, 'ttl'),
          attribution: attributionFrom(o),
        };
        await withLedger(globals(), async (ledger, out) => {
          const r = await ledger.holdBatch(input);
          out.print(() => batchText(r.batch, replayNote(r.replay)), r);
        });
      },
    );

  batch
    .command('capture <batch> <item>')
    .description('take one item (all of it, or --credits) and return the rest of it')
    .option('--credits <n>', 'credits to take (default: all held)')
    .requiredOption('--key <key>', 'idempotency key')
    .action(async (batchId: string, item: string, o: { credits?: string; key: string }) => {
      const input = {
        batchId,
        index: parseCount(item, 'item'),
        key: o.key,
        ...(o.credits === undefined ? {} : { credits: parseCredits(o.credits) }),
      };
      await withLedger(globals(), async (ledger, out) => {
        const r = await ledger.captureBatchItem(input);
        out.print(
          () =>
            pairs([
              ['batch', r.batchId],
              ['item', r.index],
              ['hold', r.hold.id],
              ['status', r.hold.status],
              ['captured', r.capturedCredits],
              ['released', r.releasedCredits],
              ['transaction', r.transactionId],
              ...replayNote(r.replay),
            ]),
          r,
        );
      });
    });

  batch
    .command('release <batch> [item]')
    .description('return one item, or without an item every item still held')
    .requiredOption('--key <key>', 'idempotency key')
    .action(async (batchId: string, item: string | undefined, o: { key: string }) => {
      const index = item === undefined ? undefined : parseCount(item, 'item');
      await withLedger(globals(), async (ledger, out) => {
        if (index !== undefined) {
          const r = await ledger.releaseBatchItem({ batchId, index, key: o.key });
          out.print(
            () =>
              pairs([
                ['batch', r.batchId],
                ['item', r.index],
                ['hold', r.hold.id],
                ['status', r.hold.status],
                ['released', r.releasedCredits],
                ['transaction', r.transactionId],
                ...replayNote(r.replay),
              ]),
            r,
          );
          return;
        }
        const r = await ledger.releaseBatch({ batchId, key: o.key });
        out.print(
          () =>
            batchText(r.batch, [
              [
                'this release',
                r.released.length === 0
                  ? 'nothing was held'
                  : `items ${r.released.join(', ')} (${r.releasedCredits} credits)`,
              ],
              ...replayNote(r.replay),
            ]),
          r,
        );
      });
    });

  batch
    .command('show <batch>')
    .description('the batch as it stands: every item and the totals')
    .action(async (batchId: string) => {
      await withLedger(globals(), async (ledger, out) => {
        const b = await ledger.getBatch(batchId);
        out.print(() => batchText(b), b);
      });
    });
}
