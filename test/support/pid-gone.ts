/** Whether a process has ended, for tests that check what a kill left behind. */
import { readProcStat } from '../../src/platforms/process/proc-stat.js';
import { waitFor } from './load.js';

/**
 * True once `pid` no longer runs: gone, or a zombie (killed, not yet reaped: reparented to a
 * PID 1 that may never reap it here).
 */
export async function hasEnded(pid: number): Promise<boolean> {
  const stat = await readProcStat(pid);
  return stat === undefined || stat.state === 'Z' || stat.state === 'X';
}

/** Waits until `pid` has ended; fails naming it when it still runs after `timeoutMs`. */
export async function waitUntilEnded(pid: number, timeoutMs = 5_000): Promise<void> {
  await waitFor(() => hasEnded(pid), { timeoutMs, what: `process ${pid} to end` });
}

/** The first line of `output` that is a pid (what a test command printed with `echo $!`). */
export function printedPid(output: string): number {
  const pid = Number(/^(\d+)$/m.exec(output)?.[1]);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no pid printed in: ${output}`);
  return pid;
}
