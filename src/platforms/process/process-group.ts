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
export function stopProcessGroup(pid: number, procStartTime: string, graceMs: number): Promise<StopOutcome> {
  return stopProcess(pid, procStartTime, graceMs, 'group');
}

/**
 * Stops one process the same way, or the group it leads (`scope` 'group'): for a process found
 * by its environment that does not lead a group (the child of an instance whose leader is gone).
 */
export async function stopProcess(
  pid: number,
  procStartTime: string,
  graceMs: number,
  scope: 'group' | 'process',
): Promise<StopOutcome> {
  const target = scope === 'group' ? -pid : pid;
  if (!(await isSameProcessAlive(pid, procStartTime))) return 'not-running';
  if (!signal(target, 'SIGTERM')) return 'not-running';
  if (await waitForExit(pid, procStartTime, graceMs)) {
    // The leader is gone; anything it left behind in its group goes with it.
    if (scope === 'group') signal(target, 'SIGKILL');
    return 'exited';
  }
  signal(target, 'SIGKILL');
  if (!(await waitForExit(pid, procStartTime, KILL_WAIT_MS))) {
    throw new Error(`process ${pid} is still alive ${KILL_WAIT_MS} ms after SIGKILL`);
  }
  return 'killed';
}

/** Sends a signal to a process (pid) or a whole group (-pid); false when it no longer exists. */
function signal(target: number, name: NodeJS.Signals): boolean {
  try {
    process.kill(target, name);
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
