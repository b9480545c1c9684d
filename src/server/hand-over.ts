/**
 * `cutover server --upgrade`: the running server on the same state directory is asked to exit
 * leaving its proxy workers serving (SIGUSR2); once it is gone this process starts as its
 * successor and hands the traffic over to workers of its own code.
 */
import { loadConfig } from '../config/load.js';
import { CutoverError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { readServerInfo } from './server-info.js';

/** How long the old server may take to stop its runs at a safe point and exit. */
const HAND_OVER_TIMEOUT_MS = 60_000;
const POLL_MS = 50;

export async function handOverFromRunningServer(configFile: string, logger: Logger): Promise<void> {
  const { stateDirPath } = loadConfig(configFile);
  const running = readServerInfo(stateDirPath);
  if (running === undefined || !isRunning(running.pid)) {
    logger.info('server.upgrade_without_predecessor', { stateDir: stateDirPath });
    return;
  }
  logger.info('server.upgrade_handover', { from: running.pid });
  process.kill(running.pid, 'SIGUSR2');
  const deadline = Date.now() + HAND_OVER_TIMEOUT_MS;
  while (isRunning(running.pid)) {
    if (Date.now() > deadline) {
      throw new CutoverError(
        'CUTOVER_E_SERVER_RUNNING',
        `the running cutover server (pid ${running.pid}) did not exit within ${HAND_OVER_TIMEOUT_MS / 1000}s of SIGUSR2; its proxy workers still serve`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
