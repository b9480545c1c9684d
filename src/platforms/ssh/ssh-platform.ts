/**
 * The ssh platform: each slot is `instancesPerHost` processes on every host of the fleet, run by
 * cutover's supervisor script (host-script.ts) so they outlive the SSH session and restart on a
 * crash. Hosts are worked on `concurrency` at a time, over one reused connection each.
 */
import net from 'node:net';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { CutoverError, asCutoverError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { Mutex } from '../../shared/mutex.js';
import type {
  Instance,
  LogLine,
  Platform,
  PlatformDescription,
  ProvisionOptions,
  StopOptions,
} from '../../shared/platform.js';
import { SLOTS, type Slot, type Target } from '../../shared/slot.js';
import { mapWithLimit } from './concurrency-limit.js';
import {
  SSH_START_SETTLE_MS,
  SSH_START_WAIT_MS,
  requiredHosts,
  slotBasePort,
  type SshHost,
  type SshPlatformConfig,
  type SshTask,
} from './config.js';
import { ConnectionPool } from './connection-pool.js';
import { FleetHost, type RemoteInstance } from './fleet-host.js';
import { hostCommandError } from './host-failure.js';
import { loadKnownHosts } from './known-hosts.js';
import { prepareArtifact, requireArtifact, type PreparedArtifact } from './release-artifact.js';
import { fillPlaceholders } from './shell-quote.js';
import { hostKeyChecker, type HostKeyPolicy, type SshCredentials } from './ssh-connection.js';

export interface SshPlatformDeps {
  readonly app: string;
  readonly baseDir: string;
  readonly logger: Logger;
}

const RELEASE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** How long an aborted host's provision may take to wind down before the failure is reported. */
const HOST_ABORT_SETTLE_MS = 30_000;
/** How long running()/logs() wait for one host before leaving it out (they answer at once). */
const QUERY_TIMEOUT_MS = 5_000;

export function createSshPlatform(config: SshPlatformConfig, deps: SshPlatformDeps): Platform {
  return new SshPlatform(config, deps);
}

class SshPlatform implements Platform {
  private readonly pool: ConnectionPool;
  private readonly slotLocks: Record<Slot, Mutex> = { blue: new Mutex(), green: new Mutex() };
  private readonly logger: Logger;

  constructor(
    private readonly config: SshPlatformConfig,
    private readonly deps: SshPlatformDeps,
  ) {
    this.logger = deps.logger.child({ platform: 'ssh' });
    this.pool = new ConnectionPool(
      () => this.credentials(),
      () => this.hostKeys(),
      config.connectTimeout,
    );
  }

  describe(): PlatformDescription {
    return { kind: 'ssh', stopGraceMs: this.config.stopGrace };
  }

  async checkRelease(release: string): Promise<void> {
    checkReleaseName(release);
    if (this.config.artifact) await requireArtifact(this.config.artifact.path, this.deps.baseDir, release);
  }

  provision(slot: Slot, release: string, options: ProvisionOptions = {}): Promise<Instance[]> {
    return this.slotLocks[slot].run(() => this.provisionNow(slot, release, options));
  }

  private async provisionNow(slot: Slot, release: string, options: ProvisionOptions): Promise<Instance[]> {
    await this.checkRelease(release);
    const artifact = this.config.artifact
      ? await prepareArtifact(this.config.artifact.path, this.deps.baseDir, release)
      : undefined;
    try {
      const hosts = this.config.hosts;
      const results = await mapWithLimit(hosts, this.config.concurrency, (entry) =>
        this.withHostTimeout(entry, options.signal, (signal) =>
          this.provisionHost(entry, slot, release, artifact, { ...options, signal }),
        ),
      );
      const failures = results.flatMap((result, index) =>
        result.status === 'rejected'
          ? [{ host: hosts[index]!.host, error: asCutoverError(result.reason, 'CUTOVER_E_PROVISION') }]
          : [],
      );
      const instances = results.flatMap((result) => (result.status === 'fulfilled' ? result.value : []));
      const needed = requiredHosts(this.config.minHealthy, hosts.length);
      const healthy = hosts.length - failures.length;
      for (const failure of failures) {
        this.logger.warn('ssh.host_failed', {
          host: failure.host,
          code: failure.error.code,
          message: failure.error.message,
        });
      }
      if (healthy >= needed && !options.signal?.aborted) {
        if (failures.length > 0) {
          options.onProgress?.(
            `${healthy}/${hosts.length} hosts provisioned (minHealthy ${String(this.config.minHealthy)}); going on without ${failures.map((f) => f.host).join(', ')}`,
          );
          // A failed host may have started some instances: they must not linger unrouted.
          await this.stopOn(
            failures.map((f) => hostEntry(hosts, f.host)),
            slot,
            this.config.stopGrace,
          );
        }
        return instances;
      }
      // Too few hosts: stop what this provision started everywhere, so the live slot alone serves.
      await this.stopOn(hosts, slot, this.config.stopGrace);
      const first = failures[0]?.error ?? new CutoverError('CUTOVER_E_ABORTED', 'the provision was stopped');
      const summary = failures.map((f) => `- ${f.error.message}`).join('\n');
      throw new CutoverError(
        first.code,
        `slot ${slot} release ${release}: ${healthy}/${hosts.length} hosts provisioned, ${needed} needed (minHealthy ${String(this.config.minHealthy)}):\n${summary}`,
        {
          details: {
            failures: failures.map((f) => ({ host: f.host, ...f.error.toJSON() })),
            healthy,
            needed,
          },
        },
      );
    } finally {
      await artifact?.dispose();
    }
  }

  /**
   * Runs one host's provision under `hostTimeout`. Past it the work is aborted (its open
   * commands' channels are closed) and awaited, up to HOST_ABORT_SETTLE_MS more: a channel
   * closes once the command on the host has ended, so the stop that follows a failure finds
   * everything the work started.
   */
  private async withHostTimeout<T>(
    entry: SshHost,
    outer: AbortSignal | undefined,
    work: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const controller = new AbortController();
    const onOuter = () => controller.abort(outer?.reason);
    outer?.addEventListener('abort', onOuter, { once: true });
    const timeoutError = new CutoverError(
      'CUTOVER_E_PROVISION',
      `${entry.host}: did not finish within the host timeout (${this.config.hostTimeout} ms)`,
      { details: { host: entry.host } },
    );
    const timer = setTimeout(() => controller.abort(timeoutError), this.config.hostTimeout);
    const running = work(controller.signal);
    const aborted = new Promise<'aborted'>((resolve) =>
      controller.signal.addEventListener('abort', () => resolve('aborted'), { once: true }),
    );
    try {
      const first = await Promise.race([running, aborted]);
      if (first !== 'aborted') return first;
      await Promise.race([running.catch(() => undefined), delay(HOST_ABORT_SETTLE_MS)]);
      throw controller.signal.reason === timeoutError
        ? timeoutError
        : asCutoverError(controller.signal.reason, 'CUTOVER_E_ABORTED');
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onOuter);
    }
  }

  private async provisionHost(
    entry: SshHost,
    slot: Slot,
    release: string,
    artifact: PreparedArtifact | undefined,
    options: ProvisionOptions & { signal: AbortSignal },
  ): Promise<Instance[]> {
    const { signal } = options;
    const progress = (line: string) => options.onProgress?.(`[${entry.host}] ${line}`);
    const host = await this.host(entry);
    await host.installScript(signal);
    const current = (await host.list(signal)).filter((instance) => instance.slot === slot);
    const wanted = this.config.instancesPerHost;
    const adoptable = current.filter((i) => i.alive && i.release === release && i.index < wanted);
    if (adoptable.length === wanted) return adoptable.map((i) => this.instance(entry, i));

    const mark = artifact ? `sha256:${artifact.sha256}` : 'commands';
    if (!(await host.hasRelease(release, mark, signal))) {
      progress(`installing release ${release}`);
      if (artifact) await host.uploadRelease(release, artifact, signal);
      else await host.fetchRelease(release, this.config.commands ?? [], progress, signal);
    }
    await this.runTasks(host, 'before', release, progress, signal);
    // Whatever else the slot runs on this host goes (another release, a half-started set).
    if (current.length > 0) await host.stop(slot, this.config.stopGrace, undefined, signal);
    const base = slotBasePort(this.config, slot);
    await Promise.all(
      Array.from({ length: wanted }, (_, index) => {
        const port = base + index;
        const values = {
          RELEASE: release,
          SLOT: slot,
          INSTANCE: index,
          PORT: port,
          RELEASE_DIR: host.releaseDir(release),
        };
        const env: Record<string, string> = { PORT: String(port) };
        for (const [key, value] of Object.entries(this.config.env))
          env[key] = fillPlaceholders(value, values);
        Object.assign(env, {
          CUTOVER_APP: this.deps.app,
          CUTOVER_SLOT: slot,
          CUTOVER_RELEASE: release,
          CUTOVER_INSTANCE: String(index),
        });
        return host.start(
          { slot, index, release, port, command: fillPlaceholders(this.config.start, values), env },
          signal,
        );
      }),
    );
    progress(`started ${wanted} instance(s) of ${release} in slot ${slot}`);
    const started = await this.waitStarted(host, entry, slot, signal);
    await this.runTasks(host, 'after', release, progress, signal);
    await this.runTasks(host, 'smoke', release, progress, signal);
    return started.map((i) => this.instance(entry, i));
  }

  /** Every instance accepts TCP at its address and has not been restarted by its supervisor. */
  private async waitStarted(
    host: FleetHost,
    entry: SshHost,
    slot: Slot,
    signal: AbortSignal,
  ): Promise<RemoteInstance[]> {
    const address = entry.address ?? entry.host;
    const deadline = Date.now() + SSH_START_WAIT_MS;
    const ready = new Set<number>();
    for (;;) {
      const listed = (await host.list(signal)).filter((i) => i.slot === slot);
      const broken = listed.filter((i) => !i.alive || i.restarts > 0);
      if (broken.length > 0 || Date.now() > deadline) {
        const failing = broken.length > 0 ? broken : listed.filter((i) => !ready.has(i.index));
        const logs = await host.tailLogs(failing, 10);
        const what =
          broken.length > 0
            ? 'exited right after its start'
            : `was not accepting connections within ${SSH_START_WAIT_MS} ms`;
        throw hostCommandError(
          entry.host,
          `instance ${slot}-${failing[0]?.index ?? 0} ${what}; starting the release`,
          { code: 1, stdout: [...logs.values()].flat().join('\n'), stderr: '' },
        );
      }
      for (const instance of listed)
        if (!ready.has(instance.index) && (await accepts(address, instance.port))) ready.add(instance.index);
      if (ready.size === listed.length && listed.length === this.config.instancesPerHost) {
        // An app that listens and then dies at once is caught by one more look after a moment.
        await sleep(SSH_START_SETTLE_MS, signal);
        const settled = (await host.list(signal)).filter((i) => i.slot === slot);
        if (settled.every((i) => i.alive && i.restarts === 0)) return settled;
        continue;
      }
      await sleep(100, signal);
    }
  }

  private async runTasks(
    host: FleetHost,
    when: SshTask['when'],
    release: string,
    progress: (line: string) => void,
    signal: AbortSignal,
  ): Promise<void> {
    for (const [name, task] of Object.entries(this.config.tasks)) {
      if (task.when !== when) continue;
      if (task.roles.length > 0 && !task.roles.some((role) => host.entry.roles.includes(role))) continue;
      progress(`task ${name}`);
      await host.runTask(
        name,
        release,
        task.commands.map((command) => fillPlaceholders(command, { RELEASE: release })),
        (line) => progress(`${name}: ${line}`),
        signal,
      );
    }
  }

  healthTargets(instances: readonly Instance[]): Target[] {
    return instances.map((instance) => ({ id: instance.id, host: instance.host, port: instance.port }));
  }

  /** Asks every reachable host what the slot runs; a host that does not answer at once is left out. */
  async running(slot: Slot): Promise<Instance[]> {
    const all = await this.listFleet(QUERY_TIMEOUT_MS);
    return all.flatMap(({ entry, instances }) =>
      instances.filter((i) => i.slot === slot && i.alive).map((i) => this.instance(entry, i)),
    );
  }

  async logs(slot: Slot, options: { tail?: number } = {}): Promise<LogLine[]> {
    const tail = options.tail ?? 100;
    const results = await mapWithLimit(this.config.hosts, this.config.concurrency, async (entry) => {
      const host = await withTimeout(this.host(entry), QUERY_TIMEOUT_MS, entry.host);
      const instances = (await host.list()).filter((i) => i.slot === slot);
      const byIndex = await host.tailLogs(instances, tail);
      return instances.flatMap((i) =>
        (byIndex.get(i.index) ?? []).map((line): LogLine => ({
          instanceId: this.instanceId(entry, slot, i.index),
          stream: 'stdout',
          line,
        })),
      );
    });
    return results.flatMap((result) => (result.status === 'fulfilled' ? result.value : []));
  }

  stop(slot: Slot, options: StopOptions): Promise<void> {
    return this.slotLocks[slot].run(() => this.stopOn(this.config.hosts, slot, options.graceMs));
  }

  destroy(slot: Slot): Promise<void> {
    return this.stop(slot, { graceMs: this.config.stopGrace });
  }

  /**
   * Stops the slot on these hosts. A host that cannot be reached is reported, not waited on:
   * its instances are stopped by the next stop or reconcile that reaches it.
   */
  private async stopOn(entries: readonly SshHost[], slot: Slot, graceMs: number): Promise<void> {
    const results = await mapWithLimit(entries, this.config.concurrency, async (entry) => {
      const host = await this.host(entry);
      await host.stop(slot, graceMs);
    });
    results.forEach((result, index) => {
      if (result.status === 'rejected') {
        this.logger.warn('ssh.stop_failed', {
          host: entries[index]!.host,
          slot,
          message: asCutoverError(result.reason).message,
        });
      }
    });
  }

  async reconcile(keep: ReadonlySet<Slot>): Promise<Record<Slot, Instance[]>> {
    const found: Record<Slot, Instance[]> = { blue: [], green: [] };
    const results = await mapWithLimit(this.config.hosts, this.config.concurrency, async (entry) => {
      const host = await this.host(entry);
      const instances = await host.list();
      for (const slot of SLOTS) {
        const mine = instances.filter((i) => i.slot === slot);
        if (mine.length === 0) continue;
        // Kept slots keep their live instances; dead supervisors' dirs and strays go.
        const strays = keep.has(slot)
          ? mine.filter((i) => !i.alive || i.index >= this.config.instancesPerHost)
          : mine;
        if (strays.length > 0)
          await host.stop(
            slot,
            this.config.stopGrace,
            strays.map((i) => i.index),
          );
        if (keep.has(slot)) {
          found[slot].push(...mine.filter((i) => !strays.includes(i)).map((i) => this.instance(entry, i)));
        }
      }
    });
    results.forEach((result, index) => {
      if (result.status === 'rejected') {
        this.logger.warn('ssh.reconcile_host_failed', {
          host: this.config.hosts[index]!.host,
          message: asCutoverError(result.reason).message,
        });
      }
    });
    return found;
  }

  close(): Promise<void> {
    this.pool.closeAll();
    return Promise.resolve();
  }

  private async listFleet(timeoutMs: number): Promise<{ entry: SshHost; instances: RemoteInstance[] }[]> {
    const results = await mapWithLimit(this.config.hosts, this.config.concurrency, async (entry) => {
      const host = await withTimeout(this.host(entry), timeoutMs, entry.host);
      return { entry, instances: await withTimeout(host.list(), timeoutMs, entry.host) };
    });
    return results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  }

  private async host(entry: SshHost): Promise<FleetHost> {
    const jump = this.config.jumpHost;
    const connection = await this.pool.get({
      host: entry.host,
      port: entry.port ?? this.config.port,
      jump: jump ? { host: jump.host, port: jump.port, user: jump.user ?? this.config.user } : undefined,
    });
    return new FleetHost(entry, connection, this.config, this.deps.app);
  }

  private instanceId(entry: SshHost, slot: Slot, index: number): string {
    return `${slot}-${index}@${entry.host}${entry.port ? `:${entry.port}` : ''}`;
  }

  private instance(entry: SshHost, remote: RemoteInstance): Instance {
    return {
      id: this.instanceId(entry, remote.slot, remote.index),
      slot: remote.slot,
      release: remote.release,
      index: remote.index,
      host: entry.address ?? entry.host,
      port: remote.port,
      meta: { sshHost: entry.host, pid: remote.childPid, restarts: remote.restarts },
    };
  }

  private async credentials(): Promise<SshCredentials> {
    if (!this.config.identityFile) {
      const agent = process.env.SSH_AUTH_SOCK;
      if (!agent) {
        throw new CutoverError(
          'CUTOVER_E_SSH_CONNECT',
          'no `identityFile` is configured and no ssh agent is running (SSH_AUTH_SOCK is unset)',
        );
      }
      return { user: this.config.user, agent };
    }
    const file = expandHome(this.config.identityFile, this.deps.baseDir);
    const privateKey = await readFile(file).catch((error: NodeJS.ErrnoException) => {
      throw new CutoverError(
        'CUTOVER_E_SSH_CONNECT',
        `the identity file ${file} cannot be read (${error.code ?? error.message})`,
      );
    });
    const passphrase = this.config.passphraseEnv ? process.env[this.config.passphraseEnv] : undefined;
    return { user: this.config.user, privateKey, passphrase };
  }

  private async hostKeys(): Promise<HostKeyPolicy> {
    if (this.config.knownHosts === false) return { file: '(checking off)' };
    const file = expandHome(this.config.knownHosts, this.deps.baseDir);
    return { file, check: hostKeyChecker(await loadKnownHosts(file)) };
  }
}

