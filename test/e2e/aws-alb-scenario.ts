// The set-up both weighted-ALB end-to-end tests share: moto with releases v1–v3 (aws-asg
// fixture), an Application Load Balancer whose listener forwards to one target group per slot,
// and a cutover harness whose config routes through the aws-alb router.
import { writeFileSync } from 'node:fs';
import { after, before } from 'node:test';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { AWS_TEST_REGION, makeAwsAsgFixture, type AwsAsgFixture } from '../platforms/aws-asg-fixture.js';
import { createAlb, type AlbLayout } from '../support/aws-alb.js';
import { MOTO_CREDENTIALS } from '../support/daemons/moto.js';
import { awsConnection, configYamlWithRouter } from './aws-scenario.js';
import { CutoverHarness } from './harness.js';

export interface AlbScenario {
  fixture: AwsAsgFixture;
  harness: CutoverHarness;
  elbv2: ElasticLoadBalancingV2Client;
  alb: AlbLayout;
  /** Writes the config: router aws-alb (stickiness 1h) and the given strategy lines. */
  writeConfig(strategy: readonly string[]): void;
}

/** Registers the suite's before/after hooks; the scenario's fields are set once `before` ran. */
export function albScenario(initialStrategy: readonly string[]): AlbScenario {
  const scenario = {
    writeConfig(strategy: readonly string[]): void {
      const router = {
        kind: 'aws-alb',
        listenerArn: scenario.alb.listenerArn,
        targetGroups: {
          blue: scenario.alb.targetGroupNames.blue,
          green: scenario.alb.targetGroupNames.green,
        },
        stickiness: '1h',
        ...awsConnection(scenario.fixture),
        settleTimeout: '20s',
      };
      writeFileSync(
        scenario.harness.configFile,
        configYamlWithRouter(scenario.fixture, router, { extraYaml: strategy }),
      );
    },
  } as AlbScenario;

  before(async () => {
    scenario.fixture = await makeAwsAsgFixture(['v1', 'v2', 'v3']);
    scenario.elbv2 = new ElasticLoadBalancingV2Client({
      region: AWS_TEST_REGION,
      endpoint: scenario.fixture.moto.endpoint,
      maxAttempts: 1,
      credentials: MOTO_CREDENTIALS,
    });
    scenario.alb = await createAlb(
      { ec2: scenario.fixture.ec2, elbv2: scenario.elbv2 },
      `${scenario.fixture.app}-alb`,
    );
    scenario.harness = await CutoverHarness.create({ releases: {} });
    scenario.writeConfig(initialStrategy);
  });
  after(async () => {
    try {
      await scenario.harness?.teardown();
    } finally {
      scenario.elbv2?.destroy();
      await scenario.fixture?.cleanup();
    }
  });
  return scenario;
}
