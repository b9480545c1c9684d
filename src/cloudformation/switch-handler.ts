/**
 * The Lambda handler of `Custom::CutoverSwitch`: Create and Update switch the balancer to the
 * named Auto Scaling group (attach, wait until its instances are healthy, detach every other
 * group: src/aws/group-switch.ts, the same code as the aws-elb and aws-target-group routers);
 * Delete leaves traffic alone unless `DetachOnDelete: "true"`. Every outcome, failures and
 * hostile events included, is PUT to the pre-signed response URL with a reason, and a switch
 * that would outlive the Lambda's remaining time answers FAILED before the Lambda is killed.
 * The handler itself never throws: CloudFormation would otherwise wait an hour for an answer.
 */
import { createHash } from 'node:crypto';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { BalancerAttachment } from '../aws/balancer-attachment.js';
import { AWS_CALL_TIMEOUT_MS_DEFAULT, callTimeoutOptions } from '../aws/call-timeout.js';
import { classicElbAttachment } from '../aws/classic-elb-attachment.js';
import { awsClientConfig, type AwsConnection } from '../aws/connection.js';
import { switchToGroup } from '../aws/group-switch.js';
import { targetGroupAttachment } from '../aws/target-group-attachment.js';
import {
  balancerId,
  describeIssues,
  requestEnvelope,
  switchProperties,
  type RequestEnvelope,
  type SwitchProperties,
} from './switch-event.js';
import { putResponse, switchResponse } from './switch-response.js';

/** The part of the Lambda context the handler reads. */
export interface LambdaContext {
  getRemainingTimeInMillis?(): number;
}

export type SwitchLog = (event: string, fields: Record<string, unknown>) => void;

export interface SwitchHandlerOptions {
  readonly connection: AwsConnection;
  /** One structured line per event; never the response URL's query (it is a signature). */
  readonly log?: SwitchLog;
  /** Lambda time kept back for the response PUT. */
  readonly reserveMs?: number;
  /** First poll interval while waiting for health. */
  readonly firstPollMs?: number;
}

export type SwitchHandler = (event: unknown, context?: LambdaContext) => Promise<void>;

/** Enough for the PUT (10 s timeout) and a margin. */
const RESERVE_MS_DEFAULT = 12_000;
/** Below this, no switch can finish: answer FAILED at once. */
const MIN_SWITCH_MS = 1_000;
/** When the context says nothing usable about time left (not Lambda): a Lambda's default timeout. */
const REMAINING_MS_UNKNOWN = 60_000;

/** Share of the time budget the switch may spend waiting for health. */
const HEALTH_SHARE = 0.8;

interface Outcome {
  status: 'SUCCESS' | 'FAILED';
  reason: string;
  data?: Record<string, string>;
}

export function createSwitchHandler(options: SwitchHandlerOptions): SwitchHandler {
  const log: SwitchLog = options.log ?? (() => {});
  return async (event, context) => {
    try {
      await handle(event, context, options, log);
    } catch (error) {
      // Only a bug gets here; still never throw into the Lambda runtime.
      log('cfn.internal-error', { error: error instanceof Error ? error.message : String(error) });
    }
  };
}

async function handle(
  event: unknown,
  context: LambdaContext | undefined,
  options: SwitchHandlerOptions,
  log: SwitchLog,
): Promise<void> {
  const startedAt = Date.now();
  const envelope = requestEnvelope.safeParse(event);
  if (!envelope.success) {
    // Without a response URL, stack id and request id there is no one to answer.
    log('cfn.unanswerable', { reason: describeIssues(envelope.error) });
    return;
  }
  const request = envelope.data;
  const physicalResourceId = request.PhysicalResourceId ?? stablePhysicalId(request);
  const properties = switchProperties.safeParse(objectField(event, 'ResourceProperties'));
  log('cfn.request', { requestType: request.RequestType, logicalResourceId: request.LogicalResourceId });
  const outcome = await decide(request, properties, remainingMs(context, startedAt), options, log);
  const response = switchResponse(request, { ...outcome, physicalResourceId });
  try {
    const status = await putResponse(request.ResponseURL, response);
    log('cfn.responded', {
      status: outcome.status,
      httpStatus: status,
      to: new URL(request.ResponseURL).host,
    });
  } catch (error) {
    log('cfn.response-failed', { error: error instanceof Error ? error.message : String(error) });
  }
}

