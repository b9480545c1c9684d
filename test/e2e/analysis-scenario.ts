// What the analysis end-to-end tests share: the deployment record as `cutover history --json`
// shows it, and a load that runs while a deploy does.
import assert from 'node:assert/strict';
import { startLoad, type RunningLoad } from '../support/load.js';
import type { CutoverHarness } from './harness.js';

/** The verdict an analysis stage wrote into the deployment's reason. */
export interface AnalysisReason {
  verdict: string;
  provider: string;
  measure: string;
  subject?: string;
  observed: unknown;
  threshold: unknown;
}

export interface AnalysedDeployment {
  id: string;
  phase: string;
  reason: { code: string; message: string; analysis?: AnalysisReason } | null;
}

/** The newest deployment in `cutover history --json`. */
export async function latestDeployment(harness: CutoverHarness): Promise<AnalysedDeployment> {
  const history = await harness.cli(['history', '--json']);
  assert.equal(history.code, 0, history.stderr);
  const [record] = (JSON.parse(history.stdout) as { deployments: AnalysedDeployment[] }).deployments;
  assert.ok(record, 'history lists the deployment');
  return record;
}

/** Runs `run` while `connections` keep-alive connections send GETs to `url`. */
export async function underLoad<T>(
  url: string,
  connections: number,
  run: (load: RunningLoad) => Promise<T>,
): Promise<T> {
  const load = startLoad({ url, connections, errorBackoffMs: 5 });
  try {
    return await run(load);
  } finally {
    await load.stop();
  }
}
