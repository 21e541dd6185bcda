import { LEDGER_PROBLEMS as L } from '../../ledger/ledger.js';
import type { App, Deps } from '../app.js';
import { replayed } from '../app.js';
import {
  AdvancedTestClock,
  AdvanceTestClockRequest,
  CreateTestClockRequest,
  problems,
  ref,
  TestClock,
  TestClockList,
  TestClockParams,
  TestClockResult,
} from '../schemas/index.js';

/** Test clocks (operator): make one, read them, advance one. */
export async function clockRoutes(app: App, { ledger }: Deps): Promise<void> {
  app.post(
    '/v1/test-clocks',
    {
      config: { access: 'operator' },
      schema: {
        summary: 'Make a test clock (accounts made on it run on its time)',
        tags: ['test clocks'],
        body: CreateTestClockRequest,
        response: { 201: ref(TestClockResult), ...problems('operator', true, L.createClock) },
      },
    },
    async (request, reply) => {
      const r = await ledger.createClock(request.body);
      replayed(reply, r.replay);
      return reply.status(201).send(r);
    },
  );

  app.get(
    '/v1/test-clocks',
    {
      config: { access: 'operator' },
      schema: {
        summary: 'List the test clocks',
        tags: ['test clocks'],
        response: { 200: ref(TestClockList), ...problems('operator', false, L.listClocks) },
      },
    },
    async () => ({ clocks: await ledger.listClocks() }),
  );

  app.get(
    '/v1/test-clocks/:clockId',
    {
      config: { access: 'operator' },
      schema: {
        summary: 'Get a test clock',
        tags: ['test clocks'],
        params: TestClockParams,
        response: { 200: ref(TestClock), ...problems('operator', false, L.getClock) },
      },
    },
    async (request) => ledger.getClock(request.params.clockId),
  );

  app.post(
    '/v1/test-clocks/:clockId/advance',
    {
      config: { access: 'operator' },
      schema: {
        summary: 'Advance a test clock: what falls due on its accounts runs, in order, day by day',
        description:
          'Idempotent by its target: advancing to where the clock is changes nothing; a time before it is refused. Renewals, rollover, expiries, hold ttls, budget periods, auto top-ups and grant.expiring run as if that time had passed, for the clock’s accounts only.',
        tags: ['test clocks'],
        params: TestClockParams,
        body: AdvanceTestClockRequest,
        response: { 200: ref(AdvancedTestClock), ...problems('operator', true, L.advanceClock) },
      },
    },
    async (request) => {
      const { steps, ...clock } = await ledger.advanceClock({
        id: request.params.clockId,
        to: request.body.to,
      });
      return { clock, steps };
    },
  );
}
