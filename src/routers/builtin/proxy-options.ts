import { readFileSync } from 'node:fs';
import { CutoverError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { ProxyMetrics } from '../../proxy/metrics.js';
import { MIRROR_OFF } from '../../proxy/mirror.js';
import type { ProxyServerOptions } from '../../proxy/proxy-server.js';
import type { BuiltinRouterConfig } from './config.js';

/** The proxy's options from the router's config section: what every proxy worker runs with. */
export function proxyOptionsFrom(
  config: BuiltinRouterConfig,
  previewToken: string,
  logger: Logger,
  metrics: ProxyMetrics,
): ProxyServerOptions {
  return {
    previewHeader: config.previewHeader,
    previewToken,
    stickyCookie: config.stickyCookie,
    timeouts: {
      clientIdleMs: config.clientIdleTimeout,
      headersMs: config.headersTimeout,
      upstreamConnectMs: config.upstreamConnectTimeout,
      upstreamResponseMs: config.upstreamResponseTimeout,
      bodyMs: config.bodyTimeout,
      bodyMinBytesPerSecond: config.bodyMinRate,
      bodyRateWindowMs: config.bodyRateWindow,
    },
    mirror: config.mirror ?? MIRROR_OFF,
    maxConnections: config.maxConnections,
    requestBufferBytes: config.requestBuffering?.maxBodyBytes ?? 0,
    tls: config.tls
      ? { cert: readTlsFile(config.tls.cert, 'cert'), key: readTlsFile(config.tls.key, 'key') }
      : undefined,
    logger,
    metrics,
  };
}

function readTlsFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new CutoverError(
      'CUTOVER_E_CONFIG',
      `cannot read the TLS ${what} file ${path} (router.tls.${what} in cutover.yml)`,
      { cause: error },
    );
  }
}
