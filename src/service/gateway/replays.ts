import type { OutgoingHttpHeaders } from 'node:http';

/** A completed answer, kept so a client's retry under the same key gets it again. */
export interface KeptAnswer {
  readonly status: number;
  readonly headers: OutgoingHttpHeaders;
  readonly body: Buffer;
}

/** One answer larger than this is not kept (its retry answers hold_already_captured). */
export const REPLAY_ANSWER_MAX_BYTES = 8 * 1024 * 1024;

/**
 * Completed answers by (account, hold key), least recently kept first out, within a budget of
 * bytes. In memory only: after a restart, or once evicted, a retry of a completed request is
 * told it was answered and charged, and is never charged again (docs/gateway.md).
 */
export class ReplayCache {
  private readonly answers = new Map<string, KeptAnswer>();
  private bytes = 0;

  constructor(private readonly budgetBytes: number) {}

  keep(id: string, answer: KeptAnswer): void {
    const size = answer.body.length;
    if (size > REPLAY_ANSWER_MAX_BYTES || size > this.budgetBytes) return;
    this.drop(id);
    this.answers.set(id, answer);
    this.bytes += size;
    for (const [oldest, kept] of this.answers) {
      if (this.bytes <= this.budgetBytes) break;
      this.answers.delete(oldest);
      this.bytes -= kept.body.length;
    }
  }

  get(id: string): KeptAnswer | undefined {
    return this.answers.get(id);
  }

  private drop(id: string): void {
    const kept = this.answers.get(id);
    if (!kept) return;
    this.answers.delete(id);
    this.bytes -= kept.body.length;
  }
}
