#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { EXIT } from '../shared/errors.js';
import { CUTOVER_VERSION } from '../shared/version.js';
import { registerControlVerbs } from './control-verbs.js';
import { registerDashboardPassword } from './dashboard-password.js';
import { registerDeploy } from './deploy.js';
import { registerDiff } from './diff.js';
import { registerHistory } from './history.js';
import { registerInit } from './init.js';
import { registerLogs } from './logs.js';
import { wasInterruptedBySignal } from './in-process-engine.js';
import { registerRetire } from './retire.js';
import { registerServer } from './server.js';
import { registerStatus } from './status.js';

const program = new Command('cutover')
  .description('zero-downtime blue-green deployments')
  .version(CUTOVER_VERSION, '-V, --version')
  .option('-c, --config <file>', 'path to cutover.yml (default: ./cutover.yml or $CUTOVER_CONFIG)')
  .option('--json', 'print one JSON document instead of text')
  .showHelpAfterError()
  .enablePositionalOptions(false)
  .exitOverride();

// Every verb sees the global options merged into its own.
program.hook('preAction', (_root, action) => {
  Object.assign(action.opts(), { ...program.opts(), ...action.opts() });
});

registerInit(program);
registerServer(program);
registerDeploy(program);
registerStatus(program);
registerControlVerbs(program);
registerRetire(program);
registerHistory(program);
registerDiff(program);
registerLogs(program);
registerDashboardPassword(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  } else throw error;
}
// A one-shot deploy stopped by a signal has closed its session; a run the engine did not stop
// must not keep the process alive (what it did is journaled, and the next command resumes it).
if (wasInterruptedBySignal()) process.exit();
