import { useCallback, useEffect, useMemo, useState, type MouseEvent, type ReactNode } from 'react';
import { isAmisiApiError, type Account, type Me } from '../../src/client/index.js';
import { Async, ProblemMessage, Unreachable } from './components/status.js';
import { AccountsPage } from './pages/accounts.js';
import { CreditsPage } from './pages/credits.js';
import { HistoryPage } from './pages/history.js';
import { OperatorPage } from './pages/operator.js';
import { OverviewPage } from './pages/overview.js';
import { PlanPage } from './pages/plan.js';
import { PlannerPage } from './pages/planner.js';
import { TeamPage } from './pages/team.js';
import { UsagePage } from './pages/usage.js';
import { accountPath, navigate, PAGES, parseRoute, usePath, type PageId } from './router.js';
import { abilitiesOf, type Session } from './session.js';
import type { PageProps } from './page-props.js';
import { ConnectionContext, useRequest } from './use-request.js';
import { CreditsChangedContext } from './credits-changed.js';
import { formatNumber } from './format.js';

/** A link that moves within the dashboard without reloading it. */
export function Link(props: {
  readonly to: string;
  readonly children: ReactNode;
  readonly current?: boolean;
  readonly className?: string;
}) {
  const follow = (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(props.to);
  };
  return (
    <a
      href={props.to}
      onClick={follow}
      aria-current={props.current ? 'page' : undefined}
      className={props.className}
    >
      {props.children}
    </a>
  );
}

function who(me: Me): string {
  if (me.scope === 'operator') return 'Operator key';
  if (me.scope === 'member') return `${me.memberId} (${me.role}) of ${me.accountId}`;
  return `Account ${me.accountId}`;
}

const PAGE_VIEWS: Record<PageId, (props: PageProps) => ReactNode> = {
  overview: OverviewPage,
  usage: UsagePage,
  history: HistoryPage,
  team: TeamPage,
  credits: CreditsPage,
  plan: PlanPage,
  planner: PlannerPage,
  operator: OperatorPage,
};

/** One message while the server does not answer; Retry asks every request on screen again. */
function useConnection() {
  const [unreachable, setUnreachable] = useState(false);
  const [round, setRound] = useState(0);
  const lost = useCallback(() => setUnreachable(true), []);
  const connection = useMemo(() => ({ round, banner: true, lost }), [round, lost]);
  const retry = useCallback(() => {
    setUnreachable(false);
    setRound((r) => r + 1);
  }, []);
  return { connection, unreachable, retry };
}

/** The page links: Accounts for operators, then the account's pages this key may see. */
function PagesNav({
  me,
  route,
  accountId,
  page,
}: {
  readonly me: Session['me'];
  readonly route: ReturnType<typeof parseRoute>;
  readonly accountId: string | null;
  readonly page: string | null;
}) {
  const can = abilitiesOf(me);
  return (
    <nav aria-label="Pages" className="pages">
      <ul>
        {me.scope === 'operator' && (
          <li>
            <Link to="/accounts" current={route?.kind === 'accounts'}>
              Accounts
            </Link>
          </li>
        )}
        {accountId !== null &&
          PAGES.filter((p) => p.id !== 'usage' || can.allUsage)
            .filter((p) => p.id !== 'operator' || can.operator)
            .map((p) => (
              <li key={p.id}>
                <Link to={accountPath(accountId, p.id)} current={p.id === page}>
                  {p.title}
                </Link>
              </li>
            ))}
      </ul>
    </nav>
  );
}

