/**
 * The measurements of one window (a shift step's pause, the bake) and the window's verdict from
 * them, as Argo Rollouts counts an analysis run: more failed measurements than `failureLimit`
 * fails; more inconclusive ones than `inconclusiveLimit` is inconclusive; a window with no
 * measurement that passed is inconclusive (nothing has shown the release good yet); otherwise pass.
 * Measurements are taken one `interval` apart, the first one interval into the window (so a
 * rate over `{{window}}` has scrapes to work on), `count` at most.
 */
import type { Verdict } from '../../shared/analysis.js';
import type { Measurement } from './measurement.js';

export interface TallyLimits {
  readonly intervalMs: number;
  readonly count: number | undefined;
  readonly failureLimit: number;
  readonly inconclusiveLimit: number;
}

export interface WindowVerdict {
  readonly verdict: Verdict;
  /** The measurement the verdict rests on (the latest failed one for a fail); none before the first. */
  readonly measurement: Measurement | undefined;
  readonly reason: string;
}

export class WindowTally {
  private readonly taken: Measurement[] = [];

  constructor(private readonly limits: TallyLimits) {}

  /** Whether a measurement is due in a window this old. */
  due(windowAgeMs: number): boolean {
    const next = this.taken.length + 1;
    if (this.limits.count !== undefined && next > this.limits.count) return false;
    return windowAgeMs >= next * this.limits.intervalMs;
  }

  add(measurement: Measurement): void {
    this.taken.push(measurement);
  }

  verdict(): WindowVerdict {
    const { failureLimit, inconclusiveLimit } = this.limits;
    const count = (verdict: Verdict) => this.taken.filter((m) => m.verdict === verdict).length;
    const failures = count('fail');
    const inconclusives = count('inconclusive');
    const taken = this.taken.length;
    const latest = this.taken[taken - 1];
    const tally = `${taken} measurement(s): ${count('pass')} passed, ${failures} failed, ${inconclusives} inconclusive`;
    if (failures > failureLimit) {
      const failed = this.taken.filter((m) => m.verdict === 'fail').at(-1)!;
      return {
        verdict: 'fail',
        measurement: failed,
        reason: `${failed.reason}; ${tally} (failureLimit ${failureLimit})`,
      };
    }
    if (latest === undefined) {
      return {
        verdict: 'inconclusive',
        measurement: undefined,
        reason: `no measurement yet: the first is taken once the window is ${this.limits.intervalMs} ms old`,
      };
    }
    if (inconclusives > inconclusiveLimit) {
      const last = this.taken.filter((m) => m.verdict === 'inconclusive').at(-1)!;
      return {
        verdict: 'inconclusive',
        measurement: last,
        reason: `${last.reason}; ${tally} (inconclusiveLimit ${inconclusiveLimit})`,
      };
    }
    if (count('pass') === 0) {
      return {
        verdict: 'inconclusive',
        measurement: latest,
        reason: `${latest.reason}; ${tally}, none passed yet`,
      };
    }
    return { verdict: 'pass', measurement: latest, reason: `${latest.reason}; ${tally}` };
  }
}
