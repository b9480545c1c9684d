import { setTimeout as sleep } from 'node:timers/promises';
import { isSameProcessAlive } from './proc-stat.js';

const POLL_MS = 25;
/** After SIGKILL the kernel needs a moment; longer than this means something is badly wrong. */
const KILL_WAIT_MS = 5_000;

export type StopOutcome = 'not-running' | 'exited' | 'killed';

/**
 * Stops the process group led by `pid`: SIGTERM, up to `graceMs` for the leader to exit, then
 * SIGKILL. Nothing is signalled unless `pid` is still the process that started at `procStartTime`,
 * so a recycled pid (someone else's process) is never touched.
 */
export async function stopProcessGroup(
  pid: number,
  procStartTime: string,
  graceMs: number,
): Promise<StopOutcome> {
  if (!(await isSameProcessAlive(pid, procStartTime))) return 'not-running';
  if (!signalGroup(pid, 'SIGTERM')) return 'not-running';
  if (await waitForExit(pid, procStartTime, graceMs)) {
    // The leader is gone; anything it left behind in its group goes with it.
    signalGroup(pid, 'SIGKILL');
    return 'exited';
  }
  signalGroup(pid, 'SIGKILL');
  if (!(await waitForExit(pid, procStartTime, KILL_WAIT_MS))) {
    throw new Error(`process ${pid} is still alive ${KILL_WAIT_MS} ms after SIGKILL`);
  }
  return 'killed';
}

/** Sends a signal to the whole group; false when the group no longer exists. */
function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

async function waitForExit(pid: number, procStartTime: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!(await isSameProcessAlive(pid, procStartTime))) return true;
    if (Date.now() >= deadline) return false;
    await sleep(Math.min(POLL_MS, Math.max(1, deadline - Date.now())));
  }
}
