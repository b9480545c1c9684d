import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DeleteLoadBalancerCommand,
  DeleteTargetGroupCommand,
  DescribeListenersCommand,
  DescribeLoadBalancerAttributesCommand,
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ModifyLoadBalancerAttributesCommand,
  ModifyTargetGroupAttributesCommand,
  type Action,
  type ElasticLoadBalancingV2Client,
  type Listener,
  type LoadBalancer,
  type LoadBalancerAttribute,
  type TargetGroup,
  type TargetGroupAttribute,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { CUTOVER_TAG, tagValue } from '../../aws/cutover-tags.js';
import { CutoverError } from '../../shared/errors.js';
import type { Slot } from '../../shared/slot.js';
import { awsStep, failedWith } from './aws-step.js';
import type { BalancerReplica, TaggedReplica } from './balancer-replica.js';
import { awsCrashPoint } from './crash-point.js';

/** DescribeTags takes at most 20 ARNs a call. */
const TAGS_BATCH = 20;
/** A copy with deletion protection could never be retired by cutover: that one attribute stays off. */
const NOT_COPIED = new Set(['deletion_protection.enabled']);

export interface Source {
  readonly balancer: LoadBalancer;
  readonly listeners: readonly Listener[];
  readonly targetGroup: TargetGroup;
}

/**
 * The slot's Application Load Balancer and target group named `name`, created as copies of the
 * source when missing — the balancer's subnets, security groups, scheme, address type and
 * attributes; every listener (port, protocol, certificates, TLS policy, default actions, with the
 * source's target group replaced by the copy); the target group's protocol, port, VPC, health
 * check and attributes — and brought back in line when they exist (a resumed provision). What
 * carries the name without cutover's tag for this app is never touched.
 */
export async function ensureApplicationReplica(
  elbv2: ElasticLoadBalancingV2Client,
  sourceRef: string,
  name: string,
  tags: { Key: string; Value: string }[],
  app: string,
): Promise<BalancerReplica> {
  const source = await readSource(elbv2, sourceRef);
  const targetGroup = await ensureTargetGroup(elbv2, source.targetGroup, name, tags, app);
  let balancer = await describeBalancer(elbv2, { Names: [name] });
  if (balancer === undefined) {
    awsCrashPoint();
    const created = await awsStep(`CreateLoadBalancer(${name})`, elbv2, (abortSignal) =>
      elbv2.send(new CreateLoadBalancerCommand(createApplicationBalancerInput(source.balancer, name, tags)), {
        abortSignal,
      }),
    );
    balancer = created.LoadBalancers?.[0];
    if (balancer === undefined)
      throw new CutoverError('CUTOVER_E_PROVISION', `CreateLoadBalancer(${name}) answered no balancer`);
    awsCrashPoint();
  } else {
    await assertApplicationOurs(elbv2, balancer.LoadBalancerArn!, `load balancer ${name}`, app);
  }
  const balancerArn = balancer.LoadBalancerArn!;
  await copyBalancerAttributes(elbv2, source.balancer.LoadBalancerArn!, balancerArn);
  awsCrashPoint();
  const existing = await listenersOf(elbv2, balancerArn);
  for (const listener of source.listeners) {
    if (existing.some((made) => made.Port === listener.Port)) continue;
    await awsStep(`CreateListener(${name}:${listener.Port})`, elbv2, (abortSignal) =>
      elbv2.send(
        new CreateListenerCommand(
          createListenerInput(
            balancerArn,
            listener,
            source.targetGroup.TargetGroupArn!,
            targetGroup.TargetGroupArn!,
            tags,
          ),
        ),
        { abortSignal },
      ),
    );
    awsCrashPoint();
  }
  return applicationReplica(balancer, targetGroup, source);
}

/**
 * The replica named `name` as endpoint and attachment facts, if both its parts exist. Read
 * without the source (which may be gone by then): `renames` is empty, as only provision uses it.
 */
export async function findApplicationReplica(
  elbv2: ElasticLoadBalancingV2Client,
  name: string,
): Promise<BalancerReplica | undefined> {
  const balancer = await describeBalancer(elbv2, { Names: [name] });
  const targetGroup = await describeTargetGroup(elbv2, name);
  if (balancer === undefined || targetGroup === undefined) return undefined;
  return applicationReplica(balancer, targetGroup, undefined);
}

