import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { errorTable, type ErrorCode } from '../../src/core/errors.js';
import { SCOPE_PROBLEMS as S } from '../../src/http/auth.js';
import {
  AUTH_PROBLEMS,
  BODY_PROBLEMS,
  EDGE_PROBLEMS,
  routeProblems,
  type Access,
} from '../../src/http/schemas/problems.js';
import { LEDGER_PROBLEMS as L } from '../../src/ledger/ledger.js';
import type { Problems } from '../../src/ledger/problems.js';
import { PURCHASE_SERVICE_PROBLEMS as P } from '../../src/service/purchases.js';
import { defaultCatalog } from '../helpers.js';
import { createOrganization, ok, problem, startServer, type TestServer } from './http-helpers.js';
import { operationCodes, SpecChecker, type Operation, type Spec } from './spec-check.js';

/**
 * The problem codes of /openapi.json come from the use-cases' declarations (src/ledger/
 * problems.ts and each <domain>/api.ts) and the HTTP layer's own: every operation documents
 * each of its codes under the code's status, the routes below document exactly what their
 * use-cases declare, and codes made to happen through the front door are documented.
 */

const json = (b: unknown) => b as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** What a few routes call, so what they must document, no more and no less. */
const DECLARED: Readonly<Record<string, readonly [Access, boolean, ...Problems[]]>> = {
  'post /v1/grants': ['operator', true, L.grant],
  'post /v1/holds': ['account', true, S.account, S.attribution, L.hold],
  'get /v1/holds/{holdId}': ['account', false, S.hold],
  'post /v1/holds/{holdId}/capture': ['account', true, S.hold, L.capture],
  'post /v1/holds/{holdId}/release': ['account', true, S.hold, L.release],
  'post /v1/holds/{holdId}/extend': ['account', true, S.hold, L.extendHold],
  'post /v1/holds/{holdId}/increase': ['account', true, S.hold, L.increaseHold],
  'post /v1/test-clocks/{clockId}/advance': ['operator', true, L.advanceClock],
  'post /v1/charges': ['account', true, S.account, S.attribution, L.charge],
  'post /v1/check': ['account', true, S.account, S.attribution, L.check],
  'post /v1/quotes': ['account', true, L.quote],
  'get /v1/accounts/{accountId}/usage/daily': ['account', false, S.account, L.dailyUsage],
  'post /v1/batches': ['account', true, S.account, S.attribution, L.holdBatch],
  'post /v1/batches/{batchId}/items/{index}/capture': [
    'account',
    true,
    S.batch,
    L.captureBatchItem,
  ],
  'post /v1/accounts/{accountId}/subscription/change': [
    'account',
    true,
    S.account,
    P.changePlan,
    P.changePlanAsCustomer,
  ],
  'post /v1/plan-upgrades/{upgradeId}/cancel': ['account', true, S.upgrade, L.cancelUpgrade],
  'post /v1/purchases': ['account', true, S.account, P.buy],
  'post /v1/purchases/{purchaseId}/cancel': ['account', true, S.purchase, P.cancel],
  'post /autumn/v1/check': [
    'account',
    true,
    S.account,
    S.attribution,
    L.check,
    L.charge,
    L.balance,
    L.findHoldByKey,
    L.findSubscription,
  ],
  'post /autumn/v1/track': [
    'account',
    true,
    S.account,
    S.attribution,
    L.charge,
    L.balance,
    L.findSubscription,
  ],
  'post /autumn/v1/balances.finalize': [
    'account',
    true,
    S.account,
    S.hold,
    L.findHoldByKey,
    ['unknown_hold'],
    L.capture,
    L.release,
  ],
  'get /autumn/v1/customers/{customer_id}': [
    'account',
    false,
    S.account,
    L.getAccount,
    L.balance,
    L.findSubscription,
  ],
};

const SPENDS = ['post /v1/holds', 'post /v1/charges', 'post /v1/batches'];

