// The platform's own page (a made-up image app, "PixelForge"), showing Amisi's embedded
// components. Its backend (server.mjs) mints a short-lived key for the signed-in customer at
// /session; the page never sees the operator key.
import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import {
  AmisiBalance,
  AmisiDailyUsage,
  AmisiPackPicker,
  AmisiProvider,
  AmisiUsageChart,
  type UsageDimension,
} from 'amisi-credits/embed';
import 'amisi-credits/embed/style.css';
import './page.css';

interface AmisiSession {
  readonly baseUrl: string;
  readonly accountId: string;
  readonly key: string;
}

/** The app's own backend mints a short-lived Amisi key for whoever is signed in to the app. */
async function newSession(): Promise<AmisiSession> {
  const r = await fetch('/session', { method: 'POST' });
  if (!r.ok) throw new Error(`the app's backend answered ${r.status}`);
  return (await r.json()) as AmisiSession;
}

/** A new key when the one in use ends: Amisi's provider asks, and retries with it. */
const fetchKey = async () => (await newSession()).key;

function CreditsPage() {
  const [session, setSession] = useState<AmisiSession | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [by, setBy] = useState<UsageDimension>('resolution');
  const [bought, setBought] = useState(0);
  useEffect(() => {
    newSession().then(setSession, (e: unknown) => setFailure(String(e)));
  }, []);
  if (failure !== null) return <p role="alert">{failure}</p>;
  if (session === null) return <p role="status">Signing in…</p>;
  return (
    <AmisiProvider
      baseUrl={session.baseUrl}
      accountId={session.accountId}
      apiKey={session.key}
      fetchKey={fetchKey}
    >
      <div className="layout">
        <div>
          <h2>Your credits</h2>
          <AmisiBalance refreshKey={bought} refreshSeconds={30} />
          <AmisiPackPicker onPurchase={() => setBought((n) => n + 1)} />
        </div>
        <div>
          <h2>This cycle</h2>
          <label htmlFor="by">Split by</label>
          <select id="by" value={by} onChange={(e) => setBy(e.target.value as UsageDimension)}>
            <option value="resolution">resolution</option>
            <option value="operation">operation</option>
            <option value="project">project</option>
          </select>
          <AmisiUsageChart by={by} />
          <AmisiDailyUsage by="operation" />
        </div>
      </div>
    </AmisiProvider>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <header className="app-header">
      <strong>PixelForge</strong>
    </header>
    <main>
      <h1>Credits and usage</h1>
      <CreditsPage />
    </main>
  </StrictMode>,
);
