import { z } from 'zod';

const PERCENT = /^(\d+(?:\.\d+)?)%$/;

/**
 * A share written as a percentage, "1%" or "0.5%", normalized to a fraction (0.01). The `%` is
 * required: a bare 0.01 could mean 1% or 0.01%, and a threshold must not be guessed.
 */
export const percent = () =>
  z
    .string()
    .describe('A percentage, e.g. "1%" or "0.5%"')
    .transform((value, ctx) => {
      const match = PERCENT.exec(value.trim());
      const share = match ? Number(match[1]) / 100 : NaN;
      if (!(share >= 0 && share <= 1)) {
        ctx.addIssue({
          code: 'custom',
          message: `"${value}" is not a percentage from 0% to 100%; write it with a %, e.g. "1%"`,
        });
        return z.NEVER;
      }
      return share;
    });

/** A fraction as people read it: 0.0523 → "5.23%". */
export function formatPercent(share: number): string {
  return `${Number((share * 100).toFixed(2))}%`;
}
