import type { EngineContext } from './engine-context.js';
import { sleep } from './gate.js';
import type { Slot } from '../shared/slot.js';

const DRAIN_POLL_MS = 100;

export interface DrainResult {
  /** What was still open on the slot when the deadline came (0 and 0 when it drained). */
  readonly inFlight: number;
  readonly connections: number;
  readonly counted: boolean;
}

/**
 * The one drain routine (promote drains the old slot; abort and rollback drain the new one):
 * tell the router to drain, then wait until nothing is in flight or the deadline passes, by the
 * engine's clock. A router that cannot count waits out the deadline: nothing is cut early.
 */
export async function drainSlot(
  ctx: EngineContext,
  slot: Slot,
  deadline: Date,
  signal: AbortSignal,
): Promise<DrainResult> {
  await ctx.router.drain(slot, { deadline });
  for (;;) {
    const status = await ctx.router.drainStatus(slot);
    if (status.kind === 'counted' && status.inFlight === 0 && status.connections === 0) {
      return { inFlight: 0, connections: 0, counted: true };
    }
    const left = deadline.getTime() - ctx.now().getTime();
    if (left <= 0) {
      return status.kind === 'counted'
        ? { inFlight: status.inFlight, connections: status.connections, counted: true }
        : { inFlight: 0, connections: 0, counted: false };
    }
    await sleep(status.kind === 'unknown' ? left : Math.min(DRAIN_POLL_MS, left), signal);
  }
}

/**
 * Drains a slot that no longer carries traffic, stops its instances and forgets them in the
 * router. Idempotent; does nothing if a newer move made the slot live again meanwhile.
 */
export async function retireSlot(ctx: EngineContext, slot: Slot, signal: AbortSignal): Promise<boolean> {
  const { config, platform, traffic, router } = ctx;
  if (await carriesTraffic(ctx, slot)) return false;
  const deadline = new Date(ctx.now().getTime() + config.drain.timeout);
  const left = await drainSlot(ctx, slot, deadline, signal);
  if (left.inFlight + left.connections > 0) {
    ctx.logger.warn('drain.deadline', { slot, inFlight: left.inFlight, connections: left.connections });
  }
  if (await carriesTraffic(ctx, slot)) return false;
  await platform.stop(slot, { graceMs: platform.describe().stopGraceMs });
  await traffic.setTargets(slot, [], undefined, undefined, { signal });
  await router.cleanup(slot);
  return true;
}

async function carriesTraffic(ctx: EngineContext, slot: Slot): Promise<boolean> {
  const now = await ctx.traffic.current();
  return now.liveSlot === slot || (now.liveSlot !== null && now.weights[slot] > 0);
}
