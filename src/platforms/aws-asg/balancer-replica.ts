/**
 * What the rest of mode replica-stack needs to know of a slot's own load balancer, whichever
 * kind it is: how routers reach it, what the slot's group attaches to, and how the source's
 * names in CloudWatch dimensions translate to the replica's.
 */
export interface BalancerReplica {
  readonly type: 'classic' | 'application';
  /** The Classic ELB's name or the ALB's ARN: the endpoint id routers act on. */
  readonly id: string;
  readonly name: string;
  readonly dnsName: string;
  readonly canonicalHostedZoneId: string;
  /** What the slot's group is attached to. */
  readonly loadBalancerNames: readonly string[];
  readonly targetGroupArns: readonly string[];
  /**
   * Dimension values of the source stack → the replica's (LoadBalancerName, LoadBalancer,
   * TargetGroup, ALBRequestCountPerTarget's resource label), for copied alarms and policies.
   */
  readonly renames: ReadonlyMap<string, string>;
}

/** A replica cutover found by its tags, with the release it was made for. */
export interface TaggedReplica {
  readonly name: string;
  readonly release: string;
  /** Each AWS resource of it, in the order they must be deleted. */
  readonly resources: readonly {
    readonly kind: 'classic' | 'application' | 'target-group';
    readonly id: string;
  }[];
}
