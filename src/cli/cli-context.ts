import { userInfo, hostname } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../config/load.js';
import type { CutoverConfig } from '../config/schema.js';
import { outputMode, printWarning, reportError, type OutputMode } from './output.js';

export interface CommonOptions {
  config?: string;
  json?: boolean;
}

export const DEFAULT_CONFIG_FILE = 'cutover.yml';

export function configPath(options: CommonOptions): string {
  return path.resolve(options.config ?? process.env.CUTOVER_CONFIG ?? DEFAULT_CONFIG_FILE);
}

/** The config, with a warning on stderr for each old key it still uses. */
export function loadCliConfig(options: CommonOptions): CutoverConfig {
  const config = loadConfig(configPath(options));
  for (const deprecation of config.deprecations) printWarning(deprecation.message);
  return config;
}

/** Who asked: recorded in the audit log. */
export function actor(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (some containers): the host still identifies the caller.
    user = `uid-${process.getuid?.() ?? 'unknown'}`;
  }
  return `${process.env.CUTOVER_ACTOR ?? user}@${hostname()}`;
}

/** Runs a verb, turning any error into one line and an exit code a pipeline can act on. */
export function verb<A extends unknown[]>(
  body: (mode: OutputMode, ...args: A) => Promise<number | void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const options = args.find((arg) => typeof arg === 'object' && arg !== null && !Array.isArray(arg)) as
      CommonOptions | undefined;
    const mode = outputMode(options?.json);
    try {
      process.exitCode = (await body(mode, ...args)) ?? 0;
    } catch (error) {
      process.exitCode = reportError(error, mode);
    }
  };
}
