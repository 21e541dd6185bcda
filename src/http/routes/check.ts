import { LEDGER_PROBLEMS as L } from '../../ledger/ledger.js';
import type { App, Deps } from '../app.js';
import { replayed } from '../app.js';
import { accountInScope, attributionOf, SCOPE_PROBLEMS as S } from '../auth.js';
import {
  CheckRequest,
  CheckResult,
  IDEMPOTENCY_HEADER,
  OptionalIdempotencyHeaders,
  problems,
  ref,
} from '../schemas/index.js';

/**
 * POST /v1/check: authorized exactly as POST /v1/holds (an account key for its own account, a
 * member key spending as its member, the operator), since with hold it is one. A check that
 * says "not allowed" is a successful check: 200 with allowed false and the refusal that
 * blocks it; bad input (an unknown operation, account, member) is the usual problem.
 */
export async function checkRoutes(app: App, { ledger }: Deps): Promise<void> {
  app.post(
    '/v1/check',
    {
      config: { access: 'account', action: 'spend' },
      schema: {
        summary: 'May this request run now: its price, what blocks it, the balance after',
        description:
          'Decides as a hold would (credits, hard budgets, seats and team access, the overdraft limit) and answers 200 either way: allowed false names what blocks it with the code POST /v1/holds would refuse with. A plain check writes nothing. With hold true it reserves at once when allowed and answers the hold; it then needs an Idempotency-Key, and the same key and body answer the same hold (replay true).',
        tags: ['holds'],
        headers: OptionalIdempotencyHeaders,
        body: CheckRequest,
        response: {
          200: ref(CheckResult),
          ...problems('account', true, S.account, S.attribution, L.check),
        },
      },
    },
    async (request, reply) => {
      accountInScope(request, request.body.accountId);
      const key = request.headers[IDEMPOTENCY_HEADER];
      const r = await ledger.check({
        ...request.body,
        attribution: attributionOf(request, request.body.attribution),
        ...(key === undefined ? {} : { key }),
      });
      replayed(reply, r.replay);
      return r;
    },
  );
}
