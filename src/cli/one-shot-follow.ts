import { asCutoverError, CutoverError } from '../shared/errors.js';
import { isTerminal, type Phase } from '../shared/phase.js';
import type { DeploymentRecord } from '../shared/store.js';
import type { DeploymentView } from './deployment-view.js';
import type { InProcessEngine } from './in-process-engine.js';
import { printLine } from './output.js';

/**
 * Where a one-shot CLI stops following a deployment: finished, waiting for an operator's
 * `cutover promote`, or in standby with the old slot warm (the rollback window needs no process:
 * `cutover retire` or the next deploy ends it). A first deploy has no old slot: it goes on to retired.
 */
export function isResting(record: DeploymentRecord): boolean {
  return (
    isTerminal(record.phase) ||
    record.phase === 'awaiting-promotion' ||
    (record.phase === 'standby' && record.fromSlot !== null)
  );
}

/** What a followed deployment came to rest at. */
export interface Rested {
  readonly record: DeploymentRecord;
  /** It waits at a manual gate (awaiting-promotion, or a shift step with `gate: manual`). */
  readonly atGate: boolean;
}

/**
 * The run says so when it stops at a manual gate (before promotion, or at a manual shift step);
 * the message is the only sign of the second one, whose phase stays `shifting`.
 */
const GATE_MESSAGE = /waiting for `cutover promote`/;

/**
 * Waits on an in-process deployment until it rests, showing its events. `pastGate`: the caller
 * just opened the gate it was waiting at, so only a later gate counts as a resting point.
 */
export function followInProcess(
  session: InProcessEngine,
  id: string,
  view: DeploymentView | undefined,
  options: { pastGate?: boolean } = {},
): Promise<Rested> {
  const { engine, store } = session;
  // The phase last read, for the message of an interrupted wait (which cannot wait on the store).
  let lastPhase: Phase | undefined;
  const record = async (): Promise<DeploymentRecord> => {
    const found = await store.getDeployment(id);
    if (!found) throw new Error(`deployment ${id} vanished from the store`);
    lastPhase = found.phase;
    return found;
  };
  const rested = new Promise<Rested>((resolve, reject) => {
    let unsubscribe = (): void => undefined;
    let settled = false;
    const done = (final: DeploymentRecord, atGate: boolean): void => {
      if (settled) return;
      settled = true;
      unsubscribe();
      resolve({ record: final, atGate });
    };
    const fail = (error: unknown): void => {
      if (settled) return;
      settled = true;
      unsubscribe();
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    // A run moving traffic back retries until the router verifies the move, which may be never
    // (a Route 53 change that does not sync): its first failed attempt ends the wait, as it ends
    // `cutover abort`'s, and the run stays journaled for the next command.
    let unwindWatched = false;
    const watchUnwind = (now: DeploymentRecord): void => {
      if (unwindWatched || (now.phase !== 'aborting' && now.phase !== 'rolling-back')) return;
      const unwound = engine.unwinding(id);
      if (unwound === undefined) return;
      unwindWatched = true;
      // Its success is not the end: an abort is announced once the new slot is stopped.
      unwound.then(
        () => undefined,
        (error: unknown) => fail(stillUnwinding(now, error)),
      );
    };
    const check = (): void => {
      record()
        .then((now) => {
          if (now.phase === 'awaiting-promotion' && options.pastGate === true) return;
          if (isResting(now)) done(now, now.phase === 'awaiting-promotion');
          else watchUnwind(now);
        })
        .catch(fail);
    };
    for (const event of engine.events.history(id)) view?.update(event);
    unsubscribe = engine.events.subscribe((event) => {
      if (event.deploymentId !== id) return;
      view?.update(event);
      if (event.type === 'message' && GATE_MESSAGE.test(event.message))
        record()
          .then((now) => done(now, true))
          .catch(fail);
      else if (event.type === 'phase') check();
    });
    const running = engine.finished(id);
    running?.then((final) => done(final, false), fail);
    check();
    if (running === undefined) {
      // No run drives it here: the engine refused to resume it (the app's lease was held by
      // another deployment or process), so no event would ever come.
      const refuse = async (): Promise<void> => {
        const now = await record();
        if (isResting(now)) return;
        const holder = await store.getLease(session.config.app);
        fail(
          new CutoverError(
            'CUTOVER_E_LOCKED',
            `deployment ${id} (${now.phase}) is not run by this command: the engine did not resume it because the app's lease was held${holder ? ` by ${holder.owner}` : ''}; run the command again once that holder is done, or see \`cutover status\``,
            { details: { deployment: id, phase: now.phase, holder: holder?.owner ?? null } },
          ),
        );
      };
      refuse().catch(fail);
    }
  });
  return session.untilInterrupted(rested, () => `while deployment ${id} was ${lastPhase ?? 'starting'}`);
}

/** Why a followed run that is moving traffic back was left retrying: its attempt's error, and where it stands. */
function stillUnwinding(record: DeploymentRecord, error: unknown): CutoverError {
  const failure = asCutoverError(error);
  const failed = record.reason === null ? '' : ` (it failed: ${record.reason.message})`;
  return new CutoverError(
    failure.code,
    `deployment ${record.id} of ${record.release} is still ${record.phase}${failed}: moving traffic back to ${record.fromSlot ?? 'no slot'} failed: ${failure.message}; it stays journaled, and the next \`cutover deploy\`, \`abort\`, \`rollback\`, \`promote\` or \`retire\` (or a \`cutover server\`) tries the move again; \`cutover status\` shows where it stands`,
    {
      cause: failure,
      details: { ...failure.details, deployment: record.id, phase: record.phase, reason: record.reason },
    },
  );
}

/**
 * Deployments the session resumed from the journal (a one-shot CLI or a server stopped in the
 * middle) are followed until they rest, before the verb does its own work; except one in the
 * `leave` phase, which the verb itself takes up.
 */
export async function settleResumed(
  session: InProcessEngine,
  newView: () => DeploymentView | undefined,
  options: { leave?: Phase } = {},
): Promise<void> {
  for (const deployment of await session.store.unfinishedDeployments(session.config.app)) {
    if (isResting(deployment) || deployment.phase === options.leave) continue;
    const view = newView();
    if (view)
      printLine(`resuming deployment ${deployment.id} of ${deployment.release} from ${deployment.phase}`);
    const final = await followInProcess(session, deployment.id, view);
    view?.finish(final.record);
  }
}