/** Instances the replica's target group counts healthy, of those given. */
export async function applicationInService(
  elbv2: ElasticLoadBalancingV2Client,
  targetGroupArn: string,
  instanceIds: readonly string[],
): Promise<string[]> {
  const answer = await awsStep('DescribeTargetHealth', elbv2, (abortSignal) =>
    elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }), { abortSignal }),
  );
  const healthy = new Set(
    (answer.TargetHealthDescriptions ?? [])
      .filter((target) => target.TargetHealth?.State === 'healthy')
      .map((target) => target.Target?.Id ?? ''),
  );
  return instanceIds.filter((id) => healthy.has(id));
}

/** Every ALB and target group tagged as cutover's for the app and slot, paired by name. */
export async function applicationReplicasOf(
  elbv2: ElasticLoadBalancingV2Client,
  app: string,
  slot: Slot,
): Promise<TaggedReplica[]> {
  const balancers: { arn: string; name: string }[] = [];
  let marker: string | undefined;
  do {
    const page = await awsStep('DescribeLoadBalancers', elbv2, (abortSignal) =>
      elbv2.send(new DescribeLoadBalancersCommand({ Marker: marker }), { abortSignal }),
    );
    for (const lb of page.LoadBalancers ?? [])
      balancers.push({ arn: lb.LoadBalancerArn!, name: lb.LoadBalancerName! });
    marker = page.NextMarker;
  } while (marker);
  const groups: { arn: string; name: string }[] = [];
  marker = undefined;
  do {
    const page = await awsStep('DescribeTargetGroups', elbv2, (abortSignal) =>
      elbv2.send(new DescribeTargetGroupsCommand({ Marker: marker }), { abortSignal }),
    );
    for (const tg of page.TargetGroups ?? [])
      groups.push({ arn: tg.TargetGroupArn!, name: tg.TargetGroupName! });
    marker = page.NextMarker;
  } while (marker);
  const ours = await taggedOf(elbv2, [...balancers, ...groups], app, slot);
  const byName = new Map<string, { release: string; resources: TaggedReplica['resources'][number][] }>();
  for (const resource of ours) {
    const entry = byName.get(resource.name) ?? { release: resource.release, resources: [] };
    const kind = balancers.some((lb) => lb.arn === resource.arn) ? 'application' : 'target-group';
    entry.resources.push({ kind, id: resource.arn });
    byName.set(resource.name, entry);
  }
  // The balancer goes first: a target group its listeners forward to cannot be deleted.
  return [...byName].map(([name, entry]) => ({
    name,
    release: entry.release,
    resources: entry.resources.sort((a, b) =>
      a.kind === 'application' ? -1 : b.kind === 'application' ? 1 : 0,
    ),
  }));
}

export async function deleteApplicationPart(
  elbv2: ElasticLoadBalancingV2Client,
  part: TaggedReplica['resources'][number],
): Promise<void> {
  try {
    if (part.kind === 'application') {
      await awsStep(`DeleteLoadBalancer(${part.id})`, elbv2, (abortSignal) =>
        elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: part.id }), { abortSignal }),
      );
    } else {
      await awsStep(`DeleteTargetGroup(${part.id})`, elbv2, (abortSignal) =>
        elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: part.id }), { abortSignal }),
      );
    }
  } catch (error) {
    if (!failedWith(error, 'LoadBalancerNotFound', 'TargetGroupNotFound')) throw error;
  }
}

