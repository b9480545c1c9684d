import { request } from 'node:http';
import { formatDuration } from '../shared/duration.js';
import type { Target } from '../shared/slot.js';
import { errorDetail, settleOnce, type ProbeOptions, type ProbeResult } from './probe-result.js';

export interface HttpProbeConfig {
  readonly path: string;
  readonly expectStatus: number;
  readonly headers: Readonly<Record<string, string>>;
}

/** GET `path` on a fresh connection; healthy when the status is the expected one. */
export function httpProbe(
  target: Target,
  config: HttpProbeConfig,
  options: ProbeOptions,
): Promise<ProbeResult> {
  return settleOnce(options, `no answer within ${formatDuration(options.timeoutMs)}`, (finish) => {
    const req = request({
      host: target.host,
      port: target.port,
      path: config.path,
      method: 'GET',
      // No keep-alive: each probe proves that a new connection is accepted and answered.
      agent: false,
      headers: { ...config.headers, connection: 'close' },
    });
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      const healthy = status === config.expectStatus;
      const detail = `GET ${config.path} answered ${status}${healthy ? '' : ` (expected ${config.expectStatus})`}`;
      finish({ healthy, detail });
    });
    req.on('error', (error) => finish({ healthy: false, detail: errorDetail(error) }));
    req.end();
    return () => req.destroy();
  });
}
