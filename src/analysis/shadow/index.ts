/**
 * The `shadow` analysis provider: judges the difference rate of the mirrored pairs the builtin
 * proxy compared (router.mirror.compare) over the shadow stage, the window before promotion in
 * which the new slot gets copies of live requests and no traffic of its own.
 *
 * It is configured by `analysis.shadow`, not listed in `analysis.providers[]`: it only has
 * something to judge while the new slot is idle, and the providers of that list are asked during
 * shift steps and the bake, when copies go nowhere or to the old slot.
 */
import { defineAnalysis } from '../descriptor.js';
import { shadowAnalysisConfig } from './config.js';

export const shadowAnalysis = defineAnalysis({
  kind: 'shadow',
  configSchema: shadowAnalysisConfig,
  create: async (config, deps) => {
    const { ShadowAnalysisProvider } = await import('./shadow-provider.js');
    return new ShadowAnalysisProvider(config, deps.shadow);
  },
});
