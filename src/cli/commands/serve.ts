import cluster from 'node:cluster';
import type { Command } from 'commander';
import { AmisiError } from '../../core/errors.js';
import type { FastifyBaseLogger as Logger } from 'fastify';
import type { App } from '../../http/app.js';
import type { Ledger } from '../../ledger/ledger.js';
import { Scheduler } from '../../service/scheduler.js';
import { WebhookDeliverer } from '../../service/webhooks/deliverer.js';
import { serveConfig, type ServeFlags } from '../../http/config.js';
import { ApiKeys } from '../../service/api-keys.js';
import { providerFromEnv } from '../../service/payments/from-env.js';
import { PurchaseService } from '../../service/purchases.js';
import {
  DEFAULT_CATALOG_PATH,
  databaseUrlOf,
  describeDatabase,
  readJsonFile,
  withLedger,
  type GlobalOptions,
} from '../context.js';
import { rollupsHint } from './reports.js';
import { ensureCatalog } from './setup.js';
import { stopRequested } from '../stop.js';
import type { GatewayLog } from '../../service/gateway/gateway.js';
import { DEFAULT_GATEWAY_PORT, gatewaySettings, startGateway } from './gateway.js';
import {
  forWorker,
  jsonLog,
  primaryGone,
  superviseWorkers,
  tellReady,
  workerIndex,
  workersFrom,
} from './serve-workers.js';

type Globals = () => GlobalOptions;

/** The gateway's settings inside `amisi serve`: its own flags, the server's host and log level. */
function gatewayOf(flags: ServeFlags, config: { host: string; logLevel: string }) {
  const level = { fatal: 'error', trace: 'debug' }[config.logLevel] ?? config.logLevel;
  return gatewaySettings(
    {
      ...(flags.gatewayRoutes === undefined ? {} : { routes: flags.gatewayRoutes }),
      ...(flags.gatewayUpstream === undefined ? {} : { upstream: flags.gatewayUpstream }),
      host: config.host,
      port: flags.gatewayPort ?? String(DEFAULT_GATEWAY_PORT),
      logLevel: level,
    },
    {},
  );
}

/** The gateway's log lines through the server's own logger. */
function pinoLog(log: Logger): GatewayLog {
  return (level, msg, fields = {}) => log[level]({ gateway: true, ...fields }, msg);
}

/** The command that makes the first key against the same database, for the start-up hint. */
function keyCommand(o: GlobalOptions): string {
  const where = o.databaseUrl ? ' --database-url <url>' : o.db ? ` --db ${o.db}` : '';
  return `amisi${where} keys create --scope operator`;
}

async function hintWithoutKeys(ledger: Ledger, o: GlobalOptions, log: (msg: string) => void) {
  const keys = await ledger.listApiKeys();
  if (!keys.some((k) => k.scope === 'operator' && k.revokedAt === null)) {
    log(`no operator API key exists yet: make one with \`${keyCommand(o)}\``);
  }
}

/** Listens, or says in one line why the address cannot be had (a user's error, not a bug). */
async function listen(app: App, host: string, port: number): Promise<void> {
  try {
    await app.listen({ host, port });
  } catch (e) {
    await app.close();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new AmisiError('address_in_use', `${host}:${port} is already in use`, { host, port });
    }
    if (code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      const why =
        code === 'EACCES'
          ? 'needs privileges this process lacks'
          : 'is not an address of this machine';
      throw new AmisiError('invalid_argument', `cannot listen on ${host}:${port}: it ${why}`, {
        field: code === 'EACCES' ? 'port' : 'host',
        host,
        port,
      });
    }
    throw e;
  }
}

/** The scheduler's jobs and the webhook deliverer, logging what they do and what fails. */
function startJobs(ledger: Ledger, purchases: PurchaseService, intervalMs: number, log: Logger) {
  const scheduler = new Scheduler(ledger, purchases, {
    intervalMs,
    onError: (job, error) => log.error({ job, err: error }, 'scheduled job failed'),
    onRun: (report) => {
      if (Object.values(report).some((n) => n > 0)) log.info(report, 'scheduled jobs ran');
    },
  });
  const deliverer = new WebhookDeliverer(ledger, {
    // Checked by serveConfig before the jobs start (0 or 1).
    allowPrivate: process.env.AMISI_WEBHOOK_ALLOW_PRIVATE === '1',
    onError: (error) => log.error({ err: error }, 'webhook delivery failed'),
    onAttempt: (d) => {
      if (d.status !== 'delivered') {
        log.warn(
          { delivery: d.id, endpoint: d.endpointId, status: d.status, error: d.lastError },
          'webhook not delivered',
        );
      }
    },
  });
  scheduler.start();
  deliverer.start();
  return {
    async stop() {
      await Promise.all([scheduler.stop(), deliverer.stop()]);
    },
  };
}

