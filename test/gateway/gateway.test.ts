import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BOTH_STORES } from '../pg-helpers.js';
import { startGatewayRig, UPSTREAM_SECRET, type GatewayRig } from './gateway-helpers.js';

/**
 * The metering gateway through its front door: a real upstream on loopback that speaks the
 * OpenAI images API, the shipped routes file, and the credits each outcome leaves.
 */

const GENERATIONS = '/v1/images/generations';

interface Problem {
  code: string;
  detail: string;
}

for (const [name, open, skip] of BOTH_STORES) {
  describe(`the gateway on ${name}`, { skip }, () => {
    let rig: GatewayRig;
    let key: string;
    const auth = () => ({ authorization: `Bearer ${key}` });
    const balance = async () => {
      const b = await rig.ledger.balance('gw');
      return { available: b.available, held: b.held };
    };

    before(async () => {
      rig = await startGatewayRig(open);
      key = await rig.account('gw', 100);
    });
    after(async () => {
      if (!rig) return;
      const report = await rig.ledger.verify();
      assert.deepEqual(report.violations, []);
      await rig.close();
    });

    it('prices, forwards with the upstream credentials, and captures what was made', async () => {
      const calls = rig.upstream.count();
      const res = await rig.post(GENERATIONS, { prompt: 'a cat', n: 4, size: '1024x1024' }, auth());
      assert.equal(res.status, 200);
      const body = (await res.json()) as { data: unknown[] };
      assert.equal(body.data.length, 4);
      assert.equal(res.headers.get('amisi-credits'), '8');
      assert.equal(rig.upstream.count(), calls + 1);
      const call = rig.upstream.calls.at(-1)!;
      assert.equal(
        call.headers.authorization,
        UPSTREAM_SECRET,
        'the Amisi key never reaches the upstream',
      );
      assert.deepEqual(call.fields, { prompt: 'a cat', n: 4, size: '1024x1024' });
      assert.deepEqual(await balance(), { available: 92, held: 0 });
      const hold = await rig.ledger.getHold(res.headers.get('amisi-hold')!);
      assert.deepEqual([hold.status, hold.capturedCredits], ['captured', 8]);
      assert.equal(hold.attribution.labels.gateway, 'images.generations');
    });

    it('a request for 4 that makes 3 captures 3; one that says nothing captures what it asked', async () => {
      const before = await balance();
      const res = await rig.post(
        GENERATIONS,
        { prompt: 'partial:3', n: 4, size: '3840x2160' },
        auth(),
      );
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('amisi-credits'), '9', '3 images at 4k');
      assert.deepEqual(await balance(), { available: before.available - 9, held: 0 });
      const none = await rig.post(GENERATIONS, { prompt: 'partial:0', n: 2 }, auth());
      assert.equal(none.headers.get('amisi-credits'), '0');
      const silent = await rig.post(GENERATIONS, { prompt: 'nodata', size: '512x512' }, auth());
      assert.equal(silent.headers.get('amisi-credits'), '1');
      assert.deepEqual(await balance(), { available: before.available - 10, held: 0 });
    });

    it('an upstream error is answered unchanged and releases the hold', async () => {
      const before = await balance();
      const res = await rig.post(GENERATIONS, { prompt: 'error:500', n: 2 }, auth());
      assert.equal(res.status, 500);
      assert.deepEqual(await res.json(), {
        error: { message: 'upstream says no', type: 'server_error' },
      });
      assert.equal(res.headers.get('amisi-credits'), '0');
      const refused = await rig.post(GENERATIONS, { prompt: 'error:400' }, auth());
      assert.equal(refused.status, 400);
      assert.deepEqual(await balance(), before);
    });

    it('no credits: 402 with the problem, and the upstream is never called', async () => {
      const broke = await rig.account('broke', 1);
      const calls = rig.upstream.count();
      const res = await rig.post(
        GENERATIONS,
        { prompt: 'x', n: 2 },
        { authorization: `Bearer ${broke}` },
      );
      assert.equal(res.status, 402);
      assert.equal(res.headers.get('content-type'), 'application/problem+json');
      const problem = (await res.json()) as Problem;
      assert.equal(problem.code, 'insufficient_credits');
      assert.equal(rig.upstream.count(), calls);
    });

    it('a retry under the same Idempotency-Key replays the answer and is charged once', async () => {
      const before = await balance();
      const headers = { ...auth(), 'idempotency-key': 'retry-1' };
      const first = await rig.post(GENERATIONS, { prompt: 'once', n: 2 }, headers);
      const firstBody = await first.text();
      const calls = rig.upstream.count();
      const again = await rig.post(GENERATIONS, { prompt: 'once', n: 2 }, headers);
      assert.equal(again.status, 200);
      assert.equal(await again.text(), firstBody);
      assert.equal(again.headers.get('amisi-replay'), 'true');
      assert.equal(rig.upstream.count(), calls, 'the replay never reaches the upstream');
      assert.deepEqual(await balance(), { available: before.available - 4, held: 0 });
      const changed = await rig.post(GENERATIONS, { prompt: 'once', n: 3 }, headers);
      assert.equal(changed.status, 422);
      assert.equal(((await changed.json()) as Problem).code, 'idempotency_key_reused');
    });

    it('a retry after an upstream failure tries again, and the success is charged once', async () => {
      const before = await balance();
      const headers = { ...auth(), 'idempotency-key': 'retry-2' };
      const body = { prompt: 'flaky:a', n: 1 };
      const calls = rig.upstream.count();
      const failed = await rig.post(GENERATIONS, body, headers);
      assert.equal(failed.status, 502);
      assert.equal(((await failed.json()) as Problem).code, 'upstream_unavailable');
      const ok = await rig.post(GENERATIONS, body, headers);
      assert.equal(ok.status, 200);
      const replay = await rig.post(GENERATIONS, body, headers);
      assert.equal(replay.headers.get('amisi-replay'), 'true');
      assert.equal(rig.upstream.count(), calls + 2);
      assert.deepEqual(await balance(), { available: before.available - 2, held: 0 });
      const other = await rig.post(GENERATIONS, { prompt: 'another', n: 1 }, headers);
      assert.equal(other.status, 422);
      assert.equal(((await other.json()) as Problem).code, 'idempotency_key_reused');
    });

    it('two requests under one key at once: one runs, the other is told it is in progress', async () => {
      const headers = { ...auth(), 'idempotency-key': 'twice-at-once' };
      const first = rig.post(GENERATIONS, { prompt: 'wait', n: 1 }, headers);
      await rig.upstream.waiting();
      const second = await rig.post(GENERATIONS, { prompt: 'wait', n: 1 }, headers);
      assert.equal(second.status, 409);
      assert.equal(((await second.json()) as Problem).code, 'request_in_progress');
      assert.ok(Number(second.headers.get('retry-after')) > 0);
      rig.upstream.release();
      assert.equal((await first).status, 200);
    });

    it('slow, dropped and broken answers are released and answered 504 or 502', async () => {
      const before = await balance();
      const slow = await rig.post(GENERATIONS, { prompt: 'slow:2500', n: 1 }, auth());
      assert.equal(slow.status, 504);
      assert.equal(((await slow.json()) as Problem).code, 'upstream_timeout');
      const mid = await rig.post(GENERATIONS, { prompt: 'drop-mid', n: 1 }, auth());
      assert.equal(mid.status, 502);
      assert.deepEqual(await balance(), before);
    });

    it('edits and variations: multipart forms priced by their fields', async () => {
      const before = await balance();
      const form = new FormData();
      form.set('prompt', 'a hat');
      form.set('n', '2');
      form.set('size', '512x512');
      form.set('image', new Blob([Buffer.from('png bytes')], { type: 'image/png' }), 'in.png');
      const res = await fetch(`${rig.url}/v1/images/edits`, {
        method: 'POST',
        headers: auth(),
        body: form,
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('amisi-credits'), '2', '2 images at 720p');
      const call = rig.upstream.calls.at(-1)!;
      assert.deepEqual(call.fields, { prompt: 'a hat', n: '2', size: '512x512', image: 'file' });
      assert.deepEqual(await balance(), { available: before.available - 2, held: 0 });
    });

    it('bad input is refused with a code and reaches nothing', async () => {
      const before = await balance();
      const calls = rig.upstream.count();
      const cases: [string, Record<string, string>, string | object, number, string][] = [
        [GENERATIONS, auth(), { prompt: 'x', size: '999x1' }, 400, 'invalid_parameter'],
        [GENERATIONS, auth(), { prompt: 'x', n: 'many' }, 400, 'invalid_parameter'],
        [GENERATIONS, auth(), { prompt: 'x', n: 500 }, 400, 'invalid_parameter'],
        [GENERATIONS, auth(), '{not json', 400, 'invalid_argument'],
        [GENERATIONS, {}, { prompt: 'x' }, 401, 'unauthorized'],
        [GENERATIONS, { authorization: 'Bearer amk_nope' }, { prompt: 'x' }, 401, 'unauthorized'],
        [
          GENERATIONS,
          { ...auth(), 'idempotency-key': 'has space' },
          { prompt: 'x' },
          400,
          'invalid_argument',
        ],
        ['/v1/models', auth(), {}, 404, 'not_found'],
      ];
      for (const [path, headers, body, status, code] of cases) {
        const res = await rig.post(path, body, headers);
        const problem = (await res.json()) as Problem;
        assert.deepEqual(
          [res.status, problem.code],
          [status, code],
          `${JSON.stringify(body)}: ${problem.detail}`,
        );
      }
      assert.equal(rig.upstream.count(), calls);
      assert.deepEqual(await balance(), before);
    });

    it('health, readiness and per-route metrics under /_amisi/', async () => {
      const health = await fetch(`${rig.url}/_amisi/healthz`);
      assert.deepEqual(await health.json(), { status: 'ok' });
      const ready = await fetch(`${rig.url}/_amisi/readyz`);
      assert.equal(ready.status, 200);
      const text = await (await fetch(`${rig.url}/_amisi/metrics`)).text();
      assert.match(
        text,
        /amisi_gateway_requests_total\{route="images.generations",outcome="captured"\} \d+/,
      );
      assert.match(
        text,
        /amisi_gateway_requests_total\{route="images.generations",outcome="upstream_timeout"\} 1/,
      );
      assert.match(text, /amisi_gateway_captured_credits_total\{route="images.edits"\} 2/);
      assert.match(
        text,
        /amisi_gateway_requests_total\{route="images.generations",outcome="refused_credits"\} 1/,
      );
      assert.match(text, /amisi_gateway_added_seconds_count\{route="images.generations"\} \d+/);
    });
  });
}
