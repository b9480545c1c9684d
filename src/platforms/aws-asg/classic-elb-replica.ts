import {
  ConfigureHealthCheckCommand,
  CreateLoadBalancerCommand,
  DeleteLoadBalancerCommand,
  DescribeInstanceHealthCommand,
  DescribeLoadBalancerAttributesCommand,
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  ModifyLoadBalancerAttributesCommand,
  type ElasticLoadBalancingClient,
  type LoadBalancerAttributes,
  type LoadBalancerDescription,
} from '@aws-sdk/client-elastic-load-balancing';
import { CUTOVER_TAG, tagValue } from '../../aws/cutover-tags.js';
import { CutoverError } from '../../shared/errors.js';
import type { Slot } from '../../shared/slot.js';
import { awsStep, failedWith } from './aws-step.js';
import type { BalancerReplica, TaggedReplica } from './balancer-replica.js';
import { awsCrashPoint } from './crash-point.js';

const NOT_FOUND = ['LoadBalancerNotFound', 'AccessPointNotFound'];
/** DescribeTags takes at most 20 load balancer names a call. */
const TAGS_BATCH = 20;

/**
 * The slot's Classic ELB named `name`, created as a copy of `source` when missing — listeners,
 * subnets (or zones), security groups, scheme, health check, cross-zone, connection draining and
 * idle timeout — and brought back in line with the source when it exists (a resumed provision).
 * A load balancer of that name that cutover did not tag for this app is never touched.
 */
export async function ensureClassicReplica(
  elb: ElasticLoadBalancingClient,
  source: string,
  name: string,
  tags: { Key: string; Value: string }[],
  app: string,
): Promise<BalancerReplica> {
  const original = await describeClassic(elb, source);
  if (original === undefined) {
    throw new CutoverError('CUTOVER_E_PROVISION', `the Classic ELB ${source} to replicate does not exist`, {
      details: { loadBalancer: source },
    });
  }
  let replica = await describeClassic(elb, name);
  if (replica === undefined) {
    awsCrashPoint();
    await awsStep(`CreateLoadBalancer(${name})`, elb, (abortSignal) =>
      elb.send(new CreateLoadBalancerCommand(createClassicInput(original, name, tags)), { abortSignal }),
    );
    awsCrashPoint();
    replica = await describeClassic(elb, name);
    if (replica === undefined) {
      throw new CutoverError('CUTOVER_E_PROVISION', `Classic ELB ${name} was created but is not listed`, {
        details: { loadBalancer: name },
      });
    }
  } else {
    await assertClassicOurs(elb, name, app);
  }
  if (original.HealthCheck !== undefined) {
    await awsStep(`ConfigureHealthCheck(${name})`, elb, (abortSignal) =>
      elb.send(
        new ConfigureHealthCheckCommand({ LoadBalancerName: name, HealthCheck: original.HealthCheck }),
        {
          abortSignal,
        },
      ),
    );
    awsCrashPoint();
  }
  const attributes = await awsStep(`DescribeLoadBalancerAttributes(${source})`, elb, (abortSignal) =>
    elb.send(new DescribeLoadBalancerAttributesCommand({ LoadBalancerName: source }), { abortSignal }),
  );
  await awsStep(`ModifyLoadBalancerAttributes(${name})`, elb, (abortSignal) =>
    elb.send(
      new ModifyLoadBalancerAttributesCommand(
        classicAttributesInput(name, attributes.LoadBalancerAttributes ?? {}),
      ),
      { abortSignal },
    ),
  );
  awsCrashPoint();
  return classicReplica(replica, source);
}

/** CreateLoadBalancer of the replica: the source's listeners, subnets (or zones), groups, scheme. */
export function createClassicInput(
  original: LoadBalancerDescription,
  name: string,
  tags: readonly { Key: string; Value: string }[],
) {
  return {
    LoadBalancerName: name,
    Listeners: (original.ListenerDescriptions ?? []).map(({ Listener }) => ({
      Protocol: Listener!.Protocol!,
      LoadBalancerPort: Listener!.LoadBalancerPort!,
      InstanceProtocol: Listener!.InstanceProtocol,
      InstancePort: Listener!.InstancePort!,
      ...(Listener!.SSLCertificateId ? { SSLCertificateId: Listener!.SSLCertificateId } : {}),
    })),
    ...((original.Subnets ?? []).length > 0
      ? { Subnets: original.Subnets }
      : { AvailabilityZones: original.AvailabilityZones }),
    ...((original.SecurityGroups ?? []).length > 0 ? { SecurityGroups: original.SecurityGroups } : {}),
    ...(original.Scheme === 'internal' ? { Scheme: 'internal' } : {}),
    Tags: [...tags],
  };
}

