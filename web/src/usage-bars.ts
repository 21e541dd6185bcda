import type { Audit, UsageLine } from '../../src/client/index.js';
import type { Bar } from './components/bar-chart.js';

/** An audit's usage lines as bars, each with the period before. */
export function bars(lines: readonly UsageLine[]): Bar[] {
  return lines.map((l) => ({ label: l.key, value: l.credits, previous: l.previousCredits }));
}

/**
 * Usage by member or project, and what no member or no project used (spending that named
 * none), so the bars add up to the total.
 */
export function withRest(a: Audit, lines: readonly UsageLine[], restLabel: string): Bar[] {
  const sum = (pick: (l: UsageLine) => number) => lines.reduce((s, l) => s + pick(l), 0);
  const rest = a.usage.credits - sum((l) => l.credits);
  const previousRest = a.usage.previousCredits - sum((l) => l.previousCredits);
  const named = bars(lines);
  return rest > 0 || previousRest > 0
    ? [
        ...named,
        { label: restLabel, value: Math.max(0, rest), previous: Math.max(0, previousRest) },
      ]
    : named;
}
