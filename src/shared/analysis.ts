/**
 * The analysis step: while a shift step pauses and during the bake period after promotion, the
 * engine asks each configured provider whether the new release is worse than what it replaces.
 * A provider only measures and judges; what a verdict leads to (an automatic rollback through the
 * journaled rollback, a manual gate) is the engine's business (engine/analysis-watch.ts).
 */
import type { Slot } from './slot.js';

/** `inconclusive`: the provider could not tell (too little traffic, its source unreachable). */
export const VERDICTS = ['pass', 'fail', 'inconclusive'] as const;
export type Verdict = (typeof VERDICTS)[number];

/**
 * When a provider is asked: during a shift step's pause (or gate), the bake after promotion, or
 * the shadow comparison before any traffic moves (analysis.shadow).
 */
export type AnalysisStage = 'shadow' | 'shift' | 'bake';

/** What a provider is asked about: the deployment, its slots and the window to look at. */
export interface AnalysisRequest {
  readonly deploymentId: string;
  readonly app: string;
  readonly release: string;
  /** The slot of the new release. */
  readonly newSlot: Slot;
  /** The slot of the release it replaces (null on a first deploy). */
  readonly oldSlot: Slot | null;
  readonly oldRelease: string | null;
  readonly stage: AnalysisStage;
  /** The shift step (0-based) during a shift; absent during the bake. */
  readonly step?: number;
  /** Where the window being judged starts and ends (ISO 8601): the stage's start, and now. */
  readonly window: { readonly start: string; readonly end: string };
  /** Cut short when the run stops, or a rollback or abort is asked meanwhile. */
  readonly signal: AbortSignal;
}

/**
 * One provider's answer. `measure`, `observed` and `threshold` are what the record, the event
 * stream, `status` and `history` show: `observed` against `threshold` is why the verdict is what it is.
 */
export interface AnalysisFinding {
  readonly verdict: Verdict;
  /** The provider's name in the config (its kind unless it was given a `name`). */
  readonly provider: string;
  /** What was measured: "alarm state", "error rate" … */
  readonly measure: string;
  readonly observed: string | number | null;
  readonly threshold: string | number | null;
  /** What was looked at when it has a name of its own: the alarm's name, a query. */
  readonly subject?: string;
  /** A sentence for people: the alarm's StateReason, "12 requests, fewer than minRequests 50" … */
  readonly reason: string;
}

/**
 * One analysis provider, made from its `analysis.providers[]` entry by its descriptor. `check`
 * answers for the window of the request; a provider that cannot reach its source rejects (a
 * CutoverError with code CUTOVER_E_ANALYSIS_PROVIDER): the engine turns that into `inconclusive`,
 * never into `fail`.
 */
export interface AnalysisProvider {
  readonly name: string;
  check(request: AnalysisRequest): Promise<AnalysisFinding>;
  /** Lets go of clients and sockets; safe to call twice. */
  close?(): void;
}

/** One line naming the provider, what it measured, the observed value and the threshold. */
export function describeFinding(finding: AnalysisFinding): string {
  const observed = finding.observed === null ? '' : `${finding.measure}: ${String(finding.observed)}`;
  const threshold = finding.threshold === null ? '' : `threshold ${String(finding.threshold)}`;
  const values = observed || threshold ? ` (${[observed, threshold].filter(Boolean).join(', ')})` : '';
  return `${finding.provider}: ${finding.reason}${values}`;
}
