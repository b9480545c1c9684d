/**
 * Counting a process's user-space instructions with valgrind's callgrind: a count, not a time,
 * so the same build doing the same work gives the same figure (within about 1 %) whatever else
 * the machine is doing. Kernel work (the syscalls themselves) is not counted.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { requireBinary } from './daemons.js';

/** The command prefix that runs a process under callgrind, counting nothing until told to. */
export function callgrindWrapper(dir: string): string[] {
  requireBinary('valgrind', 'apt-get install -y valgrind');
  requireBinary('callgrind_control', 'apt-get install -y valgrind');
  return [
    'valgrind',
    '--tool=callgrind',
    '--instr-atstart=no',
    `--callgrind-out-file=${path.join(dir, 'callgrind.%p')}`,
  ];
}

function control(pid: number, args: string[]): void {
  const result = spawnSync('callgrind_control', [...args, String(pid)], { encoding: 'utf8' });
  if (result.status !== 0)
    throw new Error(`callgrind_control ${args.join(' ')} ${pid} failed: ${result.stderr || result.stdout}`);
}

/**
 * Instructions the process `pid` (started under callgrindWrapper(dir)) executes while `work`
 * runs. The process is stopped with `stop` afterwards: callgrind writes its counts on exit.
 */
export async function countInstructions(
  pid: number,
  dir: string,
  work: () => Promise<void>,
  stop: () => Promise<void>,
): Promise<number> {
  control(pid, ['--instr=on']);
  try {
    await work();
    control(pid, ['--instr=off']);
  } finally {
    await stop();
  }
  let total = 0;
  for (const name of readdirSync(dir)) {
    if (name !== `callgrind.${pid}` && !name.startsWith(`callgrind.${pid}.`)) continue;
    const totals = /^totals: (\d+)/m.exec(readFileSync(path.join(dir, name), 'utf8'));
    if (totals !== null) total += Number(totals[1]);
  }
  if (total === 0)
    throw new Error(`callgrind counted nothing for process ${pid}: ${readdirSync(dir).join(', ')} in ${dir}`);
  return total;
}
