import { readFile, readdir } from 'node:fs/promises';
import { readProcStat } from './proc-stat.js';

/**
 * The variable each instance is started with: a random key, written to the slot record before
 * the spawn. A cutover killed between the spawn and the write of the pid still finds the
 * process (and whatever it started: children inherit the environment) by this key.
 */
export const INSTANCE_KEY_VARIABLE = 'CUTOVER_INSTANCE_KEY';

export interface MarkedProcess {
  readonly pid: number;
  readonly processGroup: number;
  readonly startTime: string;
  readonly key: string;
}

/**
 * Walks /proc for live processes whose initial environment holds INSTANCE_KEY_VARIABLE set to
 * one of `keys`. Processes of other users cannot be read and are skipped: they are not ours.
 * Returns [] where /proc is missing (not Linux).
 */
export async function findMarkedProcesses(keys: ReadonlySet<string>): Promise<MarkedProcess[]> {
  if (keys.size === 0) return [];
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const prefix = `${INSTANCE_KEY_VARIABLE}=`;
  const found: MarkedProcess[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const environ = await readEnviron(pid);
    if (environ === undefined) continue;
    const key = environ
      .split('\0')
      .find((variable) => variable.startsWith(prefix))
      ?.slice(prefix.length);
    if (key === undefined || !keys.has(key)) continue;
    const stat = await readProcStat(pid);
    if (stat === undefined || stat.state === 'Z' || stat.state === 'X') continue;
    found.push({ pid, processGroup: stat.processGroup, startTime: stat.startTime, key });
  }
  return found;
}

async function readEnviron(pid: number): Promise<string | undefined> {
  try {
    return await readFile(`/proc/${pid}/environ`, 'latin1');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Gone meanwhile, another user's, or a kernel thread: none of them is an instance of ours.
    if (code === 'ENOENT' || code === 'ESRCH' || code === 'EACCES' || code === 'EPERM') return undefined;
    throw error;
  }
}
