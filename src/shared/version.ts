import { readFileSync } from 'node:fs';

// package.json sits two levels up both from src/shared (tsx) and from dist/shared (built).
const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** cutover's own version, as `--version` prints it and notifications' User-Agent sends it. */
export const CUTOVER_VERSION = packageJson.version;
