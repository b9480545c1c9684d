import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { CutoverError } from '../../shared/errors.js';

const DEFAULT_SOCKET = '/var/run/docker.sock';
/** An engine that accepts the connection but does not answer a ping in this time counts as unreachable. */
const PING_TIMEOUT_MS = 10_000;

/** Where the engine is and how it was chosen; `label` goes into error messages and logs. */
export interface EngineEndpoint {
  readonly options: Docker.DockerOptions;
  readonly label: string;
}

/**
 * The engine to talk to: the configured socket, else DOCKER_HOST, else /var/run/docker.sock.
 * `unix:///path`, a bare path and `tcp://host:port` (or http://) are understood.
 */
export function engineEndpoint(
  socket: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): EngineEndpoint {
  const configured = socket ?? env.DOCKER_HOST;
  const source =
    socket !== undefined ? 'platform.socket' : env.DOCKER_HOST ? 'DOCKER_HOST' : 'the default socket';
  const address = configured ?? `unix://${DEFAULT_SOCKET}`;
  if (address.startsWith('unix://') || address.startsWith('/')) {
    const socketPath = address.startsWith('unix://') ? address.slice('unix://'.length) : address;
    return { options: { socketPath }, label: `${source} unix://${socketPath}` };
  }
  // Docker's convention: tcp:// with DOCKER_TLS_VERIFY=1 is TLS, certificates in DOCKER_CERT_PATH.
  const tls =
    address.startsWith('https://') || (address.startsWith('tcp://') && env.DOCKER_TLS_VERIFY === '1');
  const url = new URL(address.replace(/^tcp:\/\//, 'http://'));
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CutoverError(
      'CUTOVER_E_CONFIG',
      `${source} "${address}" is not unix:///path, tcp://host:port or https://host:port`,
    );
  }
  const options: Docker.DockerOptions = {
    host: url.hostname,
    port: url.port || (tls ? 2376 : 2375),
    protocol: tls ? 'https' : 'http',
  };
  if (tls && env.DOCKER_CERT_PATH) {
    const certs = env.DOCKER_CERT_PATH;
    const read = (name: string) => {
      try {
        return readFileSync(join(certs, name));
      } catch (error) {
        throw new CutoverError('CUTOVER_E_CONFIG', `DOCKER_CERT_PATH: cannot read ${join(certs, name)}`, {
          cause: error,
        });
      }
    };
    Object.assign(options, { ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem') });
  }
  return { options, label: `${source} ${address}` };
}

/** Which engine answers: Docker proper, or podman's Docker-compatible service. */
export type EngineFlavor = 'docker' | 'podman';

/**
 * One connection to a Docker Engine API. Every failure to reach it becomes
 * CUTOVER_E_ENGINE_UNREACHABLE naming where cutover looked and how to start an engine.
 */
export class Engine {
  readonly docker: Docker;
  private flavorCache: Promise<EngineFlavor> | undefined;

  constructor(readonly endpoint: EngineEndpoint) {
    // No client-side timeout: a build step or a pull may stay silent for minutes, and a stop
    // takes up to the stop grace; each caller's own deadline (health, drain) bounds the wait.
    this.docker = new Docker(endpoint.options);
  }

  /** Runs one API call; a connection failure is reported as the engine being unreachable. */
  async call<T>(what: string, work: (docker: Docker) => Promise<T>): Promise<T> {
    try {
      return await work(this.docker);
    } catch (error) {
      if (isUnreachable(error)) throw this.unreachable(what, error);
      throw error;
    }
  }

  /** Throws CUTOVER_E_ENGINE_UNREACHABLE unless the engine answers a ping within PING_TIMEOUT_MS. */
  async ping(): Promise<void> {
    const timeout = AbortSignal.timeout(PING_TIMEOUT_MS);
    try {
      // Through the modem: dockerode's typings lack ping's abortSignal option.
      await this.call(
        'ping',
        (docker) =>
          new Promise<void>((resolve, reject) => {
            docker.modem.dial(
              {
                path: '/_ping',
                method: 'GET',
                abortSignal: timeout,
                statusCodes: { 200: true, 500: 'server error' },
              },
              (error: unknown) => (error ? reject(asError(error)) : resolve()),
            );
          }),
      );
    } catch (error) {
      if (timeout.aborted) throw this.unreachable(`ping, no answer in ${PING_TIMEOUT_MS} ms`, error);
      throw error;
    }
  }

  /** podman serves the same API but runs HEALTHCHECKs only through a systemd timer (or when asked). */
  flavor(): Promise<EngineFlavor> {
    this.flavorCache ??= this.call('version', async (docker) => {
      const version = await docker.version();
      const names = (version.Components ?? []).map((component) => component.Name.toLowerCase());
      return names.some((name) => name.includes('podman')) ? 'podman' : 'docker';
    });
    return this.flavorCache;
  }

  /** Asks podman to run a container's HEALTHCHECK now (its libpod API; Docker runs them itself). */
  async runPodmanHealthcheck(containerId: string): Promise<void> {
    await this.call(
      'healthcheck',
      (docker) =>
        new Promise<void>((resolve, reject) => {
          docker.modem.dial(
            {
              path: `/v4.0.0/libpod/containers/${encodeURIComponent(containerId)}/healthcheck`,
              method: 'GET',
              // 409: the container is not running; its state tells the caller what happened.
              statusCodes: { 200: true, 409: true, 404: 'no such container', 500: 'server error' },
            },
            (error: unknown) => (error ? reject(asError(error)) : resolve()),
          );
        }),
    );
  }

  private unreachable(what: string, error: unknown): CutoverError {
    const reason = error instanceof Error ? error.message : String(error);
    return new CutoverError(
      'CUTOVER_E_ENGINE_UNREACHABLE',
      `the container engine at ${this.endpoint.label} did not answer (${what}: ${reason}). ` +
        "Start Docker (`systemctl start docker`) or podman's Docker API service " +
        '(`podman system service --time=0 unix:///run/podman/podman.sock`), then point ' +
        'DOCKER_HOST or platform.socket at its socket',
      { cause: error, details: { engine: this.endpoint.label } },
    );
  }
}

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOENT',
  'EACCES',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ETIMEDOUT',
  'ENOTFOUND',
]);

function isUnreachable(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return (
    typeof code === 'string' &&
    UNREACHABLE_CODES.has(code) &&
    (error as { statusCode?: number }).statusCode === undefined
  );
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** The HTTP status of a failed Engine API call (dockerode puts it on the error), if any. */
export function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** The engine's own message of a failed API call, without dockerode's "(HTTP code 500) …" prefix. */
export function engineMessage(error: unknown): string {
  const json = (error as { json?: { message?: unknown } } | undefined)?.json;
  if (json && typeof json.message === 'string') return json.message;
  return error instanceof Error ? error.message : String(error);
}

/** The container is not there (any more): Docker answers 404; podman sometimes 500 "no such container". */
export function isGone(error: unknown): boolean {
  return statusOf(error) === 404 || /no such container/i.test(engineMessage(error));
}
