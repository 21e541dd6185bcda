import { useState, type FormEvent } from 'react';
import { ActionStatus } from '../components/status.js';
import { signIn, type Session } from '../session.js';
import { useAction } from '../use-request.js';

/** The API key is the only credential: an account, member or operator key. */
export function SignIn({ onSignedIn }: { readonly onSignedIn: (session: Session) => void }) {
  const [key, setKey] = useState('');
  const [state, run] = useAction(async (apiKey: string) => onSignedIn(await signIn(apiKey)));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(key.trim());
  };
  return (
    <form className="card sign-in" onSubmit={submit}>
      <h1>Amisi Credits</h1>
      <p>
        Sign in with an API key: an account or member key shows that account; an operator key shows
        every account.
      </p>
      <label htmlFor="api-key">API key</label>
      <input
        id="api-key"
        name="api-key"
        type="password"
        autoComplete="off"
        spellCheck={false}
        placeholder="amk_…"
        required
        value={key}
        onChange={(e) => setKey(e.target.value)}
      />
      <button type="submit" disabled={state.status === 'running' || key.trim() === ''}>
        Sign in
      </button>
      <ActionStatus state={state} running="Checking the key" />
      <p className="muted small">
        The key stays in this tab (session storage) until you sign out or close it.
      </p>
    </form>
  );
}