export async function readSource(elbv2: ElasticLoadBalancingV2Client, ref: string): Promise<Source> {
  const balancer = await describeBalancer(
    elbv2,
    ref.startsWith('arn:') ? { LoadBalancerArns: [ref] } : { Names: [ref] },
  );
  if (balancer === undefined) {
    throw new CutoverError(
      'CUTOVER_E_PROVISION',
      `the Application Load Balancer ${ref} to replicate does not exist`,
      {
        details: { loadBalancer: ref },
      },
    );
  }
  const listeners = await listenersOf(elbv2, balancer.LoadBalancerArn!);
  const forwarded = new Set(
    listeners.flatMap((listener) => (listener.DefaultActions ?? []).flatMap(targetGroupsOf)),
  );
  if (forwarded.size !== 1) {
    throw new CutoverError(
      'CUTOVER_E_PROVISION',
      `the listeners of ${ref} forward to ${forwarded.size} target groups; replica-stack copies a balancer whose listeners forward to exactly one`,
      { details: { loadBalancer: ref, targetGroups: [...forwarded] } },
    );
  }
  const [arn] = [...forwarded];
  const answer = await awsStep('DescribeTargetGroups', elbv2, (abortSignal) =>
    elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [arn!] }), { abortSignal }),
  );
  return { balancer, listeners, targetGroup: answer.TargetGroups![0]! };
}

async function ensureTargetGroup(
  elbv2: ElasticLoadBalancingV2Client,
  source: TargetGroup,
  name: string,
  tags: { Key: string; Value: string }[],
  app: string,
): Promise<TargetGroup> {
  let group = await describeTargetGroup(elbv2, name);
  if (group === undefined) {
    awsCrashPoint();
    const created = await awsStep(`CreateTargetGroup(${name})`, elbv2, (abortSignal) =>
      elbv2.send(new CreateTargetGroupCommand(createTargetGroupInput(source, name, tags)), { abortSignal }),
    );
    group = created.TargetGroups?.[0];
    if (group === undefined)
      throw new CutoverError('CUTOVER_E_PROVISION', `CreateTargetGroup(${name}) answered no group`);
    awsCrashPoint();
  } else {
    await assertApplicationOurs(elbv2, group.TargetGroupArn!, `target group ${name}`, app);
  }
  const copied = await readTargetGroupAttributes(elbv2, source.TargetGroupArn!);
  if (copied.length > 0) {
    await awsStep(`ModifyTargetGroupAttributes(${name})`, elbv2, (abortSignal) =>
      elbv2.send(
        new ModifyTargetGroupAttributesCommand({ TargetGroupArn: group.TargetGroupArn, Attributes: copied }),
        {
          abortSignal,
        },
      ),
    );
  }
  return group;
}

async function copyBalancerAttributes(
  elbv2: ElasticLoadBalancingV2Client,
  sourceArn: string,
  replicaArn: string,
): Promise<void> {
  const copied = await readBalancerAttributes(elbv2, sourceArn);
  if (copied.length === 0) return;
  await awsStep('ModifyLoadBalancerAttributes', elbv2, (abortSignal) =>
    elbv2.send(
      new ModifyLoadBalancerAttributesCommand(applicationBalancerAttributesInput(replicaArn, copied)),
      {
        abortSignal,
      },
    ),
  );
}

/** The source balancer's attributes a replica gets (deletion protection stays off). */
export async function readBalancerAttributes(
  elbv2: ElasticLoadBalancingV2Client,
  sourceArn: string,
): Promise<LoadBalancerAttribute[]> {
  const answer = await awsStep('DescribeLoadBalancerAttributes', elbv2, (abortSignal) =>
    elbv2.send(new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: sourceArn }), { abortSignal }),
  );
  return (answer.Attributes ?? []).filter(
    (attribute) => attribute.Key !== undefined && !NOT_COPIED.has(attribute.Key),
  );
}

/** The source target group's attributes a replica gets. */
export async function readTargetGroupAttributes(
  elbv2: ElasticLoadBalancingV2Client,
  sourceArn: string,
): Promise<TargetGroupAttribute[]> {
  const attributes = await awsStep('DescribeTargetGroupAttributes', elbv2, (abortSignal) =>
    elbv2.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: sourceArn }), { abortSignal }),
  );
  return (attributes.Attributes ?? []).filter((attribute) => attribute.Key !== undefined);
}

export function applicationBalancerAttributesInput(arn: string, attributes: LoadBalancerAttribute[]) {
  return { LoadBalancerArn: arn, Attributes: attributes };
}

export function createApplicationBalancerInput(
  source: LoadBalancer,
  name: string,
  tags: readonly { Key: string; Value: string }[],
) {
  return {
    Name: name,
    Type: 'application' as const,
    Subnets: (source.AvailabilityZones ?? []).map((zone) => zone.SubnetId!),
    SecurityGroups: source.SecurityGroups,
    Scheme: source.Scheme,
    IpAddressType: source.IpAddressType,
    Tags: [...tags],
  };
}

