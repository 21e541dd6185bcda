import type { Draw } from './grants.js';
import type { Quote } from './quote.js';

export const HOLD_STATUSES = ['held', 'captured', 'released', 'expired'] as const;
export type HoldStatus = (typeof HOLD_STATUSES)[number];

/** Who and what a hold or charge is for; audits and budgets group by it. */
export interface Attribution {
  readonly member: string | null;
  readonly project: string | null;
  readonly labels: Readonly<Record<string, string>>;
}

export const NO_ATTRIBUTION: Attribution = Object.freeze({
  member: null,
  project: null,
  labels: Object.freeze({}),
});

export interface Hold {
  readonly accountId: string;
  readonly id: string;
  readonly status: HoldStatus;
  /** Credits reserved when the hold was made. */
  readonly credits: number;
  readonly capturedCredits: number;
  /** The grants reserved, in spend order at the time of the hold. */
  readonly draws: readonly Draw[];
  readonly expiresAt: number;
  readonly createdAt: number;
  readonly resolvedAt: number | null;
  readonly catalogVersion: string | null;
  readonly quote: Quote | null;
  readonly attribution: Attribution;
}

/** Named limits on holds (TigerBeetle style: every limit has a name). */
export const HOLD_TTL_DEFAULT_MS = 15 * 60 * 1000;
export const HOLD_TTL_MIN_MS = 1000;
export const HOLD_TTL_MAX_MS = 7 * 24 * 60 * 60 * 1000;
export const MAX_LABELS = 20;
