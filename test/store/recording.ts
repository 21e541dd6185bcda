import type { Store, WriteTx } from '../../src/ledger/store.js';

/**
 * Every method the port declares, listed for the recording proxy below. The types check the
 * lists are whole: a method added to the port and not here fails to compile.
 */
const STORE_METHODS = [
  'migrate',
  'write',
  'getAccount',
  'listAccounts',
  'listGrants',
  'accountView',
  'openHolds',
  'findHold',
  'listTransactions',
  'activeCatalog',
  'getCatalog',
  'listCatalogs',
  'accountAudit',
  'accountsDue',
  'findPurchase',
  'listPurchases',
  'getAutoTopup',
  'listWebhookEndpoints',
  'getWebhookEvent',
  'listDeliveries',
  'findDelivery',
  'listAttempts',
  'grantsExpiring',
  'autoTopupsAwaitingCheckout',
  'getSubscription',
  'dueSubscriptions',
  'getApiKey',
  'listApiKeys',
  'listMembers',
  'getMember',
  'listProjects',
  'listBudgets',
  'listBudgetAlerts',
  'countOpenHolds',
  'purgeIdempotency',
  'rollupWindow',
  'outcomesBetween',
  'accountsPendingRollups',
  'getTransaction',
  'findRequestBatch',
  'close',
] as const satisfies readonly (keyof Store)[];

const WRITE_TX_METHODS = [
  'lockAccounts',
  'insertAccount',
  'openGrants',
  'getGrant',
  'insertGrant',
  'insertGrants',
  'setGrantsRemaining',
  'findHoldAccount',
  'getHolds',
  'dueHolds',
  'insertHold',
  'resolveHold',
  'getTransaction',
  'appendTransactions',
  'getIdempotency',
  'putIdempotency',
  'findPurchaseAccount',
  'getPurchase',
  'insertPurchase',
  'updatePurchase',
  'markPaymentEvent',
  'autoTopups',
  'putAutoTopups',
  'deleteAutoTopup',
  'webhookEndpoints',
  'webhookEndpoint',
  'insertWebhookEndpoint',
  'disableWebhookEndpoint',
  'insertWebhookEvents',
  'webhookEventIds',
  'insertDeliveries',
  'claimDeliveries',
  'finishDelivery',
  'members',
  'putMembers',
  'deleteMember',
  'projects',
  'putProject',
  'budgets',
  'putBudgets',
  'deleteBudget',
  'insertBudgetAlerts',
  'budgetAlertThresholds',
  'openHoldsOf',
  'transactionsSince',
  'activeSubscriptions',
  'insertSubscription',
  'updateSubscription',
  'updateSubscriptions',
  'insertApiKey',
  'revokeApiKey',
  'revokeMemberKeys',
  'activeCatalog',
  'getCatalog',
  'putCatalog',
  'activateCatalog',
  'addUsage',
  'addFlows',
  'clearRollups',
  'journalPage',
  'getOutcome',
  'putOutcomes',
  'insertRequestBatch',
  'getRequestBatch',
] as const satisfies readonly (keyof WriteTx)[];

type Whole<All, Listed> = [Exclude<All, Listed>] extends [never] ? true : Exclude<All, Listed>;
const storeListed: Whole<
  Exclude<keyof Store, 'kind' | 'writeConcurrency'>,
  (typeof STORE_METHODS)[number]
> = true;
const txListed: Whole<keyof WriteTx, (typeof WRITE_TX_METHODS)[number]> = true;
void storeListed;
void txListed;

type Fn = (...args: never[]) => unknown;

/** Wraps an object so every method call is counted under `prefix.method`. */
function record<T extends object>(
  target: T,
  prefix: string,
  calls: Set<string>,
  wrap?: (name: string, fn: Fn) => Fn,
): T {
  return new Proxy(target, {
    get(t, property, receiver) {
      const value = Reflect.get(t, property, receiver) as unknown;
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      const fn = (value as Fn).bind(t);
      return (...args: unknown[]) => {
        calls.add(`${prefix}.${property}`);
        return (wrap?.(property, fn) ?? fn)(...(args as never[]));
      };
    },
  });
}

/**
 * A store whose calls (and those of the WriteTx its write callbacks get) are recorded, so the
 * conformance suite can check it exercised every method of the port.
 */
export function recordingStore(store: Store) {
  const calls = new Set<string>();
  const wrapped = record(store, 'Store', calls, (name, fn) =>
    name === 'write'
      ? (cb: (tx: WriteTx) => Promise<unknown>) =>
          (fn as (cb: (tx: WriteTx) => Promise<unknown>) => unknown)((tx) =>
            cb(record(tx, 'WriteTx', calls)),
          )
      : fn,
  );
  const missing = () => [
    ...STORE_METHODS.filter((m) => !calls.has(`Store.${m}`) && m !== 'close').map(
      (m) => `Store.${m}`,
    ),
    ...WRITE_TX_METHODS.filter((m) => !calls.has(`WriteTx.${m}`)).map((m) => `WriteTx.${m}`),
  ];
  return { store: wrapped, missing };
}