export function registerServe(program: Command, globals: Globals): void {
  program
    .command('serve')
    .description(
      'run the HTTP API (a new SQLite database is created with the default catalog); docs at /docs',
    )
    .option('--host <host>', 'address to listen on (env AMISI_HOST, default 127.0.0.1)')
    .option('--port <port>', 'port (env AMISI_PORT, default 8787; 0 picks a free one)')
    .option('--log-level <level>', 'fatal ... trace or silent (env AMISI_LOG_LEVEL, default info)')
    .option(
      '--rate-limit <n>',
      'requests per API key per minute (env AMISI_RATE_LIMIT, default 6000; 0 turns it off)',
    )
    .option(
      '--gateway-routes <file>',
      'also run the metering gateway with this routes file (docs/gateway.md), on --gateway-port',
    )
    .option('--gateway-upstream <url>', 'the API behind the gateway run with --gateway-routes')
    .option('--gateway-port <port>', `the gateway's port (default ${DEFAULT_GATEWAY_PORT})`)
    .option(
      '--workers <n>',
      'processes sharing the port, PostgreSQL only; auto: the cores (env AMISI_WORKERS, default 1)',
    )
    .action(async (flags: ServeFlags) => {
      // Settings first: a bad setting must not leave a new database file behind.
      const postgres = Boolean(databaseUrlOf(globals()));
      const workers = workersFrom(flags.workers, process.env, postgres);
      const lone = serveConfig(flags, process.env);
      const gateway = flags.gatewayRoutes === undefined ? null : gatewayOf(flags, lone);
      const provider = providerFromEnv();
      const catalog = readJsonFile(DEFAULT_CATALOG_PATH, 'catalog_invalid');
      if (workers > 1 && cluster.isPrimary) {
        // Migrations and the catalog once, before any worker opens the database.
        await withLedger(globals(), (ledger) => ensureCatalog(ledger, catalog, false), {
          create: true,
        });
        process.exitCode = await superviseWorkers(workers, jsonLog(lone.logLevel));
        return;
      }
      const index = workerIndex();
      const config = index === null ? lone : forWorker(lone, index, workers);
      // Loaded here, so the other commands do not pay for the HTTP stack at start-up.
      const [{ buildServer }, { Metrics }, { drain }] = await Promise.all([
        import('../../http/server.js'),
        import('../../http/metrics.js'),
        import('../../http/lifecycle.js'),
      ]);
      const metrics = new Metrics();
      await withLedger(
        globals(),
        async (ledger) => {
          await ensureCatalog(ledger, catalog, false);
          const keys = new ApiKeys(ledger);
          const purchases = new PurchaseService(ledger, provider);
          const app = await buildServer(
            {
              ledger,
              purchases,
              keys,
              metrics,
              allowPrivateWebhooks: config.allowPrivateWebhooks,
            },
            config,
          );
          await listen(app, config.host, config.port);
          app.log.info(
            {
              database: describeDatabase(globals()),
              payments: provider.name,
              ...(index === null ? {} : { worker: index, workers }),
            },
            'amisi serve: ready; API docs at /docs, OpenAPI at /openapi.json',
          );
          tellReady();
          if (index === null || index === 0) {
            await hintWithoutKeys(ledger, globals(), (msg) => app.log.warn(msg));
            const rollups = await rollupsHint(ledger);
            if (rollups) app.log.warn(rollups);
          }
          const jobs = config.jobs
            ? startJobs(ledger, purchases, config.jobIntervalMs, app.log)
            : null;
          const metering = gateway ? await startGateway(ledger, gateway, pinoLog(app.log)) : null;
          if (metering) {
            app.log.info(
              { gateway: `http://${metering.address.address}:${metering.address.port}` },
              'amisi serve: the metering gateway is ready',
            );
          }
          const reason = await Promise.race([stopRequested(), primaryGone()]);
          app.log.info({ signal: reason }, 'shutting down: draining in-flight requests');
          await drain(app, config.shutdownTimeoutMs);
          await metering?.stop();
          await jobs?.stop();
          app.log.info('stopped accepting; closing the ledger after its last commit');
        },
        { create: true, committer: { onCommit: metrics.onCommit } },
      );
      // The channel to the primary keeps a worker alive: its last commit is in, so let go.
      if (cluster.isWorker) cluster.worker?.disconnect();
    });
}
