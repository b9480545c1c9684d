/**
 * Whether a group serves at a balancer: every instance the group needs is InService in the group
 * AND healthy at the balancer. A group with no instance never serves (invariant 1: traffic only
 * goes where instances passed their checks).
 */
import type { GroupFacts } from './auto-scaling-groups.js';
import type { BalancerHealth } from './balancer-attachment.js';

export interface GroupServing {
  readonly serving: boolean;
  /** What the balancer shows, for `converging` and for error messages. */
  readonly seen: string;
}

/** How many instance ids a message lists before it says "…". */
const LISTED = 5;

export function groupServing(
  group: GroupFacts,
  health: ReadonlyMap<string, BalancerHealth>,
  balancerLabel: string,
): GroupServing {
  const needed = Math.max(1, group.desiredCapacity);
  const inService = group.inServiceInstanceIds;
  const notHealthy = inService.filter((id) => health.get(id) !== 'healthy');
  const healthy = inService.length - notHealthy.length;
  const seen =
    `group ${group.name}: ${inService.length}/${needed} instances InService in the group, ` +
    `${healthy}/${needed} healthy at ${balancerLabel}` +
    (notHealthy.length > 0 ? ` (${describeStates(notHealthy, health)})` : '');
  return { serving: inService.length >= needed && notHealthy.length === 0, seen };
}

function describeStates(ids: readonly string[], health: ReadonlyMap<string, BalancerHealth>): string {
  const listed = ids.slice(0, LISTED).map((id) => `${id} ${health.get(id) ?? 'not registered'}`);
  return listed.join(', ') + (ids.length > LISTED ? `, … ${ids.length - LISTED} more` : '');
}
