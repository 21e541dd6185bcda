import { Type } from '@sinclair/typebox';
import { list, oneOf } from './common.js';

/** Health, readiness and verify. */

export const Health = Type.Object({ status: oneOf(['ok'] as const) }, { $id: 'Health' });

export const Readiness = Type.Object(
  {
    ready: Type.Boolean(),
    checks: Type.Object({
      store: oneOf(['ok', 'unreachable'] as const),
      catalog: oneOf(['active', 'missing', 'unknown'] as const),
    }),
  },
  { $id: 'Readiness' },
);

const Totals = Type.Object({
  granted: Type.Integer(),
  consumed: Type.Integer(),
  breakage: Type.Integer(),
  refunded: Type.Integer(),
  held: Type.Integer(),
  available: Type.Integer(),
});

export const VerifyReport = Type.Object(
  {
    accounts: Type.Integer(),
    transactions: Type.Integer(),
    totals: Totals,
    violations: list(
      Type.Object({ accountId: Type.String(), check: Type.String(), detail: Type.String() }),
    ),
    ok: Type.Boolean(),
  },
  {
    $id: 'VerifyReport',
    description: 'Every account recomputed from its journal; conservation per account.',
  },
);
