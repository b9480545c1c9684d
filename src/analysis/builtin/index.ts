import type { SlotCounters } from '../../proxy/metrics.js';
import type { AnalysisFinding, AnalysisProvider, AnalysisRequest } from '../../shared/analysis.js';
import { CutoverError } from '../../shared/errors.js';
import type { Slot } from '../../shared/slot.js';
import { defineAnalysis } from '../descriptor.js';
import { compareSlots } from './compare-slots.js';
import { builtinAnalysisConfig, type BuiltinAnalysisConfig } from './config.js';
import { slotWindow } from './slot-window.js';

export const builtinAnalysis = defineAnalysis({
  kind: 'builtin',
  configSchema: builtinAnalysisConfig,
  create: (config, deps) => new BuiltinAnalysisProvider(config, deps.slotCounters),
});

/** Windows whose start snapshot is kept; older ones are forgotten (one provider lives one window). */
const MAX_WINDOWS_KEPT = 16;

/**
 * Reads the proxy's counters at each check and compares them with those read at the first
 * check of the same window: the difference is what each slot served during the window.
 */
class BuiltinAnalysisProvider implements AnalysisProvider {
  readonly name: string;
  /** The counters at each window's first check, by deployment, stage, step and window start. */
  private readonly starts = new Map<string, Record<Slot, SlotCounters>>();

  constructor(
    private readonly config: BuiltinAnalysisConfig,
    private readonly slotCounters: (() => Record<Slot, SlotCounters>) | undefined,
  ) {
    this.name = config.name ?? config.kind;
  }

  check(request: AnalysisRequest): Promise<AnalysisFinding> {
    if (this.slotCounters === undefined) {
      return Promise.reject(
        new CutoverError(
          'CUTOVER_E_ANALYSIS_PROVIDER',
          'the builtin analysis reads the builtin proxy’s counters, and the router is not the builtin one',
        ),
      );
    }
    const now = this.slotCounters();
    const key = [request.deploymentId, request.stage, request.step ?? '', request.window.start].join(' ');
    const start = this.starts.get(key);
    if (start === undefined) {
      if (this.starts.size >= MAX_WINDOWS_KEPT) this.starts.delete(this.starts.keys().next().value!);
      this.starts.set(key, now);
      return Promise.resolve({
        verdict: 'inconclusive',
        provider: this.name,
        measure: 'requests',
        observed: 0,
        threshold: this.config.minRequests,
        reason: "the window starts: the proxy's counters are read now, the next checks compare from here",
      });
    }
    const newer = {
      slot: request.newSlot,
      reading: slotWindow(start[request.newSlot], now[request.newSlot]),
    };
    const older =
      request.oldSlot === null
        ? null
        : { slot: request.oldSlot, reading: slotWindow(start[request.oldSlot], now[request.oldSlot]) };
    return Promise.resolve(compareSlots(this.name, newer, older, this.config));
  }
}
