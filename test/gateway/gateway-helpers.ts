import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseGatewayRoutes } from '../../src/core/gateway-routes.js';
import { Ledger } from '../../src/ledger/ledger.js';
import type { Store } from '../../src/ledger/store.js';
import { ApiKeys } from '../../src/service/api-keys.js';
import { Gateway } from '../../src/service/gateway/gateway.js';
import { startImageUpstream, type ImageUpstream } from '../fixtures/image-upstream.js';
import { defaultCatalog, ROOT } from '../helpers.js';

export const UPSTREAM_SECRET = 'Bearer sk-upstream-secret';

/** The shipped OpenAI routes file, with short timeouts so the tests' slow cases are quick. */
export function openaiRoutes(overrides: { timeoutMs?: number; holdTtlMs?: number } = {}): unknown {
  const file = JSON.parse(readFileSync(join(ROOT, 'gateway', 'openai-images.json'), 'utf8')) as {
    routes: Record<string, unknown>[];
  };
  return { ...file, routes: file.routes.map((r) => ({ ...r, ...overrides })) };
}

/** The shipped jobs routes file, with the job's limits the test needs. */
export function jobRoutes(
  job: { intervalMs?: number; timeoutMs?: number },
  holdTtlMs: number,
): unknown {
  const file = JSON.parse(readFileSync(join(ROOT, 'gateway', 'jobs.json'), 'utf8')) as {
    routes: { job: Record<string, unknown> }[];
  };
  const routes = file.routes.map((r) => ({
    ...r,
    timeoutMs: 1000,
    holdTtlMs,
    job: { ...r.job, ...job },
  }));
  return { ...file, routes };
}

export interface GatewayRig {
  readonly url: string;
  readonly upstream: ImageUpstream;
  readonly ledger: Ledger;
  readonly gateway: Gateway;
  /** Closes the gateway and starts another on the same ledger (a restart). */
  restart(): Promise<void>;
  readonly keys: ApiKeys;
  /** An account key for a new account with these credits (none: an empty account). */
  account(id: string, credits: number): Promise<string>;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

/** A real upstream on loopback, a ledger on the given store, and a gateway in front. */
export async function startGatewayRig(
  open: () => Promise<{ store: Store; close: () => Promise<void> }>,
  routes: unknown = openaiRoutes({ timeoutMs: 1500, holdTtlMs: 4000 }),
): Promise<GatewayRig> {
  const upstream = await startImageUpstream();
  const opened = await open();
  const ledger = new Ledger({ store: opened.store });
  const catalog = await ledger.loadCatalog(defaultCatalog());
  const keys = new ApiKeys(ledger);
  const checked = parseGatewayRoutes(routes, catalog.catalog.body);
  const make = () =>
    new Gateway({
      ledger,
      keys,
      routes: checked,
      upstream: upstream.url,
      env: { AMISI_UPSTREAM_AUTHORIZATION: UPSTREAM_SECRET },
    });
  let gateway = make();
  let url = `http://127.0.0.1:${(await gateway.listen('127.0.0.1', 0)).port}`;
  return {
    get url() {
      return url;
    },
    upstream,
    ledger,
    get gateway() {
      return gateway;
    },
    keys,
    async restart() {
      await gateway.close(1000);
      gateway = make();
      url = `http://127.0.0.1:${(await gateway.listen('127.0.0.1', 0)).port}`;
    },
    async account(id, credits) {
      await ledger.createAccount({ accountId: id });
      if (credits > 0) {
        await ledger.grant({ accountId: id, key: `g-${id}`, credits, source: 'promotion' });
      }
      return (await keys.create({ scope: { accountId: id } })).key;
    },
    post(path, body, headers = {}) {
      const json = typeof body === 'string' ? body : JSON.stringify(body);
      return fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: json,
      });
    },
    async close() {
      await gateway.close(1000);
      await upstream.close();
      // The store is closed by its opener (which also removes its database).
      await ledger.idle();
      await opened.close();
    },
  };
}
