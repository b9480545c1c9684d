import { EventEmitter } from 'node:events';
import type { AnalysisFinding, AnalysisStage } from './analysis.js';
import type { Phase } from './phase.js';
import type { Weights } from './slot.js';

/** What the engine tells the world; the SSE stream, the CLI progress view and logs reuse it. */
export type DeploymentEvent =
  | {
      type: 'phase';
      deploymentId: string;
      phase: Phase;
      release: string;
      at: string;
      reason?: { code: string; message: string };
    }
  | { type: 'health'; deploymentId: string; at: string; healthy: number; total: number; detail: string }
  | { type: 'weights'; deploymentId: string; at: string; weights: Weights; step: number }
  | { type: 'message'; deploymentId: string; at: string; level: 'info' | 'warn' | 'error'; message: string }
  /** One provider's answer during a shift step (`step` set) or the bake after promotion. */
  | {
      type: 'analysis';
      deploymentId: string;
      at: string;
      stage: AnalysisStage;
      step?: number;
      finding: AnalysisFinding;
    }
  /**
   * Reading the router back after a move found something other than a plain match: it is still
   * settling (`converging`: `detail` says what it shows now), it settled after that wait
   * (`settled`), or it cannot read its data plane back (`unverifiable`: `detail` says why).
   * `deploymentId` is null for a move outside any deployment (the routing restored at start-up).
   */
  | {
      type: 'read-back';
      deploymentId: string | null;
      at: string;
      state: 'converging' | 'settled' | 'unverifiable';
      weights: Weights;
      detail: string;
    };

type EventListener = (event: DeploymentEvent) => void;

/** A small typed bus; listeners must not throw (a throwing listener is logged by the caller). */
export class DeploymentEvents {
  private readonly emitter = new EventEmitter();
  private readonly recent: DeploymentEvent[] = [];

  constructor(private readonly keepRecent = 500) {
    this.emitter.setMaxListeners(0);
  }

  emit(event: DeploymentEvent): void {
    this.recent.push(event);
    if (this.recent.length > this.keepRecent) this.recent.shift();
    this.emitter.emit('event', event);
  }

  subscribe(listener: EventListener): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  /** Events kept in memory for late subscribers (e.g. a CLI that attaches after the deploy started). */
  history(deploymentId?: string): DeploymentEvent[] {
    return deploymentId
      ? this.recent.filter((event) => event.deploymentId === deploymentId)
      : [...this.recent];
  }
}
