/**
 * A worker thread of the model-based property test (model-run.ts): it opens its own store,
 * runs the shard of sequences it is asked for, verifies its store and closes it, one step per
 * message, and answers each step with its result or the error's message.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Shard, type ModelRun, type WorkerAnswer, type WorkerRequest } from './model-run.js';

const port = parentPort;
if (!port) throw new Error('model-worker.ts runs as a worker thread');

/** The error's message, then the stacks of its causes (fast-check's cause: the assertion). */
function message(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  let text = error.message;
  for (let c = error.cause; c !== undefined; c = c instanceof Error ? c.cause : undefined) {
    if (c instanceof Error && text.includes(c.message)) continue;
    text += `\n[cause] ${c instanceof Error ? (c.stack ?? c.message) : String(c)}`;
  }
  return text;
}

function answer(a: WorkerAnswer): void {
  port!.postMessage(a);
}

let shard: Shard;
try {
  shard = await Shard.open(workerData as ModelRun);
  answer({ step: 'open' });
} catch (error) {
  answer({ step: 'open', error: message(error) });
  process.exit(1);
}

// One step at a time, in the order asked.
let steps = Promise.resolve();
port.on('message', (request: WorkerRequest) => {
  steps = steps.then(() => step(request));
});

async function step(request: WorkerRequest): Promise<void> {
  try {
    switch (request.step) {
      case 'model':
        answer({
          step: 'model',
          report: await shard.model(request.shard, request.shards, request.stop),
        });
        return;
      case 'verify':
        await shard.verify();
        answer({ step: 'verify' });
        return;
      case 'close':
        await shard.close();
        answer({ step: 'close' });
        port!.close();
        return;
    }
  } catch (error) {
    answer({ step: request.step, error: message(error) });
  }
}
