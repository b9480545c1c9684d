/**
 * One measurement: the query's number judged by the conditions, the way Argo Rollouts' analysis
 * reads them. With both conditions, the failure condition wins when both hold and neither holding
 * is inconclusive; with only a success condition, not meeting it fails; with only a failure
 * condition, not meeting it passes.
 */
import type { Verdict } from '../../shared/analysis.js';
import { describeCondition, holds, type Condition } from './condition.js';
import type { QueryAnswer } from './query-answer.js';

export interface Conditions {
  readonly successCondition?: Condition | undefined;
  readonly failureCondition?: Condition | undefined;
}

export interface Measurement {
  readonly verdict: Verdict;
  readonly observed: string | number;
  readonly reason: string;
}

export function measure(answer: QueryAnswer, conditions: Conditions): Measurement {
  if (answer.kind === 'no-value')
    return { verdict: 'inconclusive', observed: answer.observed, reason: answer.reason };
  const { value } = answer;
  // ±Inf compares as a number but would become null in the JSON of the record.
  const observed = Number.isFinite(value) ? value : String(value);
  const { successCondition: success, failureCondition: failure } = conditions;
  if (failure !== undefined && holds(failure, value))
    return {
      verdict: 'fail',
      observed,
      reason: `result ${value} meets ${describeCondition(failure)}`,
    };
  if (success !== undefined && holds(success, value))
    return {
      verdict: 'pass',
      observed,
      reason: `result ${value} meets ${describeCondition(success)}`,
    };
  if (success !== undefined && failure !== undefined)
    return {
      verdict: 'inconclusive',
      observed,
      reason: `result ${value} meets neither ${describeCondition(success)} nor ${describeCondition(failure)}`,
    };
  if (success !== undefined)
    return {
      verdict: 'fail',
      observed,
      reason: `result ${value} does not meet ${describeCondition(success)}`,
    };
  return {
    verdict: 'pass',
    observed,
    reason: `result ${value} does not meet ${describeCondition(failure!)}`,
  };
}

/** The threshold a finding shows: the condition(s) the result is judged by. */
export function describeConditions(conditions: Conditions): string {
  const parts: string[] = [];
  if (conditions.successCondition) parts.push(`pass: ${describeCondition(conditions.successCondition)}`);
  if (conditions.failureCondition) parts.push(`fail: ${describeCondition(conditions.failureCondition)}`);
  return parts.join(', ');
}
