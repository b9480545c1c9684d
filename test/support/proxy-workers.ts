/**
 * The builtin router's proxy workers seen from outside, through their control sockets in the
 * state directory: tests count them (none leaked) and end the ones a killed server left.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { ControlClient } from '../../src/routers/builtin/worker/control-client.js';
import { hasEnded, waitUntilEnded } from './pid-gone.js';

/** Pids of the workers answering on `<stateDir>/workers/*.sock`. */
export async function runningWorkerPids(stateDir: string): Promise<number[]> {
  const dir = path.join(stateDir, 'workers');
  if (!existsSync(dir)) return [];
  const pids: number[] = [];
  for (const name of readdirSync(dir).filter((file) => file.endsWith('.sock'))) {
    try {
      const { client, hello } = await ControlClient.connect(path.join(dir, name), () => undefined);
      client.close();
      if (!(await hasEnded(hello.pid))) pids.push(hello.pid);
    } catch {
      // A socket file nobody answers on: a worker killed outright.
    }
  }
  return pids;
}

/** kill -9 of every worker still answering; waits until they are gone. */
export async function killWorkers(stateDir: string): Promise<void> {
  for (const pid of await runningWorkerPids(stateDir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
    await waitUntilEnded(pid);
  }
}

/**
 * Pids of every process running a proxy worker of this state directory, found in /proc by
 * the control socket path on its command line: a worker that lost or removed its socket (and
 * so escapes runningWorkerPids) is still counted here.
 */
export async function workerProcessPids(stateDir: string): Promise<number[]> {
  const prefix = path.join(stateDir, 'workers') + path.sep;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // ended while we looked
    }
    if (argv.some((arg) => arg.startsWith(prefix)) && !(await hasEnded(pid))) pids.push(pid);
  }
  return pids.sort((a, b) => a - b);
}
