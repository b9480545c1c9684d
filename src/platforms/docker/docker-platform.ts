import { resolve } from 'node:path';
import type Docker from 'dockerode';
import type { HealthCheckConfig } from '../../config/health-check.js';
import { CutoverError, isCutoverError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { isSlot, SLOTS, type Slot, type Target } from '../../shared/slot.js';
import type {
  Instance,
  LogLine,
  Platform,
  PlatformDescription,
  ProvisionOptions,
  StopOptions,
} from '../../shared/platform.js';
import { SlotQueue } from '../slot-queue.js';
import { substitutePlaceholders, type PlaceholderValues } from '../placeholders.js';
import { parseMemory, type DockerPlatformConfig } from './config.js';
import { containerTarget } from './container-address.js';
import { readContainerLog } from './container-logs.js';
import { followContainerLog } from './follow-container-log.js';
import { ContainerReadiness, throwIfAborted } from './container-readiness.js';
import { containerLabels, containerName, instanceId, LABEL, labelFilter } from './container-naming.js';
import { Engine, engineEndpoint, engineMessage, isGone, statusOf } from './engine.js';
import { readEnvFile } from './env-file.js';
import { ReleaseImages } from './release-images.js';

export interface DockerPlatformDeps {
  readonly app: string;
  /** Directory of cutover.yml; relative build contexts, env files and volume sources resolve against it. */
  readonly baseDir: string;
  readonly logger: Logger;
  /**
   * The app's configured health check: provision() runs it when the image has no HEALTHCHECK,
   * so an instance that dies while it is probed fails with its exit code and last log lines.
   */
  readonly health?: HealthCheckConfig;
}

const DEFAULT_LOG_TAIL = 100;

export function createDockerPlatform(config: DockerPlatformConfig, deps: DockerPlatformDeps): Platform {
  return new DockerPlatform(config, deps);
}

/** A container of this app as the engine reports it. */
interface Found {
  readonly id: string;
  readonly name: string;
  readonly slot: Slot | undefined;
  readonly release: string;
  readonly index: number;
  readonly running: boolean;
  readonly image: string;
}

class DockerPlatform implements Platform {
  private readonly engine: Engine;
  private readonly images: ReleaseImages;
  private readonly readiness: ContainerReadiness;
  private readonly logger: Logger;
  private readonly queue = new SlotQueue();
  /** Aborted by close(): a readiness wait still under way ends instead of holding the process. */
  private readonly closing = new AbortController();

  constructor(
    private readonly config: DockerPlatformConfig,
    private readonly deps: DockerPlatformDeps,
  ) {
    this.engine = new Engine(engineEndpoint(config.socket));
    this.logger = deps.logger.child({ platform: 'docker', app: deps.app });
    this.images = new ReleaseImages(this.engine, config, deps.app, deps.baseDir, this.logger);
    this.readiness = new ContainerReadiness(this.engine, config, deps.health);
  }

  describe(): PlatformDescription {
    return { kind: 'docker', stopGraceMs: this.config.stopGrace };
  }

  /** CUTOVER_E_NOT_FOUND when the image is absent under pull `never` (or the build context is missing). */
  checkRelease(release: string): Promise<void> {
    return this.images.check(release);
  }

  provision(slot: Slot, release: string, options: ProvisionOptions = {}): Promise<Instance[]> {
    const signal = options.signal
      ? AbortSignal.any([options.signal, this.closing.signal])
      : this.closing.signal;
    return this.queue.run(slot, () => this.provisionNow(slot, release, { ...options, signal }));
  }

  /** Ends readiness waits under way and waits for the slots' queues; containers keep running. */
  async close(): Promise<void> {
    this.closing.abort();
    await this.queue.settled();
  }

  healthTargets(instances: readonly Instance[]): Target[] {
    return instances.map((instance) => ({ id: instance.id, host: instance.host, port: instance.port }));
  }

  running(slot: Slot): Promise<Instance[]> {
    return this.instancesOf(slot);
  }

  async logs(slot: Slot, options: { tail?: number } = {}): Promise<LogLine[]> {
    const tail = options.tail ?? DEFAULT_LOG_TAIL;
    const lines: LogLine[] = [];
    for (const found of await this.list(slot, { all: true })) {
      const id = instanceId(slot, found.index, found.release);
      for (const line of await readContainerLog(this.engine, found.id, tail))
        lines.push({ instanceId: id, ...line });
    }
    return lines;
  }

  async followLogs(
    slot: Slot,
    onLine: (line: LogLine) => void,
    signal: AbortSignal,
    options: { tail?: number } = {},
  ): Promise<void> {
    // The containers running now; one started later (a new deploy) needs a new follow.
    const running = (await this.list(slot, { all: false })).filter((found) => found.running);
    await Promise.all(
      running.map((found) => {
        const id = instanceId(slot, found.index, found.release);
        return followContainerLog(
          this.engine,
          found.id,
          options.tail ?? 0,
          (line) => onLine({ instanceId: id, ...line }),
          signal,
        );
      }),
    );
  }

  stop(slot: Slot, options: StopOptions): Promise<void> {
    return this.queue.run(slot, async () => {
      await this.removeSlot(slot, options.graceMs);
      // A retire is the moment old releases' images may go; the slot's own image stays in the kept N.
      await this.pruneImages();
    });
  }

  destroy(slot: Slot): Promise<void> {
    return this.queue.run(slot, async () => {
      await this.removeSlot(slot, this.config.stopGrace);
      this.logger.info('docker.destroyed', { slot });
    });
  }

  async reconcile(keep: ReadonlySet<Slot>): Promise<Record<Slot, Instance[]>> {
    const all = await this.list(undefined, { all: true });
    // Containers with our app label but no valid slot cannot be adopted by anyone.
    for (const stray of all.filter((found) => found.slot === undefined)) {
      this.logger.warn('docker.stray.removing', { container: stray.name });
      await this.removeContainer(stray, this.config.stopGrace);
    }
    const result: Record<Slot, Instance[]> = { blue: [], green: [] };
    for (const slot of SLOTS) {
      result[slot] = await this.queue.run(slot, async () => {
        const mine = all.filter((found) => found.slot === slot);
        if (!keep.has(slot)) {
          if (mine.length > 0) {
            this.logger.warn('docker.orphans.removing', {
              slot,
              containers: mine.map((found) => found.name),
            });
          }
          await Promise.all(mine.map((found) => this.removeContainer(found, this.config.stopGrace)));
          return [];
        }
        // Created but never started, or exited (a crash mid-provision): nothing to adopt.
        const dead = mine.filter((found) => !found.running);
        await Promise.all(dead.map((found) => this.removeContainer(found, 0)));
        const adopted = await this.instancesOf(slot);
        this.logger.info('docker.reconciled', { slot, adopted: adopted.length, dropped: dead.length });
        return adopted;
      });
    }
    return result;
  }

  private async provisionNow(slot: Slot, release: string, options: ProvisionOptions): Promise<Instance[]> {
    const current = await this.list(slot, { all: true });
    if (
      current.length === this.config.instances &&
      current.every((found) => found.release === release && found.running)
    ) {
      // A rerun (after a crash mid-provision, say) adopts them, once they are ready.
      try {
        await this.readiness.waitAll(
          current.map((found) => this.engine.docker.getContainer(found.id)),
          slot,
          { signal: options.signal, adopted: true },
        );
      } catch (error) {
        this.logger.error('docker.provision.failed', { slot, release, error: errorText(error) });
        await this.removeSlot(slot, 0);
        throw error;
      }
      const instances = await this.instancesOf(slot);
      if (instances.length === this.config.instances) {
        this.logger.info('docker.provision.reused', { slot, release, instances: instances.length });
        return instances;
      }
    }

    // Everything that can fail without touching the slot comes first: image, env files, network.
    const image = await this.images.ensure(release, options.onProgress);
    const fileEnv = await this.envFromFiles();
    await this.ensureNetwork();
    throwIfAborted(options.signal, slot);

    if (current.length > 0) {
      this.logger.info('docker.replacing', {
        slot,
        from: [...new Set(current.map((found) => found.release))],
        to: release,
      });
      await this.removeSlot(slot, this.config.stopGrace);
    }

    try {
      const started: Docker.Container[] = [];
      for (let index = 0; index < this.config.instances; index += 1) {
        started.push(await this.startContainer(slot, release, index, image, fileEnv, options.env ?? {}));
      }
      await this.readiness.waitAll(started, slot, { signal: options.signal, adopted: false });
      throwIfAborted(options.signal, slot);
    } catch (error) {
      this.logger.error('docker.provision.failed', { slot, release, error: errorText(error) });
      await this.removeSlot(slot, 0);
      throw error;
    }
    const instances = await this.instancesOf(slot);
    this.logger.info('docker.provisioned', {
      slot,
      release,
      image,
      instances: instances.map((instance) => ({ id: instance.id, host: instance.host, port: instance.port })),
    });
    return instances;
  }

  private async startContainer(
    slot: Slot,
    release: string,
    index: number,
    image: string,
    fileEnv: Readonly<Record<string, string>>,
    extraEnv: Readonly<Record<string, string>>,
  ): Promise<Docker.Container> {
    const name = containerName(this.deps.app, slot, index);
    const values: PlaceholderValues = {
      PORT: this.config.port,
      RELEASE: release,
      SLOT: slot,
      INSTANCE: index,
      HOST: '0.0.0.0',
    };
    const fill = (template: string) => substitutePlaceholders(template, values);
    const env: Record<string, string> = {
      PORT: String(this.config.port),
      CUTOVER_APP: this.deps.app,
      CUTOVER_SLOT: slot,
      CUTOVER_RELEASE: release,
      CUTOVER_INSTANCE: String(index),
      ...fileEnv,
      ...Object.fromEntries(Object.entries(this.config.env).map(([key, value]) => [key, fill(value)])),
      ...extraEnv,
    };
    const portKey = `${this.config.port}/tcp`;
    const hostPort = this.config.publish.ports ? String(this.config.publish.ports[slot] + index) : '';
    const publish = this.config.reach === 'published' || this.config.publish.ports !== undefined;
    const spec: Docker.ContainerCreateOptions = {
      name,
      Image: image,
      Env: Object.entries(env).map(([key, value]) => `${key}=${value}`),
      Labels: containerLabels(this.deps.app, slot, release, index, this.config.labels),
      ExposedPorts: { [portKey]: {} },
      StopTimeout: graceSeconds(this.config.stopGrace),
      HostConfig: {
        PortBindings: publish
          ? { [portKey]: [{ HostIp: this.config.publish.address, HostPort: hostPort }] }
          : undefined,
        Binds: this.config.volumes.map((volume) => this.bind(volume)),
        Memory: this.config.memory === undefined ? undefined : parseMemory(this.config.memory),
        NanoCpus: this.config.cpus === undefined ? undefined : Math.round(this.config.cpus * 1e9),
        NetworkMode: this.config.network,
        RestartPolicy: { Name: 'no' },
      },
    };
    if (this.config.command) spec.Cmd = this.config.command.map(fill);
    if (this.config.entrypoint) spec.Entrypoint = this.config.entrypoint.map(fill);
    if (this.config.network) {
      spec.NetworkingConfig = { EndpointsConfig: { [this.config.network]: { Aliases: [name] } } };
    }
    const container = await this.engine.call('create', async (docker) => {
      try {
        return await docker.createContainer(spec);
      } catch (error) {
        // Docker answers 409; podman 500 with the same words.
        if (statusOf(error) === 409 || /already in use/i.test(engineMessage(error))) {
          throw new CutoverError(
            'CUTOVER_E_PROVISION',
            `a container named ${name} exists and is not one of cutover's for app "${this.deps.app}" (no ${LABEL.app} label): remove or rename it`,
            { cause: error, details: { container: name } },
          );
        }
        throw new CutoverError(
          'CUTOVER_E_PROVISION',
          `creating container ${name} from ${image} failed: ${engineMessage(error)}`,
          {
            cause: error,
            details: { container: name, image },
          },
        );
      }
    });
    try {
      await this.engine.call('start', () => container.start());
    } catch (error) {
      const message = engineMessage(error);
      if (/address already in use|port is already allocated/i.test(message)) {
        const where = `${this.config.publish.address}:${hostPort || '(engine-chosen)'}`;
        throw new CutoverError(
          'CUTOVER_E_PORT_IN_USE',
          `container ${name} cannot publish port ${where}: it is already in use (${message})`,
          {
            cause: error,
            details: { container: name, address: this.config.publish.address, port: hostPort },
          },
        );
      }
      if (isCutoverError(error)) throw error;
      throw new CutoverError('CUTOVER_E_PROVISION', `starting container ${name} failed: ${message}`, {
        cause: error,
        details: { container: name, image },
      });
    }
    this.logger.debug('docker.container.started', { container: name, image });
    return container;
  }

  private async instancesOf(slot: Slot): Promise<Instance[]> {
    const found = await this.list(slot, { all: false });
    const instances: Instance[] = [];
    for (const container of found.sort((a, b) => a.index - b.index)) {
      const info = await this.engine.call('inspect', async (docker) => {
        try {
          return await docker.getContainer(container.id).inspect();
        } catch (error) {
          if (isGone(error)) return undefined; // removed between list and inspect
          throw error;
        }
      });
      if (!info || !info.State.Running || info.State.Restarting) continue;
      const target = containerTarget(this.config, info);
      instances.push({
        id: target.id,
        slot,
        release: container.release,
        index: container.index,
        host: target.host,
        port: target.port,
        meta: {
          containerId: info.Id,
          container: container.name,
          image: container.image,
          startedAt: info.State.StartedAt,
        },
      });
    }
    return instances;
  }

  private async list(slot: Slot | undefined, { all }: { all: boolean }): Promise<Found[]> {
    const containers = await this.engine.call('list', (docker) =>
      docker.listContainers({ all, filters: labelFilter(this.deps.app, slot) }),
    );
    return containers.map((container) => {
      const labelSlot = container.Labels[LABEL.slot];
      return {
        id: container.Id,
        name: (container.Names[0] ?? container.Id).replace(/^\//, ''),
        slot: isSlot(labelSlot) ? labelSlot : undefined,
        release: container.Labels[LABEL.release] ?? '',
        index: Number(container.Labels[LABEL.instance] ?? -1),
        running: container.State === 'running',
        image: container.Image,
      };
    });
  }

  private async removeSlot(slot: Slot, graceMs: number): Promise<void> {
    const containers = await this.list(slot, { all: true });
    await Promise.all(containers.map((found) => this.removeContainer(found, graceMs)));
    if (containers.length > 0) {
      this.logger.info('docker.stopped', { slot, containers: containers.map((found) => found.name) });
    }
  }

  /** Polite stop (SIGTERM or the image's STOPSIGNAL), SIGKILL after the grace, then removal. Gone already is fine. */
  private async removeContainer(found: Found, graceMs: number): Promise<void> {
    await this.engine.call('stop', async (docker) => {
      const container = docker.getContainer(found.id);
      try {
        if (found.running) await container.stop({ t: graceSeconds(graceMs) });
      } catch (error) {
        // 304: already stopped; 404: already gone.
        if (statusOf(error) !== 304 && !isGone(error)) throw error;
      }
      try {
        await container.remove({ force: true });
      } catch (error) {
        if (!isGone(error)) throw error;
      }
    });
  }

  private async pruneImages(): Promise<void> {
    const remaining = await this.list(undefined, { all: true });
    // By tag: removing a tag is what loses a release; an image under another tag stays anyway.
    const inUse = new Set(remaining.map((found) => found.image));
    await this.images.prune(inUse);
  }

  private async envFromFiles(): Promise<Record<string, string>> {
    const env: Record<string, string> = {};
    for (const file of this.config.envFiles)
      Object.assign(env, await readEnvFile(resolve(this.deps.baseDir, file)));
    return env;
  }

  /** A user-defined network the containers join is created when missing (labelled as cutover's). */
  private async ensureNetwork(): Promise<void> {
    const network = this.config.network;
    if (!network) return;
    await this.engine.call('network', async (docker) => {
      try {
        await docker.getNetwork(network).inspect();
      } catch (error) {
        if (statusOf(error) !== 404) throw error;
        await docker.createNetwork({
          Name: network,
          Driver: 'bridge',
          Labels: { [LABEL.app]: this.deps.app },
        });
        this.logger.info('docker.network.created', { network });
      }
    });
  }

  /** A relative bind source resolves against the config file; a named volume stays as written. */
  private bind(volume: string): string {
    const [source, ...rest] = volume.split(':');
    const isPath = source!.startsWith('./') || source!.startsWith('../') || source === '.';
    return [isPath ? resolve(this.deps.baseDir, source!) : source!, ...rest].join(':');
  }
}

/** The Engine API takes whole seconds; a grace under one second still gets one. */
function graceSeconds(graceMs: number): number {
  return graceMs <= 0 ? 0 : Math.max(1, Math.ceil(graceMs / 1000));
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
