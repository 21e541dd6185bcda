import type { ServerResponse } from 'node:http';
import { PROBLEM_TYPE, problemBody, type AmisiError } from '../../core/errors.js';

/** Aborts when the client goes away before its answer is written whole. */
export function abortOnClose(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

/** The gateway's own refusals are the API's problems (RFC 9457, the one error table). */
export function sendProblem(res: ServerResponse, e: AmisiError): void {
  const body = problemBody(e.code, e.message, e.data);
  const headers: Record<string, string> = { 'content-type': PROBLEM_TYPE };
  const retryAfterMs = e.data.retryAfterMs;
  if (typeof retryAfterMs === 'number') {
    headers['retry-after'] = String(Math.ceil(retryAfterMs / 1000));
  }
  res.writeHead(body.status, headers);
  res.end(JSON.stringify(body));
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}
