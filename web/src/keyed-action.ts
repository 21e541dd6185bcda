import { useCallback, useRef, useState } from 'react';
import { useCreditsChanged } from './credits-changed.js';
import type { ActionState } from './use-request.js';

/**
 * An action that changes credits, money or a team, made safe against a double click and a
 * retried answer: one Idempotency-Key per intent. The key is made at the first submit and kept
 * until the form is edited (`edited()`, wired to the form's onChange), so a second click, a
 * retry after a lost answer, or the same submit again is a replay on the server, never a second
 * grant. A click while the first request is still running is ignored outright.
 */
export function useKeyedAction<A extends unknown[], T>(
  run: (idempotencyKey: string, ...args: A) => Promise<T>,
): {
  readonly state: ActionState<T>;
  readonly start: (...args: A) => Promise<void>;
  /** The form changed: the next submit is a new intent with a new key. */
  readonly edited: () => void;
  readonly reset: () => void;
} {
  const [state, setState] = useState<ActionState<T>>({ status: 'idle' });
  const key = useRef<string | null>(null);
  const busy = useRef(false);
  const changed = useCreditsChanged();
  const start = useCallback(
    async (...args: A) => {
      if (busy.current) return;
      busy.current = true;
      key.current ??= newIdempotencyKey();
      setState({ status: 'running' });
      try {
        setState({ status: 'ok', data: await run(key.current, ...args) });
        changed();
      } catch (error) {
        setState({ status: 'error', error });
      } finally {
        busy.current = false;
      }
    },
    [run, changed],
  );
  const edited = useCallback(() => {
    key.current = null;
  }, []);
  const reset = useCallback(() => {
    key.current = null;
    setState({ status: 'idle' });
  }, []);
  return { state, start, edited, reset };
}

/** A random key the API accepts (printable ASCII, no spaces). */
export function newIdempotencyKey(): string {
  const bytes = new Uint8Array(16);
  window.crypto.getRandomValues(bytes);
  return `dash-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
