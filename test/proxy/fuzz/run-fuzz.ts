/**
 * The differential fuzz test for long runs:
 *   node --import tsx test/proxy/fuzz/run-fuzz.ts --fuzz 1000000 [--seed N] [--lanes 4]
 * (or CUTOVER_FUZZ_CASES=N). Prints the rate every 10 s and, on a finding, fast-check's
 * report: the seed and path that replay it, and the shrunk case.
 */
import { runFuzz } from './fuzz-run.js';

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index === -1 ? undefined : process.argv[index + 1];
  const parsed = Number(value ?? fallback);
  if (!Number.isInteger(parsed) || parsed < 0)
    throw new Error(`--${name} takes a whole number, not ${value}`);
  return parsed;
}

const cases = option('fuzz', Number(process.env.CUTOVER_FUZZ_CASES ?? 10_000));
const seed = option('seed', Date.now() % 2 ** 31);
const lanes = option('lanes', 4);
const started = Date.now();
process.stdout.write(`fuzzing ${cases} cases, seed ${seed}, ${lanes} lanes\n`);
try {
  const stats = await runFuzz({
    cases,
    seed,
    lanes,
    onProgress: (harness) => {
      const seconds = (Date.now() - started) / 1000;
      process.stdout.write(
        `${harness.stats.cases} cases in ${seconds.toFixed(0)} s (${(harness.stats.cases / seconds).toFixed(0)}/s)\n`,
      );
    },
  });
  const seconds = (Date.now() - started) / 1000;
  process.stdout.write(
    `${stats.cases} cases in ${seconds.toFixed(1)} s (${(stats.cases / seconds).toFixed(0)} cases/s), no finding: ` +
      `${stats.forwarded} requests reached the upstream, ${stats.refused} streams refused in part, ` +
      `${stats.resets} reset, ${stats.connectionsOpened} client connections\n`,
  );
} catch (error) {
  // fast-check's report (seed, path, counterexample), then what the property found.
  process.stdout.write(`${error instanceof Error ? error.message : String(error)}\n`);
  if (error instanceof Error && error.cause instanceof Error)
    process.stdout.write(`${error.cause.message}\n`);
  process.exitCode = 1;
}
