import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ROOT, tempDir } from '../helpers.js';
import { BIN } from './cli-helpers.js';

/**
 * The README's commands as a process manager runs them: `npm start` in the clone and
 * `npx amisi serve` in a project that depends on the package. SIGTERM goes to the spawned
 * process only (npm), never to its group, as systemd's main-pid or `docker stop` send it; the
 * server must drain and exit, leaving neither its process nor its port behind.
 */

const { dir, cleanup } = tempDir('amisi-signals-');
after(cleanup);

interface Started {
  readonly child: ChildProcessWithoutNullStreams;
  readonly serverPid: number;
  readonly port: number;
  readonly lines: string[];
}

function env(db: string): NodeJS.ProcessEnv {
  const { DATABASE_URL: _url, npm_lifecycle_event: _event, ...inherited } = process.env;
  return {
    ...inherited,
    AMISI_DB: db,
    AMISI_PORT: '0',
    AMISI_JOBS: '0',
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_cache: join(dir, 'npm-cache'),
  };
}

/** Spawns the command and waits for the server's "listening" line (pid and port from the log). */
function start(command: string, args: string[], cwd: string, db: string): Promise<Started> {
  const child = spawn(command, args, { cwd, env: env(db), stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  return new Promise((resolve, reject) => {
    // A loaded 2-core machine can take over a minute to start npm and the server. Whatever
    // fails here stops what was started: a server left running would keep this file from ever
    // exiting (the runner waits for it).
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      child.kill('SIGKILL');
      for (const pid of serversOf(db)) process.kill(pid, 'SIGKILL');
      reject(error);
    };
    const timer = setTimeout(
      () => fail(new Error(`${command} did not listen within 120 s: ${stderr}`)),
      120_000,
    );
    let partial = '';
    let serverPid: number | undefined;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        const pid = /"pid":(\d+)/.exec(line);
        if (pid) serverPid = Number(pid[1]);
        const at = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(line);
        if (at && serverPid !== undefined) {
          clearTimeout(timer);
          settled = true;
          resolve({ child, serverPid, port: Number(at[1]), lines });
        }
      }
    });
    child.on('exit', (code) => fail(new Error(`${command} exited (${code}): ${stderr}`)));
  });
}

/** A process that is gone or a zombie (exited, not reaped yet) no longer runs. */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function stoppedWithin(s: Started, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!running(s.serverPid) && !(await portOpen(s.port))) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

async function sigtermStops(command: string, args: string[], cwd: string, name: string) {
  const s = await start(command, args, cwd, join(dir, `${name}.db`));
  try {
    assert.notEqual(s.serverPid, s.child.pid, 'the server is a child of npm, not npm itself');
    assert.equal((await fetch(`http://127.0.0.1:${s.port}/healthz`)).status, 200);
    s.child.kill('SIGTERM');
    assert.ok(await stoppedWithin(s, 8000), `the server (pid ${s.serverPid}) still runs`);
    assert.ok(
      s.lines.some((l) => l.includes('shutting down: draining')),
      'it drained as for a SIGTERM',
    );
  } finally {
    if (running(s.serverPid)) process.kill(s.serverPid, 'SIGKILL');
    s.child.kill('SIGKILL');
  }
}

/** The server processes whose environment names this database, however they were started. */
function serversOf(db: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const environ = readFileSync(`/proc/${name}/environ`, 'utf8').split('\0');
      // npm and npx run in node too (titled "npm exec ..."): the server is node running the bin.
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      const server = /node$/.test(argv[0]!) && argv.some((a) => /\/amisi$|main\.js$/.test(a));
      if (environ.includes(`AMISI_DB=${db}`) && server && running(Number(name)))
        pids.push(Number(name));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

function project(): string {
  // A project with the package installed: npx finds the bin in node_modules/.bin and runs it
  // through `sh -c`, as it does in a clone (where it first links the clone into its cache).
  const root = join(dir, 'project');
  mkdirSync(join(root, 'node_modules', '.bin'), { recursive: true });
  writeFileSync(join(root, 'package.json'), '{"name":"project","private":true}\n');
  try {
    symlinkSync(ROOT, join(root, 'node_modules', 'amisi-credits'));
    symlinkSync(BIN, join(root, 'node_modules', '.bin', 'amisi'));
  } catch {
    // Made by the test before.
  }
  chmodSync(BIN, 0o755); // as npm's bin linking does
  return root;
}

describe('SIGTERM to the README commands stops the server', () => {
  it('npm start (the clone)', async () => {
    await sigtermStops('npm', ['start'], ROOT, 'npm-start');
  });

  it('npx amisi serve (a project that depends on amisi-credits)', async () => {
    await sigtermStops('npx', ['amisi', 'serve'], project(), 'npx');
  });

  it('npx amisi serve, SIGTERM while the server is still starting', async () => {
    const db = join(dir, 'early.db');
    const child = spawn('npx', ['amisi', 'serve'], { cwd: project(), env: env(db) });
    child.stdout.resume();
    child.stderr.resume();
    const exited = new Promise((resolve) => child.on('exit', resolve));
    let servers: number[] = [];
    try {
      // The moment the server's process exists: before it opens the database or listens.
      for (let i = 0; i < 600 && servers.length === 0; i++) {
        servers = serversOf(db);
        if (servers.length === 0) await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(servers.length, 1, 'the server process started');
      child.kill('SIGTERM');
      await exited;
      // It finishes starting, then drains and exits; a loaded 2-core machine (the suite runs
      // two files at once) can take well over 15 s to get that far.
      const signalled = Date.now();
      const until = signalled + 90_000;
      while (Date.now() < until && serversOf(db).length > 0) {
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.deepEqual(
        serversOf(db),
        [],
        `no server is left running (${Date.now() - signalled} ms after the signal)`,
      );
    } finally {
      for (const pid of serversOf(db)) process.kill(pid, 'SIGKILL');
      child.kill('SIGKILL');
    }
  });
});