export function createTargetGroupInput(
  source: TargetGroup,
  name: string,
  tags: readonly { Key: string; Value: string }[],
) {
  return {
    Name: name,
    Protocol: source.Protocol,
    ...(source.ProtocolVersion ? { ProtocolVersion: source.ProtocolVersion } : {}),
    Port: source.Port,
    VpcId: source.VpcId,
    TargetType: source.TargetType,
    HealthCheckEnabled: source.HealthCheckEnabled,
    HealthCheckProtocol: source.HealthCheckProtocol,
    HealthCheckPort: source.HealthCheckPort,
    HealthCheckPath: source.HealthCheckPath,
    HealthCheckIntervalSeconds: source.HealthCheckIntervalSeconds,
    HealthCheckTimeoutSeconds: source.HealthCheckTimeoutSeconds,
    HealthyThresholdCount: source.HealthyThresholdCount,
    UnhealthyThresholdCount: source.UnhealthyThresholdCount,
    ...(source.Matcher ? { Matcher: source.Matcher } : {}),
    Tags: [...tags],
  };
}

/** A copy of a source listener on the replica, forwarding to the replica's target group. */
export function createListenerInput(
  balancerArn: string,
  listener: Listener,
  fromGroupArn: string,
  toGroupArn: string,
  tags: readonly { Key: string; Value: string }[],
) {
  return {
    LoadBalancerArn: balancerArn,
    Port: listener.Port,
    Protocol: listener.Protocol,
    ...(listener.Certificates?.length ? { Certificates: listener.Certificates } : {}),
    ...(listener.SslPolicy ? { SslPolicy: listener.SslPolicy } : {}),
    ...(listener.AlpnPolicy?.length ? { AlpnPolicy: listener.AlpnPolicy } : {}),
    DefaultActions: (listener.DefaultActions ?? []).map((action) =>
      retarget(action, fromGroupArn, toGroupArn),
    ),
    Tags: [...tags],
  };
}

export async function listenersOf(elbv2: ElasticLoadBalancingV2Client, arn: string): Promise<Listener[]> {
  const listeners: Listener[] = [];
  let marker: string | undefined;
  do {
    const page = await awsStep('DescribeListeners', elbv2, (abortSignal) =>
      elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: arn, Marker: marker }), { abortSignal }),
    );
    listeners.push(...(page.Listeners ?? []));
    marker = page.NextMarker;
  } while (marker);
  return listeners.sort((a, b) => (a.Port ?? 0) - (b.Port ?? 0));
}

export async function describeBalancer(
  elbv2: ElasticLoadBalancingV2Client,
  which: { Names: string[] } | { LoadBalancerArns: string[] },
): Promise<LoadBalancer | undefined> {
  try {
    const answer = await awsStep('DescribeLoadBalancers', elbv2, (abortSignal) =>
      elbv2.send(new DescribeLoadBalancersCommand(which), { abortSignal }),
    );
    return answer.LoadBalancers?.[0];
  } catch (error) {
    if (failedWith(error, 'LoadBalancerNotFound')) return undefined;
    throw error;
  }
}

export async function describeTargetGroup(
  elbv2: ElasticLoadBalancingV2Client,
  name: string,
): Promise<TargetGroup | undefined> {
  try {
    const answer = await awsStep(`DescribeTargetGroups(${name})`, elbv2, (abortSignal) =>
      elbv2.send(new DescribeTargetGroupsCommand({ Names: [name] }), { abortSignal }),
    );
    return answer.TargetGroups?.[0];
  } catch (error) {
    if (failedWith(error, 'TargetGroupNotFound')) return undefined;
    throw error;
  }
}

export async function assertApplicationOurs(
  elbv2: ElasticLoadBalancingV2Client,
  arn: string,
  what: string,
  app: string,
): Promise<void> {
  const [found] = await taggedOf(elbv2, [{ arn, name: '' }], app);
  if (found === undefined) {
    throw new CutoverError(
      'CUTOVER_E_PROVISION',
      `a ${what} exists and is not cutover's for app ${app}; cutover leaves it alone`,
      { details: { arn } },
    );
  }
}

