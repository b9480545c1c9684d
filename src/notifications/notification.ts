import type { DeploymentEvent } from '../shared/events.js';
import type { Weights } from '../shared/slot.js';
import type { NotificationEventName } from './config.js';

/** The document a webhook receives (docs/notifications.md describes each field). */
export interface Notification {
  readonly version: 1;
  readonly event: NotificationEventName;
  readonly app: string;
  readonly deployment: { readonly id: string; readonly release: string; readonly phase: string };
  readonly at: string;
  readonly reason?: { readonly code: string; readonly message: string };
  readonly weights?: Weights;
  /** One line a person can read, the same that goes to Slack. */
  readonly summary: string;
}

export interface NotificationContext {
  readonly app: string;
  /** The new release's weight at a shift step that waits at a manual gate; else undefined. */
  readonly gateWeightAt: (step: number) => number | undefined;
  /** The release of a deployment (a weights event does not carry it); '' when not known. */
  readonly releaseOf: (deploymentId: string) => string;
}

/**
 * The notification an engine event stands for, if any. A gate is a phase (awaiting-promotion)
 * or a shift step with `gate: manual`; a user's abort says `aborted`, any other abort `failed`.
 */
export function notificationOf(
  event: DeploymentEvent,
  context: NotificationContext,
): Notification | undefined {
  const { app } = context;
  if (event.type === 'weights') {
    const onNew = context.gateWeightAt(event.step);
    // A first deploy takes all traffic in one step (nothing to share it with): no gate then.
    if (onNew === undefined || Math.max(event.weights.blue, event.weights.green) === 100) return undefined;
    const release = context.releaseOf(event.deploymentId);
    return {
      version: 1,
      event: 'gate',
      app,
      deployment: { id: event.deploymentId, release, phase: 'shifting' },
      at: event.at,
      weights: event.weights,
      summary: `${app}: ${release || 'the new release'} takes ${onNew}% and waits for \`cutover promote\``,
    };
  }
  if (event.type !== 'phase') return undefined;
  const name = eventNameOf(event.phase, event.reason?.code);
  if (name === undefined) return undefined;
  return {
    version: 1,
    event: name,
    app,
    deployment: { id: event.deploymentId, release: event.release, phase: event.phase },
    at: event.at,
    ...(event.reason ? { reason: event.reason } : {}),
    summary: summaryOf(app, name, event.release, event.reason?.message),
  };
}

function eventNameOf(phase: string, reasonCode: string | undefined): NotificationEventName | undefined {
  switch (phase) {
    case 'provisioning':
      return 'started';
    case 'awaiting-promotion':
      return 'gate';
    case 'promoted':
      return 'promoted';
    case 'rolled-back':
      return 'rolled-back';
    case 'aborted':
      return reasonCode === 'CUTOVER_E_ABORTED' ? 'aborted' : 'failed';
    default:
      return undefined;
  }
}

function summaryOf(app: string, name: NotificationEventName, release: string, reason?: string): string {
  const because = reason ? `: ${reason}` : '';
  switch (name) {
    case 'started':
      return `${app}: deploying ${release}`;
    case 'gate':
      return `${app}: ${release} is ready and waits for \`cutover promote\``;
    case 'promoted':
      return `${app}: ${release} is live`;
    case 'rolled-back':
      return `${app}: ${release} was rolled back${because}`;
    case 'aborted':
      return `${app}: deployment of ${release} aborted${because}`;
    case 'failed':
      return `${app}: deployment of ${release} failed${because}`;
  }
}
