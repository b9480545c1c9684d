/**
 * A success or failure condition on a query's one number, written `result < 0.02` (or
 * structured, `{ op: '<', value: 0.02 }`). Parsed once at config load into an operator and a
 * number and compared in code: nothing a config holds is ever evaluated as an expression.
 */
import { z } from 'zod';

export const CONDITION_OPERATORS = ['<', '<=', '>', '>=', '==', '!='] as const;
export type ConditionOperator = (typeof CONDITION_OPERATORS)[number];

export interface Condition {
  readonly op: ConditionOperator;
  readonly value: number;
}

const WRITTEN = /^\s*result\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*$/;

const written = z
  .string()
  .describe('"result <op> <number>", op one of < <= > >= == !=, e.g. "result < 0.02"')
  .transform((text, ctx): Condition => {
    const match = WRITTEN.exec(text);
    const value = match ? Number(match[2]) : NaN;
    if (!match || !Number.isFinite(value)) {
      ctx.addIssue({
        code: 'custom',
        message: `"${text}" is not "result <op> <number>" with op one of ${CONDITION_OPERATORS.join(' ')}, e.g. "result < 0.02"`,
      });
      return z.NEVER;
    }
    return { op: match[1] as ConditionOperator, value };
  });

const structured = z
  .object({ op: z.enum(CONDITION_OPERATORS), value: z.number().finite() })
  .strict()
  .describe('{ op, value }: the result compared with value, e.g. { op: "<", value: 0.02 }');

export const condition = () => z.union([written, structured]);

export function holds(condition: Condition, result: number): boolean {
  switch (condition.op) {
    case '<':
      return result < condition.value;
    case '<=':
      return result <= condition.value;
    case '>':
      return result > condition.value;
    case '>=':
      return result >= condition.value;
    case '==':
      return result === condition.value;
    case '!=':
      return result !== condition.value;
  }
}

/** As the config would write it: "result < 0.02". */
export function describeCondition(condition: Condition): string {
  return `result ${condition.op} ${condition.value}`;
}
