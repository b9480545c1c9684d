/**
 * What the group switch needs from a load balancer that Auto Scaling groups attach to (a
 * Classic ELB or an ELBv2 target group): attach and detach a group, say which groups are
 * attached, report each registered instance's health, and how long a deregistered instance
 * keeps its in-flight requests. One implementation per kind of balancer.
 */
import type { GroupFacts } from './auto-scaling-groups.js';
import type { AwsCallSpec } from './planned-call.js';

/**
 * An instance as the balancer sees it. `pending`: registered, health not known yet (initial,
 * registration in progress); `draining`: deregistered, in-flight requests still served.
 */
export type BalancerHealth = 'healthy' | 'pending' | 'unhealthy' | 'draining';

export interface BalancerAttachment {
  /** For messages: `target group tg-web` or `Classic ELB web`. */
  readonly label: string;
  /** Every group of the region that the Auto Scaling API says is attached to this balancer. */
  attachedGroups(): Promise<GroupFacts[]>;
  /** Attach the group; attaching a group already attached changes nothing. */
  attach(group: string): Promise<void>;
  detach(group: string): Promise<void>;
  /**
   * Register / deregister single instances (mode replace-instances: two slots share one group).
   * Registering a registered instance changes nothing; deregistering is asked only for
   * instances the balancer still lists.
   */
  register(instanceIds: readonly string[]): Promise<void>;
  deregister(instanceIds: readonly string[]): Promise<void>;
  /** The call attach(group) sends (what `--plan` prints). */
  attachCall(group: string): AwsCallSpec<object>;
  /** The call detach(group) sends. */
  detachCall(group: string): AwsCallSpec<object>;
  /** The call deregister(instanceIds) sends. */
  deregisterCall(instanceIds: readonly string[]): AwsCallSpec<object>;
  /** Instance id → health, for every instance the balancer has registered (draining included). */
  instanceHealth(): Promise<Map<string, BalancerHealth>>;
  /** How long the balancer lets a deregistered instance finish its requests (0: it cuts at once). */
  drainTimeoutMs(): Promise<number>;
}
