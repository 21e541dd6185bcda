import { LEDGER_PROBLEMS as L } from '../../ledger/ledger.js';
import type { App, Deps } from '../app.js';
import {
  CatalogVersion,
  PackList,
  PlanList,
  problems,
  Quote,
  QuoteRequest,
  ref,
} from '../schemas/index.js';

/** The active catalog, its packs and plans, and quotes under it. Any key may read them. */
export async function catalogRoutes(app: App, { ledger, purchases }: Deps): Promise<void> {
  app.get(
    '/v1/catalog',
    {
      config: { access: 'account', action: 'read' },
      schema: {
        summary: 'The active catalog: operations, plans and packs',
        tags: ['catalog'],
        response: { 200: ref(CatalogVersion), ...problems('account', false, L.activeCatalog) },
      },
    },
    async () => ledger.activeCatalog(),
  );

  app.get(
    '/v1/catalog/packs',
    {
      config: { access: 'account', action: 'read' },
      schema: {
        summary: 'The packs of the active catalog',
        tags: ['catalog'],
        response: { 200: ref(PackList), ...problems('account', false, L.activeCatalog) },
      },
    },
    async () => {
      const c = (await ledger.activeCatalog()).body;
      const packs = Object.entries(c.packs).map(([id, p]) => ({ id, ...p }));
      return {
        catalogVersion: c.version,
        currency: c.currency,
        provider: purchases.providerName,
        packs,
      };
    },
  );

  app.get(
    '/v1/catalog/plans',
    {
      config: { access: 'account', action: 'read' },
      schema: {
        summary: 'The plans of the active catalog',
        tags: ['catalog'],
        response: { 200: ref(PlanList), ...problems('account', false, L.activeCatalog) },
      },
    },
    async () => {
      const c = (await ledger.activeCatalog()).body;
      const plans = Object.entries(c.plans).map(([id, p]) => ({ id, ...p }));
      return { catalogVersion: c.version, currency: c.currency, plans };
    },
  );

  app.post(
    '/v1/quotes',
    {
      config: { access: 'account', action: 'spend' },
      schema: {
        summary: 'Price a request before running it',
        description: 'Changes nothing, so no Idempotency-Key is needed.',
        tags: ['catalog'],
        body: QuoteRequest,
        response: {
          200: ref(Quote),
          // A POST, so read-only keys are refused (forbidden) like on every POST.
          ...problems('account', true, L.quote),
        },
      },
    },
    async (request) => ledger.quote(request.body.items),
  );
}