/** Of `resources`, those tagged as cutover's for the app (and slot), with their release. */
async function taggedOf(
  elbv2: ElasticLoadBalancingV2Client,
  resources: readonly { arn: string; name: string }[],
  app: string,
  slot?: Slot,
): Promise<{ arn: string; name: string; release: string }[]> {
  const ours: { arn: string; name: string; release: string }[] = [];
  for (let i = 0; i < resources.length; i += TAGS_BATCH) {
    const batch = resources.slice(i, i + TAGS_BATCH);
    const answer = await awsStep('DescribeTags', elbv2, (abortSignal) =>
      elbv2.send(new DescribeTagsCommand({ ResourceArns: batch.map((r) => r.arn) }), { abortSignal }),
    );
    for (const described of answer.TagDescriptions ?? []) {
      const release = tagValue(described.Tags, CUTOVER_TAG.release);
      if (tagValue(described.Tags, CUTOVER_TAG.app) !== app || release === undefined) continue;
      if (slot !== undefined && tagValue(described.Tags, CUTOVER_TAG.slot) !== slot) continue;
      const resource = batch.find((r) => r.arn === described.ResourceArn);
      if (resource !== undefined) ours.push({ ...resource, release });
    }
  }
  return ours;
}

function targetGroupsOf(action: Action): string[] {
  if (action.Type !== 'forward') return [];
  const arns = (action.ForwardConfig?.TargetGroups ?? []).map((tg) => tg.TargetGroupArn ?? '');
  if (action.TargetGroupArn) arns.push(action.TargetGroupArn);
  return arns.filter((arn) => arn !== '');
}

/** The action with the source's target group replaced by the replica's; other kinds as they are. */
function retarget(action: Action, from: string, to: string): Action {
  const swap = (arn: string | undefined) => (arn === from ? to : arn);
  return {
    Type: action.Type,
    ...(action.Order === undefined ? {} : { Order: action.Order }),
    ...(action.TargetGroupArn ? { TargetGroupArn: swap(action.TargetGroupArn) } : {}),
    ...(action.ForwardConfig
      ? {
          ForwardConfig: {
            ...action.ForwardConfig,
            TargetGroups: action.ForwardConfig.TargetGroups?.map((tg) => ({
              ...tg,
              TargetGroupArn: swap(tg.TargetGroupArn),
            })),
          },
        }
      : {}),
    ...(action.RedirectConfig ? { RedirectConfig: action.RedirectConfig } : {}),
    ...(action.FixedResponseConfig ? { FixedResponseConfig: action.FixedResponseConfig } : {}),
  };
}

/** `app/NAME/ID` and `targetgroup/NAME/ID`: how CloudWatch dimensions name them. */
export function replicaDimension(arn: string): string {
  const at =
    arn.indexOf(':loadbalancer/') >= 0
      ? arn.indexOf(':loadbalancer/') + ':loadbalancer/'.length
      : arn.lastIndexOf(':') + 1;
  return arn.slice(at);
}

function applicationReplica(
  balancer: LoadBalancer,
  targetGroup: TargetGroup,
  source: Source | undefined,
): BalancerReplica {
  const balancerTo = replicaDimension(balancer.LoadBalancerArn!);
  const groupTo = replicaDimension(targetGroup.TargetGroupArn!);
  const renames = new Map<string, string>();
  if (source !== undefined) {
    const balancerFrom = replicaDimension(source.balancer.LoadBalancerArn!);
    const groupFrom = replicaDimension(source.targetGroup.TargetGroupArn!);
    renames.set(balancerFrom, balancerTo);
    renames.set(groupFrom, groupTo);
    renames.set(`${balancerFrom}/${groupFrom}`, `${balancerTo}/${groupTo}`);
  }
  return {
    type: 'application',
    id: balancer.LoadBalancerArn!,
    name: balancer.LoadBalancerName!,
    dnsName: balancer.DNSName ?? '',
    canonicalHostedZoneId: balancer.CanonicalHostedZoneId ?? '',
    loadBalancerNames: [],
    targetGroupArns: [targetGroup.TargetGroupArn!],
    renames,
  };
}
