import { LEDGER_PROBLEMS as L } from '../../ledger/ledger.js';
import { guideline, guidelines, IMAGE_OPERATION, GUIDELINE_PROBLEMS } from '../../core/guidance.js';
import { cheapestPacks, CHEAPEST_PACKS_PROBLEMS } from '../../core/packs.js';
import { planPhases, PLAN_PHASES_PROBLEMS } from '../../core/phases.js';
import type { App, Deps } from '../app.js';
import {
  CheapestPacksQuery,
  GuideList,
  GuideQuery,
  PackCombination,
  PhasePlan,
  PhasePlanRequest,
  problems,
  ref,
} from '../schemas/index.js';

/**
 * Advice that needs only the active catalog: resolution by intended use, the phased planner
 * and the cheapest packs for a shortfall. They change nothing, so any key may ask.
 */
export async function insightRoutes(app: App, { ledger }: Deps): Promise<void> {
  app.get(
    '/v1/guide',
    {
      config: { access: 'account', action: 'read' },
      schema: {
        summary: 'Resolution by intended use, with its credits per image',
        tags: ['insights'],
        querystring: GuideQuery,
        response: {
          200: ref(GuideList),
          ...problems('account', false, L.activeCatalog, GUIDELINE_PROBLEMS),
        },
      },
    },
    async (request) => {
      const c = (await ledger.activeCatalog()).body;
      const { use } = request.query;
      return {
        catalogVersion: c.version,
        operation: IMAGE_OPERATION,
        guidelines: use === undefined ? guidelines(c) : [guideline(c, use)],
      };
    },
  );

  app.post(
    '/v1/plan-phases',
    {
      config: { access: 'account', action: 'read' },
      schema: {
        summary: 'Plan explore, refine and finalize phases against all at the final resolution',
        description: 'Changes nothing, so no Idempotency-Key is needed.',
        tags: ['insights'],
        body: PhasePlanRequest,
        response: {
          200: ref(PhasePlan),
          ...problems('account', true, L.activeCatalog, PLAN_PHASES_PROBLEMS),
        },
      },
    },
    async (request) => planPhases((await ledger.activeCatalog()).body, request.body),
  );

  app.get(
    '/v1/packs/cheapest',
    {
      config: { access: 'account', action: 'read' },
      schema: {
        summary: 'The cheapest packs that cover a shortfall (exact, not greedy)',
        tags: ['insights'],
        querystring: CheapestPacksQuery,
        response: {
          200: ref(PackCombination),
          ...problems('account', false, L.activeCatalog, CHEAPEST_PACKS_PROBLEMS),
        },
      },
    },
    async (request) => {
      const c = (await ledger.activeCatalog()).body;
      return {
        catalogVersion: c.version,
        currency: c.currency,
        ...cheapestPacks(c.packs, request.query.credits),
      };
    },
  );
}
