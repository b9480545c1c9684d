// The Platform contract suite (./contract.ts) for the aws-asg platform (mode replica-group),
// against a real moto server. moto's instances run nothing: an instance's release is read from
// the image it was launched from, and a polite stop is EC2 shutting the instance down.
import { runPlatformContract } from './contract.js';
import { makeAwsAsgFixture } from './aws-asg-fixture.js';

runPlatformContract({
  name: 'aws-asg',
  setup: async () => {
    const fixture = await makeAwsAsgFixture(['v1', 'v2']);
    return {
      // EC2 has no "ignore SIGTERM": terminating an instance always ends it, so both variants are one.
      create: () => fixture.platform(),
      releases: ['v1', 'v2'],
      missingRelease: 'v404',
      releaseOf: (instance) => fixture.releaseOf(instance.id),
      sigtermsSeen: (slot) => fixture.shutDown(slot),
      countRunning: () => fixture.countRunning(),
      async provisionInKilledProcess(slot, release) {
        const line = await fixture.provisionInChild(slot, release);
        if (line === undefined) throw new Error('the provisioning child exited before it provisioned');
      },
      teardown: () => fixture.cleanup(),
    };
  },
});