describe('problem codes: declared by the use-cases, documented by the routes', () => {
  let s: TestServer;
  let spec: Spec;
  const operations: {
    name: string;
    op: Operation & { security?: unknown[]; requestBody?: unknown };
  }[] = [];
  before(async () => {
    s = await startServer();
    spec = (await (await fetch(`${s.url}/openapi.json`)).json()) as Spec;
    for (const [path, methods] of Object.entries(spec.paths)) {
      for (const [method, op] of Object.entries(methods))
        operations.push({ name: `${method} ${path}`, op });
    }
  });
  after(async () => s?.close());

  it('every operation documents each code under its status, with the HTTP layer codes of its access', () => {
    assert.ok(operations.length >= 60, `${operations.length} operations`);
    for (const { name, op } of operations) {
      const documented = operationCodes(op);
      if (documented.size === 0) {
        // Probes and metrics answer no problem at all.
        assert.ok(/^get \/(healthz|readyz|metrics)$/.test(name), `${name} documents its problems`);
        continue;
      }
      for (const [code, status] of documented) {
        assert.ok(code in errorTable, `${name}: ${code} is a code of the error table`);
        assert.equal(
          status,
          errorTable[code as ErrorCode].status,
          `${name}: ${code} under ${status}`,
        );
      }
      const isPublic = Array.isArray(op.security) && op.security.length === 0;
      const expected = [
        ...EDGE_PROBLEMS,
        ...(isPublic ? [] : AUTH_PROBLEMS),
        ...(op.requestBody === undefined ? [] : BODY_PROBLEMS),
      ];
      for (const code of expected) assert.ok(documented.has(code), `${name} documents ${code}`);
    }
  });

  it('routes document exactly the codes of the use-cases they call, and every spend seat_limit_reached', () => {
    for (const [name, [access, write, ...parts]] of Object.entries(DECLARED)) {
      const op = operations.find((o) => o.name === name)?.op;
      assert.ok(op, `${name} is in the document`);
      const documented = [...operationCodes(op).keys()].sort();
      assert.deepEqual(documented, [...routeProblems(access, write, ...parts)].sort(), name);
    }
    for (const name of SPENDS) {
      const codes = operationCodes(operations.find((o) => o.name === name)!.op);
      for (const code of [
        'seat_limit_reached',
        'budget_exceeded',
        'insufficient_credits',
        'team_access_required',
      ]) {
        assert.equal(
          codes.get(code),
          errorTable[code as ErrorCode].status,
          `${name} documents ${code}`,
        );
      }
    }
    for (const [name, list] of [
      ['hold', L.hold],
      ['charge', L.charge],
      ['holdBatch', L.holdBatch],
      ['subscribe', L.subscribe],
      ['changePlan', L.changePlan],
    ] as const) {
      assert.ok(list.includes('seat_limit_reached'), `${name} declares seat_limit_reached`);
    }
  });

  it('the spec check refuses a code its route does not declare, and a status that is not the code’s', () => {
    const checker = new SpecChecker(spec);
    const body = (code: ErrorCode, status = errorTable[code].status) => ({
      type: `urn:amisi:error:${code}`,
      title: errorTable[code].title,
      status,
      detail: 'made up',
      code,
      retryable: errorTable[code].retryable,
    });
    const type = 'application/problem+json';
    checker.check('GET', '/v1/holds/h1', 404, type, body('unknown_hold'));
    // A 404 this route documents, with a code it does not.
    assert.throws(
      () => checker.check('GET', '/v1/holds/h1', 404, type, body('unknown_batch')),
      /code unknown_batch is not documented/,
    );
    // A status that is not the one of the body.
    assert.throws(
      () => checker.check('GET', '/v1/holds/h1', 404, type, body('unknown_hold', 409)),
      /unknown_hold says 409/,
    );
    // seat_limit_reached on a route that cannot raise it: its status is not even documented.
    assert.throws(
      () => checker.check('GET', '/v1/holds/h1', 409, type, body('seat_limit_reached')),
      /status 409 is not documented/,
    );
  });

  it('through the front door: an organization past its seats refuses a member’s hold, charge and batch', async () => {
    await createOrganization(s, {
      id: 'crowd',
      name: 'Crowd',
      owner: { id: 'olga', email: 'o@crowd.test' },
      plan: 'pro',
      members: [
        ['mia', 'member'],
        ['max', 'member'],
      ],
    });
    ok(
      await s.call('POST', '/v1/grants', {
        idem: 'g',
        body: { accountId: 'crowd', credits: 1000, source: 'promotion' },
      }),
      201,
    );
    const mia = json(
      ok(await s.call('POST', '/v1/accounts/crowd/members/mia/keys', { body: {} }), 201),
    ).key as string;
    const held = await s.call('POST', '/v1/holds', {
      key: mia,
      idem: 'h0',
      body: { accountId: 'crowd', credits: 1 },
    });
    ok(held, 201);
    // A catalog whose Pro plan has fewer seats than the organization has members.
    const catalog = json(defaultCatalog());
    catalog.version = 'fewer-seats';
    catalog.plans.pro.seats = 2;
    await s.ledger.loadCatalog(catalog);
    const spends = [
      ['/v1/holds', { accountId: 'crowd', credits: 1 }],
      ['/v1/charges', { accountId: 'crowd', credits: 1 }],
      [
        '/v1/batches',
        {
          accountId: 'crowd',
          items: [{ operation: 'image.generate', params: { resolution: '720p' } }],
        },
      ],
    ] as const;
    for (const [path, body] of spends) {
      // s.call checks the answer against the document: the code must be declared there.
      const refused = problem(
        await s.call('POST', path, { key: mia, idem: `seats${path}`, body }),
        409,
        'seat_limit_reached',
      );
      assert.deepEqual([refused.members, refused.seats], [3, 2], path);
      const op = spec.paths[path]!.post!;
      assert.equal(operationCodes(op).get('seat_limit_reached'), 409, `${path} declares it`);
    }
    // Owners may still spend; the plan change to fewer seats is refused the same way.
    ok(
      await s.call('POST', '/v1/holds', {
        idem: 'owner',
        body: { accountId: 'crowd', credits: 1, attribution: { member: 'olga' } },
      }),
      201,
    );
    await s.ledger.loadCatalog({ ...json(defaultCatalog()), version: 'seats-back' });
    problem(
      await s.call('POST', '/v1/accounts/crowd/subscription/change', {
        idem: 'down',
        body: { plan: 'starter' },
      }),
      409,
      'seat_limit_reached',
    );
    assert.ok(s.checker.seen.has('post /v1/accounts/{accountId}/subscription/change 409'));
  });
});
