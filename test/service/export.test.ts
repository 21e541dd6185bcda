import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { JournalTransaction } from '../../src/core/journal.js';
import { SAMPLE_DETAILS } from '../fixtures/journal-details.js';
import { Ledger } from '../../src/ledger/ledger.js';
import { FakeClock } from '../../src/ledger/ports.js';
import type { Store } from '../../src/ledger/store.js';
import { verify } from '../../src/ledger/verify.js';
import {
  CSV_EOL,
  CSV_HEADER,
  EXPORT_COLUMNS,
  csvField,
  exportRow,
  openHistoryExport,
  type ExportColumn,
  type ExportOptions,
  type ExportProgress,
  type ExportQuery,
} from '../../src/service/export.js';
import { ManualProvider } from '../../src/service/payments/manual/manual-provider.js';
import { PurchaseService } from '../../src/service/purchases.js';
import { defaultCatalog } from '../helpers.js';
import { BOTH_STORES } from '../pg-helpers.js';
import { history } from '../../src/ledger/reads.js';

/**
 * The CSV export (issue 7, item 7): RFC 4180 quoting that parses back, the formula guard,
 * every kind's row, the filters, and paging across many pages, on both stores.
 */

/**
 * A strict RFC 4180 reader: CRLF row ends only, quotes only around whole fields, a quote
 * inside a quoted field doubled. Anything else is an error, so sloppy output cannot pass.
 */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let i = 0;
  if (text === '') return rows;
  for (;;) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        assert.ok(q >= 0, `unterminated quoted field at ${i}`);
        field += text.slice(i, q);
        if (text[q + 1] === '"') {
          field += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
    } else {
      const end = text.slice(i).search(/[,\r\n]/);
      const stop = end < 0 ? text.length : i + end;
      field = text.slice(i, stop);
      assert.ok(!field.includes('"'), `a quote inside an unquoted field at ${i}`);
      i = stop;
    }
    row.push(field);
    if (text[i] === ',') {
      i++;
      continue;
    }
    assert.equal(text.slice(i, i + 2), '\r\n', `a row ends with CRLF at ${i}`);
    i += 2;
    rows.push(row);
    row = [];
    if (i === text.length) return rows;
  }
}

/** A parsed file as records keyed by column, after checking the header. */
function records(text: string): Record<ExportColumn, string>[] {
  const [header, ...rows] = parseCsv(text);
  assert.deepEqual(header, [...EXPORT_COLUMNS]);
  for (const r of rows) assert.equal(r.length, EXPORT_COLUMNS.length);
  return rows.map(
    (r) =>
      Object.fromEntries(EXPORT_COLUMNS.map((c, i) => [c, r[i]!])) as Record<ExportColumn, string>,
  );
}

async function exportText(
  ledger: Ledger,
  query: ExportQuery,
  options: ExportOptions = {},
): Promise<string> {
  const csv = await openHistoryExport(ledger, query, options);
  let text = '';
  for await (const chunk of csv.chunks) text += chunk;
  return text;
}

/** Every transaction of the account, newest first, straight from the store. */
async function journal(store: Store, accountId: string): Promise<JournalTransaction[]> {
  const all: JournalTransaction[] = [];
  let before: string | undefined;
  for (;;) {
    const page = await history(store, {
      accountId,
      limit: 1000,
      ...(before ? { before } : {}),
    });
    all.push(...page);
    if (page.length < 1000) return all;
    before = page[page.length - 1]!.id;
  }
}

const GUARDED = /^[=+\-@\t\r]/;

