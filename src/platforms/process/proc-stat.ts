import { readFile } from 'node:fs/promises';

/** The facts cutover reads from /proc/<pid>/stat to tell its own processes from recycled pids. */
export interface ProcStat {
  /** One-letter state: R, S, D, Z (zombie), X (dead) … */
  readonly state: string;
  /** Field 5: the process group's id. */
  readonly processGroup: number;
  /** Field 22: start time after boot, in clock ticks. Together with the pid it names one process. */
  readonly startTime: string;
}

/** Reads /proc/<pid>/stat; undefined when no such process exists. */
export async function readProcStat(pid: number): Promise<ProcStat | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    if (isGone(error)) return undefined;
    throw error;
  }
  // The command name (field 2) is in parentheses and may itself hold spaces or ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const processGroup = fields[2];
  const startTime = fields[19];
  if (state === undefined || processGroup === undefined || startTime === undefined) return undefined;
  return { state, processGroup: Number(processGroup), startTime };
}

/** True when `pid` is alive (not a zombie) and is the very process that started at `startTime`. */
export async function isSameProcessAlive(pid: number, startTime: string): Promise<boolean> {
  const stat = await readProcStat(pid);
  return stat !== undefined && stat.startTime === startTime && stat.state !== 'Z' && stat.state !== 'X';
}

function isGone(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ESRCH';
}
