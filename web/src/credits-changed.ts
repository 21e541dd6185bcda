import { createContext, useContext } from 'react';

/**
 * "An action may have changed the credits": the shell's header balance reads again when a page
 * says so. Every action of the dashboard goes through useAction or useKeyedAction, and both
 * call `changed()` when their request succeeds, so a page that buys, grants, refunds or changes
 * a plan needs no wiring of its own; the header also reads again on every page change.
 */
export interface CreditsChanged {
  readonly changed: () => void;
}

export const CreditsChangedContext = createContext<CreditsChanged>({ changed: () => undefined });

export function useCreditsChanged(): () => void {
  return useContext(CreditsChangedContext).changed;
}
