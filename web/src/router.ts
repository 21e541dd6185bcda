import { useEffect, useState } from 'react';

/** A small history router: the server answers index.html for every page path. */

export function navigate(path: string): void {
  if (path === window.location.pathname + window.location.search) return;
  window.history.pushState(null, '', path);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

export function usePath(): string {
  return useLocation().pathname;
}

/** The page's path and its query (filters, page, cycle): reload, Back and a shared link keep them. */
export function useLocation(): { readonly pathname: string; readonly search: string } {
  const read = () => ({ pathname: window.location.pathname, search: window.location.search });
  const [location, setLocation] = useState(read);
  useEffect(() => {
    const update = () =>
      setLocation((l) => {
        const now = read();
        return now.pathname === l.pathname && now.search === l.search ? l : now;
      });
    window.addEventListener('popstate', update);
    return () => window.removeEventListener('popstate', update);
  }, []);
  return location;
}

/** The current path with `params` as its query (empty values left out). */
export function withQuery(params: Readonly<Record<string, string>>): string {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== ''));
  const text = q.toString();
  return `${window.location.pathname}${text === '' ? '' : `?${text}`}`;
}

export const PAGES = [
  { id: 'overview', title: 'Overview' },
  { id: 'usage', title: 'Usage' },
  { id: 'history', title: 'History' },
  { id: 'team', title: 'Team' },
  { id: 'credits', title: 'Credits' },
  { id: 'plan', title: 'Plan' },
  { id: 'planner', title: 'Planner' },
  // Operator keys only (the shell leaves it out for any other key).
  { id: 'operator', title: 'Operator' },
] as const;

export type PageId = (typeof PAGES)[number]['id'];

export type Route =
  | { readonly kind: 'accounts' }
  | { readonly kind: 'account'; readonly accountId: string; readonly page: PageId };

export function accountPath(accountId: string, page: PageId): string {
  return `/accounts/${encodeURIComponent(accountId)}/${page}`;
}

/** `/accounts` or `/accounts/{id}/{page}`; anything else is null (the caller picks a home). */
export function parseRoute(path: string): Route | null {
  if (path === '/accounts' || path === '/accounts/') return { kind: 'accounts' };
  const m = /^\/accounts\/([^/]+)(?:\/([a-z]+))?\/?$/.exec(path);
  if (!m) return null;
  const page = PAGES.find((p) => p.id === (m[2] ?? 'overview'));
  if (!page) return null;
  return { kind: 'account', accountId: decodeURIComponent(m[1]!), page: page.id };
}
