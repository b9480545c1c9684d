// Provisions a slot with the aws-asg platform, prints the instances and the crash points it
// passed as one JSON line, then stays alive until killed. The contract suite SIGKILLs it to
// play cutover crashing; with CUTOVER_TEST_AWS_CRASH_AT set it SIGKILLs itself between two AWS calls.
import { silentLogger } from '../../../src/shared/logger.js';
import { isSlot } from '../../../src/shared/slot.js';
import { awsAsgPlatformConfig } from '../../../src/platforms/aws-asg/config.js';
import { createAwsAsgPlatform } from '../../../src/platforms/aws-asg/aws-asg-platform.js';
import { awsCrashPointsPassed } from '../../../src/platforms/aws-asg/crash-point.js';

interface Input {
  config: unknown;
  app: string;
  slot: string;
  release: string;
  deploymentId?: string;
}

const input = JSON.parse(process.argv[2] ?? '{}') as Input;
if (!isSlot(input.slot)) throw new Error(`not a slot: ${input.slot}`);
const platform = createAwsAsgPlatform(awsAsgPlatformConfig.parse(input.config), {
  app: input.app,
  logger: silentLogger,
});
const instances = await platform.provision(
  input.slot,
  input.release,
  input.deploymentId === undefined ? {} : { deploymentId: input.deploymentId },
);
process.stdout.write(`${JSON.stringify({ instances, crashPoints: awsCrashPointsPassed() })}\n`);
setInterval(() => undefined, 60_000);
