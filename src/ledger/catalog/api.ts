import { createHash } from 'node:crypto';
import { AmisiError } from '../../core/errors.js';
import { quote, type Quote, type QuoteItemRequest } from '../../core/quote.js';
import * as commands from './commands.js';
import type { Replayable } from '../idempotency.js';
import type { LedgerContext } from '../context.js';
import type { CatalogRecord } from '../store.js';
import { requireAmount, requireId } from '../validate.js';
import { activeCatalog } from '../reads.js';
import { BASE, CATALOG, codes, PRICED, STORE, type UseCaseProblems } from '../problems.js';

/** The problem codes of each use-case below (src/ledger/problems.ts). */
export const CATALOG_PROBLEMS = {
  loadCatalog: codes(STORE, 'catalog_invalid', 'catalog_version_exists'),
  activateCatalog: codes(BASE, 'unknown_catalog'),
  findActiveCatalog: STORE,
  activeCatalog: codes(STORE, CATALOG),
  getCatalog: STORE,
  listCatalogs: STORE,
  quote: codes(STORE, PRICED),
} as const satisfies UseCaseProblems<CatalogApi>;

/** The catalog: loading and activating versions, reading them, and quotes under the active one. */
export class CatalogApi {
  constructor(private readonly ctx: LedgerContext) {}

  async loadCatalog(body: unknown): Promise<Replayable<{ catalog: CatalogRecord }>> {
    const digest = (text: string) => createHash('sha256').update(text).digest('hex');
    return this.ctx.committer.submit((b) => commands.loadCatalog(b, body, digest));
  }

  async activateCatalog(version: string) {
    const checked = requireId(version, 'version');
    return this.ctx.committer.submit((b) => commands.activateCatalog(b, checked));
  }

  /** The active catalog, or undefined before the first is loaded (readiness, `amisi init`). */
  findActiveCatalog(): Promise<CatalogRecord | undefined> {
    return activeCatalog(this.ctx.store);
  }

  async activeCatalog(): Promise<CatalogRecord> {
    const c = await activeCatalog(this.ctx.store);
    if (!c) throw new AmisiError('not_initialized', 'no catalog is loaded', {});
    return c;
  }

  /** A loaded version, or undefined. */
  getCatalog(version: string): Promise<CatalogRecord | undefined> {
    return this.ctx.store.get('catalogs', { version: version });
  }

  /** Every loaded version. */
  listCatalogs(): Promise<CatalogRecord[]> {
    return this.ctx.store.find('catalogs', {}, { order: ['activatedAt desc', 'version desc'] });
  }

  async quote(items: readonly QuoteItemRequest[]): Promise<Quote> {
    requireAmount({ items });
    return quote((await this.activeCatalog()).body, items);
  }
}
