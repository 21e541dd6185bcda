/**
 * The single-account rule (src/ledger/store.ts): every statement the PostgreSQL adapter sends
 * touches the rows of accounts it names, except a short list of statements that cross accounts
 * on purpose. The adapter tells `onStatement` every statement it sends; this file runs two
 * workloads with it (the store conformance suite, then a realistic ledger workload over
 * several accounts) and checks every statement logged:
 *
 * - either every table it reads or writes is restricted to named accounts: `account_id = $n`,
 *   `account_id = ANY($n)`, an `unnest` of account-id arrays joined on account_id (or, for an
 *   insert, the account_id column fed from a parameter), or an account_id equal to that of a
 *   table restricted so; the parameters must hold account ids (a string, an array of strings);
 * - or it is on ALLOWED below, each entry with its reason.
 *
 * In the ledger workload every step knows the accounts of its commands (one group-commit batch
 * at a time), so the accounts a statement names must also be among them.
 *
 * The rule is textual, on the adapter's own SQL style: OR (outside HAVING), UNION and
 * subqueries are refused, since with them a restriction found in the text need not restrict
 * every row.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Ledger } from '../../src/ledger/ledger.js';
import { FakeClock } from '../../src/ledger/ports.js';
import type { Store } from '../../src/ledger/store.js';
import { migrations } from '../../src/store/migrations/index.js';
import { ACCOUNTS_WITH_PLAN } from '../../src/store/sql/sql-store.js';
import { defaultCatalog } from '../helpers.js';
import { freshPostgresStore, postgresSkip } from '../pg-helpers.js';
import { storeConformance } from './conformance.js';

// ---------------------------------------------------------------------------------------------
// The rule

/**
 * Statements allowed to cross accounts, each with the reason. `matches` sees the statement on
 * one line; only the migrations may be several statements, and no entry matches a comma join.
 */
