import { createContext, useCallback, useContext, useEffect, useRef, useState } from 'react';
import { isAmisiNetworkError } from '../../src/client/index.js';
import { useCreditsChanged } from './credits-changed.js';

/**
 * The connection to the server, as the pages see it: a request that gets no answer reports
 * `lost`, the shell shows one message with a Retry, and Retry raises `round`, which runs every
 * request on screen again. Outside the shell (`banner` false) each request shows its problem.
 */
export interface Connection {
  readonly round: number;
  readonly banner: boolean;
  readonly lost: () => void;
}

export const ConnectionContext = createContext<Connection>({
  round: 0,
  banner: false,
  lost: () => undefined,
});

/** A request's failure that the one connection message stands for (no answer at all). */
export function isUnanswered(error: unknown): boolean {
  return isAmisiNetworkError(error);
}

/** One request's state for a component: loading, its error, or its answer. */
export type RequestState<T> =
  | { readonly status: 'loading' }
  | { readonly status: 'error'; readonly error: unknown }
  | { readonly status: 'ok'; readonly data: T };

/**
 * Runs `load` when its dependencies change, and again on `reload()`; an answer that arrives
 * after a newer request started is dropped. A reload keeps the answer on screen until the new
 * one arrives, so what the page shows around it (a confirmation, a form) stays in place.
 */
export function useRequest<T>(
  load: (signal: AbortSignal) => Promise<T>,
  deps: readonly unknown[],
): [RequestState<T>, () => void] {
  const [state, setState] = useState<RequestState<T>>({ status: 'loading' });
  const [round, setRound] = useState(0);
  const connection = useContext(ConnectionContext);
  const { lost } = connection;
  const lastRound = useRef(round);
  useEffect(() => {
    const controller = new AbortController();
    const reloading = lastRound.current !== round;
    lastRound.current = round;
    setState((previous) =>
      reloading && previous.status === 'ok' ? previous : { status: 'loading' },
    );
    load(controller.signal).then(
      (data) => controller.signal.aborted || setState({ status: 'ok', data }),
      (error: unknown) => {
        if (controller.signal.aborted) return;
        setState({ status: 'error', error });
        if (isUnanswered(error)) lost();
      },
    );
    return () => controller.abort(new Error('superseded'));
  }, [...deps, round, connection.round]);
  const reload = useCallback(() => setRound((r) => r + 1), []);
  return [state, reload];
}

/** An action started by the user (buy, save, quote): idle, running, failed or done. */
export type ActionState<T> =
  | { readonly status: 'idle' }
  | { readonly status: 'running' }
  | { readonly status: 'error'; readonly error: unknown }
  | { readonly status: 'ok'; readonly data: T };

export function useAction<A extends unknown[], T>(
  run: (...args: A) => Promise<T>,
): [ActionState<T>, (...args: A) => Promise<void>, () => void] {
  const [state, setState] = useState<ActionState<T>>({ status: 'idle' });
  const changed = useCreditsChanged();
  const start = useCallback(
    async (...args: A) => {
      setState({ status: 'running' });
      try {
        setState({ status: 'ok', data: await run(...args) });
        changed();
      } catch (error) {
        setState({ status: 'error', error });
      }
    },
    [run, changed],
  );
  const reset = useCallback(() => setState({ status: 'idle' }), []);
  return [state, start, reset];
}
