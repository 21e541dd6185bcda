import type { Advice } from './advice-types.js';

/**
 * The one piece of advice to lead with, out of the items `advise` returns, so that a page never
 * shows two that disagree (packs beside a forecast that says the credits last) or one that
 * only says there is not enough history yet. Pure. The first of these that applies:
 *
 *   1. an upgrade the tier rules found cheaper per month than staying (consistent or frequent
 *      overruns): it also covers a run-out, since an upgrade grants its credits at once;
 *   2. the forecast's run-out before the renewal, with the packs for the shortfall;
 *   3. the tier rules' packs (an occasional overrun, a project spike, or overruns where staying
 *      with packs is cheaper than a larger plan), unless the forecast says the credits last
 *      past the renewal: then no packs are needed now;
 *   4. a downgrade (the last cycles all fit a cheaper plan);
 *   5. seasonal packs ahead of a peak, on the same condition as 3;
 *   6. the forecast (the credits last), then the plan fits or steady usage.
 *
 * "short-history" items (a rule that needs more closed cycles) never lead: they say what cannot
 * be advised yet, not what to do.
 */
export function headlineAdvice(items: readonly Advice[]): Advice | null {
  const find = (...kinds: Advice['kind'][]) => items.find((a) => kinds.includes(a.kind)) ?? null;
  const forecast = find('run-out', 'lasts-past-renewal');
  const lasts = forecast?.kind === 'lasts-past-renewal';
  const upgrade = items.find((a) => a.recommendation?.action === 'upgrade');
  if (upgrade) return upgrade;
  if (forecast?.kind === 'run-out') return forecast;
  const packs = find(
    'occasional-overrun',
    'project-spike',
    'frequent-overrun',
    'consistent-overrun',
  );
  if (packs?.recommendation && !lasts) return packs;
  const downgrade = find('downgrade');
  if (downgrade) return downgrade;
  const season = find('seasonal-peaks');
  if (season?.recommendation && !lasts) return season;
  return forecast ?? find('plan-fits', 'steady-usage');
}