const ALLOWED: readonly { name: string; reason: string; matches: (sql: string) => boolean }[] = [
  {
    name: 'transaction control',
    reason: 'BEGIN, COMMIT and ROLLBACK touch no rows.',
    matches: (s) =>
      /^(BEGIN( ISOLATION LEVEL REPEATABLE READ READ ONLY)?|COMMIT|ROLLBACK)$/.test(s),
  },
  {
    name: 'migrations',
    reason: 'the schema is shared by every account; migrate runs once per database.',
    matches: (s) => migrations.some((m) => normalize(m.postgres) === s),
  },
  {
    name: 'schema_migrations',
    reason: 'the migration bookkeeping table holds no account rows.',
    matches: (s) =>
      /\bschema_migrations\b/.test(s) && tablesOf(s).every((t) => t === 'schema_migrations'),
  },
  {
    name: 'advisory lock',
    reason: 'one migrator at a time across processes: a lock key, no rows.',
    matches: (s) => s === 'SELECT pg_advisory_xact_lock($1)',
  },
  {
    name: 'catalogs',
    reason: 'the catalog is one price list for every account and holds no account rows.',
    matches: (s) => tablesOf(s).length > 0 && tablesOf(s).every((t) => t === 'catalogs'),
  },
  {
    name: 'listAccounts',
    reason: 'the operator listing pages through accounts by id (verify uses it).',
    matches: (s) => s.startsWith(`${ACCOUNTS_WITH_PLAN} WHERE a.account_id > $1 `),
  },
  {
    name: 'accountsDue',
    reason:
      'the sweep finds which accounts have something due (expiries, ttls, a debt that spendable credits can repay); it reads ids through indexes.',
    matches: (s) =>
      s ===
      "SELECT account_id FROM grants WHERE remaining > 0 AND expires_at IS NOT NULL AND expires_at <= $1 UNION SELECT account_id FROM holds WHERE status = 'held' AND expires_at <= $2 UNION SELECT a.account_id FROM accounts a WHERE a.debt > 0 AND EXISTS (SELECT 1 FROM grants g WHERE g.account_id = a.account_id AND g.remaining > 0 AND g.starts_at <= $3 AND (g.expires_at IS NULL OR g.expires_at > $4)) LIMIT $5",
  },
  {
    name: 'purgeIdempotency',
    reason: 'retention deletes expired idempotency keys by age, in pages, across accounts.',
    matches: (s) =>
      s ===
      'DELETE FROM idempotency WHERE (account_id, key) IN (SELECT account_id, key FROM idempotency WHERE created_at < $1 LIMIT $2)',
  },
  {
    name: 'webhook_endpoints',
    reason:
      'endpoints are operator configuration (like the catalog); a batch reads the few active ones to fan events out.',
    matches: (s) => tablesOf(s).length > 0 && tablesOf(s).every((t) => t === 'webhook_endpoints'),
  },
  {
    name: 'claimDeliveries',
    reason:
      'the deliverer takes due deliveries of any account through the partial index on next_attempt_at, SKIP LOCKED.',
    matches: (s) =>
      s.startsWith(
        "UPDATE webhook_deliveries d SET next_attempt_at = $1 FROM (SELECT account_id, delivery_id FROM webhook_deliveries WHERE status = 'pending'",
      ),
  },
  {
    name: 'listDeliveries and findDelivery',
    reason:
      'the operator lists deliveries across accounts (newest first) or finds one by its unique id.',
    matches: (s) =>
      /^SELECT \* FROM webhook_deliveries( WHERE (status|endpoint_id) = \$1)? ORDER BY created_at DESC, delivery_id DESC LIMIT \$\d$/.test(
        s,
      ) || s === 'SELECT * FROM webhook_deliveries WHERE delivery_id = $1',
  },
  {
    name: 'grantsExpiring',
    reason:
      'the grant.expiring job finds grants expiring within 7 days through the grants_due index.',
    matches: (s) =>
      s ===
      'SELECT * FROM grants WHERE remaining > 0 AND expires_at IS NOT NULL AND expires_at > $1 AND expires_at <= $2 ORDER BY expires_at, grant_id LIMIT $3',
  },
  {
    name: 'autoTopupsAwaitingCheckout',
    reason:
      'the scheduler finds auto top-up purchases still waiting for a checkout, through a partial index; it only reads them.',
    matches: (s) =>
      s ===
      "SELECT * FROM purchases WHERE origin = 'autotopup' AND status = 'pending' AND checkout_ref IS NULL ORDER BY created_at, purchase_id LIMIT $1",
  },
  {
    name: 'findHold',
    reason: 'a capture or release names only its hold: a unique id, one row of one account.',
    matches: (s) => s === 'SELECT * FROM holds WHERE hold_id = $1',
  },
  {
    name: 'findHoldAccount',
    reason: 'the same lookup inside the batch, for the account to lock: one row of one account.',
    matches: (s) => s === 'SELECT account_id FROM holds WHERE hold_id = $1',
  },
  {
    name: 'findPurchase and findPurchaseAccount',
    reason:
      'a provider event names only its purchase: a unique id, one row of one account (the account to lock is read from it).',
    matches: (s) =>
      s === 'SELECT * FROM purchases WHERE purchase_id = $1' ||
      s === 'SELECT account_id FROM purchases WHERE purchase_id = $1',
  },
  {
    name: 'dueSubscriptions',
    reason:
      'the renewal sweep finds which accounts have a renewal due, through the partial index subscriptions_due; it reads ids only.',
    matches: (s) =>
      s ===
      "SELECT account_id FROM subscriptions WHERE status = 'active' AND next_renewal_at <= $1 ORDER BY next_renewal_at LIMIT $2",
  },
  {
    name: 'findRequestBatch',
    reason:
      'a batch is addressed by its id alone, like a hold: a unique id, one row of one account (its items are then read by account).',
    matches: (s) => s === 'SELECT * FROM request_batches WHERE batch_id = $1',
  },
  {
    name: 'api_keys',
    reason:
      'API keys are credentials checked before any account is known (an operator key has none); the table holds no credits.',
    matches: (s) => tablesOf(s).length > 0 && tablesOf(s).every((t) => t === 'api_keys'),
  },
  {
    name: 'accountsPendingRollups',
    reason:
      'the rollup rebuild pages through the accounts whose journal predates their rollups (migration 10), by id.',
    matches: (s) =>
      s ===
      'SELECT account_id FROM rollups_pending WHERE account_id > $1 ORDER BY account_id LIMIT $2',
  },
  {
    name: 'countOpenHolds',
    reason: 'the metrics gauge of open holds counts over every account, through an index.',
    matches: (s) => s === "SELECT COUNT(*) AS n FROM holds WHERE status = 'held'",
  },
];

