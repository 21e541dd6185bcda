import type { Advice, ForecastFigures, Recommendation, UsageCycle } from '../../src/core/advice.js';
import { errorFromAnswer } from '../../src/client/errors.js';

/**
 * The advice and run-out forecast endpoints (GET /v1/accounts/{id}/advice and /forecast),
 * typed from core/advice.ts. The SDK's reports.advice and reports.forecast were being added on
 * main while the dashboard was made; until they land here this module calls the two routes
 * itself, with the same error handling as the SDK, and a server without them answers a
 * not_found problem, which the overview shows as "not available".
 */

export interface AdviceReport {
  readonly accountId: string;
  readonly asOf: number;
  readonly plan: string | null;
  readonly cycles: readonly UsageCycle[];
  readonly advice: readonly Advice[];
}

export interface ForecastReport {
  readonly accountId: string;
  readonly asOf: number;
  readonly forecast: {
    readonly kind: 'run-out' | 'lasts-past-renewal';
    readonly summary: string;
    readonly figures: ForecastFigures;
    readonly recommendation: Recommendation | null;
  };
}

export type { Advice, Recommendation };

async function get<T>(apiKey: string, path: string, signal: AbortSignal): Promise<T> {
  const res = await fetch(`${window.location.origin}${path}`, {
    headers: { authorization: `Bearer ${apiKey}`, accept: 'application/json' },
    signal,
  });
  const text = await res.text();
  const body: unknown =
    /json/.test(res.headers.get('content-type') ?? '') && text !== ''
      ? JSON.parse(text)
      : undefined;
  if (res.ok) return body as T;
  const answer = {
    status: res.status,
    statusText: res.statusText,
    body,
    requestId: res.headers.get('x-request-id'),
  };
  throw errorFromAnswer(answer, null);
}

export function fetchAdvice(apiKey: string, accountId: string, signal: AbortSignal) {
  return get<AdviceReport>(apiKey, `/v1/accounts/${encodeURIComponent(accountId)}/advice`, signal);
}

export function fetchForecast(apiKey: string, accountId: string, signal: AbortSignal) {
  return get<ForecastReport>(
    apiKey,
    `/v1/accounts/${encodeURIComponent(accountId)}/forecast`,
    signal,
  );
}
