import { definePlatform } from '../descriptor.js';
import { sshPlatformConfig } from './config.js';

/** Processes on a fleet of hosts reached over SSH, under a supervisor script cutover installs. */
export const sshPlatform = definePlatform({
  kind: 'ssh',
  configSchema: sshPlatformConfig,
  capabilities: {},
  create: async (config, deps) => {
    const { createSshPlatform } = await import('./ssh-platform.js');
    return createSshPlatform(config, { app: deps.app, baseDir: deps.baseDir, logger: deps.logger });
  },
});
