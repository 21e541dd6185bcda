import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BOTH_STORES } from '../pg-helpers.js';
import { ok, problem, startServer, type CallOptions, type TestServer } from './http-helpers.js';

/**
 * Organizations over HTTP: every role tried against every action, allowed where the role
 * allows (owner: everything; admin: members, projects, budgets, packs and all usage; member:
 * quote, hold and charge within budgets, and its own usage), 403 or 404 otherwise, and nothing
 * changed on refusal.
 */

const json = (b: unknown) => b as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

type Role = 'owner' | 'admin' | 'member';
const ROLES: readonly Role[] = ['member', 'admin', 'owner'];
const ALL: readonly Role[] = ROLES;
const MANAGERS: readonly Role[] = ['admin', 'owner'];
const OWNER: readonly Role[] = ['owner'];
const NOBODY: readonly Role[] = [];

let n = 0;
const fresh = (prefix: string) => `${prefix}-${++n}`;

interface Row {
  readonly name: string;
  readonly allowed: readonly Role[];
  /** Makes what the attempt needs (as the operator) and answers the call to try. */
  readonly attempt: (s: TestServer) => Promise<readonly [string, string, CallOptions]>;
  /** The status when allowed (default 200). */
  readonly status?: number;
  /** The status when refused (default 403; a hold of another member looks unknown: 404). */
  readonly refused?: number;
}

const hold = async (s: TestServer, member: string) =>
  json(
    ok(
      await s.call('POST', '/v1/holds', {
        idem: fresh('h'),
        body: { accountId: 'acme', credits: 2, attribution: { member } },
      }),
      201,
    ),
  ).hold.id as string;

const call = (method: string, path: string, o: CallOptions = {}) =>
  Promise.resolve([method, path, o] as const);