/** One line, string literals kept as they are, no trailing semicolon. */
function normalize(sql: string): string {
  return sql.replace(/\s+/g, ' ').trim().replace(/;$/, '');
}

/** The text with string literals emptied, so their words are not read as SQL. */
function code(sql: string): string {
  return sql.replace(/'(?:[^']|'')*'/g, "''");
}

const NOT_ALIAS =
  /^(WHERE|ON|SET|ORDER|GROUP|LIMIT|LEFT|RIGHT|INNER|FULL|CROSS|JOIN|FOR|HAVING|USING|VALUES|SELECT|RETURNING)$/i;

interface Source {
  readonly alias: string;
  /** A table's name, or null for `unnest(...)`. */
  readonly table: string | null;
  /** For unnest: the column names of its alias, and its arguments. */
  readonly columns: readonly string[];
  readonly args: readonly string[];
}

/** FROM, JOIN, UPDATE, DELETE FROM and INSERT INTO targets, with aliases. */
function sources(sql: string): Source[] {
  const s = code(sql).replace(/\bFOR (NO KEY )?UPDATE\b/gi, '');
  const out: Source[] = [];
  const re =
    /\b(?:FROM|JOIN|UPDATE|INTO)\s+(?:unnest\(([^)]*)\)\s+AS\s+(\w+)\s*\(([^)]*)\)|(\w+)(?:\s+(?:AS\s+)?(\w+))?)/gi;
  for (const m of s.matchAll(re)) {
    if (m[2] !== undefined) {
      out.push({
        alias: m[2],
        table: null,
        columns: m[3]!.split(',').map((c) => c.trim()),
        args: m[1]!.split(',').map((a) => a.trim()),
      });
    } else {
      const alias = m[5] !== undefined && !NOT_ALIAS.test(m[5]) ? m[5] : m[4]!;
      out.push({ alias, table: m[4]!, columns: [], args: [] });
    }
  }
  return out;
}

function tablesOf(sql: string): string[] {
  return sources(sql).flatMap((x) => (x.table === null ? [] : [x.table]));
}

/** Where a statement takes account ids: parameter n (1-based), one id or an array of ids. */
interface AccountParam {
  readonly n: number;
  readonly many: boolean;
}

type Verdict =
  | { readonly kind: 'allowed'; readonly entry: string }
  | { readonly kind: 'restricted'; readonly params: readonly AccountParam[] }
  | { readonly kind: 'violation'; readonly why: string };

const PARAM = /^\$(\d+)(::text)?$/;
const ARRAY_PARAM = /^\$(\d+)::text\[\]$/;

