import type { CutoverConfig } from '../config/schema.js';
import { CutoverError } from '../shared/errors.js';
import type { DeploymentEvents } from '../shared/events.js';
import type { Logger } from '../shared/logger.js';
import type { NotifierConfig } from './config.js';
import { DeliveryQueue } from './delivery.js';
import { notificationOf, type NotificationContext } from './notification.js';
import { readNotifierSecrets } from './notifier-files.js';
import { slackMessage } from './slack-message.js';

const RELEASES_REMEMBERED = 100;

interface Sink {
  readonly config: NotifierConfig;
  readonly queue: DeliveryQueue;
}

/**
 * Tells the configured receivers what the engine does. It listens to the event stream and only
 * enqueues, so no notifier can slow or fail a deployment; `close` flushes within a bound.
 */
export class Notifier {
  private readonly releases = new Map<string, string>();
  private readonly context: NotificationContext;
  private unsubscribe: (() => void) | undefined;

  private constructor(
    config: CutoverConfig,
    private readonly sinks: readonly Sink[],
    private readonly logger: Logger,
  ) {
    // The steps as configured: the 100% step the engine appends never waits at a gate.
    const steps = config.strategy.kind === 'shift' ? config.strategy.steps : [];
    this.context = {
      app: config.app,
      gateWeightAt: (step) => (steps[step]?.gate === 'manual' ? steps[step].weight : undefined),
      releaseOf: (id) => this.releases.get(id) ?? '',
    };
  }

  /** Reads each notifier's URL and key files now (loadConfig checked them too), so a file gone since fails here, named. */
  static fromConfig(config: CutoverConfig, logger: Logger, version: string): Notifier {
    const sinks = config.notifications.map((notifier, index) => {
      const name = notifier.name ?? `${notifier.kind}-${index + 1}`;
      const read = readNotifierSecrets(notifier, config.baseDir);
      if (!read.ok)
        throw new CutoverError(
          'CUTOVER_E_CONFIG',
          `notifications[${index}].${read.problem.key}: ${read.problem.message}`,
        );
      const queue = new DeliveryQueue(
        { name, timeoutMs: notifier.timeout, retries: notifier.retries, ...read.secrets },
        logger,
        `cutover/${version}`,
      );
      return { config: notifier, queue };
    });
    return new Notifier(config, sinks, logger);
  }

  get enabled(): boolean {
    return this.sinks.length > 0;
  }

  attach(events: DeploymentEvents): void {
    if (!this.enabled || this.unsubscribe) return;
    this.unsubscribe = events.subscribe((event) => {
      try {
        if (event.type === 'phase') this.remember(event.deploymentId, event.release);
        const notification = notificationOf(event, this.context);
        if (notification === undefined) return;
        const document = JSON.stringify(notification);
        for (const sink of this.sinks) {
          if (sink.config.events && !sink.config.events.includes(notification.event)) continue;
          sink.queue.enqueue(
            notification.event,
            sink.config.kind === 'slack' ? slackMessage(notification) : document,
          );
        }
      } catch (error) {
        // A listener must not throw into the engine's emit.
        this.logger.error('notification.error', {
          error: error instanceof Error ? error.message : String(error),
        });
      }
    });
  }

  /** Stops listening and gives what is queued one last attempt, within each notifier's timeout. */
  async close(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await Promise.all(this.sinks.map((sink) => sink.queue.close()));
  }

  private remember(deploymentId: string, release: string): void {
    this.releases.set(deploymentId, release);
    if (this.releases.size > RELEASES_REMEMBERED) this.releases.delete(this.releases.keys().next().value!);
  }
}
