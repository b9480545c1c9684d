import type { AnalysisFinding, AnalysisProvider, AnalysisRequest } from '../../shared/analysis.js';
import { CutoverError } from '../../shared/errors.js';
import type { Slot } from '../../shared/slot.js';
import type { SlotTraffic, SlotTrafficSource } from '../../shared/slot-traffic.js';
import { compareSlots } from './compare-slots.js';
import type { BuiltinAnalysisConfig } from './config.js';
import { slotWindow } from './slot-window.js';

/** Windows whose start snapshot is kept; older ones are forgotten (one provider lives one window). */
const MAX_WINDOWS_KEPT = 16;

/**
 * Reads the router's counters at each check and compares them with those read at the first
 * check of the same window: the difference is what each slot served during the window.
 */
export class BuiltinAnalysisProvider implements AnalysisProvider {
  readonly name: string;
  /** The counters at each window's first check, by deployment, stage, step and window start. */
  private readonly starts = new Map<string, Record<Slot, SlotTraffic>>();

  constructor(
    private readonly config: BuiltinAnalysisConfig,
    private readonly traffic: SlotTrafficSource | undefined,
  ) {
    this.name = config.name ?? config.kind;
  }

  async check(request: AnalysisRequest): Promise<AnalysisFinding> {
    if (this.traffic === undefined) {
      throw new CutoverError(
        'CUTOVER_E_ANALYSIS_PROVIDER',
        'the builtin analysis reads the router’s per-slot counters, and this router keeps none (routers builtin and haproxy do)',
      );
    }
    const now = await this.readCounters(this.traffic);
    const key = [request.deploymentId, request.stage, request.step ?? '', request.window.start].join(' ');
    const start = this.starts.get(key);
    if (start === undefined) {
      if (this.starts.size >= MAX_WINDOWS_KEPT) this.starts.delete(this.starts.keys().next().value!);
      this.starts.set(key, now);
      return {
        verdict: 'inconclusive',
        provider: this.name,
        measure: 'requests',
        observed: 0,
        threshold: this.config.minRequests,
        reason: `the window starts: the ${this.traffic.name}'s counters are read now, the next checks compare from here`,
      };
    }
    const newer = {
      slot: request.newSlot,
      reading: slotWindow(start[request.newSlot], now[request.newSlot]),
    };
    const older =
      request.oldSlot === null
        ? null
        : { slot: request.oldSlot, reading: slotWindow(start[request.oldSlot], now[request.oldSlot]) };
    return compareSlots(this.name, newer, older, this.config);
  }

  /** A router that cannot be read is a provider error (inconclusive), never a failed verdict. */
  private async readCounters(traffic: SlotTrafficSource): Promise<Record<Slot, SlotTraffic>> {
    try {
      return await traffic.read();
    } catch (error) {
      throw new CutoverError(
        'CUTOVER_E_ANALYSIS_PROVIDER',
        `the ${traffic.name}'s counters could not be read: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
  }
}
