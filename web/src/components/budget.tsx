import type { Budget, Organization } from '../../../src/client/index.js';
import { formatCredits, formatDate, formatNumber } from '../format.js';
import type { PageProps } from '../page-props.js';
import { useRequest } from '../use-request.js';
import { Async } from './status.js';

/**
 * A budget as people read it: its name (the member's or project's, not an id), how much of it
 * is used or held as a percent, and a level that warns at 80% and at 100%, in text as well as
 * colour (a soft budget past its limit is marked over, by how much).
 */

export type BudgetLevel = 'ok' | 'warn' | 'full' | 'over';

/** Names for ids, from the organization (a member key sees the members and projects too). */
export interface Names {
  readonly members: ReadonlyMap<string, string>;
  readonly projects: ReadonlyMap<string, string>;
}

export function namesOf(org: Organization | null): Names {
  return {
    members: new Map((org?.members ?? []).map((m) => [m.id, m.name ?? m.id])),
    projects: new Map((org?.projects ?? []).map((p) => [p.id, p.name])),
  };
}

export function budgetName(b: Budget, names: Names): string {
  if (b.scope === 'pool') return 'Pool (everyone)';
  const name = (b.scope === 'member' ? names.members : names.projects).get(b.target);
  const label = b.scope === 'member' ? 'Member' : 'Project';
  return name !== undefined && name !== b.target
    ? `${label} ${name} (${b.target})`
    : `${label} ${b.target}`;
}

/** Used and held against the limit; null for the pool without a cap (alerts only). */
export function budgetLevel(b: Budget): BudgetLevel | null {
  if (b.limitCredits === null) return null;
  const spent = b.used + b.held;
  if (spent > b.limitCredits) return 'over';
  if (b.limitCredits === 0 || spent === b.limitCredits) return 'full';
  return b.percent >= 80 ? 'warn' : 'ok';
}

/** What is left under the limit (0 when at or past it); null without a cap. */
export function budgetLeft(b: Budget): number | null {
  return b.limitCredits === null ? null : Math.max(0, b.limitCredits - b.used - b.held);
}

const LEVEL_TEXT: Record<BudgetLevel, string> = {
  ok: '',
  warn: 'Nearing the limit (80% or more)',
  full: 'At the limit',
  over: 'Over the limit',
};

/** The level as words: never colour alone. */
export function levelText(b: Budget): string {
  const level = budgetLevel(b);
  if (level === null || level === 'ok') return '';
  if (level === 'over') {
    const by = b.used + b.held - b.limitCredits!;
    return `${LEVEL_TEXT.over} by ${formatCredits(by)}${b.mode === 'soft' ? ' (soft: allowed, alerted)' : ''}`;
  }
  if (level === 'full' && b.mode === 'hard') return `${LEVEL_TEXT.full}: new holds are refused`;
  return LEVEL_TEXT[level];
}

/** Used and held as parts of the limit, drawn in SVG (attributes, not inline styles: the CSP). */
export function BudgetBar({ budget, name }: { readonly budget: Budget; readonly name: string }) {
  const size = Math.max(1, budget.size);
  const used = Math.min(100, (budget.used / size) * 100);
  const held = Math.min(100 - used, (budget.held / size) * 100);
  const level = budgetLevel(budget) ?? 'ok';
  return (
    <svg
      className={`budget-bar level-${level}`}
      viewBox="0 0 100 8"
      preserveAspectRatio="none"
      role="img"
      aria-label={`${name}: ${budget.percent}% of the budget used or held`}
    >
      <rect className="track" x={0} y={0} width={100} height={8} />
      <rect className="used" x={0} y={0} width={used} height={8} />
      <rect className="held" x={used} y={0} width={held} height={8} />
    </svg>
  );
}

/** One budget: name, percent with its level in words, bar, figures. */
export function BudgetSummary(props: { readonly budget: Budget; readonly names: Names }) {
  const b = props.budget;
  const name = budgetName(b, props.names);
  const level = budgetLevel(b);
  const text = levelText(b);
  return (
    <>
      <h3>
        {name}{' '}
        <span className={`percent level-${level ?? 'ok'}`} data-testid="budget-percent">
          {formatNumber(b.percent)}%
        </span>
      </h3>
      {text !== '' && (
        <p className={`level-text level-${level}`} data-testid="budget-level">
          {level === 'ok' ? '' : '⚠ '}
          {text}
        </p>
      )}
      <BudgetBar budget={b} name={name} />
      <p>
        {formatNumber(b.used)} used, {formatNumber(b.held)} held of{' '}
        {b.limitCredits === null
          ? `${formatNumber(b.size)} (no cap)`
          : formatNumber(b.limitCredits)}{' '}
        · {b.mode === 'hard' ? 'hard: refuses past the limit' : 'soft: alerts only'}
        {b.periodEnd !== null && ` · until ${formatDate(b.periodEnd)}`}
      </p>
    </>
  );
}

/**
 * A member's Overview: what its own budget (and the pool's) still allows this period. Only for
 * member keys: an owner or admin sees every budget on the Team page.
 */
export function MemberBudgetCard(props: PageProps) {
  const { client, account, me } = props;
  const member = me.scope === 'member' ? me.memberId : null;
  const [state] = useRequest(
    (signal) =>
      member === null
        ? Promise.resolve(null)
        : Promise.all([
            client.teams.budgets(account.id, { signal }),
            client.teams.get(account.id, { signal }),
          ]),
    [account.id, member],
  );
  if (member === null) return null;
  return (
    <section className="card" aria-labelledby="my-budget-title">
      <h2 id="my-budget-title">Your budget</h2>
      <Async state={state} what="your budget">
        {(answer) => {
          if (answer === null) return null;
          const [{ budgets }, org] = answer;
          const names = namesOf(org);
          const own = budgets.find((b) => b.scope === 'member' && b.target === member);
          const pool = budgets.find((b) => b.scope === 'pool' && b.limitCredits !== null);
          const shown = [own, pool].filter((b): b is Budget => b !== undefined);
          if (shown.length === 0) {
            return (
              <p>No budget limits your spending: the organization's credits are yours to use.</p>
            );
          }
          return shown.map((b) => (
            <div key={b.scope} data-testid={b.scope === 'member' ? 'my-budget' : 'pool-budget'}>
              <p className="medium">
                {formatCredits(budgetLeft(b) ?? 0)} left
                {b.scope === 'pool' ? ' in the pool' : ''}
              </p>
              <BudgetSummary budget={b} names={names} />
            </div>
          ));
        }}
      </Async>
    </section>
  );
}
