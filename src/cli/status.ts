import type { Command } from 'commander';
import type { EngineStatus } from '../engine/deployment-engine.js';
import { EXIT } from '../shared/errors.js';
import { verb, type CommonOptions } from './cli-context.js';
import { controlPlaneFor } from './control-plane.js';
import { withInProcessEngine } from './in-process-engine.js';
import { printJson, printLine } from './output.js';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show the live slot, the traffic split, instances and the deployment in progress')
    .action(
      verb(async (mode, options: CommonOptions) => {
        const plane = controlPlaneFor(options);
        const status =
          plane.kind === 'server'
            ? await plane.client.request<EngineStatus>('GET', '/v1/status')
            : await withInProcessEngine(plane.config, { verb: 'status', drive: false }, (session) =>
                session.engine.status(),
              );
        if (mode.json) {
          printJson(status);
          return EXIT.OK;
        }
        const { routing } = status;
        printLine(`app ${status.app}`);
        printLine(
          `live slot: ${routing.liveSlot ?? 'none'}   traffic: blue ${routing.weights.blue}% / green ${routing.weights.green}%`,
        );
        const { verification } = status;
        printLine(
          verification.verified
            ? `verified: yes (read back from the router at ${verification.at ?? '?'})`
            : `verified: no, ${verification.state}: ${verification.reason ?? ''}`,
        );
        for (const slot of ['blue', 'green'] as const) {
          const endpoint = routing.endpoints?.[slot];
          if (endpoint) printLine(`${slot.padEnd(6)} endpoint ${endpoint.kind} ${endpoint.id}`);
        }
        for (const slot of ['blue', 'green'] as const) {
          const instances = status.instances[slot];
          const release = routing.releases[slot] ?? instances[0]?.release ?? '-';
          printLine(
            `${slot.padEnd(6)} release ${release.padEnd(16)} ${instances.length} instance(s) ${instances.map((i) => `${i.host}:${i.port}`).join(' ')}`,
          );
        }
        for (const deployment of status.active) {
          const until =
            deployment.standbyUntil && deployment.phase === 'standby'
              ? ` (rollback window until ${deployment.standbyUntil})`
              : deployment.bakeUntil && deployment.phase === 'promoted'
                ? ` (baking until ${deployment.bakeUntil}: a failed analysis rolls back)`
                : '';
          printLine(`deployment ${deployment.id} of ${deployment.release}: ${deployment.phase}${until}`);
        }
        if (status.lease) printLine(`lock: ${status.lease.owner} until ${status.lease.expiresAt}`);
        return EXIT.OK;
      }),
    );
}