function hostEntry(hosts: readonly SshHost[], name: string): SshHost {
  return hosts.find((entry) => entry.host === name)!;
}

function checkReleaseName(release: string): void {
  if (!RELEASE_NAME.test(release)) {
    throw new CutoverError(
      'CUTOVER_E_NOT_FOUND',
      `"${release}" cannot be a release on ssh hosts: use letters, digits, ".", "_" and "-"`,
    );
  }
}

function expandHome(path: string, baseDir: string): string {
  return path.startsWith('~/') ? resolve(homedir(), path.slice(2)) : resolve(baseDir, path);
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(1_000, () => socket.destroy());
    socket.once('connect', () => {
      socket.destroy();
      resolvePromise(true);
    });
    socket.once('close', () => resolvePromise(false));
    socket.once('error', () => resolvePromise(false));
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolvePromise) => setTimeout(resolvePromise, ms).unref());
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    if (signal?.aborted) {
      reject(asCutoverError(signal.reason, 'CUTOVER_E_ABORTED'));
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolvePromise();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(asCutoverError(signal?.reason, 'CUTOVER_E_ABORTED'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

async function withTimeout<T>(work: Promise<T>, ms: number, host: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new CutoverError('CUTOVER_E_SSH_CONNECT', `${host}: no answer within ${ms} ms`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
