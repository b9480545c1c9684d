/**
 * A real Prometheus (Debian's package) for tests: its own config file and TSDB in a temp dir, its
 * web API on a loopback port chosen at run time, scraping the given targets every second, in its
 * own process group, stopped after.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { freePort, makeTempDir, removeTempDir, requireBinary, startDaemon, type Daemon } from './common.js';

export interface ScrapeTarget {
  /** The job label Prometheus gives the series. */
  readonly job: string;
  /** host:port */
  readonly address: string;
  /** A file holding the bearer token the target wants (Prometheus reads it at each scrape). */
  readonly tokenFile?: string;
}

export interface PrometheusServer {
  /** `http://127.0.0.1:PORT`, the `address` of a prometheus analysis provider. */
  readonly url: string;
  /** One instant query through the HTTP API; the answer's `data.result`. */
  query(promql: string): Promise<unknown[]>;
  stop(): Promise<void>;
}

const SCRAPE_INTERVAL = '1s';

/** Absolute path of Debian's prometheus, or an error naming the install step. */
export function requirePrometheus(): string {
  return requireBinary('prometheus', 'prometheus');
}

/**
 * `port`: when the port must be known before Prometheus starts (a cutover config that points at
 * it); a free one otherwise.
 */
export async function startPrometheus(
  targets: readonly ScrapeTarget[],
  options: { port?: number } = {},
): Promise<PrometheusServer> {
  const command = requirePrometheus();
  const dir = await makeTempDir('prometheus');
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const configFile = path.join(dir, 'prometheus.yml');
  // JSON is YAML: no YAML writer needed.
  await writeFile(
    configFile,
    JSON.stringify({
      global: {
        scrape_interval: SCRAPE_INTERVAL,
        scrape_timeout: '900ms',
        evaluation_interval: SCRAPE_INTERVAL,
      },
      scrape_configs: targets.map((target) => ({
        job_name: target.job,
        static_configs: [{ targets: [target.address] }],
        ...(target.tokenFile === undefined ? {} : { authorization: { credentials_file: target.tokenFile } }),
      })),
    }),
  );
  let daemon: Daemon;
  try {
    daemon = await startDaemon({
      name: 'prometheus',
      command,
      args: [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--storage.tsdb.retention.time=1h',
        '--log.level=warn',
      ],
      logFile: path.join(dir, 'prometheus.log'),
      cwd: dir,
      readyTimeoutMs: 30_000,
      ready: async () => {
        try {
          const response = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
          await response.arrayBuffer();
          return response.ok;
        } catch {
          return false;
        }
      },
    });
  } catch (error) {
    await removeTempDir(dir);
    throw error;
  }
  return {
    url,
    query: async (promql) => {
      const response = await fetch(
        `${url}/api/v1/query?${new URLSearchParams({ query: promql }).toString()}`,
      );
      const body = (await response.json()) as {
        status: string;
        data?: { result: unknown[] };
        error?: string;
      };
      if (body.status !== 'success' || body.data === undefined)
        throw new Error(`prometheus query ${promql} failed: ${body.error ?? response.status}`);
      return body.data.result;
    },
    stop: async () => {
      await daemon.stop(5000);
      await removeTempDir(dir);
    },
  };
}
