import { z } from 'zod';
import { duration } from '../../config/fields.js';
import { percent } from '../builtin/percent.js';
import { providerName } from '../provider-name.js';

/**
 * `analysis.shadow`: the stage before promotion that compares the new slot's answers with the
 * live slot's on mirrored traffic (router.mirror.compare), and how its verdict is reached.
 */
export const shadowAnalysisConfig = z
  .object({
    name: providerName(),
    duration: duration()
      .refine((ms) => ms >= 1_000, 'at least 1s')
      .describe('How long mirrored traffic is compared before any traffic moves, e.g. "2m"'),
    minCompared: z
      .number()
      .int()
      .min(1)
      .max(1_000_000_000)
      .default(50)
      .describe('Pairs that must have been compared before a verdict (fewer: inconclusive)'),
    maxDifferenceRate: percent()
      .prefault('1%')
      .describe('Fails when more of the compared pairs than this differ (default 1%)'),
  })
  .strict()
  .describe(
    'Before promotion, compare the new slot’s answers with the live ones on mirrored traffic (router kind builtin with mirror.compare)',
  );

export type ShadowAnalysisConfig = z.output<typeof shadowAnalysisConfig>;
