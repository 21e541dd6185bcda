import type { App } from './app.js';

/** Resolves on the first SIGTERM or SIGINT; a second one while draining exits at once. */
export function nextSignal(onForce: () => void = () => process.exit(1)): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const first = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', first);
      process.off('SIGINT', first);
      process.once('SIGTERM', onForce);
      process.once('SIGINT', onForce);
      resolve(signal);
    };
    process.on('SIGTERM', first);
    process.on('SIGINT', first);
  });
}

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
