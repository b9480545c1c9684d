// Provisions a slot with the ssh platform, prints the instances as one JSON line, then stays
// alive until killed. The contract suite SIGKILLs it to play cutover crashing.
import { silentLogger } from '../../../src/shared/logger.js';
import { isSlot } from '../../../src/shared/slot.js';
import { sshPlatformConfig } from '../../../src/platforms/ssh/config.js';
import { createSshPlatform } from '../../../src/platforms/ssh/ssh-platform.js';

interface Input {
  config: unknown;
  app: string;
  baseDir: string;
  slot: string;
  release: string;
}

const input = JSON.parse(process.argv[2] ?? '{}') as Input;
if (!isSlot(input.slot)) throw new Error(`not a slot: ${input.slot}`);
const platform = createSshPlatform(sshPlatformConfig.parse(input.config), {
  app: input.app,
  baseDir: input.baseDir,
  logger: silentLogger,
});
const instances = await platform.provision(input.slot, input.release);
process.stdout.write(`${JSON.stringify(instances)}\n`);
setInterval(() => undefined, 60_000);