async function decide(
  request: RequestEnvelope,
  properties: ReturnType<typeof switchProperties.safeParse>,
  remaining: () => number,
  options: SwitchHandlerOptions,
  log: SwitchLog,
): Promise<Outcome> {
  if (request.RequestType === 'Delete') {
    // A Delete follows a failed Create too: it must succeed whatever the properties say.
    if (!properties.success || properties.data.DetachOnDelete !== 'true') {
      return { status: 'SUCCESS', reason: 'Delete leaves the group attached (DetachOnDelete is not "true")' };
    }
    return withBalancer(options, properties.data, async (balancer) => {
      const group = properties.data.AutoScalingGroupName;
      const attached = (await balancer.attachedGroups()).some((found) => found.name === group);
      if (attached) await balancer.detach(group);
      return {
        status: 'SUCCESS',
        reason: attached
          ? `detached ${group} from ${balancer.label}`
          : `${group} was not attached to ${balancer.label}`,
        data: { AutoScalingGroupName: group, Detached: String(attached) },
      };
    });
  }
  if (!properties.success) {
    return { status: 'FAILED', reason: `invalid properties: ${describeIssues(properties.error)}` };
  }
  const reserve = options.reserveMs ?? RESERVE_MS_DEFAULT;
  const budget = remaining() - reserve;
  if (budget < MIN_SWITCH_MS) {
    return {
      status: 'FAILED',
      reason: `not enough Lambda time left to switch (${Math.max(0, remaining())} ms left, ${reserve} ms kept for the response); raise the function's timeout`,
    };
  }
  const deadline = Date.now() + budget;
  // The wait for health stops earlier, leaving time to withdraw a group that never got healthy.
  const healthDeadline = Date.now() + Math.floor(budget * HEALTH_SHARE);
  const { AutoScalingGroupName: group } = properties.data;
  return withBalancer(options, properties.data, async (balancer, autoScaling) => {
    const switched = switchToGroup(
      balancer,
      autoScaling,
      group,
      {
        deadline: healthDeadline,
        ...(options.firstPollMs === undefined ? {} : { firstPollMs: options.firstPollMs }),
      },
      (step) => log(`cfn.switch.${step.step}`, { ...step }),
    );
    const outcome = await raceDeadline(switched, deadline);
    if (outcome === 'out-of-time') {
      return {
        status: 'FAILED',
        reason: `the switch to ${group} would outlive the Lambda's remaining time; raise the function's timeout (whatever was attached stays attached)`,
      };
    }
    return {
      status: 'SUCCESS',
      reason: `${balancer.label} now sends traffic to ${group} only`,
      data: {
        AutoScalingGroupName: group,
        Attached: String(outcome.attached),
        Detached: outcome.detached.join(','),
      },
    };
  });
}

/** Runs `work` with clients for the balancer the properties name; any error becomes FAILED. */
async function withBalancer(
  options: SwitchHandlerOptions,
  properties: SwitchProperties,
  work: (balancer: BalancerAttachment, autoScaling: AutoScalingClient) => Promise<Outcome>,
): Promise<Outcome> {
  const config = {
    ...awsClientConfig(options.connection),
    ...callTimeoutOptions(AWS_CALL_TIMEOUT_MS_DEFAULT),
  };
  const autoScaling = new AutoScalingClient(config);
  const elb = new ElasticLoadBalancingClient(config);
  const elbv2 = new ElasticLoadBalancingV2Client(config);
  try {
    const balancer =
      properties.TargetGroupArn !== undefined
        ? targetGroupAttachment({ autoScaling, elbv2 }, properties.TargetGroupArn)
        : classicElbAttachment({ autoScaling, elb }, properties.LoadBalancerName ?? '');
    return await work(balancer, autoScaling);
  } catch (error) {
    return {
      status: 'FAILED',
      reason: `${balancerId(properties)}: ${error instanceof Error ? error.message : String(error)}`,
    };
  } finally {
    autoScaling.destroy();
    elb.destroy();
    elbv2.destroy();
  }
}

function raceDeadline<T>(work: Promise<T>, deadline: number): Promise<T | 'out-of-time'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'out-of-time'>((resolve) => {
    timer = setTimeout(() => resolve('out-of-time'), Math.max(0, deadline - Date.now()));
  });
  // The switch may still reject after the deadline won the race: observed, not left floating.
  work.catch(() => {});
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Milliseconds the Lambda has left, read fresh each time; a context that cannot say gets the default. */
function remainingMs(context: LambdaContext | undefined, startedAt: number): () => number {
  return () => {
    let left: unknown;
    try {
      left =
        typeof context?.getRemainingTimeInMillis === 'function'
          ? context.getRemainingTimeInMillis()
          : undefined;
    } catch {
      left = undefined;
    }
    return typeof left === 'number' && Number.isFinite(left)
      ? left
      : REMAINING_MS_UNKNOWN - (Date.now() - startedAt);
  };
}

/** The same id for every request about one resource of one stack (Create, then every Update). */
function stablePhysicalId(request: RequestEnvelope): string {
  const stack = createHash('sha256').update(request.StackId).digest('hex').slice(0, 12);
  return `cutover-switch-${request.LogicalResourceId.slice(0, 200)}-${stack}`;
}

function objectField(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}
