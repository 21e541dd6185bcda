import { useContext, type ReactNode } from 'react';
import { isAmisiApiError, isAmisiNetworkError } from '../../../src/client/index.js';
import {
  ConnectionContext,
  isUnanswered,
  type ActionState,
  type RequestState,
} from '../use-request.js';

/** Loading and error states, the same everywhere: every request shows one or the other. */

export function Loading({ what }: { readonly what: string }) {
  return (
    <p className="loading" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

/** The problem's stable code and its message, as the API answered them. */
export function ProblemMessage({ error }: { readonly error: unknown }) {
  if (isAmisiApiError(error)) {
    return (
      <div className="problem" role="alert">
        <strong>{error.title}</strong> <code>{error.code}</code>
        <p>
          {error.code === 'forbidden' ? `Not allowed for this key: ${error.detail}` : error.detail}
        </p>
      </div>
    );
  }
  const message = isAmisiNetworkError(error)
    ? 'The server did not answer. Check the connection and try again.'
    : error instanceof Error
      ? error.message
      : String(error);
  return (
    <div className="problem" role="alert">
      <strong>Something went wrong</strong>
      <p>{message}</p>
    </div>
  );
}

/** The one message for a server that does not answer, with the button that asks again. */
export function Unreachable({ onRetry }: { readonly onRetry: () => void }) {
  return (
    <div className="problem unreachable" role="alert" data-testid="unreachable">
      <strong>The server did not answer</strong>
      <p>It may be stopped, or the connection is lost. Retry asks again.</p>
      <button type="button" onClick={onRetry}>
        Retry
      </button>
    </div>
  );
}

/** Renders `children(data)` once the request answered; loading or the problem before that. */
export function Async<T>(props: {
  readonly state: RequestState<T>;
  readonly what: string;
  readonly children: (data: T) => ReactNode;
}) {
  const { state } = props;
  const { banner } = useContext(ConnectionContext);
  if (state.status === 'loading') return <Loading what={props.what} />;
  if (state.status === 'error') {
    // No answer at all: the shell's one message with its Retry says it, not every request.
    if (banner && isUnanswered(state.error)) return null;
    return <ProblemMessage error={state.error} />;
  }
  return <>{props.children(state.data)}</>;
}

/** What an action the user started is doing: running, failed, or nothing to say. */
export function ActionStatus<T>(props: {
  readonly state: ActionState<T>;
  readonly running: string;
}) {
  if (props.state.status === 'running') {
    return (
      <p className="loading" role="status" aria-live="polite">
        {props.running}…
      </p>
    );
  }
  if (props.state.status === 'error') return <ProblemMessage error={props.state.error} />;
  return null;
}

/** After an action's answer: said when it was a replay of the first (a double click, a retry). */
export function replayNote(replay: boolean): string {
  return replay ? ' (already done by the first click: nothing changed now)' : '';
}
