/**
 * The Route 53 layout the route53 router tests stand on, made in moto with the SDK: a hosted
 * zone and two Classic ELBs, one per slot (the replica-stack platform lives on another branch),
 * handed to the router as `aws-load-balancer` endpoints. Plus the read-backs the tests assert
 * with (the record sets as Route 53 lists them) and a hand edit, as an operator would make.
 */
import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
  type ResourceRecordSet,
} from '@aws-sdk/client-route-53';
import {
  CreateLoadBalancerCommand,
  DescribeLoadBalancersCommand,
  ElasticLoadBalancingClient,
} from '@aws-sdk/client-elastic-load-balancing';
import type { Slot, SlotEndpoint } from '../../src/shared/slot.js';
import { TEST_REGION } from './aws-groups.js';
import { MOTO_CREDENTIALS } from './daemons/moto.js';

/** The canonical hosted zone of Classic ELBs in us-east-1 (moto reports none). */
export const CLASSIC_ELB_ZONE_US_EAST_1 = 'Z35SXDOTRQ7X7K';

export interface Route53Layout {
  readonly zoneId: string;
  readonly zoneName: string;
  readonly recordName: string;
  readonly endpoints: Record<Slot, SlotEndpoint>;
  readonly client: Route53Client;
  /** The record sets of `recordName` that route users (A, AAAA, CNAME), as Route 53 lists them. */
  records(): Promise<ResourceRecordSet[]>;
  /** An operator's UPSERT, behind cutover's back. */
  upsertByHand(set: ResourceRecordSet): Promise<void>;
  destroy(): void;
}

export async function createRoute53Layout(endpoint: string, tag: string): Promise<Route53Layout> {
  const config = { region: TEST_REGION, endpoint, maxAttempts: 1, credentials: MOTO_CREDENTIALS };
  const client = new Route53Client(config);
  const elb = new ElasticLoadBalancingClient(config);
  try {
    const zoneName = `${tag}.example.com`;
    const zone = await client.send(
      new CreateHostedZoneCommand({ Name: zoneName, CallerReference: `${tag}-${Date.now()}` }),
    );
    const zoneId = zone.HostedZone?.Id?.replace(/^\/hostedzone\//, '');
    if (zoneId === undefined) throw new Error('moto created no hosted zone');
    const endpoints = {} as Record<Slot, SlotEndpoint>;
    for (const slot of ['blue', 'green'] as const) {
      const name = `${tag}-${slot}`.slice(0, 32);
      await elb.send(
        new CreateLoadBalancerCommand({
          LoadBalancerName: name,
          Listeners: [{ Protocol: 'HTTP', LoadBalancerPort: 80, InstanceProtocol: 'HTTP', InstancePort: 80 }],
          AvailabilityZones: [`${TEST_REGION}a`],
        }),
      );
      const described = await elb.send(new DescribeLoadBalancersCommand({ LoadBalancerNames: [name] }));
      const found = described.LoadBalancerDescriptions?.[0];
      if (found?.DNSName === undefined) throw new Error(`moto described no ELB ${name}`);
      endpoints[slot] = {
        kind: 'aws-load-balancer',
        id: name,
        details: {
          region: TEST_REGION,
          dnsName: found.DNSName,
          canonicalHostedZoneId: found.CanonicalHostedZoneNameID ?? CLASSIC_ELB_ZONE_US_EAST_1,
          type: 'classic',
        },
      };
    }
    const recordName = `www.${zoneName}`;
    return {
      zoneId,
      zoneName,
      recordName,
      endpoints,
      client,
      records: async () => {
        const listed = await client.send(
          new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, StartRecordName: recordName }),
        );
        return (listed.ResourceRecordSets ?? []).filter(
          (set) =>
            set.Name?.replace(/\.$/, '') === recordName && ['A', 'AAAA', 'CNAME'].includes(set.Type ?? ''),
        );
      },
      upsertByHand: async (set) => {
        await client.send(
          new ChangeResourceRecordSetsCommand({
            HostedZoneId: zoneId,
            ChangeBatch: { Changes: [{ Action: 'UPSERT', ResourceRecordSet: set }] },
          }),
        );
      },
      destroy: () => {
        client.destroy();
        elb.destroy();
      },
    };
  } finally {
    elb.destroy();
  }
}
