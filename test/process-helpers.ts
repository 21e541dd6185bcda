import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Compiled worker scripts (dist/test/fixtures/*.js). */
export function fixture(name: string): string {
  return join(dirname(fileURLToPath(import.meta.url)), 'fixtures', `${name}.js`);
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/**
 * A worker script in its own node process. stdout is split into complete lines (a line cut
 * short by a kill is never reported); stderr is kept for failure messages. The worker's stdin
 * stays open: workers exit on their own when it closes, so a dead test leaves no orphan.
 */
export class WorkerProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: string[] = [];
  stderr = '';
  exit: Exit | undefined;
  readonly exited: Promise<Exit>;
  private partial = '';
  private readonly wake = new Set<() => void>();

  constructor(
    readonly name: string,
    script: string,
    args: readonly string[],
    env?: NodeJS.ProcessEnv,
  ) {
    this.child = spawn(process.execPath, [script, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(env ? { env } : {}),
    });
    this.child.stdout.setEncoding('utf8');
    this.child.stderr.setEncoding('utf8');
    this.child.stdout.on('data', (chunk: string) => {
      const parts = (this.partial + chunk).split('\n');
      this.partial = parts.pop() ?? '';
      if (parts.length > 0) {
        this.lines.push(...parts);
        this.notify();
      }
    });
    this.child.stderr.on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    // Writing "go" to a worker that already died must not crash the test process.
    this.child.stdin.on('error', () => {});
    // 'close' (not 'exit'): every byte of stdout has been read by then.
    this.exited = new Promise((resolve) => {
      this.child.on('close', (code, signal) => {
        this.exit = { code, signal };
        this.notify();
        resolve(this.exit);
      });
    });
  }

  private notify(): void {
    for (const w of this.wake) w();
  }

  /**
   * Resolves once `ready()` holds; rejects if the worker exits first or time runs out (generous:
   * on a loaded 2-core machine, with other suites in parallel, a server can take 20 s to start).
   */
  waitFor(ready: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (error?: Error) => {
        clearTimeout(timer);
        this.wake.delete(check);
        if (error) reject(error);
        else resolve();
      };
      const check = () => {
        if (ready()) done();
        else if (this.exit)
          done(new Error(`${this.name} exited (${this.describeExit()}) before ${what}`));
      };
      const timer = setTimeout(
        () =>
          done(
            new Error(`${this.name}: no ${what} within ${timeoutMs} ms; stderr: ${this.stderr}`),
          ),
        timeoutMs,
      );
      this.wake.add(check);
      check();
    });
  }

  /** Every complete stdout line parsed as JSON. */
  messages(): Record<string, unknown>[] {
    return this.lines
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  send(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.exit === undefined && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill(signal);
    }
  }

  describeExit(): string {
    const e = this.exit;
    const how = e ? (e.signal ? `signal ${e.signal}` : `code ${e.code}`) : 'running';
    return this.stderr ? `${how}; stderr: ${this.stderr}` : how;
  }
}

/** Kills whatever is still running and waits until each process is gone. */
export async function killAll(workers: readonly WorkerProcess[]): Promise<void> {
  for (const w of workers) w.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.exited));
}

/** A port nobody listens on now, for a process the test starts. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as { port: number };
  await new Promise((done) => probe.close(done));
  return port;
}
