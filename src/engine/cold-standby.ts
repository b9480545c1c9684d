/**
 * The old slot's cold standby, for platforms that offer one (Platform.coldStandby): parked once
 * it has drained, brought back before a rollback moves any traffic. What the slot had is
 * journaled before it is parked (write-ahead), so a run killed between the journal entry and
 * the park, or halfway through a rollback's unpark, converges on a rerun from the same record.
 */
import type { EngineContext } from './engine-context.js';
import type { ParkedCapacity } from '../shared/platform.js';
import type { Slot } from '../shared/slot.js';
import type { DeploymentRecord, Store } from '../shared/store.js';

/** The journal entry's key: `{ parking: slot, capacity }`. */
const PARKING = 'parking';

/** What the deployment journaled for `slot` before parking it; undefined: never parked. */
export async function parkedCapacity(
  store: Store,
  deploymentId: string,
  slot: Slot,
): Promise<ParkedCapacity | undefined> {
  const entry = (await store.journal(deploymentId)).find(
    (found) => found.data[PARKING] === slot && typeof found.data.capacity === 'object',
  );
  return entry?.data.capacity as ParkedCapacity | undefined;
}

/** Parks the drained old slot, journaling its capacity first (once: a rerun reuses the entry). */
export async function parkOldSlot(ctx: EngineContext, record: DeploymentRecord): Promise<boolean> {
  const standby = ctx.platform.coldStandby;
  const slot = record.fromSlot;
  if (standby === undefined || slot === null) return false;
  if ((await parkedCapacity(ctx.store, record.id, slot)) === undefined) {
    const capacity = await standby.capacity(slot);
    await ctx.store.update(record.id, {}, { [PARKING]: slot, capacity });
  }
  await standby.park(slot);
  ctx.logger.info('deployment.slot-parked', { deployment: record.id, slot });
  return true;
}

/** Restores the old slot's journaled capacity and waits until it serves; nothing if never parked. */
export async function unparkOldSlot(
  ctx: EngineContext,
  record: DeploymentRecord,
  signal: AbortSignal,
): Promise<boolean> {
  const standby = ctx.platform.coldStandby;
  const slot = record.fromSlot;
  if (standby === undefined || slot === null) return false;
  const capacity = await parkedCapacity(ctx.store, record.id, slot);
  if (capacity === undefined) return false;
  await standby.unpark(slot, capacity, { signal });
  ctx.logger.info('deployment.slot-unparked', { deployment: record.id, slot });
  return true;
}
