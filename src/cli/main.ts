#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { AmisiError } from '../core/errors.js';
import { registerBatches } from './commands/batches.js';
import { registerCredits } from './commands/credits.js';
import { registerExport } from './commands/export.js';
import { registerInsights } from './commands/insights.js';
import { registerPayments } from './commands/payments.js';
import { registerPlans } from './commands/plans.js';
import { registerSimulate } from './commands/simulate.js';
import { registerReads } from './commands/reads.js';
import { registerReports } from './commands/reports.js';
import { registerAdvice } from './commands/advice.js';
import { registerServe } from './commands/serve.js';
import { registerKeys } from './commands/keys.js';
import { registerWebhooks } from './commands/webhooks.js';
import { registerTeams } from './commands/teams.js';
import { registerSetup } from './commands/setup.js';
import type { GlobalOptions } from './context.js';
import { reportError } from './output.js';

const program = new Command('amisi')
  .description('Amisi Credits: a credit ledger for AI generation platforms')
  .option('--db <file>', 'SQLite database file (env AMISI_DB, default ./amisi.db)')
  .option('--database-url <url>', 'PostgreSQL instead of SQLite: postgres://... (env DATABASE_URL)')
  .option('--json', 'print JSON for machines instead of tables')
  .exitOverride()
  // Usage errors are reported once, by reportError, as one line with their code.
  .configureOutput({ outputError: () => undefined });

const globals = () => program.opts<GlobalOptions>();
registerSetup(program, globals);
registerCredits(program, globals);
registerBatches(program, globals);
registerPlans(program, globals);
registerPayments(program, globals);
registerSimulate(program, globals);
registerReads(program, globals);
registerKeys(program, globals);
registerWebhooks(program, globals);
registerTeams(program, globals);
registerInsights(program, globals);
registerReports(program, globals);
registerAdvice(program, globals);
registerExport(program, globals);
registerServe(program, globals);

function usageError(e: CommanderError): AmisiError {
  return new AmisiError('invalid_argument', e.message.replace(/^error: /, ''), {
    commander: e.code,
  });
}

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    if (e.exitCode === 0) process.exit(0); // --help, --version
    process.exitCode = reportError(usageError(e), process.argv.includes('--json'));
  } else {
    process.exitCode = reportError(e, process.argv.includes('--json'));
  }
}
