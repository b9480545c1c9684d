import type { CutoverConfig } from '../config/schema.js';
import { CutoverError } from '../shared/errors.js';
import { readServerInfo } from '../server/server-info.js';
import { AdminClient } from './admin-client.js';
import { loadCliConfig, type CommonOptions } from './cli-context.js';
import { processExists } from '../shared/process-exists.js';

/**
 * Who carries out a verb: the running `cutover server` over its admin API, or (one-shot mode)
 * the engine inside this CLI, when no server runs and the router lives outside cutover.
 */
export type ControlPlane =
  | { readonly kind: 'server'; readonly config: CutoverConfig; readonly client: AdminClient }
  | { readonly kind: 'in-process'; readonly config: CutoverConfig };

export function controlPlaneFor(options: CommonOptions): ControlPlane {
  const config = loadCliConfig(options);
  if (process.env.CUTOVER_ADMIN_URL !== undefined || serverRuns(config))
    return { kind: 'server', config, client: AdminClient.forConfig(config) };
  if (config.router.kind !== 'builtin') return { kind: 'in-process', config };
  throw new CutoverError(
    'CUTOVER_E_SERVER_UNREACHABLE',
    `no cutover server runs for ${config.app}, and the builtin router's proxy lives in the server: start it with \`cutover server -c ${config.file}\` (without a server, one-shot mode needs an external router: nginx, haproxy, varnish or caddy)`,
  );
}

/** server.json names a process that is still alive (a crashed server leaves its file behind). */
function serverRuns(config: CutoverConfig): boolean {
  const info = readServerInfo(config.stateDirPath);
  return info !== undefined && processExists(info.pid);
}
