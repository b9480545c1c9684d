import { EventEmitter } from 'node:events';
import type { HealthCheckConfig } from '../config/schema.js';
import type { Target } from '../shared/slot.js';
import { probe } from './probe.js';

export interface HealthMonitorEvents {
  /** A target failed `unhealthyThreshold` probes in a row (emitted once until it recovers). */
  unhealthy: [target: Target, detail: string];
  /** An unhealthy target passed `healthyThreshold` probes in a row again. */
  recovered: [target: Target, detail: string];
}

export interface MonitoredTarget {
  readonly target: Target;
  readonly healthy: boolean;
  readonly consecutiveFailures: number;
  readonly consecutivePasses: number;
  readonly lastDetail: string;
}

interface TargetState {
  target: Target;
  healthy: boolean;
  consecutiveFailures: number;
  consecutivePasses: number;
  lastDetail: string;
}

/**
 * Keeps probing a live slot every `interval` (the first round at once). Targets start out
 * healthy: they passed their gate before going live. Rounds never overlap; stop() cancels the
 * timer and the probes in flight, and no event is emitted after it.
 */
export class HealthMonitor extends EventEmitter<HealthMonitorEvents> {
  private readonly states: TargetState[];
  private timer: NodeJS.Timeout | undefined;
  private probes: AbortController | undefined;
  private round: Promise<void> = Promise.resolve();
  private running = false;
  /** Bumped by start(): a round from before a stop() and restart does not schedule another. */
  private generation = 0;

  constructor(
    targets: readonly Target[],
    private readonly check: HealthCheckConfig,
  ) {
    super();
    this.states = targets.map((target) => ({
      target,
      healthy: true,
      consecutiveFailures: 0,
      consecutivePasses: 0,
      lastDetail: 'not probed yet',
    }));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.generation += 1;
    this.schedule(0);
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.probes?.abort();
  }

  /** Resolves once no round is in flight (after stop(), nothing is left running). */
  idle(): Promise<void> {
    return this.round;
  }

  status(): MonitoredTarget[] {
    return this.states.map((state) => ({ ...state }));
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.round = this.probeAll(this.generation);
    }, delayMs);
  }

  private async probeAll(generation: number): Promise<void> {
    const probes = new AbortController();
    this.probes = probes;
    const results = await Promise.all(
      this.states.map((state) => probe(state.target, this.check, { signal: probes.signal })),
    );
    if (!this.running || generation !== this.generation) return;
    const events: (() => void)[] = [];
    this.states.forEach((state, i) => {
      const result = results[i]!;
      state.lastDetail = result.detail;
      if (result.healthy) {
        state.consecutivePasses += 1;
        state.consecutiveFailures = 0;
        if (!state.healthy && state.consecutivePasses >= this.check.healthyThreshold) {
          state.healthy = true;
          events.push(() => this.emit('recovered', state.target, result.detail));
        }
      } else {
        state.consecutiveFailures += 1;
        state.consecutivePasses = 0;
        if (state.healthy && state.consecutiveFailures >= this.check.unhealthyThreshold) {
          state.healthy = false;
          events.push(() => this.emit('unhealthy', state.target, result.detail));
        }
      }
    });
    this.schedule(this.check.interval);
    // Listeners run outside this promise chain, as with any emitter: their errors are theirs.
    for (const event of events) {
      process.nextTick(() => {
        if (this.running && generation === this.generation) event();
      });
    }
  }
}
