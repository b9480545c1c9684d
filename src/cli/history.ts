import type { Command } from 'commander';
import { EXIT } from '../shared/errors.js';
import type { DeploymentRecord } from '../shared/store.js';
import { verb, type CommonOptions } from './cli-context.js';
import { controlPlaneFor } from './control-plane.js';
import { withInProcessEngine } from './in-process-engine.js';
import { printJson, printLine, usageError } from './output.js';

export function registerHistory(program: Command): void {
  program
    .command('history')
    .description('list recent deployments, newest first')
    .option('-n, --limit <count>', 'how many', '20')
    .action(
      verb(async (mode, options: CommonOptions & { limit: string }) => {
        const limit = Number(options.limit);
        if (!Number.isInteger(limit) || limit < 1)
          throw usageError(`--limit must be a positive whole number, got "${options.limit}"`);
        const plane = controlPlaneFor(options);
        const deployments =
          plane.kind === 'server'
            ? (
                await plane.client.request<{ deployments: DeploymentRecord[] }>(
                  'GET',
                  `/v1/deployments?limit=${limit}`,
                )
              ).deployments
            : await withInProcessEngine(plane.config, { verb: 'history', drive: false }, (session) =>
                Promise.resolve(session.store.listDeployments(plane.config.app, limit)),
              );
        if (mode.json) {
          printJson({ deployments });
          return EXIT.OK;
        }
        for (const d of deployments) {
          const reason = d.reason ? `  ${d.reason.message}` : '';
          printLine(
            `${d.createdAt}  ${d.id}  ${d.release.padEnd(14)} ${(d.fromSlot ?? '-').padEnd(5)} → ${d.toSlot.padEnd(5)}  ${d.phase}${reason}`,
          );
        }
        return EXIT.OK;
      }),
    );
}
