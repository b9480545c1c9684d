import { z } from 'zod';
import { ANALYSIS_CONFIG_SCHEMAS } from '../analysis/descriptors.js';
import { shadowAnalysisConfig } from '../analysis/shadow/config.js';
import { DEFAULTS } from './defaults.js';
import { duration } from './fields.js';

/** One option per provider folder, from its descriptor (src/analysis/descriptors.ts). */
export const analysisProviderConfig = z.discriminatedUnion('kind', ANALYSIS_CONFIG_SCHEMAS);

/** Asking a provider more often than this only loads its source. */
const MIN_INTERVAL_MS = 100;

export const analysisConfig = z
  .object({
    bake: duration()
      .default(0)
      .describe(
        'After promotion, watch the new release this long before draining the old slot; a failed verdict rolls back. 0: no bake',
      ),
    interval: duration()
      .default(DEFAULTS.analysisIntervalMs)
      .describe('How often each provider is asked during a shift step and the bake, e.g. "30s"'),
    duringShift: z
      .boolean()
      .default(true)
      .describe(
        'Ask the providers during each shift step’s pause or gate too (a failed verdict aborts the shift)',
      ),
    onInconclusive: z
      .enum(['gate', 'pass'])
      .default('gate')
      .describe(
        'When the last check of a step or of the bake is inconclusive: gate waits for `cutover promote` (or rollback); pass goes on',
      ),
    providers: z
      .array(analysisProviderConfig)
      .default([])
      .describe('Who is asked during shift steps and the bake; each answers pass, fail or inconclusive'),
    shadow: shadowAnalysisConfig.optional(),
  })
  .strict()
  .superRefine((analysis, ctx) => {
    if (analysis.providers.length === 0 && analysis.shadow === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['providers'],
        message: 'name at least one provider (providers), or a shadow comparison before promotion (shadow)',
      });
    }
    if (analysis.interval < MIN_INTERVAL_MS) {
      ctx.addIssue({ code: 'custom', path: ['interval'], message: `must be at least ${MIN_INTERVAL_MS}ms` });
    }
    const seen = new Set<string>();
    analysis.providers.forEach((provider, index) => {
      const name = provider.name ?? provider.kind;
      if (seen.has(name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['providers', index, 'name'],
          message: `two providers are called "${name}": give each a distinct name`,
        });
      }
      seen.add(name);
      if (provider.kind === 'cloudwatch-alarms' && provider.alarms.length === 0 && !provider.alarmPrefix) {
        ctx.addIssue({
          code: 'custom',
          path: ['providers', index, 'alarms'],
          message: 'name the alarms to watch (alarms), or an alarmPrefix, or both',
        });
      }
    });
  })
  .describe('Checks of the new release during shift steps and a bake period after promotion');

export type AnalysisConfig = z.output<typeof analysisConfig>;
export type AnalysisProviderConfig = z.output<typeof analysisProviderConfig>;