/** Checks one statement's text against the rule (its values are checked by accountsNamed). */
function judge(sql: string): Verdict {
  const s = normalize(sql);
  const c = code(s);
  // Several statements in one, or tables listed with commas: the checks below would see only
  // part of what the text reads.
  const whole = !c.includes(';') && !/\bFROM\s+\w+(?:\s+(?:AS\s+)?\w+)?\s*,/i.test(c);
  const allowed = ALLOWED.find((a) => a.matches(s) && (whole || a.name === 'migrations'));
  if (allowed) return { kind: 'allowed', entry: allowed.name };
  if (!whole) return { kind: 'violation', why: 'several statements in one, or a comma join' };
  if (/\b(UNION|INTERSECT|EXCEPT)\b/i.test(c) || /\(\s*SELECT\b/i.test(c)) {
    return {
      kind: 'violation',
      why: 'UNION or a subquery: the text cannot show every row is restricted',
    };
  }
  const insert =
    /^INSERT INTO (\w+) \(([^()]*)\) (?:VALUES \(([^()]*)\)|SELECT \* FROM unnest\(([^()]*)\))( ON CONFLICT DO NOTHING| ON CONFLICT \(account_id\b[^()]*\) DO UPDATE SET (?:[\w\s=.,+]|\b(?:LEAST|GREATEST)\([\w\s.,]+\))+)?$/i.exec(
      c,
    );
  if (insert) {
    const column = insert[2]!
      .split(',')
      .map((x) => x.trim())
      .indexOf('account_id');
    if (column < 0)
      return { kind: 'violation', why: `an insert into ${insert[1]} without account_id` };
    const args = (insert[3] ?? insert[4]!).split(',').map((x) => x.trim());
    const arg = args[column] ?? '';
    const m = insert[3] !== undefined ? PARAM.exec(arg) : ARRAY_PARAM.exec(arg);
    if (!m)
      return { kind: 'violation', why: `account_id of ${insert[1]} is not a parameter: ${arg}` };
    return { kind: 'restricted', params: [{ n: Number(m[1]), many: insert[4] !== undefined }] };
  }
  if (/^INSERT\b/i.test(c)) return { kind: 'violation', why: 'an insert of another shape' };
  if (!/^(SELECT|UPDATE|DELETE)\b/i.test(c))
    return { kind: 'violation', why: 'not a known statement kind' };

  const from = sources(c);
  const tables = from.filter((x) => x.table !== null);
  if (tables.length === 0) return { kind: 'violation', why: 'reads no table and is not allowed' };
  // Predicates: everything but the select list, the SET clause and HAVING (which only drops
  // groups of rows already read).
  const predicates = c
    .replace(/^SELECT .*? FROM /i, 'FROM ')
    .replace(/\bSET .*? (FROM|WHERE) /i, '$1 ')
    .replace(/\bHAVING\b.*?(?=\bORDER BY\b|\bLIMIT\b|$)/i, '');
  if (/\bOR\b/i.test(predicates)) {
    return { kind: 'violation', why: 'OR: one branch may reach rows of any account' };
  }
  const params: AccountParam[] = [];
  const restricted = new Set<string>();
  // An unnest restricts through its account_id column, fed by a text[] parameter.
  for (const u of from.filter((x) => x.table === null)) {
    const column = u.columns.indexOf('account_id');
    const m = column < 0 ? null : ARRAY_PARAM.exec(u.args[column] ?? '');
    if (m) {
      params.push({ n: Number(m[1]), many: true });
      restricted.add(u.alias);
    }
  }
  const direct = /(?:\b(\w+)\.)?\baccount_id = (?:\$(\d+)\b|ANY\(\$(\d+)(?:::text\[\])?\))/g;
  for (const m of predicates.matchAll(direct)) {
    const alias = m[1] ?? (tables.length === 1 ? tables[0]!.alias : undefined);
    if (alias === undefined) {
      return { kind: 'violation', why: 'an unqualified account_id with several tables' };
    }
    restricted.add(alias);
    params.push({ n: Number(m[2] ?? m[3]), many: m[3] !== undefined });
  }
  const equal = [...predicates.matchAll(/\b(\w+)\.account_id = (\w+)\.account_id\b/g)];
  for (let grew = true; grew;) {
    grew = false;
    for (const [, a, b] of equal) {
      if (restricted.has(a!) !== restricted.has(b!)) {
        restricted.add(a!);
        restricted.add(b!);
        grew = true;
      }
    }
  }
  const open = tables.filter((t) => !restricted.has(t.alias)).map((t) => t.table);
  if (open.length > 0) {
    return { kind: 'violation', why: `not restricted to named accounts: ${open.join(', ')}` };
  }
  return { kind: 'restricted', params };
}

/** The account ids a restricted statement names, or why its values do not fit. */
function accountsNamed(params: readonly AccountParam[], values: readonly unknown[]) {
  const named = new Set<string>();
  for (const p of params) {
    const v = values[p.n - 1];
    const ids = p.many ? v : [v];
    if (!Array.isArray(ids) || !ids.every((x) => typeof x === 'string')) {
      return {
        error: `parameter $${p.n} is not ${p.many ? 'an array of account ids' : 'an account id'}: ${JSON.stringify(v)}`,
      };
    }
    for (const id of ids) named.add(id);
  }
  return { named };
}

// ---------------------------------------------------------------------------------------------
// The log

interface Logged {
  readonly text: string;
  readonly values: readonly unknown[];
  /** The workload step that sent it, and the accounts of its commands (null: not known). */
  readonly step: string;
  readonly accounts: ReadonlySet<string> | null;
}

const log: Logged[] = [];
let step = 'setup';
let stepAccounts: ReadonlySet<string> | null = null;

function onStatement(text: string, values: readonly unknown[]): void {
  log.push({ text, values: structuredClone(values), step, accounts: stepAccounts });
}

/** Runs one step of the workload; its statements may name only `accounts` (null: any). */
async function during<T>(name: string, accounts: readonly string[] | null, run: () => Promise<T>) {
  step = name;
  stepAccounts = accounts === null ? null : new Set(accounts);
  try {
    return await run();
  } finally {
    step = 'between steps';
    stepAccounts = new Set();
  }
}

/** Every statement logged, judged; returns the problems, one line each. */
function problems(entries: readonly Logged[], used: Map<string, number>): string[] {
  const out: string[] = [];
  if (process.env.AMISI_SINGLE_ACCOUNT_DUMP) {
    const distinct = new Map<string, string>();
    for (const e of entries) distinct.set(normalize(e.text), JSON.stringify(judge(e.text)));
    for (const [text, verdict] of distinct) console.log(`${verdict}\n    ${text}`);
  }
  for (const e of entries) {
    const verdict = judge(e.text);
    const where = `[${e.step}] ${normalize(e.text).slice(0, 160)}`;
    if (verdict.kind === 'violation') {
      out.push(`${where}: ${verdict.why}`);
      continue;
    }
    if (verdict.kind === 'allowed') {
      used.set(verdict.entry, (used.get(verdict.entry) ?? 0) + 1);
      continue;
    }
    const r = accountsNamed(verdict.params, e.values);
    if ('error' in r) {
      out.push(`${where}: ${r.error}`);
      continue;
    }
    if (e.accounts !== null) {
      const strangers = [...r.named].filter((a) => !e.accounts!.has(a));
      if (strangers.length > 0)
        out.push(`${where}: names ${strangers.join(', ')}, not an account of this step`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The tests

describe('single-account rule: the checker itself', () => {
  const violation = (sql: string) => assert.equal(judge(sql).kind, 'violation', sql);
  const restricted = (sql: string) => assert.equal(judge(sql).kind, 'restricted', sql);

  it('refuses statements that reach rows of accounts they do not name', () => {
    violation('SELECT SUM(credits) FROM entries');
    violation('SELECT * FROM grants WHERE remaining > 0');
    violation('SELECT * FROM grants WHERE account_id = $1 OR remaining > 0');
    violation('SELECT * FROM grants WHERE account_id <> $1');
    violation('SELECT * FROM grants g JOIN holds h ON h.hold_id = $2 WHERE g.account_id = $1');
    violation('SELECT * FROM grants WHERE account_id IN (SELECT account_id FROM accounts)');
    violation('UPDATE grants SET account_id = $1 WHERE grant_id = $2');
    violation('DELETE FROM idempotency WHERE created_at < $1');
    violation('INSERT INTO entries (transaction_id, credits) VALUES ($1, $2)');
    violation("SELECT * FROM holds WHERE status = 'account_id = $1'");
    violation('SELECT * FROM catalogs c JOIN grants g ON g.grant_id = c.version');
    violation('SELECT * FROM catalogs, grants');
    violation('SELECT * FROM grants g, holds h WHERE g.account_id = $1');
    violation('SELECT * FROM catalogs; DELETE FROM grants');
    violation('INSERT INTO grants (account_id, grant_id) VALUES ($1, $2), ($3, $4)');
    violation('INSERT INTO grants (account_id, grant_id) SELECT account_id, grant_id FROM grants');
    violation(
      'INSERT INTO flows_hourly (account_id, credits) VALUES ($1, $2) ON CONFLICT (account_id) DO UPDATE SET credits = LEAST(flows_hourly.credits, (SELECT MAX(credits) FROM flows_hourly))',
    );
  });

  it('accepts restrictions by parameter, by array, by unnest and through joins', () => {
    restricted('SELECT * FROM grants WHERE account_id = $1 AND grant_id = $2');
    restricted('SELECT * FROM accounts WHERE account_id = ANY($1::text[]) FOR UPDATE');
    restricted(
      'SELECT h.* FROM holds h JOIN unnest($1::text[], $2::text[]) AS r(account_id, hold_id) ON h.account_id = r.account_id',
    );
    restricted(
      'SELECT SUM(e.credits) FROM transactions t JOIN entries e ON e.account_id = t.account_id WHERE t.account_id = $1',
    );
    restricted('INSERT INTO grants (account_id, grant_id) VALUES ($1, $2)');
    restricted(
      'INSERT INTO entries (account_id, line) SELECT * FROM unnest($1::text[], $2::int[])',
    );
    restricted(
      'INSERT INTO flows_hourly (account_id, hour, credits, first) SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[]) ON CONFLICT (account_id, hour) DO UPDATE SET credits = flows_hourly.credits + excluded.credits, first = LEAST(flows_hourly.first, excluded.first)',
    );
  });
});

if (postgresSkip) {
  describe('single-account rule: postgres', { skip: postgresSkip }, () => undefined);
} else {
  // Workload 1: the store conformance suite, every port method on a few accounts. It calls the
  // port directly, without batches, so only the text and the parameters' types are checked.
  const conformanceStart = log.length;
  storeConformance('postgres, every statement logged', async () => {
    step = 'conformance';
    stepAccounts = null;
    return freshPostgresStore({ onStatement });
  });

  describe('single-account rule: postgres', () => {
    const ACCOUNTS = ['acct-a', 'acct-b', 'acct-c', 'acct-d', 'acct-e', 'acct-f'];
    let conformance: Logged[] = [];
    let ledgerLog: Logged[] = [];
    let close: () => Promise<void>;

    before(async () => {
      conformance = log.slice(conformanceStart);
      const ledgerStart = log.length;
      step = 'migrate';
      stepAccounts = new Set();
      const opened = await freshPostgresStore({ onStatement });
      const clock = new FakeClock(Date.UTC(2026, 0, 1));
      const ledger = new Ledger({ store: opened.store, clock });
      close = async () => {
        await ledger.idle();
        await opened.close();
      };
      await ledgerWorkload(ledger, opened.store, clock, ACCOUNTS);
      ledgerLog = log.slice(ledgerStart);
    });
    after(async () => close?.());

    const used = new Map<string, number>();

    it('conformance workload: every statement names its accounts or is allowed', () => {
      assert.ok(
        conformance.length > 50,
        `the conformance suite ran (${conformance.length} statements)`,
      );
      assert.ok(
        conformance.some((e) => e.text === 'ROLLBACK'),
        'the write that throws is rolled back, and the ROLLBACK is logged too',
      );
      assert.deepEqual(problems(conformance, used), []);
    });

    it('ledger workload: every statement names accounts of its own step, or is allowed', () => {
      assert.ok(ledgerLog.length > 200, `the ledger workload ran (${ledgerLog.length} statements)`);
      // Each burst went as one group-commit batch (one write transaction), so its step's
      // accounts are the accounts of that batch.
      const bursts = new Map<string, number>();
      for (const e of ledgerLog) {
        if (!e.step.includes('(one burst')) continue;
        bursts.set(e.step, (bursts.get(e.step) ?? 0) + (e.text === 'BEGIN' ? 1 : 0));
      }
      assert.ok(bursts.size >= 5, 'the workload has its bursts');
      for (const [name, n] of bursts) assert.equal(n, 1, `${name}: one write transaction`);
      assert.deepEqual(problems(ledgerLog, used), []);
    });

    it('every allowed exception was needed by the workloads (the list stays short)', () => {
      assert.deepEqual(
        ALLOWED.map((a) => a.name).filter((name) => !used.has(name)),
        [],
      );
    });
  });
}

/**
 * A day of a platform: accounts, grants, holds, captures, releases, charges, replays, refusals,
 * balances, history, lazy expiry, the sweep, verify and the idempotency purge, mostly as
 * group-commit bursts over several accounts at once.
 */
async function ledgerWorkload(
  ledger: Ledger,
  store: Store,
  clock: FakeClock,
  accounts: readonly string[],
) {
  const [a, b, c, d, e, f] = accounts as [string, string, string, string, string, string];
  const all = (xs: readonly Promise<unknown>[]) => Promise.all(xs);
  const settled = (xs: readonly Promise<unknown>[]) => Promise.allSettled(xs);
  const HOUR = 60 * 60 * 1000;

  await during('load catalog', [], () => ledger.loadCatalog(defaultCatalog()));
  await during('create accounts (one burst)', accounts, () =>
    all(accounts.map((accountId) => ledger.createAccount({ accountId }))),
  );
  await during('grants (one burst, several accounts)', accounts, () =>
    all(
      accounts.flatMap((accountId, i) => [
        ledger.grant({ accountId, key: 'g1', credits: 50, source: 'allocation', expiresAt: null }),
        ledger.grant({
          accountId,
          key: 'g2',
          credits: 10 + i,
          source: 'purchase',
          expiresAt: clock.now() + HOUR,
        }),
      ]),
    ),
  );
  const holds = await during('holds (one burst)', [a, b, c, d], () =>
    Promise.all([
      ledger.hold({ accountId: a, key: 'h1', credits: 12, ttlMs: 10 * 60 * 1000 }),
      ledger.hold({
        accountId: a,
        key: 'h2',
        items: [{ operation: 'image.generate', params: { resolution: '4k' } }],
      }),
      ledger.hold({ accountId: b, key: 'h1', credits: 5, ttlMs: 60 * 1000 }),
      ledger.hold({ accountId: c, key: 'h1', credits: 7 }),
      ledger.hold({ accountId: d, key: 'h1', credits: 3, ttlMs: 60 * 1000 }),
    ]),
  );
  const [ha1, ha2, hb1, hc1, hd1] = holds.map((r) => r.hold.id) as [
    string,
    string,
    string,
    string,
    string,
  ];
  await during('captures, releases and charges (one burst, with refusals)', [a, b, c, e, f], () =>
    settled([
      ledger.capture({ holdId: ha1, key: 'c1', credits: 10 }),
      ledger.release({ holdId: ha2, key: 'r1' }),
      ledger.capture({ holdId: hc1, key: 'c1' }),
      ledger.capture({ holdId: 'hld_unknown', key: 'c9' }),
      ledger.charge({ accountId: e, key: 'ch1', credits: 4 }),
      ledger.charge({
        accountId: f,
        key: 'ch1',
        items: [{ operation: 'image.generate', count: 2 }],
      }),
      ledger.charge({ accountId: f, key: 'ch2', credits: 1_000_000 }),
      ledger.charge({ accountId: e, key: 'ch1', credits: 4 }),
    ]),
  );
  await during('replays and a reused key (one burst)', [a, c, e], () =>
    settled([
      ledger.capture({ holdId: ha1, key: 'c1', credits: 10 }),
      ledger.capture({ holdId: hc1, key: 'c1' }),
      ledger.charge({ accountId: e, key: 'ch1', credits: 4 }),
      ledger.charge({ accountId: e, key: 'ch1', credits: 5 }),
      ledger.grant({ accountId: a, key: 'g1', credits: 50, source: 'allocation', expiresAt: null }),
    ]),
  );
  const requestBatches = await during('request batches (one burst)', [a, c], () =>
    Promise.all([
      ledger.holdBatch({
        accountId: a,
        key: 'b1',
        items: [
          { operation: 'image.generate', params: { resolution: '720p' }, ref: 'p1' },
          { operation: 'image.edit', count: 2 },
        ],
      }),
      ledger.holdBatch({ accountId: c, key: 'b1', items: [{ operation: 'image.generate' }] }),
    ]),
  );
  const batchA = requestBatches[0].batch.id;
  await during('a batch: one item captured, the rest released, its status', [a], async () => {
    await ledger.captureBatchItem({ batchId: batchA, index: 0, key: 'bc1' });
    await ledger.releaseBatch({ batchId: batchA, key: 'br1' });
    await ledger.releaseBatch({ batchId: batchA, key: 'br1' });
    await ledger.getBatch(batchA);
  });
  for (const id of accounts) {
    await during(`reads of ${id}`, [id], async () => {
      await ledger.balance(id);
      await ledger.history({ accountId: id, limit: 2 });
      const page = await ledger.history({ accountId: id, kinds: ['grant', 'charge'], limit: 1 });
      if (page.nextCursor)
        await ledger.history({
          accountId: id,
          before: page.nextCursor,
          since: 0,
          until: clock.now() + 1,
        });
      await ledger.getAccount(id);
    });
  }
  await during('read of a hold by id', [b], () => ledger.getHold(hb1));
  await during('reports and an outcome of one account', [a], async () => {
    await ledger.statement(a);
    await ledger.statement(a, { from: clock.now() - 90 * 60 * 1000, to: clock.now() + 1 });
    await ledger.audit(a);
    const [charge] = (await ledger.history({ accountId: a, kinds: ['capture'], limit: 1 }))
      .transactions;
    await ledger.recordOutcome({
      accountId: a,
      transactionId: charge!.id,
      outcome: 'kept',
      labels: { use: 'web' },
    });
    await ledger.rebuildRollups(a);
  });

  clock.advance(2 * 60 * 1000);
  // b's and d's holds are past their ttl: a balance settles b alone, a write settles d.
  await during('lazy expiry on a balance', [b], () => ledger.balance(b));
  await during('lazy expiry on a write', [d], () =>
    ledger.charge({ accountId: d, key: 'ch1', credits: 1 }),
  );
  await during('a capture of an expired hold', [d], () =>
    settled([ledger.capture({ holdId: hd1, key: 'c1' })]),
  );

  clock.advance(2 * HOUR);
  // The purchase grants have expired now: the sweep settles the accounts with credits left.
  const due = await store.accountsDue(clock.now(), 100);
  assert.ok(due.length >= 3, `several accounts are due (${due.join(', ')})`);
  await during('sweep (pages of 2)', due, () => ledger.sweep(2));
  await during('verify', accounts, () => ledger.verify({ pageSize: 4 }));

  clock.advance(3 * 24 * HOUR);
  await during('purge idempotency keys', [], () => ledger.purgeIdempotency());
  await during('a burst after the purge', [a, b], () =>
    all([
      ledger.charge({ accountId: a, key: 'late', credits: 1 }),
      ledger.grant({ accountId: b, key: 'late', credits: 2, source: 'promotion', expiresAt: null }),
    ]),
  );
}
