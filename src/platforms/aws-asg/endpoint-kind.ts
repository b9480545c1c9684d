/**
 * The two kinds of endpoint an aws-asg slot can be: its Auto Scaling group (mode replica-group,
 * and replica-stack without a load balancer), which routers attach to a shared balancer; or the
 * slot's own load balancer (replica-stack with `replicate.loadBalancer`), which a DNS router
 * points a record at.
 */
export const AWS_ASG_ENDPOINT_KIND = 'aws-asg';
export const AWS_LOAD_BALANCER_ENDPOINT_KIND = 'aws-load-balancer';

export function awsAsgEndpointKind(config: {
  readonly mode: string;
  readonly replicate?: { readonly loadBalancer?: unknown } | undefined;
}): string {
  return config.mode === 'replica-stack' && config.replicate?.loadBalancer !== undefined
    ? AWS_LOAD_BALANCER_ENDPOINT_KIND
    : AWS_ASG_ENDPOINT_KIND;
}
