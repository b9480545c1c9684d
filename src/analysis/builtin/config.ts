import { z } from 'zod';
import { duration } from '../../config/fields.js';
import { providerName } from '../provider-name.js';
import { percent } from './percent.js';

export const builtinAnalysisConfig = z
  .object({
    kind: z.literal('builtin'),
    name: providerName(),
    minRequests: z
      .number()
      .int()
      .min(1)
      .max(1_000_000_000)
      .default(50)
      .describe(
        'Requests the new slot must have served in the window before any verdict (fewer: inconclusive); the old slot needs as many to be compared with',
      ),
    maxErrorRate: percent()
      .prefault('1%')
      .describe('Fails when more of the new slot’s answers than this are 5xx or connection failures'),
    maxErrorRateIncrease: percent()
      .optional()
      .describe(
        'Fails when the new slot’s error rate exceeds the old slot’s by more than this many percentage points; unset: not compared',
      ),
    maxP99Increase: percent()
      .prefault('20%')
      .describe('Fails when the new slot’s p99 latency exceeds the old slot’s by more than this share'),
    maxP50Increase: percent()
      .optional()
      .describe(
        'Fails when the new slot’s median latency exceeds the old slot’s by more than this share; unset: not compared',
      ),
    minLatencyIncrease: duration()
      .default(25)
      .describe(
        'A p50/p99 increase smaller than this never fails, whatever its share: a few ms of jitter on a busy host is not a slower release',
      ),
  })
  .strict()
  .describe(
    'Compares the new slot with the old one from the router’s per-slot counters over each window: error rate, and p50/p99 latency (router kind builtin: its own proxy’s counters; haproxy: `show stat`, error rate only)',
  );

export type BuiltinAnalysisConfig = z.output<typeof builtinAnalysisConfig>;
