import type { Command } from 'commander';
import { z } from 'zod';
import { shadowSample } from '../proxy/shadow/shadow-sample.js';
import type { AnalysisFinding } from '../shared/analysis.js';
import { CutoverError, EXIT } from '../shared/errors.js';
import type { DeploymentRecord, JournalEntry } from '../shared/store.js';
import { verb, type CommonOptions } from './cli-context.js';
import { controlPlaneFor } from './control-plane.js';
import { renderShadowReport, type ShadowStageReport } from './diff-renderer.js';
import { printJson, printLine } from './output.js';

/** What the shadow stage journals (deployment-run.ts shadowStage); checked, since it is read back from the store. */
const journaledShadow = z.object({
  startedAt: z.string(),
  finding: z.record(z.string(), z.unknown()).nullable(),
  samples: z.array(shadowSample),
});

export function registerDiff(program: Command): void {
  program
    .command('diff')
    .argument('[deployment]', 'deployment id (default: the latest)')
    .description('show the differing answers the shadow comparison kept for a deployment (analysis.shadow)')
    .action(
      verb(async (mode, deploymentArg: string | undefined, options: CommonOptions) => {
        const plane = controlPlaneFor(options);
        if (plane.kind !== 'server') {
          throw new CutoverError(
            'CUTOVER_E_USAGE',
            'the shadow comparison runs in the builtin proxy: `cutover diff` asks the cutover server, and none runs',
          );
        }
        let id = deploymentArg;
        if (id === undefined) {
          const { deployments } = await plane.client.request<{ deployments: DeploymentRecord[] }>(
            'GET',
            '/v1/deployments?limit=1',
          );
          const latest = deployments[0];
          if (latest === undefined)
            throw new CutoverError('CUTOVER_E_NOT_FOUND', `${plane.config.app} has no deployment yet`);
          id = latest.id;
        }
        const { journal } = await plane.client.request<{
          deployment: DeploymentRecord;
          journal: JournalEntry[];
        }>('GET', `/v1/deployments/${encodeURIComponent(id)}`);
        const report = lastShadowReport(journal);
        if (report === undefined) {
          throw new CutoverError(
            'CUTOVER_E_NOT_FOUND',
            `deployment ${id} had no shadow comparison (analysis.shadow, before promotion)`,
          );
        }
        if (mode.json) printJson({ deployment: id, ...report });
        else for (const line of renderShadowReport(id, report)) printLine(line);
        return EXIT.OK;
      }),
    );
}

/** The last shadow stage a deployment journaled (a restart during verifying runs it again). */
function lastShadowReport(journal: readonly JournalEntry[]): ShadowStageReport | undefined {
  for (let i = journal.length - 1; i >= 0; i -= 1) {
    const data = journal[i]!.data.shadow;
    if (data === undefined) continue;
    const parsed = journaledShadow.safeParse(data);
    if (!parsed.success) continue;
    return {
      startedAt: parsed.data.startedAt,
      finding: parsed.data.finding as AnalysisFinding | null,
      samples: parsed.data.samples,
    };
  }
  return undefined;
}
