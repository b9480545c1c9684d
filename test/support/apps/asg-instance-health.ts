// An exec health check for instances cutover cannot reach (moto's have addresses that lead
// nowhere): healthy when the instance TARGET_ID is InService and Healthy in its Auto Scaling
// group and running in EC2. In production the same check is one `aws` CLI call (docs/aws.md).
// Usage: node --import tsx asg-instance-health.ts <endpoint> <region> [standby-ok]
// With standby-ok an instance in Standby counts too (aws-asg mode replace-instances keeps the idle
// slot's instances warm in Standby; in production the check is an HTTP probe of the instance).
import { AutoScalingClient, DescribeAutoScalingInstancesCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';

const [endpoint, region, standby] = process.argv.slice(2);
const lifecycles = standby === 'standby-ok' ? ['InService', 'Standby'] : ['InService'];
const instanceId = process.env.TARGET_ID ?? '';
// moto accepts any credentials; these are never real ones.
const client = {
  region: region ?? 'us-east-1',
  endpoint,
  maxAttempts: 1,
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
};
const asg = new AutoScalingClient(client);
const ec2 = new EC2Client(client);
try {
  const member = (await asg.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] })))
    .AutoScalingInstances?.[0];
  const state = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] })))
    .Reservations?.[0]?.Instances?.[0]?.State?.Name;
  const verdict = `${instanceId}: ${member?.LifecycleState ?? 'not in a group'}/${member?.HealthStatus ?? '-'}, ${state ?? 'unknown'}`;
  const healthy =
    lifecycles.includes(member?.LifecycleState ?? '') &&
    member?.HealthStatus?.toUpperCase() === 'HEALTHY' &&
    state === 'running';
  process.stdout.write(`${verdict}\n`);
  process.exitCode = healthy ? 0 : 1;
} finally {
  asg.destroy();
  ec2.destroy();
}
