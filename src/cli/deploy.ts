import type { Command } from 'commander';
import type { CutoverConfig } from '../config/schema.js';
import { EXIT } from '../shared/errors.js';
import type { Phase } from '../shared/phase.js';
import type { DeploymentRecord } from '../shared/store.js';
import type { AdminClient } from './admin-client.js';
import { actor, loadCliConfig, verb, type CommonOptions } from './cli-context.js';
import { controlPlaneFor } from './control-plane.js';
import { planDeploy } from './deploy-plan.js';
import { DeploymentView } from './deployment-view.js';
import { withInProcessEngine } from './in-process-engine.js';
import { followInProcess, settleResumed } from './one-shot-follow.js';
import { printJson, printLine, usageError, type OutputMode } from './output.js';
import { renderPlan } from './plan-renderer.js';

/** Where `deploy` stops watching: the new release serves and the old one is warm, or it failed. */
const SETTLED: ReadonlySet<Phase> = new Set(['standby', 'retired', 'aborted', 'rolled-back']);

interface DeployOptions extends CommonOptions {
  wait: boolean;
  plan?: boolean;
}

export function registerDeploy(program: Command): void {
  program
    .command('deploy')
    .description('deploy a release to the idle slot, verify it, and move traffic to it')
    .argument('<release>', 'the release to deploy (for the process platform: a folder under the cwd pattern)')
    .option('--no-wait', 'return once the deployment has started (needs a running cutover server)')
    .option(
      '--plan',
      'print the calls the deploy would make, in order, and the waits between them, without making them',
    )
    .action(
      verb(async (mode, release: string, options: DeployOptions) => {
        if (options.plan === true) return printPlan(loadCliConfig(options), mode, release);
        const plane = controlPlaneFor(options);
        return plane.kind === 'server'
          ? deployThroughServer(plane.client, mode, release, options)
          : deployInProcess(plane.config, mode, release, options);
      }),
    );
}

/** Made here whether or not a server runs: the plan reads AWS and the store, it changes neither. */
async function printPlan(config: CutoverConfig, mode: OutputMode, release: string): Promise<number> {
  const plan = await planDeploy(config, release);
  if (mode.json) printJson({ ok: true, plan });
  else process.stdout.write(renderPlan(plan));
  return EXIT.OK;
}

async function deployThroughServer(
  client: AdminClient,
  mode: OutputMode,
  release: string,
  options: DeployOptions,
): Promise<number> {
  const { deployment } = await client.request<{ deployment: DeploymentRecord }>('POST', '/v1/deployments', {
    release,
    requestedBy: actor(),
  });
  if (!options.wait) {
    if (mode.json) printJson({ ok: true, deployment });
    else process.stdout.write(`deployment ${deployment.id} of ${release} started\n`);
    return EXIT.OK;
  }
  const view = mode.json ? undefined : new DeploymentView(mode.tty);
  await client.follow(deployment.id, (event) => {
    view?.update(event);
    return event.type === 'phase' && SETTLED.has(event.phase);
  });
  const final = await client.request<{ deployment: DeploymentRecord }>(
    'GET',
    `/v1/deployments/${deployment.id}`,
  );
  return reportOutcome(mode, view, final.deployment, false);
}

/**
 * One-shot mode: this process is the engine. It runs the deployment until standby (the old slot
 * stays warm after the CLI exits) or until it fails, with the same progress and exit codes.
 */
async function deployInProcess(
  config: CutoverConfig,
  mode: OutputMode,
  release: string,
  options: DeployOptions,
): Promise<number> {
  if (!options.wait) {
    throw usageError(
      `--no-wait needs a running cutover server: without one (router ${config.router.kind}), this command runs the deployment itself`,
    );
  }
  const newView = (): DeploymentView | undefined => (mode.json ? undefined : new DeploymentView(mode.tty));
  return withInProcessEngine(config, { verb: `deploy ${release}`, drive: true }, async (session) => {
    await settleResumed(session, newView);
    const view = newView();
    const { deployment } = await session.untilInterrupted(
      session.engine.deploy(release, actor()),
      () => `while deployment of ${release} was starting`,
    );
    const rested = await followInProcess(session, deployment.id, view);
    return reportOutcome(mode, view, rested.record, rested.atGate);
  });
}

function reportOutcome(
  mode: OutputMode,
  view: DeploymentView | undefined,
  record: DeploymentRecord,
  waiting: boolean,
): number {
  const ok = waiting || record.phase === 'standby' || record.phase === 'retired';
  if (mode.json) printJson({ ok, deployment: record });
  else {
    view?.finish(record);
    if (waiting)
      printLine(`waiting for promotion: run \`cutover promote ${record.id}\` (or \`cutover abort\`)`);
  }
  return ok ? EXIT.OK : EXIT.DEPLOY_FAILED;
}
