import { GetConsoleOutputCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { isAwsError } from '../../aws/aws-error-name.js';
import type { LogLine } from '../../shared/platform.js';

/**
 * What EC2 keeps of an instance's output: its serial console (boot messages, cloud-init and
 * whatever the user data prints), the last 64 KiB, refreshed by AWS every few minutes. An
 * instance without any yet (just launched, or gone) gives no lines.
 */
export async function consoleLines(ec2: EC2Client, instanceId: string, tail: number): Promise<LogLine[]> {
  let encoded: string | undefined;
  try {
    encoded = (await ec2.send(new GetConsoleOutputCommand({ InstanceId: instanceId }))).Output;
  } catch (error) {
    if (isAwsError(error, 'InvalidInstanceID.NotFound')) return [];
    throw error;
  }
  if (encoded === undefined || encoded === '') return [];
  const lines = Buffer.from(encoded, 'base64')
    .toString('utf8')
    .split(/\r?\n/)
    .filter((line) => line.length > 0);
  return lines.slice(Math.max(0, lines.length - tail)).map((line) => ({
    instanceId,
    stream: 'stdout' as const,
    line,
  }));
}