describe('CSV fields', () => {
  it('quotes only what RFC 4180 needs, doubling quotes', () => {
    assert.equal(csvField('plain text'), 'plain text');
    assert.equal(csvField(''), '');
    assert.equal(csvField(' spaced '), ' spaced ');
    assert.equal(csvField('a,b'), '"a,b"');
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    assert.equal(csvField('line\nbreak'), '"line\nbreak"');
    assert.equal(csvField('cr\rlf\r\n'), '"cr\rlf\r\n"');
    assert.equal(csvField('"'), '""""');
    assert.equal(csvField('é 😀'), 'é 😀');
  });

  it('guards text that a spreadsheet would run as a formula, never the integer columns', () => {
    assert.equal(csvField('=SUM(A1:A9)'), "'=SUM(A1:A9)");
    assert.equal(csvField('+1'), "'+1");
    assert.equal(csvField('-2'), "'-2");
    assert.equal(csvField('@cmd'), "'@cmd");
    assert.equal(csvField('\tx'), "'\tx");
    assert.equal(csvField('\rx'), `"'\rx"`);
    assert.equal(csvField('=HYPERLINK("http://x","y")'), `"'=HYPERLINK(""http://x"",""y"")"`);
    assert.equal(csvField('a=b'), 'a=b', 'only a leading character counts');
    assert.equal(csvField("'quoted"), "'quoted");
    assert.equal(csvField(-5, true), '-5', 'signed credits stay numbers');
    assert.equal(csvField(0, true), '0');
    assert.equal(csvField(1234567, true), '1234567');
    assert.throws(() => csvField(1.5, true), /integer/);
    assert.throws(() => csvField('-5', true), /integer/);
  });

  it('any fields round-trip through a strict RFC 4180 reader (property)', () => {
    const unit = fc.constantFrom(
      'a',
      'Z',
      ' ',
      ',',
      '"',
      '\r',
      '\n',
      '=',
      '+',
      '-',
      '@',
      '\t',
      "'",
      'é',
      '😀',
    );
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.string({ unit, maxLength: 8 }), { minLength: 2, maxLength: 6 }), {
          minLength: 1,
          maxLength: 5,
        }),
        (table) => {
          const text = table.map((r) => r.map((f) => csvField(f)).join(',') + CSV_EOL).join('');
          const parsed = parseCsv(text);
          assert.deepEqual(
            parsed,
            table.map((r) => r.map((f) => (GUARDED.test(f) ? `'${f}` : f))),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a plan change without entries still has every column', () => {
    const row = exportRow({
      accountId: 'a',
      id: 'txn_1',
      kind: 'plan_change',
      createdAt: Date.UTC(2026, 0, 1),
      idempotencyKey: null,
      holdId: null,
      grantId: null,
      catalogVersion: null,
      detail: SAMPLE_DETAILS.plan_change,
      entries: [],
    });
    assert.deepEqual(Object.keys(row), [...EXPORT_COLUMNS]);
    assert.equal(row.time, '2026-01-01T00:00:00.000Z');
    assert.equal(row.credits, 0);
  });
});

const T0 = Date.UTC(2026, 2, 1);
const MINUTE = 60_000;
const TRICKY_REASON = '=HYPERLINK("http://evil.test","click"), then "more"\r\nsecond line, é';

async function withLedger(
  open: () => Promise<{ store: Store; close: () => Promise<void> }>,
  fn: (env: { ledger: Ledger; store: Store; clock: FakeClock }) => Promise<void>,
): Promise<void> {
  const { store, close } = await open();
  const clock = new FakeClock(T0);
  const ledger = new Ledger({ store, clock });
  try {
    await ledger.loadCatalog(defaultCatalog());
    await fn({ ledger, store, clock });
    assert.deepEqual((await verify(store)).violations, []);
  } finally {
    await ledger.idle();
    await close();
  }
}

