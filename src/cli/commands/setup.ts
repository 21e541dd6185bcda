import type { Command } from 'commander';
import { catalogProblems, parseCatalog, type Catalog } from '../../core/catalog.js';
import { AmisiError } from '../../core/errors.js';
import { formatMoney } from '../../core/money.js';
import type { Ledger } from '../../ledger/ledger.js';
import {
  DEFAULT_CATALOG_PATH,
  describeDatabase,
  readJsonFile,
  withLedger,
  type GlobalOptions,
} from '../context.js';
import { iso, output, pairs, table } from '../output.js';
import { rollupsHint } from './reports.js';

type Globals = () => GlobalOptions;

function catalogTables(c: Catalog): string {
  const ops = Object.entries(c.operations).flatMap(([id, op]) => {
    const { by, table: prices, flat } = op.price;
    const rows =
      by && prices
        ? Object.entries(prices).map(([v, credits]) => ({
            id,
            // The value a request without this parameter gets (a charge without --resolution).
            rule: `${by}=${v}${op.params[by]?.default === v ? ' (default)' : ''}`,
            credits,
            op,
          }))
        : [{ id, rule: 'flat', credits: flat ?? 0, op }];
    return rows;
  });
  const plans = Object.entries(c.plans);
  const packs = Object.entries(c.packs);
  const money = (cents: number) => formatMoney(cents, c.currency);
  return [
    `catalog ${c.version}`,
    '',
    table(ops, [
      { header: 'operation', value: (r) => r.id },
      { header: 'price', value: (r) => r.rule },
      { header: 'credits/unit', value: (r) => r.credits },
      { header: 'unit', value: (r) => r.op.unit },
      { header: 'max count', value: (r) => r.op.maxCount },
      { header: 'note', value: (r) => (r.op.example ? 'example' : '') },
    ]),
    '',
    table(plans, [
      { header: 'plan', value: ([id]) => id },
      { header: 'name', value: ([, p]) => p.name },
      { header: 'price/cycle', value: ([, p]) => money(p.priceCents), align: 'right' },
      { header: 'credits/cycle', value: ([, p]) => p.creditsPerCycle },
      { header: 'rollover cap', value: ([, p]) => p.rolloverCap },
      { header: 'seats', value: ([, p]) => p.seats },
      { header: 'teams', value: ([, p]) => (p.teamAccess ? 'yes' : 'no') },
    ]),
    '',
    table(packs, [
      { header: 'pack', value: ([id]) => id },
      { header: 'credits', value: ([, p]) => p.credits },
      { header: 'price', value: ([, p]) => money(p.priceCents), align: 'right' },
      { header: 'expires after', value: ([, p]) => `${p.expiresAfterMonths} months` },
    ]),
  ].join('\n');
}

/**
 * What `amisi init` and `amisi serve` share: loads `body` and makes it active, unless a catalog
 * is active already and none was asked for (a restart must not bring the shipped prices back).
 */
export async function ensureCatalog(ledger: Ledger, body: unknown, asked: boolean) {
  const existing = await ledger.findActiveCatalog();
  return existing && !asked ? { catalog: existing, replay: true } : ledger.loadCatalog(body);
}

export function registerSetup(program: Command, globals: Globals): void {
  program
    .command('init')
    .description('create the database (if needed), run migrations and load a catalog')
    .option('--catalog <file>', 'catalog to load (default: the shipped default catalog)')
    .action(async (o: { catalog?: string }) => {
      const body = readJsonFile(o.catalog ?? DEFAULT_CATALOG_PATH, 'catalog_invalid');
      parseCatalog(body); // an invalid catalog must not leave a new database behind
      await withLedger(
        globals(),
        async (ledger, out) => {
          const loaded = await ensureCatalog(ledger, body, o.catalog !== undefined);
          out.print(
            () =>
              pairs([
                ['database', describeDatabase(globals())],
                ['catalog', loaded.catalog.version],
                ['status', loaded.replay ? 'already initialized' : 'initialized'],
              ]),
            { catalogVersion: loaded.catalog.version, replay: loaded.replay },
          );
          const hint = await rollupsHint(ledger);
          if (hint && !out.json) process.stderr.write(`hint: ${hint}\n`);
        },
        { create: true },
      );
    });

  program
    .command('migrate')
    .description('apply pending database migrations (every command also does at start-up)')
    .action(async () => {
      await withLedger(
        globals(),
        async (ledger, out) => {
          out.print(() => `database is up to date (${ledger.databaseKind})`, {
            kind: ledger.databaseKind,
          });
          const hint = await rollupsHint(ledger);
          if (hint && !out.json) process.stderr.write(`hint: ${hint}\n`);
        },
        { create: true },
      );
    });

  const catalog = program.command('catalog').description('show, validate and load catalogs');
  catalog
    .command('show')
    .description('the active catalog (or --version V): operations, plans and packs')
    .option('--version <version>', 'a loaded catalog version')
    .option('--all', 'list every loaded version instead')
    .action(async (o: { version?: string; all?: boolean }) => {
      await withLedger(globals(), async (ledger, out) => {
        if (o.all) {
          const all = await ledger.listCatalogs();
          out.print(
            () =>
              table(all, [
                { header: 'version', value: (c) => c.version },
                { header: 'loaded', value: (c) => iso(c.loadedAt) },
                { header: 'activated', value: (c) => iso(c.activatedAt) },
                { header: 'digest', value: (c) => c.digest.slice(0, 16) },
              ]),
            all.map(({ body: _body, ...rest }) => rest),
          );
          return;
        }
        const record = o.version
          ? await ledger.getCatalog(o.version)
          : await ledger.activeCatalog();
        if (!record) {
          throw new AmisiError('unknown_catalog', `no catalog version "${o.version}" is loaded`, {
            version: o.version,
          });
        }
        out.print(() => catalogTables(record.body), record);
      });
    });

  catalog
    .command('validate <file>')
    .description('check a catalog file; every problem is named by its path')
    .action(async (file: string) => {
      const out = output(globals().json ?? false);
      const problems = catalogProblems(readJsonFile(file, 'catalog_invalid'));
      if (problems.length > 0) {
        throw new AmisiError(
          'catalog_invalid',
          `${file} has ${problems.length} ${problems.length === 1 ? 'problem' : 'problems'}: ${problems.map((p) => `${p.path}: ${p.reason}`).join('; ')}`,
          { problems },
        );
      }
      out.print(() => `${file} is a valid catalog`, { valid: true, problems: [] });
    });

  catalog
    .command('activate <version>')
    .description('make a loaded catalog version the active one (e.g. to roll prices back)')
    .action(async (version: string) => {
      await withLedger(globals(), async (ledger, out) => {
        const r = await ledger.activateCatalog(version);
        out.print(() => `catalog ${r.catalog.version} is active`, r);
      });
    });

  catalog
    .command('load <file>')
    .description('load a catalog and make it active (a version, once loaded, never changes)')
    .action(async (file: string) => {
      const body = readJsonFile(file, 'catalog_invalid');
      await withLedger(globals(), async (ledger, out) => {
        const r = await ledger.loadCatalog(body);
        out.print(
          () =>
            `catalog ${r.catalog.version} ${r.replay ? 'was already loaded; now active' : 'loaded and active'}`,
          r,
        );
      });
    });
}
