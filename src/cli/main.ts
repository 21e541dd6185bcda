#!/usr/bin/env node
// First: it notes the parent process before anything slow runs (see stop.ts).
import './stop.js';
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { AmisiError } from '../core/errors.js';
import { registerBatches } from './commands/batches.js';
import { registerClocks } from './commands/clocks.js';
import { registerCredits } from './commands/credits.js';
import { registerCheck } from './commands/check.js';
import { registerExport } from './commands/export.js';
import { registerInsights } from './commands/insights.js';
import { registerPayments } from './commands/payments.js';
import { registerPlans } from './commands/plans.js';
import { registerSimulate } from './commands/simulate.js';
import { registerReads } from './commands/reads.js';
import { registerReports } from './commands/reports.js';
import { registerAdvice } from './commands/advice.js';
import { registerServe } from './commands/serve.js';
import { registerGateway } from './commands/gateway.js';
import { registerKeys } from './commands/keys.js';
import { registerWebhooks } from './commands/webhooks.js';
import { registerTeams } from './commands/teams.js';
import { registerSetup } from './commands/setup.js';
import { PACKAGE_JSON_PATH, type GlobalOptions } from './context.js';
import { reportError } from './output.js';

const { version } = JSON.parse(readFileSync(PACKAGE_JSON_PATH, 'utf8')) as { version: string };

const program = new Command('amisi')
  .description('Amisi Credits: a credit ledger for AI generation platforms')
  // Not commander's .version(): a program option --version would take `catalog show --version`.
  .addHelpText('after', '\n`amisi --version` (or -V) prints the version of amisi-credits.')
  .option('--db <file>', 'SQLite database file (env AMISI_DB, default ./amisi.db)')
  .option('--database-url <url>', 'PostgreSQL instead of SQLite: postgres://... (env DATABASE_URL)')
  .option('--json', 'print JSON for machines instead of tables')
  .exitOverride()
  // Usage errors are reported once, by reportError, as one line with their code. The help that
  // `amisi` (or a command group such as `amisi catalog`) alone prints is what was asked for, so
  // it goes to stdout like `--help`.
  .configureOutput({
    outputError: () => undefined,
    writeErr: (text) => process.stdout.write(text),
  });

const globals = () => program.opts<GlobalOptions>();
registerSetup(program, globals);
registerCredits(program, globals);
registerCheck(program, globals);
registerBatches(program, globals);
registerClocks(program, globals);
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
registerGateway(program, globals);

/** Commander's message as one line: "unknown command 'x'" and its "(Did you mean y?)". */
function usageError(e: CommanderError): AmisiError {
  const message = e.message
    .replace(/^error: /, '')
    .replace(/\s*\n\(Did you mean (.*)\?\)$/, '; did you mean $1?')
    .replace(/\s*\n\s*/g, ' ');
  return new AmisiError('invalid_argument', message, { commander: e.code });
}

/** `amisi --version`, also after the global options (`amisi --db x.db --version`). */
function asksVersion(args: readonly string[]): boolean {
  let i = 0;
  while (args[i] === '--db' || args[i] === '--database-url' || args[i] === '--json') {
    i += args[i] === '--json' ? 1 : 2;
  }
  return i === args.length - 1 && (args[i] === '--version' || args[i] === '-V');
}

try {
  if (asksVersion(process.argv.slice(2))) {
    process.stdout.write(`${version}\n`);
  } else {
    await program.parseAsync(process.argv);
  }
} catch (e) {
  if (e instanceof CommanderError) {
    // --help, --version, and the help of `amisi` or a command group given without a command.
    if (e.exitCode === 0 || e.code === 'commander.help') process.exit(0);
    process.exitCode = reportError(usageError(e), process.argv.includes('--json'));
  } else {
    process.exitCode = reportError(e, process.argv.includes('--json'));
  }
}