export function Shell({
  session,
  onSignOut,
}: {
  readonly session: Session;
  readonly onSignOut: () => void;
}) {
  const { me } = session;
  const path = usePath();
  const route = parseRoute(path);
  const home = me.accountId === null ? '/accounts' : accountPath(me.accountId, 'overview');
  useEffect(() => {
    if (route === null || (route.kind === 'accounts' && me.scope !== 'operator')) navigate(home);
  }, [route, me.scope, home]);
  const accountId = route?.kind === 'account' ? route.accountId : null;
  const page = route?.kind === 'account' ? route.page : null;
  useEffect(() => {
    const title = PAGES.find((p) => p.id === page)?.title ?? 'Accounts';
    document.title = `${title}${accountId ? ` · ${accountId}` : ''} · Amisi Credits`;
  }, [page, accountId]);
  const { connection, unreachable, retry } = useConnection();
  const [changes, setChanges] = useState(0);
  const credits = useMemo(() => ({ changed: () => setChanges((n) => n + 1) }), []);

  return (
    <ConnectionContext.Provider value={connection}>
      <CreditsChangedContext.Provider value={credits}>
        <div className="shell">
          <a className="skip-link" href="#main">
            Skip to content
          </a>
          <header className="top">
            <span className="brand">Amisi Credits</span>
            <span className="who" data-testid="who">
              {who(me)}
              {me.readOnly ? ' · read only' : ''}
            </span>
            {accountId !== null && (
              <HeaderBalance session={session} accountId={accountId} reads={[path, changes]} />
            )}
            <button type="button" className="secondary" onClick={onSignOut}>
              Sign out
            </button>
          </header>
          <PagesNav me={me} route={route} accountId={accountId} page={page} />
          <main id="main" tabIndex={-1}>
            {unreachable && <Unreachable onRetry={retry} />}
            {route?.kind === 'accounts' && me.scope === 'operator' && (
              <AccountsPage session={session} />
            )}
            {accountId !== null && page !== null && (
              <AccountView session={session} accountId={accountId} page={page} />
            )}
          </main>
        </div>
      </CreditsChangedContext.Provider>
    </ConnectionContext.Provider>
  );
}

/**
 * The account's available credits, on every account page: read again on each page change and
 * whenever an action reports that the credits may have changed (credits-changed.ts). A status
 * region, so a screen reader hears the new figure. Nothing while it loads or fails: the page
 * itself shows the problem.
 */
function HeaderBalance(props: {
  readonly session: Session;
  readonly accountId: string;
  readonly reads: readonly unknown[];
}) {
  const { session, accountId } = props;
  const [balance] = useRequest(
    (signal) => session.client.balance.get(accountId, { signal }),
    [accountId, ...props.reads],
  );
  return (
    <span className="balance" role="status" data-testid="header-balance">
      {balance.status === 'ok' && (
        <>
          <strong>{formatNumber(balance.data.available)}</strong> credits available
        </>
      )}
    </span>
  );
}

/** Stable, so the heading is focused when it mounts (a new page), never on a re-render. */
function focusOnMount(element: HTMLElement | null): void {
  element?.focus();
}

function AccountView(props: {
  readonly session: Session;
  readonly accountId: string;
  readonly page: PageId;
}) {
  const { session, accountId, page } = props;
  const [account] = useRequest(
    (signal) => session.client.accounts.get(accountId, { signal }),
    [accountId],
  );
  const View = PAGE_VIEWS[page];
  if (account.status === 'error' && isAmisiApiError(account.error, 'unknown_account')) {
    return <UnknownAccount me={session.me} accountId={accountId} error={account.error} />;
  }
  return (
    <Async state={account} what="the account">
      {(a: Account) => (
        <>
          {/* A new page takes the focus, so keyboard and screen reader users start on it. */}
          <h1 key={page} ref={focusOnMount} tabIndex={-1}>
            {PAGES.find((p) => p.id === page)!.title}
            <span className="subtitle">
              {a.name ?? a.id}
              {a.kind === 'organization' ? ' · organization' : ''}
              {a.testClockId !== null && (
                <span className="badge" data-testid="test-clock">
                  {' '}
                  · test clock {a.testClockId}: simulated time
                </span>
              )}
            </span>
          </h1>
          <View client={session.client} me={session.me} can={abilitiesOf(session.me)} account={a} />
        </>
      )}
    </Async>
  );
}

/** An account that does not exist (or not for this key): what happened, and the way back. */
function UnknownAccount(props: {
  readonly me: Me;
  readonly accountId: string;
  readonly error: unknown;
}) {
  const { me } = props;
  const back =
    me.accountId === null
      ? { to: '/accounts', label: 'Back to the accounts' }
      : { to: accountPath(me.accountId, 'overview'), label: 'Back to your overview' };
  return (
    <>
      <h1 ref={focusOnMount} tabIndex={-1}>
        No account {props.accountId}
      </h1>
      <ProblemMessage error={props.error} />
      <p>
        <Link to={back.to} className="button-link">
          {back.label}
        </Link>
      </p>
    </>
  );
}
