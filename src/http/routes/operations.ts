import { LEDGER_PROBLEMS as L } from '../../ledger/ledger.js';
import { AmisiError } from '../../core/errors.js';
import type { App, Deps } from '../app.js';
import { Health, problems, Readiness, ref, VerifyReport } from '../schemas/index.js';

/** Health, readiness and metrics (public, not rate limited) and verify (operator). */
export async function operationRoutes(app: App, { ledger, metrics }: Deps): Promise<void> {
  const open = { access: 'public', rateLimit: false } as const;

  app.get(
    '/healthz',
    {
      config: open,
      schema: {
        summary: 'The process is up',
        tags: ['operations'],
        security: [],
        response: { 200: ref(Health) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      config: open,
      schema: {
        summary: 'The store answers and a catalog is active',
        tags: ['operations'],
        security: [],
        response: { 200: ref(Readiness), 503: ref(Readiness) },
      },
    },
    async (request, reply) => {
      let catalog: 'active' | 'missing' | 'unknown' = 'unknown';
      let store: 'ok' | 'unreachable' = 'ok';
      try {
        catalog = (await ledger.findActiveCatalog()) ? 'active' : 'missing';
      } catch (e) {
        request.log.warn({ err: e }, 'readiness: the store did not answer');
        store = 'unreachable';
      }
      const ready = store === 'ok' && catalog === 'active';
      return reply.status(ready ? 200 : 503).send({ ready, checks: { store, catalog } });
    },
  );

  app.get(
    '/metrics',
    {
      config: open,
      schema: {
        summary: 'Prometheus metrics',
        tags: ['operations'],
        security: [],
        response: {
          200: {
            description: 'Prometheus text exposition format.',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
        },
      },
    },
    async (_request, reply) => reply.type(metrics.contentType).send(await metrics.text()),
  );

  app.get(
    '/v1/verify',
    {
      config: { access: 'operator' },
      schema: {
        summary: 'Recompute every account from the journal and check every invariant',
        description:
          'A clean ledger answers 200 with the report; any violation answers 500 verify_failed with the report in `report`. Reads every account: an operator job, not a per-request check.',
        tags: ['operations'],
        response: {
          200: ref(VerifyReport),
          ...problems('operator', false, L.verify, 'verify_failed'),
        },
      },
    },
    async () => {
      const report = await ledger.verify();
      if (!report.ok) {
        throw new AmisiError(
          'verify_failed',
          `${report.violations.length} invariant violation(s)`,
          { report },
        );
      }
      return report;
    },
  );
}
