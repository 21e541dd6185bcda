import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { GatewayJob } from '../../src/core/gateway-routes.js';
import { BOTH_STORES } from '../pg-helpers.js';
import { jobRoutes, startGatewayRig, type GatewayRig } from './gateway-helpers.js';

/**
 * Submit-and-poll jobs through the gateway: the hold stays open while the job runs (extended
 * before it could expire), and is captured for what the done job made, or released when the job
 * fails, times out, or cannot be followed. A restarted gateway resumes the recorded jobs.
 */

const HOLD_TTL_MS = 2000;

for (const [name, open, skip] of BOTH_STORES) {
  describe(`gateway jobs on ${name}`, { skip }, () => {
    let rig: GatewayRig;
    let key: string;
    let other: string;
    const auth = (k = key) => ({ authorization: `Bearer ${k}` });
    const balance = async () => {
      const b = await rig.ledger.balance('jobs');
      return { available: b.available, held: b.held };
    };
    const submit = async (body: object) => {
      const res = await rig.post('/v1/jobs', body, auth());
      assert.equal(res.status, 202, await res.clone().text());
      const { id } = (await res.json()) as { id: string };
      assert.equal(res.headers.get('amisi-job'), id);
      return id;
    };
    /** Waits (at most 10 s) until the gateway has ended the job. */
    const ended = async (jobId: string): Promise<GatewayJob> => {
      for (let i = 0; i < 200; i++) {
        const job = await rig.ledger.findGatewayJob('jobs.submit', jobId);
        if (job && job.status !== 'running') return job;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.fail(`job ${jobId} did not end`);
    };

    before(async () => {
      rig = await startGatewayRig(
        open,
        jobRoutes({ intervalMs: 100, timeoutMs: 3000 }, HOLD_TTL_MS),
      );
      key = await rig.account('jobs', 100);
      other = await rig.account('someone-else', 10);
    });
    after(async () => {
      if (!rig) return;
      assert.deepEqual((await rig.ledger.verify()).violations, []);
      await rig.close();
    });

    it('held while it runs, captured for what the done job made', async () => {
      const id = await submit({ prompt: 'a fox', n: 3, resolution: '4k' });
      assert.deepEqual(await balance(), { available: 91, held: 9 });
      const job = await ended(id);
      assert.deepEqual([job.status, job.units], ['done', 3]);
      assert.deepEqual(await balance(), { available: 91, held: 0 });
      const partial = await submit({ prompt: 'job-partial:1', n: 4, resolution: '720p' });
      assert.deepEqual([(await ended(partial)).units], [1]);
      assert.deepEqual(await balance(), { available: 90, held: 0 });
    });

    it('a failed job, one that outlives its deadline, and one without an id are released', async () => {
      const before = await balance();
      const failed = await submit({ prompt: 'job-fail', n: 2 });
      const forever = await submit({ prompt: 'job-forever', n: 1 });
      assert.equal((await ended(failed)).status, 'failed');
      const timedOut = await ended(forever);
      assert.equal(timedOut.status, 'timed_out');
      const hold = await rig.ledger.getHold(timedOut.holdId);
      assert.equal(hold.status, 'released');
      const history = await rig.ledger.history({ accountId: 'jobs', kinds: ['hold_extension'] });
      assert.ok(
        history.transactions.some((t) => t.holdId === timedOut.holdId),
        'the hold of a job that runs past its ttl is extended',
      );
      const noid = await rig.post('/v1/jobs', { prompt: 'job-noid' }, auth());
      assert.equal(noid.status, 202);
      assert.equal(noid.headers.get('amisi-credits'), '0');
      assert.deepEqual(await balance(), before);
    });

    it("the client polls its job through the gateway; another account's job is not found", async () => {
      const id = await submit({ prompt: 'job-forever', n: 1 });
      const mine = await fetch(`${rig.url}/v1/jobs/${id}`, { headers: auth() });
      assert.equal(mine.status, 200);
      assert.equal(((await mine.json()) as { status: string }).status, 'running');
      const theirs = await fetch(`${rig.url}/v1/jobs/${id}`, { headers: auth(other) });
      assert.equal(theirs.status, 404);
      assert.equal(((await theirs.json()) as { code: string }).code, 'not_found');
      const unknown = await fetch(`${rig.url}/v1/jobs/job_nope`, { headers: auth() });
      assert.equal(unknown.status, 404);
      await ended(id);
    });

    it('a retried submit replays its answer; a restarted gateway resumes the recorded jobs', async () => {
      const headers = { ...auth(), 'idempotency-key': 'job-once' };
      const first = await rig.post('/v1/jobs', { prompt: 'resumed', n: 2 }, headers);
      const text = await first.text();
      const again = await rig.post('/v1/jobs', { prompt: 'resumed', n: 2 }, headers);
      assert.equal(again.headers.get('amisi-replay'), 'true');
      assert.equal(await again.text(), text);
      const { id } = JSON.parse(text) as { id: string };
      await rig.restart();
      const job = await ended(id);
      assert.deepEqual([job.status, job.units], ['done', 2]);
      assert.equal((await rig.ledger.getHold(job.holdId)).status, 'captured');
    });
  });
}