/** ModifyLoadBalancerAttributes of the replica: the source's cross-zone, draining and idle timeout. */
export function classicAttributesInput(name: string, copied: LoadBalancerAttributes) {
  return {
    LoadBalancerName: name,
    LoadBalancerAttributes: {
      ...(copied.CrossZoneLoadBalancing ? { CrossZoneLoadBalancing: copied.CrossZoneLoadBalancing } : {}),
      ...(copied.ConnectionDraining ? { ConnectionDraining: copied.ConnectionDraining } : {}),
      ...(copied.ConnectionSettings ? { ConnectionSettings: copied.ConnectionSettings } : {}),
    },
  };
}

/** The replica named `name` as the endpoint and attachment facts, if it exists. */
export async function findClassicReplica(
  elb: ElasticLoadBalancingClient,
  name: string,
  source: string,
): Promise<BalancerReplica | undefined> {
  const found = await describeClassic(elb, name);
  return found === undefined ? undefined : classicReplica(found, source);
}

/** Instances the replica counts InService, of those given. */
export async function classicInService(
  elb: ElasticLoadBalancingClient,
  name: string,
  instanceIds: readonly string[],
): Promise<string[]> {
  if (instanceIds.length === 0) return [];
  const answer = await awsStep(`DescribeInstanceHealth(${name})`, elb, (abortSignal) =>
    elb.send(
      new DescribeInstanceHealthCommand({
        LoadBalancerName: name,
        Instances: instanceIds.map((InstanceId) => ({ InstanceId })),
      }),
      { abortSignal },
    ),
  );
  return (answer.InstanceStates ?? [])
    .filter((state) => state.State === 'InService')
    .map((state) => state.InstanceId ?? '');
}

/** Every Classic ELB tagged as cutover's for the app (and slot). */
export async function classicReplicasOf(
  elb: ElasticLoadBalancingClient,
  app: string,
  slot: Slot,
): Promise<TaggedReplica[]> {
  const names: string[] = [];
  let marker: string | undefined;
  do {
    const page = await awsStep('DescribeLoadBalancers', elb, (abortSignal) =>
      elb.send(new DescribeLoadBalancersCommand({ Marker: marker }), { abortSignal }),
    );
    names.push(...(page.LoadBalancerDescriptions ?? []).map((lb) => lb.LoadBalancerName!));
    marker = page.NextMarker;
  } while (marker);
  const found: TaggedReplica[] = [];
  for (let i = 0; i < names.length; i += TAGS_BATCH) {
    const answer = await awsStep('DescribeTags', elb, (abortSignal) =>
      elb.send(new DescribeTagsCommand({ LoadBalancerNames: names.slice(i, i + TAGS_BATCH) }), {
        abortSignal,
      }),
    );
    for (const described of answer.TagDescriptions ?? []) {
      const release = tagValue(described.Tags, CUTOVER_TAG.release);
      if (
        tagValue(described.Tags, CUTOVER_TAG.app) !== app ||
        tagValue(described.Tags, CUTOVER_TAG.slot) !== slot ||
        release === undefined
      )
        continue;
      const name = described.LoadBalancerName!;
      found.push({ name, release, resources: [{ kind: 'classic', id: name }] });
    }
  }
  return found;
}

export async function deleteClassic(elb: ElasticLoadBalancingClient, name: string): Promise<void> {
  // DeleteLoadBalancer of a name that is gone succeeds: safe to repeat after a crash.
  await awsStep(`DeleteLoadBalancer(${name})`, elb, (abortSignal) =>
    elb.send(new DeleteLoadBalancerCommand({ LoadBalancerName: name }), { abortSignal }),
  );
}

export async function assertClassicOurs(
  elb: ElasticLoadBalancingClient,
  name: string,
  app: string,
): Promise<void> {
  const answer = await awsStep(`DescribeTags(${name})`, elb, (abortSignal) =>
    elb.send(new DescribeTagsCommand({ LoadBalancerNames: [name] }), { abortSignal }),
  );
  if (tagValue(answer.TagDescriptions?.[0]?.Tags, CUTOVER_TAG.app) !== app) {
    throw new CutoverError(
      'CUTOVER_E_PROVISION',
      `a Classic ELB named ${name} exists and is not cutover's for app ${app}; cutover leaves it alone`,
      { details: { loadBalancer: name } },
    );
  }
}

export async function describeClassic(
  elb: ElasticLoadBalancingClient,
  name: string,
): Promise<LoadBalancerDescription | undefined> {
  try {
    const answer = await awsStep(`DescribeLoadBalancers(${name})`, elb, (abortSignal) =>
      elb.send(new DescribeLoadBalancersCommand({ LoadBalancerNames: [name] }), { abortSignal }),
    );
    return answer.LoadBalancerDescriptions?.[0];
  } catch (error) {
    if (failedWith(error, ...NOT_FOUND)) return undefined;
    throw error;
  }
}

function classicReplica(found: LoadBalancerDescription, source: string): BalancerReplica {
  const name = found.LoadBalancerName!;
  return {
    type: 'classic',
    id: name,
    name,
    dnsName: found.DNSName ?? '',
    canonicalHostedZoneId: found.CanonicalHostedZoneNameID ?? '',
    loadBalancerNames: [name],
    targetGroupArns: [],
    renames: new Map([[source, name]]),
  };
}
