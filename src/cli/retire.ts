import type { Command } from 'commander';
import type { EngineStatus } from '../engine/deployment-engine.js';
import { EXIT } from '../shared/errors.js';
import type { DeploymentRecord } from '../shared/store.js';
import { verb, type CommonOptions } from './cli-context.js';
import { controlPlaneFor } from './control-plane.js';
import { DeploymentView } from './deployment-view.js';
import { withInProcessEngine } from './in-process-engine.js';
import { settleResumed } from './one-shot-follow.js';
import { printJson, printLine } from './output.js';

/**
 * `cutover retire`: stops the old slot of a deployment in standby whose rollback window has
 * ended. In one-shot mode nothing runs between commands to do it at the window's end; a running
 * server does it itself, and the next deploy does it in either mode.
 */
export function registerRetire(program: Command): void {
  program
    .command('retire')
    .description('stop the previous slot of a deployment whose rollback window has ended')
    .action(
      verb(async (mode, options: CommonOptions) => {
        const plane = controlPlaneFor(options);
        let retired: DeploymentRecord[] = [];
        let waiting: DeploymentRecord[];
        if (plane.kind === 'server') {
          // The server's engine retires each standby at the end of its window on its own.
          const status = await plane.client.request<EngineStatus>('GET', '/v1/status');
          waiting = status.active.filter((deployment) => deployment.phase === 'standby');
        } else {
          ({ retired, waiting } = await withInProcessEngine(
            plane.config,
            { verb: 'retire', drive: true },
            async (session) => {
              await settleResumed(session, () => (mode.json ? undefined : new DeploymentView(mode.tty)));
              const now = Date.now();
              const standby = (await session.store.unfinishedDeployments(plane.config.app)).filter(
                (deployment) => deployment.phase === 'standby',
              );
              const due = standby.filter((deployment) => windowEnd(deployment) <= now);
              // The engine resumed every standby run: one whose window has ended retires at once.
              await session.untilInterrupted(
                Promise.all(
                  due.map(
                    (deployment) => session.engine.finished(deployment.id) ?? Promise.resolve(deployment),
                  ),
                ),
                () => 'while retiring the previous slot',
              );
              return {
                retired: await Promise.all(
                  due.map(
                    async (deployment) => (await session.store.getDeployment(deployment.id)) ?? deployment,
                  ),
                ),
                waiting: standby.filter((deployment) => !due.includes(deployment)),
              };
            },
          ));
        }
        if (mode.json) {
          printJson({ ok: true, retired, waiting });
          return EXIT.OK;
        }
        for (const deployment of retired)
          printLine(
            `deployment ${deployment.id} of ${deployment.release}: ${deployment.phase}, previous slot ${deployment.fromSlot ?? '-'} stopped`,
          );
        for (const deployment of waiting)
          printLine(
            `deployment ${deployment.id} of ${deployment.release}: rollback window open until ${deployment.standbyUntil ?? '?'}; slot ${deployment.fromSlot ?? '-'} stays warm${plane.kind === 'server' ? ' (the server retires it then)' : ''}`,
          );
        if (retired.length === 0 && waiting.length === 0) printLine('nothing to retire');
        return EXIT.OK;
      }),
    );
}

function windowEnd(deployment: DeploymentRecord): number {
  return deployment.standbyUntil ? new Date(deployment.standbyUntil).getTime() : 0;
}
