import type { Command } from 'commander';
import { EXIT } from '../core/errors.js';
import type { DeploymentRecord } from '../store/store.js';
import { actor, clientFor, verb, type CommonOptions } from './cli-context.js';
import { printJson, printLine } from './output.js';

/** promote, rollback and abort: one admin call each, with the same shape. */
const CONTROL_VERBS = {
  promote: 'open the manual gate of the deployment in progress (awaiting-promotion or a manual shift step)',
  rollback: 'move traffic back to the previous slot, still warm inside the rollback window',
  abort: 'abort a deployment before promotion; traffic stays on (or returns to) the old slot',
} as const;

export function registerControlVerbs(program: Command): void {
  for (const [name, description] of Object.entries(CONTROL_VERBS)) {
    program
      .command(name)
      .description(description)
      .argument('[deployment]', 'deployment id (default: the one in progress)')
      .action(
        verb(async (mode, deploymentId: string | undefined, options: CommonOptions) => {
          const client = clientFor(options);
          const { deployment } = await client.request<{ deployment: DeploymentRecord }>(
            'POST',
            `/v1/${name}`,
            {
              ...(deploymentId ? { deployment: deploymentId } : {}),
              requestedBy: actor(),
            },
          );
          if (mode.json) printJson({ ok: true, deployment });
          else
            printLine(`${name}: deployment ${deployment.id} of ${deployment.release} is ${deployment.phase}`);
          return EXIT.OK;
        }),
      );
  }
}
