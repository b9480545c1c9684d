import type { Command } from 'commander';
import { EXIT } from '../core/errors.js';
import type { Phase } from '../core/phase.js';
import type { DeploymentRecord } from '../store/store.js';
import { actor, clientFor, verb, type CommonOptions } from './cli-context.js';
import { DeploymentView } from './deployment-view.js';
import { printJson } from './output.js';

/** Where `deploy` stops watching: the new release serves and the old one is warm, or it failed. */
const SETTLED: ReadonlySet<Phase> = new Set(['standby', 'retired', 'aborted', 'rolled-back']);

interface DeployOptions extends CommonOptions {
  wait: boolean;
}

export function registerDeploy(program: Command): void {
  program
    .command('deploy')
    .description('deploy a release to the idle slot, verify it, and move traffic to it')
    .argument('<release>', 'the release to deploy (for the process platform: a folder under the cwd pattern)')
    .option('--no-wait', 'return once the deployment has started')
    .action(
      verb(async (mode, release: string, options: DeployOptions) => {
        const client = clientFor(options);
        const { deployment } = await client.request<{ deployment: DeploymentRecord }>(
          'POST',
          '/v1/deployments',
          {
            release,
            requestedBy: actor(),
          },
        );
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
        const record = final.deployment;
        const ok = record.phase === 'standby' || record.phase === 'retired';
        if (mode.json) printJson({ ok, deployment: record });
        else view?.finish(record);
        return ok ? EXIT.OK : EXIT.DEPLOY_FAILED;
      }),
    );
}
