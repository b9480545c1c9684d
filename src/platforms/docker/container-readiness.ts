import { setTimeout as sleep } from 'node:timers/promises';
import type Docker from 'dockerode';
import { waitUntilHealthy } from '../../checks/wait-until-healthy.js';
import type { HealthCheckConfig } from '../../config/health-check.js';
import { CutoverError } from '../../shared/errors.js';
import type { Slot } from '../../shared/slot.js';
import { DOCKER_READY_WAIT_MS, DOCKER_START_SETTLE_MS, type DockerPlatformConfig } from './config.js';
import { containerNameOf, containerTarget } from './container-address.js';
import { readContainerLog } from './container-logs.js';
import type { Engine } from './engine.js';

/** Lines of a container's log quoted in the error when it exits during provisioning. */
const LOG_LINES_IN_ERROR = 5;
const STATE_POLL_MS = 100;
/** podman runs HEALTHCHECKs from systemd timers, absent in many hosts: cutover asks for a run this often at most. */
const PODMAN_HEALTHCHECK_EVERY_MS = 1_000;
/** What a container killed by SIGKILL exits with. */
const SIGKILL_EXIT_CODE = 137;

/**
 * When a started container is ready for traffic: running past the settle time with its port
 * published, then healthy by its image's HEALTHCHECK, or else by the app's configured check.
 * Exits, restarts and out-of-memory kills on the way become errors with the exit code and the
 * container's last log lines.
 */
export class ContainerReadiness {
  constructor(
    private readonly engine: Engine,
    private readonly config: DockerPlatformConfig,
    /** The app's configured health check; without it, readiness ends at the settle time. */
    private readonly health: HealthCheckConfig | undefined,
  ) {}

  /** Waits for every container; the first failure stops the other waits and is thrown. */
  async waitAll(
    containers: readonly Docker.Container[],
    slot: Slot,
    { signal, adopted }: { signal: AbortSignal | undefined; adopted: boolean },
  ): Promise<void> {
    const firstFailure = new AbortController();
    const either = signal ? AbortSignal.any([signal, firstFailure.signal]) : firstFailure.signal;
    const waits = containers.map((container) =>
      this.waitReady(container, slot, either, adopted).catch((error: unknown) => {
        firstFailure.abort(error);
        throw error;
      }),
    );
    const results = await Promise.allSettled(waits);
    throwIfAborted(signal, slot);
    // The first failure, not the aborts it caused in the other waits.
    const failure = firstFailure.signal.reason as unknown;
    if (results.some((result) => result.status === 'rejected')) throw failure;
  }

  /**
   * Until the container is ready: running for the settle time, its port published as asked,
   * then healthy by its own HEALTHCHECK when the image has one, else by the configured probe.
   * An exit or a restart on the way fails with the exit code and the last log lines.
   */
  private async waitReady(
    container: Docker.Container,
    slot: Slot,
    signal: AbortSignal | undefined,
    adopted: boolean,
  ): Promise<void> {
    const deadlineMs = this.health?.deadline ?? DOCKER_READY_WAIT_MS;
    const startedAt = Date.now();
    let lastHealthRun = 0;
    for (;;) {
      throwIfAborted(signal, slot);
      const info = await this.engine.call('inspect', () => container.inspect());
      if (!info.State.Running || info.State.Restarting || info.RestartCount > 0)
        throw await this.exitError(info);
      // A container adopted on a rerun started before this call: it has settled already.
      const settled = adopted || Date.now() - startedAt >= DOCKER_START_SETTLE_MS;
      const healthcheck = info.Config.Healthcheck?.Test;
      const hasHealthcheck = healthcheck !== undefined && healthcheck.length > 0 && healthcheck[0] !== 'NONE';
      if (settled && !hasHealthcheck) {
        containerTarget(this.config, info); // fails now if the engine did not publish the port
        break;
      }
      if (hasHealthcheck) {
        const status = info.State.Health?.Status;
        if (status === 'healthy' && settled) {
          containerTarget(this.config, info);
          return;
        }
        if (status === 'unhealthy') {
          const log = info.State.Health?.Log ?? [];
          const last = log[log.length - 1];
          throw new CutoverError(
            'CUTOVER_E_HEALTH',
            `container ${containerNameOf(info)} is unhealthy by its HEALTHCHECK (exit ${last?.ExitCode ?? '?'}: ${last?.Output.trim() || 'no output'})`,
            { details: { container: containerNameOf(info) } },
          );
        }
        if (
          (await this.engine.flavor()) === 'podman' &&
          Date.now() - lastHealthRun >= PODMAN_HEALTHCHECK_EVERY_MS
        ) {
          lastHealthRun = Date.now();
          await this.engine.runPodmanHealthcheck(info.Id);
        }
      }
      if (Date.now() - startedAt >= deadlineMs) {
        throw new CutoverError(
          'CUTOVER_E_HEALTH',
          `container ${containerNameOf(info)} did not become ready within ${deadlineMs} ms (health: ${info.State.Health?.Status ?? 'none'})`,
          { details: { container: containerNameOf(info) } },
        );
      }
      await sleep(STATE_POLL_MS);
    }
    if (!this.health) return;
    const info = await this.engine.call('inspect', () => container.inspect());
    const target = containerTarget(this.config, info);
    try {
      await waitUntilHealthy([target], this.health, {
        deadlineMs: Math.max(deadlineMs - (Date.now() - startedAt), STATE_POLL_MS),
        signal,
        isAlive: async () => {
          const now = await this.engine.call('inspect', () => container.inspect());
          return now.State.Running && !now.State.Restarting && now.RestartCount === 0;
        },
      });
    } catch (error) {
      const now = await this.engine.call('inspect', () => container.inspect());
      if (!now.State.Running || now.State.Restarting || now.RestartCount > 0) throw await this.exitError(now);
      throw error;
    }
  }

  private async exitError(info: Docker.ContainerInspectInfo): Promise<CutoverError> {
    const name = containerNameOf(info);
    const lastLines = (await readContainerLog(this.engine, info.Id, LOG_LINES_IN_ERROR)).map(
      (line) => line.line,
    );
    const quoted = lastLines.length > 0 ? lastLines.join(' | ') : '(no output)';
    const exitCode = info.State.ExitCode;
    const memory = info.HostConfig.Memory ?? 0;
    const details = {
      container: name,
      exitCode,
      oomKilled: info.State.OOMKilled,
      restarts: info.RestartCount,
      lastLines,
    };
    // podman on cgroup v2 does not always set OOMKilled: a SIGKILL nobody sent under a memory limit is the OOM killer.
    if (info.State.OOMKilled || (memory > 0 && exitCode === SIGKILL_EXIT_CODE && !info.State.Running)) {
      return new CutoverError(
        'CUTOVER_E_OOM',
        `container ${name} was killed for running out of memory (limit ${memory} bytes, exit code ${exitCode}, OOMKilled ${info.State.OOMKilled}); last log lines: ${quoted}`,
        { details },
      );
    }
    const how =
      info.State.Restarting || info.RestartCount > 0
        ? `restarted (${info.RestartCount} times; last exit code ${exitCode})`
        : `exited with code ${exitCode}`;
    return new CutoverError(
      'CUTOVER_E_PROVISION',
      `container ${name} ${how} right after start; last log lines: ${quoted}`,
      {
        details,
      },
    );
  }
}

export function throwIfAborted(signal: AbortSignal | undefined, slot: Slot): void {
  if (signal?.aborted) {
    throw new CutoverError('CUTOVER_E_ABORTED', `provisioning of the ${slot} slot was aborted`, {
      cause: signal.reason,
    });
  }
}
