/**
 * When `amisi serve` should stop: the first SIGTERM or SIGINT, or, when npm started it, npm
 * going away.
 *
 * npm runs scripts and `npx` commands through `sh -c`, and forwards SIGTERM and SIGINT to that
 * shell only. `npm start` execs the server (package.json), so the signal reaches it. `npx amisi
 * serve` cannot: the shell (dash on Debian) forks the command instead of exec'ing it, dies of the
 * forwarded signal, npm exits, and the server would run on as an orphan holding the port. So a
 * server started by npm (npm sets `npm_lifecycle_event` for both) watches its parent and stops,
 * draining as for SIGTERM, once the parent is gone (the process is re-parented). A server started
 * any other way (systemd, Docker, `node dist/src/cli/main.js serve`, `nohup`) does not watch.
 */

/** How often the parent is checked: a stop is noticed within this. */
export const PARENT_POLL_MS = 250;
/**
 * A second signal within this of the first is the same request delivered twice: Ctrl-C under
 * `npm start` reaches the server from the terminal (the process group) and again from npm.
 * A later one forces the exit.
 */
export const REPEAT_WINDOW_MS = 1000;

export type StopReason = NodeJS.Signals | 'parent exited';

/**
 * The parent as the process started: read when main.ts loads (its first import), before the
 * slow start-up, so a SIGTERM that reaches npm while the server is still starting is not lost.
 */
export const PARENT_AT_START = process.ppid;

/**
 * Whether npm's shell is already gone. Under `npx` the parent is always that shell, never
 * init, so a parent of 1 at start means it died before we looked. (`npm start` execs the
 * server, whose parent is then npm, which may itself be pid 1 in a container.)
 */
function parentGone(env: NodeJS.ProcessEnv, parent: number): boolean {
  return process.ppid !== parent || (env.npm_lifecycle_event === 'npx' && parent === 1);
}

export function stopRequested(
  env: NodeJS.ProcessEnv = process.env,
  onForce: () => void = () => process.exit(1),
): Promise<StopReason> {
  return new Promise((resolve) => {
    let firstAt: number | undefined;
    let timer: NodeJS.Timeout | undefined;
    const stop = (reason: StopReason) => {
      if (firstAt === undefined) {
        firstAt = Date.now();
        clearInterval(timer);
        resolve(reason);
      } else if (reason !== 'parent exited' && Date.now() - firstAt > REPEAT_WINDOW_MS) {
        onForce();
      }
    };
    // Listening keeps the default action (exit at once) away for every later signal too.
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    if (env.npm_lifecycle_event !== undefined) {
      if (parentGone(env, PARENT_AT_START)) {
        stop('parent exited');
        return;
      }
      timer = setInterval(() => {
        if (parentGone(env, PARENT_AT_START)) stop('parent exited');
      }, PARENT_POLL_MS);
      timer.unref();
    }
  });
}
