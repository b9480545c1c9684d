/**
 * Compares a plan (`cutover deploy --plan --json`) with the requests moto recorded while the
 * deploy ran: same operations, same order, same input values, each placeholder standing for one
 * value the deploy sent (a list placeholder, `the instances of …`, for every value left).
 */
import assert from 'node:assert/strict';
import { isPlaceholder, type DeployPlan, type PlannedValue } from '../../src/shared/plan.js';
import type { AwsRequest } from './moto-recorder.js';

type PlannedCall = Extract<DeployPlan['phases'][number]['steps'][number], { kind: 'call' }>;

/** Parameters the SDK fills in itself (idempotency tokens), and the protocol's own. */
const NOT_INPUT = /^(Action|Version)$|ClientToken$/;

export function isMutating(request: AwsRequest): boolean {
  return !/^(Describe|Get|List)/.test(request.action);
}

/** Every leaf of a planned input, as the query protocol sends it (`true`, `2`), or a placeholder. */
function leaves(value: PlannedValue): (string | { placeholder: string })[] {
  if (isPlaceholder(value)) return [value];
  if (Array.isArray(value)) return value.flatMap((item: PlannedValue) => leaves(item));
  if (typeof value === 'object') return Object.values(value).flatMap((inner) => leaves(inner));
  return [String(value)];
}

/** What the value of a placeholder named so looks like, for a call that sends several. */
const KINDS: readonly (readonly [string, (sent: readonly string[]) => string | undefined])[] = [
  ['ARN of target group', (sent) => sent.find((value) => value.includes(':targetgroup/'))],
  ['ARN of load balancer', (sent) => sent.find((value) => value.includes(':loadbalancer/'))],
  ['ARN of scaling policy', (sent) => sent.find((value) => value.includes(':scalingPolicy:'))],
  ['CloudWatch name of load balancer', (sent) => sent.find((value) => /^app\/[^/]+\/[^/]+$/.test(value))],
  ['CloudWatch name of target group', (sent) => sent.find((value) => value.includes('targetgroup/'))],
  ['DNS name of', (sent) => sent.find((value) => value.includes('.'))],
  ['hosted zone of', (sent) => sent.find((value) => /^[A-Z0-9]{1,32}$/.test(value))],
];

/**
 * The planned call and the recorded request carry the same values: every known value of the
 * plan is sent, and what the request sent beyond them is one value per placeholder, returned.
 */
function matchInputs(planned: PlannedCall, request: AwsRequest): Map<string, string> {
  const sent = Object.entries(request.params)
    .filter(([key]) => !NOT_INPUT.test(key))
    .map(([, value]) => value);
  const known = Object.entries(planned.input)
    .filter(([key]) => !NOT_INPUT.test(key))
    .flatMap(([, value]) => leaves(value));
  const placeholders: string[] = [];
  for (const leaf of known) {
    if (typeof leaf !== 'string') {
      placeholders.push(leaf.placeholder);
      continue;
    }
    const at = sent.indexOf(leaf);
    assert.ok(
      at >= 0,
      `${planned.operation}: planned value ${leaf} was not sent (${JSON.stringify(request.params)})`,
    );
    sent.splice(at, 1);
  }
  const lists = placeholders.filter((name) => name.startsWith('the instances of')).length;
  assert.ok(
    lists > 0 ? sent.length >= placeholders.length : sent.length === placeholders.length,
    `${planned.operation}: sent ${JSON.stringify(sent)} beyond the plan's values, for placeholders ${JSON.stringify(placeholders)}`,
  );
  // Only an order-free match is possible once the known values are taken: the values left are
  // named by kind where the name says what they must look like.
  const bound = new Map<string, string>();
  for (const name of placeholders) {
    const value = name.startsWith('the instances of')
      ? sent.join(',')
      : name.startsWith('id of launch template')
        ? sent.find((candidate) => candidate.startsWith('lt-'))
        : name.startsWith('version of launch template')
          ? sent.find((candidate) => /^\d+$/.test(candidate))
          : name === 'id of this deployment'
            ? sent.find((candidate) => /^[0-9a-z-]{10,}$/i.test(candidate) && !candidate.startsWith('lt-'))
            : (KINDS.find(([prefix]) => name.startsWith(prefix))?.[1](sent) ?? sent[0]);
    assert.ok(
      value !== undefined,
      `${planned.operation}: no value sent for <${name}> in ${JSON.stringify(sent)}`,
    );
    // A list placeholder (`the instances of green …`) stands for every value left.
    if (name.startsWith('the instances of')) sent.splice(0);
    else sent.splice(sent.indexOf(value), 1);
    bound.set(name, value);
  }
  return bound;
}

/**
 * The recorded mutating requests are the planned calls in order; a planned call with a
 * condition may be missing (its condition was not met). Returns each placeholder's value.
 */
export function assertPlanMade(
  calls: readonly PlannedCall[],
  made: readonly AwsRequest[],
): Map<string, string> {
  const bound = new Map<string, string>();
  let next = 0;
  for (const call of calls) {
    const request = made[next];
    if (request?.action !== call.operation) {
      assert.ok(
        call.condition !== undefined,
        `planned ${call.operation}, made ${request?.action ?? 'nothing'}: planned ${calls.map((c) => c.operation).join(', ')}; made ${made.map((m) => m.action).join(', ')}`,
      );
      continue;
    }
    next += 1;
    for (const [name, value] of matchInputs(call, request)) {
      const earlier = bound.get(name);
      assert.ok(
        earlier === undefined || earlier === value,
        `<${name}> is one value: ${earlier} and ${value}`,
      );
      bound.set(name, value);
    }
  }
  assert.deepEqual(
    made.slice(next).map((m) => m.action),
    [],
    'calls made beyond the plan',
  );
  return bound;
}
