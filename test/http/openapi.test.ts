import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { compileResponseSerializers } from '../../src/http/serializers.js';
import { startServer, type TestServer } from './http-helpers.js';

/** The OpenAPI document is valid OpenAPI 3.1, complete, and its docs page needs no network. */

interface Operation {
  summary?: string;
  tags?: string[];
  security?: unknown[];
  parameters?: { in: string; name: string; required?: boolean }[];
  responses: Record<string, { content?: Record<string, unknown> }>;
}

describe('OpenAPI document and docs page', () => {
  let s: TestServer;
  let spec: { openapi: string; paths: Record<string, Record<string, Operation>> };
  before(async () => {
    s = await startServer();
    spec = (await (await fetch(`${s.url}/openapi.json`)).json()) as typeof spec;
  });
  after(async () => s?.close());

  it('passes an OpenAPI 3.1 validator', async () => {
    assert.equal(spec.openapi, '3.1.0');
    const validator = new Validator();
    const result = await validator.validate(spec);
    assert.equal(validator.version, '3.1');
    assert.ok(result.valid, JSON.stringify(result.errors, null, 2));
  });

  it('every response schema compiles to a serializer (built on first answer, so built here)', () => {
    const responses = Object.values(spec.paths).flatMap((methods) =>
      Object.values(methods).flatMap((op) => Object.keys(op.responses)),
    );
    // One per route and status, HEAD routes and the undocumented ones included.
    const built = compileResponseSerializers(s.app);
    assert.ok(built >= responses.length, `${built} serializers for ${responses.length} responses`);
  });

  it('documents every operation: summary, problems as problem+json, 401 and 403 where they apply', () => {
    const operations = Object.entries(spec.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ path, method, op })),
    );
    assert.ok(operations.length >= 27, `${operations.length} operations`);
    for (const { path, method, op } of operations) {
      const name = `${method.toUpperCase()} ${path}`;
      assert.ok(op.summary, `${name} has a summary`);
      assert.ok(op.tags?.length, `${name} has a tag`);
      const isPublic = Array.isArray(op.security) && op.security.length === 0;
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) >= 400 && !(path === '/readyz' && status === '503')) {
          assert.deepEqual(
            Object.keys(response.content ?? {}),
            ['application/problem+json'],
            `${name} ${status}`,
          );
        }
      }
      if (!isPublic) assert.ok(op.responses['401'], `${name} documents 401`);
      if (!isPublic && method === 'post') assert.ok(op.responses['403'], `${name} documents 403`);
      const moves =
        method === 'post' && /grants|holds|charges|subscription|purchases$|refund/.test(path);
      if (moves) {
        const header = op.parameters?.find(
          (p) => p.in === 'header' && p.name === 'idempotency-key',
        );
        assert.equal(header?.required, true, `${name} requires Idempotency-Key`);
      }
    }
  });

  it('/docs works offline: no external URL, every asset served by the server', async () => {
    const res = await fetch(`${s.url}/docs`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    const html = await res.text();
    assert.doesNotMatch(
      html,
      /(https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}/i,
      'no absolute URL in the page',
    );
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    assert.ok(assets.length >= 4, 'stylesheets and scripts');
    for (const asset of assets) {
      const url = new URL(asset, `${s.url}/docs`);
      assert.equal(url.origin, s.url, `${asset} is served here`);
      const r = await fetch(url);
      assert.equal(r.status, 200, `${asset} loads`);
      await r.arrayBuffer();
    }
    const init = await (await fetch(`${s.url}/docs/static/swagger-initializer.js`)).text();
    assert.match(init, /validatorUrl: null/, 'no call to an online validator');
    assert.match(init, /resolveUrl\('\.\/json'\)/, 'the document comes from this server');
  });
});
