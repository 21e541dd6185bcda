import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createClient } from '../../src/client/index.js';
import { SIGNATURE_HEADER, verifySignature } from '../../src/client/webhooks.js';
import { sign } from '../../src/service/webhooks/signature.js';
import { startServer } from '../http/http-helpers.js';
import { SpecChecker, type Spec } from '../http/spec-check.js';

/**
 * The package entries: amisi-credits/client must load in a browser, so its compiled files
 * import nothing but each other (types from the server are erased); amisi-credits/webhooks
 * verifies what the server signs.
 */

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const clientDir = join(root, 'dist', 'src', 'client');

function importsOf(source: string): string[] {
  const specifiers = [
    ...source.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]/g),
  ];
  const dynamic = [...source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)];
  return [...specifiers, ...dynamic].map((m) => m[1]!);
}

describe('package entries', () => {
  it('the browser client imports only its own files: no node:, no server code', () => {
    const files = readdirSync(clientDir).filter((f) => f.endsWith('.js') && f !== 'webhooks.js');
    assert.ok(files.includes('index.js'));
    for (const file of files) {
      const source = readFileSync(join(clientDir, file), 'utf8');
      for (const spec of importsOf(source)) {
        assert.match(spec, /^\.\/[a-z-]+\.js$/, `${file} imports ${spec}`);
      }
      assert.doesNotMatch(source, /\brequire\(|\bprocess\.|\bBuffer\b/, file);
    }
  });

  it('package.json exports ".", "./client" and "./webhooks" with their types', async () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      exports: Record<string, string | { types: string; default: string }>;
    };
    assert.ok(pkg.exports['.']);
    for (const [entry, file] of [
      ['./client', './dist/src/client/index'],
      ['./webhooks', './dist/src/client/webhooks'],
    ] as const) {
      assert.deepEqual(pkg.exports[entry], { types: `${file}.d.ts`, default: `${file}.js` });
    }
    // The package resolves its own name, so this is what an installed user imports. The names
    // are variables so that the type checker does not need dist/ to exist before the build.
    const [clientEntry, webhooksEntry] = ['amisi-credits/client', 'amisi-credits/webhooks'];
    const client = (await import(clientEntry)) as Record<string, unknown>;
    assert.equal(typeof client.createClient, 'function');
    const hooks = (await import(webhooksEntry)) as Record<string, unknown>;
    assert.equal(hooks.verifySignature, verifySignature);
  });

  it('webhooks: verifySignature accepts what the server signs and refuses tampering', () => {
    const body = JSON.stringify({ type: 'charge.created', data: { credits: 1 } });
    const now = 1_800_000_000;
    const header = sign('whsec_test', body, now);
    assert.equal(SIGNATURE_HEADER, 'amisi-signature');
    assert.deepEqual(verifySignature('whsec_test', body, header, now), {
      ok: true,
      timestamp: now,
    });
    assert.equal(verifySignature('whsec_test', `${body} `, header, now).ok, false);
    assert.deepEqual(verifySignature('whsec_test', body, header, now + 301), {
      ok: false,
      reason: 'too_old',
    });
    assert.deepEqual(verifySignature('other', body, header, now), {
      ok: false,
      reason: 'mismatch',
    });
  });

  it('every operation of /openapi.json has a method; keyed ones send an Idempotency-Key', async () => {
    const server = await startServer();
    const spec = (await (await fetch(`${server.url}/openapi.json`)).json()) as Spec;
    await server.close();
    const expected = new Map<string, boolean>();
    for (const [template, operations] of Object.entries(spec.paths)) {
      for (const [method, op] of Object.entries(operations)) {
        const params = (op as { parameters?: { in: string; name: string; required?: boolean }[] })
          .parameters;
        // An optional key (POST /v1/accounts: only for its plan) is sent when the caller gives one.
        const keyed = (params ?? []).some(
          (p) => p.in === 'header' && p.name === 'idempotency-key' && p.required === true,
        );
        expected.set(`${method} ${template}`, keyed);
      }
    }
    // Stripe calls its webhook; the SDK is for everyone else.
    expected.delete('post /v1/payments/stripe/webhook');
    // Autumn's own SDK calls the compatibility routes (docs/autumn.md).
    for (const op of expected.keys()) if (op.includes(' /autumn/')) expected.delete(op);
    const reached = await everyCallOfTheSdk(new SpecChecker(spec));
    const differences = {
      withoutMethod: [...expected.keys()].filter((op) => !reached.has(op)),
      notInSpec: [...reached.keys()].filter((op) => !expected.has(op)),
      wrongKey: [...reached].filter(([op, key]) => expected.has(op) && expected.get(op) !== key),
    };
    assert.deepEqual(differences, { withoutMethod: [], notInSpec: [], wrongKey: [] });
  });
});

/**
 * Calls every method of every resource once with placeholder arguments against a fetch that
 * answers {} (an empty last page), and returns each operation reached with whether it carried
 * an Idempotency-Key.
 */
async function everyCallOfTheSdk(checker: SpecChecker): Promise<Map<string, boolean>> {
  const reached = new Map<string, boolean>();
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const path = new URL(String(input)).pathname;
    const key = new Headers(init?.headers).has('idempotency-key');
    reached.set(
      `${(init?.method ?? 'GET').toLowerCase()} ${checker.templateOf(path) ?? path}`,
      key,
    );
    const body = JSON.stringify({ nextCursor: null, accounts: [], transactions: [] });
    return new Response(body, { status: 200, headers: { 'content-type': 'application/json' } });
  };
  const client = createClient({ baseUrl: 'http://sdk.invalid', apiKey: 'amk_test', fetch });
  for (const api of Object.values(client) as Record<string, (...args: unknown[]) => unknown>[]) {
    for (const method of Object.values(api)) {
      const result = method('x', {}, {});
      if (result instanceof Promise) await result;
      else for await (const _ of result as AsyncIterable<unknown>) break;
    }
  }
  return reached;
}
