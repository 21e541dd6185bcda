import type { FormEvent } from 'react';
import type { MemberKey } from '../../../src/client/index.js';
import { createClient } from '../../../src/client/index.js';
import { ActionStatus } from '../components/status.js';
import { signIn, type Session } from '../session.js';
import { useAction } from '../use-request.js';

/**
 * The invitation link's page (`/invite#org=..&member=..&code=..`; the code stays in the
 * fragment, so it never reaches a server log). Accepting answers the member's first key, shown
 * once; signing in with it opens the organization.
 */
export function AcceptInvitationPage(props: { readonly onSignedIn: (session: Session) => void }) {
  const fragment = new URLSearchParams(window.location.hash.replace(/^#/, ''));
  const accountId = fragment.get('org') ?? '';
  const memberId = fragment.get('member') ?? '';
  const code = fragment.get('code') ?? '';
  const [accepted, accept] = useAction((): Promise<MemberKey> => {
    // No key yet: the invitation code is the credential. The route is public and reads no
    // Authorization header, so the SDK's required key is a placeholder here.
    const client = createClient({ baseUrl: window.location.origin, apiKey: 'none', retries: 1 });
    return client.teams.acceptInvitation({ accountId, memberId, code, keyName: 'dashboard' });
  });
  const [entering, enter] = useAction(async (key: string) => {
    window.history.replaceState(null, '', '/');
    props.onSignedIn(await signIn(key));
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (accepted.status !== 'running') void accept();
  };
  if (accountId === '' || memberId === '' || code === '') {
    return (
      <div className="card sign-in">
        <h1>Invitation</h1>
        <p className="problem" role="alert">
          This link is incomplete: ask for a new invitation.
        </p>
        <a href="/">Sign in instead</a>
      </div>
    );
  }
  return (
    <div className="card sign-in">
      <h1>Join {accountId}</h1>
      {accepted.status !== 'ok' ? (
        <form onSubmit={submit}>
          <p>
            You are invited to the organization <strong>{accountId}</strong> as member{' '}
            <strong>{memberId}</strong>. Accepting makes your API key.
          </p>
          <button type="submit" disabled={accepted.status === 'running'}>
            Accept the invitation
          </button>
          <ActionStatus state={accepted} running="Accepting" />
        </form>
      ) : (
        <div role="status" className="result" data-testid="accepted">
          <p>
            Welcome, {accepted.data.member.name ?? accepted.data.member.id}: you are{' '}
            {accepted.data.member.role} of {accountId}. Your key, shown only once: copy it now.
          </p>
          <p>
            <code data-testid="accepted-key">{accepted.data.key}</code>
          </p>
          <button
            type="button"
            disabled={entering.status === 'running'}
            onClick={() => void enter(accepted.data.key)}
          >
            Sign in with this key
          </button>
          <ActionStatus state={entering} running="Signing in" />
        </div>
      )}
    </div>
  );
}
