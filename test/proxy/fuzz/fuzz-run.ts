/** Runs the differential fuzz property (fuzz-harness.ts) for a number of cases, from a seed. */
import fc from 'fast-check';
import { FuzzHarness } from './fuzz-harness.js';
import { fuzzCase } from './request-model.js';

export interface FuzzRunOptions {
  readonly cases: number;
  readonly seed: number;
  /** Client connections used at once. */
  readonly lanes: number;
  /** Called about every `progressEvery` ms with the cases run so far. */
  readonly onProgress?: (harness: FuzzHarness) => void;
  readonly progressEvery?: number;
}

/** Resolves with the harness's stats; rejects with fast-check's report (seed, path, shrunk case). */
export async function runFuzz(options: FuzzRunOptions): Promise<FuzzHarness['stats']> {
  const harness = await FuzzHarness.start();
  const progress =
    options.onProgress === undefined
      ? undefined
      : setInterval(() => options.onProgress!(harness), options.progressEvery ?? 10_000);
  try {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fuzzCase, { minLength: options.lanes, maxLength: options.lanes }),
        async (batch) => {
          const violations = await harness.runBatch(batch);
          if (violations.length > 0) throw new Error(violations.join('\n'));
          if (harness.proxy.exit !== undefined) throw new Error('the proxy process exited');
        },
      ),
      { seed: options.seed, numRuns: Math.ceil(options.cases / options.lanes), endOnFailure: true },
    );
    return harness.stats;
  } finally {
    clearInterval(progress);
    await harness.stop();
  }
}
