/**
 * What cutover reads back from varnishd: the loaded VCLs, backend health in one VCL, and the
 * per-backend connection gauges. Each function is one varnishadm/varnishstat command.
 */
import { execFile } from 'node:child_process';
import { childEnv } from '../../shared/child-env.js';
import { CutoverError } from '../../shared/errors.js';
import { varnishadm, type VarnishadmTarget } from './varnishadm.js';

export interface LoadedVcl {
  readonly name: string;
  /** `active` or `available` (or `discarded` while a busy VCL drains). */
  readonly status: string;
  /** `auto`, `warm` or `cold`: what was asked. */
  readonly state: string;
  /** `warm`, `cold`, `cooling` …: what it is now. */
  readonly temperature: string;
  /** Requests still running on this VCL. */
  readonly busy: number;
}

/** `vcl.list -j`: `[version, argv, time, {vcl}, {vcl} …]`. */
export async function listVcls(target: VarnishadmTarget): Promise<LoadedVcl[]> {
  const parsed = parseJsonReply(await varnishadm(target, ['vcl.list', '-j']), 'vcl.list');
  return parsed.slice(3).flatMap((entry) => {
    if (typeof entry !== 'object' || entry === null) return [];
    const { name, status, state, temperature, busy } = entry as Record<string, unknown>;
    if (typeof name !== 'string') return [];
    return [
      {
        name,
        status: String(status),
        state: String(state),
        temperature: String(temperature),
        busy: typeof busy === 'number' ? busy : 0,
      },
    ];
  });
}

export interface BackendHealth {
  /** Backend name without the VCL prefix, e.g. `cutover_blue_0`. */
  readonly backend: string;
  readonly healthy: boolean;
  /** `3/3 healthy`, `admin sick` …, for messages. */
  readonly detail: string;
}

/** Health of the plain backends (not directors) of one VCL whose name matches `pattern`. */
export async function backendHealth(
  target: VarnishadmTarget,
  vcl: string,
  pattern = 'cutover_*',
): Promise<BackendHealth[]> {
  const parsed = parseJsonReply(
    await varnishadm(target, ['backend.list', '-j', `${vcl}.${pattern}`]),
    'backend.list',
  );
  const table = parsed[3];
  if (typeof table !== 'object' || table === null) return [];
  return Object.entries(table as Record<string, unknown>).flatMap(([fullName, value]) => {
    if (typeof value !== 'object' || value === null) return [];
    const { type, admin_health: admin, probe_message: probe } = value as Record<string, unknown>;
    if (type !== 'backend') return [];
    const backend = fullName.slice(vcl.length + 1);
    if (admin === 'healthy' || admin === 'sick') {
      return [{ backend, healthy: admin === 'healthy', detail: `admin ${admin}` }];
    }
    const [good, window, verdict] = Array.isArray(probe) ? (probe as unknown[]) : [];
    return [
      {
        backend,
        healthy: verdict === 'healthy',
        detail: `${String(good)}/${String(window)} ${String(verdict)}`,
      },
    ];
  });
}

/**
 * Sum of the `conn` gauge (backend connections in use, i.e. requests in flight in pass mode)
 * of every backend named `cutover_<slot>_*`, in every VCL varnishstat shows: a request that
 * started on an older VCL still counts there until it finishes.
 */
export function countBackendConnections(
  varnishstat: string,
  workdir: string,
  slot: string,
  timeoutMs: number,
): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile(
      varnishstat,
      ['-n', workdir, '-t', '5', '-1', '-j', '-f', `VBE.*.cutover_${slot}_*.conn`],
      { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, env: childEnv() },
      (error, stdout, stderr) => {
        if (error !== null) {
          reject(
            new CutoverError(
              'CUTOVER_E_ROUTER',
              `varnishstat failed: ${`${stderr}`.trim() || error.message}`,
              {
                cause: error,
              },
            ),
          );
          return;
        }
        try {
          const parsed = JSON.parse(stdout) as { counters?: Record<string, { value?: unknown }> };
          const counters = parsed.counters ?? {};
          resolve(
            Object.values(counters).reduce(
              (sum, counter) => sum + (typeof counter.value === 'number' ? counter.value : 0),
              0,
            ),
          );
        } catch (parseError) {
          reject(
            new CutoverError('CUTOVER_E_ROUTER', 'varnishstat printed something other than JSON', {
              cause: parseError,
            }),
          );
        }
      },
    );
  });
}

/** The `address port` lines of `debug.listen_address`, as URLs. */
export async function listenUrls(target: VarnishadmTarget): Promise<string[]> {
  const output = await varnishadm(target, ['debug.listen_address']);
  return output.split('\n').flatMap((line) => {
    const parts = line.trim().split(/\s+/);
    if (parts.length < 3) return [];
    const [, host = '', port = ''] = parts;
    if (!/^\d+$/.test(port)) return [];
    const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
    return [`http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`];
  });
}

function parseJsonReply(output: string, command: string): unknown[] {
  try {
    const parsed: unknown = JSON.parse(output);
    if (Array.isArray(parsed)) return parsed;
  } catch (error) {
    throw new CutoverError(
      'CUTOVER_E_ROUTER',
      `varnishd answered \`${command} -j\` with something other than JSON`,
      {
        cause: error,
      },
    );
  }
  throw new CutoverError('CUTOVER_E_ROUTER', `varnishd answered \`${command} -j\` with an unexpected shape`);
}
