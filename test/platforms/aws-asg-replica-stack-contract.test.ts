// The Platform contract suite (./contract.ts) for the aws-asg platform in mode replica-stack,
// against a real moto server: each slot a group with its own copy of an Application Load
// Balancer and the source group's scaling policies and alarms (./aws-replica-source.ts).
import { runPlatformContract } from './contract.js';
import { makeAwsAsgFixture } from './aws-asg-fixture.js';
import { createReplicaSource } from './aws-replica-source.js';

runPlatformContract({
  // The kind describe() reports; the file name says which mode this run covers.
  name: 'aws-asg',
  setup: async () => {
    const fixture = await makeAwsAsgFixture(['v1', 'v2']);
    const source = await createReplicaSource(fixture.moto.endpoint, fixture.ec2, fixture.images.v1!);
    const overrides = {
      mode: 'replica-stack',
      replicate: { group: source.group, loadBalancer: { application: source.albArn } },
    };
    return {
      create: () => fixture.platform(overrides),
      releases: ['v1', 'v2'],
      missingRelease: 'v404',
      releaseOf: (instance) => fixture.releaseOf(instance.id),
      sigtermsSeen: (slot) => fixture.shutDown(slot),
      countRunning: () => fixture.countRunning(),
      async provisionInKilledProcess(slot, release) {
        const line = await fixture.provisionInChild(slot, release, { overrides });
        if (line === undefined) throw new Error('the provisioning child exited before it provisioned');
      },
      teardown: async () => {
        source.clients.destroy();
        await fixture.cleanup();
      },
    };
  },
});
