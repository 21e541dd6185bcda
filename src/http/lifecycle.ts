import type { App } from './app.js';

/**
 * Graceful shutdown of the HTTP side: stop accepting connections, answer 503 on kept-alive
 * ones, and let in-flight requests finish, for at most `timeoutMs` (then their connections are
 * cut). The caller closes the ledger afterwards, which waits for the commit batch.
 */
export async function drain(app: App, timeoutMs: number): Promise<'drained' | 'timed out'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timed out'>((resolve) => {
    timer = setTimeout(() => resolve('timed out'), timeoutMs);
  });
  const outcome = await Promise.race([app.close().then(() => 'drained' as const), timeout]);
  clearTimeout(timer);
  if (outcome === 'timed out') {
    app.log.warn({ timeoutMs }, 'shutdown: requests still running; closing their connections');
    app.server.closeAllConnections();
  }
  return outcome;
}
