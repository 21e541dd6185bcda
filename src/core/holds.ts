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
  /** Credits reserved over the hold's life: when it was made, plus any increases. */
  readonly credits: number;
  /** Credits captured so far (in parts while the hold is held, then its final capture). */
  readonly capturedCredits: number;
  /**
   * The grants still reserved, in the order a capture takes them (spend order at hold time,
   * then each increase's; the part past zero last). A partial capture removes what it takes;
   * a resolved hold keeps what it held just before it resolved.
   */
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
/** An extended hold lives at most this long from when it was made (a long video or batch job). */
export const HOLD_LIFETIME_MAX_MS = 30 * 24 * 60 * 60 * 1000;

/** Credits the hold reserves now: what it has not captured yet, while it is held. */
export function heldNow(h: Pick<Hold, 'status' | 'credits' | 'capturedCredits'>): number {
  return h.status === 'held' ? h.credits - h.capturedCredits : 0;
}
export const MAX_LABELS = 20;
