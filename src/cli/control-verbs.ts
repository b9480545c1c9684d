import type { Command } from 'commander';
import type { CutoverConfig } from '../config/schema.js';
import { EXIT } from '../shared/errors.js';
import type { DeploymentRecord } from '../shared/store.js';
import { actor, verb, type CommonOptions } from './cli-context.js';
import { controlPlaneFor } from './control-plane.js';
import { DeploymentView } from './deployment-view.js';
import { withInProcessEngine, type InProcessEngine } from './in-process-engine.js';
import { followInProcess, settleResumed } from './one-shot-follow.js';
import { printJson, printLine, type OutputMode } from './output.js';

/** promote, rollback and abort: one admin call each, with the same shape. */
const CONTROL_VERBS = {
  promote: 'open the manual gate of the deployment in progress (awaiting-promotion or a manual shift step)',
  rollback: 'move traffic back to the previous slot, still warm inside the rollback window',
  abort: 'abort a deployment before promotion; traffic stays on (or returns to) the old slot',
} as const;

type ControlVerb = keyof typeof CONTROL_VERBS;

export function registerControlVerbs(program: Command): void {
  for (const [name, description] of Object.entries(CONTROL_VERBS) as [ControlVerb, string][]) {
    program
      .command(name)
      .description(description)
      .argument('[deployment]', 'deployment id (default: the one in progress)')
      .action(
        verb(async (mode, deploymentId: string | undefined, options: CommonOptions) => {
          const plane = controlPlaneFor(options);
          let deployment: DeploymentRecord;
          if (plane.kind === 'server') {
            ({ deployment } = await plane.client.request<{ deployment: DeploymentRecord }>(
              'POST',
              `/v1/${name}`,
              {
                ...(deploymentId ? { deployment: deploymentId } : {}),
                requestedBy: actor(),
              },
            ));
          } else {
            deployment = await controlInProcess(plane.config, mode, name, deploymentId);
          }
          // A promotion in one-shot mode runs the deployment on to standby: it can still fail.
          const ok = name !== 'promote' || plane.kind === 'server' || !failed(deployment);
          if (mode.json) printJson({ ok, deployment });
          else
            printLine(`${name}: deployment ${deployment.id} of ${deployment.release} is ${deployment.phase}`);
          return ok ? EXIT.OK : EXIT.DEPLOY_FAILED;
        }),
      );
  }
}

/**
 * abort() and rollback() resolve once traffic is back; the run then drains and stops the new
 * slot. Closing the session now would cut that short (the next command would stop the slot), so
 * the CLI waits for it, as `deploy` waits for standby. What the verb did is already done: the
 * record returned is the final phase's.
 */
async function untilSlotStopped(
  session: InProcessEngine,
  record: DeploymentRecord,
  name: 'abort' | 'rollback',
): Promise<DeploymentRecord> {
  const finished = session.engine.finished(record.id);
  if (!finished) return record;
  return session.untilInterrupted(
    finished,
    () => `while ${record.toSlot} (${record.release}) drained and stopped after the ${name}`,
  );
}

function failed(record: DeploymentRecord): boolean {
  return record.phase === 'aborted' || record.phase === 'rolled-back';
}

/** One-shot mode: the engine in this process carries out the verb, against the same store and lease. */
function controlInProcess(
  config: CutoverConfig,
  mode: OutputMode,
  name: ControlVerb,
  id: string | undefined,
): Promise<DeploymentRecord> {
  const newView = (): DeploymentView | undefined => (mode.json ? undefined : new DeploymentView(mode.tty));
  return withInProcessEngine(config, { verb: name, drive: true }, async (session: InProcessEngine) => {
    const { engine } = session;
    switch (name) {
      case 'abort': {
        // An interrupted deployment is aborted where it stands, not first driven on.
        const aborted = await session.untilInterrupted(
          engine.abort(actor(), id),
          () => 'while the abort was under way',
        );
        return untilSlotStopped(session, aborted, 'abort');
      }
      case 'rollback': {
        // An interrupted rollback is not followed here: engine.rollback() joins its run.
        await settleResumed(session, newView, { leave: 'rolling-back' });
        const rolledBack = await session.untilInterrupted(
          engine.rollback(actor(), id),
          () => 'while the rollback was under way',
        );
        return untilSlotStopped(session, rolledBack, 'rollback');
      }
      case 'promote': {
        await settleResumed(session, newView);
        const promoted = await engine.promote(actor(), id);
        return (await followInProcess(session, promoted.id, newView(), { pastGate: true })).record;
      }
    }
  });
}