for (const [name, open, skip] of BOTH_STORES) {
  describe(`history export on ${name}`, { skip }, () => {
    it('one row per transaction of every kind, newest first, quoted, guarded and summing to the balance', () =>
      withLedger(open, async ({ ledger, store, clock }) => {
        await ledger.createAccount({ accountId: 'ann' });
        await ledger.createAccount({ accountId: 'other' });
        await ledger.grant({ accountId: 'other', key: 'o', credits: 50, source: 'promotion' });
        await ledger.subscribe({ accountId: 'ann', key: 'sub', plan: 'starter' });
        clock.advance(MINUTE);
        await ledger.grant({
          accountId: 'ann',
          key: '=cmd|"/C_calc"!A1',
          credits: 40,
          source: 'promotion',
          reason: TRICKY_REASON,
          expiresAt: T0 + 10 * MINUTE,
        });
        clock.advance(MINUTE);
        const attribution = {
          member: 'bob',
          project: 'site',
          labels: { concept: 'cat, "fluffy"', use: '+print' },
        };
        const h = await ledger.hold({
          accountId: 'ann',
          key: 'h1',
          items: [
            { operation: 'image.generate', params: { resolution: '4k' }, count: 2 },
            { operation: 'image.edit', count: 1 },
          ],
          attribution,
        });
        clock.advance(MINUTE);
        await ledger.capture({ holdId: h.hold.id, key: 'c1', credits: 5 });
        clock.advance(MINUTE);
        await ledger.charge({
          accountId: 'ann',
          key: '-charge',
          items: [{ operation: 'image.generate', params: { resolution: '8k' } }],
          attribution: { project: 'site' },
        });
        const r = await ledger.hold({ accountId: 'ann', key: 'h2', credits: 3 });
        await ledger.release({ holdId: r.hold.id, key: 'r2' });
        const e = await ledger.hold({
          accountId: 'ann',
          key: 'h3',
          items: [{ operation: 'image.generate', params: { resolution: '720p' }, count: 3 }],
          // Its ttl ends at T0 + 12 min, after the promotion it draws on expired (T0 + 10 min).
          ttlMs: 8 * MINUTE,
        });
        const purchases = new PurchaseService(ledger, new ManualProvider());
        const bought = await purchases.buy({ accountId: 'ann', pack: 'pack-20', key: 'b1' });
        await purchases.confirm(bought.purchase.id);
        clock.advance(10 * MINUTE);
        await ledger.balance('ann'); // settles the hold past its ttl and the expired grant
        await purchases.refund({ purchaseId: bought.purchase.id, key: 'rf' });
        clock.set(Date.UTC(2026, 3, 1, 0, 0, 1));
        await ledger.renew();

        const text = await exportText(ledger, { accountId: 'ann' });
        const rows = records(text);
        const txs = await journal(store, 'ann');
        assert.deepEqual(
          rows.map((x) => x.transaction_id),
          txs.map((t) => t.id),
          'one row per transaction, newest first',
        );
        assert.ok(!rows.some((x) => x.transaction_id.length === 0));
        const kinds = rows.map((x) => x.kind).reverse();
        assert.deepEqual(kinds, [
          'renewal', // subscribe: the first allocation
          'grant',
          'hold',
          'capture',
          'charge',
          'hold',
          'release',
          'hold',
          'grant', // the pack, once paid
          'grant_expiry', // dated when due: the promotion at T0 + 10 min,
          'hold_expiry', // then the hold at the end of its ttl

          'refund',
          'renewal',
        ]);
        const byKey = (key: string) => rows.find((x) => x.idempotency_key === key)!;
        const chronological = [...rows].reverse();

        // Credits: the signed change to available + held; they add up to the balance.
        const balance = await ledger.balance('ann');
        const total = rows.reduce((s, x) => s + Number(x.credits), 0);
        assert.equal(total, balance.available + balance.held);
        assert.ok(rows.every((x) => /^-?\d+$/.test(x.credits) && /^-?\d+$/.test(x.held)));

        const grant = byKey('\'=cmd|"/C_calc"!A1');
        assert.equal(grant.kind, 'grant');
        assert.equal(grant.credits, '40');
        assert.equal(grant.grant_source, 'promotion');
        assert.match(grant.grant_id, /^grt_/);
        assert.equal(grant.description, `promotion grant: ${TRICKY_REASON}`);
        assert.equal(grant.time, new Date(T0 + MINUTE).toISOString());

        const hold = byKey('h1');
        assert.deepEqual(
          [hold.credits, hold.held, hold.hold_id, hold.member, hold.project],
          ['0', '7', h.hold.id, 'bob', 'site'],
        );
        assert.equal(hold.labels, 'concept=cat, "fluffy"; use=+print');
        assert.equal(hold.operations, 'image.generate; image.edit');
        assert.equal(hold.resolutions, '4k; ');
        assert.equal(hold.catalog_version, 'default-2026-11');
        assert.equal(hold.description, 'held 7 credits for image.generate 4k x2, image.edit x1');

        const capture = byKey('c1');
        assert.deepEqual(
          [capture.credits, capture.held, capture.hold_id, capture.member, capture.operations],
          ['-5', '-7', h.hold.id, 'bob', 'image.generate; image.edit'],
          "a capture shows its hold's lines and attribution",
        );
        assert.equal(capture.resolutions, '4k; ');
        assert.equal(capture.description, 'captured 5 held credits, 2 returned');

        const charge = byKey("'-charge");
        assert.deepEqual(
          [charge.credits, charge.held, charge.project, charge.operations, charge.resolutions],
          ['-4', '0', 'site', 'image.generate', '8k'],
        );
        assert.equal(charge.member, '');

        const release = byKey('r2');
        assert.deepEqual([release.credits, release.held, release.operations], ['0', '-3', '']);

        const expiry = chronological.find((x) => x.kind === 'hold_expiry')!;
        assert.deepEqual(
          [expiry.hold_id, expiry.held, expiry.operations, expiry.resolutions],
          [e.hold.id, '-3', 'image.generate', '720p'],
        );
        assert.equal(expiry.idempotency_key, '');

        const lapsed = chronological.find((x) => x.kind === 'grant_expiry')!;
        assert.equal(lapsed.grant_id, grant.grant_id);
        assert.equal(lapsed.grant_source, 'promotion');
        assert.deepEqual(
          [lapsed.credits, lapsed.description],
          ['-28', '28 promotion credits expired unused'],
          '40 granted, 5 + 4 spent, 3 lost with the hold that outlived it',
        );
        assert.equal(expiry.credits, '-3', 'the hold outlived its grant: its credits expire');
        assert.deepEqual(
          [lapsed.time, expiry.time],
          [new Date(T0 + 10 * MINUTE).toISOString(), new Date(e.hold.expiresAt).toISOString()],
          'each dated when it was due',
        );

        const pack = chronological.filter((x) => x.kind === 'grant')[1]!;
        assert.deepEqual([pack.credits, pack.grant_source], ['20', 'purchase']);
        assert.match(pack.description, /^purchase of pack pack-20 \(pur_/);
        const refund = chronological.find((x) => x.kind === 'refund')!;
        assert.equal(refund.grant_id, pack.grant_id);
        assert.ok(Number(refund.credits) < 0);
        assert.match(refund.description, /^refund of purchase pur_.*: \d+ credits reclaimed, /);

        const first = chronological[0]!;
        assert.deepEqual(
          [first.credits, first.description],
          ['100', 'subscribe: plan starter, 100 credits'],
        );
        const last = chronological[chronological.length - 1]!;
        assert.deepEqual(
          [last.credits, last.description],
          [
            '50',
            'renewal of plan starter, cycle 1: allocation 100, rolled over 50, lost to the cap 50',
          ],
        );

        // Nothing of the other account, and the header is the first line.
        assert.ok(text.startsWith(CSV_HEADER));
        assert.ok(!text.includes('other'));
      }));

    it('filters: since inclusive, until exclusive, kinds; an empty result is the header alone', () =>
      withLedger(open, async ({ ledger, clock }) => {
        await ledger.createAccount({ accountId: 'ann' });
        for (let i = 0; i < 6; i++) {
          await ledger.grant({ accountId: 'ann', key: `g${i}`, credits: 10, source: 'promotion' });
          await ledger.charge({ accountId: 'ann', key: `c${i}`, credits: 1 });
          clock.advance(MINUTE);
        }
        const keysOf = async (query: Omit<ExportQuery, 'accountId'>) =>
          records(await exportText(ledger, { accountId: 'ann', ...query })).map(
            (x) => x.idempotency_key,
          );
        assert.deepEqual(await keysOf({ since: T0 + 2 * MINUTE, until: T0 + 4 * MINUTE }), [
          'c3',
          'g3',
          'c2',
          'g2',
        ]);
        assert.deepEqual(await keysOf({ since: T0 + 5 * MINUTE }), ['c5', 'g5']);
        assert.deepEqual(await keysOf({ until: T0 + MINUTE }), ['c0', 'g0']);
        assert.deepEqual(await keysOf({ kinds: ['charge'], since: T0 + 4 * MINUTE }), ['c5', 'c4']);
        assert.deepEqual(await keysOf({ kinds: ['charge', 'grant'], until: T0 + MINUTE }), [
          'c0',
          'g0',
        ]);
        assert.equal(await exportText(ledger, { accountId: 'ann', kinds: ['refund'] }), CSV_HEADER);
        assert.equal(
          await exportText(ledger, { accountId: 'ann', since: T0 + 60 * MINUTE }),
          CSV_HEADER,
        );
      }));

    it('a clocked account is marked on every row, with the clock times; a real one is not', () =>
      withLedger(open, async ({ ledger }) => {
        await ledger.createClock({ id: 'year', startsAt: T0 + 30 * MINUTE });
        await ledger.createAccount({ accountId: 'sim', testClockId: 'year' });
        await ledger.createAccount({ accountId: 'real' });
        for (const accountId of ['sim', 'real']) {
          await ledger.grant({ accountId, key: 'g', credits: 10, source: 'promotion' });
          await ledger.charge({ accountId, key: 'c', credits: 2 });
        }
        await ledger.advanceClock({ id: 'year', to: T0 + 30 * MINUTE + 3 * 86_400_000 });
        await ledger.charge({ accountId: 'sim', key: 'later', credits: 1 });

        const sim = records(await exportText(ledger, { accountId: 'sim' }));
        assert.deepEqual(
          sim.map((x) => [x.idempotency_key, x.time, x.test_clock]),
          [
            ['later', new Date(T0 + 30 * MINUTE + 3 * 86_400_000).toISOString(), 'year'],
            ['c', new Date(T0 + 30 * MINUTE).toISOString(), 'year'],
            ['g', new Date(T0 + 30 * MINUTE).toISOString(), 'year'],
          ],
        );
        const real = records(await exportText(ledger, { accountId: 'real' }));
        assert.deepEqual(
          real.map((x) => [x.idempotency_key, x.time, x.test_clock]),
          [
            ['c', new Date(T0).toISOString(), ''],
            ['g', new Date(T0).toISOString(), ''],
          ],
        );
      }));

    it('pages: 2,500 transactions across 358 pages of 7, exact order and count, with progress', () =>
      withLedger(open, async ({ ledger, store, clock }) => {
        await ledger.createAccount({ accountId: 'big' });
        for (let batch = 0; batch < 10; batch++) {
          await Promise.all(
            Array.from({ length: 250 }, (_, i) =>
              ledger.grant({
                accountId: 'big',
                key: `g${batch * 250 + i}`,
                credits: 1,
                source: 'adjustment',
                reason: i % 2 === 0 ? 'even, "quoted"' : '-odd',
              }),
            ),
          );
          clock.advance(MINUTE);
        }
        const seen: ExportProgress[] = [];
        const csv = await openHistoryExport(
          ledger,
          { accountId: 'big' },
          { pageSize: 7, onProgress: (p) => seen.push(p) },
        );
        assert.deepEqual(csv.span, { from: T0, to: T0 + 9 * MINUTE });
        let paged = '';
        let chunks = 0;
        for await (const chunk of csv.chunks) {
          paged += chunk;
          chunks++;
        }
        assert.equal(chunks, 1 + Math.ceil(2500 / 7), 'the header, then a chunk per page');
        const rows = records(paged);
        assert.equal(rows.length, 2500);
        const ids = (await journal(store, 'big')).map((t) => t.id);
        assert.deepEqual(
          rows.map((x) => x.transaction_id),
          ids,
        );
        assert.deepEqual([...ids].sort().reverse(), ids, 'newest first, no repeats');
        assert.equal(new Set(ids).size, 2500);
        assert.equal(
          rows.reduce((s, x) => s + Number(x.credits), 0),
          2500,
        );
        assert.equal(rows.filter((x) => x.description === 'adjustment grant: -odd').length, 1250);

        assert.equal(seen.length, Math.ceil(2500 / 7));
        assert.deepEqual(
          seen.map((p) => p.rows),
          seen.map((_, i) => Math.min((i + 1) * 7, 2500)),
        );
        const end = csv.progress();
        assert.deepEqual(end, seen[seen.length - 1]);
        assert.equal(end.bytes, Buffer.byteLength(paged, 'utf8'));
        assert.equal(end.reachedAt, T0);
        // The page size changes the reads, never the bytes.
        assert.equal(await exportText(ledger, { accountId: 'big' }), paged);
      }));

    it('checks the account and filters before handing anything out; stopping early is clean', () =>
      withLedger(open, async ({ ledger }) => {
        await assert.rejects(openHistoryExport(ledger, { accountId: 'ghost' }), {
          code: 'unknown_account',
        });
        await ledger.createAccount({ accountId: 'ann' });
        await assert.rejects(openHistoryExport(ledger, { accountId: 'ann', kinds: ['gift'] }), {
          code: 'invalid_argument',
        });
        await assert.rejects(openHistoryExport(ledger, { accountId: 'ann', since: -1 }), {
          code: 'invalid_argument',
        });
        await assert.rejects(openHistoryExport(ledger, { accountId: 'ann' }, { pageSize: 0 }), {
          code: 'invalid_argument',
        });
        for (let i = 0; i < 30; i++) {
          await ledger.grant({ accountId: 'ann', key: `g${i}`, credits: 1, source: 'promotion' });
        }
        const csv = await openHistoryExport(ledger, { accountId: 'ann' }, { pageSize: 5 });
        let chunks = 0;
        for await (const _ of csv.chunks) if (++chunks === 2) break;
        assert.equal(csv.progress().rows, 5, 'the consumer stopped after the first page');
        const again = await csv.chunks.next();
        assert.equal(again.done, true, 'a stopped export stays stopped');
      }));
  });
}