const TABLE: readonly Row[] = [
  { name: 'read the account', allowed: ALL, attempt: () => call('GET', '/v1/accounts/acme') },
  { name: 'balance', allowed: ALL, attempt: () => call('GET', '/v1/accounts/acme/balance') },
  { name: 'history', allowed: ALL, attempt: () => call('GET', '/v1/accounts/acme/history') },
  {
    // A plain member gets its own usage (member in the answer), as with history.
    name: 'daily usage',
    allowed: ALL,
    attempt: () => call('GET', '/v1/accounts/acme/usage/daily?by=member'),
  },
  {
    name: 'organization',
    allowed: ALL,
    attempt: () => call('GET', '/v1/accounts/acme/organization'),
  },
  { name: 'members', allowed: ALL, attempt: () => call('GET', '/v1/accounts/acme/members') },
  { name: 'projects', allowed: ALL, attempt: () => call('GET', '/v1/accounts/acme/projects') },
  { name: 'budgets', allowed: ALL, attempt: () => call('GET', '/v1/accounts/acme/budgets') },
  {
    name: 'subscription',
    allowed: ALL,
    attempt: () => call('GET', '/v1/accounts/acme/subscription'),
  },
  {
    name: 'quote',
    allowed: ALL,
    attempt: () =>
      call('POST', '/v1/quotes', { body: { items: [{ operation: 'image.generate' }] } }),
  },
  {
    name: 'hold (own)',
    allowed: ALL,
    status: 201,
    attempt: () =>
      call('POST', '/v1/holds', {
        idem: fresh('own-h'),
        body: { accountId: 'acme', credits: 1, attribution: { project: 'web' } },
      }),
  },
  {
    name: 'charge (own)',
    allowed: ALL,
    status: 201,
    attempt: () =>
      call('POST', '/v1/charges', {
        idem: fresh('own-c'),
        body: { accountId: 'acme', credits: 1 },
      }),
  },
  {
    name: 'charge as another member',
    allowed: NOBODY,
    attempt: () =>
      call('POST', '/v1/charges', {
        idem: fresh('other-c'),
        body: { accountId: 'acme', credits: 1, attribution: { member: 'max' } },
      }),
  },
  {
    name: "get another member's hold",
    allowed: MANAGERS,
    refused: 404,
    attempt: async (s) => call('GET', `/v1/holds/${await hold(s, 'max')}`),
  },
  {
    name: "capture another member's hold",
    allowed: MANAGERS,
    refused: 404,
    attempt: async (s) =>
      call('POST', `/v1/holds/${await hold(s, 'max')}/capture`, { idem: fresh('cap') }),
  },
  {
    name: "release another member's hold",
    allowed: MANAGERS,
    refused: 404,
    attempt: async (s) =>
      call('POST', `/v1/holds/${await hold(s, 'max')}/release`, { idem: fresh('rel') }),
  },
  {
    name: 'add a member',
    allowed: MANAGERS,
    status: 201,
    attempt: () =>
      call('PUT', `/v1/accounts/acme/members/${fresh('new')}`, { body: { role: 'member' } }),
  },
  {
    name: 'change a role',
    allowed: MANAGERS,
    attempt: async (s) => {
      ok(await s.call('PUT', '/v1/accounts/acme/members/max', { body: { role: 'member' } }));
      return call('PUT', '/v1/accounts/acme/members/max', { body: { role: 'admin' } });
    },
  },
  {
    name: 'make an owner',
    allowed: OWNER,
    attempt: async (s) => {
      ok(await s.call('PUT', '/v1/accounts/acme/members/max', { body: { role: 'member' } }));
      return call('PUT', '/v1/accounts/acme/members/max', { body: { role: 'owner' } });
    },
  },
  {
    name: 'remove a member',
    allowed: MANAGERS,
    status: 204,
    attempt: async (s) => {
      const id = fresh('temp');
      ok(await s.call('PUT', `/v1/accounts/acme/members/${id}`, { body: { role: 'member' } }), 201);
      return call('DELETE', `/v1/accounts/acme/members/${id}`);
    },
  },
  {
    name: "make another member's key",
    allowed: OWNER,
    status: 201,
    attempt: () => call('POST', '/v1/accounts/acme/members/max/keys', { body: {} }),
  },
  {
    name: 'create a project',
    allowed: MANAGERS,
    attempt: () => call('PUT', `/v1/accounts/acme/projects/${fresh('p')}`, { body: {} }),
  },
  {
    name: 'set a budget',
    allowed: MANAGERS,
    attempt: () =>
      call('PUT', '/v1/accounts/acme/budgets/member/max', {
        body: { limit: 100 + n++, mode: 'hard' },
      }),
  },
  {
    name: 'remove a budget',
    allowed: MANAGERS,
    status: 204,
    attempt: async (s) => {
      ok(await s.call('PUT', '/v1/accounts/acme/budgets/project/web', { body: { limit: 500 } }));
      return call('DELETE', '/v1/accounts/acme/budgets/project/web');
    },
  },
  { name: 'alerts', allowed: MANAGERS, attempt: () => call('GET', '/v1/accounts/acme/alerts') },
  {
    name: 'buy a pack',
    allowed: MANAGERS,
    status: 201,
    attempt: () =>
      call('POST', '/v1/purchases', {
        idem: fresh('buy'),
        body: { accountId: 'acme', pack: 'pack-20' },
      }),
  },
  {
    name: 'buy the advised combination',
    allowed: MANAGERS,
    status: 201,
    attempt: () =>
      call('POST', '/v1/purchases', {
        idem: fresh('combo'),
        body: {
          accountId: 'acme',
          packs: [
            { pack: 'pack-50', count: 2 },
            { pack: 'pack-20', count: 1 },
          ],
        },
      }),
  },
  {
    name: 'cancel a pending purchase',
    allowed: MANAGERS,
    attempt: async (s) => {
      const bought = await s.ledger.createPurchase({
        accountId: 'acme',
        key: fresh('to-cancel'),
        pack: 'pack-20',
        provider: 'manual',
      });
      return call('POST', `/v1/purchases/${bought.purchase.id}/cancel`);
    },
  },
  {
    name: 'purchases',
    allowed: MANAGERS,
    attempt: () => call('GET', '/v1/accounts/acme/purchases'),
  },
  {
    // The current plan: a change that undoes any queued downgrade or cancellation.
    name: 'change the plan',
    allowed: OWNER,
    attempt: async (s) => {
      const plan = (await s.ledger.getSubscription('acme')).plan;
      return call('POST', '/v1/accounts/acme/subscription/change', {
        idem: fresh('change'),
        body: { plan },
      });
    },
  },
  {
    name: 'upgrades',
    allowed: OWNER,
    attempt: () => call('GET', '/v1/accounts/acme/subscription/upgrades'),
  },
  {
    name: 'cancel the plan',
    allowed: OWNER,
    attempt: () => call('POST', '/v1/accounts/acme/subscription/cancel', { idem: fresh('cancel') }),
  },
  {
    name: 'set auto top-up',
    allowed: OWNER,
    attempt: () =>
      call('PUT', '/v1/accounts/acme/autotopup', {
        body: { pack: 'pack-20', thresholdCredits: 5, maxPerPeriod: 1 + (n++ % 5) },
      }),
  },
  {
    name: 'register a webhook',
    allowed: OWNER,
    status: 201,
    attempt: () =>
      call('POST', '/v1/webhooks', {
        idem: `wh-${n++}`,
        body: { url: 'http://127.0.0.1:9/hooks', eventTypes: ['budget.threshold'] },
      }),
  },
  {
    name: 'grant credits (operator only)',
    allowed: NOBODY,
    attempt: () =>
      call('POST', '/v1/grants', {
        idem: fresh('g'),
        body: { accountId: 'acme', credits: 5, source: 'promotion' },
      }),
  },
  {
    name: 'create an organization (operator only)',
    allowed: NOBODY,
    attempt: () =>
      call('POST', '/v1/orgs', { body: { id: fresh('org'), name: 'X', owner: { id: 'x' } } }),
  },
];

