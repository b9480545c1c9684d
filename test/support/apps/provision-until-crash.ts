// Provisions a slot with the process platform and prints {"crashPoints": N} when done. With
// CUTOVER_TEST_CRASH_AT=K in its environment it SIGKILLs itself at the K-th crash point of the
// provision instead (see src/platforms/process/crash-point.ts), on the production code path.
import { silentLogger } from '../../../src/shared/logger.js';
import { isSlot } from '../../../src/shared/slot.js';
import { processPlatformConfig } from '../../../src/platforms/process/config.js';
import { crashPointsPassed } from '../../../src/platforms/process/crash-point.js';
import { createProcessPlatform } from '../../../src/platforms/process/process-platform.js';

interface Input {
  config: unknown;
  baseDir: string;
  stateDir: string;
  slot: string;
  release: string;
}

const input = JSON.parse(process.argv[2] ?? '{}') as Input;
if (!isSlot(input.slot)) throw new Error(`not a slot: ${input.slot}`);
const platform = createProcessPlatform(processPlatformConfig.parse(input.config), {
  app: 'test',
  baseDir: input.baseDir,
  stateDir: input.stateDir,
  logger: silentLogger,
});
const before = crashPointsPassed();
await platform.provision(input.slot, input.release);
process.stdout.write(`${JSON.stringify({ crashPoints: crashPointsPassed() - before })}\n`);
