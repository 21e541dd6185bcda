import { useCallback, useEffect, useState } from 'react';
import { isAmisiNetworkError } from '../../src/client/index.js';
import { ProblemMessage, Loading, Unreachable } from './components/status.js';
import { Shell } from './shell.js';
import { signIn, signOut, storedKey, type Session } from './session.js';
import { SignIn } from './pages/sign-in.js';
import { AcceptInvitationPage } from './pages/accept.js';

type State =
  | { readonly status: 'restoring' }
  /** The stored key could not be checked: the server did not answer (the key is kept). */
  | { readonly status: 'unreachable' }
  | { readonly status: 'signed-out'; readonly error?: unknown }
  | { readonly status: 'signed-in'; readonly session: Session };

/** Signed in (the shell and its pages) or not (the sign-in form). */
export function App() {
  const [state, setState] = useState<State>(() =>
    storedKey() === null ? { status: 'signed-out' } : { status: 'restoring' },
  );

  useEffect(() => {
    const key = storedKey();
    if (state.status !== 'restoring' || key === null) return;
    signIn(key).then(
      (session) => setState({ status: 'signed-in', session }),
      (error: unknown) => {
        if (isAmisiNetworkError(error)) return setState({ status: 'unreachable' });
        signOut();
        setState({ status: 'signed-out', error });
      },
    );
  }, [state.status]);

  const leave = useCallback(() => {
    signOut();
    setState({ status: 'signed-out' });
  }, []);

  if (state.status === 'restoring') {
    return (
      <main className="centered">
        <Loading what="your session" />
      </main>
    );
  }
  if (state.status === 'unreachable') {
    return (
      <main className="centered">
        <Unreachable onRetry={() => setState({ status: 'restoring' })} />
      </main>
    );
  }
  // An invitation link opens its own page, signed in or not (it makes the member's key).
  if (state.status !== 'signed-in' && window.location.pathname === '/invite') {
    return (
      <main className="centered">
        <AcceptInvitationPage
          onSignedIn={(session) => setState({ status: 'signed-in', session })}
        />
      </main>
    );
  }
  if (state.status === 'signed-out') {
    return (
      <main className="centered">
        {state.error !== undefined && <ProblemMessage error={state.error} />}
        <SignIn onSignedIn={(session) => setState({ status: 'signed-in', session })} />
      </main>
    );
  }
  return <Shell session={state.session} onSignOut={leave} />;
}
