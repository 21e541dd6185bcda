import type { Reader, Store, WriteTx } from '../../src/ledger/store.js';

/**
 * Every method the port declares, by where it is declared, listed for the recording proxy
 * below and for the port's size (test/store/port.test.ts). The types check the lists are whole
 * and exact: a method added to the port and not here fails to compile, and so does a name
 * listed that the port does not declare.
 */
/** Declared once (Reader, WebhookSecrets) and inherited by both Store and WriteTx. */
export const SHARED_METHODS = [
  'get',
  'find',
  'findFor',
  'getMany',
  'count',
  'journal',
  'webhookTargets',
] as const satisfies readonly (keyof Store & keyof WriteTx)[];

/** Store only: lifecycle, snapshots, reports and sweeps, the key check. */
export const STORE_METHODS = [
  'migrate',
  'write',
  'snapshot',
  'purgeIdempotency',
  'accounts',
  'accountAudit',
  'rollupWindow',
  'accountsDue',
  'keyForCheck',
  'close',
] as const satisfies readonly (keyof Store)[];

/** WriteTx only: locks, the generic writer, the journal, rollups, the delivery claim. */
export const WRITE_TX_METHODS = [
  'lockAccounts',
  'insert',
  'update',
  'updateMany',
  'delete',
  'appendTransactions',
  'addRollups',
  'claimDeliveries',
] as const satisfies readonly (keyof WriteTx)[];

type Shared = (typeof SHARED_METHODS)[number];
type Whole<All, Listed> = [Exclude<All, Listed>] extends [never] ? true : Exclude<All, Listed>;
type Exact<All, Listed> = [Exclude<Listed, All>] extends [never] ? Whole<All, Listed> : Listed;
const storeListed: Exact<
  Exclude<keyof Store, 'kind' | 'writeConcurrency'>,
  Shared | (typeof STORE_METHODS)[number]
> = true;
const txListed: Exact<keyof WriteTx, Shared | (typeof WRITE_TX_METHODS)[number]> = true;
/** What both declare is exactly what they inherit from one shared interface (counted once). */
const sharedListed: Exact<keyof Store & keyof WriteTx, Shared> = true;
const readerShared: Whole<keyof Reader, Shared> = true;
void storeListed;
void txListed;
void sharedListed;
void readerShared;

/** The port's methods, each counted once (a shared one is declared once). */
export const PORT_METHODS: readonly string[] = [
  ...SHARED_METHODS,
  ...STORE_METHODS,
  ...WRITE_TX_METHODS,
];

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
    ...[...SHARED_METHODS, ...STORE_METHODS]
      .filter((m) => !calls.has(`Store.${m}`) && m !== 'close')
      .map((m) => `Store.${m}`),
    ...[...SHARED_METHODS, ...WRITE_TX_METHODS]
      .filter((m) => !calls.has(`WriteTx.${m}`))
      .map((m) => `WriteTx.${m}`),
  ];
  return { store: wrapped, missing };
}
