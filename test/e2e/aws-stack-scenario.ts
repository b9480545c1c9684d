/**
 * What the recipe 3 tests (a replica stack behind a Route 53 alias, against moto) share: the
 * hosted zone, the cutover.yml, and a read of where the record points.
 */
import {
  CreateHostedZoneCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { MOTO_CREDENTIALS } from '../support/daemons/moto.js';
import { AWS_TEST_REGION, type AwsAsgFixture } from '../platforms/aws-asg-fixture.js';
import type { ReplicaSource } from '../platforms/aws-replica-source.js';
import { awsConnection, configYamlWithRouter } from './aws-scenario.js';

export const STACK_RECORD = 'shop.example.test';

export interface StackZone {
  readonly route53: Route53Client;
  readonly zoneId: string;
  /** The DNS name the record aliases now (lower case, no trailing dot), or undefined. */
  recordTarget(): Promise<string | undefined>;
}

/** A hosted zone for `example.test` on moto. */
export async function createStackZone(fixture: AwsAsgFixture): Promise<StackZone> {
  const route53 = new Route53Client({
    region: AWS_TEST_REGION,
    endpoint: fixture.moto.endpoint,
    maxAttempts: 1,
    credentials: MOTO_CREDENTIALS,
  });
  const zone = await route53.send(
    new CreateHostedZoneCommand({ Name: 'example.test.', CallerReference: `cutover-e2e-${Date.now()}` }),
  );
  const zoneId = zone.HostedZone!.Id!.replace(/^\/hostedzone\//, '');
  return {
    route53,
    zoneId,
    async recordTarget() {
      const answer = await route53.send(
        new ListResourceRecordSetsCommand({
          HostedZoneId: zoneId,
          StartRecordName: STACK_RECORD,
          StartRecordType: 'A',
        }),
      );
      const record = (answer.ResourceRecordSets ?? []).find(
        (set) => set.Name?.replace(/\.$/, '') === STACK_RECORD && set.Type === 'A',
      );
      return record?.AliasTarget?.DNSName?.toLowerCase()
        .replace(/\.$/, '')
        .replace(/^dualstack\./, '');
    },
  };
}

export interface StackRouterSettings {
  readonly ttl: string;
  readonly dnsMargin: string;
  readonly settleTimeout: string;
  /** Where the router's Route 53 calls go when not to moto (a stand-in in front of it). */
  readonly endpoint?: string;
}

/** cutover.yml: aws-asg mode replica-stack copying `source` (its ALB too), router route53 alias. */
export function replicaStackConfig(
  fixture: AwsAsgFixture,
  source: ReplicaSource,
  zoneId: string,
  { ttl, dnsMargin, settleTimeout, endpoint }: StackRouterSettings,
  drainTimeout: string,
): string {
  const router = {
    kind: 'route53',
    hostedZoneId: zoneId,
    recordName: STACK_RECORD,
    mode: 'alias',
    ttl,
    dnsMargin,
    ...awsConnection(fixture),
    ...(endpoint === undefined ? {} : { endpoint }),
    settleTimeout,
  };
  const platform = {
    mode: 'replica-stack',
    replicate: { group: source.group, loadBalancer: { application: source.albArn } },
  };
  return configYamlWithRouter(fixture, router, { platform, drainTimeout });
}
