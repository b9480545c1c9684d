// Provisions a slot with the process platform, prints the instances as one JSON line, then
// stays alive until killed. The tests SIGKILL it to prove the instances outlive cutover.
import { silentLogger } from '../../../src/shared/logger.js';
import { isSlot } from '../../../src/shared/slot.js';
import { processPlatformConfig } from '../../../src/platforms/process/config.js';
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
const instances = await platform.provision(input.slot, input.release);
process.stdout.write(`${JSON.stringify(instances)}\n`);
setInterval(() => undefined, 60_000);
