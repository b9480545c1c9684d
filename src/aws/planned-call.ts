/**
 * One AWS call described before it is made: the service, the operation and its input. The
 * executors build each mutating call's input with a function that returns this, and send
 * `spec.input`; the planners (`cutover deploy --plan`) turn the same spec into a PlannedStep.
 * So what the plan prints is what the deploy sends, by construction, except for the values
 * only an earlier call gives (placeholders).
 */
import type { PlannedStep, PlannedValue } from '../shared/plan.js';

/** Service names as AWS's endpoints and IAM spell them. */
export type AwsService = 'autoscaling' | 'ec2' | 'elasticloadbalancing' | 'monitoring' | 'route53';

export interface AwsCallSpec<I extends object> {
  readonly service: AwsService;
  readonly operation: string;
  readonly input: I;
}

/** The plan step for `spec`; keys whose value is undefined are left out, as the SDK leaves them. */
export function plannedCall(spec: AwsCallSpec<object>, condition?: string): PlannedStep {
  return {
    kind: 'call',
    service: spec.service,
    operation: spec.operation,
    input: plainValue(spec.input) as { readonly [key: string]: PlannedValue },
    ...(condition === undefined ? {} : { condition }),
  };
}

function plainValue(value: unknown): PlannedValue {
  if (Array.isArray(value)) return value.map(plainValue);
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).filter(([, inner]) => inner !== undefined);
    return Object.fromEntries(entries.map(([key, inner]) => [key, plainValue(inner)]));
  }
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return String(value);
}
