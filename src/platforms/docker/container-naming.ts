import type { Slot } from '../../shared/slot.js';

/** Labels on every container (and built image) cutover manages; how reconcile finds them again. */
export const LABEL = {
  app: 'io.cutover.app',
  slot: 'io.cutover.slot',
  release: 'io.cutover.release',
  instance: 'io.cutover.instance',
} as const;

/** Stable and unique per app, so a rerun finds (never duplicates) a container: `<app>-<slot>-<index>`. */
export function containerName(app: string, slot: Slot, index: number): string {
  return `${app}-${slot}-${index}`;
}

/** The instance id the router and the store see; the same shape as the process platform's. */
export function instanceId(slot: Slot, index: number, release: string): string {
  return `${slot}-${index}-${release}`;
}

export function containerLabels(
  app: string,
  slot: Slot,
  release: string,
  index: number,
  extra: Readonly<Record<string, string>>,
): Record<string, string> {
  // cutover's own labels last: a configured label cannot pretend to be another slot's.
  return {
    ...extra,
    [LABEL.app]: app,
    [LABEL.slot]: slot,
    [LABEL.release]: release,
    [LABEL.instance]: String(index),
  };
}

/** A list filter for the app's containers, or one slot's. */
export function labelFilter(app: string, slot?: Slot): { label: string[] } {
  const label = [`${LABEL.app}=${app}`];
  if (slot) label.push(`${LABEL.slot}=${slot}`);
  return { label };
}