for (const [storeName, open, skip] of BOTH_STORES) {
  describe(`organizations over HTTP on ${storeName}`, { skip }, () => {
    let s: TestServer;
    const keyOf = {} as Record<Role, string>;

    /** Everything an operator can read about acme. */
    async function acme(): Promise<string> {
      const reads = [
        '/v1/accounts/acme/balance',
        '/v1/accounts/acme/history?limit=500',
        '/v1/accounts/acme/organization',
        '/v1/accounts/acme/budgets',
        '/v1/accounts/acme/alerts',
        '/v1/accounts/acme/purchases',
        '/v1/accounts/acme/subscription',
        '/v1/webhooks',
      ];
      const texts = await Promise.all(reads.map(async (p) => (await s.call('GET', p)).text));
      const auto = await s.call('GET', '/v1/accounts/acme/autotopup');
      const keys = (await s.keys.list()).length;
      return [...texts, auto.text, String(keys)].join('\n').replace(/"asOf":\d+/, '');
    }

    before(async () => {
      s = await startServer({ open, allowPrivateWebhooks: true });
      ok(
        await s.call('POST', '/v1/orgs', {
          body: { id: 'acme', name: 'Acme Studio', owner: { id: 'olga', email: 'o@acme.test' } },
        }),
        201,
      );
      ok(
        await s.call('POST', '/v1/accounts/acme/subscription', {
          idem: 'sub',
          body: { plan: 'business' },
        }),
        201,
      );
      ok(
        await s.call('POST', '/v1/grants', {
          idem: 'g',
          body: { accountId: 'acme', credits: 5000, source: 'promotion' },
        }),
        201,
      );
      for (const [id, role] of [
        ['adam', 'admin'],
        ['mia', 'member'],
        ['max', 'member'],
      ] as const) {
        ok(await s.call('PUT', `/v1/accounts/acme/members/${id}`, { body: { role } }), 201);
      }
      ok(await s.call('PUT', '/v1/accounts/acme/projects/web', { body: { name: 'Web' } }));
      for (const [role, id] of [
        ['owner', 'olga'],
        ['admin', 'adam'],
        ['member', 'mia'],
      ] as const) {
        const made = json(
          ok(await s.call('POST', `/v1/accounts/acme/members/${id}/keys`, { body: {} }), 201),
        );
        keyOf[role] = made.key;
      }
    });
    after(async () => s?.close());

    for (const row of TABLE) {
      it(`${row.name}: ${row.allowed.length === 0 ? 'nobody' : row.allowed.join(', ')}`, async () => {
        for (const role of ROLES) {
          const [method, path, o] = await row.attempt(s);
          const before = await acme();
          const r = await s.call(method, path, { ...o, key: keyOf[role] });
          if (row.allowed.includes(role)) {
            assert.equal(r.status, row.status ?? 200, `${role}: ${r.status} ${r.text}`);
          } else {
            const status = row.refused ?? 403;
            problem(r, status, status === 403 ? 'forbidden' : 'unknown_hold');
            assert.equal(await acme(), before, `${role}: a refusal changes nothing`);
          }
        }
      });
    }

    it('a member spends as itself: holds and charges name it, and it sees only its own usage', async () => {
      const c = json(
        ok(
          await s.call('POST', '/v1/charges', {
            key: keyOf.member,
            idem: fresh('mine'),
            body: { accountId: 'acme', credits: 3 },
          }),
          201,
        ),
      );
      assert.equal(c.attribution.member, 'mia');
      ok(
        await s.call('POST', '/v1/charges', {
          idem: fresh('maxs'),
          body: { accountId: 'acme', credits: 2, attribution: { member: 'max' } },
        }),
        201,
      );
      const mine = json(
        ok(await s.call('GET', '/v1/accounts/acme/history?limit=500', { key: keyOf.member })),
      );
      assert.ok(mine.transactions.length > 0);
      for (const t of mine.transactions) assert.equal(t.detail.attribution.member, 'mia');
      const all = json(
        ok(await s.call('GET', '/v1/accounts/acme/history?limit=500', { key: keyOf.admin })),
      );
      assert.ok(all.transactions.some((t: any) => t.detail.attribution?.member === 'max')); // eslint-disable-line @typescript-eslint/no-explicit-any
    });

    it('a hard budget refuses with its figures; a member sees its own budget only', async () => {
      ok(await s.call('PUT', '/v1/accounts/acme/budgets/member/mia', { body: { limit: 0 } }));
      ok(
        await s.call('PUT', '/v1/accounts/acme/budgets/member/max', {
          body: { limit: 1000, mode: 'soft' },
        }),
      );
      const used = json(ok(await s.call('GET', '/v1/accounts/acme/budgets'))).budgets.find(
        (b: { scope: string; target: string }) => b.scope === 'member' && b.target === 'mia',
      );
      assert.equal(used.limitCredits, 0);
      ok(
        await s.call('PUT', '/v1/accounts/acme/budgets/member/mia', {
          body: { limit: used.used + 2 },
        }),
      );
      const before = await acme();
      const refused = problem(
        await s.call('POST', '/v1/holds', {
          key: keyOf.member,
          idem: fresh('big'),
          body: { accountId: 'acme', credits: 3 },
        }),
        402,
        'budget_exceeded',
      );
      assert.match(String(refused.detail), /member "mia"/);
      assert.equal(await acme(), before);
      const seen = json(
        ok(await s.call('GET', '/v1/accounts/acme/budgets', { key: keyOf.member })),
      );
      const targets = seen.budgets.map(
        (b: { scope: string; target: string }) => `${b.scope}:${b.target}`,
      );
      assert.ok(targets.includes('member:mia'));
      assert.ok(!targets.includes('member:max'), 'another member’s budget is not shown');
    });

    it('an invitation is accepted once with its code and answers a member key', async () => {
      // The table's owner cancelled the plan, and a pending cancellation seats the owner alone:
      // staying on the plan takes the cancellation back.
      problem(
        await s.call('PUT', '/v1/accounts/acme/members/ivy', { body: { role: 'member' } }),
        409,
        'team_access_required',
      );
      ok(
        await s.call('POST', '/v1/accounts/acme/subscription/change', {
          idem: 'stay',
          body: { plan: 'business' },
        }),
      );
      const invited = json(
        ok(
          await s.call('PUT', '/v1/accounts/acme/members/ivy', {
            body: { role: 'member', invite: true, email: 'ivy@acme.test' },
          }),
          201,
        ),
      );
      assert.equal(invited.member.status, 'invited');
      // A key for a member who has not accepted would be refused on every request: not made.
      const keysBefore = (await s.keys.list()).length;
      const notYet = problem(
        await s.call('POST', '/v1/accounts/acme/members/ivy/keys', { body: {} }),
        409,
        'member_not_active',
      );
      assert.match(String(notYet.detail), /invitation/);
      assert.equal(notYet.status, 409);
      assert.equal((await s.keys.list()).length, keysBefore, 'no key was made');
      const code = invited.invitationCode as string;
      problem(
        await s.call('POST', '/v1/invitations/accept', {
          key: null,
          body: { accountId: 'acme', memberId: 'ivy', code: code + 'x' },
        }),
        403,
        'invalid_invitation',
      );
      const accepted = json(
        ok(
          await s.call('POST', '/v1/invitations/accept', {
            key: null,
            body: { accountId: 'acme', memberId: 'ivy', code },
          }),
          201,
        ),
      );
      assert.equal(accepted.member.status, 'active');
      ok(await s.call('GET', '/v1/accounts/acme/balance', { key: accepted.key }));
      const later = json(
        ok(await s.call('POST', '/v1/accounts/acme/members/ivy/keys', { body: {} }), 201),
      );
      ok(await s.call('GET', '/v1/accounts/acme/balance', { key: later.key }));
      problem(
        await s.call('POST', '/v1/invitations/accept', {
          key: null,
          body: { accountId: 'acme', memberId: 'ivy', code },
        }),
        403,
        'invalid_invitation',
      );
      // A removed member's key stops working.
      ok(await s.call('DELETE', '/v1/accounts/acme/members/ivy'), 204);
      problem(
        await s.call('GET', '/v1/accounts/acme/balance', { key: accepted.key }),
        401,
        'unauthorized',
      );
    });

    it('a member makes keys for itself; an admin cannot make an owner’s key or edit an owner', async () => {
      const own = json(
        ok(
          await s.call('POST', '/v1/accounts/acme/members/mia/keys', {
            key: keyOf.member,
            body: { name: 'laptop' },
          }),
          201,
        ),
      );
      ok(await s.call('GET', '/v1/accounts/acme/balance', { key: own.key }));
      const before = await acme();
      problem(
        await s.call('POST', '/v1/accounts/acme/members/olga/keys', { key: keyOf.admin, body: {} }),
        403,
        'forbidden',
      );
      problem(
        await s.call('PUT', '/v1/accounts/acme/members/olga', {
          key: keyOf.admin,
          body: { role: 'owner', email: 'evil@example.test' },
        }),
        403,
        'forbidden',
      );
      assert.equal(await acme(), before);
    });

    it('an admin cannot remove or demote an owner; the last owner stays', async () => {
      problem(
        await s.call('DELETE', '/v1/accounts/acme/members/olga', { key: keyOf.admin }),
        403,
        'forbidden',
      );
      const owners = json(ok(await s.call('GET', '/v1/accounts/acme/members'))).members.filter(
        (m: { role: string }) => m.role === 'owner',
      );
      for (const o of owners.filter((m: { id: string }) => m.id !== 'olga')) {
        ok(await s.call('PUT', `/v1/accounts/acme/members/${o.id}`, { body: { role: 'member' } }));
      }
      problem(
        await s.call('PUT', '/v1/accounts/acme/members/olga', {
          key: keyOf.owner,
          body: { role: 'admin' },
        }),
        409,
        'last_owner',
      );
      problem(await s.call('DELETE', '/v1/accounts/acme/members/olga'), 409, 'last_owner');
    });

    it("another account's key sees the organization as unknown", async () => {
      ok(await s.call('POST', '/v1/accounts', { body: { id: 'solo' } }), 201);
      const solo = await s.keyFor('solo');
      for (const path of [
        '/v1/accounts/acme/organization',
        '/v1/accounts/acme/members',
        '/v1/accounts/acme/budgets',
      ]) {
        problem(await s.call('GET', path, { key: solo }), 404, 'unknown_account');
      }
      problem(
        await s.call('GET', '/v1/accounts/solo/members', { key: solo }),
        409,
        'not_an_organization',
      );
    });
  });
}
