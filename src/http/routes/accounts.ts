import { LEDGER_PROBLEMS as L, MAX_HISTORY_SCAN } from '../../ledger/ledger.js';
import { API_KEYS_PROBLEMS as K } from '../../service/api-keys.js';
import type { App, Deps } from '../app.js';
import { replayed } from '../app.js';
import { ownUsageOnly, accountInScope, principalOf, SCOPE_PROBLEMS as S } from '../auth.js';
import {
  AccountKey,
  AccountList,
  AccountListQuery,
  AccountSummaryList,
  AccountSummaryQuery,
  CreateAccountKeyRequest,
  AccountParams,
  AccountResult,
  Account,
  Balance,
  CreateAccountRequest,
  HistoryPage,
  HistoryQuery,
  IDEMPOTENCY_HEADER,
  Me,
  OptionalIdempotencyHeaders,
  Overdraft,
  OverdraftRequest,
  problems,
  ref,
} from '../schemas/index.js';

/** Who the key is; accounts and what they hold: create, list, get, balance, history. */
export async function accountRoutes(app: App, { ledger, keys }: Deps): Promise<void> {
  app.get(
    '/v1/me',
    {
      config: { access: 'account', action: 'read' },
      schema: {
        summary: 'Who this API key is: its scope, account, member and role',
        tags: ['accounts'],
        response: { 200: ref(Me), ...problems('account', false) },
      },
    },
    async (request) => {
      const p = principalOf(request);
      return {
        keyId: p.keyId,
        scope: p.kind,
        accountId: p.kind === 'operator' ? null : p.accountId,
        memberId: p.kind === 'member' ? p.memberId : null,
        role: p.kind === 'member' ? p.role : null,
        readOnly: p.readOnly,
        expiresAt: p.expiresAt,
      };
    },
  );

  app.post(
    '/v1/accounts',
    {
      config: { access: 'operator' },
      schema: {
        summary: 'Create an account, on a plan if one is given',
        description:
          "Idempotent by its id: creating the same account again answers it with replay true. With plan, the account is subscribed at once (the plan starts now with its first cycle's credits, whatever the payment provider) by the Idempotency-Key, default create-<id>; the same request again (within the key's retention) is a replay, and a plan for an account that existed before under any other key is account_exists (nothing changes; subscribe it or change its plan instead). Without plan no Idempotency-Key is needed.",
        tags: ['accounts'],
        headers: OptionalIdempotencyHeaders,
        body: CreateAccountRequest,
        response: {
          201: ref(AccountResult),
          ...problems('operator', true, L.createAccount),
        },
      },
    },
    async (request, reply) => {
      const key = request.headers[IDEMPOTENCY_HEADER];
      const r = await ledger.createAccount({
        accountId: request.body.id,
        plan: request.body.plan ?? null,
        testClockId: request.body.testClockId ?? null,
        ...(key === undefined ? {} : { key }),
      });
      replayed(reply, r.replay);
      return reply.status(201).send(r);
    },
  );

  app.get(
    '/v1/accounts',
    {
      config: { access: 'operator' },
      schema: {
        summary: 'List accounts in id order',
        description: 'search keeps the accounts whose id or name contains it, ignoring case.',
        tags: ['accounts'],
        querystring: AccountListQuery,
        response: { 200: ref(AccountList), ...problems('operator', false, L.listAccounts) },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 100;
      const { cursor, search } = request.query;
      const accounts = await ledger.listAccounts({
        afterId: cursor ?? null,
        limit: limit + 1,
        ...(search === undefined ? {} : { search }),
      });
      const page = accounts.slice(0, limit);
      return {
        accounts: page,
        nextCursor: accounts.length > limit ? page[page.length - 1]!.id : null,
      };
    },
  );

  app.get(
    '/v1/account-summaries',
    {
      config: { access: 'operator' },
      schema: {
        summary: 'Accounts in id order, each with its balance, plan status and last activity',
        description:
          "The operator's account list: what GET /v1/accounts answers, with each account's available, held and owed credits as of now (each row settles its account, as its balance read does), whether its plan is active, ending or absent, and when its journal last changed. search keeps the accounts whose id or name contains it, ignoring case.",
        tags: ['accounts'],
        querystring: AccountSummaryQuery,
        response: {
          200: ref(AccountSummaryList),
          ...problems('operator', false, L.accountSummaries),
        },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const { cursor, search } = request.query;
      const rows = await ledger.accountSummaries({
        afterId: cursor ?? null,
        limit: limit + 1,
        ...(search === undefined ? {} : { search }),
      });
      const page = rows.slice(0, limit);
      return {
        summaries: page,
        nextCursor: rows.length > limit ? page[page.length - 1]!.account.id : null,
      };
    },
  );

  app.post(
    '/v1/accounts/:accountId/keys',
    {
      config: { access: 'operator' },
      schema: {
        summary: 'Make an API key for one account (an account key)',
        description:
          'The key reaches this account only; readOnly keys only read. The key is in this answer only (the server keeps its hash), so the request is not idempotent: each call makes a new key. An organization’s member keys are made at .../members/{member}/keys.',
        tags: ['accounts'],
        params: AccountParams,
        body: CreateAccountKeyRequest,
        response: {
          201: ref(AccountKey),
          ...problems('operator', true, L.getAccount, K.create),
        },
      },
    },
    async (request, reply) => {
      const account = await ledger.getAccount(request.params.accountId);
      const made = await keys.create({
        scope: { accountId: account.id },
        readOnly: request.body.readOnly ?? false,
        name: request.body.name ?? null,
        ...(request.body.ttlSeconds === undefined ? {} : { ttlSeconds: request.body.ttlSeconds }),
      });
      return reply.status(201).send({
        accountId: account.id,
        keyId: made.record.id,
        key: made.key,
        readOnly: made.record.readOnly,
        name: made.record.name,
        expiresAt: made.record.expiresAt,
      });
    },
  );

  app.get(
    '/v1/accounts/:accountId',
    {
      config: { access: 'account', action: 'read' },
      schema: {
        summary: 'Get an account',
        tags: ['accounts'],
        params: AccountParams,
        response: { 200: ref(Account), ...problems('account', false, S.account, L.getAccount) },
      },
    },
    async (request) => ledger.getAccount(accountInScope(request, request.params.accountId)),
  );

  app.get(
    '/v1/accounts/:accountId/balance',
    {
      config: { access: 'account', action: 'read' },
      schema: {
        summary: 'Available and held credits, per grant, and the next expiry',
        tags: ['accounts'],
        params: AccountParams,
        response: { 200: ref(Balance), ...problems('account', false, S.account, L.balance) },
      },
    },
    async (request) => ledger.balance(accountInScope(request, request.params.accountId)),
  );

  app.put(
    '/v1/accounts/:accountId/overdraft',
    {
      config: { access: 'operator' },
      schema: {
        summary: "Set the account's overdraft limit",
        description:
          "How far below zero the account's available credits may go: holds and charges may draw past zero up to the limit (hard: a spend past it is refused with overdraft_limit_reached; soft: allowed past it, the balance showing how far). What is spent past zero is a debt the next grant (renewal, pack, promotion) repays first. limit null follows the plan's limit again. A limit below the debt plus what holds reserve past zero is overdraft_below_used and changes nothing. Setting the same limit again changes nothing.",
        tags: ['accounts'],
        params: AccountParams,
        body: OverdraftRequest,
        response: {
          200: ref(Overdraft),
          ...problems('operator', true, L.setOverdraft),
        },
      },
    },
    async (request) =>
      ledger.setOverdraft({ accountId: request.params.accountId, ...request.body }),
  );

  app.get(
    '/v1/accounts/:accountId/history',
    {
      config: { access: 'account', action: 'read' },
      schema: {
        summary: 'Journal transactions, newest first, one page at a time',
        description: `Pass nextCursor back as cursor for the next (older) page. A member key without usage.all sees its own holds, their resolutions and charges, in full pages (a page reads up to ${MAX_HISTORY_SCAN} journal rows; past that it may be short, and its cursor walks on).`,
        tags: ['accounts'],
        params: AccountParams,
        querystring: HistoryQuery,
        response: { 200: ref(HistoryPage), ...problems('account', false, S.account, L.history) },
      },
    },
    async (request) => {
      const q = request.query;
      // A member sees its own holds and charges only, in full pages (the ledger reads on).
      const own = ownUsageOnly(request);
      return ledger.history({
        accountId: accountInScope(request, request.params.accountId),
        ...(q.kind ? { kinds: q.kind } : {}),
        ...(q.since === undefined ? {} : { since: q.since }),
        ...(q.until === undefined ? {} : { until: q.until }),
        ...(q.limit === undefined ? {} : { limit: q.limit }),
        ...(q.cursor === undefined ? {} : { before: q.cursor }),
        ...(own === null ? {} : { member: own }),
      });
    },
  );
}
