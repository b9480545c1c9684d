/**
 * Named places between two AWS calls where a crash of cutover must leave nothing a rerun
 * duplicates. Tests set CUTOVER_TEST_AWS_CRASH_AT=N in a child process that provisions; the N-th
 * crash point it passes SIGKILLs the process at once, on the very code path production runs.
 * Unset (always, outside those tests) a crash point only counts.
 */
const crashAt = parseCrashAt(process.env.CUTOVER_TEST_AWS_CRASH_AT);
let passed = 0;

export function awsCrashPoint(): void {
  passed += 1;
  if (passed === crashAt) process.kill(process.pid, 'SIGKILL');
}

/** How many crash points this process has passed (a test's child reports it when it is done). */
export function awsCrashPointsPassed(): number {
  return passed;
}

function parseCrashAt(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`CUTOVER_TEST_AWS_CRASH_AT must be a whole number from 1, got "${value}"`);
  }
  return n;
}
